"""The report layer and the API's result types: an error record has the keys
of any other record of its command; every result type has to_json() and a
repr that says what it holds; IDs are text; read and verify give the host
build ID as the same kind of object."""
from __future__ import annotations

import json

import pytest

import buildidtool
from buildidtool.facts import HostID
from helpers import flip_byte, run

COMMANDS = [("read", ["read", "--json"]), ("hash", ["hash", "--json"]), ("verify", ["verify", "--json"]),
            ("info", ["info", "--json"]), ("rewrite", ["rewrite", "--dry-run", "--json"])]


def records(args, path) -> tuple[int, list[dict]]:
    r = run(*args, path)
    return r.returncode, [json.loads(line) for line in r.stdout.splitlines()]


@pytest.mark.parametrize("name,args", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_error_record_has_every_key(tmp_copy, tmp_path, name, args):
    good = tmp_copy("hello-linux-amd64")
    flip_byte(good)  # rewrite --dry-run has something to say
    status, (ok,) = records(args, good)
    assert status in (0, 1) and ok["error"] is None
    for bad in (tmp_path / "missing", tmp_path):  # unreadable; not a regular file
        status, (failed,) = records(args, bad)
        assert status == 2
        assert failed.keys() == ok.keys(), name
        assert failed["file"] == str(bad) and failed["error"]


def test_info_json_keeps_nothing_private(samples):
    status, (rec,) = records(["info", "--json"], samples.path("hello-darwin-universal"))
    assert status == 0 and not [k for k in rec if k.startswith("_")]
    assert not [k for s in rec["slices"] for k in s if k.startswith("_")]


def test_host_build_id_is_one_kind_of_object(samples):
    path = str(samples.path("hello-linux-amd64"))
    info, verdict = buildidtool.read(path), buildidtool.verify(path)
    assert type(info.host_build_id) is type(verdict.host_build_id) is HostID
    assert (info.host_build_id.kind, info.host_build_id.hex) == (verdict.host_build_id.kind,
                                                                verdict.host_build_id.hex)
    assert info.host_build_id.status is None and verdict.host_build_id.status == "derived"
    # One JSON shape: read leaves the judgement empty.
    assert info.to_json()["host_build_id"].keys() == verdict.to_json()["host_build_id"].keys()


def test_ids_are_text(tmp_copy):
    f = tmp_copy("hello-linux-amd64")
    flip_byte(f)
    (unit,) = buildidtool.rewrite(str(f), dry_run=True).units
    assert isinstance(unit.old_id, str) and isinstance(unit.new_id, str) and unit.old_id != unit.new_id
    (report,) = buildidtool.hash_file(str(f))
    assert report.placeholder == unit.old_id and unit.new_id.endswith("/" + report.content_id)
    assert buildidtool.read(str(f)).build_id == unit.old_id
    assert isinstance(buildidtool.read_reference(str(f)), bytes)  # raw bytes where asked for


def test_every_result_has_to_json_and_a_readable_repr(samples, tmp_copy):
    f = tmp_copy("hello-linux-amd64")
    flip_byte(f)
    path = str(f)
    rewritten = buildidtool.rewrite(path, dry_run=True)
    verdict = buildidtool.verify(path)
    info = buildidtool.read(path)
    (report,) = buildidtool.hash_file(path)
    results = [info, info.host_build_id, verdict, rewritten, rewritten.units[0], report, report.excluded[0],
               buildidtool.diff(path, str(samples.path("hello-linux-amd64"))),
               buildidtool.diff(path, str(samples.path("hello-linux-amd64"))).units[0], verdict.modification[0],
               buildidtool.read_build_info(path)]
    for r in results:
        text = repr(r)
        assert " object at 0x" not in text, text
        json.dumps(r.to_json())
    assert "hello-linux-amd64" in repr(info) and info.build_id in repr(info)
    assert "modified" in repr(verdict)
    assert rewritten.units[0].new_id in repr(rewritten)
    assert report.content_id in repr(report)


def test_failed_results_in_the_api(tmp_path):
    v = buildidtool.verify(str(tmp_path / "missing"))
    assert v.status == "error" and v.to_json()["error"] == v.reason
    assert "error" in repr(v)


CSV_COMMANDS = [("read", ["read", "--csv"]), ("hash", ["hash", "--csv"]), ("verify", ["verify", "--csv"]),
                ("info", ["info", "--csv"]), ("rewrite", ["rewrite", "--dry-run", "--csv"])]


def csv_table(stdout: bytes) -> list[list[str]]:
    import csv
    import io
    assert stdout.endswith(b"\r\n")
    return list(csv.reader(io.StringIO(stdout.decode(), newline="")))


@pytest.mark.parametrize("name,args", CSV_COMMANDS, ids=[c for c, _ in CSV_COMMANDS])
def test_csv_of_every_command(samples, tmp_path, name, args):
    from buildidtool.report.table import CSV_COLUMNS

    fat = str(samples.path("hello-darwin-universal"))
    header, *rows = csv_table(run(*args, fat).stdout)
    assert header == list(CSV_COLUMNS[name])
    col = dict(zip(header, zip(*rows)))
    assert col["arch"] == ("amd64", "arm64") and col["file"] == (fat, fat)  # a row per slice
    assert all(e == "" for e in col["error"])
    r = run(*args, tmp_path / "missing")
    header2, bad = csv_table(r.stdout)
    assert r.returncode == 2 and header2 == header and len(bad) == len(header)
    assert dict(zip(header, bad))["error"] == "No such file or directory"


def test_csv_of_diff(samples, tmp_copy):
    f = tmp_copy("hello-linux-amd64")
    flip_byte(f)
    r = run("diff", "--csv", f, samples.path("hello-linux-amd64"))
    header, row = csv_table(r.stdout)
    rec = dict(zip(header, row))
    assert r.returncode == 1 and rec["same"] == "false" and rec["differing_bytes"] == "1"


def test_one_output_format_at_a_time(samples):
    r = run("read", "--json", "--csv", samples.path("hello-linux-amd64"))
    assert r.returncode == 2 and b"choose one output format" in r.stderr


@pytest.mark.parametrize("command", ["read", "verify", "info", "hash"])
def test_json_names_that_are_not_utf8_round_trip(samples, tmp_path, command):
    """Every command's JSON names a file as scan's does: valid Unicode in `file`
    and the raw bytes in `file_bytes` when the name is not UTF-8."""
    import base64
    import os
    import shutil

    raw = os.path.join(os.fsencode(tmp_path), b"bad\xffname")
    shutil.copyfile(samples.path("hello-linux-amd64"), raw)
    r = run(command, "--json", os.fsdecode(raw))
    r.stdout.decode("utf-8")  # strict: no lone surrogate escapes either
    rec = json.loads(r.stdout.splitlines()[0])
    assert rec["file"].encode("utf-8").endswith("bad\ufffdname".encode())
    assert "\udcff" not in rec["file"]
    assert base64.b64decode(rec["file_bytes"]) == raw
