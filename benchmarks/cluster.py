#!/usr/bin/env python3
"""scan on a Dask cluster and the result cache, against the local scan of the
same trees (benchmarks/README.md, "Cluster and cache", says what each row means).

Usage: python benchmarks/cluster.py [--rounds N] [--files N] [--out FILE]

Starts a loopback cluster of its own (`dask scheduler`, `dask worker`
processes of this venv: one scheduler with one worker, one with two), builds
two trees under .cache/bench (hard links of the built samples), and measures,
each side alternating with the other, medians over the rounds:

1. throughput: files per second of the local scan (-j 1, -j 2) and of the
   cluster (1 worker, 2 workers), in this process through the Python API,
   connection excluded (the CLI rows show what starting costs);
2. the scheduler's overhead per batch: the same cluster scan cut into small
   and large batches, (difference in time) / (difference in batches);
3. the command: `buildid scan --json [--dask ADDRESS] TREE`, wall time;
4. the cache: a first run (empty cache) against a second (nothing changed),
   locally and with --dask, with and without --verify;
5. where to consult the cache with --dask: cache hits per second served in
   one process (what a client-side cache would do) against the workers';
6. the client's own ceiling: walk, stat and batching in one process.
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

from benchenv import CACHE, cpu_model, git_revision, nproc  # noqa: E402
from daskcluster import DaskCluster  # noqa: E402

BUILDID = [sys.executable, "-m", "buildidtool"]


def samples_dir() -> Path:
    d = Path(os.environ.get("BUILDIDTOOL_SAMPLES") or REPO / ".cache" / "samples")
    subprocess.run([sys.executable, str(REPO / "samples" / "build.py"), str(d)], check=True,
                   stdout=subprocess.DEVNULL)
    return d


def executables(samples: Path) -> list[Path]:
    import json
    manifest = json.loads((samples / "manifest.json").read_text())
    return [samples / e["path"] for e in manifest["samples"] if e["kind"] == "exe" and not e.get("skipped")]


def build_trees(files: int) -> tuple[Path, Path]:
    """binaries: `files` hard links cycling through the sample executables (a copy of
    each, so the samples' own inodes are left alone); mixed: 10x as many files, one in
    a hundred a Go executable, the rest small text and data files (row 6's kind of tree)."""
    exes = executables(samples_dir())
    src = CACHE / "cluster-src"
    if not src.is_dir():
        src.mkdir(parents=True)
        for e in exes:
            shutil.copy2(e, src / e.name)
        (src / "notes.txt").write_text("a text file\n" * 20)
        (src / "data.bin").write_bytes(os.urandom(4096))
    copies = sorted(p for p in src.iterdir() if p.name not in ("notes.txt", "data.bin"))
    binaries, mixed = CACHE / f"cluster-binaries-{files}", CACHE / f"cluster-mixed-{files * 10}"
    if not binaries.is_dir():
        tmp = Path(tempfile.mkdtemp(dir=CACHE))
        for i in range(files):
            d = tmp / f"d{i // 500:03}"
            d.mkdir(exist_ok=True)
            os.link(copies[i % len(copies)], d / f"{i:06}-{copies[i % len(copies)].name}")
        tmp.rename(binaries)
    if not mixed.is_dir():
        tmp = Path(tempfile.mkdtemp(dir=CACHE))
        for i in range(files * 10):
            d = tmp / f"d{i // 1000:03}"
            d.mkdir(exist_ok=True)
            what = copies[i % len(copies)] if i % 100 == 0 else src / ("notes.txt" if i % 2 else "data.bin")
            os.link(what, d / f"{i:06}")
        tmp.rename(mixed)
    time.sleep(1.1)  # older than the cache's racy window
    return binaries, mixed


def count(tree: Path) -> int:
    return sum(len(f) for _, _, f in os.walk(tree))


# --- in-process scans ---------------------------------------------------------

def api_scan(tree: Path, jobs: int = 0, cluster=None, verify: bool = False) -> int:
    from buildidtool.ops.scan import _Render, asked_for, scan
    from buildidtool.report.scan import FORMATS
    from buildidtool.tree import ScanStats, walk

    render = _Render(FORMATS["json"](verify))
    items = walk([str(tree)], False, ScanStats())
    asked = asked_for(verify, False)
    if cluster is None:
        batches = scan(items, jobs, asked, render)
    else:
        from functools import partial

        from buildidtool.ops.scan import _Combine, _fault, _item_size, _work
        batches = cluster.ordered_open(
            (w.path for w in items), partial(_work, asked, None, None), partial(_fault, asked), _Combine(render),
            verify=verify, size=_item_size)
    return sum(t.files for _, t in batches)


class Connected:
    """A Cluster kept open across rounds (Cluster.ordered closes its client at the end)."""

    def __init__(self, address: str):
        from buildidtool.cluster import Cluster
        self.cluster = Cluster.connect(address)

    def ordered_open(self, *args, **kw):
        from buildidtool.ops.scan import PART_RECORDS
        return self.cluster._ordered(*args, kw.get("verify", False), None, kw.get("size"), None, PART_RECORDS)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(cases: dict, rounds: int) -> dict[str, list[float]]:
    times = {k: [] for k in cases}
    for _ in range(rounds):
        for k, fn in cases.items():
            times[k].append(timed(fn))
    return times


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def cli(*args) -> callable:
    def go():
        r = subprocess.run([*BUILDID, "scan", *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode not in (0, 1):
            raise RuntimeError(f"scan {args} exited {r.returncode}: {r.stderr.decode()[-300:]}")
    return go


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--files", type=int, default=2000, help="files in the binaries tree (the mixed tree has 10x)")
    ap.add_argument("--out")
    a = ap.parse_args()
    load_before = os.getloadavg()[0]
    binaries, mixed = build_trees(a.files)
    n_bin, n_mixed = count(binaries), count(mixed)
    work = Path(tempfile.mkdtemp(prefix="buildid-cluster-bench-"))
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    one, two = DaskCluster(work / "one"), DaskCluster(work / "two")
    try:
        for c, n in ((one, 1), (two, 2)):
            c.start_scheduler()
            for _ in range(n):
                c.add_worker()
        one.wait_for_workers(1)
        two.wait_for_workers(2)
        c1, c2 = Connected(one.address), Connected(two.address)
        import buildidtool.cluster as cl

        say(f"## Cluster and cache ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)")
        say(f"nproc {nproc()}, {cpu_model()}, Python {sys.version.split()[0]}, buildidtool at {git_revision()}, "
            f"load average {load_before:.1f} before; {a.rounds} rounds, alternating, medians; "
            f"binaries tree {n_bin} files, mixed tree {n_mixed} files")
        say()

        # 1. throughput
        say("| 1 throughput (in process, connection excluded) | binaries | files/s | mixed | files/s |")
        say("|---|---|---|---|---|")
        for verify in (False, True):
            cases = {"local -j 1": lambda t, v=verify: api_scan(t, 1, verify=v),
                     "local -j 2": lambda t, v=verify: api_scan(t, 2, verify=v),
                     "dask, 1 worker": lambda t, v=verify: api_scan(t, cluster=c1, verify=v),
                     "dask, 2 workers": lambda t, v=verify: api_scan(t, cluster=c2, verify=v)}
            trees = (binaries, mixed) if not verify else (binaries,)
            got = {t: alternate({k: (lambda f=f, t=t: f(t)) for k, f in cases.items()}, a.rounds) for t in trees}
            for k in cases:
                row = f"| {k}{' --verify' if verify else ''} |"
                for t, n in ((binaries, n_bin), (mixed, n_mixed)):
                    if t in got:
                        m = med(got[t][k])
                        row += f" {m:.2f} s | {n / m:,.0f} |"
                    else:
                        row += " — | — |"
                say(row)
        say()

        # 2. overhead per batch
        small, large = 32, cl.BATCH_ITEMS
        def batches(n_items):
            return -(-n_mixed // n_items)

        def with_batch(n_items):
            def go():
                saved = cl.BATCH_ITEMS
                cl.BATCH_ITEMS = n_items
                try:
                    api_scan(mixed, cluster=c2)
                finally:
                    cl.BATCH_ITEMS = saved
            return go
        t = alternate({small: with_batch(small), large: with_batch(large)}, a.rounds)
        per = (med(t[small]) - med(t[large])) / (batches(small) - batches(large))
        say(f"2 overhead per batch (mixed tree, 2 workers): {batches(small)} batches of {small} in "
            f"{med(t[small]):.2f} s, {batches(large)} of {large} in {med(t[large]):.2f} s: "
            f"**{per * 1000:.1f} ms per batch** (scheduler, transfer, the reader's fork)")
        say()

        # 3. the command
        t = alternate({"local": cli("--json", mixed), "dask": cli("--json", "--dask", two.address, mixed)}, a.rounds)
        say(f"3 command, mixed tree: `buildid scan --json` {med(t['local']):.2f} s, with `--dask` (2 workers) "
            f"{med(t['dask']):.2f} s")
        say()

        # 4. cache
        say("| 4 cache: first run (empty cache) vs second (unchanged tree) | no cache | first | second "
            "| second / first (median of rounds) | first / no cache |")
        say("|---|---|---|---|---|---|")
        for label, extra, tree in (("binaries --verify", ["--verify"], binaries), ("binaries", [], binaries),
                                   ("mixed", [], mixed),
                                   ("binaries --verify --dask", ["--verify", "--dask", two.address], binaries),
                                   ("mixed --dask", ["--dask", two.address], mixed)):
            plains, firsts, seconds = [], [], []
            for _ in range(a.rounds):
                db = work / "cache.db"
                for p in work.glob("cache.db*"):
                    p.unlink()
                plains.append(timed(cli("--json", *extra, tree)))
                firsts.append(timed(cli("--json", *extra, "--cache", db, tree)))
                seconds.append(timed(cli("--json", *extra, "--cache", db, tree)))
            ratio = med([s / f for f, s in zip(firsts, seconds)])
            fill = med([f / p for p, f in zip(plains, firsts)])
            say(f"| `scan --json {' '.join(x if x != two.address else 'ADDR' for x in extra)} --cache DB` "
                f"{label.split()[0]} | {med(plains):.2f} s | {med(firsts):.2f} s | {med(seconds):.2f} s "
                f"| {ratio:.2f}x | {fill:.2f}x |")
        say()

        # 5. where the cache is consulted
        from functools import partial

        from buildidtool.cache import open_cache
        from buildidtool.ops.scan import _Render, asked_for
        from buildidtool.report.scan import FORMATS
        from buildidtool.tree import ScanStats, walk
        db = work / "cache.db"
        for p in work.glob("cache.db*"):
            p.unlink()
        cli("--json", "--cache", db, "--no-archives", mixed)()
        store = open_cache(str(db), asked_for(False, False), None)

        def never(item):
            raise AssertionError(f"{item} was not in the cache")
        render = _Render(FORMATS["json"](False))

        def client_side():
            lookup = store.wrap(never)
            recs = []
            for w in walk([str(mixed)], False, ScanStats()):
                recs.extend(lookup(w.path))
                if len(recs) >= 1024:
                    render(recs)
                    recs = []
            render(recs)

        def worker_side():
            from buildidtool.ops.scan import _Combine, _fault, _item_size
            asked = asked_for(False, False)
            for _ in c2.ordered_open((w.path for w in walk([str(mixed)], False, ScanStats())), store.wrap(never),
                                     partial(_fault, asked), store.wrap_combine(_Combine(render)), size=_item_size):
                pass
        t = alternate({"client": client_side, "workers": worker_side}, a.rounds)
        say(f"5 cache hits served, mixed tree ({n_mixed} files, all cached): in one process (a client-side cache) "
            f"{n_mixed / med(t['client']):,.0f} files/s; by the 2 Dask workers' readers "
            f"{n_mixed / med(t['workers']):,.0f} files/s")

        # 6. what the client alone can feed: the walk, each input's stat (batches are cut by
        # input size) and the batches' pickling, in one process
        import pickle

        from buildidtool.ops.scan import _item_cost, _item_size
        from buildidtool.workers import cut

        def feed():
            for chunk in cut((w.path for w in walk([str(mixed)], False, ScanStats())), cl.BATCH_ITEMS,
                             _item_size, _item_cost, cl.BATCH_BYTES, cl.BATCH_COST):
                pickle.dumps(chunk)
        t = alternate({"feed": feed}, a.rounds)
        say(f"6 the client's feed (walk, stat, cut, pickle), mixed tree: {n_mixed / med(t['feed']):,.0f} files/s")
        say(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        one.stop()
        two.stop()
        shutil.rmtree(work, ignore_errors=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
