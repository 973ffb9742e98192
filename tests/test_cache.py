"""scan --cache: the same records with and without it; a second scan of an
unchanged tree opens no file (counted by the kernel: tests/filewatch.py); a
changed, touched or replaced file is read again; a cache of another version is
ignored; a file that is not a cache is refused, a damaged cache rebuilt."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time

import pytest

from filewatch import Watch
from helpers import run


def make_tree(samples, root):
    """Copies (tests change them in place) of a few binaries, an archive and plain files."""
    (root / "bin" / "sub").mkdir(parents=True)
    shutil.copy(samples.path("hello-linux-amd64"), root / "bin" / "hello")
    shutil.copy(samples.path("hello-darwin-universal"), root / "bin" / "sub" / "universal")
    shutil.copy(samples.path("lib"), root / "bin" / "lib.a")
    with tarfile.open(root / "pkg.tar.gz", "w:gz") as t:
        t.add(samples.path("hello-linux-arm64"), "usr/bin/hello")
        t.add(samples.path("hello-windows-amd64.exe"), "usr/bin/hello.exe")
    (root / "notes.txt").write_text("not a binary\n")
    (root / "empty").write_bytes(b"")
    # Entries are trusted only once a file is older than their read by cache.RACY_NS: let the tree age.
    time.sleep(1.1)
    return root


FILES = {"bin/hello", "bin/sub/universal", "bin/lib.a", "pkg.tar.gz", "notes.txt", "empty"}


@pytest.fixture
def tree(samples, tmp_path):
    return make_tree(samples, tmp_path / "tree")


def scan(*args):
    r = run("scan", *args, timeout=300)
    assert b"Traceback" not in r.stderr, r.stderr
    return r


def watched(root, *args):
    with Watch(root) as w:
        r = scan(*args)
    return r, w


@pytest.mark.parametrize("form", [["--json"], ["--json", "--verify"], ["--csv"], [],
                                  ["--format", "cyclonedx-json", "--reproducible"]])
def test_same_records_with_and_without_the_cache(tree, tmp_path, form):
    db = tmp_path / "cache.db"
    plain = scan(*form, tree)
    first = scan(*form, "--cache", db, tree)
    second = scan(*form, "--cache", db, tree)
    assert plain.stdout and plain.stdout == first.stdout == second.stdout
    assert plain.returncode == first.returncode == second.returncode
    assert plain.stderr == first.stderr == second.stderr


def test_a_second_scan_reads_no_file(tree, tmp_path):
    db = tmp_path / "cache.db"
    first, w1 = watched(tree, "--json", "--verify", "--cache", db, tree)
    assert first.returncode == 0 and w1.read == FILES - {"empty"} and w1.opened == FILES
    for jobs in ("1", "2"):
        again, w2 = watched(tree, "--json", "--verify", "-j", jobs, "--cache", db, tree)
        assert again.stdout == first.stdout
        assert w2.touched == set(), w2.touched
    # Each configuration has its entries: without --verify the records differ, and are read once.
    plain, w3 = watched(tree, "--json", "--cache", db, tree)
    assert w3.opened == FILES
    _, w4 = watched(tree, "--json", "--cache", db, tree)
    assert w4.touched == set()


def test_changed_files_are_read_again(tree, tmp_path):
    db = tmp_path / "cache.db"
    scan("--json", "--cache", db, tree)
    hello, notes, universal = tree / "bin" / "hello", tree / "notes.txt", tree / "bin" / "sub" / "universal"
    # touched: a new mtime, same bytes
    st = hello.stat()
    os.utime(hello, ns=(st.st_atime_ns, st.st_mtime_ns - 5_000_000_000))
    # rewritten in place with the same size, its mtime put back: only ctime tells
    st = notes.stat()
    notes.write_text("NOT A BINARY\n")
    os.utime(notes, ns=(st.st_atime_ns, st.st_mtime_ns))
    # replaced by another file of the same size and mtime: a new inode
    st = universal.stat()
    other = tree / "other"
    data = bytearray(universal.read_bytes())
    data[-1] ^= 0xFF
    other.write_bytes(bytes(data))
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.rename(other, universal)
    time.sleep(1.1)  # past the racy window again
    r, w = watched(tree, "--json", "--cache", db, tree)
    assert w.opened == {"bin/hello", "notes.txt", "bin/sub/universal"}, w.opened
    assert r.stdout == scan("--json", tree).stdout
    _, w = watched(tree, "--json", "--cache", db, tree)
    assert w.touched == set()


def test_a_file_newer_than_its_read_is_never_trusted(tree, tmp_path):
    """File times tick coarsely (and a file server's clock may run ahead): an
    entry whose file is not clearly older than the read is read again."""
    db = tmp_path / "cache.db"
    future = time.time_ns() + 3600 * 10**9
    os.utime(tree / "notes.txt", ns=(future, future))
    scan("--json", "--cache", db, tree)
    for _ in range(2):
        _, w = watched(tree, "--json", "--cache", db, tree)
        assert w.touched == {"notes.txt"}


def test_a_cache_of_another_version_is_ignored_and_dropped(tree, tmp_path):
    db = tmp_path / "cache.db"
    scan("--json", "--cache", db, tree)
    with sqlite3.connect(db) as c:  # what another version would have written: its version in configs
        c.execute("UPDATE configs SET version = '0.0.0-another'")
    r, w = watched(tree, "--json", "--cache", db, tree)
    assert r.returncode == 0 and w.opened == FILES
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT DISTINCT version FROM configs").fetchall() == [(_version(),)]
        assert c.execute("SELECT count(*) FROM entries").fetchone()[0] == len(FILES)  # the old ones dropped


def _version():
    import buildidtool
    return buildidtool.__version__


def test_a_file_that_is_not_a_cache_is_refused_untouched(tree, tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(8192))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE notes (x)")
    for f, why in ((garbage, "not a buildid cache (file is not a database)"),
                   (foreign, "an SQLite database that is not a buildid cache")):
        before = f.read_bytes()
        r = scan("--json", "--cache", f, tree)
        assert r.returncode == 2 and not r.stdout
        assert r.stderr.decode() == f"buildid: {f}: {why}; name another file" + \
            (", or remove it\n" if f is garbage else "\n")
        assert f.read_bytes() == before


def test_a_damaged_cache_is_rebuilt(tree, tmp_path):
    db = tmp_path / "cache.db"
    want = scan("--json", "--cache", db, tree).stdout
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # the header (ours) kept, every page garbage
    db.write_bytes(bytes(data))
    r, w = watched(tree, "--json", "--cache", db, tree)
    assert r.returncode == 0 and r.stdout == want and w.opened == FILES
    _, w = watched(tree, "--json", "--cache", db, tree)
    assert w.touched == set()
    # an older layout of ours: rebuilt too
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA user_version = 0")
    r, w = watched(tree, "--json", "--cache", db, tree)
    assert r.stdout == want and w.opened == FILES


def test_concurrent_scans_share_one_cache(tree, tmp_path):
    db = tmp_path / "cache.db"
    want = scan("--json", "--verify", tree).stdout
    cmd = [sys.executable, "-m", "buildidtool", "scan", "--json", "--verify", "-j", "2", "--cache", str(db), str(tree)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert all(o[0] == want for o in outs)
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    _, w = watched(tree, "--json", "--verify", "--cache", db, tree)
    assert w.touched == set()


def test_error_records_are_not_kept(tree, tmp_path):
    """A file that could not be read this time is read next time."""
    from buildidtool.ops.scan import scan as scan_api
    from buildidtool.tree import ScanStats, walk

    db = str(tmp_path / "cache.db")
    from buildidtool.archives.limits import Limits

    broken = tree / "bin" / "broken.tar.gz"
    data = (tree / "pkg.tar.gz").read_bytes()
    broken.write_bytes(data[:len(data) // 2])  # a package cut short: its record is an error
    time.sleep(1.1)
    recs = {r.file: r for r in scan_api(walk([str(tree)], False, ScanStats()), 1, archives=Limits(), cache=db)}
    assert recs[str(broken)].error
    with Watch(tree) as w:
        again = {r.file: r for r in scan_api(walk([str(tree)], False, ScanStats()), 1, archives=Limits(), cache=db)}
    assert w.opened == {"bin/broken.tar.gz"}
    assert again == recs


def _many_members(root, n: int, samples):
    """A tar of n small text members and one Go binary: n + 2 records."""
    import io
    big = root / "many.tar"
    with tarfile.open(big, "w") as t:
        t.add(samples.path("hello-linux-amd64"), "bin/hello")
        for i in range(n):
            body = f"member {i}\n".encode()
            info = tarfile.TarInfo(f"doc/{i:05}.txt")
            info.size = len(body)
            t.addfile(info, io.BytesIO(body))
    time.sleep(1.1)
    return big


def test_an_archive_of_many_records_is_kept_in_chunks_and_streams_back(samples, tmp_path):
    """Records stream on as they are read (an archive's every 512): the entry
    holds them pickled a chunk at a time, and a hit gives them back the same,
    in order, without opening the archive."""
    import io
    import pickle

    from buildidtool import cache

    root = tmp_path / "tree"
    root.mkdir()
    big = _many_members(root, 1300, samples)
    db = tmp_path / "cache.db"
    want = scan("--json", big)
    first = scan("--json", "--cache", db, big)
    again, w = watched(root, "--json", "--cache", db, big)
    assert want.stdout == first.stdout == again.stdout and want.stdout.count(b"\n") == 1302
    assert w.touched == set()
    with sqlite3.connect(db) as c:
        (blob,) = c.execute("SELECT records FROM entries").fetchone()
    chunks, f = [], io.BytesIO(blob)
    while f.tell() < len(blob):
        chunks.append(len(pickle.load(f)))
    assert chunks == [cache.CHUNK, cache.CHUNK, 1302 - 2 * cache.CHUNK]


def test_an_input_past_the_size_bound_is_read_every_time(samples, tmp_path, monkeypatch):
    """Records that pickle to more than MAX_BYTES are not kept: a reader never
    holds more than that of one input."""
    from buildidtool import cache
    from buildidtool.archives.limits import Limits
    from buildidtool.ops.scan import scan as scan_api
    from buildidtool.tree import ScanStats, walk

    root = tmp_path / "tree"
    root.mkdir()
    big = _many_members(root, 1300, samples)
    (root / "small.txt").write_text("not a binary\n")  # beside it, and kept
    time.sleep(1.1)
    monkeypatch.setattr(cache, "MAX_BYTES", 64 * 1024)  # about 300 records
    db = str(tmp_path / "cache.db")
    want = [r.to_json() for r in scan_api(walk([str(root)], False, ScanStats()), 0, archives=Limits())]
    got = [r.to_json() for r in scan_api(walk([str(root)], False, ScanStats()), 0, archives=Limits(), cache=db)]
    assert got == want and len(got) == 1303
    with sqlite3.connect(db) as c:
        assert [os.fsdecode(p) for (p,) in c.execute("SELECT path FROM entries")] == [str(root / "small.txt")]
    with Watch(root) as w:
        again = [r.to_json() for r in scan_api(walk([str(root)], False, ScanStats()), 0, archives=Limits(), cache=db)]
    assert again == want and w.opened == {"many.tar"}


def test_the_platform_an_image_file_is_read_for_is_part_of_the_configuration(monkeypatch):
    from buildidtool.archives.limits import Limits
    from buildidtool.archives.platforms import host
    from buildidtool.cache import options_text
    from buildidtool.facts import SCAN

    monkeypatch.delenv("BUILDID_PLATFORM", raising=False)
    default = options_text(SCAN, Limits())
    assert default == options_text(SCAN, Limits(platform=str(host())))
    monkeypatch.setenv("BUILDID_PLATFORM", "linux/s390x")
    assert options_text(SCAN, Limits()) == options_text(SCAN, Limits(platform="linux/s390x")) != default
    assert options_text(SCAN, None) == options_text(SCAN, None)  # --no-archives: no platform to choose
