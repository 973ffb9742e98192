"""verify across Go releases: a host build ID Go's linker could not have
derived is `not-applicable` (and `--strict` passes it); a file linked before
Go 1.24 is hashed as that release's tools hash it.

Oracles: the older release's own `go tool buildid -w`, which leaves its build
unchanged, and the linker source (cmd/link derives the host ID only since 1.24,
and only when -B is not given a value)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import buildidtool
from buildidtool import hostid
from helpers import flip_byte, run
from test_goversion import PROGRAM, go_release

OLD = "1.22.10"


def _build(go, out, *flags, cgo=False):
    (out.parent / "main.go").write_text(PROGRAM)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOOS": "linux", "GOARCH": "amd64",
           "CGO_ENABLED": "1" if cgo else "0", "GOFLAGS": "", "GO111MODULE": "on"}
    r = subprocess.run([str(go), "build", *flags, "-o", str(out), "main.go"], capture_output=True, text=True,
                       env=env, cwd=out.parent, timeout=600)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def old_external(tmp_path_factory):
    """The tiny program linked by Go 1.22's external linker, which writes its own GNU build ID."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed (external linking)")
    go = go_release(OLD)
    out = _build(go, tmp_path_factory.mktemp("old") / "hello", "-ldflags=-linkmode=external", cgo=True)
    before = out.read_bytes()
    r = subprocess.run([str(go), "tool", "buildid", "-w", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and out.read_bytes() == before  # its own release says: unchanged
    return out


def test_old_external_link_is_ok_and_strict_passes(old_external):
    v = buildidtool.verify(str(old_external), strict=True)
    assert v.status == "ok" and "before 1.24" in v.reason
    assert v.computed_content_id == v.stored_content_id
    h = v.host_build_id
    assert h["kind"] == "gnu" and h["status"] == "not-applicable" and "go1.22.10" in h["reason"]
    r = run("verify", "--strict", old_external)
    assert r.returncode == 0 and b"[host build ID not-applicable]" in r.stdout
    info = json.loads(run("info", "--json", old_external).stdout)
    assert info["host_build_id"]["status"] == "not-applicable" and info["host_build_id"]["reason"] == h["reason"]
    assert f"(not-applicable: {h['reason']})".encode() in run("info", old_external).stdout


def test_old_external_link_changed_is_still_modified(old_external, tmp_path):
    f = tmp_path / "flipped"
    shutil.copy(old_external, f)
    flip_byte(f)
    v = buildidtool.verify(str(f))
    assert v.status == "modified" and [m.kind for m in v.modification] == ["unexplained"]


def test_derived_host_id_has_no_reason(samples):
    h = buildidtool.verify(str(samples.path("hello-linux-amd64")), strict=True).host_build_id
    assert h["status"] == "derived" and h["reason"] is None


def test_host_id_set_with_B_is_not_applicable(samples, tmp_path):
    out = _build(samples.go, tmp_path / "hello", "-ldflags=-B=0x0123456789abcdef")
    v = buildidtool.verify(str(out), strict=True)
    assert v.status == "ok", v.reason
    assert v.host_build_id["status"] == "not-applicable" and "-B 0x0123456789abcdef" in v.host_build_id["reason"]
    assert run("verify", "--strict", out).returncode == 0


@pytest.mark.parametrize("version,ldflags,applies", [
    ("go1.23.12", None, False), ("go1.9", "", False), ("go1.24.0", None, True), ("go1.27.3", "-s -w", True),
    ("devel go1.28-abcdef", None, True), (None, None, True), ("go1.26.1", "-B gobuildid -s", True),
    ("go1.26.1", "-s -B=0xabcd", False), ("go1.26.1", "-X main.B=1", True), ("go1.26.1", "--B none", False),
])
def test_not_applicable_rules(version, ldflags, applies):
    assert (hostid.not_applicable(version, ldflags) is None) == applies


def test_old_external_link_appended_is_proven(old_external, tmp_path):
    f = tmp_path / "appended"
    f.write_bytes(old_external.read_bytes() + b"installer payload")
    v = buildidtool.verify(str(f))
    assert v.status == "modified"
    assert [(m.kind, m.proven) for m in v.modification] == [("appended", True)]
