"""Verification: does a file still match the content ID stamped into it, does a
Go-made Mach-O signature still match its bytes, and was the host build ID
derived from the build ID?"""
from __future__ import annotations

import os

from .formats import Found, Source, Span

from . import codesign, hostid
from .errors import BuildIDError
from .fileio import opened
from .hashing import find_and_hash
from .idstring import PART_LENGTH, display, hash_to_string
from .plan import hash_unit, plan_unit, units
from .reading import guarded, locate_fd, to_info
from .result import BuildIDInfo

OK, MODIFIED, NO_BUILD_ID, LEGACY, ERROR = "ok", "modified", "no-build-id", "legacy", "error"
# The worst slice decides a universal file's status.
SEVERITY = {OK: 0, NO_BUILD_ID: 1, LEGACY: 2, ERROR: 3, MODIFIED: 4}


class Verdict:
    __slots__ = ("file", "arch", "status", "reason", "stored_content_id", "computed_content_id",
                 "host_build_id", "info", "slices", "modification")

    def __init__(self, file: str, info: BuildIDInfo | None = None):
        self.file = file
        self.info = info
        self.arch = info.arch if info else None
        self.status = ERROR
        self.reason: str | None = None
        self.stored_content_id: str | None = None
        self.computed_content_id: str | None = None
        self.host_build_id: dict | None = None
        self.slices: list[Verdict] = []
        # How a modified file was changed: a list of modification.Modification.
        self.modification: list | None = None

    def to_json(self) -> dict:
        out = self.info.to_json() if self.info else {"file": self.file, "error": self.reason}
        out.update(status=self.status, reason=self.reason, stored_content_id=self.stored_content_id,
                   computed_content_id=self.computed_content_id, host_build_id=self.host_build_id,
                   modification=None if self.modification is None else [m.to_json() for m in self.modification])
        if self.slices:
            out["slices"] = [s.to_json() for s in self.slices]
        return out


def verify(path: str, strict: bool = False) -> Verdict:
    """Never raises for a file problem: an unreadable or broken file is status 'error'."""
    try:
        with opened(path) as fd:
            return verify_found(path, fd, locate_fd(path, fd), strict)
    except BuildIDError as e:
        v = Verdict(path)
        v.reason = e.message
        return v


def verify_found(path: str, fd: int, found: Found, strict: bool = False) -> Verdict:
    """verify() for a file already open and located (scan has both at hand)."""
    info = to_info(path, found)
    todo = units(found, os.fstat(fd).st_size)
    facts = _BuildFacts(path, fd, found)
    if not found.slices:
        _, span, old = todo[0]
        return _judge(path, fd, found, span, old, info, strict, facts.of(0))
    top = Verdict(path, info)
    top.slices = [_judge(path, fd, f, span, old, si, strict, facts.of(i))
                  for i, ((f, span, old), si) in enumerate(zip(todo, info.slices))]
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


class _BuildFacts:
    """(Go version, build settings) per unit, read from the build info only when
    a host build ID is not derived and the rule needs them. Without build info
    the version is the one the runtime carries (goversion), with settings None;
    (None, None) when neither can be read."""

    def __init__(self, path: str, fd: int, found: Found):
        self.path, self.fd, self.found = path, fd, found
        self._all = None

    def of(self, index: int):
        return lambda: self._read()[index] if index < len(self._read()) else (None, None)

    def _read(self) -> list:
        if self._all is None:
            from .buildinfo import read_build_info_fd, read_build_info_slices_fd
            found = self.found
            units = found.slices or [found]
            try:
                infos = ([bi for _, bi in read_build_info_slices_fd(self.path, self.fd)] if found.slices
                         else [read_build_info_fd(self.path, self.fd)])
            except (BuildIDError, OSError):
                infos = [None] * len(units)
            self._all = [(bi.go_version, hostid.settings_of(bi)) if bi is not None
                         else (_recovered_version(self.fd, u), None)
                         for bi, u in zip(infos, units)]
        return self._all


def _recovered_version(fd: int, found: Found) -> str | None:
    from . import goversion
    src = Source.of_file(fd)
    if found.span is not None:
        src = src.view(found.span.offset, found.span.size)
    got = goversion.try_recover(src, bool(found.build_id))
    return got[0] if got else None


def _judge(path: str, fd: int, found: Found, span: Span, old: bytes | None, info: BuildIDInfo,
           strict: bool, facts=None) -> Verdict:
    v = Verdict(path, info)
    if not old:
        v.status, v.reason = NO_BUILD_ID, "the file has no Go build ID"
        return v
    if b"/" in old:
        v.stored_content_id = display(old[old.rindex(b"/") + 1:])
    if found.host_build_id is not None:
        h = found.host_build_id
        status, why = hostid.judge(old, h.kind, h.value, lookup=facts)
        v.host_build_id = {"status": status, "kind": h.kind, "hex": h.value.hex(), "reason": why}
    else:
        v.host_build_id = {"status": hostid.ABSENT, "kind": None, "hex": None, "reason": None}
    try:
        if b"/" not in old or len(old) - old.rindex(b"/") - 1 != PART_LENGTH or found.unverifiable:
            v.computed_content_id = guarded(path, hash_unit, fd, found, span, old).content_id
            v.status = LEGACY
            v.reason = found.unverifiable or "the build ID has no 20-character content ID part to check"
            return v
        unit = guarded(path, plan_unit, path, fd, found, span, old)
    except BuildIDError as e:  # a refusal, or a read error in this slice
        v.reason = e.message
        return v
    v.computed_content_id = unit.content_id
    problems = []
    legacy = unit.new_id != old and guarded(path, _hashed_with_host_id, fd, found, span, old)
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
    if strict and v.host_build_id["status"] == hostid.NOT_DERIVED:
        problems.append(f"the {v.host_build_id['kind']} host build ID was not derived from the build ID "
                        f"({v.host_build_id['reason']})")
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
    return content if old.endswith(b"/" + content.encode()) else None


def _pages_match(fd: int, found: Found) -> bool:
    sig = found.code_signature
    base = found.span.offset if found.span is not None else 0
    check = codesign.check_pages(os.pread(fd, sig.size, sig.offset) if sig.size <= (64 << 20) else b"",
                                 lambda off, n: os.pread(fd, n, base + off))
    return bool(check and check.ok)


def _how(path: str, fd: int, found: Found, span: Span, old: bytes, v: Verdict, problems: list[str]) -> list:
    """The modification list of a modified unit: explained from its bytes when
    the content ID fails, else the failed check itself."""
    from . import modification
    if v.stored_content_id != v.computed_content_id:
        try:
            return guarded(path, modification.explain, fd, found, span, old, v.stored_content_id)
        except BuildIDError as e:  # the verdict stands; only the explanation is lost
            return [modification.Modification(modification.UNEXPLAINED, False, f"cannot tell how: {e.message}")]
    return [modification.Modification(modification.UNEXPLAINED, False, p) for p in problems]
