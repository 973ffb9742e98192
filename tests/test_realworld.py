"""Published release binaries that older Go releases built, fetched from the
npm registry at test time (cached under .cache/npm, checked against the
registry's integrity hash, skipped with the reason when it cannot be reached):

- esbuild-wasm 0.8.57 and 0.14.54: js/wasm by Go 1.16 and 1.19, whose build ID
  lives in a custom section named `go.buildid` (Go 1.20 renamed it `go:buildid`);
- esbuild-linux-64 0.1.0: Go 1.13.8, old pointer-based build info whose module
  info string header lies outside the file's mapped data.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import buildidtool

from helpers import run

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "npm"
REGISTRY = "https://registry.npmjs.org"


def npm_file(package: str, version: str, member: str) -> Path:
    """One file of an npm package tarball, cached."""
    out = CACHE / f"{package}-{version}" / member
    if out.is_file():
        return out
    try:
        with urllib.request.urlopen(f"{REGISTRY}/{package}/{version}", timeout=30) as r:
            dist = json.load(r)["dist"]
        with urllib.request.urlopen(dist["tarball"], timeout=120) as r:
            tgz = r.read()
    except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
        pytest.skip(f"npm registry not reachable for {package}@{version}: {e}")
    algo, _, want = dist.get("integrity", "").partition("-")
    if algo in ("sha512", "sha256") and base64.b64decode(want) != hashlib.new(algo, tgz).digest():
        pytest.fail(f"{package}@{version}: tarball does not match the registry's integrity hash")
    with tarfile.open(fileobj=io.BytesIO(tgz)) as t:
        data = t.extractfile(f"package/{member}").read()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out


@pytest.mark.parametrize("version, go", [("0.8.57", "go1.16"), ("0.14.54", "go1.19")])
def test_old_js_wasm_build_id_one_rule_for_every_command(reference, version, go):
    f = npm_file("esbuild-wasm", version, "esbuild.wasm")
    ours = run(f)
    assert ours.returncode == 0 and len(ours.stdout.strip()) == 83
    if reference is not None:
        assert ours.stdout == subprocess.run([str(reference), str(f)], capture_output=True).stdout
    want = ours.stdout.strip()
    info = buildidtool.read(str(f))
    assert info.raw_build_id == want and info.format == "wasm"
    assert buildidtool.verify(str(f)).status == "ok"  # the content ID checks out
    rec = buildidtool.inspect(str(f)).to_json()
    assert rec["build_id"] == want.decode() and rec["build_info"]["GoVersion"].startswith(go)
    scanned = json.loads(run("scan", "--json", "--verify", "-j", "1", f).stdout.splitlines()[0])
    assert scanned["build_id"] == want.decode() and scanned["status"] == "ok"
    assert run("read", f).stdout.strip().endswith(want)


def test_go113_module_info_outside_the_data_matches_go(tmp_path):
    f = npm_file("esbuild-linux-64", "0.1.0", "bin/esbuild")
    bi = buildidtool.read_build_info(str(f))
    assert bi.to_json() == {"GoVersion": "go1.13.8", "Main": {}}  # `go version -m -json` of Go 1.27
    r = run("info", "--json", f)
    rec = json.loads(r.stdout)
    assert r.returncode == 0 and rec["build_info_error"] is None
    assert rec["build_info"] == {"GoVersion": "go1.13.8", "Main": {}}
    v = buildidtool.verify(str(f), strict=True)
    assert v.status == "ok", v.reason
    assert v.host_build_id.status == "absent"
