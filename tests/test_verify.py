"""verify: every status, the code signature check and the host build ID check."""
from __future__ import annotations

import json

import pytest

import buildidtool
from helpers import fat_slices, flip_byte, run


def test_pristine_samples_are_ok(samples):
    for e in samples.entries:
        if e["name"] in ("hello-linux-amd64-nobuildid", "hello-linux-amd64-custombuildid") \
                or e["format"] in ("go-archive", "gccgo-archive") or "gccgo" in e["name"]:
            continue
        v = buildidtool.verify(str(samples.path(e["name"])))
        assert v.status == "ok", (e["name"], v.reason)
        assert v.stored_content_id == v.computed_content_id or v.slices


def test_go_archive_is_ok(samples):
    v = buildidtool.verify(str(samples.path("lib")))
    assert v.status == "ok", v.reason


def test_flipped_byte_is_modified_content_id(tmp_copy):
    f = tmp_copy("hello-linux-amd64")
    flip_byte(f)
    v = buildidtool.verify(str(f))
    assert v.status == "modified" and "content ID" in v.reason
    assert v.stored_content_id != v.computed_content_id
    r = run("verify", f)
    assert r.returncode == 1 and b"modified" in r.stdout


def test_signature_only_tampering_is_reported_as_signature(tmp_copy):
    f = tmp_copy("hello-darwin-arm64")
    info = buildidtool.read(str(f))
    sig = info.code_signature
    off, size = sig.offset, sig.size
    flip_byte(f, off + size - 5)  # a page hash byte; the content hash skips the signature
    v = buildidtool.verify(str(f))
    assert v.status == "modified"
    assert "signature" in v.reason and "content ID" not in v.reason


def test_statuses_and_exit_codes(samples, tmp_path):
    nobuild = samples.path("hello-linux-amd64-nobuildid")
    custom = samples.path("hello-linux-amd64-custombuildid")
    assert buildidtool.verify(str(nobuild)).status == "no-build-id"
    assert buildidtool.verify(str(custom)).status == "unverifiable"
    assert buildidtool.verify(str(tmp_path)).status == "error"
    assert run("verify", samples.path("hello-linux-amd64")).returncode == 0
    # Could not be checked: an exit status of its own, apart from errors.
    assert run("verify", nobuild).returncode == 3
    assert run("verify", custom).returncode == 3
    r = run("verify", tmp_path)
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and str(tmp_path).encode() in r.stderr
    # The worst decides: modified over error over unchecked.
    assert run("verify", custom, tmp_path).returncode == 2
    assert run("verify", samples.path("hello-linux-amd64"), custom).returncode == 3


def test_modified_beats_unchecked_for_the_exit_code(samples, tmp_copy):
    f = tmp_copy("hello-linux-arm64")
    flip_byte(f)
    assert run("verify", samples.path("hello-linux-amd64-nobuildid"), f).returncode == 1


def test_json_lines_carry_the_fields(samples):
    r = run("verify", "--json", samples.path("hello-linux-amd64"), samples.path("hello-darwin-amd64"))
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        for key in ("file", "format", "build_id", "status", "reason", "stored_content_id",
                    "computed_content_id", "host_build_id"):
            assert key in row
        assert row["status"] == "ok"
        assert row["host_build_id"]["status"] == "derived"


def _swap_action_id(path):
    """Replace the binary's action ID everywhere the full ID occurs, consistently."""
    old = buildidtool.read(str(path)).raw_build_id
    action = old.split(b"/")[0]
    new = bytes(reversed(action)) + old[len(action):]
    assert new != old and len(new) == len(old)
    data = path.read_bytes()
    assert data.count(old) >= 1
    path.write_bytes(data.replace(old, new))
    return new


@pytest.mark.parametrize("name", ["hello-linux-amd64", "hello-darwin-arm64"])
def test_swapped_action_id_is_not_derived(tmp_copy, name):
    f = tmp_copy(name)
    _swap_action_id(f)
    assert run("-w", f).returncode == 0  # make the content ID consistent again
    v = buildidtool.verify(str(f))
    assert v.status == "ok", v.reason  # the content hash alone cannot see it...
    assert v.host_build_id.status == "not-derived"  # ...the host build ID can
    strict = buildidtool.verify(str(f), strict=True)
    assert strict.status == "modified" and "host build ID" in strict.reason
    assert run("verify", "--strict", f).returncode == 1
    assert run("verify", f).returncode == 0


def test_custom_buildid_host_id_is_derived_from_the_id_itself(samples):
    v = buildidtool.verify(str(samples.path("hello-linux-amd64-custombuildid")))
    assert v.host_build_id.status == "derived"


def test_universal_worst_slice_decides(tmp_copy):
    f = tmp_copy("hello-darwin-universal")
    assert buildidtool.verify(str(f)).status == "ok"
    off, size = fat_slices(f.read_bytes())[1]
    flip_byte(f, off + size // 2)
    v = buildidtool.verify(str(f))
    assert [s.status for s in v.slices] == ["ok", "modified"]
    assert v.status == "modified"
    r = run("verify", f)
    assert r.returncode == 1 and len(r.stdout.splitlines()) == 2


def test_rewrite_then_verify_is_ok(tmp_copy):
    f = tmp_copy("hello-windows-amd64")
    flip_byte(f)
    assert buildidtool.verify(str(f)).status == "modified"
    assert buildidtool.rewrite(str(f)).changed
    assert buildidtool.verify(str(f)).status == "ok"
    assert not buildidtool.rewrite(str(f)).changed


def test_gccgo_files_are_not_checkable(samples):
    for name in ("hello-gccgo", "gccgo-buildid"):
        v = buildidtool.verify(str(samples.path(name)))
        assert v.status == "unverifiable" and "gccgo" in v.reason
    assert buildidtool.verify(str(samples.path("hello-gccgo"))).host_build_id.status == "derived"
    assert buildidtool.verify(str(samples.path("libgccgo"))).status == "ok"


def test_a_file_that_cannot_be_checked_is_one_line_on_stderr(samples, tmp_path):
    """verify DIR: the error once, on stderr, as every command words a failed
    file; the other files' verdicts on stdout."""
    good = samples.path("hello-linux-amd64")
    r = run("verify", tmp_path, good, tmp_path / "missing")
    assert r.returncode == 2
    assert r.stdout.decode() == f"{good}: ok [host build ID derived]\n"
    assert r.stderr.decode().splitlines() == [f"buildid: {tmp_path}: is a directory",
                                              f"buildid: {tmp_path / 'missing'}: No such file or directory"]
