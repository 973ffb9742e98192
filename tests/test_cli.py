"""`read`, `hash`, `rewrite` on the command line: output shapes, JSON fields,
exit codes, and what the Go-compatible path imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import buildidtool
from helpers import flip_byte, modules_loaded, run

# No local path may load an HTTP client: remote inputs import theirs when one is named.
HTTP = ("http.client", "ssl", "socket", "buildidtool.remote.http", "urllib3", "httpx")
HEAVY = ("lief", "elftools", "click", "construct", "json", "tempfile", *HTTP)


def test_read_json_on_every_sample(samples):
    files = [samples.path(e["name"]) for e in samples.entries]
    r = run("read", "--json", *files)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(rows) == len(files)
    for e, row in zip(samples.entries, rows):
        assert row["file"] == str(samples.path(e["name"]))
        assert row["format"] == e["format"], e["name"]
        assert row["error"] is None
        ref = samples.run_reference(row["file"]).stdout.rstrip(b"\n").decode()
        if e["format"] == "macho-fat":
            assert row["build_id"] is None and len(row["slices"]) == 2
            assert row["slices"][0]["build_id"] == ref  # Go sees the first slice
            continue
        if e["name"] != "gccgo-buildid":  # Go does not look inside a lone _buildid.o
            assert (row["build_id"] or "") == ref, e["name"]
        data = row["file"]
        if row["build_id"]:
            with open(data, "rb") as f:
                for off in row["locations"]:
                    f.seek(off)
                    assert f.read(len(row["build_id"])) == row["build_id"].encode()
        n = len(row["build_id"].split("/")) if row["build_id"] else 0
        assert (row["parts"] is not None) == (n in (2, 4))
        if e["kind"] == "exe" and e["format"] in ("elf", "macho", "pe") and row["build_id"] \
                and "gccgo" not in e["name"] and "custom" not in e["name"]:
            assert n == 4 and set(row["parts"]) == {"action", "main_action", "main_content", "content"}
        if e["format"] == "go-archive":
            assert set(row["parts"]) == {"action", "content"}
        if e["goarch"] and e["format"] not in ("gccgo-archive",) and e["name"] != "gccgo-buildid":
            assert row["arch"] == e["goarch"], e["name"]


def test_host_build_ids_in_json(samples):
    elf = json.loads(run("read", "--json", samples.path("hello-linux-amd64")).stdout)
    assert elf["host_build_id"]["kind"] == "gnu" and len(elf["host_build_id"]["hex"]) == 40
    mac = json.loads(run("read", "--json", samples.path("hello-darwin-arm64")).stdout)
    assert mac["host_build_id"]["kind"] == "macho-uuid" and len(mac["host_build_id"]["hex"]) == 32
    assert mac["code_signature"]["size"] > 0


def test_read_text_forms(samples):
    one = samples.path("hello-linux-amd64")
    ref = samples.run_reference(one).stdout
    assert run("read", one).stdout == ref
    two = run("read", one, samples.path("lib"))
    lines = two.stdout.decode().splitlines()
    assert lines[0] == f"{one}: {ref.decode().strip()}" and lines[1].startswith(f"{samples.path('lib')}: ")
    none = run("read", samples.path("hello-linux-amd64-nobuildid"))
    assert none.returncode == 0 and none.stdout.startswith(b"(no Go build ID")


def test_non_go_elf_prints_hex_not_bytes(tmp_path):
    if not __import__("os").path.exists("/bin/ls"):
        pytest.skip("no /bin/ls")
    info = buildidtool.read("/bin/ls")
    if info.host_build_id is None:
        pytest.skip("/bin/ls has no GNU build ID")
    r = run("read", "/bin/ls")
    assert r.stdout.decode("ascii").strip().endswith(info.host_build_id.hex + ")")
    raw = run("/bin/ls").stdout
    assert raw == bytes.fromhex(info.host_build_id.hex) + b"\n"  # the Go tool prints raw bytes


def test_read_continues_after_a_bad_file(samples, tmp_path):
    r = run("read", "--json", tmp_path / "missing", samples.path("lib"))
    assert r.returncode == 2
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    assert rows[0]["error"] and rows[1]["build_id"]
    assert r.stderr.count(b"\n") == 1


def test_hash_matches_rewrite_and_reports_spans(samples):
    f = samples.path("hello-darwin-arm64")
    r = run("hash", "--json", f)
    row = json.loads(r.stdout)
    info = buildidtool.read(str(f))
    assert row["content_id"] == info.parts["content"]  # pristine: the stored ID is the hash
    assert row["matches"] == list(info.locations)
    sig = info.code_signature
    off, size = sig.offset, sig.size
    assert {"offset": off, "size": size} in row["excluded"]
    assert {"offset": info.host_build_id.offset, "size": 16} in row["excluded"]
    plain = run("hash", f).stdout.decode().split()
    assert plain == [row["content_id"], row["sha256"]]


def test_hash_with_explicit_id_and_universal(samples):
    f = samples.path("hello-linux-amd64")
    own = run("hash", f).stdout.split()[0]
    other = run("hash", "--id", "nothing-like-this-occurs", f).stdout.split()[0]
    assert own != other
    fat = run("hash", samples.path("hello-darwin-universal")).stdout.decode().splitlines()
    assert [l.split()[0] for l in fat] == ["[amd64]", "[arm64]"]
    assert run("hash", samples.path("hello-linux-amd64-nobuildid")).returncode == 2


def test_rewrite_command_reports(tmp_copy):
    f = tmp_copy("hello-linux-arm")
    flip_byte(f)
    r = run("rewrite", "--json", f)
    row = json.loads(r.stdout)
    assert r.returncode == 0 and row["changed"] and row["units"][0]["old_id"] != row["units"][0]["new_id"]
    again = run("rewrite", f)
    assert again.stdout.decode().strip() == f"{f}: unchanged"


def test_rewrite_refusals_exit_2_and_leave_file(tmp_copy):
    for name in ("hello-linux-amd64-custombuildid", "hello-linux-amd64-nobuildid"):
        f = tmp_copy(name)
        before = f.read_bytes()
        r = run("rewrite", f)
        assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and str(f).encode() in r.stderr
        assert f.read_bytes() == before


def test_usage_errors(samples):
    f = samples.path("hello-linux-amd64")
    assert run().returncode == 2
    assert run(f, f).returncode == 2
    assert run("-x", f).returncode == 2
    assert run("read").returncode == 2
    assert run("verify", "--bogus", f).returncode == 2
    assert run("-w=false", f).stdout == samples.run_reference(f).stdout


def test_module_entry_point_and_version():
    r = subprocess.run([sys.executable, "-m", "buildidtool", "--version"], capture_output=True)
    assert r.returncode == 0 and buildidtool.__version__.encode() in r.stdout


# The SBOM libraries cost 0.2-0.5 s to import: only `scan --format cyclonedx-json|spdx-json` may.
SBOM_LIBS = ("cyclonedx", "packageurl", "spdx_tools", "jsonschema", "sortedcontainers")


@pytest.mark.parametrize("args,heavy", [
    (["FILE"], HEAVY), (["-w", "FILE"], HEAVY),
    *[(a, SBOM_LIBS + HTTP) for a in (["read", "FILE"], ["read", "--json", "FILE"], ["verify", "FILE"],
                               ["hash", "FILE"], ["info", "--json", "FILE"], ["scan", "--json", "FILE"],
                               ["scan", "FILE"], ["scan", "--format", "csv", "--verify", "FILE"])]])
def test_go_compatible_path_imports_nothing_heavy(tmp_copy, args, heavy):
    f = tmp_copy("hello-linux-amd64")
    loaded, err = modules_loaded([f if a == "FILE" else a for a in args], heavy)
    assert loaded == [], err


def test_verify_and_hash_do_not_import_lief(samples):
    f = samples.path("hello-darwin-arm64")
    code = ("import sys, buildidtool\n"
            f"buildidtool.verify({str(f)!r}); buildidtool.hash_file({str(f)!r})\n"
            "print('lief' in sys.modules or 'elftools' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).stdout == b"False\n"


# --- what a new user trips over ------------------------------------------------

def test_help_flags_and_misspelt_commands(samples):
    for cmd in ("read", "hash", "rewrite", "verify", "info", "scan"):
        r = run(cmd, "-h")
        assert r.returncode == 0 and r.stdout.startswith(f"Usage: buildid {cmd} ".encode()), cmd
    for flag in ("-h", "-help"):
        r = run(flag)
        assert r.returncode == 2 and b"flag provided but not defined" not in r.stderr
        assert b"buildid --help" in r.stderr and b"buildid COMMAND -h" in r.stderr
    r = run("raed", samples.path("hello-linux-amd64"))
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == b'buildid: unknown command "raed"; did you mean "read"?'
    assert b"did you mean" not in run("zzzz", "yyyy").stderr


def test_the_command_list_matches_click():
    from buildidtool.cli import cli
    from buildidtool.commands import COMMANDS
    assert set(cli.commands) == COMMANDS


def test_non_go_files_are_described_truly(tmp_path):
    ls = "/bin/ls"
    info = buildidtool.read(ls) if os.path.exists(ls) else None
    if info is None or info.host_build_id is None or info.build_id:
        pytest.skip("no non-Go /bin/ls with a GNU build ID")
    text = run("info", ls).stdout.decode()
    assert "(not-applicable: the file has no Go build ID to derive it from)" in text and "not-derived" not in text
    assert json.loads(run("info", "--json", ls).stdout)["host_build_id"]["status"] == "not-applicable"
    copy = tmp_path / "ls"
    copy.write_bytes(open(ls, "rb").read())
    r = run("rewrite", copy)
    assert r.returncode == 2 and r.stderr.decode().strip() == f"buildid: {copy}: no Go build ID to rewrite"
    go_form = run("-w", copy)  # Go's own words, in the Go-compatible form
    assert go_form.returncode == 1 and b"legacy format" in go_form.stderr


def test_hash_takes_several_files(samples, tmp_path):
    a, b = samples.path("hello-linux-amd64"), samples.path("hello-darwin-universal")
    one = run("hash", a).stdout.decode().split()
    r = run("hash", a, tmp_path / "missing", b)
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and b"missing" in r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0] == f"{a}: {one[0]} {one[1]}"
    assert [l.split(": ")[0] for l in lines[1:]] == [f"{b} [amd64]", f"{b} [arm64]"]
    rows = [json.loads(l) for l in run("hash", "--json", a, b).stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(a), str(b), str(b)]


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
@pytest.mark.parametrize("cmd", ["read", "info", "hash", "verify"])
def test_standard_input_from_a_pipe(samples, cmd, name):
    f = samples.path("hello-darwin-arm64")
    data = f.read_bytes()
    piped = subprocess.run([sys.executable, "-m", "buildidtool", cmd, "--json", name], input=data,
                           capture_output=True)
    direct = run(cmd, "--json", f)
    assert piped.returncode == direct.returncode == 0, piped.stderr
    got = [json.loads(l) for l in piped.stdout.splitlines()]
    want = [json.loads(l) for l in direct.stdout.splitlines()]
    assert all(g["file"] == name for g in got)
    for g, w in zip(got, want):
        g["file"] = w["file"]
    assert got == want


def test_standard_input_errors_name_it():
    r = subprocess.run([sys.executable, "-m", "buildidtool", "read", "-"], input=b"",
                       capture_output=True)
    assert r.returncode == 0 and r.stdout == b"(no Go build ID)\n"
    r = subprocess.run([sys.executable, "-m", "buildidtool", "hash", "-"], input=b"short",
                       capture_output=True)
    assert r.returncode == 2 and r.stderr.startswith(b"buildid: -: ") and r.stderr.count(b"\n") == 1


def test_usage_names_every_command():
    from buildidtool.commands import COMMANDS
    from buildidtool.gocompat import USAGE

    assert ", ".join(sorted(COMMANDS)) in USAGE
