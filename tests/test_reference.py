"""Differential tests: our Go-compatible form against the reference `go tool buildid`
(built from the same toolchain) on every sample, pristine and tampered."""
from __future__ import annotations

import shutil
import subprocess

import pytest

import buildidtool

from helpers import fat_slices, flip_byte, run


def test_read_matches_reference_on_every_sample(samples):
    assert len(samples.entries) >= 30
    for e in samples.entries:
        path = samples.path(e["name"])
        ref = samples.run_reference(path)
        ours = run(path)
        assert (ours.returncode, ours.stdout) == (ref.returncode, ref.stdout), e["name"]


def _tamper(path, how: str) -> bool:
    if how == "flip":
        flip_byte(path)
    elif how == "append":
        with open(path, "ab") as f:
            f.write(bytes(range(256)) * 4)
    elif how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif how == "strip":
        if not shutil.which("strip"):
            return False
        return subprocess.run(["strip", str(path)], capture_output=True).returncode == 0
    return True


TAMPERS = ["pristine", "flip", "append", "truncate", "strip"]


@pytest.mark.parametrize("how", TAMPERS)
def test_rewrite_matches_reference_byte_for_byte(samples, tmp_path, how):
    checked = 0
    for e in samples.entries:
        if e["format"] == "macho-fat" or (how == "strip" and e["format"] != "elf"):
            continue
        src = samples.path(e["name"])
        ref_file, our_file = tmp_path / "ref", tmp_path / "ours"
        shutil.copyfile(src, ref_file)
        if not _tamper(ref_file, how):
            continue
        shutil.copyfile(ref_file, our_file)
        ref = samples.run_reference("-w", ref_file)
        ours = run("-w", our_file)
        assert ours.returncode == ref.returncode, (e["name"], ref.stderr, ours.stderr)
        assert ref_file.read_bytes() == our_file.read_bytes(), e["name"]
        if ref.returncode:
            assert ours.stderr.startswith(b"buildid: ") and ours.stderr.count(b"\n") == 1
            # Go's own words where Go fails before parsing (no ID: no file named), else ours naming the file
            assert ours.stderr == ref.stderr or str(our_file).encode() in ours.stderr
        checked += 1
    assert checked >= (8 if how == "strip" else 30)


@pytest.mark.parametrize("name", ["hello-darwin-universal", "hello-darwin-universal64"])
@pytest.mark.parametrize("how", ["pristine", "flip"])
def test_universal_rewrite_stamps_each_slice_as_standalone(samples, tmp_path, name, how):
    fat = tmp_path / "fat"
    shutil.copyfile(samples.path(name), fat)
    original = fat.read_bytes()
    slices = fat_slices(original)
    if how == "flip":  # damage the middle of every slice
        data = bytearray(original)
        for off, size in slices:
            data[off + size // 2] ^= 0x5A
        fat.write_bytes(bytes(data))
        original = bytes(data)
    ours = run("-w", fat)
    assert ours.returncode == 0, ours.stderr
    after = fat.read_bytes()
    assert len(after) == len(original)
    covered = bytearray(len(after))
    for i, (off, size) in enumerate(slices):
        alone = tmp_path / f"slice{i}"
        alone.write_bytes(original[off:off + size])
        ref = samples.run_reference("-w", alone)
        assert ref.returncode == 0, ref.stderr
        assert after[off:off + size] == alone.read_bytes()
        covered[off:off + size] = b"\1" * size
        # and the slice now verifies on its own, by the reference's own standard
        again = tmp_path / f"again{i}"
        again.write_bytes(after[off:off + size])
        before = again.read_bytes()
        assert samples.run_reference("-w", again).returncode == 0
        assert again.read_bytes() == before
    assert all(a == b for a, b, c in zip(after, original, covered) if not c)


def test_universal_read_lists_every_slice(samples, tmp_path):
    fat = samples.path("hello-darwin-universal")
    data = fat.read_bytes()
    out = run("read", fat)
    assert out.returncode == 0
    lines = out.stdout.decode().splitlines()
    assert len(lines) == 2
    for line, (off, size) in zip(lines, fat_slices(data)):
        alone = tmp_path / "slice"
        alone.write_bytes(data[off:off + size])
        ref_id = samples.run_reference(alone).stdout.decode().strip()
        assert line.startswith(f"{fat} [")
        assert line.endswith(f"]: {ref_id}")
    assert {l.split("[")[1].split("]")[0] for l in lines} == {"amd64", "arm64"}


def test_refusals_match_reference(samples, tmp_path):
    for name in ["hello-linux-amd64-custombuildid", "hello-linux-amd64-nobuildid"]:
        f = tmp_path / name
        shutil.copyfile(samples.path(name), f)
        before = f.read_bytes()
        ref = samples.run_reference("-w", f)
        ours = run("-w", f)
        assert ref.returncode == ours.returncode == 1
        assert f.read_bytes() == before
        assert ours.stderr.count(b"\n") == 1 and (ours.stderr == ref.stderr or str(f).encode() in ours.stderr)


@pytest.mark.parametrize("into", [0, 0.5, -1])
def test_rewrite_of_a_file_cut_inside_its_signature_matches_reference(samples, tmp_path, into):
    """Go re-signs a Go-sized signature even when the file ends inside it, writing
    the whole new signature and so lengthening the file: -w does the same."""
    src = samples.path("hello-darwin-arm64")  # Go signs darwin/arm64 executables
    sig = buildidtool.read(str(src)).code_signature
    offset, size = sig.offset, sig.size
    cut = offset + (int(size * into) if into != -1 else size - 1)
    ref_file, our_file = tmp_path / "ref", tmp_path / "ours"
    ref_file.write_bytes(src.read_bytes()[:cut])
    # flip a byte of the code so the content ID changes too
    data = bytearray(ref_file.read_bytes())
    data[offset // 2] ^= 0x01
    ref_file.write_bytes(bytes(data))
    shutil.copyfile(ref_file, our_file)
    ref = samples.run_reference("-w", ref_file)
    ours = run("-w", our_file)
    assert ours.returncode == ref.returncode == 0, (ref.stderr, ours.stderr)
    assert ref_file.stat().st_size == offset + size  # Go lengthened the file
    assert our_file.read_bytes() == ref_file.read_bytes()
