"""The streaming matcher against a naive whole-buffer model: every boundary
position, overlapping candidates, excluded spans, tiny and odd buffer sizes."""
from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, settings, strategies as st

from buildidtool.formats.model import Span
from buildidtool.hashing import find_and_hash
from buildidtool.idstring import hash_to_string


def naive(data: bytes, pid: bytes, exclude=()) -> tuple[list[int], bytes]:
    d = bytearray(data)
    for s in exclude:
        lo, hi = max(0, s.offset), min(len(d), s.end)
        if lo < hi:
            d[lo:hi] = bytes(hi - lo)
    matches = []
    i = d.find(pid)
    while i >= 0:
        matches.append(i)
        d[i:i + len(pid)] = bytes(len(pid))
        i = d.find(pid, i + len(pid))
    return matches, hashlib.sha256(d).digest()


def run(tmp_path, data, pid, exclude=(), bufsize=4, start=0, length=None, threaded=None):
    p = tmp_path / "f"
    p.write_bytes(data)
    fd = os.open(p, os.O_RDONLY)
    try:
        r = find_and_hash(fd, pid, exclude, start, length, bufsize, threaded=threaded)
    finally:
        os.close(fd)
    return r.matches, r.digest


@pytest.mark.parametrize("bufsize", [1, 2, 3, 5, 7, 8, 13, 64])
def test_id_at_every_position_and_every_boundary(tmp_path, bufsize):
    pid = b"ID/xy"
    for size in (0, 1, 4, 5, 6, 17, 40):
        for at in range(0, max(size - len(pid), -1) + 1):
            data = bytearray(b"." * size)
            data[at:at + len(pid)] = pid
            data = bytes(data[:size])
            assert run(tmp_path, data, pid, bufsize=bufsize) == naive(data, pid), (size, at, bufsize)


@pytest.mark.parametrize("data,pid", [
    (b"aaaaaaa", b"aa"), (b"abababab", b"abab"), (b"aabaabaab", b"aab"), (b"xxxxxxxxxxx", b"xxx"),
])
@pytest.mark.parametrize("bufsize", [1, 2, 3, 4, 5])
def test_overlapping_candidates_match_left_to_right(tmp_path, data, pid, bufsize):
    assert run(tmp_path, data, pid, bufsize=bufsize) == naive(data, pid)


def test_excluded_span_hides_an_occurrence(tmp_path):
    data = b"..ID..ID.."
    ex = [Span(2, 2)]
    m, d = run(tmp_path, data, b"ID", ex, bufsize=3)
    assert m == [6]
    assert (m, d) == naive(data, b"ID", ex)


def test_range_limits_the_search(tmp_path):
    data = b"IDxxIDxxID"
    m, d = run(tmp_path, data, b"ID", start=2, length=6, bufsize=2)
    assert m == [4]
    assert d == hashlib.sha256(b"xx\0\0xx").digest()


def test_empty_placeholder_is_refused(tmp_path):
    with pytest.raises(ValueError):
        run(tmp_path, b"abc", b"")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200).map(lambda b: bytes(c % 3 + 97 for c in b)),
       pid=st.binary(min_size=1, max_size=6).map(lambda b: bytes(c % 3 + 97 for c in b)),
       bufsize=st.integers(1, 40),
       spans=st.lists(st.tuples(st.integers(0, 220), st.integers(0, 30)), max_size=3),
       threaded=st.booleans())
def test_streaming_equals_naive(tmp_path_factory, data, pid, bufsize, spans, threaded):
    tmp = tmp_path_factory.mktemp("h")
    ex = [Span(o, s) for o, s in spans]
    assert run(tmp, data, pid, ex, bufsize=bufsize, threaded=threaded) == naive(data, pid, ex)


@pytest.mark.parametrize("threaded", [False, True], ids=["inline", "hashing-thread"])
@pytest.mark.parametrize("bufsize", [1, 3, 64])
def test_many_buffers_equal_naive(tmp_path, bufsize, threaded):
    """A range many buffers long: the hashing thread gets its buffers back only once
    hashed, so no piece is overwritten before it is hashed."""
    data = (b"xxIDxxxIxD" * 200)[:1999] + b"ID"
    assert len(data) > 4 * max(bufsize, 2)
    got = run(tmp_path, data, b"ID", [Span(5, 40)], bufsize=bufsize, threaded=threaded)
    assert got == naive(data, b"ID", [Span(5, 40)])


def test_a_large_range_is_hashed_in_the_thread_and_matches_inline(tmp_path):
    """A range past THREADED_MIN goes to the hashing thread by default, with the result of
    hashing inline (IDs on buffer boundaries, an excluded span across one)."""
    import threading

    from buildidtool import hashing
    pid = b"abcdefgh/ijklmnop"
    data = bytearray(os.urandom(hashing.THREADED_MIN + 3 * hashing.BUFSIZE))
    for at in (0, hashing.BUFSIZE - 5, 2 * hashing.BUFSIZE, len(data) - len(pid)):
        data[at:at + len(pid)] = pid
    ex = [Span(3 * hashing.BUFSIZE - 10, 20)]
    started = []
    real = threading.Thread.start
    try:
        threading.Thread.start = lambda self: (started.append(self.name), real(self))[1]
        default = run(tmp_path, bytes(data), pid, ex, bufsize=hashing.BUFSIZE)
    finally:
        threading.Thread.start = real
    assert len(started) == 1
    assert default == run(tmp_path, bytes(data), pid, ex, bufsize=hashing.BUFSIZE, threaded=False)
    assert default == naive(bytes(data), pid, ex)
    assert len(default[0]) == 4


def test_a_read_error_in_the_threaded_path_raises_and_leaves_no_thread(tmp_path):
    import threading
    before = threading.active_count()
    fd = os.open(tmp_path, os.O_RDONLY)  # a directory: preadv fails with EISDIR
    try:
        with pytest.raises(OSError):
            find_and_hash(fd, b"ID", length=1 << 20, threaded=True)
    finally:
        os.close(fd)
    assert threading.active_count() == before


def test_hash_to_string_is_gos_encoding():
    # 0x000000 -> AAAA, 0xffffff -> ____, and the alphabet order in between
    assert hash_to_string(bytes(32)) == "A" * 20
    assert hash_to_string(b"\xff" * 32) == "_" * 20
    assert hash_to_string(bytes([0x00, 0x10, 0x83]) + bytes(29))[:4] == "ABCD"
