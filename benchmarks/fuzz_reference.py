#!/usr/bin/env python3
"""The long differential fuzzing run: structure-blind mutants of every sample
(tests/mutations.py, the kinds CI draws a few hundred of), each given to
`go tool buildid` (the reference built by samples/build.py) and to our
Go-compatible form; on every mutant where the reference neither hangs nor
panics, stdout and exit status must be the same. Every command of ours is
also run on a share of the mutants (--deep) for tracebacks, hangs and writes.

Usage: python benchmarks/fuzz_reference.py [--mutants N] [--seed S] [--deep K] [--write] [--keep DIR]

Prints the counts per mutation kind and every disagreement; exits 1 if there
was any. Samples come from .cache/samples (or $BUILDIDTOOL_SAMPLES), built
first if needed.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mutations import mutate, ours_says, reference_says, rewrite_agrees  # noqa: E402


def load_samples():
    import json
    import subprocess
    out = Path(os.environ.get("BUILDIDTOOL_SAMPLES") or ROOT / ".cache" / "samples")
    subprocess.run([sys.executable, str(ROOT / "samples" / "build.py"), str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    manifest = json.loads((out / "manifest.json").read_text())
    seeds = {e["name"]: (out / e["path"]).read_bytes()[:4 << 20] for e in manifest["samples"] if not e["skipped"]}
    return seeds, str(out / manifest["reference"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutants", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--deep", type=int, default=10, help="run every command on one mutant in K (0: never)")
    ap.add_argument("--keep", type=Path, help="copy disagreeing mutants here")
    ap.add_argument("--write", action="store_true", help="also compare -w: exit status and the bytes left")
    args = ap.parse_args()
    seeds, reference = load_samples()
    names, others = sorted(seeds), list(seeds.values())
    rng = random.Random(args.seed)
    per_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    bad = []
    t0 = time.monotonic()
    deep_failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.mutants):
            name = rng.choice(names)
            kind, blob = mutate(rng, seeds[name], others)
            path = os.path.join(tmp, f"m{i}")
            with open(path, "wb") as f:
                f.write(blob)
            ref = reference_says(reference, path)
            if ref is None:
                per_kind[kind]["reference hangs or panics"] += 1
            else:
                code, out, err = ours_says(path)
                if (code, out) == ref:
                    per_kind[kind]["agree"] += 1
                else:
                    per_kind[kind]["DISAGREE"] += 1
                    bad.append(f"mutant {i} ({kind} of {name}): reference {ref}, ours {(code, out)} {err!r}")
                    if args.keep:
                        args.keep.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(path, args.keep / f"m{i}-{name}")
            if args.write:
                problem = rewrite_agrees(reference, path)
                per_kind[kind]["-w compared"] += 1
                if problem:
                    per_kind[kind]["-w DISAGREE"] += 1
                    bad.append(f"mutant {i} ({kind} of {name}): {problem}")
            if args.deep and i % args.deep == 0:
                from test_fuzz import check_one
                try:
                    check_one(path)
                except Exception as e:  # an assertion, or a traceback out of the library
                    deep_failures += 1
                    bad.append(f"mutant {i} ({kind} of {name}): every-command check: "
                               f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            os.unlink(path)
    elapsed = time.monotonic() - t0
    total = collections.Counter()
    print(f"{args.mutants} mutants of {len(seeds)} samples, seed {args.seed}, {elapsed:.0f} s")
    print(f"{'kind':28} {'agree':>7} {'disagree':>9} {'excluded':>9}")
    for kind in sorted(per_kind):
        c = per_kind[kind]
        total.update(c)
        print(f"{kind:28} {c['agree']:7} {c['DISAGREE']:9} {c['reference hangs or panics']:9}")
    print(f"{'total':28} {total['agree']:7} {total['DISAGREE']:9} {total['reference hangs or panics']:9}")
    if args.write:
        print(f"-w compared: {total['-w compared']}, disagree: {total['-w DISAGREE']}")
    if args.deep:
        print(f"every-command checks: {args.mutants // args.deep + 1}, failures: {deep_failures}")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
