"""Errors are named once: core code raises them without a path, one `naming`
boundary per operation adds it, and an I/O error is UnreadableFile everywhere."""
from __future__ import annotations

import errno
import os
import pickle

import pytest

import buildidtool
from buildidtool.errors import MalformedFile, RewriteError, UnreadableFile, naming
from buildidtool.formats import FormatError
from buildidtool.formats import source as source_module


def test_naming_adds_the_path_once():
    with pytest.raises(RewriteError) as caught:
        with naming("outer"), naming("inner"):
            raise RewriteError("no build ID to rewrite")
    assert str(caught.value) == "inner: no build ID to rewrite"
    assert (caught.value.path, caught.value.message) == ("inner", "no build ID to rewrite")


def test_naming_turns_parser_and_os_errors_into_ours():
    with pytest.raises(MalformedFile, match="^f: truncated header$"):
        with naming("f"):
            raise FormatError("truncated header")
    with pytest.raises(UnreadableFile, match="^f: read error: Input/output error$"):
        with naming("f"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_errors_survive_pickling():  # scan's workers send them across processes
    e = pickle.loads(pickle.dumps(MalformedFile("a.out", "bad magic")))
    assert (type(e), e.path, e.message, str(e)) == (MalformedFile, "a.out", "bad magic", "a.out: bad magic")


@pytest.fixture
def failing_reads(monkeypatch):
    def pread(fd, n, off):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(source_module.os, "pread", pread)


def test_io_error_while_parsing_is_unreadable_file(samples, failing_reads):
    path = str(samples.path("hello-linux-amd64"))
    for op in (buildidtool.read, buildidtool.read_reference, buildidtool.hash_file, buildidtool.inspect,
               buildidtool.read_build_info):
        with pytest.raises(UnreadableFile) as caught:
            op(path)
        assert str(caught.value) == f"{path}: read error: Input/output error", op
    v = buildidtool.verify(path)
    assert (v.status, v.reason) == ("error", "read error: Input/output error")
