"""scan: walking (nested directories, symlinks, loops, FIFOs, unreadable entries,
non-binaries), records, output forms, exit codes, parallelism."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess

import pytest

from helpers import big_copies, flip_byte, run


@pytest.fixture
def tree(samples, tmp_path):
    root = tmp_path / "tree"
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "empty").mkdir()
    os.link(samples.path("hello-linux-amd64"), root / "a" / "hello")
    os.link(samples.path("hello-darwin-universal"), root / "a" / "b" / "universal")
    os.link(samples.path("lib"), root / "a" / "b" / "c" / "lib.a")
    (root / "a" / "notes.txt").write_text("not a binary\n")
    (root / "zero").write_bytes(b"")
    os.mkfifo(root / "a" / "fifo")
    os.symlink("..", root / "a" / "b" / "loop")          # a directory loop
    os.symlink(root / "a" / "hello", root / "link-to-hello")
    os.symlink(root / "nowhere", root / "dangling")
    return root


def records(result):
    return [json.loads(l) for l in result.stdout.splitlines()]


def test_scan_tree_records(tree):
    r = run("scan", "--json", tree, timeout=60)
    assert r.returncode == 0, r.stderr
    recs = records(r)
    names = [os.path.relpath(x["file"], tree) for x in recs]
    assert names == ["a/b/c/lib.a", "a/b/universal", "a/hello", "a/notes.txt", "link-to-hello", "zero"]
    by = {os.path.relpath(x["file"], tree): x for x in recs}
    assert by["a/hello"]["format"] == "elf" and by["a/hello"]["build_id"]
    assert by["a/b/universal"]["format"] == "macho-fat" and len(by["a/b/universal"]["slices"]) == 2
    assert by["a/notes.txt"]["format"] == "unknown" and by["a/notes.txt"]["error"] is None
    assert by["zero"]["format"] == "unknown"
    for rec in recs:
        assert {"go_version", "main_path"} <= set(rec)
    summary = r.stderr.decode().strip().splitlines()[-1]
    assert summary.startswith("scanned 6 files: 4 Go files")
    assert summary.endswith(", 0 errors, 3 skipped (1 symbolic link to a directory: --follow-symlinks enters them; "
                            "1 broken symbolic link; 1 FIFO, device or socket)")


def test_follow_symlinks_visits_links_once(tree):
    r = run("scan", "--json", "--follow-symlinks", tree, timeout=60)
    assert r.returncode == 0, r.stderr  # the dangling link is skipped, as go version -m skips it
    names = sorted(os.path.relpath(x["file"], tree) for x in records(r))
    assert "link-to-hello" in names
    assert len(names) == len(set(names))  # the loop did not recurse
    assert r.stderr.decode().endswith("2 skipped (1 broken symbolic link; 1 FIFO, device or socket)\n")


def test_file_links_followed_as_go_version_does(tree, samples):
    """By default links to files are read, links to directories are not: the Go
    files listed are the ones `go version -m DIR` lists."""
    go = subprocess.run([samples.go, "version", "-m", str(tree)], capture_output=True, text=True)
    listed = {line.split(": ", 1)[0] for line in go.stdout.splitlines() if not line.startswith("\t")}
    assert str(tree / "link-to-hello") in listed
    ours = {x["file"] for x in records(run("scan", "--json", tree)) if x["go_version"]}
    assert listed <= ours and ours - listed <= {str(tree / "a/b/c/lib.a"), str(tree / "a/b/universal")}


def test_no_follow_symlinks_follows_none(tree):
    r = run("scan", "--json", "--no-follow-symlinks", tree)
    assert "link-to-hello" not in {os.path.relpath(x["file"], tree) for x in records(r)}
    assert r.stderr.decode().endswith("4 skipped (3 symbolic links not followed: --no-follow-symlinks; "
                                      "1 FIFO, device or socket)\n")
    r = run("scan", "--follow-symlinks", "--no-follow-symlinks", tree)
    assert r.returncode == 2 and b"choose one" in r.stderr


def test_a_link_loop_is_counted_once(tmp_path):
    """a -> b -> a, and c leading into the loop: one loop, no error, no hang."""
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    os.symlink("a", tmp_path / "c")
    os.symlink("self", tmp_path / "self")
    (tmp_path / "plain").write_bytes(b"x")
    r = run("scan", tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode().endswith("scanned 1 file: 0 Go files, 0 errors, 2 skipped (2 symbolic link loops)\n")


def test_verify_marks_modified_and_sets_exit_code(tree, samples, tmp_path):
    bad = tree / "a" / "b" / "c" / "tampered"
    bad.write_bytes(samples.path("hello-linux-arm64").read_bytes())
    flip_byte(bad)
    r = run("scan", "--json", "--verify", tree, timeout=120)
    assert r.returncode == 1
    by = {os.path.relpath(x["file"], tree): x for x in records(r)}
    assert by["a/b/c/tampered"]["status"] == "modified"
    assert by["a/hello"]["status"] == "ok"
    assert "1 modified" in r.stderr.decode()


def test_csv_and_text_forms(tree):
    r = run("scan", "--csv", tree)
    rows = list(csv.reader(io.StringIO(r.stdout.decode())))
    assert rows[0][:4] == ["file", "format", "arch", "build_id"] and len(rows) == 7
    t = run("scan", tree)
    assert len(t.stdout.splitlines()) == 6
    assert run("scan", "--csv", "--json", tree).returncode == 2


def test_unreadable_root_and_usage(tmp_path):
    r = run("scan", tmp_path / "missing")
    assert r.returncode == 2 and r.stdout.startswith(str(tmp_path / "missing").encode())
    assert r.stderr.count(b"\n") == 1 and b"1 error" in r.stderr
    assert run("scan").returncode == 2
    assert run("scan", "-j", "0", tmp_path).returncode == 2


def test_unreadable_file_is_a_record(tree):
    from helpers import run_unprivileged
    secret = tree / "secret"
    secret.write_bytes(b"x" * 100)
    secret.chmod(0)
    recs = records(run_unprivileged("scan", "--json", tree))
    assert [x["error"] for x in recs if x["file"].endswith("secret")] == ["Permission denied"]


def test_a_thousand_files_one_record_each(samples, tmp_path):
    root = tmp_path / "big"
    files = [samples.path(e["name"]) for e in samples.entries if e["kind"] == "exe"]
    for i in range(1100):
        d = root / f"d{i % 37}"
        d.mkdir(parents=True, exist_ok=True)
        os.link(files[i % len(files)], d / f"f{i}")
    for jobs in ("1", "2"):
        r = run("scan", "--json", "-j", jobs, root, timeout=300)
        recs = records(r)
        assert r.returncode == 0 and len(recs) == 1100
        assert len({x["file"] for x in recs}) == 1100
        with_id = sum(1 for x in recs if x["build_id"] or x["slices"])
        names = [files[i % len(files)].name for i in range(1100)]
        assert with_id == sum(1 for n in names if "nobuildid" not in n)
        assert sum(1 for x in recs if x["error"]) == 0


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_reader_closing_early_ends_the_scan(samples, tmp_path, jobs):
    """`buildid scan DIR | head -1`: the scan (and its workers) must stop
    promptly, quietly, with no worker left behind."""
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "many"
    root.mkdir()
    src = samples.path("hello-linux-amd64")
    for i in range(600):
        os.link(src, root / f"f{i:04}")
    p = subprocess.Popen([sys.executable, "-m", "buildidtool", "scan", "--json", "-j", jobs, str(root)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline().startswith(b'{"file"')
    p.stdout.close()  # the reader goes away
    start = time.monotonic()
    _, err = p.communicate(timeout=30)
    assert time.monotonic() - start < 20
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
    assert p.returncode == -signal.SIGPIPE  # no verdict on a cut output (README, Exit codes)
    # no worker survives its parent
    ps = subprocess.run(["ps", "-eo", "ppid,args"], capture_output=True, text=True).stdout
    assert not [l for l in ps.splitlines() if str(root) in l], ps


def test_unreadable_file_record_simulated(tree, monkeypatch):
    """As root nothing is unreadable, so the operating system's refusal is simulated."""
    from buildidtool import inputs

    real_open = inputs.os.open

    def refuse(path, *a, **kw):
        if str(path).endswith("notes.txt"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *a, **kw)

    monkeypatch.setattr(inputs.os, "open", refuse)
    recs = _scan_all(tree, 1)
    assert recs["a/notes.txt"]["error"] == "Permission denied"
    assert recs["a/hello"]["error"] is None and recs["a/hello"]["build_id"]


def _drain_terminal(master: int, p) -> bytes:
    """Everything written to a pty until the process exits and closes it."""
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=120)
    os.close(master)
    return seen


def test_progress_counter_only_on_a_terminal(samples, tmp_path):
    """A scan longer than a second shows a counter on a terminal stderr; a pipe
    never gets one."""
    import subprocess
    import sys

    root = tmp_path / "slow"
    root.mkdir()
    for i in range(1000):  # several seconds of hashing, well past the one-second threshold
        os.link(samples.path("hello-linux-amd64"), root / f"f{i:04}")
    args = [sys.executable, "-m", "buildidtool", "scan", "--verify", "-j", "1", str(root)]
    master, slave = os.openpty()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = _drain_terminal(master, p)
    assert b"\rscanned " in seen and b"scanned 1000 files" in seen
    piped = subprocess.run(args, capture_output=True, timeout=120)
    assert b"\r" not in piped.stderr and piped.stderr.count(b"\n") == 1


def test_fast_path_equals_click_path_and_skips_click(tree):
    """Well-formed scans bypass click; the output must be what click's path gives."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from buildidtool.cli import cli
    from buildidtool.scanopts import parse as parse_simple

    for args in (["--json", str(tree)], ["--csv", "-j", "1", str(tree)], ["-j1", "--verify", str(tree)],
                 ["--jobs=2", "--follow-symlinks", "--", str(tree)], ["--format", "csv", str(tree)],
                 ["--format=json", "--time-limit", "5", str(tree)], ["--time-limit=0", "-j", "2", str(tree)]):
        assert parse_simple(args) is not None, args
        fast = run("scan", *args)
        slow = CliRunner().invoke(cli, ["scan", *args])
        assert (fast.returncode, fast.stdout) == (slow.exit_code, slow.stdout_bytes), args
    for args in (["--help"], ["--bogus", str(tree)], ["-j", "0", str(tree)], ["--json", "--csv", str(tree)], [],
                 ["--format", "xml", str(tree)], ["--time-limit", "-1", str(tree)], ["--format", "json", "--csv", str(tree)]):
        assert parse_simple(args) is None, args  # click words these
    code = ("import sys; from buildidtool.console import main\n"
            f"sys.argv = ['buildid', 'scan', '--json', {str(tree)!r}]\n"
            "try:\n main()\nexcept SystemExit:\n pass\n"
            "print('click' in sys.modules, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert r.stderr.strip().splitlines()[-1] == b"False"
    assert b"Usage:" in run("scan", "--bogus", tree).stderr


# --- no file ends a scan ------------------------------------------------------

def _sabotage(monkeypatch, victim: str, action):
    """Make the reader do `action` on the file named `victim`; forked workers
    inherit the patch."""
    from buildidtool import inputs

    real = inputs.of_path

    def reader(item, *rest):
        if item.path.endswith(victim):
            action()
        return real(item, *rest)

    monkeypatch.setattr(inputs, "of_path", reader)


def _scan_all(tree, jobs, **kw):
    """The records of a scan of `tree` (JSON objects), by path within it."""
    from buildidtool.ops.scan import scan
    from buildidtool.tree import NO_LINKS, ScanStats, walk
    items = walk([str(tree)], NO_LINKS, ScanStats())
    return {os.path.relpath(r.file, tree): r.to_json() for r in scan(items, jobs, **kw)}


def _crash():
    raise KeyError(0xfeedface)


@pytest.mark.parametrize("jobs", [0, 1, 2])
def test_a_reader_that_raises_is_one_error_record(tree, monkeypatch, jobs):
    _sabotage(monkeypatch, "universal", _crash)
    recs = _scan_all(tree, jobs)
    assert list(recs) == ["a/b/c/lib.a", "a/b/universal", "a/hello", "a/notes.txt", "zero"]
    assert recs["a/b/universal"]["error"] == "internal error: KeyError: 4277009102"
    assert recs["a/hello"]["build_id"] and recs["a/b/c/lib.a"]["build_id"]
    assert all(r["error"] is None for k, r in recs.items() if k != "a/b/universal")


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSEGV"])
def test_a_killed_worker_is_one_error_record(tree, monkeypatch, sig):
    """The out-of-memory killer sends SIGKILL; a crash in C gives SIGSEGV."""
    import signal
    _sabotage(monkeypatch, "a/hello", lambda: os.kill(os.getpid(), getattr(signal, sig)))
    for jobs in (1, 2):
        recs = _scan_all(tree, jobs)
        assert list(recs) == ["a/b/c/lib.a", "a/b/universal", "a/hello", "a/notes.txt", "zero"]
        assert recs["a/hello"]["error"].startswith(f"worker process killed by {sig}")
        assert recs["a/b/universal"]["slices"] and recs["a/b/c/lib.a"]["build_id"]
        assert all(r["error"] is None for k, r in recs.items() if k != "a/hello")


def test_a_slow_file_stops_at_the_time_limit(tree, monkeypatch):
    import time
    _sabotage(monkeypatch, "notes.txt", lambda: time.sleep(60))
    start = time.monotonic()
    recs = _scan_all(tree, 2, time_limit=1.0)
    assert time.monotonic() - start < 20
    assert recs["a/notes.txt"]["error"] == "stopped after the per-file time limit of 1 s"
    assert recs["a/hello"]["build_id"] and recs["zero"]["error"] is None
    assert sum(r["error"] is not None for r in recs.values()) == 1


def test_many_faults_in_a_long_scan_lose_no_record(samples, tmp_path, monkeypatch):
    """Every 50th file kills its worker, every 7th raises: all 1,000 records
    arrive, in order, the faulty ones as errors."""
    import signal
    root = tmp_path / "many"
    root.mkdir()
    for i in range(1000):
        os.link(samples.path("hello-linux-amd64") if i % 3 else samples.path("lib"), root / f"f{i:04}")
    from buildidtool import inputs
    from buildidtool.ops.scan import scan
    from buildidtool.tree import NO_LINKS, ScanStats, walk
    real = inputs.of_path

    def reader(item, *rest):
        n = int(item.path[-4:])
        if n % 50 == 49:
            os.kill(os.getpid(), signal.SIGKILL)
        if n % 7 == 6:
            raise RuntimeError("boom")
        return real(item, *rest)

    monkeypatch.setattr(inputs, "of_path", reader)
    recs = [r.to_json() for r in scan(walk([str(root)], NO_LINKS, ScanStats()), 2)]
    assert [r["file"][-4:] for r in recs] == [f"{i:04}" for i in range(1000)]
    for i, r in enumerate(recs):
        if i % 50 == 49:
            assert r["error"].startswith("worker process killed by SIGKILL"), (i, r["error"])
        elif i % 7 == 6:
            assert r["error"] == "internal error: RuntimeError: boom"
        else:
            assert r["error"] is None and r["build_id"], i


def test_failed_files_are_counted_and_set_the_exit_code(tree, monkeypatch, capfd):
    from buildidtool.ops.scan import run
    from buildidtool.scanopts import Options
    _sabotage(monkeypatch, "a/hello", _crash)
    code = run(Options([str(tree)], "json", jobs=2, archives=None))
    out, err = capfd.readouterr()
    assert code == 2
    assert len(out.splitlines()) == 6  # link-to-hello read too, as a link to a file
    assert err.splitlines()[-1].startswith("scanned 6 files: 3 Go files") and ", 1 error," in err


def test_a_worker_killed_from_outside_mid_scan(samples, tmp_path):
    """`kill -9` of a worker of a running `buildid scan`: the file it was on
    is an error record, every other record arrives, exit 2."""
    import signal
    import subprocess
    import sys
    import threading
    import time

    root = big_copies(samples.path("hello-linux-amd64"), tmp_path, 100)

    def scan_and_kill():
        p = subprocess.Popen([sys.executable, "-m", "buildidtool", "scan", "--json", "--verify", "-j", "2",
                              str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Read as it comes: a full pipe would stall the scan and leave the workers idle.
        lines, got = [], {}

        def read_all():
            for line in p.stdout:
                lines.append(line)
            got["err"] = p.stderr.read()
        reader = threading.Thread(target=read_all)
        reader.start()
        children = []  # kill once records flow: each worker is then on a file with more queued
        deadline = time.monotonic() + 30
        while not (children and lines) and time.monotonic() < deadline:
            with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                children = [int(c) for c in f.read().split()]
            time.sleep(0.005)
        assert children, "no worker appeared"
        assert p.poll() is None and 0 < len(lines) < 80, "the scan was not under way"
        os.kill(children[0], signal.SIGKILL)
        reader.join(timeout=120)
        p.wait(timeout=10)
        recs = [json.loads(line) for line in lines]
        assert [r["file"][-4:] for r in recs] == [f"{i:04}" for i in range(100)]
        return recs, got["err"], p.returncode

    # A kill that lands between two files (the worker on none) rightly blames none:
    # its batch goes to the new worker whole. Then try again; it lands on a file
    # nearly always.
    for _ in range(3):
        recs, err, status = scan_and_kill()
        errors = [r for r in recs if r["error"]]
        if errors or status != 0:
            break
        assert all(r["status"] == "ok" for r in recs)
    assert [r["error"] for r in errors] == ["worker process killed by SIGKILL (out of memory?) while reading this file"]
    assert errors[0]["status"] == "error"
    assert all(r["status"] == "ok" for r in recs if not r["error"])
    assert status == 2 and b", 1 error," in err


# --- what a new user trips over ------------------------------------------------

@pytest.fixture
def odd_names(samples, tmp_path):
    """Names with a newline, an ESC, a tab, a quote and a comma, and one that is not UTF-8."""
    root = tmp_path / "odd"
    root.mkdir()
    names = ["new\nline", "esc\x1b[31mred", "tab\there", 'quote"comma,']
    for n in names:
        (root / n).write_text("text\n")
    os.link(samples.path("hello-linux-amd64"), os.path.join(os.fsencode(root), b"bad\xffname"))
    return root


def test_csv_is_rfc4180_and_reads_back_exactly(odd_names):
    r = run("scan", "--csv", odd_names)
    assert r.returncode == 0
    assert r.stdout.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(r.stdout.decode("utf-8", "surrogateescape"), newline="")))
    assert rows[0] == ["file", "format", "arch", "build_id", "go_version", "main_path", "recovered_modules", "status",
                       "reason", "error"]
    names = sorted(os.path.basename(row[0]) for row in rows[1:])
    assert names == sorted(["new\nline", "esc\x1b[31mred", "tab\there", 'quote"comma,',
                            os.fsdecode(b"bad\xffname")])
    assert {row[1] for row in rows[1:]} == {"unknown", "elf"}
    assert run("scan", "--format", "csv", odd_names).stdout == r.stdout


def test_text_escapes_every_control_byte_and_raw_byte(odd_names):
    r = run("scan", odd_names)
    lines = r.stdout.split(b"\n")[:-1]
    assert len(lines) == 5 and all(l.count(b"\t") == 5 for l in lines)  # 6 columns
    assert not any(b < 0x20 and b != 9 and b != 10 for b in r.stdout) and b"\xff" not in r.stdout
    text = r.stdout.decode("ascii")
    for shown in ("new\\nline", "esc\\x1b[31mred", "tab\\there", "bad\\xffname"):
        assert shown in text, shown


def test_json_names_are_unicode_and_raw_names_round_trip(odd_names):
    import base64
    r = run("scan", "--json", odd_names)
    recs = [json.loads(l) for l in r.stdout.decode("ascii").splitlines()]
    bad = [x for x in recs if "file_bytes" in x]
    assert len(bad) == 1 and bad[0]["file"].endswith("bad\ufffdname") and bad[0]["build_id"]
    assert base64.b64decode(bad[0]["file_bytes"]) == os.path.join(os.fsencode(odd_names), b"bad\xffname")
    for x in recs:
        x["file"].encode("utf-8")  # valid Unicode: no lone surrogate
    assert sorted(os.path.basename(x["file"]) for x in recs if "file_bytes" not in x) == \
        sorted(["new\nline", "esc\x1b[31mred", "tab\there", 'quote"comma,'])


def test_verify_text_has_status_and_reason_columns(tree, samples):
    bad = tree / "tampered"
    bad.write_bytes(samples.path("hello-linux-arm64").read_bytes())
    flip_byte(bad)
    r = run("scan", "--verify", tree)
    rows = {os.path.relpath(l.split("\t")[0], tree): l.split("\t") for l in r.stdout.decode().splitlines()}
    assert all(len(cols) == 8 for cols in rows.values())
    assert rows["a/hello"][5:] == ["ok", "-", "-"]
    # The modification kinds and what was seen, as verify's text says them.
    assert rows["tampered"][5] == "modified" and rows["tampered"][6].startswith("unexplained (seen: ")
    assert rows["a/notes.txt"][5:7] == ["no-build-id", "the file has no Go build ID"]


def test_a_missing_path_is_an_error_record_and_the_rest_is_scanned(samples, tmp_path):
    good = samples.path("hello-linux-amd64")
    r = run("scan", "--json", good, tmp_path / "nonexistent", samples.path("lib"))
    recs = records(r)
    assert r.returncode == 2
    assert [x["file"] for x in recs] == [str(good), str(tmp_path / "nonexistent"), str(samples.path("lib"))]
    assert recs[0]["build_id"] and recs[2]["build_id"]
    assert recs[1]["error"] == "No such file or directory"
    assert r.stderr.decode().endswith(", 1 error, 0 skipped\n")


def test_summary_grammar(samples):
    r = run("scan", samples.path("hello-linux-amd64"))
    assert r.stderr.decode().startswith("scanned 1 file: 1 Go file (go")
    assert ", 0 errors," in r.stderr.decode()


def test_progress_never_shares_a_line_with_records(samples, tmp_path):
    """stdout and stderr on one terminal: the counter is cleared before records print."""
    import re
    import subprocess
    import sys

    root = tmp_path / "slow"
    root.mkdir()
    for i in range(1000):
        os.link(samples.path("hello-linux-amd64"), root / f"f{i:04}")
    master, slave = os.openpty()
    p = subprocess.Popen([sys.executable, "-m", "buildidtool", "scan", "--verify", "-j", "1", str(root)],
                         stdout=slave, stderr=slave)
    os.close(slave)
    seen = _drain_terminal(master, p)
    assert b"\rscanned " in seen, "no progress was shown"
    starts = [m.start() for m in re.finditer(re.escape(str(root).encode()), seen)]
    assert len(starts) == 1000
    for at in starts:  # each record starts a fresh line, or a line just cleared
        assert at == 0 or seen[:at].endswith((b"\n", b"\r\x1b[K")), seen[max(0, at - 40):at + 10]


def test_format_option_and_shorthands(tree):
    assert run("scan", "--format", "json", tree).stdout == run("scan", "--json", tree).stdout
    assert run("scan", "--format=text", tree).stdout == run("scan", tree).stdout
    for bad in (["--format", "xml"], ["--format", "json", "--csv"], ["--json", "--csv"]):
        r = run("scan", *bad, tree)
        assert r.returncode == 2 and b"Usage:" in r.stderr and not r.stdout


def test_sniffing_rules_out_other_files_by_their_first_byte():
    """formats.magic.sniff returns early unless the first byte can begin a
    known magic; that set must cover every magic the module knows."""
    import struct

    from buildidtool.formats import magic
    heads = [magic.AR, magic.BIGAF, magic.ELF, *magic.MACHO, *magic.FAT, magic.WASM, magic.DOS]
    heads += [struct.pack(">H", m) for m in magic.XCOFF] + [struct.pack(">I", m) for m in magic.PLAN9]
    assert all(h[:1] in magic.FIRST_BYTES for h in heads)


def test_json_short_cut_equals_the_general_encoder():
    """Records of files with nothing to say take a short cut in JsonFormat."""
    from buildidtool.facts import SCAN, Facts
    from buildidtool.report.scan import JsonFormat
    fmt = JsonFormat(False)
    for name in ["a", 'q"\\', "caf\u00e9", "x\x1by", "\u2028"]:
        rec = Facts(name, asked=SCAN)
        assert fmt.render(rec) == json.dumps(rec.to_json()) + "\n"
        rec = rec.replace(go_version="go1.2")  # not blank: the general path
        assert fmt.render(rec) == json.dumps(rec.to_json()) + "\n"


def test_scan_json_is_every_other_commands_json_line():
    """One rule for a JSON record: scan's fast writer gives report.records.json_line's text,
    names that are not UTF-8 (file_bytes) included."""
    from buildidtool.facts import SCAN, Facts, failed
    from buildidtool.report.records import ScanJson, json_line
    line = ScanJson(Facts("", asked=SCAN)).line
    for name in ["a", "caf\u00e9", "bad\udcff\udc80name", "x\x1by"]:
        for rec in (Facts(name, asked=SCAN), Facts(name, asked=SCAN, format="elf", raw_build_id=b"a/b"),
                    failed(name, "no such file", SCAN)):
            assert line(rec) == json_line(rec)
            assert json.loads(line(rec))["file"] == name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def test_the_parent_never_reads_a_half_written_slot(monkeypatch):
    """The parent reads each worker's current item and its start time while
    the worker writes them; a torn read (a start of 0.0) once made the time
    limit stop files that had just begun."""
    from buildidtool import workers

    torn = []
    real = workers._Pool._slot

    def watched(self, k):
        seq, index, start = real(self, k)
        if index >= 0 and start == 0.0:
            torn.append((seq, index))
        return seq, index, start

    monkeypatch.setattr(workers._Pool, "_slot", watched)
    out = list(workers.ordered(range(300_000), lambda x: x, lambda x, m: m, sum, 2, time_limit=300))
    assert sum(out) == sum(range(300_000)) and not torn


def test_verify_records_carry_the_judged_host_build_id(samples):
    """scan --verify gives each host build ID the status and reason verify gives it."""
    import buildidtool

    for name in ("hello-linux-amd64", "hello-darwin-universal64"):
        path = samples.path(name)
        r = run("scan", "--verify", "--json", "-j", "1", path)
        rec = json.loads(r.stdout.splitlines()[0])
        v = buildidtool.verify(str(path)).to_json()
        units = list(zip(rec["slices"], v["slices"])) if rec["slices"] else [(rec, v)]
        for got, want in units:
            assert got["host_build_id"] == want["host_build_id"]
            assert got["host_build_id"]["status"] == "derived"


def test_go_only_lists_go_files_and_failures(tree):
    (tree / "gone").symlink_to(tree / "nowhere-either")
    everything = records(run("scan", "--json", "--follow-symlinks", tree))
    only = run("scan", "--json", "--go-only", "--follow-symlinks", tree)
    listed = records(only)
    assert {os.path.relpath(r["file"], tree) for r in listed} == \
        {os.path.relpath(r["file"], tree) for r in everything
         if r["build_id"] or r["go_version"] or r["slices"] or r["error"]}
    assert "a/notes.txt" not in {os.path.relpath(r["file"], tree) for r in listed}
    # The summary still counts every file.
    assert only.stderr == run("scan", "--json", "--follow-symlinks", tree).stderr
    text = run("scan", "--go-only", tree).stdout.decode().splitlines()
    assert len(text) == len(records(run("scan", "--json", "--go-only", tree)))


def test_a_link_member_says_what_it_links_to_in_text(tmp_path, samples):
    import tarfile
    pkg = tmp_path / "pkg.tar"
    with tarfile.open(pkg, "w") as t:
        t.add(samples.path("hello-linux-amd64"), "bin/hello")
        link = tarfile.TarInfo("bin/hi")
        link.type, link.linkname = tarfile.SYMTYPE, "hello"
        t.addfile(link)
    rows = [line.split("\t") for line in run("scan", pkg).stdout.decode().splitlines()]
    (hi,) = [r for r in rows if r[0].endswith("!/bin/hi")]
    assert hi[1] == "link" and hi[-1] == "symlink to hello"


def test_text_has_a_header_row_on_a_terminal_only(tree):
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "buildidtool", "scan", "--verify", str(tree / "a" / "hello")],
                         stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    lines = _drain_terminal(master, p).decode().splitlines()
    assert lines[0].split("\t") == ["FILE", "FORMAT", "ARCH", "GO", "BUILD ID", "STATUS", "REASON", "ERROR / LINK"]
    assert lines[1].split("\t")[0] == str(tree / "a" / "hello")
    piped = run("scan", "--verify", tree / "a" / "hello").stdout.decode().splitlines()
    assert len(piped) == 1 and piped[0].startswith(str(tree))


def test_a_worker_dying_inside_a_streamed_item_repeats_and_loses_nothing():
    """With results sent in parts, a worker that dies resumes where the parent's
    parts end: an item whose results went out in part keeps them, then its
    fault; items whose results died with the worker are read again, skipping
    what already went out; nothing twice, nothing lost but the dead items' rest."""
    import signal
    from buildidtool import workers

    def work(item):
        for k in range(150):
            if (item, k) in ((4, 0), (7, 120)):
                os.kill(os.getpid(), signal.SIGKILL)
            yield item, k

    out = [r for part in workers.ordered(range(10), work, lambda item, why: [("fault", item, why)],
                                         lambda per_item: [r for rs in per_item for r in rs], 2, part=100)
           for r in part]
    faults = [r for r in out if r[0] == "fault"]
    assert [f[1] for f in faults] == [4, 7] and all("SIGKILL" in f[2] for f in faults)
    seven = [r for r in out if r[0] == 7]
    assert seven == [(7, k) for k in range(len(seven))] and len(seven) <= 120
    expected = [(i, k) for i in range(10) if i not in (4, 7) for k in range(150)]
    assert [r for r in out if r[0] not in ("fault", 7)] == expected
    at = out.index(faults[0])
    assert out[at - 1] == (3, 149) and out[at + 1] == (5, 0)


@pytest.mark.parametrize("args", [["scan", "--json"], ["scan", "--verify", "-j", "1"], ["read"], ["verify"],
                                  ["hash"], []], ids=["scan", "scan-verify", "read", "verify", "hash", "go-form"])
def test_output_closed_before_anything_is_written(samples, args):
    """The reader is gone before the first line: every command ends killed by
    SIGPIPE (a shell's 141), whatever the files hold, as the reference does."""
    import signal
    import sys

    target = samples.path("hello-linux-amd64")
    r, w = os.pipe()
    os.close(r)
    try:
        ours = subprocess.run([sys.executable, "-m", "buildidtool", *args, str(target)], stdout=w,
                              stderr=subprocess.PIPE, timeout=60)
        ref = subprocess.run([str(samples.reference), str(target)], stdout=w, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(w)
    assert ours.returncode == ref.returncode == -signal.SIGPIPE
    assert b"Traceback" not in ours.stderr and b"Exception ignored" not in ours.stderr, ours.stderr
