"""A binary linked by Go before 1.24 with its own (external linker's) host
build ID: modification proofs hash it as that release hashed it (host build ID
included), and every command gives its host build ID the same status.

Oracle: the older release's own `go tool buildid -w`, which leaves its build
unchanged. The rule itself is tested in test_hostid_releases.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import buildidtool
from buildidtool.report import sbom
from helpers import scan_one
from helpers import flip_byte, run
from test_goversion import PROGRAM, go_release

OLD = "1.22.10"


@pytest.fixture(scope="module")
def old_external(tmp_path_factory):
    """The tiny program linked by Go 1.22's external linker, which writes its own GNU build ID."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed (external linking)")
    go = go_release(OLD)
    out = tmp_path_factory.mktemp("old") / "hello"
    (out.parent / "main.go").write_text(PROGRAM)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "1",
           "GOFLAGS": "", "GO111MODULE": "on"}
    r = subprocess.run([str(go), "build", "-ldflags=-linkmode=external", "-o", str(out), "main.go"],
                       capture_output=True, text=True, env=env, cwd=out.parent, timeout=600)
    assert r.returncode == 0, r.stderr
    before = out.read_bytes()
    r = subprocess.run([str(go), "tool", "buildid", "-w", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and out.read_bytes() == before  # its own release says: unchanged
    return out


def test_appended_is_proven_as_the_old_release_hashed(old_external, tmp_path):
    f = tmp_path / "appended"
    f.write_bytes(old_external.read_bytes() + b"installer payload")
    v = buildidtool.verify(str(f))
    assert v.status == "modified"
    assert [(m.kind, m.proven) for m in v.modification] == [("appended", True)]


def test_changed_is_still_unexplained(old_external, tmp_path):
    f = tmp_path / "flipped"
    shutil.copy(old_external, f)
    flip_byte(f)
    v = buildidtool.verify(str(f))
    assert v.status == "modified" and [m.kind for m in v.modification] == ["unexplained"]


def test_every_command_gives_the_same_host_status(old_external):
    v = buildidtool.verify(str(old_external), strict=True)
    assert v.status == "ok" and v.host_build_id.status == "not-applicable"
    info = json.loads(run("info", "--json", old_external).stdout)
    assert info["host_build_id"]["status"] == "not-applicable"
    assert f"(not-applicable: {info['host_build_id']['reason']})".encode() in run("info", old_external).stdout
    rec = scan_one(old_external, sbom=True)
    assert rec.host_build_id.status == "not-applicable"
    props = dict(sbom.inventory([rec]).binaries[0].properties)
    assert props["buildid:host_build_id_status"] == "not-applicable"


def test_without_build_info_the_recovered_version_decides_everywhere(old_external, tmp_path):
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy (binutils) is not installed")
    f = tmp_path / "nobuildinfo"
    subprocess.run(["objcopy", "--remove-section", ".go.buildinfo", str(old_external), str(f)], check=True)
    assert buildidtool.verify(str(f), strict=True).host_build_id.status == "not-applicable"
    rec = scan_one(f, sbom=True)
    assert rec.build_info is None and rec.go_version_source == "symbol"
    assert rec.host_build_id.status == "not-applicable"
