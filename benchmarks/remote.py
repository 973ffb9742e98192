#!/usr/bin/env python3
"""Benchmarks of remote inputs, against servers started here on loopback
(nginx, Debian's docker-registry; tests/servers.py starts them as the tests do).

Row R1, R2: `buildid read URL` and `buildid info URL` of a 50 MB+ Go
executable (a real Go program built here with 56 MiB of embedded data):
the bytes nginx sent (its access log) against the file's size. Goal: under 1%.
Times beside, against the same command on the local file.

Row R3: `buildid verify URL` (the file streamed once into a temporary file,
then hashed) against what a user does without it: `curl -o FILE URL && buildid
verify FILE`.

Row R4: `buildid scan registry:127.0.0.1:PORT/bench/gobins:1` (the image of
packages.py's row B, 52 Go binaries in 6 layers, pushed by skopeo) against
`trivy image --image-src remote` of the same reference (trivy from the npm
package, as in packages.py; its cache emptied before each run, since ours
keeps none). Goal: at least 5x faster (≤ 0.2x), every Go binary trivy finds
found too.

Usage: python benchmarks/remote.py [--rounds N] [--only R1,R2,R3,R4]"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from benchenv import CACHE, find_go, go_env  # noqa: E402
from measure import Case, measure, pair_ratio  # noqa: E402
from packages import _go_names, _trivy_go, build_image, go_binaries, trivy  # noqa: E402

BUILDID = str(Path(sys.executable).with_name("buildid"))
EMBED_MIB = 56

MAIN_GO = """package main

import (
	_ "embed"
	"fmt"
)

//go:embed blob.bin
var blob []byte

func main() { fmt.Println(len(blob)) }
"""


def large_go_binary() -> Path:
    """A real Go executable of 50 MB+: a program embedding 56 MiB of random data."""
    d = CACHE / "big-go"
    exe = d / "big"
    if exe.exists():
        return exe
    d.mkdir(parents=True, exist_ok=True)
    (d / "go.mod").write_text("module example.com/big\n\ngo 1.22\n")
    (d / "main.go").write_text(MAIN_GO)
    with open(d / "blob.bin", "wb") as f:
        for _ in range(EMBED_MIB):
            f.write(os.urandom(1 << 20))
    env = {**go_env(), "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64",
           "GOCACHE": str(CACHE / "gocache"), "GOPATH": str(CACHE / "gopath")}
    subprocess.run([find_go(), "build", "-o", str(exe.with_suffix(".tmp")), "."], cwd=d, env=env, check=True)
    exe.with_suffix(".tmp").rename(exe)
    return exe


def fetched(ng, argv: list[str]) -> tuple[int, int]:
    """(bytes nginx sent, requests) for one run of argv."""
    before = len(ng.requests())
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    reqs = ng.requests(before + 1, settle=0.3)[before:]
    return sum(r[3] for r in reqs), len(reqs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="R1,R2,R3,R4")
    a = ap.parse_args()
    from servers import Nginx, Registry  # the servers the tests start
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, nproc {os.cpu_count()}, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}; {a.rounds} alternating "
          "rounds, medians, the ratio the median of the per-round ratios")
    print("| row | ours | baseline | ratio | goal |")
    print("|---|---:|---:|---:|---|")
    stop = []
    try:
        if {"R1", "R2", "R3"} & set(a.only.split(",")):
            exe = large_go_binary()
            www = CACHE / "remote-www"
            www.mkdir(parents=True, exist_ok=True)
            served = www / "big"
            if not served.exists():
                shutil.copyfile(exe, served)
            size = served.stat().st_size
            shutil.rmtree(CACHE / "remote-nginx", ignore_errors=True)
            ng = Nginx(www, CACHE / "remote-nginx")
            stop.append(ng)
            url = f"{ng.base}/big"
            for row, cmd in (("R1", "read"), ("R2", "info")):
                if row not in a.only:
                    continue
                sent, n = fetched(ng, [BUILDID, cmd, url])
                r = measure(f"{cmd} by URL", {
                    "url": Case(f"{cmd} URL", [[BUILDID, cmd, url]]),
                    "local": Case(f"{cmd} FILE", [[BUILDID, cmd, str(served)]])}, a.rounds)
                print(f"| {row}: `buildid {cmd} URL` of a {size / 1e6:.1f} MB Go executable: bytes fetched "
                      f"({n} range requests) vs the file | {sent / 1024:.0f} KiB | {size / 2**20:.1f} MiB | "
                      f"{sent / size * 100:.2f}% | < 1% {'met' if sent < size / 100 else 'NOT met'} |")
                print(f"| {row} time: `buildid {cmd} URL` vs `buildid {cmd} FILE` | "
                      f"{r['url'].median('time') * 1000:.0f} ms | {r['local'].median('time') * 1000:.0f} ms | "
                      f"{pair_ratio(r['url'], r['local'], 'time'):.2f}x | — |")
            if "R3" in a.only and shutil.which("curl"):
                sent, n = fetched(ng, [BUILDID, "verify", url])
                tmp = CACHE / "remote-download"
                r = measure("verify by URL", {
                    "ours": Case("verify URL", [[BUILDID, "verify", url]], ok_codes=frozenset({0, 1, 3}), rss=True),
                    "curl": Case("curl, then verify", [["sh", "-c", f"curl -s -o '{tmp}' '{url}' && "
                                                        f"'{BUILDID}' verify '{tmp}'; rc=$?; rm -f '{tmp}'; "
                                                        "exit $rc"]], ok_codes=frozenset({0, 1, 3}))}, a.rounds)
                print(f"| R3: `buildid verify URL` (streamed once: {sent / 2**20:.1f} MiB in {n} request) vs "
                      f"`curl -o FILE URL && buildid verify FILE` | {r['ours'].median('time') * 1000:.0f} ms "
                      f"({r['ours'].median('rss') / 1024:.0f} MiB peak RSS) | "
                      f"{r['curl'].median('time') * 1000:.0f} ms | {pair_ratio(r['ours'], r['curl'], 'time'):.2f}x | "
                      "≤ 1.1x (no slower than downloading first) |")
        if "R4" in a.only:
            bins = go_binaries()
            img = CACHE / f"image-gobins-{len(bins)}.tar"
            if not img.exists():
                build_image(img, bins)
            shutil.rmtree(CACHE / "remote-registry", ignore_errors=True)
            reg = Registry(CACHE / "remote-registry")
            stop.append(reg)
            reg.push(f"docker-archive:{img}", "bench/gobins:1")
            ref = f"{reg.host}/bench/gobins:1"
            t = trivy()
            cache = CACHE / "trivy-remote-cache"
            cases = {"ours": Case("scan registry:", [[BUILDID, "scan", "--json", f"registry:{ref}"]], rss=True,
                                  fingerprint=_go_names)}
            if t:
                cases["trivy"] = Case("trivy image", [["sh", "-c", f"rm -rf '{cache}' && exec '{t}' image --quiet "
                                                       f"--image-src remote --insecure --format cyclonedx "
                                                       f"--scanners license --list-all-pkgs --offline-scan "
                                                       f"--cache-dir '{cache}' '{ref}'"]], fingerprint=_trivy_go)
            r = measure("registry image", cases, a.rounds)
            if t and r["trivy"].failure is None and r["ours"].failure is None:
                ours, theirs = set(json.loads(r["ours"].fingerprint)), set(json.loads(r["trivy"].fingerprint))
                ratio = pair_ratio(r["ours"], r["trivy"], "time")
                cpu = pair_ratio(r["ours"], r["trivy"], "cpu")
                print(f"| R4: `buildid scan registry:REF` ({len(bins)} Go binaries in the image: we find {len(ours)}, "
                      f"trivy lists {len(theirs)}, {'all' if theirs <= ours else 'NOT all'} of them among ours; "
                      f"our peak RSS {r['ours'].median('rss') / 1024:.0f} MiB) vs `trivy image --image-src remote REF` "
                      f"| {r['ours'].median('time'):.2f} s | {r['trivy'].median('time'):.2f} s | {ratio:.2f}x | "
                      f"≤ 0.2x {'met' if ratio <= 0.2 and theirs <= ours else 'NOT met'} |")
                print(f"| R4 CPU (user + system, children included) | {r['ours'].median('cpu'):.2f} s | "
                      f"{r['trivy'].median('cpu'):.2f} s | {cpu:.2f}x | — |")
            else:
                why = (r.get("trivy").failure if t else "trivy unavailable (npm offline?)") or r["ours"].failure
                print(f"| R4 | {r['ours'].median('time'):.2f} s | - | - | not measured: {why} |")
    finally:
        for s in stop:
            s.stop()


if __name__ == "__main__":
    main()
