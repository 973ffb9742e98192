"""Is hashing in a second thread worth it? `hashing.find_and_hash` over one large
file with the hashing thread (the default past THREADED_MIN) and without it,
alternating A B A B in one process; medians, the median per-round ratio, the
load average before and after (the thread needs a free second core: on a busy
machine both sides take the same time).

    python benchmarks/hash_thread.py [--rounds N] [--size MIB] [FILE]

Without FILE a file of --size MiB (default 512) of random bytes with a build
ID every 3 MiB is made in a temporary directory (and removed)."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from buildidtool.hashing import find_and_hash  # noqa: E402

ID = b"DgkBj9qyd27x-Yunl5Pu/vavYTEctYlu3Cf0wpLW4/v_TYP4aL5CskduCwKokA/ajmlvtrQpZpyNUDpMisT"


def make(path: str, mib: int) -> None:
    chunk = bytearray(os.urandom(3 << 20))
    chunk[1000:1000 + len(ID)] = ID
    with open(path, "wb") as f:
        for _ in range(0, mib, 3):
            f.write(chunk)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or os.path.join(tmp, "big")
        if not args.file:
            make(path, args.size)
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        find_and_hash(fd, ID)  # warm the page cache
        load = os.getloadavg()[0]
        times: dict[bool, list[float]] = {True: [], False: []}
        digests = set()
        for _ in range(args.rounds):
            for threaded in (True, False):
                t = time.perf_counter()
                digests.add(find_and_hash(fd, ID, threaded=threaded).digest)
                times[threaded].append(time.perf_counter() - t)
        os.close(fd)
    assert len(digests) == 1, "the two ways gave different digests"
    ratios = [a / b for a, b in zip(times[True], times[False])]
    print(f"{size / (1 << 20):.0f} MiB, {args.rounds} rounds, load average {load:.2f} -> {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| case | median | MiB/s |")
    print("| --- | --- | --- |")
    for threaded, label in ((True, "hashing thread"), (False, "one thread")):
        m = statistics.median(times[threaded])
        print(f"| {label} | {m:.3f} s | {size / (1 << 20) / m:.0f} |")
    print(f"median ratio thread / one thread: {statistics.median(ratios):.2f}x "
          f"(rounds {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
