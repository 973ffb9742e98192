"""Hash-with-placeholder: SHA-256 of a byte range in which every occurrence of an
ID, and every excluded span, reads as zeros. This is how Go computes the content
ID of a file; the offsets of the occurrences are where a rewrite writes."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from .formats.model import Span

BUFSIZE = 1 << 20


class Hashed:
    __slots__ = ("matches", "digest")

    def __init__(self, matches: list[int], digest: bytes):
        self.matches = matches  # absolute offsets of the placeholder, in order
        self.digest = digest


def _zero_excluded(mv: memoryview, at: int, pos: int, n: int, exclude: Iterable[Span]) -> None:
    """Zero the parts of file range [pos, pos+n), held at mv[at:], that are excluded."""
    for span in exclude:
        lo, hi = max(span.offset, pos), min(span.end, pos + n)
        if lo < hi:
            mv[at + lo - pos:at + hi - pos] = bytes(hi - lo)


def _overlay(mv: memoryview, at: int, pos: int, n: int, overlay: Iterable[tuple[int, bytes]]) -> None:
    """Put the overlaid bytes that fall in file range [pos, pos+n), held at mv[at:], in place."""
    for off, data in overlay:
        lo, hi = max(off, pos), min(off + len(data), pos + n)
        if lo < hi:
            mv[at + lo - pos:at + hi - pos] = data[lo - off:hi - off]


def find_and_hash(fd: int, placeholder: bytes, exclude: Iterable[Span] = (), start: int = 0,
                  length: int | None = None, bufsize: int = BUFSIZE,
                  overlay: Iterable[tuple[int, bytes]] = ()) -> Hashed:
    """Leftmost non-overlapping occurrences of `placeholder` in [start, start+length)
    (after excluded spans are zeroed), and the SHA-256 with those occurrences zeroed.

    Memory is bounded by a few buffers of `bufsize`; an occurrence split across
    two reads is found because the last len(placeholder)-1 bytes of each read
    are carried over. Ranges longer than a few buffers are hashed in a second
    thread (hashlib releases the GIL) while this one reads and searches.
    `overlay` lists (offset, bytes) read instead of the file's bytes there (a
    file as it was before someone changed a few header fields), before zeroing.
    """
    if not placeholder:
        raise ValueError("no build ID to search for")
    if length is None:
        length = os.fstat(fd).st_size - start
    bufsize = max(bufsize, len(placeholder))
    h = hashlib.sha256()
    if length <= PIPELINE_MIN_BUFFERS * bufsize:
        matches = _scan(fd, placeholder, list(exclude), start, length, bufsize, h.update, lambda b: None,
                        list(overlay))
        return Hashed(matches, h.digest())
    return _pipelined(fd, placeholder, list(exclude), start, length, bufsize, h, list(overlay))


PIPELINE_MIN_BUFFERS = 4
RING = 3  # buffers in flight between the reader and the hasher


def _scan(fd, placeholder, exclude, start, length, bufsize, feed, next_buffer, overlay=()) -> list[int]:
    """Read [start, start+length) buffer by buffer, passing the bytes to hash, in
    order, to `feed` (zeros for matches). `next_buffer(old)` hands out the buffer
    to fill next; the old one is not written again until `feed` is done with it."""
    k = len(placeholder)
    zeros = bytes(k)
    matches: list[int] = []
    mv = next_buffer(None) or memoryview(bytearray(bufsize + k))
    end = start + length
    carry = 0          # mv[:carry] is not hashed yet; it starts at file offset `pos`
    pos = readpos = start
    while True:
        want = min(bufsize, end - readpos)
        n = os.preadv(fd, [mv[carry:carry + want]], readpos) if want > 0 else 0
        if overlay and n:
            _overlay(mv, carry, readpos, n, overlay)
        if exclude and n:
            _zero_excluded(mv, carry, readpos, n, exclude)
        total = carry + n
        done = 0
        buf = mv.obj
        i = buf.find(placeholder, 0, total)
        while i >= 0:
            matches.append(pos + i)
            if i > done:
                feed(mv[done:i])
            feed(zeros)
            done = i + k
            i = buf.find(placeholder, done, total)
        readpos += n
        if n < want or readpos >= end:
            if total > done:
                feed(mv[done:total])
            break
        keep = max(done, total - (k - 1))
        if keep > done:
            feed(mv[done:keep])
        carry = total - keep
        fresh = next_buffer(mv)
        if fresh is not None:
            fresh[:carry] = mv[keep:total]
            mv = fresh
        else:
            mv[:carry] = bytes(mv[keep:total])
        pos += keep
    return matches


def _pipelined(fd, placeholder, exclude, start, length, bufsize, h, overlay=()) -> Hashed:
    import queue
    import threading

    free: queue.Queue = queue.Queue()
    for _ in range(RING):
        free.put(memoryview(bytearray(bufsize + len(placeholder))))
    work: queue.Queue = queue.Queue(maxsize=256)
    RELEASE, STOP = object(), object()
    failure: list[BaseException] = []

    def hasher() -> None:
        try:
            while True:
                item = work.get()
                if item is STOP:
                    return
                if type(item) is tuple:  # (RELEASE, buffer): hashed all of it
                    free.put(item[1])
                else:
                    h.update(item)
        except BaseException as e:  # pragma: no cover - hashlib does not fail
            failure.append(e)

    def next_buffer(old):
        fresh = free.get()
        if old is not None:
            work.put((RELEASE, old))
        return fresh

    t = threading.Thread(target=hasher, name="buildid-hasher", daemon=True)
    t.start()
    try:
        matches = _scan(fd, placeholder, exclude, start, length, bufsize, work.put, next_buffer, overlay)
    finally:
        work.put(STOP)
        t.join()
    if failure:
        raise failure[0]
    return Hashed(matches, h.digest())
