"""buildid diff A B: the same build modulo build IDs?"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

import buildidtool.ops.diff as diffing
from helpers import fat_slices, flip_byte, run

REPO = Path(__file__).resolve().parent.parent


def go_build(samples, workdir: Path, out: Path, *flags: str) -> Path:
    """Build samples/src/hello in `workdir` (a copy of samples/src) for linux/amd64."""
    if not workdir.exists():
        shutil.copytree(REPO / "samples" / "src", workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOTOOLCHAIN="local", GOENV="off", GOPROXY="off", GOFLAGS="-mod=mod -buildvcs=false",
               GOOS="linux", GOARCH="amd64", CGO_ENABLED="0", GOWORK="off", GOTELEMETRY="off")
    for k in ("GOCACHE", "GOMODCACHE", "GOPATH"):
        if k in os.environ:
            env[k] = os.environ[k]
    subprocess.run([samples.go, "build", *flags, "-o", str(out), "./hello"], cwd=workdir, env=env,
                   check=True, capture_output=True)
    return out


def section_of(path: Path, offset: int) -> str:
    """The section holding a file offset, by pyelftools (independent of formats/)."""
    with open(path, "rb") as fh:
        for s in ELFFile(fh).iter_sections():
            if s["sh_type"] != "SHT_NOBITS" and s["sh_offset"] <= offset < s["sh_offset"] + s["sh_size"]:
                return s.name
    raise AssertionError(f"no section holds {offset:#x}")


def test_identical_files(samples):
    f = samples.path("hello-linux-amd64")
    r = run("diff", f, f)
    assert r.returncode == 0
    assert r.stdout.decode().splitlines()[0] == f"{f} vs {f}: same content modulo build IDs"


def test_rebuild_in_another_directory(samples, tmp_path):
    a = go_build(samples, tmp_path / "one", tmp_path / "a", "-trimpath")
    b = go_build(samples, tmp_path / "two" / "deeper", tmp_path / "b", "-trimpath")
    r = run("diff", a, b)
    assert r.returncode == 0, r.stdout
    # Without -trimpath the directories are recorded: different, in named sections.
    a2 = go_build(samples, tmp_path / "one", tmp_path / "a2")
    b2 = go_build(samples, tmp_path / "two" / "deeper", tmp_path / "b2")
    d = diffing.diff(str(a2), str(b2))
    assert not d.same
    (u,) = d.units
    assert u.range_count >= 1 and u.differing_bytes > 0 and u.ranges
    # Every differing byte is attributed to a region; the recorded paths land in
    # the line tables and the DWARF, and every listed range has a name.
    assert sum(u.by_region.values()) == u.differing_bytes
    assert {".gopclntab", ".debug_line", ".debug_info"} <= set(u.by_region), u.by_region
    assert all(rng.where for rng in u.ranges)
    inside = [rng for rng in u.ranges if rng.where[0].startswith(".")]
    assert inside and all(section_of(a2, rng.offset) == rng.where[0] for rng in inside)
    assert run("diff", a2, b2).returncode == 1


def test_flipped_byte_is_one_range_in_the_right_section(samples, tmp_copy):
    a = samples.path("hello-linux-amd64")
    b = tmp_copy("hello-linux-amd64")
    at = flip_byte(b)
    d = diffing.diff(str(a), str(b))
    assert not d.same
    (u,) = d.units
    assert u.parts == {"action": "equal", "main_action": "equal", "main_content": "equal", "content": "equal"}
    assert u.range_count == 1 and u.differing_bytes == 1
    assert (u.ranges[0].offset, u.ranges[0].size) == (at, 1)
    assert u.ranges[0].where == [section_of(a, at)]
    r = run("diff", "--json", a, b)
    assert r.returncode == 1
    j = json.loads(r.stdout)
    assert j["same"] is False and j["units"][0]["ranges"][0]["offset"] == at


def test_same_build_with_another_build_id_of_the_same_length(samples, tmp_path):
    id_a = "/".join(c * 20 for c in "abcd")
    id_b = "/".join(c * 20 for c in "abcx")
    a = go_build(samples, tmp_path / "src", tmp_path / "a", "-trimpath", f"-ldflags=-buildid={id_a}")
    b = go_build(samples, tmp_path / "src", tmp_path / "b", "-trimpath", f"-ldflags=-buildid={id_b}")
    assert a.read_bytes() != b.read_bytes()
    d = diffing.diff(str(a), str(b))
    assert d.same
    assert d.units[0].parts == {"action": "equal", "main_action": "equal", "main_content": "equal",
                                "content": "different"}
    r = run("diff", a, b)
    assert r.returncode == 0 and b"content different" in r.stdout


def test_thin_against_universal(samples, tmp_path):
    thin, fat = samples.path("hello-darwin-arm64"), samples.path("hello-darwin-universal")
    d = diffing.diff(str(thin), str(fat))
    assert d.same and [u.arch for u in d.units] == ["arm64"]
    assert d.units[0].offsets[1] in [off for off, _ in fat_slices(fat.read_bytes())]
    assert run("diff", thin, fat).returncode == 0
    assert run("diff", samples.path("hello-darwin-amd64"), fat).returncode == 0


def test_universal_slices_are_compared_by_arch(samples, tmp_copy):
    a = samples.path("hello-darwin-universal")
    b = tmp_copy("hello-darwin-universal")
    off, _ = fat_slices(a.read_bytes())[1]  # amd64 first, then arm64
    flip_byte(b, off + 0x2000)  # in the arm64 slice's __text
    d = diffing.diff(str(a), str(b))
    assert [(u.arch, u.same_content) for u in d.units] == [("amd64", True), ("arm64", False)]
    (rng,) = d.units[1].ranges
    assert rng.offset == 0x2000 and rng.where == ["__TEXT,__text"]
    assert b"[arm64]   0x2000-0x2001 (1 byte) __TEXT,__text" in run("diff", a, b).stdout


def test_universal_bytes_after_the_last_slice(samples, tmp_copy):
    """No slice's content ID covers them: two universal files differ there too."""
    a = samples.path("hello-darwin-universal")
    assert diffing.diff(str(a), str(a)).after_slices.to_json() == {"a": 0, "b": 0, "same": True}
    b = tmp_copy("hello-darwin-universal")
    with open(b, "ab") as out:
        out.write(b"payload")
    d = diffing.diff(str(a), str(b))
    assert all(u.same_content for u in d.units) and not d.same
    assert d.to_json()["after_slices"] == {"a": 0, "b": 7, "same": False}
    r = run("diff", a, b)
    assert r.returncode == 1 and b"  after the last slice: 0 vs 7 bytes, different" in r.stdout
    c = tmp_copy("hello-darwin-universal")
    with open(c, "ab") as out:
        out.write(b"paylOad")
    assert diffing.diff(str(b), str(c)).after_slices.to_json() == {"a": 7, "b": 7, "same": False}
    assert run("diff", b, b).returncode == 0


def test_build_info_differences(samples):
    a, b = samples.path("hello-linux-amd64"), samples.path("hello-linux-amd64-trimpath")
    d = diffing.diff(str(a), str(b))
    assert diffing.FieldDiff("setting -trimpath", None, "true") in d.units[0].build_info
    assert {"field": "setting -trimpath", "a": None, "b": "true"} in d.to_json()["units"][0]["build_info"]


def test_diff_text_reads_as_prose(samples, tmp_path):
    """Build-info differences come before the byte ranges, a value one file
    lacks reads `absent` (never Python's None), and --short leaves the ranges out."""
    a, b = samples.path("hello-linux-amd64"), samples.path("hello-linux-amd64-trimpath")
    lines = run("diff", a, b).stdout.decode().splitlines()
    assert "  build info setting -trimpath: absent vs true" in lines
    assert "None" not in "\n".join(lines)
    first_range = next(i for i, line in enumerate(lines) if line.startswith("    0x"))
    assert max(i for i, line in enumerate(lines) if "build info" in line) < first_range
    short = run("diff", "--short", a, b)
    assert short.returncode == 1
    out = short.stdout.decode().splitlines()
    assert not any(line.startswith("    0x") for line in out) and "  build info setting -trimpath: absent vs true" in out
    assert len(out) < len(lines)


def test_two_architectures_are_said_as_such(samples):
    a, b = samples.path("hello-linux-amd64"), samples.path("hello-linux-arm64")
    d = diffing.diff(str(a), str(b))
    assert d.units[0].archs == ("amd64", "arm64") and not d.units[0].same_arch
    assert d.to_json()["units"][0]["archs"] == {"a": "amd64", "b": "arm64"}
    out = run("diff", "--short", a, b).stdout.decode().splitlines()
    assert out[1] == "  architectures differ: amd64 vs arm64 (builds for two targets never have the same content)"


def test_errors_are_one_line_exit_2(samples, tmp_path):
    a = samples.path("hello-linux-amd64")
    missing = tmp_path / "missing"
    r = run("diff", a, missing)
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.count(b"\n") == 1 and str(missing).encode() in r.stderr
    r = run("diff", a, samples.path("hello-windows-amd64.exe"))
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1
    assert b"is elf" in r.stderr and b"is pe" in r.stderr
    for f in (tmp_path / "empty", tmp_path / "dir", tmp_path / "fifo"):
        if f.name == "empty":
            f.write_bytes(b"")
        elif f.name == "dir":
            f.mkdir()
        else:
            os.mkfifo(f)
        for args in ((a, f), (f, a)):
            r = run("diff", *args, timeout=20)
            assert r.returncode == 2 and r.stdout == b"" and r.stderr.count(b"\n") == 1, (f, r.stderr)
            assert r.stderr.startswith(b"buildid: " + str(f).encode() + b": "), r.stderr  # names the odd one
    r = run("diff", samples.path("hello-darwin-amd64"), samples.path("hello-darwin-arm64"))
    assert r.returncode == 1  # thin files of two archs compare, and differ
    r = run("diff", a)
    assert r.returncode == 2  # usage


def test_files_without_build_ids_compare_byte_for_byte(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"same start, then A")
    b.write_bytes(b"same start, then B")
    r = run("diff", a, b)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert lines[1] == "  build ID: build_id absent"
    assert lines[-1] == "    0x11-0x12 (1 byte)"  # no section to name it by


def test_longer_file_tail_is_a_range(samples, tmp_copy):
    a = samples.path("hello-linux-amd64")
    b = tmp_copy("hello-linux-amd64")
    size = b.stat().st_size
    with open(b, "ab") as out:
        out.write(b"x" * 10)
    (u,) = diffing.diff(str(a), str(b)).units
    assert [(r.offset, r.size, r.where) for r in u.ranges] == [(size, 10, ["after the image"])]
    assert u.differing_bytes == 10


@pytest.mark.parametrize("name", ["hello-linux-amd64", "hello-darwin-arm64", "hello-windows-amd64.exe",
                                  "hello-darwin-universal", "hello-wasip1-wasm.wasm", "lib"])
def test_broken_headers_never_escape(samples, tmp_path, name):
    """Header words forced to extreme values, and truncations: diff (and verify's
    explanation) answer or raise BuildIDError, nothing else."""
    import random
    import buildidtool
    from buildidtool.errors import BuildIDError
    a = samples.path(name)
    pristine = a.read_bytes()
    rnd = random.Random(name)
    b = tmp_path / "b"
    for _ in range(12):
        data = bytearray(pristine)
        at = rnd.randrange(0, min(len(data) - 4, 4096)) & ~3
        data[at:at + 4] = rnd.choice([0, 0x7FFFFFFF, 0xFFFFFFFF, 0x10, rnd.getrandbits(32)]).to_bytes(4, "little")
        if rnd.random() < 0.3:
            del data[rnd.randrange(len(data) // 2, len(data)):]
        b.write_bytes(bytes(data))
        try:
            d = diffing.diff(str(a), str(b))
            assert isinstance(d.same, bool)
        except BuildIDError:
            pass
        v = buildidtool.verify(str(b))
        assert v.status != "modified" or v.modification or all(s.modification for s in v.slices
                                                               if s.status == "modified")
