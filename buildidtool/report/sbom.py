"""What a scan's SBOM says, apart from how CycloneDX or SPDX spell it.

    inv = inventory(records)          # scan records (facts.Facts) with SBOM facts
    text = cyclonedx.render(inv, Identity.make(inv, serial=None, timestamp=None, reproducible=True))

One application per Go binary (named by its path, with the SHA-256 of its bytes
and the forensic facts as `buildid:` properties) and one library per distinct
module purl, shared by every binary that links it, with an edge from each
binary to each of its modules. Modules follow `go version -m`: each dependency,
a replacement in place of the module it replaces when the replacement has a
version (the original kept in a property), the main module when it has a
version, and the standard library as pkg:golang/stdlib@<version> (as syft and
trivy write it: the `go` prefix dropped in the purl, kept in the version).

A binary whose build info names no modules gets those its pclntab shows
(facts.MODULES): a library per module (without a version where its paths
carry none), with `buildid:source` `pclntab` and the evidence of the binary
whose path sorts first (a module that any binary's build info lists keeps
build info's word, without them).

With --vulns, each binary also carries its findings (vulndb.match), one per
entry: the most telling level over its slices (a universal binary), which the
formats spell as vulnerabilities (CycloneDX, with a VEX analysis of
not_affected / code_not_present where no code of the affected packages is in
the binary) or security references (SPDX).

Everything is sorted and every identifier is derived from content, so two
scans of the same tree give the same document once the serial number and the
timestamp are fixed (flags, or `reproducible`).
"""
from __future__ import annotations

import datetime
import hashlib
import os
import re
import uuid

from packageurl import PackageURL

from .. import __version__
from ..formats.kinds import PACKAGE_ARCHIVES

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


def golang_purl(path: str, version: str | None) -> str:
    """pkg:golang/<module path>@<version>, encoded by packageurl-python."""
    namespace, _, name = path.rpartition("/")
    return PackageURL(type="golang", namespace=namespace or None, name=name, version=version).to_string()


def stdlib_version(go_version: str) -> str | None:
    """The toolchain release a binary's Go version names: `go1.22.1 X:loopvar`
    -> `go1.22.1`. None for development toolchains, which name no release."""
    v = go_version.split(" ", 1)[0].split("-X:", 1)[0]
    return v if v.startswith("go1.") else None


class Module:
    __slots__ = ("purl", "name", "version", "properties", "listed", "evidence")

    def __init__(self, purl: str, name: str, version: str | None):
        self.purl, self.name, self.version = purl, name, version
        self.properties: dict[str, str] = {}
        self.listed = False   # some binary's build info lists it
        self.evidence = None  # (binary path, pcln.RecoveredModule): recovered from that binary's pclntab




class Binary:
    """A Go file: an executable or shared library, or (is_archive) a package
    archive, which is listed as a file rather than an application. `vulns`:
    its findings (vulndb.match.Finding), one per entry and module, or None
    when it was not checked."""

    __slots__ = ("path", "sha256", "properties", "modules", "is_archive", "vulns")

    def __init__(self, path: str, sha256: str | None, is_archive: bool = False):
        self.path, self.sha256, self.is_archive = path, sha256, is_archive
        self.properties: list[tuple[str, str]] = []
        self.modules: set[str] = set()  # purls
        self.vulns: list | None = None


class Inventory:
    """`root` names what was scanned (the paths given): the document describes
    it, and it contains every binary. `package`: when what was scanned is one
    package (a .deb, an .rpm, a wheel, an npm tarball), what it says it is
    (archives.package.Package), which then names the document's subject."""

    __slots__ = ("root", "roots", "binaries", "modules", "package", "vulndb")

    def __init__(self, roots: list[str] | None = None, vulndb: dict | None = None) -> None:
        self.root = " ".join(roots) if roots else "scan"
        self.roots = list(roots or ())
        self.binaries: list[Binary] = []
        self.modules: dict[str, Module] = {}
        self.package = None
        self.vulndb = vulndb  # the database the findings come from (Database.describe()), with --vulns

    def module(self, path: str, version: str | None) -> Module:
        purl = golang_purl(path, version)
        m = self.modules.get(purl)
        if m is None:
            m = self.modules[purl] = Module(purl, path, version)
        return m

    def digest(self) -> str:
        """A hash of everything the document says, for a reproducible serial number."""
        h = hashlib.sha256(self.root.encode("utf-8", "surrogateescape"))
        if self.package is not None:
            h.update(repr(self.package.to_json()).encode("utf-8", "surrogateescape"))
        if self.vulndb is not None:
            h.update(repr(sorted(self.vulndb.items())).encode("utf-8", "surrogateescape"))
        for b in self.binaries:
            h.update(repr((b.path, b.sha256, b.properties, sorted(b.modules))).encode("utf-8", "surrogateescape"))
            if b.vulns is not None:
                h.update(repr([(f.id, f.module, f.level, f.symbols) for f in b.vulns]).encode())
        for purl in sorted(self.modules):
            h.update(repr((purl, sorted(self.modules[purl].properties.items()))).encode())
        return h.hexdigest()


def properties(facts) -> list[tuple[str, str]]:
    """The forensic facts of one binary, as (name, value) in a fixed order."""
    out: list[tuple[str, str]] = []

    def add(name: str, value) -> None:
        if value is not None and value != "":
            out.append((NS + name, str(value)))

    add("format", facts.format)
    for u in facts.units:
        prefix = f"slice.{u.arch or 'unknown'}." if u is not facts else ""
        add(prefix + "arch", u.arch)
        add(prefix + "build_id", u.build_id)
        add(prefix + "content_id", (u.parts or {}).get("content"))
        h = u.host_build_id
        if h is not None and h.kind is not None:
            add(prefix + "host_build_id", f"{h.kind}:{h.hex}")
        add(prefix + "host_build_id_status", h.status if h is not None and h.kind is not None else "absent")
        rec = u.recovered
        if rec is not None:  # build info names no modules: what the pclntab tells
            add(prefix + "modules_source", rec.source)
            add(prefix + "pclntab.modules", len(rec.modules))
            add(prefix + "pclntab.main_module", (rec.main_module or {}).get("path"))
            add(prefix + "pclntab.go_version_range", rec.go_version_range)
            add(prefix + "pclntab.error", rec.error)
    add("go_version", facts.go_version)
    add("go_version_source", facts.go_version_source)
    bi = _build_info(facts)
    add("main_path", (bi.path if bi is not None else None) or facts.main_path)
    if bi is not None and bi.main.path:
        add("main_module", f"{bi.main.path}@{bi.main.version}")
    settings = {s.key: s.value for s in bi.settings} if bi is not None else {}
    for key in ("vcs", "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "CGO_ENABLED",
                "-trimpath", "-buildmode"):
        add("build." + key.lstrip("-"), settings.get(key))
    if facts.verdict is not None:
        add("verify.status", facts.status)
        add("verify.reason", facts.reason)
        kinds = sorted({m.kind for m in facts.modification or ()})
        add("verify.modification", ",".join(kinds))
    return out


def _build_info(facts):
    """The file's build info as Go reads it: its own, or its first slice's."""
    if facts.build_info is not None or not facts.slices:
        return facts.build_info
    return facts.slices[0].build_info


def _add_modules(inv: Inventory, b: Binary, bi) -> None:
    main = bi.main
    if main.path and main.version and main.version != "(devel)":
        m = inv.module(main.path, main.version)
        m.properties[NS + "role"] = "main"
        m.listed = True
        b.modules.add(m.purl)
    for d in bi.deps:
        rep = d.replace
        if rep is not None and rep.version and rep.version != "(devel)":
            m = inv.module(rep.path, rep.version)
            m.properties[NS + "replaces"] = f"{d.path}@{d.version}"
        elif d.path and d.version:
            m = inv.module(d.path, d.version)
            if rep is not None:
                m.properties[NS + "replaced_by"] = rep.path
        else:
            continue
        m.listed = True
        b.modules.add(m.purl)


def _add_recovered(inv: Inventory, b: Binary, rec) -> None:
    """The modules a unit's pclntab shows (pcln.UnitModules), their evidence
    kept from the binary whose path sorts first."""
    for r in rec.modules:
        m = inv.module(r.path, r.version)
        if m.evidence is None or b.path < m.evidence[0]:
            m.evidence = (b.path, r)
        b.modules.add(m.purl)


SAMPLE_FILES = 3


def _recovered_properties(inv: Inventory) -> None:
    """`buildid:source` pclntab and the evidence, on each module that no build info lists."""
    for m in inv.modules.values():
        if m.evidence is None or m.listed:
            continue
        path, r = m.evidence
        p = m.properties
        p[NS + "source"] = r.source
        p[NS + "pclntab.binary"] = json_text(path)
        if r.kind != "module":
            p[NS + "pclntab.kind"] = r.kind
        p[NS + "pclntab.functions"] = str(r.functions)
        p[NS + "pclntab.files"] = str(len(r.files))
        if r.files:
            p[NS + "pclntab.sample_files"] = json_text("; ".join(r.files[:SAMPLE_FILES]))


def is_subject(facts, roots: list[str]) -> bool:
    """The record of the one package scanned: the document's subject."""
    return len(roots) == 1 and facts.file == roots[0] and facts.archive is not None \
        and facts.archive.package is not None


def package_purl(pkg) -> str:
    """The package's own purl: pkg:deb/VENDOR/NAME@VERSION?arch=ARCH, pkg:rpm/...,
    pkg:pypi/NAME@VERSION (the name normalized as PEP 503 does), pkg:npm/...
    (a scope as the namespace)."""
    namespace, name = pkg.namespace, pkg.name
    if pkg.type == "npm" and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    if pkg.type == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    qualifiers = {"arch": pkg.arch} if pkg.arch else None
    return PackageURL(type=pkg.type, namespace=namespace, name=name, version=pkg.version,
                      qualifiers=qualifiers).to_string()


def binary(inv: Inventory, facts) -> Binary | None:
    """The SBOM entry of one scan record, its modules added to `inv`; None
    for a file that is not Go, or could not be read."""
    if facts.error or not facts.is_go:
        return None
    b = Binary(facts.file, facts.sha256, facts.format in PACKAGE_ARCHIVES)
    b.properties = properties(facts)
    bi = _build_info(facts)
    if bi is not None:
        _add_modules(inv, b, bi)
    for u in facts.units:
        if u.recovered is not None:
            _add_recovered(inv, b, u.recovered)
    std = stdlib_version(facts.go_version or "")
    if std:
        m = inv.module("stdlib", std[2:])
        m.version = std
        b.modules.add(m.purl)
    b.vulns = findings(facts)
    return b


_RANK = {"symbol": 0, "package": 1, "unknown": 2, "module": 3}


def findings(facts) -> list | None:
    """A binary's findings, one per (entry, module): of a universal binary's
    slices, the most telling level (symbol, package, unknown, module) wins.
    None when no unit was checked."""
    units = [u.vulns for u in facts.units if u.vulns is not None]
    if not units:
        return None
    best: dict = {}
    for v in units:
        for f in v.findings:
            key = (f.id, f.module)
            if key not in best or _RANK[f.level] < _RANK[best[key].level]:
                best[key] = f
    return [best[k] for k in sorted(best)]


def inventory(records, roots: list[str] | None = None, vulndb: dict | None = None) -> Inventory:
    """The SBOM's content from scan records gathered with the SBOM facts
    (facts.SBOM, and VULNS with --vulns): Go files only; other files and
    errors are left out. `roots`: the paths scanned; `vulndb`: the database
    the findings come from."""
    inv = Inventory(roots, vulndb)
    for facts in records:
        if is_subject(facts, inv.roots):
            inv.package = facts.archive.package
        b = binary(inv, facts)
        if b is not None:
            inv.binaries.append(b)
    inv.binaries.sort(key=lambda b: b.path)
    _recovered_properties(inv)
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
    return __version__


def alias_source(alias: str) -> tuple[str, str] | None:
    """(who describes an alias of an entry, where): NVD for a CVE, GitHub for a GHSA."""
    if alias.startswith("CVE-"):
        return "NVD", "https://nvd.nist.gov/vuln/detail/" + alias
    if alias.startswith("GHSA-"):
        return "GitHub Advisories", "https://github.com/advisories/" + alias
    return None


def vuln_detail(f) -> str:
    """What a finding's level rests on, in words (the SBOMs' analysis detail)."""
    from .vulns import MEANING, symbol_words  # plain text: no heavy import
    what = symbol_words(f)
    found = f" ({what})" if what != "-" else ""
    return f"{f.level} level: {MEANING[f.level]}{found}; {f.module} {f.version}" + (
        f", fixed in {f.fixed}" if f.fixed else ", no fixed version")


__all__ = ["inventory", "binary", "properties", "findings", "Identity", "Inventory", "golang_purl", "alias_source",
           "vuln_detail"]
