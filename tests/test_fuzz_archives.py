"""Fuzzing the archive readers, as test_fuzz.py fuzzes the binary formats:
small archives of every format we open (each holding a real Go binary's first
bytes, so members get spooled and parsed) mutated by field overwrites, bit
flips, truncations and splices, then scanned with --verify in process and read
by member path.

Properties: no exception escapes (every problem is a record's error or a
BuildIDError with one line); every record has the keys of any record; no
example takes long; Python allocations stay bounded."""
from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tarfile
import time
import tracemalloc
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import buildidtool
from buildidtool.archives.limits import Limits
from buildidtool.facts import SCAN, Facts
from helpers import scan_records

EXAMPLES = int(os.environ.get("BUILDIDTOOL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
SLOW = 3.0  # CPU seconds: a loaded machine stretches wall time; this catches loops and blow-ups
MEMORY = 48 << 20
SPECIAL = [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFF, 0x10]
KEYS = set(Facts("x", asked=SCAN).to_json())
LIMITS = Limits(max_total_size=256 << 20, max_members=2000)


def _tar(files: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        link = tarfile.TarInfo("bin/link")
        link.type, link.linkname = tarfile.SYMTYPE, "tool"
        t.addfile(link)
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _ar(members: list[tuple[str, bytes]]) -> bytes:
    out = [b"!<arch>\n"]
    for name, data in members:
        out.append(f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode())
        out.append(data + (b"\n" if len(data) % 2 else b""))
    return b"".join(out)


def _cpio(files: dict[str, bytes]) -> bytes:
    out = []
    for i, (name, data) in enumerate(list(files.items()) + [("TRAILER!!!", b"")]):
        n = name.encode() + b"\0"
        mode = 0o100755 if data or name != "TRAILER!!!" else 0
        fields = [i + 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0]
        h = b"070701" + b"".join(b"%08X" % f for f in fields)
        out.append(h + n + bytes((-(len(h) + len(n))) % 4) + data + bytes((-len(data)) % 4))
    return b"".join(out)


def _rpm(files: dict[str, bytes]) -> bytes:
    lead = b"\xed\xab\xee\xdb" + bytes(92)
    header = b"\x8e\xad\xe8\x01" + bytes(4) + struct.pack(">II", 0, 0)
    return lead + header + header + gzip.compress(_cpio(files))


def _image(files: dict[str, bytes]) -> bytes:
    layer = _tar(files)
    wh = _tar({".wh.tool": b"", "x/.wh..wh..opq": b""})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("l1/layer.tar", layer), ("l2/layer.tar", wh), ("cfg.json", b'{"rootfs": {}}'),
                           ("manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["a:b"],
                                                          "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def seeds(samples) -> dict[str, bytes]:
    exe = samples.path("hello-linux-amd64").read_bytes()[:40000]  # headers and notes: enough to parse
    files = {"bin/tool": exe, "doc/readme": b"hello\n" * 50}
    return {
        "tar": _tar(files), "tar.gz": _tar(files, "w:gz"), "tar.bz2": _tar(files, "w:bz2"),
        "tar.xz": _tar(files, "w:xz"), "zip": _zip(files),
        "tar.zst": __import__("zstandard").ZstdCompressor().compress(_tar(files)),
        "deb": _ar([("debian-binary", b"2.0\n"), ("control.tar.gz", _tar({}, "w:gz")),
                    ("data.tar.gz", _tar(files, "w:gz"))]),
        "rpm": _rpm(files), "docker": _image(files),
        "nested": _tar({"inner.zip": _zip({"deep.tar.gz": _tar(files, "w:gz")})}),
    }


@st.composite
def mutants(draw, seeds_: dict[str, bytes]):
    name = draw(st.sampled_from(sorted(seeds_)))
    data = bytearray(seeds_[name])
    how = draw(st.sampled_from(["field", "flip", "truncate", "splice", "zeros"]))
    if how == "field":
        off = draw(st.integers(0, len(data) - 4))
        data[off:off + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), draw(st.sampled_from(SPECIAL)))
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    elif how == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif how == "zeros":
        off = draw(st.integers(0, len(data) - 1))
        data[off:off + draw(st.sampled_from([1, 12, 60, 110, 512]))] = bytes(512)[:len(data[off:off + 512])]
    else:
        other = seeds_[draw(st.sampled_from(sorted(seeds_)))]
        n = draw(st.sampled_from([4, 60, 110, 512]))
        data[:n] = other[:n]
    return name, how, bytes(data)


def check(path: str) -> None:
    t0 = time.thread_time()
    tracemalloc.start()
    try:
        recs = [r.to_json() for r in scan_records(path, True, True, LIMITS)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert recs and recs[-1]["file"] == path
    for r in recs:
        assert KEYS <= set(r), r
        assert r["error"] is None or "\n" not in r["error"]
    for r in recs[:3]:
        if "!/" in r["file"] and r["format"] != "link" and not r["file"].endswith("!/bin/link"):
            for op in (buildidtool.read, buildidtool.hash_file):
                try:
                    op(r["file"])
                except buildidtool.BuildIDError as e:
                    assert "\n" not in str(e)
    assert time.thread_time() - t0 < SLOW
    assert peak < MEMORY, f"peak allocation {peak} bytes"


def test_seeds_read_cleanly(seeds, tmp_path):
    for name, data in seeds.items():
        p = tmp_path / name
        p.write_bytes(data)
        recs = [r.to_json() for r in scan_records(p, True, archives=LIMITS)]
        assert recs[-1]["error"] is None, (name, recs[-1])
        assert any(r["build_id"] for r in recs), name
        check(str(p))


@FUZZ
@given(data=st.data())
def test_mutated_archives(seeds, tmp_path, data):
    name, how, blob = data.draw(mutants(seeds))
    p = tmp_path / f"m-{name}"
    p.write_bytes(blob)
    check(str(p))
