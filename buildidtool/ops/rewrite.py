"""Rewriting build IDs in place (as `go tool buildid -w` does) or atomically,
without ever leaving a half-written file behind."""
from __future__ import annotations

import fcntl
import os
import signal

from ..formats import Source, locate, reference_id, units

from ..archives.paths import is_member_path
from ..errors import BuildIDError, FileChanged, RewriteError, naming, os_message
from ..fileio import open_regular
from ..remote import is_reference
from ..idstring import display
from ..plan import Plan, plan_unit


class RewrittenUnit:
    """What a rewrite did (or, in a dry run, would do) to one unit: the file, or
    one slice of a universal Mach-O. IDs are text."""

    __slots__ = ("arch", "old_id", "new_id", "matches", "changed", "signature_updated")

    def __init__(self, plan: Plan):
        self.arch = plan.arch
        self.old_id: str = display(plan.old_id) or ""
        self.new_id: str = display(plan.new_id) or ""
        self.matches: list[int] = plan.hashed.matches    # offsets of the ID, where it is written
        self.changed = bool(plan.changes)                 # any byte differs from what is there
        self.signature_updated = bool(plan.signature is not None and plan.new_signature != plan.old_signature)

    def to_json(self) -> dict:
        return {"arch": self.arch, "old_id": self.old_id, "new_id": self.new_id, "matches": self.matches,
                "changed": self.changed, "signature_updated": self.signature_updated}

    def __repr__(self) -> str:
        arch = f" [{self.arch}]" if self.arch else ""
        return f"<RewrittenUnit{arch} {self.old_id!r} -> {self.new_id!r}>"


class Rewritten:
    """The outcome for one file. `changed` is False when every byte was already right."""

    __slots__ = ("file", "units", "changed", "dry_run", "error")

    def __init__(self, file: str, plans: list[Plan], changed: bool, dry_run: bool):
        self.file = file
        self.units = [RewrittenUnit(p) for p in plans]
        self.changed = changed
        self.dry_run = dry_run
        self.error: str | None = None

    @classmethod
    def failed(cls, file: str, error: str, dry_run: bool = False) -> "Rewritten":
        """The record of a file that was not rewritten: every key, error set."""
        r = cls(file, [], False, dry_run)
        r.error = error
        return r

    def to_json(self) -> dict:
        return {"file": self.file, "changed": self.changed, "dry_run": self.dry_run,
                "units": [u.to_json() for u in self.units], "error": self.error}

    def __repr__(self) -> str:
        what = f"error {self.error!r}" if self.error else \
            ("would change" if self.dry_run else "changed") if self.changed else "unchanged"
        return f"<Rewritten {self.file!r} {what}: {self.units}>"


def plan_file(fd: int, go_compatible: bool = False) -> list[Plan]:
    """Locate and hash every unit of the open file. With go_compatible, a thin
    file's placeholder is what `go tool buildid` reads, even when that is not a
    Go build ID (the reference then fails the same way)."""
    src = Source.of_file(fd)
    found = locate(src)
    if go_compatible and not found.slices:
        (unit,) = units(src, found)
        return [plan_unit(unit, reference_id(src))]
    return [plan_unit(u, u.found.build_id) for u in units(src, found)]


def rewrite(path: str, dry_run: bool = False, atomic: bool = False,
            go_compatible: bool = False) -> Rewritten:
    """Stamp `path` with the content ID of its own bytes. Raises BuildIDError;
    on any error the file is unchanged and the message says so."""
    # refused in a dry run too: there is nothing to write back to
    if is_reference(path):
        raise RewriteError(path, "is a remote input and cannot be rewritten; nothing was changed")
    if is_member_path(path):
        raise RewriteError(path, "is an archive member and cannot be rewritten; nothing was changed")
    fd = open_regular(path, write=not dry_run)
    try:
        if not dry_run:
            _lock(path, fd)
        before = os.fstat(fd)
        with naming(path):
            plan = plan_file(fd, go_compatible)
        changes = [c for u in plan for c in u.changes]
        if dry_run or not changes:
            return Rewritten(path, plan, bool(changes), dry_run)
        _check_unchanged(path, fd, before, changes)
        if atomic:
            _replace(path, fd, before, changes)
        else:
            _write_in_place(path, fd, changes, before.st_size)
        return Rewritten(path, plan, True, False)
    finally:
        os.close(fd)


def _lock(path: str, fd: int) -> None:
    # Held from hashing to writing, so two rewrites of one file take turns.
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as e:
        raise RewriteError(path, f"cannot lock file: {os_message(e)}; file unchanged") from None


def _check_unchanged(path: str, fd: int, before: os.stat_result, changes) -> None:
    now = os.fstat(fd)
    if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise FileChanged(path, "file changed while it was being hashed; nothing written")
    for off, old, _ in changes:
        if os.pread(fd, len(old), off) != old:
            raise FileChanged(path, f"bytes at offset {off:#x} changed while the file was being hashed; "
                                    "nothing written")


def _write_in_place(path: str, fd: int, changes, size: int) -> None:
    """Write `changes` to a file of `size` bytes (a re-signed file cut inside its
    signature grows past it); any failure restores the old bytes and size."""
    done = []
    try:
        for off, old, new in changes:
            if os.pwrite(fd, new, off) != len(new):
                raise OSError(0, "short write")
            done.append((off, old))
        os.fsync(fd)
    except OSError as e:
        raise RewriteError(path, f"write failed ({os_message(e)}); {_roll_back(fd, done, size)}") from None
    for off, _, new in changes:
        if os.pread(fd, len(new), off) != new:
            raise RewriteError(path, f"read-back after writing differs at offset {off:#x}; "
                                     f"{_roll_back(fd, [(o, old) for o, old, _ in changes], size)}")


def _roll_back(fd: int, done: list[tuple[int, bytes]], size: int) -> str:
    try:
        for off, old in reversed(done):
            if os.pwrite(fd, old, off) != len(old):
                raise OSError(0, "short write")
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError as e:
        return f"restoring the original bytes also failed ({os_message(e)}): file may be damaged"
    return "file unchanged"


def _replace(path: str, fd: int, before: os.stat_result, changes) -> None:
    if before.st_nlink > 1:
        raise RewriteError(path, f"has {before.st_nlink} hard links, which --atomic would separate; "
                                 "rewrite in place instead; file unchanged")
    import tempfile  # 6 ms, only --atomic needs it (not -w)

    directory = os.path.dirname(os.path.abspath(path))
    # SIGINT and SIGTERM (which the CLI turns into an unwinding exit) are held
    # while the temporary file is made and while it is removed: a signal landing
    # between mkstemp and the try, or inside the cleanup, would leave it behind.
    unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        tmp_fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".buildid", dir=directory)
    except OSError as e:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        raise RewriteError(path, f"cannot create a temporary file: {os_message(e)}; file unchanged") from None
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        try:
            _copy(fd, tmp_fd, before.st_size)
            for off, _, new in changes:
                if os.pwrite(tmp_fd, new, off) != len(new):
                    raise OSError(0, "short write")
            os.fchmod(tmp_fd, before.st_mode & 0o7777)
            try:
                os.fchown(tmp_fd, before.st_uid, before.st_gid)
            except PermissionError:
                pass
            os.fsync(tmp_fd)
            _check_unchanged(path, fd, before, changes)
            os.replace(tmp, path)
            tmp = None
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as e:
            raise RewriteError(path, f"atomic rewrite failed ({os_message(e)}); file unchanged") from None
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            os.close(tmp_fd)
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)


_HELD = {signal.SIGINT, signal.SIGTERM}


def _copy(src: int, dst: int, size: int) -> None:
    off = 0
    while off < size:
        n = os.copy_file_range(src, dst, size - off, off, off) if hasattr(os, "copy_file_range") else 0
        if n <= 0:
            data = os.pread(src, min(1 << 20, size - off), off)
            if not data:
                raise OSError(0, "file shrank while copying")
            n = os.pwrite(dst, data, off)
        off += n


__all__ = ["rewrite", "plan_file", "Rewritten", "RewrittenUnit", "BuildIDError"]
