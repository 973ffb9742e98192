"""The verdict on one unit: does it still match the content ID stamped into it,
does a Go-made Mach-O signature still match its pages, and, when it does not,
how was it changed (modification.explain)."""
from __future__ import annotations

from .formats import FormatError, Span, Unit, image

from . import codesign, hostid, modification
from .errors import BuildIDError, naming
from .hashing import find_and_hash
from .idstring import checkable, content_part, display, hash_to_string
from .plan import hash_unit, plan_unit

OK, MODIFIED, NO_BUILD_ID, UNVERIFIABLE, ERROR = "ok", "modified", "no-build-id", "unverifiable", "error"
# The worst slice decides a universal file's status.
SEVERITY = {OK: 0, NO_BUILD_ID: 1, UNVERIFIABLE: 2, ERROR: 3, MODIFIED: 4}
# A file whose ID could not be checked against its bytes: no build ID, or an
# ID that cannot describe them (verify's exit status 3, scan's summary).
UNCHECKED = (NO_BUILD_ID, UNVERIFIABLE)


class Verdict:
    """status and reason; the content ID stored in the unit and the one its
    bytes give; how a modified unit was changed (a tuple of
    modification.Modification, None when not modified)."""

    __slots__ = ("status", "reason", "stored_content_id", "computed_content_id", "modification")

    def __init__(self, status: str, reason: str | None = None, stored_content_id: str | None = None,
                 computed_content_id: str | None = None, modification=None):
        put = object.__setattr__
        put(self, "status", status)
        put(self, "reason", reason)
        put(self, "stored_content_id", stored_content_id)
        put(self, "computed_content_id", computed_content_id)
        put(self, "modification", None if modification is None else tuple(modification))

    def __setattr__(self, name, value):
        raise AttributeError("Verdict is immutable")

    def __reduce__(self):  # a scan's records cross from its workers
        return (Verdict, tuple(getattr(self, k) for k in self.__slots__))

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "stored_content_id": self.stored_content_id,
                "computed_content_id": self.computed_content_id,
                "modification": None if self.modification is None else [m.to_json() for m in self.modification]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verdict) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"<Verdict {self.status}" + (f": {self.reason}>" if self.reason else ">")


def failed(reason: str) -> Verdict:
    return Verdict(ERROR, reason)


def check(path: str, unit: Unit, host, toolchain, strict: bool = False) -> Verdict:
    """The verdict on one unit. `host`: its host build ID as judged (a
    facts.HostID, None when it has none); `toolchain()`: (Go version, build
    settings), read only when needed."""
    found, old = unit.found, unit.found.build_id
    if not old:
        return Verdict(NO_BUILD_ID, "the file has no Go build ID")
    stored = display(content_part(old))
    try:
        with naming(path):  # a refusal, or a read error in this unit, is this unit's reason
            if not checkable(old) or found.unverifiable:
                computed = hash_unit(unit, old).content_id
                return Verdict(UNVERIFIABLE, found.unverifiable or _why_unchecked(old), stored, computed)
            plan = plan_unit(unit, old)
    except BuildIDError as e:
        return Verdict(ERROR, e.message, stored)
    computed = plan.content_id
    problems = []
    reason = None
    with naming(path):
        legacy = plan.new_id != old and _hashed_with_host_id(unit, old)
    if legacy:
        computed = legacy
        reason = "the content ID matches as Go 1.23 and earlier hashed the file (host build ID included)"
        if found.code_signature is not None and not _pages_match(unit):
            problems.append("the ad hoc code signature does not match the file's pages")
    else:
        if plan.new_id != old:
            problems.append(f"content ID {stored} does not match the file's content ({computed})")
        if plan.signature is not None and plan.new_signature != plan.old_signature:
            problems.append("the ad hoc code signature does not match the file's pages")
    if problems and stored != computed:
        foreign = foreign_link(unit, host, toolchain)
        if foreign is not None:
            return Verdict(UNVERIFIABLE, foreign, stored, computed)
    if strict and host is not None and host.status == hostid.NOT_DERIVED:
        problems.append(f"the {host.kind} host build ID was not derived from the build ID ({host.reason})")
    if not problems:
        return Verdict(OK, reason, stored, computed)
    return Verdict(MODIFIED, "; ".join(problems), stored, computed,
                   _how(path, unit, old, stored, computed, problems))


def _why_unchecked(old: bytes) -> str:
    if b"/" not in old:
        return ("the build ID has no content ID part to check (set by hand with -ldflags=-buildid, "
                "or written by Go before 1.8)")
    return "the build ID's last part is not a 20-character content ID (set by hand with -ldflags=-buildid)"


def foreign_link(unit: Unit, host, toolchain) -> str | None:
    """Why the content ID cannot describe this file because a linker other
    than Go's finished it, else None. Go's -buildmode=c-archive leaves its
    object's build ID in the archive, whose content ID the go command
    computes over the archive; a C linker that links the archive into a
    program or shared library carries the ID along into a file it describes
    no longer. Build info says so; without it, the shape says so: the Go
    runtime started as a library (Go's c-archive and c-shared entry), and a
    host build ID that a Go 1.24 or later linker would have derived (as it
    does when it drives the C linker itself, for c-shared) but did not."""
    go_version, settings = toolchain()
    mode = (settings or {}).get("-buildmode")
    if mode == "c-archive":
        return ("built with -buildmode=c-archive and linked by another linker: the build ID is the Go "
                "archive's, whose content ID covers the archive, not this file")
    if mode is not None or unit.format not in ("elf", "macho"):
        return None
    release = hostid.go_release(go_version)
    if host is None or host.kind is None or host.status != hostid.NOT_DERIVED or release is None \
            or release < (1, 24) or not _library_runtime(unit):
        return None
    return (f"a Go library (its runtime starts as Go's c-archive entry does) linked by another linker: "
            f"the {host.kind} host build ID is not the one {go_version.split()[0]} derives when it links, "
            f"so the build ID is the Go archive's, whose content ID covers the archive, not this file")


def _library_runtime(unit: Unit) -> bool:
    """The Go runtime's library entry (_rt0_GOARCH_GOOS_lib) in the symbol table."""
    try:
        img = image(unit.src, unit.format, unit.arch)
        names = [f"_rt0_{img.arch}_lib"] + [f"_rt0_{img.arch}_{goos}_lib" for goos in _GOOS]
        return any(img.symbol(name.encode()) is not None for name in names)
    except (FormatError, OSError):
        return False


_GOOS = ("linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly", "illumos", "solaris", "android", "ios")


def _hashed_with_host_id(unit: Unit, old: bytes) -> str | None:
    """The content ID when the host build ID is hashed, as Go before 1.24 did
    (its GNU build ID or UUID was not derived from the Go build ID, so it was
    part of the content), if that matches the stored one; else None."""
    kept = hostid.pre_1_24_exclude(unit.found)
    if kept is None:
        return None
    content = hash_to_string(find_and_hash(unit.src.fd, old, kept, unit.span.offset, unit.span.size).digest)
    return content if content_part(old) == content.encode() else None


def _pages_match(unit: Unit) -> bool:
    check_ = codesign.check_file(unit.src.fd, unit.found.code_signature, unit.span.offset)
    return bool(check_ and check_.ok)


def _how(path: str, unit: Unit, old: bytes, stored: str, computed: str, problems: list[str]) -> list:
    """The modification list of a modified unit: explained from its bytes when
    the content ID fails, else the failed check itself."""
    if stored != computed:
        try:
            with naming(path):
                return modification.explain(unit, old, stored)
        except BuildIDError as e:  # the verdict stands; only the explanation is lost
            return [modification.Modification(modification.UNEXPLAINED, False, f"cannot tell how: {e.message}")]
    return [modification.Modification(modification.UNEXPLAINED, False, p) for p in problems]


def with_tail(verdicts: list[Verdict], spans: list[Span], tail: Span | None) -> list[Verdict]:
    """The slices' verdicts with the bytes after the last slice of a universal
    file (`tail`, where lipo writes nothing and no slice's content ID reaches)
    put down as appended to the last slice: proven when that slice matches its
    content ID."""
    if tail is None:
        return verdicts
    last = max(range(len(verdicts)), key=lambda i: spans[i].end)
    v = verdicts[last]
    if v.status not in (OK, MODIFIED):
        return verdicts
    proven = v.status == OK
    detail = f"{tail.size} bytes after the last slice at offset {tail.offset:#x}" + \
        (f"; {modification.PROOFS[modification.APPENDED]}" if proven else "")
    appended = modification.Modification(modification.APPENDED, proven, detail)
    out = list(verdicts)
    if proven:
        out[last] = Verdict(MODIFIED, f"{tail.size} bytes after the last slice", v.stored_content_id,
                            v.computed_content_id, [appended])
    else:
        out[last] = Verdict(v.status, v.reason, v.stored_content_id, v.computed_content_id,
                            [appended, *v.modification])
    return out


def worst(verdicts: list[Verdict]) -> Verdict:
    """A universal file's verdict: its worst slice's status, reason and modifications."""
    w = max(verdicts, key=lambda v: SEVERITY[v.status])
    return Verdict(w.status, w.reason, None, None, w.modification)
