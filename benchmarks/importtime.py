#!/usr/bin/env python3
"""Where `buildid FILE` and `buildid -w FILE` spend their import time.

Usage: python benchmarks/importtime.py [--top N] [FILE]

Runs `python -X importtime -c "from buildidtool.console import main; main([...])"`
for the read path and for -w (on a copy with one byte flipped, so the rewrite
really writes) and prints the N imports (default 15) with the largest
cumulative time, plus the totals. FILE defaults to the hello-linux-amd64 sample.
Figures drift on a shared machine: compare runs made one after another."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import SetupError, setup  # noqa: E402
from run import ONE_FILE_SAMPLE, tampered_copy  # noqa: E402

PROGRAM = "import sys; from buildidtool.console import main; main(sys.argv[1:])"
WATCH = ("click", "construct", "elftools", "multiprocessing", "json", "tempfile", "hashlib")


def importtime(args: list[str], prepare: Callable[[], None]) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) for every import the command made;
    prepare() runs before the warm-up run (which writes the .pyc files) and
    before the measured one."""
    cmd = [sys.executable, "-X", "importtime", "-c", PROGRAM, *args]
    prepare()
    subprocess.run(cmd[:1] + cmd[3:], capture_output=True)
    prepare()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"importtime: exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|", 2)
        rows.append((int(self_us), int(cum_us), name.rstrip()))
    return rows


def show(title: str, rows: list[tuple[int, int, str]], top: int) -> None:
    total = sum(r[0] for r in rows)
    names = {r[2].strip() for r in rows}
    print(f"## {title}: {len(rows)} modules imported, {total / 1000:.1f} ms in imports")
    print("watched: " + ", ".join(f"{m} {'yes' if m in names else 'no'}" for m in WATCH))
    print(f"{'cumulative ms':>13} {'self ms':>8}  module (indent = nesting)")
    for self_us, cum_us, name in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"{cum_us / 1000:13.1f} {self_us / 1000:8.1f}  {name}")
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    try:
        tools = setup()
    except SetupError as e:
        print(f"importtime: {e}", file=sys.stderr)
        return 2
    src = args.file or tools.sample(ONE_FILE_SAMPLE)
    with tempfile.TemporaryDirectory(prefix="buildid-importtime-") as tmp:
        target = Path(tmp) / src.name
        read_rows = importtime([str(target)], lambda: shutil.copyfile(src, target))
        show(f"buildid {src.name}", read_rows, args.top)
        write_rows = importtime(["-w", str(target)], lambda: tampered_copy(tools, src, target))
        show(f"buildid -w {src.name} (a copy with one byte flipped)", write_rows, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
