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
                  overlay: Iterable[tuple[int, bytes]] = (), threaded: bool | None = None) -> Hashed:
    """Leftmost non-overlapping occurrences of `placeholder` in [start, start+length)
    (after excluded spans are zeroed), and the SHA-256 with those occurrences zeroed.

    Memory is a few buffers of `bufsize`; an occurrence split across two reads
    is found because the last len(placeholder)-1 bytes of each read are carried
    over. A range of THREADED_MIN bytes or more is hashed in a second thread
    while this one reads and searches (`threaded` forces either way).
    `overlay` lists (offset, bytes) read instead of the file's bytes there (a
    file as it was before someone changed a few header fields), before zeroing.
    """
    if not placeholder:
        raise ValueError("no build ID to search for")
    if length is None:
        length = os.fstat(fd).st_size - start
    bufsize = max(bufsize, len(placeholder))
    h = hashlib.sha256()
    if threaded is None:
        threaded = length >= THREADED_MIN
    # Each buffer holds a read and the bytes carried over from the one before.
    sink = (_Pipeline if threaded else _Inline)(h.update, bufsize + len(placeholder))
    try:
        matches = _scan(fd, placeholder, list(exclude), start, length, bufsize, sink, list(overlay))
    finally:
        sink.close()
    return Hashed(matches, h.digest())


# Hashing is slower than reading and searching a buffer: a second thread hashes (hashlib
# lets go of the GIL) while this one reads and searches, which pays where a second core is
# free (benchmarks/hash_thread.py and row 3). Below this size starting the thread is not worth it.
THREADED_MIN = 8 << 20
PIPELINE_BUFFERS = 3


class _Inline:
    """Hashes what the reader hands over at once, in one buffer."""

    def __init__(self, update, size: int):
        self.feed = update
        self.buffer = memoryview(bytearray(size))

    def take(self) -> memoryview:
        return self.buffer

    def release(self, buffer: memoryview) -> None:
        pass

    def close(self) -> None:
        pass


class _Pipeline:
    """Hashes in a second thread, in order, what the reader hands over. A buffer
    goes back to the reader only once every piece of it has been hashed."""

    def __init__(self, update, size: int):
        import queue  # with threading, 1 ms that a small file's -w never needs
        import threading
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(PIPELINE_BUFFERS):
            self.free.put(memoryview(bytearray(size)))
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.feed = self.work.put
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(update,), daemon=True)
        self.thread.start()

    def _run(self, update) -> None:
        while (item := self.work.get()) is not None:
            if type(item) is tuple:  # (buffer,): the reader may have it back
                self.free.put(item[0])
            elif self.error is None:
                try:
                    update(item)
                except BaseException as e:  # kept for close(); buffers still go back, so the reader never waits for ever
                    self.error = e

    def take(self) -> memoryview:
        return self.free.get()

    def release(self, buffer: memoryview) -> None:
        self.work.put((buffer,))

    def close(self) -> None:
        self.work.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _scan(fd, placeholder, exclude, start, length, bufsize, sink, overlay=()) -> list[int]:
    """Read [start, start+length) buffer by buffer, handing the bytes to hash, in
    order, to `sink.feed` (zeros for matches)."""
    k = len(placeholder)
    zeros = bytes(k)
    matches: list[int] = []
    feed = sink.feed
    end = start + length
    carried = b""      # read but not hashed yet; starts at file offset `pos`
    pos = readpos = start
    while True:
        mv = sink.take()
        buf = mv.obj
        carry = len(carried)
        mv[:carry] = carried
        want = min(bufsize, end - readpos)
        n = os.preadv(fd, [mv[carry:carry + want]], readpos) if want > 0 else 0
        if overlay and n:
            _overlay(mv, carry, readpos, n, overlay)
        if exclude and n:
            _zero_excluded(mv, carry, readpos, n, exclude)
        total = carry + n
        done = 0
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
            sink.release(mv)
            break
        keep = max(done, total - (k - 1))
        if keep > done:
            feed(mv[done:keep])
        carried = bytes(mv[keep:total])
        sink.release(mv)
        pos += keep
    return matches
