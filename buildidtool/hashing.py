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

    Memory is one buffer of `bufsize`; an occurrence split across two reads is
    found because the last len(placeholder)-1 bytes of each read are carried
    over. (Hashing in a second thread while this one reads and searches was
    measured and dropped: no gain on a 1 GiB file, benchmarks/README.md.)
    `overlay` lists (offset, bytes) read instead of the file's bytes there (a
    file as it was before someone changed a few header fields), before zeroing.
    """
    if not placeholder:
        raise ValueError("no build ID to search for")
    if length is None:
        length = os.fstat(fd).st_size - start
    bufsize = max(bufsize, len(placeholder))
    h = hashlib.sha256()
    matches = _scan(fd, placeholder, list(exclude), start, length, bufsize, h.update, list(overlay))
    return Hashed(matches, h.digest())


def _scan(fd, placeholder, exclude, start, length, bufsize, feed, overlay=()) -> list[int]:
    """Read [start, start+length) buffer by buffer, passing the bytes to hash, in
    order, to `feed` (zeros for matches)."""
    k = len(placeholder)
    zeros = bytes(k)
    matches: list[int] = []
    mv = memoryview(bytearray(bufsize + k))
    buf = mv.obj
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
        mv[:carry] = bytes(mv[keep:total])
        pos += keep
    return matches
