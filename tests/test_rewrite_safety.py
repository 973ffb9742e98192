"""Rewrite safety: changes under our feet, failing writes, hard links, --atomic,
interruptions, concurrent rewrites, and files that are not regular."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys

import pytest

import buildidtool
from buildidtool import plan as plan_module
from buildidtool.ops import rewrite as rewrite_module
from helpers import BUILDID, flip_byte, run


@pytest.fixture
def tampered(tmp_copy, samples, tmp_path):
    """A tampered linux/amd64 sample and the bytes the reference leaves after -w."""
    f = tmp_copy("hello-linux-amd64")
    flip_byte(f)
    expected = tmp_path / "expected"
    shutil.copyfile(f, expected)
    assert samples.run_reference("-w", expected).returncode == 0
    return f, expected.read_bytes()


def test_file_changing_between_hashing_and_writing_aborts(tampered, monkeypatch):
    f, _ = tampered
    real = plan_module.find_and_hash
    meddled = []

    def hash_then_meddle(fd, placeholder, *args, **kw):
        result = real(fd, placeholder, *args, **kw)
        data = bytearray(f.read_bytes())
        at = result.matches[0]
        data[at] ^= 1  # someone else edits the ID we are about to overwrite
        f.write_bytes(bytes(data))
        meddled.append(bytes(data))
        return result

    monkeypatch.setattr(plan_module, "find_and_hash", hash_then_meddle)
    with pytest.raises(buildidtool.FileChanged) as e:
        buildidtool.rewrite(str(f))
    assert "nothing written" in str(e.value) and str(f) in str(e.value)
    assert f.read_bytes() == meddled[0]  # the other writer's bytes, none of ours


def test_file_growing_between_hashing_and_writing_aborts(tampered, monkeypatch):
    f, _ = tampered
    real = plan_module.find_and_hash

    def hash_then_append(*args, **kw):
        result = real(*args, **kw)
        with open(f, "ab") as g:
            g.write(b"more")
        return result

    monkeypatch.setattr(plan_module, "find_and_hash", hash_then_append)
    grown = None
    with pytest.raises(buildidtool.FileChanged):
        buildidtool.rewrite(str(f))
    grown = f.read_bytes()
    assert grown.endswith(b"more")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("name,fail_at", [
    ("hello-linux-amd64", 1),   # one occurrence: the first write fails
    ("lib", 2),                 # two occurrences: the second fails, the first is rolled back
    ("hello-darwin-arm64", 2),  # the ID is written, then the signature write fails
])
def test_write_error_leaves_file_unchanged(tmp_copy, monkeypatch, code, name, fail_at):
    f = tmp_copy(name)
    flip_byte(f, f.stat().st_size - 100 if name == "lib" else None)
    before = f.read_bytes()
    real = os.pwrite
    calls = []

    def failing_pwrite(fd, data, off):
        calls.append(off)
        if len(calls) == fail_at:
            raise OSError(code, os.strerror(code))
        return real(fd, data, off)

    monkeypatch.setattr(rewrite_module.os, "pwrite", failing_pwrite)
    with pytest.raises(buildidtool.RewriteError) as e:
        buildidtool.rewrite(str(f))
    assert "file unchanged" in str(e.value) and os.strerror(code) in str(e.value)
    monkeypatch.undo()
    assert len(calls) == fail_at + (fail_at - 1)  # the failed write, then the roll-back
    assert f.read_bytes() == before


def test_in_place_keeps_inode_and_hard_links(tampered):
    f, expected = tampered
    link = f.with_name("link")
    os.link(f, link)
    ino = f.stat().st_ino
    assert buildidtool.rewrite(str(f)).changed
    assert f.stat().st_ino == ino
    assert f.read_bytes() == link.read_bytes() == expected


def test_atomic_refuses_to_split_hard_links(tampered):
    f, _ = tampered
    os.link(f, f.with_name("link"))
    before = f.read_bytes()
    r = run("rewrite", "--atomic", f)
    assert r.returncode == 2 and b"hard links" in r.stderr and b"file unchanged" in r.stderr
    assert f.read_bytes() == before


def test_atomic_replaces_with_same_bytes_and_mode(tampered):
    f, expected = tampered
    f.chmod(0o751)
    ino = f.stat().st_ino
    r = run("rewrite", "--atomic", f)
    assert r.returncode == 0, r.stderr
    assert f.read_bytes() == expected
    assert f.stat().st_mode & 0o7777 == 0o751
    assert f.stat().st_ino != ino
    assert sorted(p.name for p in f.parent.iterdir()) == sorted(["expected", f.name])


def test_atomic_interrupted_leaves_original_and_no_temp(tampered, monkeypatch):
    f, _ = tampered
    before = f.read_bytes()

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(rewrite_module, "_copy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        buildidtool.rewrite(str(f), atomic=True)
    assert f.read_bytes() == before
    assert sorted(p.name for p in f.parent.iterdir()) == sorted(["expected", f.name])


def test_dry_run_writes_nothing(tampered):
    f, expected = tampered
    before = f.read_bytes()
    r = run("rewrite", "--dry-run", f)
    assert r.returncode == 0 and b"would rewrite" in r.stdout
    assert f.read_bytes() == before
    new_id = buildidtool.rewrite(str(f), dry_run=True).units[0].new_id
    assert new_id.encode() in expected  # IDs are text in the API


def test_unchanged_file_is_not_written(samples, tmp_copy):
    f = tmp_copy("hello-linux-amd64")
    os.utime(f, ns=(1, 1))
    r = run("rewrite", f)
    assert r.returncode == 0 and r.stdout.endswith(b": unchanged\n")
    assert f.stat().st_mtime_ns == 1


def test_concurrent_rewrites_equal_one_clean_rewrite(tampered):
    f, expected = tampered
    procs = [subprocess.Popen([*BUILDID, "-w", str(f)], stderr=subprocess.PIPE) for _ in range(6)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert f.read_bytes() == expected


@pytest.mark.parametrize("kind", ["directory", "fifo", "missing"])
def test_not_regular_files_are_refused(tmp_path, kind):
    target = tmp_path / kind
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    for args, code in ((["-w", target], 1), (["rewrite", target], 2), ([target], 1), (["read", target], 2)):
        r = run(*args, timeout=20)
        assert r.returncode == code, (args, r.stderr)
        assert r.stderr.count(b"\n") == 1 and str(target).encode() in r.stderr
        assert b"Traceback" not in r.stderr


def test_read_only_file_is_refused_unchanged(tampered):
    from helpers import run_unprivileged
    f, _ = tampered
    before = f.read_bytes()
    f.chmod(0o444)
    r = run_unprivileged("-w", f)
    assert r.returncode == 1 and b"Permission denied" in r.stderr
    assert f.read_bytes() == before


def test_sigterm_handler_unwinds(tmp_path):
    """SIGTERM in the rewrite command becomes SystemExit, so finally blocks run."""
    code = ("import signal, os; from buildidtool import cli; cli._terminate_cleanly();\n"
            "try:\n os.kill(os.getpid(), signal.SIGTERM)\nfinally:\n print('cleaned')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20)
    assert r.stdout == b"cleaned\n" and r.returncode == 128 + 15


def test_device_is_refused():
    for args, code in ((["-w", "/dev/null"], 1), (["read", "/dev/null"], 2), (["scan", "/dev/null"], 0)):
        r = run(*args, timeout=20)
        assert r.returncode == code, (args, r.stderr)
        if code:
            assert b"character device" in r.stderr and r.stderr.count(b"\n") == 1


def test_permission_denied_is_one_line(samples, monkeypatch):
    """Simulated, because root reads everything: the OS refuses the open."""
    from click.testing import CliRunner
    from buildidtool import fileio
    from buildidtool.cli import cli

    def refuse(path, flags, *a):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(fileio.os, "open", refuse)
    f = str(samples.path("hello-linux-amd64"))
    with pytest.raises(buildidtool.UnreadableFile, match="Permission denied"):
        buildidtool.read(f)
    r = CliRunner().invoke(cli, ["read", f])
    assert r.exit_code == 2 and r.stderr == f"buildid: {f}: Permission denied\n"
    assert buildidtool.verify(f).status == "error"


def test_sigterm_during_atomic_rewrite_keeps_a_whole_file(samples, tmp_path):
    """Whenever the signal lands, the file is the original or the finished
    rewrite, and no temporary file is left behind."""
    src = samples.path("hello-linux-amd64").read_bytes()
    f = tmp_path / "big"
    f.write_bytes(src + bytes(64 << 20))
    data = bytearray(f.read_bytes())
    data[len(src) // 2] ^= 0x5A
    f.write_bytes(bytes(data))
    original = bytes(data)
    expected = tmp_path / "expected"
    expected.write_bytes(original)
    assert samples.run_reference("-w", expected).returncode == 0
    finished = expected.read_bytes()
    expected.unlink()
    for delay in (0.05, 0.15, 0.3):
        f.write_bytes(original)
        p = subprocess.Popen([*BUILDID, "rewrite", "--atomic", str(f)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        import time
        time.sleep(delay)
        p.terminate()
        p.communicate(timeout=60)
        assert f.read_bytes() in (original, finished)
        assert [x.name for x in tmp_path.iterdir()] == ["big"]


def test_read_only_file_refused_simulated(tampered, monkeypatch):
    """Root may write anything, so the refusal of a write open is simulated."""
    from buildidtool import fileio, gocompat

    f, _ = tampered
    before = f.read_bytes()
    real_open = fileio.os.open

    def read_only(path, flags, *a):
        if flags & (os.O_RDWR | os.O_WRONLY):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *a)

    monkeypatch.setattr(fileio.os, "open", read_only)
    with pytest.raises(buildidtool.UnreadableFile, match="Permission denied"):
        buildidtool.rewrite(str(f))
    import io
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert gocompat.main(["-w", str(f)]) == 1
    assert err.getvalue() == f"buildid: {f}: Permission denied\n"
    assert f.read_bytes() == before
    assert buildidtool.rewrite(str(f), dry_run=True).changed  # reading still works


def test_failed_rewrite_of_a_lengthened_file_restores_its_length(tmp_copy, samples, tmp_path, monkeypatch):
    """A file cut inside its Go signature grows when re-signed (as with Go's tool);
    when the write cannot be completed, the roll-back also cuts it back."""
    f = tmp_copy("hello-darwin-arm64")
    sig = buildidtool.read(str(f)).code_signature
    offset, size = sig.offset, sig.size
    f.write_bytes(f.read_bytes()[:offset + size // 2])
    flip_byte(f, offset // 2)
    before = f.read_bytes()

    real, calls = os.fsync, []

    def failing_fsync(fd):  # the first fsync, after the writes, fails
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(fd)

    monkeypatch.setattr(rewrite_module.os, "fsync", failing_fsync)
    with pytest.raises(buildidtool.RewriteError) as e:
        buildidtool.rewrite(str(f))
    assert "file unchanged" in str(e.value)
    monkeypatch.undo()
    assert f.read_bytes() == before
    # and without the fault, the result is the reference's
    expected = tmp_path / "expected"
    expected.write_bytes(before)
    assert samples.run_reference("-w", expected).returncode == 0
    buildidtool.rewrite(str(f))
    assert f.stat().st_size == offset + size
    assert f.read_bytes() == expected.read_bytes()
