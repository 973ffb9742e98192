"""Verification: does a file still match the content ID stamped into it, does a
Go-made Mach-O signature still match its bytes, and was the host build ID
derived from the build ID?"""
from __future__ import annotations

import os

from .formats import Found, Source, Span

from . import codesign, hostid
from .errors import BuildIDError, naming
from .fileio import opened
from .hashing import find_and_hash
from .idstring import checkable, content_part, display, hash_to_string
from .plan import hash_unit, plan_unit, units
from .reading import locate_fd, to_info, unit_source
from .result import BuildIDInfo, HostID

OK, MODIFIED, NO_BUILD_ID, LEGACY, ERROR = "ok", "modified", "no-build-id", "legacy", "error"
# The worst slice decides a universal file's status.
SEVERITY = {OK: 0, NO_BUILD_ID: 1, LEGACY: 2, ERROR: 3, MODIFIED: 4}


class Verdict:
    """The outcome of checking one file (or, in `slices`, each slice of a
    universal one): status and reason; `info` is what `read` gives."""

    __slots__ = ("file", "arch", "status", "reason", "stored_content_id", "computed_content_id",
                 "host_build_id", "info", "slices", "modification")

    def __init__(self, file: str, info: BuildIDInfo | None = None):
        self.file = file
        self.info = info if info is not None else BuildIDInfo(file)
        self.arch = info.arch if info else None
        self.status = ERROR
        self.reason: str | None = None
        self.stored_content_id: str | None = None
        self.computed_content_id: str | None = None
        self.host_build_id: HostID | None = None
        self.slices: list[Verdict] = []
        # How a modified file was changed: a list of modification.Modification.
        self.modification: list | None = None

    def to_json(self) -> dict:
        out = self.info.to_json()
        out.update(status=self.status, reason=self.reason, stored_content_id=self.stored_content_id,
                   computed_content_id=self.computed_content_id,
                   host_build_id=self.host_build_id.to_json() if self.host_build_id else None,
                   modification=None if self.modification is None else [m.to_json() for m in self.modification])
        if self.slices:
            out["slices"] = [s.to_json() for s in self.slices]
        return out

    @classmethod
    def failed(cls, file: str, error: str) -> "Verdict":
        """A file that could not be checked: status "error", every key of a
        normal verdict, `error` and `reason` set."""
        v = cls(file, BuildIDInfo.failed(file, error))
        v.reason = error
        return v

    def __repr__(self) -> str:
        arch = f" [{self.arch}]" if self.arch else ""
        reason = f": {self.reason}" if self.reason else ""
        return f"<Verdict {self.file!r}{arch} {self.status}{reason}>"


def verify(path: str, strict: bool = False) -> Verdict:
    """Never raises for a file problem: an unreadable or broken file is status 'error'."""
    try:
        with naming(path), opened(path) as fd:
            return verify_found(path, fd, locate_fd(fd), strict)
    except BuildIDError as e:
        return Verdict.failed(path, e.message)


def verify_found(path: str, fd: int, found: Found, strict: bool = False) -> Verdict:
    """verify() for a file already open and located (scan has both at hand)."""
    info = to_info(path, found)
    todo = units(found, os.fstat(fd).st_size)
    # Build info is read only when a host build ID is not derived and the rule needs it.
    def facts(f: Found):
        return lambda: build_facts(path, unit_source(fd, f), f)

    if not found.slices:
        _, span, old = todo[0]
        return _judge(path, fd, found, span, old, info, strict, facts(found))
    top = Verdict(path, info)
    top.slices = [_judge(path, fd, f, span, old, si, strict, facts(f))
                  for (f, span, old), si in zip(todo, info.slices)]
    _after_slices(fd, found, top.slices)
    worst = max(top.slices, key=lambda v: SEVERITY[v.status])
    top.status, top.reason, top.modification = worst.status, worst.reason, worst.modification
    return top


def _after_slices(fd: int, found: Found, verdicts: list["Verdict"]) -> None:
    """Bytes after the last slice of a universal file, where lipo writes
    nothing and no slice's content ID reaches: appended to the last slice, and
    proven when that slice matches its content ID."""
    from .modification import APPENDED, PROOFS, Modification
    end = max(s.span.end for s in found.slices)
    extra = os.fstat(fd).st_size - end
    last = max(range(len(verdicts)), key=lambda i: found.slices[i].span.end)
    v = verdicts[last]
    if extra <= 0 or v.status not in (OK, MODIFIED):
        return
    proven = v.status == OK
    detail = f"{extra} bytes after the last slice at offset {end:#x}" + (f"; {PROOFS[APPENDED]}" if proven else "")
    if proven:
        v.status, v.reason, v.modification = MODIFIED, f"{extra} bytes after the last slice", []
    v.modification = [Modification(APPENDED, proven, detail)] + v.modification


def build_facts(path: str, src: Source, found: Found) -> tuple[str | None, dict | None]:
    """(Go version, build settings) of one unit, which the host build ID rule
    needs: from its build info, else the version its runtime carries (goversion)
    with settings None; (None, None) when neither can be read."""
    from . import goversion
    from .buildinfo import read_build_info_source
    try:
        bi = read_build_info_source(path, src)
    except (BuildIDError, OSError):
        bi = None
    if bi is not None:
        return bi.go_version, hostid.settings_of(bi)
    got = goversion.try_recover(src, bool(found.build_id))
    return (got[0] if got else None), None


def _judge(path: str, fd: int, found: Found, span: Span, old: bytes | None, info: BuildIDInfo,
           strict: bool, facts=None) -> Verdict:
    v = Verdict(path, info)
    if not old:
        v.status, v.reason = NO_BUILD_ID, "the file has no Go build ID"
        return v
    v.stored_content_id = display(content_part(old))
    if found.host_build_id is not None:
        h = found.host_build_id
        status, why = hostid.judge(old, h.kind, h.value, lookup=facts)
        v.host_build_id = HostID.of(h, status, why)
    else:
        v.host_build_id = HostID(None, None, status=hostid.ABSENT)
    try:
        with naming(path):  # a refusal, or a read error in this slice, is this slice's reason
            if not checkable(old) or found.unverifiable:
                v.computed_content_id = hash_unit(fd, found, span, old).content_id
                v.status = LEGACY
                v.reason = found.unverifiable or "the build ID has no 20-character content ID part to check"
                return v
            unit = plan_unit(fd, found, span, old)
    except BuildIDError as e:
        v.reason = e.message
        return v
    v.computed_content_id = unit.content_id
    problems = []
    with naming(path):
        legacy = unit.new_id != old and _hashed_with_host_id(fd, found, span, old)
    if legacy:
        v.computed_content_id = legacy
        v.reason = ("the content ID matches as Go 1.23 and earlier hashed the file "
                    "(host build ID included)")
        if found.code_signature is not None and not _pages_match(fd, found):
            problems.append("the ad hoc code signature does not match the file's pages")
    else:
        if unit.new_id != old:
            problems.append(f"content ID {v.stored_content_id} does not match the file's content "
                            f"({v.computed_content_id})")
        if unit.signature is not None and unit.new_signature != unit.old_signature:
            problems.append("the ad hoc code signature does not match the file's pages")
    if strict and v.host_build_id.status == hostid.NOT_DERIVED:
        problems.append(f"the {v.host_build_id.kind} host build ID was not derived from the build ID "
                        f"({v.host_build_id.reason})")
    if problems:
        v.status, v.reason = MODIFIED, "; ".join(problems)
        v.modification = _how(path, fd, found, span, old, v, problems)
    else:
        v.status = OK
    return v


def _hashed_with_host_id(fd: int, found: Found, span: Span, old: bytes) -> str | None:
    """The content ID when the host build ID is hashed, as Go before 1.24 did
    (its GNU build ID or UUID was not derived from the Go build ID, so it was
    part of the content), if that matches the stored one; else None."""
    kept = hostid.pre_1_24_exclude(found)
    if kept is None:
        return None
    content = hash_to_string(find_and_hash(fd, old, kept, span.offset, span.size).digest)
    return content if content_part(old) == content.encode() else None


def _pages_match(fd: int, found: Found) -> bool:
    check = codesign.check_file(fd, found.code_signature, found.span.offset if found.span is not None else 0)
    return bool(check and check.ok)


def _how(path: str, fd: int, found: Found, span: Span, old: bytes, v: Verdict, problems: list[str]) -> list:
    """The modification list of a modified unit: explained from its bytes when
    the content ID fails, else the failed check itself."""
    from . import modification
    if v.stored_content_id != v.computed_content_id:
        try:
            with naming(path):
                return modification.explain(fd, found, span, old, v.stored_content_id)
        except BuildIDError as e:  # the verdict stands; only the explanation is lost
            return [modification.Modification(modification.UNEXPLAINED, False, f"cannot tell how: {e.message}")]
    return [modification.Modification(modification.UNEXPLAINED, False, p) for p in problems]
