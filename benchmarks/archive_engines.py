"""Which archive engine: the standard library (tarfile, zipfile, with gzip/bz2/
lzma in C and the `zstandard` module) or libarchive-c over the system libarchive?

Both sides read every member's bytes of the same archives (the built samples,
tarred and zipped in several compressions), alternating A B A B in one process,
and the table gives medians and the median per-round ratio stdlib / libarchive.

    python benchmarks/archive_engines.py [--rounds N] [--samples DIR]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import tarfile
import tempfile
import time
import zipfile

CHUNK = 1 << 20


def build(samples: str, out: str) -> dict[str, str]:
    files = sorted(f for f in os.listdir(samples) if os.path.isfile(os.path.join(samples, f))
                   and not f.startswith("."))
    made = {}
    for comp in ("", "gz", "bz2", "xz"):
        p = os.path.join(out, "s.tar" + (f".{comp}" if comp else ""))
        with tarfile.open(p, "w:" + comp) as t:
            for f in files:
                t.add(os.path.join(samples, f), f)
        made["tar" + (f".{comp}" if comp else "")] = p
    import zstandard
    p = os.path.join(out, "s.tar.zst")
    with open(made["tar"], "rb") as src, open(p, "wb") as dst:
        zstandard.ZstdCompressor(level=3).copy_stream(src, dst)
    made["tar.zst"] = p
    p = os.path.join(out, "s.zip")
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(os.path.join(samples, f), f)
    made["zip"] = p
    return made


def stdlib_read(path: str) -> int:
    total = 0
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                with z.open(info) as f:
                    while b := f.read(CHUNK):
                        total += len(b)
        return total
    if path.endswith(".zst"):
        import zstandard
        raw = open(path, "rb")
        stream = zstandard.ZstdDecompressor().stream_reader(raw)
        t = tarfile.open(fileobj=stream, mode="r|")
    else:
        t = tarfile.open(path, mode="r|*")
    with t:
        for m in t:
            f = t.extractfile(m)
            if f is None:
                continue
            while b := f.read(CHUNK):
                total += len(b)
    return total


def libarchive_read(path: str) -> int:
    import libarchive
    total = 0
    with libarchive.file_reader(path) as a:
        for entry in a:
            for block in entry.get_blocks(CHUNK):
                total += len(block)
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--samples", default=os.environ.get("BUILDIDTOOL_SAMPLES", ".cache/samples"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        made = build(a.samples, d)
        print("| archive | size MiB | stdlib ms | libarchive ms | ratio stdlib/libarchive |")
        print("|---|---:|---:|---:|---:|")
        for kind, path in made.items():
            assert stdlib_read(path) == libarchive_read(path), kind  # warm-up and check
            s, l, r = [], [], []
            for _ in range(a.rounds):
                t0 = time.perf_counter(); stdlib_read(path); t1 = time.perf_counter()
                libarchive_read(path); t2 = time.perf_counter()
                s.append(t1 - t0); l.append(t2 - t1); r.append((t1 - t0) / (t2 - t1))
            print(f"| {kind} | {os.path.getsize(path) / 2**20:.1f} | {statistics.median(s) * 1e3:.0f} | "
                  f"{statistics.median(l) * 1e3:.0f} | {statistics.median(r):.2f} |")


if __name__ == "__main__":
    main()
