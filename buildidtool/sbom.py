"""What a scan's SBOM says, apart from how CycloneDX or SPDX spell it.

    inv = inventory(records)          # scan records made with sbom=True
    text = render(inv, "cyclonedx-json", Identity.make(inv, serial=None, timestamp=None, reproducible=True))

One application per Go binary (named by its path, with the SHA-256 of its bytes
and the forensic facts as `buildid:` properties) and one library per distinct
module purl, shared by every binary that links it, with an edge from each
binary to each of its modules. Modules follow `go version -m`: each dependency,
a replacement in place of the module it replaces when the replacement has a
version (the original kept in a property), the main module when it has a
version, and the standard library as pkg:golang/stdlib@<version> (as syft and
trivy write it: the `go` prefix dropped in the purl, kept in the version).

Everything is sorted and every identifier is derived from content, so two
scans of the same tree give the same document once the serial number and the
timestamp are fixed (flags, or `reproducible`).
"""
from __future__ import annotations

import hashlib

FORMATS = ("cyclonedx-json", "spdx-json")
NS = "buildid:"
TOOL = "buildidtool"


def json_text(s: str) -> str:
    """A path as JSON can carry it: bytes that are not UTF-8 (held as surrogate
    escapes) become U+FFFD, which every consumer reads the same way."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def unique_text(s: str) -> str:
    """A path as an identifier: bytes that are not UTF-8 written as \\xNN, so
    two paths that json_text makes alike stay apart."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def golang_purl(path: str, version: str) -> str:
    """pkg:golang/<module path>@<version>, encoded by packageurl-python."""
    from packageurl import PackageURL

    namespace, _, name = path.rpartition("/")
    return PackageURL(type="golang", namespace=namespace or None, name=name, version=version).to_string()


def stdlib_version(go_version: str) -> str | None:
    """The toolchain release a binary's Go version names: `go1.22.1 X:loopvar`
    -> `go1.22.1`. None for development toolchains, which name no release."""
    v = go_version.split(" ", 1)[0].split("-X:", 1)[0]
    return v if v.startswith("go1.") else None


class Module:
    __slots__ = ("purl", "name", "version", "properties")

    def __init__(self, purl: str, name: str, version: str):
        self.purl, self.name, self.version = purl, name, version
        self.properties: dict[str, str] = {}


ARCHIVES = ("go-archive", "gccgo-archive", "ar", "aix-big-archive")


class Binary:
    """A Go file: an executable or shared library, or (is_archive) a package
    archive, which is listed as a file rather than an application."""

    __slots__ = ("path", "sha256", "properties", "modules", "is_archive")

    def __init__(self, path: str, sha256: str | None, is_archive: bool = False):
        self.path, self.sha256, self.is_archive = path, sha256, is_archive
        self.properties: list[tuple[str, str]] = []
        self.modules: set[str] = set()  # purls


class Inventory:
    """`root` names what was scanned (the paths given): the document describes
    it, and it contains every binary."""

    __slots__ = ("root", "binaries", "modules")

    def __init__(self, roots: list[str] | None = None) -> None:
        self.root = " ".join(roots) if roots else "scan"
        self.binaries: list[Binary] = []
        self.modules: dict[str, Module] = {}

    def module(self, path: str, version: str) -> Module:
        purl = golang_purl(path, version)
        m = self.modules.get(purl)
        if m is None:
            m = self.modules[purl] = Module(purl, path, version)
        return m

    def digest(self) -> str:
        """A hash of everything the document says, for a reproducible serial number."""
        h = hashlib.sha256(self.root.encode("utf-8", "surrogateescape"))
        for b in self.binaries:
            h.update(repr((b.path, b.sha256, b.properties, sorted(b.modules))).encode("utf-8", "surrogateescape"))
        for purl in sorted(self.modules):
            h.update(repr((purl, sorted(self.modules[purl].properties.items()))).encode())
        return h.hexdigest()


def facts(path: str, fd: int, found, src) -> dict:
    """What a scan record needs for an SBOM besides the usual fields: the
    SHA-256 of the file, its build info (`go version -m -json`; of the first
    slice of a universal file, as Go reads it) or the error reading it, and
    the status of each unit's host build ID. Read errors go to the record."""
    import os

    from . import hostid
    from .buildinfo import read_build_info_source
    from .errors import BuildIDError
    from .verifying import build_facts

    out: dict = {"sha256": None, "build_info": None, "build_info_error": None}

    statuses = []
    for f in found.slices or [found]:
        h = f.host_build_id
        unit = src.view(f.span.offset, f.span.size) if f.span else src
        statuses.append(None if h is None else
                        hostid.judge(f.build_id, h.kind, h.value,
                                     lookup=lambda f=f, unit=unit: build_facts(path, unit, f))[0])
    out["host_build_id_status"] = statuses if found.slices else statuses[0]
    if found.format in ("elf", "macho", "macho-fat", "pe", "xcoff", "plan9", "wasm"):
        try:
            bi = read_build_info_source(path, src)
            out["build_info"] = bi.to_json() if bi is not None else None
        except BuildIDError as e:
            out["build_info_error"] = e.message
    h = hashlib.sha256()
    pos = 0
    try:
        while True:
            chunk = os.pread(fd, 1 << 20, pos)
            if not chunk:
                break
            h.update(chunk)
            pos += len(chunk)
        out["sha256"] = h.hexdigest()
    except OSError as e:
        out["error"] = f"read error: {e.strerror or e}"
    return out


def is_go(rec: dict) -> bool:
    return bool(rec.get("build_id") or any(s.get("build_id") for s in rec.get("slices") or [])
                or rec.get("go_version") or rec.get("build_info"))


def _facts(rec: dict) -> list[tuple[str, str]]:
    """The forensic facts of one binary, as (name, value) in a fixed order."""
    out: list[tuple[str, str]] = []

    def add(name: str, value) -> None:
        if value is not None and value != "":
            out.append((NS + name, str(value)))

    add("format", rec.get("format"))
    units = rec.get("slices") or [rec]
    statuses = rec.get("host_build_id_status")
    if not isinstance(statuses, list):
        statuses = [statuses]
    for u, status in zip(units, statuses + [None] * len(units)):
        prefix = f"slice.{u.get('arch') or 'unknown'}." if u is not rec else ""
        add(prefix + "arch", u.get("arch"))
        add(prefix + "build_id", u.get("build_id"))
        add(prefix + "content_id", (u.get("parts") or {}).get("content"))
        h = u.get("host_build_id")
        if h:
            add(prefix + "host_build_id", f"{h['kind']}:{h['hex']}")
        add(prefix + "host_build_id_status", status or ("absent" if not h else None))
    add("go_version", rec.get("go_version"))
    add("go_version_source", rec.get("go_version_source"))
    bi = rec.get("build_info") or {}
    add("main_path", bi.get("Path") or rec.get("main_path"))
    main = bi.get("Main") or {}
    if main.get("Path"):
        add("main_module", f"{main['Path']}@{main.get('Version', '')}")
    settings = {s.get("Key", ""): s.get("Value", "") for s in bi.get("Settings") or []}
    for key in ("vcs", "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "CGO_ENABLED",
                "-trimpath", "-buildmode"):
        add("build." + key.lstrip("-"), settings.get(key))
    if "status" in rec:
        add("verify.status", rec["status"])
        add("verify.reason", rec.get("reason"))
        kinds = sorted({m["kind"] for m in rec.get("modification") or [] if m.get("kind")})
        add("verify.modification", ",".join(kinds))
    return out


def _add_modules(inv: Inventory, b: Binary, bi: dict) -> None:
    main = bi.get("Main") or {}
    if main.get("Path") and main.get("Version") and main["Version"] != "(devel)":
        m = inv.module(main["Path"], main["Version"])
        m.properties[NS + "role"] = "main"
        b.modules.add(m.purl)
    for d in bi.get("Deps") or []:
        path, version, rep = d.get("Path", ""), d.get("Version", ""), d.get("Replace")
        if rep and rep.get("Version") and rep["Version"] != "(devel)":
            m = inv.module(rep.get("Path", ""), rep["Version"])
            m.properties[NS + "replaces"] = f"{path}@{version}"
        elif path and version:
            m = inv.module(path, version)
            if rep:
                m.properties[NS + "replaced_by"] = rep.get("Path", "")
        else:
            continue
        b.modules.add(m.purl)


def inventory(records, roots: list[str] | None = None) -> Inventory:
    """The SBOM's content from scan records (made with sbom=True): Go files
    only; other files and errors are left out. `roots`: the paths scanned."""
    inv = Inventory(roots)
    for rec in records:
        if rec.get("error") or not is_go(rec):
            continue
        b = Binary(rec["file"], rec.get("sha256"), rec.get("format") in ARCHIVES)
        b.properties = _facts(rec)
        bi = rec.get("build_info") or {}
        _add_modules(inv, b, bi)
        std = stdlib_version(rec.get("go_version") or "")
        if std:
            m = inv.module("stdlib", std[2:])
            m.version = std
            b.modules.add(m.purl)
        inv.binaries.append(b)
    inv.binaries.sort(key=lambda b: b.path)
    return inv


class Identity:
    """The document's serial number (a UUID) and creation time (UTC, ISO 8601, seconds)."""

    __slots__ = ("serial", "timestamp")

    def __init__(self, serial: str, timestamp: str):
        self.serial, self.timestamp = serial, timestamp

    @classmethod
    def make(cls, inv: Inventory, serial: str | None = None, timestamp: str | None = None,
             reproducible: bool = False) -> "Identity":
        """From the flags; what they leave open is random and now, or with
        `reproducible` derived from the content and SOURCE_DATE_EPOCH (or the
        Unix epoch)."""
        import datetime
        import os
        import uuid

        if serial is not None:
            s = serial[len("urn:uuid:"):] if serial.startswith("urn:uuid:") else serial
            sid = str(uuid.UUID(s))  # ValueError on a malformed serial
        elif reproducible:
            sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"buildidtool:{inv.digest()}"))
        else:
            sid = str(uuid.uuid4())
        if timestamp is not None:
            t = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
            if t.tzinfo is None:
                t = t.replace(tzinfo=datetime.timezone.utc)
        elif reproducible:
            t = datetime.datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", "0")),
                                                datetime.timezone.utc)
        else:
            t = datetime.datetime.now(datetime.timezone.utc)
        stamp = t.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(sid, stamp)


def tool_version() -> str:
    from . import __version__
    return __version__


def render(inv: Inventory, form: str, ident: Identity) -> str:
    """The document as text (JSON, ending in a newline)."""
    if form == "cyclonedx-json":
        from .report.cyclonedx import render as cdx
        return cdx(inv, ident)
    if form == "spdx-json":
        from .report.spdx import render as spdx
        return spdx(inv, ident)
    raise ValueError(f"unknown SBOM format {form!r}")


def write(records, out, form: str, serial: str | None = None, timestamp: str | None = None,
          reproducible: bool = False, roots: list[str] | None = None) -> None:
    """One document for all the records (made with sbom=True) to the text stream out."""
    inv = inventory(records, roots)
    out.write(render(inv, form, Identity.make(inv, serial, timestamp, reproducible)))


__all__ = ["FORMATS", "inventory", "render", "write", "facts", "Identity", "Inventory", "golang_purl", "is_go"]
