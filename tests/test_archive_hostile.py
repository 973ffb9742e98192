"""Hostile archives: each gives records and, where it is broken or passes a
limit, one error on the archive's record that names the problem; members read
before the problem stay; nothing is followed, extracted or allowed to run long."""
from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from buildidtool.archives.limits import Limits
from buildidtool.archives.expand import ARCHIVE, LINK, MEMBER, expand

MiB = 1 << 20


def items(path: Path, limits: Limits | None = None) -> list:
    fd = os.open(path, os.O_RDONLY)
    try:
        return [(it.kind, it.name.split("!/", 1)[-1] if "!/" in it.name else "", it.error, list(it.notes),
                 it.link, it.fd is not None) for it in expand(str(path), fd, limits or Limits())]
    finally:
        os.close(fd)


def _tar(path: Path, members: list, mode="w") -> Path:
    with tarfile.open(path, mode) as t:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                t.addfile(m)
            else:
                name, data = m
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return path


def test_zip_bomb_ratio_and_size(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("zeros", "w", force_zip64=True) as f:
            for _ in range(200):
                f.write(bytes(MiB))
    out = items(z)
    assert out[-1][0] == ARCHIVE and "exceeds --max-ratio 250" in out[-1][2]
    out = items(z, Limits(max_member_size=100 * MiB, max_ratio=1e9))
    assert "exceeds --max-member-size 100 MiB" in out[-1][2]


def test_gzip_tar_bomb_stops_at_total_size(tmp_path):
    p = tmp_path / "bomb.tar.gz"
    with gzip.open(p, "wb", compresslevel=9) as g:
        with tarfile.open(fileobj=g, mode="w|") as t:
            ti = tarfile.TarInfo("zeros")
            ti.size = 300 * MiB
            t.addfile(ti, io.BytesIO(bytes(300 * MiB)))
    out = items(p, Limits(max_total_size=64 * MiB, max_ratio=1e9))
    assert "uncompressed data exceeds --max-total-size 64 MiB" in out[-1][2]
    out = items(p)
    assert "exceeds --max-ratio 250" in out[-1][2]


def test_member_count(tmp_path):
    p = _tar(tmp_path / "many.tar", [(f"f{i}", b"x") for i in range(50)])
    out = items(p, Limits(max_members=10))
    assert sum(1 for o in out if o[0] == MEMBER) == 10
    assert out[-1][2] == "member count exceeds --max-members 10"


def test_unsafe_names_are_shown_not_used(tmp_path, samples):
    exe = samples.path("hello-linux-amd64").read_bytes()
    p = _tar(tmp_path / "names.tar", [("../../etc/evil", exe), ("/abs/path", b"x"), ("ctl\x01\x7fname", b"x"),
                                      ("a!/b", b"x"), ("./dup", b"1"), ("dup", b"2")])
    out = {o[1]: o for o in items(p) if o[0] == MEMBER}
    assert out["../../etc/evil"][3] == ["name has '..' components"] and out["../../etc/evil"][5]
    assert out["abs/path"][3] == ["absolute name"]
    assert out["ctl\x01\x7fname"][3] == ["name has control characters"]
    assert "a!%2Fb" in out and "escaped" in out["a!%2Fb"][3][0]
    dups = [o for o in items(p) if o[1] == "dup"]
    assert [d[3] for d in dups] == [[], ["duplicate name"]]
    assert not (tmp_path.parent / "etc").exists()


def test_links_are_reported_never_followed(tmp_path):
    sym = tarfile.TarInfo("bin/sh")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("bin/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../outside"
    p = _tar(tmp_path / "links.tar", [sym, hard])
    out = items(p)
    assert [(o[1], o[4]) for o in out if o[0] == LINK] == [("bin/sh", "symlink to /etc/passwd"),
                                                           ("bin/hard", "hardlink to ../../outside")]


@pytest.mark.parametrize("flags", ["-cf", "-czf"])
def test_sparse_member(tmp_path, samples, flags):
    tar = shutil.which("tar")
    if tar is None:
        pytest.skip("GNU tar is not installed")
    src = tmp_path / "src"
    src.mkdir()
    f = src / "sparse.bin"
    exe = samples.path("hello-linux-amd64").read_bytes()
    with open(f, "wb") as out:
        out.write(exe)
        out.truncate(len(exe) + 64 * MiB)
    p = tmp_path / "sparse.tar"
    subprocess.run([tar, "--sparse", flags, str(p), "-C", str(src), "sparse.bin"], check=True)
    out = items(p)
    assert out[0][:2] == (MEMBER, "sparse.bin") and "sparse member" in out[0][3] and out[0][5]
    assert out[-1][2] is None


def test_zip_local_and_central_names_differ(tmp_path):
    z = tmp_path / "mismatch.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("good", b"fine")
        zf.writestr("bin/tool", b"\x7fELF" + bytes(100))
    data = bytearray(z.read_bytes())
    at = data.index(b"bin/tool")  # the local header's name comes first
    data[at:at + 8] = b"bin/evil"
    z.write_bytes(bytes(data))
    out = items(z)
    assert [o[1] for o in out if o[0] == MEMBER] == ["good"]
    assert "differ" in out[-1][2]


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_truncated_stream_keeps_earlier_members(tmp_path, samples, mode):
    exe = samples.path("hello-linux-amd64").read_bytes()
    # incompressible followers, so that the cut lands after the first member in every compression
    p = _tar(tmp_path / "t.tar", [("first", exe), ("second", os.urandom(MiB)), ("third", os.urandom(MiB // 2))],
             mode)
    data = p.read_bytes()
    p.write_bytes(data[:len(data) * 17 // 20])  # inside the random members, past the whole first one
    out = items(p)
    assert out[0][:2] == (MEMBER, "first") and out[0][5]
    assert out[-1][0] == ARCHIVE and out[-1][2], out[-1]
    assert "truncated" in out[-1][2] or "unexpected end" in out[-1][2], out[-1][2]


def test_corrupt_compressed_stream(tmp_path):
    p = tmp_path / "c.tar.gz"
    _tar(p, [("a", os.urandom(200_000)), ("b", b"x" * 200_000)], "w:gz")
    data = bytearray(p.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    p.write_bytes(bytes(data))
    out = items(p)
    assert out[-1][0] == ARCHIVE and out[-1][2]


def test_nesting_bomb(tmp_path):
    """A zip of zips of zips: depth stops it, whatever the fan-out."""
    inner = b"x"
    for level in range(8):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for k in range(4):
                zf.writestr(f"l{level}-{k}.zip" if level else f"f{k}", inner)
        inner = buf.getvalue()
    p = tmp_path / "nest.zip"
    p.write_bytes(inner)
    out = items(p)
    assert len(out) < 400
    assert any(o[2] and "--max-depth 4" in o[2] for o in out if o[0] == ARCHIVE)


def test_tar_with_a_manifest_json_that_is_no_image(tmp_path, samples):
    """A web app's tarball may hold manifest.json: without an image in it, the tar reads as a tar."""
    exe = samples.path("hello-linux-amd64").read_bytes()
    p = _tar(tmp_path / "app.tar", [("manifest.json", b'{"name": "app", "icons": []}'), ("bin/app", exe)])
    out = items(p)
    assert [o[1] for o in out if o[0] == MEMBER] == ["manifest.json", "bin/app"]
    assert out[-1][2] is None


def test_image_with_a_missing_layer(tmp_path):
    p = _tar(tmp_path / "img.tar", [("manifest.json", b'[{"Config": "c.json", "Layers": ["nope/layer.tar"]}]'),
                                    ("c.json", b"{}")])
    out = items(p)
    assert out[-1][0] == ARCHIVE and "missing" in out[-1][2]


def test_encrypted_zip_member(tmp_path, samples):
    zip_tool = shutil.which("zip")
    if zip_tool is None:
        pytest.skip("zip is not installed")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(samples.path("hello-linux-amd64"), src / "secret")
    shutil.copyfile(samples.path("hello-linux-amd64"), src / "open")
    z = tmp_path / "mixed.zip"
    subprocess.run([zip_tool, "-q", "-P", "pw", str(z), "secret"], cwd=src, check=True)
    subprocess.run([zip_tool, "-q", str(z), "open"], cwd=src, check=True)
    fd = os.open(z, os.O_RDONLY)
    try:
        got = {it.name.split("!/")[1]: it for it in expand(str(z), fd, Limits()) if "!/" in it.name}
    finally:
        os.close(fd)
    assert got["secret"].error == "encrypted member: not read" and got["secret"].fd is None
    assert got["open"].error is None
    proc = subprocess.run([sys.executable, "-m", "buildidtool", "read", f"{z}!/secret"], capture_output=True)
    assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1 and b"encrypted" in proc.stderr


def test_zip_member_count_checked_before_the_directory_is_loaded(tmp_path):
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for i in range(300):
            zf.writestr(f"f{i}", b"")
    out = items(z, Limits(max_members=100))
    assert [o for o in out if o[0] == MEMBER] == []  # refused up front, from the end record
    assert out[-1][2] == "member count 300 exceeds --max-members 100"


@pytest.mark.parametrize("index", [
    b'{"manifests": [{"digest": 5}]}', b'{"manifests": [7]}', b'{"manifests": {}}', b'[]',
    b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'"}]}'])
def test_oci_index_of_the_wrong_shape(tmp_path, index):
    blob = b'{"config": [], "layers": [3, {"digest": null}], "annotations": 1}'
    p = _tar(tmp_path / "oci.tar", [("oci-layout", b"{}"), ("index.json", index),
                                    ("blobs/sha256/" + "a" * 64, blob)])
    out = items(p)
    assert out[-1][0] == ARCHIVE and (out[-1][2] is None or "\n" not in out[-1][2])
