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


# --- Memory and time: every shape read within the documented bound ---------------------------
#
# Each scan runs in a child (`-j 1`: the parent and one worker) under a small
# wrapper whose RUSAGE_CHILDREN gives the largest resident set of any process
# of that scan and the CPU seconds of all of them (pytest's own children, the
# sample builds among them, would otherwise count).

from buildidtool.archives.limits import MAX_GLOBAL_HEADERS, MAX_HEADER, MAX_SPARSE_ENTRIES, READER_MEMORY, \
    WORKER_RSS  # noqa: E402

CPU_SECONDS = 15.0  # per shape; the shapes that once blew up took 10 s to minutes, the rest take under one
_MEASURE = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    p = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.buffer.write(p.stderr)
print(p.returncode, r.ru_maxrss * 1024, r.ru_utime + r.ru_stime)
"""


class Measured:
    def __init__(self, code: int, rss: int, cpu: float, out: Path, stderr: bytes):
        self.code, self.rss, self.cpu, self.out, self.stderr = code, rss, cpu, out, stderr

    def records(self) -> list[dict]:
        import json
        return [json.loads(line) for line in self.out.read_text().splitlines()]

    def archive(self, path: Path) -> dict:
        return next(r for r in self.records() if r["file"] == str(path))

    def within(self, rss: int = WORKER_RSS, cpu: float = CPU_SECONDS) -> None:
        assert self.rss <= rss, f"peak RSS {self.rss >> 20} MiB > {rss >> 20} MiB"
        assert self.cpu <= cpu, f"{self.cpu:.1f} CPU seconds > {cpu}"


def measured_scan(tmp_path: Path, *paths, args=()) -> Measured:
    out = tmp_path / "records.jsonl"
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(out), sys.executable, "-m", "buildidtool", "scan",
                           "--json", "-j", "1", *args, *map(str, paths)], capture_output=True, timeout=600)
    code, rss, cpu = proc.stdout.split()
    return Measured(int(code), int(rss), float(cpu), out, proc.stderr)


def _header(name: str, kind: bytes, size: int, patch: dict | None = None) -> bytes:
    """One 512-byte tar header, with bytes patched in at offsets and the checksum redone."""
    ti = tarfile.TarInfo(name)
    ti.type, ti.size = kind, size
    b = bytearray(ti.tobuf(tarfile.GNU_FORMAT))[:512]
    for at, data in (patch or {}).items():
        b[at:at + len(data)] = data
    b[148:156] = b" " * 8
    b[148:156] = b"%06o\0 " % sum(b)
    return bytes(b)


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def _gz_tar(path: Path, *pieces) -> Path:
    """A tar.gz of raw pieces: bytes, or (byte, count) for a run written in chunks."""
    with gzip.open(path, "wb", compresslevel=1) as g:
        for p in pieces:
            if isinstance(p, tuple):
                chunk, left = p[0] * MiB, p[1]
                while left > 0:
                    g.write(chunk[:min(left, MiB)])
                    left -= MiB
            else:
                g.write(p)
        g.write(bytes(1024))
    return path


def _go_archives(goroot: Path) -> list[Path]:
    """Every file under the Go tree's src that scan opens as an archive."""
    from buildidtool.archives.magic import sniff as detect
    found = []
    for d, _, files in os.walk(goroot / "src"):
        for f in files:
            p = Path(d, f)
            if p.is_file() and not p.is_symlink():
                with open(p, "rb") as fh:
                    if detect(fh.read(32 * 1024)):
                        found.append(p)
    return sorted(found)


def test_go_archive_test_data_within_bounds(samples, tmp_path):
    """Every archive under the Go tree's src (tar, zip, gzip, bzip2, zstd test data,
    gnu-sparse-many-zeros.tar.bz2 with its ten-million-entry sparse map among them) and
    archive/tar's base64-obscured ones decoded: within the memory bound and in
    bounded time, each a record, the ones Go refuses an error that says why."""
    import base64
    goroot = Path(subprocess.run([samples.go, "env", "GOROOT"], capture_output=True, text=True,
                                 check=True).stdout.strip())
    archives = _go_archives(goroot)
    assert len(archives) > 100, archives
    decoded = []
    for p in sorted((goroot / "src/archive/tar/testdata").glob("*.base64")):
        out = tmp_path / p.name.removesuffix(".base64")
        out.write_bytes(base64.b64decode(p.read_bytes()))
        decoded.append(out)
    m = measured_scan(tmp_path, *archives, *decoded, args=["--time-limit", "20"])
    m.within(cpu=60.0)
    recs = {r["file"]: r for r in m.records()}
    for p in archives + decoded:
        assert str(p) in recs, p
    errors = {f: r["error"] for f, r in recs.items() if r["error"]}
    assert not [e for e in errors.values() if "internal error" in e or "time limit" in e or "worker" in e], errors
    sparse = recs[str(goroot / "src/archive/tar/testdata/gnu-sparse-many-zeros.tar.bz2")]
    assert sparse["error"] == (f"GNU sparse map of 10000001 entries exceeds the archive reader's memory bound "
                               f"({MAX_SPARSE_ENTRIES} entries)")
    large = recs[str(goroot / "src/archive/tar/testdata/pax-bad-hdr-large.tar.bz2")]
    assert "pax header of" in large["error"] and "memory bound (1 MiB)" in large["error"]
    assert m.code == 2


def test_pax_header_of_64_mib(tmp_path):
    p = _gz_tar(tmp_path / "pax.tar.gz", _header("././@PaxHeader", tarfile.XHDTYPE, 64 * MiB),
                (b"9 a=bbbb\n", 64 * MiB), _header("file", tarfile.REGTYPE, 0))
    m = measured_scan(tmp_path, p)
    m.within()
    assert m.archive(p)["error"] == "pax header of 67108864 bytes exceeds the archive reader's memory bound (1 MiB)"


def test_gnu_long_name_of_256_mib(tmp_path):
    p = _gz_tar(tmp_path / "long.tar.gz", _header("././@LongLink", tarfile.GNUTYPE_LONGNAME, 256 * MiB),
                (b"a", 256 * MiB), _header("file", tarfile.REGTYPE, 0))
    m = measured_scan(tmp_path, p)
    m.within()
    assert "GNU long name of 268435456 bytes exceeds" in m.archive(p)["error"]


def _pax(key: bytes, value: bytes) -> bytes:
    """One pax record: its length counts its own digits."""
    body = b" %s=%s\n" % (key, value)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return b"%d%s" % (n, body)


def test_headers_that_add_up_past_the_bound(tmp_path):
    """Two pax headers before one member, each under 1 MiB: tarfile holds both at once."""
    body = _pax(b"comment", b"x" * (MAX_HEADER * 3 // 4))
    p = _gz_tar(tmp_path / "two.tar.gz", _header("h1", tarfile.XHDTYPE, len(body)), _padded(body),
                _header("h2", tarfile.XHDTYPE, len(body)), _padded(body), _header("file", tarfile.REGTYPE, 0))
    m = measured_scan(tmp_path, p)
    m.within()
    assert f"after {len(body)} bytes of other headers exceeds" in m.archive(p)["error"]


def test_global_pax_headers_add_up(tmp_path):
    """Global headers are copied into every member's: their sum is bounded, not just each."""
    pieces = []
    for i in range(64):
        body = b"".join(b"%d k%03d%03d=v\n" % (len(b"k000000=v\n") + 3, i, j) for j in range(30))
        pieces += [_header(f"g{i}", tarfile.XGLTYPE, len(body)), _padded(body), _header(f"f{i}", tarfile.REGTYPE, 0)]
    p = _gz_tar(tmp_path / "globals.tar.gz", *pieces)
    m = measured_scan(tmp_path, p)
    m.within()
    err = m.archive(p)["error"]
    assert err.startswith("global pax headers of") and f"({MAX_GLOBAL_HEADERS // 1024} KiB)" in err


def test_old_gnu_sparse_map_of_4096_extension_blocks(tmp_path):
    ext = bytes(504) + b"\x01" + bytes(7)
    p = _gz_tar(tmp_path / "sparse.tar.gz",
                _header("sparse", tarfile.GNUTYPE_SPARSE, 0, {482: b"\x01", 483: b"%011o\0" % 1000}), ext * 4096)
    m = measured_scan(tmp_path, p)
    m.within()
    assert m.archive(p)["error"] == ("GNU sparse map of more than 1 MiB of extension blocks exceeds the archive "
                                     "reader's memory bound (1 MiB)")


def test_gnu_sparse_0_1_map_with_too_many_entries(tmp_path):
    entries = MAX_SPARSE_ENTRIES + 1
    body = _pax(b"GNU.sparse.size", b"1") + _pax(b"GNU.sparse.map", b",".join([b"0"] * (2 * entries)))
    p = _gz_tar(tmp_path / "sparse01.tar.gz", _header("h", tarfile.XHDTYPE, len(body)), _padded(body),
                _header("file", tarfile.REGTYPE, 0))
    m = measured_scan(tmp_path, p)
    m.within()
    assert m.archive(p)["error"] == (f"GNU sparse map of {entries} entries exceeds the archive reader's memory "
                                     f"bound ({MAX_SPARSE_ENTRIES} entries)")


def test_zip_central_directory_past_the_bound(tmp_path):
    """300,000 directory entries (14 MiB, as zipfile would hold them about 170 MiB):
    refused before zipfile reads them."""
    import struct
    n = 300_000
    cd = b"".join(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
                  for _ in range(n))
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(cd), len(local), 0)
    p = tmp_path / "wide.zip"
    p.write_bytes(local + cd + end)
    m = measured_scan(tmp_path, p)
    m.within()
    assert m.archive(p)["error"] == (f"zip central directory of {n} entries ({len(cd)} bytes) exceeds the archive "
                                     f"reader's memory bound ({READER_MEMORY >> 20} MiB)")


def test_an_archive_of_30000_members_streams(tmp_path):
    """Records of one input leave the worker every 512: thirty thousand members take
    no more memory than a few (held whole, they took 50 MiB; now 20)."""
    pieces = [b"".join(_header(f"d/f{i}", tarfile.REGTYPE, 0) for i in range(k, k + 1000))
              for k in range(0, 30_000, 1000)]
    p = _gz_tar(tmp_path / "many.tar.gz", *pieces)
    m = measured_scan(tmp_path, p)
    m.within(rss=40 * MiB, cpu=60.0)
    with open(m.out) as f:
        assert sum(1 for _ in f) == 30_001
    assert m.code == 0


def test_image_metadata_past_the_bound(tmp_path):
    """A 12 MiB manifest.json of empty objects would be 300 MiB parsed: it is not
    parsed, and the tar reads as an ordinary tar."""
    big = b"[" + b"{}," * (4 * MiB) + b"{}]"
    p = _tar(tmp_path / "img.tar", [("manifest.json", big)])
    m = measured_scan(tmp_path, p)
    m.within()
    assert m.archive(p)["format"] == "tar" and m.archive(p)["error"] is None


@pytest.mark.parametrize("tool,args,suffix", [("xz", ["--lzma2=dict=256MiB"], "xz"),
                                              ("zstd", ["-q", "--ultra", "-22", "--long=28"], "zst")])
def test_decompressor_window_past_the_bound(tmp_path, tool, args, suffix):
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed")
    src = _tar(tmp_path / "data.tar", [("data", os.urandom(MiB))])
    p = tmp_path / f"data.tar.{suffix}"
    # from standard input: the size unknown, zstd keeps the window it was asked for
    with open(src, "rb") as data, open(p, "wb") as out:
        subprocess.run([exe, *args, "-c"], stdin=data, stdout=out, check=True)
    src.unlink()
    m = measured_scan(tmp_path, p)
    m.within()
    assert m.archive(p)["error"] == (f"{'xz' if suffix == 'xz' else 'zstd'} stream with a window of 256 MiB "
                                     f"exceeds the archive reader's memory bound (64 MiB)")
