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


def find_and_hash(fd: int, placeholder: bytes, exclude: Iterable[Span] = (), start: int = 0,
                  length: int | None = None, bufsize: int = BUFSIZE) -> Hashed:
    """Leftmost non-overlapping occurrences of `placeholder` in [start, start+length)
    (after excluded spans are zeroed), and the SHA-256 with those occurrences zeroed.

    Memory is bounded by `bufsize`; an occurrence split across two reads is found
    because the last len(placeholder)-1 bytes of each read are carried over.
    """
    if not placeholder:
        raise ValueError("no build ID to search for")
    if length is None:
        length = os.fstat(fd).st_size - start
    exclude = list(exclude)
    k = len(placeholder)
    bufsize = max(bufsize, k)
    zeros = bytes(k)
    h = hashlib.sha256()
    matches: list[int] = []
    buf = bytearray(bufsize + k)
    mv = memoryview(buf)
    end = start + length
    carry = 0          # buf[:carry] is not hashed yet; it starts at file offset `pos`
    pos = readpos = start
    while True:
        want = min(bufsize, end - readpos)
        n = os.preadv(fd, [mv[carry:carry + want]], readpos) if want > 0 else 0
        if exclude and n:
            _zero_excluded(mv, carry, readpos, n, exclude)
        total = carry + n
        done = 0
        i = buf.find(placeholder, 0, total)
        while i >= 0:
            matches.append(pos + i)
            h.update(mv[done:i])
            h.update(zeros)
            done = i + k
            i = buf.find(placeholder, done, total)
        readpos += n
        if n < want or readpos >= end:
            h.update(mv[done:total])
            break
        keep = max(done, total - (k - 1))
        h.update(mv[done:keep])
        carry = total - keep
        buf[:carry] = buf[keep:total]
        pos += keep
    mv.release()
    return Hashed(matches, h.digest())
