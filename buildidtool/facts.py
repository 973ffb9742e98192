"""What is known about a file, as one typed record: the one home where a
located file becomes facts, for read, info, verify, scan and the SBOM alike.

    facts = gather(path, fd, INFO)          # or READ, VERIFY, SCAN, ...
    facts.build_id, facts.go_version, facts.slices[0].verdict.status
    facts.to_json()                         # the command's JSON object

A command asks for groups of facts (`asked`): the build ID and where it lives
are always there; VERSION adds the Go version, its source and the main
package; BUILD_INFO the whole build info; SIGNATURE the check of a Mach-O
signature's pages; HOST the judgement of the host build ID; VERDICT the check
against the content ID (and HOST with it); DIGEST the file's SHA-256; VULNS
(and VERSION with it) the known vulnerabilities of each executable unit,
matched against a database the caller passes (vulndb/). What was
not asked for is not computed and not in to_json(), so each command's JSON has
the keys of its groups, an error record included.

MODULES adds, for an executable unit whose build info names no modules (none,
broken, or without its module text), what its pclntab tells (pcln.py): the
modules whose code is in it, each with its evidence and source "pclntab", the
main module, the Go releases the table's layout could come from. A unit whose
build info names its modules never has its pclntab read.

A thin file is one record; a universal Mach-O is a record whose `slices` are
the records of its slices (each with `span`), the file's own fields left empty
but for what Go reads from its first slice (the Go version) and the verdict of
its worst slice."""
from __future__ import annotations

import hashlib
import os

from . import codesign, hostid
from .buildinfo import of_source, summary
from .errors import BuildIDError, naming
from .fileio import opened
from .goversion import try_recover
from .formats import Found, Source, Unit, after_last_slice, locate, units
from .formats.ar import go_version as archive_go_version
from .formats.errors import FormatError
from .formats.kinds import RECOVERABLE, THIN, UNIVERSAL
from .idstring import display, parts
from .verdict import Verdict, check, failed as failed_verdict, with_tail, worst

VERSION, BUILD_INFO, SIGNATURE, HOST, VERDICT, DIGEST, VULNS = (
    "version", "build_info", "signature", "host", "verdict", "digest", "vulns")
MODULES = "modules"  # needs VERSION or BUILD_INFO (whether build info names the modules)

READ = frozenset()
INFO = frozenset({VERSION, BUILD_INFO, SIGNATURE, HOST, MODULES})
VERIFY = frozenset({HOST, VERDICT})
SCAN = frozenset({VERSION, MODULES})
SBOM = frozenset({VERSION, BUILD_INFO, HOST, DIGEST, MODULES})
VULN_CHECK = frozenset({VERSION, VULNS})


class HostID:
    """The toolchain-neutral build ID (GNU build-id note or Mach-O LC_UUID),
    and whether it was derived from the Go build ID (`status`, `reason`:
    hostid.judge; None where nobody asked). verify reports a file without one
    as kind None, status "absent"."""

    __slots__ = ("kind", "hex", "offset", "size", "status", "reason")

    def __init__(self, kind: str | None, value: bytes | None, offset: int | None = None,
                 size: int | None = None, status: str | None = None, reason: str | None = None):
        self.kind = kind
        self.hex = value.hex() if value is not None else None
        self.offset = offset
        self.size = size
        self.status = status
        self.reason = reason

    @classmethod
    def of(cls, found_host, status: str | None = None, reason: str | None = None) -> "HostID":
        """From what a reader located (formats.HostBuildID)."""
        h = found_host
        return cls(h.kind, h.value, h.span.offset, h.span.size, status, reason)

    def to_json(self) -> dict:
        return {"kind": self.kind, "hex": self.hex, "status": self.status, "reason": self.reason}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostID) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        judged = f", {self.status}" if self.status else ""
        return f"HostID({self.kind!r}, {self.hex!r}{judged})"


ABSENT_HOST = HostID(None, None, status=hostid.ABSENT)


class CodeSignature:
    """Where a Mach-O code signature lies and, when checked (SIGNATURE),
    whether Go's linker made it (its size is the one cmd/link gives) and
    whether its page hashes match the file."""

    __slots__ = ("offset", "size", "checked", "go_made", "pages", "pages_match")

    def __init__(self, offset: int, size: int, checked: bool = False, go_made: bool | None = None,
                 pages: int | None = None, pages_match: bool | None = None):
        self.offset, self.size, self.checked = offset, size, checked
        self.go_made, self.pages, self.pages_match = go_made, pages, pages_match

    def to_json(self) -> dict:
        out = {"offset": self.offset, "size": self.size}
        if self.checked:
            out.update(go_made=self.go_made, pages=self.pages, pages_match=self.pages_match)
        return out

    def __repr__(self) -> str:
        return f"CodeSignature({self.offset:#x}, {self.size:#x})"


class ArchiveFacts:
    """The record of an archive, package or image itself: how many members were
    read; for an image, its tags, config digest and layers, and where known the
    digest of its manifest, the platform chosen and the index it was chosen
    from; for a package, what it says it is (archives.package.Package: name,
    version)."""

    __slots__ = ("members", "repo_tags", "config_digest", "layers", "digest", "platform", "index", "package")

    def __init__(self, members: int | None, repo_tags=None, config_digest: str | None = None, layers=None,
                 digest: str | None = None, platform: str | None = None, index: str | None = None, package=None):
        self.members, self.repo_tags, self.config_digest, self.layers = members, repo_tags, config_digest, layers
        self.digest, self.platform, self.index, self.package = digest, platform, index, package

    def to_json(self) -> dict:
        out = {}
        if self.repo_tags is not None:
            out.update(repo_tags=list(self.repo_tags), config_digest=self.config_digest, layers=list(self.layers))
        for key in ("digest", "platform", "index"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["members"] = self.members
        out["package"] = self.package.to_json() if self.package is not None else None
        return out


class Facts:
    """One file (or, in a universal file's `slices`, one slice): see the module
    docstring. Immutable: `replace()` gives a changed copy. Fields not set read
    as their empty value, so a record of a file with nothing in it costs one
    small dict (most files of a tree)."""

    file: str = ""
    format: str = "unknown"
    arch: str | None = None
    span = None                  # a slice's bytes in the file (formats.Span)
    raw_build_id: bytes | None = None
    locations: tuple = ()
    host_build_id: HostID | None = None
    code_signature: CodeSignature | None = None
    build_info = None            # buildinfo.BuildInfo
    build_info_error: str | None = None
    go_version: str | None = None
    go_version_source: str | None = None   # "buildinfo", "symbol", "scan" (goversion), "object-header"
    main_path: str | None = None
    verdict: Verdict | None = None
    slices: tuple = ()
    error: str | None = None
    sha256: str | None = None
    link: str | None = None      # an archive member that is a link: what it links to
    layer: str | None = None     # an image member: the layer it came from (--all-layers)
    notes: tuple = ()            # an archive member: what was unusual about its stored name
    archive: ArchiveFacts | None = None
    recovered = None             # pcln.UnitModules: an executable unit's pclntab, where build info names no modules
    vulns = None                 # vulndb.match.UnitVulns of an executable unit (VULNS)
    asked: frozenset = READ

    def __init__(self, file: str, **fields) -> None:
        d = self.__dict__
        d["file"] = file
        d.update(fields)

    def __setattr__(self, name, value):
        raise AttributeError(f"Facts is immutable (set {name} with replace())")

    def __eq__(self, other: object) -> bool:
        return type(other) is Facts and self.to_json() == other.to_json()

    __hash__ = None

    def replace(self, **changes) -> "Facts":
        new = object.__new__(Facts)
        new.__dict__.update(self.__dict__, **changes)
        return new

    def renamed(self, real: str, name: str) -> "Facts":
        """This record, and its slices', with `file` saying `name` where it says `real`."""
        changes = {"file": name} if self.file == real else {}
        if self.slices:
            changes["slices"] = tuple(s.renamed(real, name) for s in self.slices)
        return self.replace(**changes) if changes else self

    # --- derived ---

    @property
    def build_id(self) -> str | None:
        return display(self.raw_build_id)

    @property
    def parts(self) -> dict[str, str] | None:
        return parts(self.build_id)

    @property
    def status(self) -> str | None:
        return self.verdict.status if self.verdict is not None else None

    @property
    def reason(self) -> str | None:
        return self.verdict.reason if self.verdict is not None else None

    @property
    def modification(self):
        return self.verdict.modification if self.verdict is not None else None

    @property
    def stored_content_id(self) -> str | None:
        return self.verdict.stored_content_id if self.verdict is not None else None

    @property
    def computed_content_id(self) -> str | None:
        return self.verdict.computed_content_id if self.verdict is not None else None

    @property
    def units(self) -> tuple["Facts", ...]:
        """The records of the units: the slices, or this record for a thin file."""
        return self.slices or (self,)

    @property
    def is_go(self) -> bool:
        """A Go file: it carries a Go build ID, a Go version or build info."""
        return bool(self.raw_build_id or self.go_version or self.build_info is not None
                    or any(s.raw_build_id or s.build_info is not None for s in self.slices))

    def is_blank(self) -> bool:
        """Nothing known but the name (most files of a tree: output takes a short cut)."""
        d = self.__dict__
        return d.keys() <= _BLANK_KEYS and d.get("format", "unknown") == "unknown"

    # --- shown ---

    def to_json(self) -> dict:
        """The JSON object of this record: the keys of the groups asked for."""
        asked = self.asked
        out = {"file": self.file, "format": self.format, "arch": self.arch, "build_id": self.build_id,
               "parts": self.parts, "locations": list(self.locations),
               "host_build_id": self.host_build_id.to_json() if self.host_build_id is not None else None,
               "code_signature": self.code_signature.to_json() if self.code_signature is not None else None,
               "slices": [s.to_json() for s in self.slices], "error": self.error}
        if self.span is not None:
            out["offset"], out["size"] = self.span.offset, self.span.size
        if VERSION in asked or BUILD_INFO in asked:
            out.update(go_version=self.go_version, go_version_source=self.go_version_source,
                       main_path=self.main_path)
        if BUILD_INFO in asked:
            out["build_info"] = self.build_info.to_json() if self.build_info is not None else None
            out["build_info_error"] = self.build_info_error
        if VERDICT in asked:
            v = self.verdict
            out.update(v.to_json() if v is not None else
                       {"status": None, "reason": None, "stored_content_id": None, "computed_content_id": None,
                        "modification": None})
        if DIGEST in asked:
            out["sha256"] = self.sha256
        if MODULES in asked:
            out["recovered"] = self.recovered.to_json() if self.recovered is not None else None
        if VULNS in asked:
            out["vulns"] = self.vulns.to_json() if self.vulns is not None else None
        if self.link is not None:
            out["link"] = self.link
        if self.archive is not None:
            out.update(self.archive.to_json())
        if self.layer is not None:
            out["layer"] = self.layer
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def __repr__(self) -> str:
        what = f"error={self.error!r}" if self.error else f"build_id={self.build_id!r}"
        status = "" if self.verdict is None else f", {self.status}" + (f": {self.reason}" if self.reason else "")
        slices = f", slices={[s.arch for s in self.slices]}" if self.slices else ""
        return f"Facts({self.file!r}, {self.format}, {self.arch or '-'}, {what}{status}{slices})"


_BLANK_KEYS = frozenset({"file", "format", "asked"})


def failed(path: str, message: str, asked: frozenset = READ, format: str = "unknown") -> Facts:
    """The record of a file that could not be read: every key of its command,
    `error` set (and, when a verdict was asked for, status "error")."""
    fields = {"error": message, "asked": asked}
    if format != "unknown":
        fields["format"] = format
    if VERDICT in asked:
        fields["verdict"] = failed_verdict(message)
    return Facts(path, **fields)


def gather(path: str, fd: int, asked: frozenset, *, strict: bool = False, size: int | None = None,
           head: bytes | None = None, vulndb=None) -> Facts:
    """The facts of the file open on fd, named `path`. Raises FormatError or
    OSError when the file cannot be located (call it inside `naming`); what
    goes wrong in a later group (broken build info, say) is recorded instead.
    VULNS needs `vulndb` (a vulndb.source.Database), whose DatabaseError passes."""
    if type(fd) is not int:  # a file read by URL, by ranges (remote/ranged.py)
        src = fd.source()
        facts = of_found(path, src, locate(src), asked, strict, vulndb)
        return facts.replace(notes=tuple(fd.notes)) if fd.notes else facts
    size = os.fstat(fd).st_size if size is None else size
    src = Source(fd, 0, size, head)
    return of_found(path, src, locate(src), asked, strict, vulndb)


def of_found(path: str, src: Source, found: Found, asked: frozenset, strict: bool = False,
             vulndb=None) -> Facts:
    """gather() for a file already located."""
    if VERDICT in asked:
        asked = asked | {HOST}
    if VULNS in asked:
        asked = asked | {VERSION}
    records = [_unit(path, u, asked, strict, vulndb) for u in units(src, found)]
    if not found.slices:
        facts = records[0]
    else:
        first = records[0]
        fields = {"format": UNIVERSAL, "slices": tuple(records), "asked": asked}
        if VERSION in asked or BUILD_INFO in asked:  # the file's, as Go reads it: its first slice's
            fields.update(go_version=first.go_version, go_version_source=first.go_version_source,
                          main_path=first.main_path)
        if VERDICT in asked:
            fields["slices"] = _with_tail(records, after_last_slice(found, src.size))
            fields["verdict"] = worst([r.verdict for r in fields["slices"]])
        facts = Facts(path, **fields)
    if DIGEST in asked:
        facts = _digest(facts, src.fd)
    return facts


def _with_tail(records: list[Facts], tail) -> tuple[Facts, ...]:
    verdicts = with_tail([r.verdict for r in records], [r.span for r in records], tail)
    return tuple(r if r.verdict is v else r.replace(verdict=v) for r, v in zip(records, verdicts))


class _BuildInfo:
    """A unit's build info, read once, for whichever group needs it first."""

    __slots__ = ("unit", "done", "info", "error")

    def __init__(self, unit: Unit):
        self.unit, self.done, self.info, self.error = unit, False, None, None

    def get(self):
        if not self.done:
            self.done = True
            try:
                self.info = of_source(self.unit.src, arch=self.unit.arch)
            except FormatError as e:
                self.error = str(e)
            except OSError as e:
                self.error = f"read error: {e.strerror or e}"
            except ValueError as e:  # build info text Go could not parse either
                self.error = str(e)
        return self.info

    def toolchain(self, recovered: str | None = None, tried: bool = False) -> tuple[str | None, dict | None]:
        """(Go version, build settings), which the host build ID rule needs:
        from build info, else a recovered Go version (`recovered`, when
        recovery was `tried` already) with settings None."""
        bi = self.get()
        if bi is not None:
            return bi.go_version, hostid.settings_of(bi)
        if not tried:
            got = _recover(self.unit)
            recovered = got[0] if got else None
        return recovered, None


def _recover(unit: Unit):
    return try_recover(unit.src, bool(unit.found.build_id))


def _unit(path: str, unit: Unit, asked: frozenset, strict: bool, vulndb=None) -> Facts:
    f = unit.found
    fields: dict = {"format": f.format, "asked": asked}
    if f.arch is not None:
        fields["arch"] = f.arch
    if f.build_id is not None:
        fields["raw_build_id"] = f.build_id
        fields["locations"] = f.locations
    if f.span is not None:
        fields["span"] = f.span
    if f.format == "unknown" and f.build_id is None and VERDICT not in asked:
        return Facts(path, **fields)  # nothing else to learn: most files of a tree
    bi = _BuildInfo(unit)
    versioned = VERSION in asked or BUILD_INFO in asked
    if BUILD_INFO in asked or VULNS in asked:  # matching needs the modules too
        info = bi.get()
        if BUILD_INFO in asked:
            fields["build_info"], fields["build_info_error"] = info, bi.error
        if info is not None:
            fields["go_version"], fields["main_path"] = info.go_version, info.path or None
    elif VERSION in asked:
        version, main = _summary(unit)
        if version:
            fields["go_version"], fields["main_path"] = version, main
    if versioned:
        if fields.get("go_version"):
            fields["go_version_source"] = "buildinfo"
        elif f.format in RECOVERABLE:
            got = _recover(unit)
            if got is not None:
                fields["go_version"], fields["go_version_source"] = got
        elif f.format == "go-archive":
            version = archive_go_version(unit.src)
            if version is not None:
                fields["go_version"], fields["go_version_source"] = version, "object-header"
    toolchain = lambda: bi.toolchain(fields.get("go_version"), versioned)  # noqa: E731
    h = f.host_build_id
    if h is not None:
        if HOST in asked:
            status, why = hostid.judge(f.build_id, h.kind, h.value, lookup=toolchain)
            fields["host_build_id"] = HostID.of(h, status, why)
        else:
            fields["host_build_id"] = HostID.of(h)
    elif VERDICT in asked:
        fields["host_build_id"] = ABSENT_HOST
    if f.code_signature is not None:
        fields["code_signature"] = _signature(unit) if SIGNATURE in asked else \
            CodeSignature(f.code_signature.offset, f.code_signature.size)
    if MODULES in asked and versioned and f.format in THIN and not _names_modules(fields, bi) and (
            f.build_id or fields.get("go_version") or bi.info is not None):
        fields["recovered"] = _pclntab_modules(unit)
    if VULNS in asked and vulndb is not None and f.format in THIN and (
            f.build_id or fields.get("go_version") or bi.info is not None):
        fields["vulns"] = _vulns(unit, fields, bi.info, vulndb)
    facts = Facts(path, **fields)
    if VERDICT not in asked:
        return facts
    return facts.replace(verdict=check(path, unit, facts.host_build_id, toolchain, strict))


def _vulns(unit: Unit, fields: dict, info, vulndb):
    # The matcher only when vulnerabilities are asked for: it and the pclntab
    # reader are never on the path of the other commands.
    from .pcln import table_of
    from .vulndb.match import check
    return check(vulndb, unit.format, fields.get("arch"), info, fields.get("go_version"),
                 fields.get("go_version_source"), lambda: table_of(unit.src))


def _names_modules(fields: dict, bi: _BuildInfo) -> bool:
    """Whether the unit's build info names its modules: its main package path
    (from the summary or the whole build info), a main module or dependencies."""
    if fields.get("main_path"):
        return True
    info = fields.get("build_info")
    return info is not None and bool(info.main.path or info.deps)


def _pclntab_modules(unit: Unit):
    # The pclntab reader (5 ms to import) only for a unit without modules in its
    # build info: never on the path of buildid FILE, read, verify or hash.
    from .pcln import unit_modules
    return unit_modules(unit.src)


def _summary(unit: Unit) -> tuple[str | None, str | None]:
    """(Go version, main package) from build info, without parsing it all: a
    listing needs nothing else. A broken blob gives none: the record says no
    more than that, and `info` reports the error."""
    try:
        return summary(unit.src, unit.format)
    except (BuildIDError, FormatError, OSError, ValueError):
        return None, None


def _signature(unit: Unit) -> CodeSignature:
    sig, base = unit.found.code_signature, unit.span.offset
    try:
        check = codesign.check_file(unit.src.fd, sig, base, unit.src.pread)
    except OSError:
        check = None
    return CodeSignature(sig.offset, sig.size, True, codesign.size(sig.offset - base) == sig.size,
                         check.pages if check else None, check.ok if check else None)


def _digest(facts: Facts, fd: int) -> Facts:
    h = hashlib.sha256()
    pos = 0
    try:
        while chunk := os.pread(fd, 1 << 20, pos):
            h.update(chunk)
            pos += len(chunk)
    except OSError as e:
        return facts.replace(error=f"read error: {e.strerror or e}")
    return facts.replace(sha256=h.hexdigest())


def read_facts(path: str, asked: frozenset, strict: bool = False, vulndb=None) -> Facts:
    """gather() on a path: opened safely, errors naming the file (BuildIDError)."""
    # Reading only what the parsers touch suits a URL unless every byte is
    # hashed (VERDICT, DIGEST): then it is fetched once, whole.
    ranged = VERDICT not in asked and DIGEST not in asked
    with naming(path), opened(path, ranged=ranged) as fd:
        return gather(path, fd, asked, strict=strict, vulndb=vulndb)


__all__ = ["Facts", "HostID", "CodeSignature", "ArchiveFacts", "gather", "of_found", "failed", "read_facts",
           "READ", "INFO", "VERIFY", "SCAN", "SBOM", "VULN_CHECK", "VERSION", "BUILD_INFO", "SIGNATURE", "HOST",
           "VERDICT", "DIGEST", "MODULES", "VULNS"]
