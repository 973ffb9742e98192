"""Verdicts a user can trust: no false `modified` for Go code another linker
finished, no changed byte explained away as stripping or signing, a status of
its own (and an exit status apart from errors) for an ID that cannot be checked.

Real files throughout: c-archives linked by gcc at test time, the gojsonnet
extension from PyPI, binaries stripped and signed by the real tools, Go's own
signed macOS binary and a Debian package's binary."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest

import buildidtool
import registry
from buildidtool.formats import Source, image, locate
from helpers import run, scan_one
from test_modification import need, resign_foreign, sign, test_certificate  # noqa: F401 (a fixture)

LIB = '''package main

import "C"
import "fmt"

//export Hello
func Hello() { fmt.Println("hello from go") }

func main() {}
'''
PROGRAM = '#include "lib.h"\nint main(void) { Hello(); return 0; }\n'
# gojsonnet's wheel for CPython 3.11 on Linux: its extension is Go built as a c-archive.
GOJSONNET = ("gojsonnet", "0.22.0", "manylinux2014_x86_64", "3.11", "_gojsonnet.cpython-311-x86_64-linux-gnu.so")


def zero_build_info(path) -> None:
    """Take the build info away as some release pipelines do: the blob's header zeroed."""
    data = bytearray(path.read_bytes())
    at = data.find(b"\xff Go buildinf:")
    assert at >= 0
    data[at:at + 32] = bytes(32)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def c_archive(samples, tmp_path_factory):
    """A Go c-archive, and gcc's program and shared library linked from it."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed (.ci/run installs it from Debian)")
    d = tmp_path_factory.mktemp("carchive")
    src = d / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/carchive\n\ngo 1.22\n")
    (src / "lib.go").write_text(LIB)
    env = {**os.environ, "CGO_ENABLED": "1", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    subprocess.run([samples.go, "build", "-buildmode=c-archive", "-o", str(d / "lib.a"), "."], cwd=src, env=env,
                   check=True, capture_output=True, timeout=600)
    (d / "main.c").write_text(PROGRAM)
    subprocess.run([gcc, "-o", str(d / "prog"), str(d / "main.c"), f"-I{d}", str(d / "lib.a"), "-lpthread"],
                   check=True, capture_output=True, timeout=300)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(d / "libgo.so"), "-Wl,--whole-archive", str(d / "lib.a"),
                    "-Wl,--no-whole-archive", "-lpthread"], check=True, capture_output=True, timeout=300)
    return d


# --- Go code another linker finished ---------------------------------------

@pytest.mark.parametrize("name", ["prog", "libgo.so"])
def test_a_c_archive_linked_by_gcc_cannot_be_checked(c_archive, name):
    f = c_archive / name
    v = buildidtool.verify(str(f))
    assert v.status == "unverifiable" and v.modification is None, v.reason
    assert "-buildmode=c-archive and linked by another linker" in v.reason
    r = run("verify", f)
    assert r.returncode == 3 and b": unverifiable (built with -buildmode=c-archive" in r.stdout
    # info does not call gcc's host build ID a Go one that failed to derive.
    info = buildidtool.inspect(str(f))
    assert info.host_build_id.status == "not-applicable" and "c-archive" in info.host_build_id.reason


def test_without_build_info_the_shape_tells_a_foreign_link(c_archive, tmp_path):
    """The Go runtime started as a library, and a host build ID the Go 1.24+
    linker would have derived, but did not."""
    f = tmp_path / "prog"
    shutil.copyfile(c_archive / "prog", f)
    zero_build_info(f)
    assert buildidtool.read_build_info(str(f)) is None
    v = buildidtool.verify(str(f))
    assert v.status == "unverifiable" and "linked by another linker" in v.reason, v.reason


def test_go_linked_c_shared_still_verifies_and_tampering_still_shows(samples, tmp_path):
    """The controls: Go's own c-shared link is checked as usual; a changed byte
    in it is `modified`, with or without build info (Go 1.24+ derived its host
    build ID, so the shape never says foreign link)."""
    so = samples.path("cshared-linux-amd64.so")
    assert buildidtool.verify(str(so)).status == "ok"
    f = tmp_path / "tampered.so"
    f.write_bytes(so.read_bytes())
    flip_in_text(f)
    assert buildidtool.verify(str(f)).status == "modified"
    zero_build_info(f)
    assert buildidtool.verify(str(f)).status == "modified"


def test_scan_counts_what_could_not_be_checked(c_archive, samples, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(c_archive / "prog", tree / "prog")
    shutil.copyfile(samples.path("hello-linux-amd64"), tree / "hello")
    shutil.copyfile(samples.path("hello-linux-amd64-custombuildid"), tree / "custom")
    (tree / "notes.txt").write_text("not Go\n")
    r = run("scan", "--verify", tree)
    assert r.returncode == 0
    rows = {os.path.basename(line.split("\t")[0]): line.split("\t") for line in r.stdout.decode().splitlines()}
    assert rows["prog"][5] == "unverifiable" and rows["custom"][5] == "unverifiable"
    assert rows["hello"][5] == "ok"
    assert b"3 Go files" in r.stderr and b"0 modified, 2 could not be checked" in r.stderr
    # The SBOM says the same.
    doc = json.loads(run("scan", "--verify", "--format", "cyclonedx-json", tree).stdout)
    props = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])} for c in doc["components"]}
    assert props[str(tree / "prog")]["buildid:verify.status"] == "unverifiable"


def test_real_c_archive_extension_from_pypi(tmp_path):
    """gojsonnet's Python extension: Go code built as a c-archive, linked into
    a shared library by the wheel's build."""
    so = registry.pypi_member(GOJSONNET)
    v = buildidtool.verify(str(so))
    assert v.status == "unverifiable" and "c-archive" in v.reason, v.reason
    assert run("verify", so).returncode == 3


# --- IDs that cannot be checked ---------------------------------------------

def test_an_id_set_by_hand_is_unverifiable_with_its_reason(samples):
    v = buildidtool.verify(str(samples.path("hello-linux-amd64-custombuildid")))
    assert v.status == "unverifiable" and "set by hand with -ldflags=-buildid" in v.reason
    # No content ID to compare; what the bytes hash to is still said.
    assert v.stored_content_id is None and v.computed_content_id is not None


# --- one changed byte is never explained away -------------------------------

def text_section(path) -> tuple[int, int]:
    with open(path, "rb") as fh:
        src = Source.of_file(fh.fileno())
        found = locate(src)
        img = image(src, found.format)
        for name in (".text", "__text"):
            s = img.section(name)
            if s is not None:
                return s.offset, s.size
    raise AssertionError(f"no text section in {path}")


def flip_in_text(path) -> int:
    offset, size = text_section(path)
    at = offset + size // 2
    data = bytearray(path.read_bytes())
    data[at] ^= 0x5A
    path.write_bytes(bytes(data))
    return at


def _strip(f, _):
    need("strip")
    subprocess.run(["strip", str(f)], check=True)


def _strip_debug(f, _):
    need("objcopy")
    subprocess.run(["objcopy", "--strip-debug", str(f)], check=True)


def _no_build_info(f, _):
    need("objcopy")
    subprocess.run(["objcopy", "--remove-section", ".go.buildinfo", str(f)], check=True)


def _debian_style(f, tmp_path):
    need("strip", "objcopy")
    dbg = tmp_path / "x.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(f), str(dbg)], check=True)
    subprocess.run(["strip", "--remove-section=.comment", "--remove-section=.note", str(f)], check=True)
    subprocess.run(["objcopy", f"--add-gnu-debuglink={dbg}", str(f)], check=True, cwd=tmp_path)


def _strip_pe(f, _):
    need("strip")
    if subprocess.run(["strip", str(f)], capture_output=True).returncode != 0:
        pytest.skip("this binutils strip does not handle PE")


def _appended(f, _):
    with open(f, "ab") as out:
        out.write(b"appended after link")


def _resigned(f, _):
    resign_foreign(f)


CHANGES = [
    ("hello-linux-amd64", _strip, "stripped"),
    ("hello-linux-amd64-trimpath", _strip, "stripped"),
    ("hello-linux-amd64", _strip_debug, "stripped"),
    ("hello-linux-amd64", _no_build_info, "stripped"),
    ("hello-linux-amd64-trimpath", _debian_style, "stripped"),
    ("hello-linux-amd64-pie", _strip, "stripped"),
    ("hello-windows-amd64.exe", _strip_pe, "stripped"),
    ("hello-linux-amd64", _appended, "appended"),
    ("hello-darwin-arm64", _resigned, "signed"),
]


@pytest.mark.parametrize("name,change,kind", CHANGES,
                         ids=[f"{n}-{c.__name__.strip('_')}" for n, c, _ in CHANGES])
def test_a_changed_byte_is_never_explained_away(tmp_copy, tmp_path, name, change, kind):
    f = tmp_copy(name)
    change(f, tmp_path)
    before = buildidtool.verify(str(f))
    assert kind in [m.kind for m in before.modification], before.modification
    flip_in_text(f)
    v = buildidtool.verify(str(f))
    assert v.status == "modified"
    assert "unexplained" in [m.kind for m in v.modification], v.modification
    assert not any(m.proven for m in v.modification), v.modification


def test_a_changed_byte_in_an_authenticode_signed_binary(tmp_copy, tmp_path, test_certificate):  # noqa: F811
    signed = tmp_path / "signed.exe"
    sign(test_certificate, tmp_copy("hello-windows-amd64.exe"), signed)
    flip_in_text(signed)
    v = buildidtool.verify(str(signed))
    assert [(m.kind, m.proven) for m in v.modification] == [("signed", False), ("unexplained", False)]


@pytest.mark.parametrize("fetch", [registry.debian_go_binary, registry.go_darwin, registry.tsgo_exe],
                         ids=["debian-fzf", "go-darwin-signed", "tsgo-authenticode"])
def test_a_changed_byte_in_a_real_release_binary(tmp_path, fetch):
    """Real stripped and signed releases: their untouched verdict stands, and
    one changed byte inside their code is never explained away."""
    src = fetch()
    f = tmp_path / src.name
    shutil.copyfile(src, f)
    assert buildidtool.verify(str(f)).status == "modified"
    flip_in_text(f)
    v = buildidtool.verify(str(f))
    assert "unexplained" in [m.kind for m in v.modification] and not any(m.proven for m in v.modification)


def test_stripping_alone_is_never_the_whole_story_of_an_elf(tmp_copy):
    """Nothing restores what strip removed, so `stripped` comes with what it
    cannot check: the same verdict as a stripped file with a changed byte."""
    f = tmp_copy("hello-linux-amd64")
    _strip(f, None)
    v = buildidtool.verify(str(f))
    assert [m.kind for m in v.modification] == ["stripped", "unexplained"]
    assert "cannot be restored" in v.modification[1].detail
    assert "stripped after link (evidence: " in run("verify", f).stdout.decode()


# --- appended data on XCOFF -------------------------------------------------

@pytest.mark.parametrize("flags", ["", "-s -w"])
def test_appended_data_is_proven_on_xcoff(samples, tmp_path, flags):
    """Go's linker writes the symbol and string tables even with -s, and then
    leaves them out of the XCOFF header: the image's end is where they end."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/aix\n\ngo 1.22\n")
    (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n')
    out = tmp_path / "hello-aix"
    env = {**os.environ, "GOOS": "aix", "GOARCH": "ppc64", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
    subprocess.run([samples.go, "build", "-trimpath", f"-ldflags={flags}", "-o", str(out), "."], cwd=src, env=env,
                   check=True, capture_output=True, timeout=600)
    assert buildidtool.verify(str(out)).status == "ok"
    _appended(out, None)
    v = buildidtool.verify(str(out))
    assert [(m.kind, m.proven) for m in v.modification] == [("appended", True)], v.modification
    assert scan_one(out, verify=True).status == "modified"
