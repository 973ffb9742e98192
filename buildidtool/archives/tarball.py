"""tar (ustar, pax, GNU, v7), plain or compressed, read as one forward stream by
the standard library's tarfile: headers in Python, data and decompression in C."""
from __future__ import annotations

import io
import tarfile

from .entry import FILE, HARDLINK, OTHER, SYMLINK, Entry
from .limits import Budget
from .streams import CHUNK, decompressed


def entries(raw, budget: Budget, compressed: bool = True):
    """Entries of the tar in buffered reader `raw` (decompressed first if it is
    compressed, unless told it is not). Sparse members read with their holes as zeros."""
    stream = decompressed(raw, budget)[1] if compressed else raw
    tar = tarfile.open(fileobj=stream, mode="r|", errorlevel=2)
    with tar:
        while True:
            m = tar.next()
            if m is None:
                return
            tar.members.clear()  # tarfile keeps every header otherwise: memory would grow with the count
            yield from _entry(tar, m)


def _entry(tar, m: tarfile.TarInfo):
    if m.isreg():
        notes = ["sparse member"] if m.issparse() else []
        yield Entry(m.name, FILE, m.size, reader=io.BufferedReader(_Member(tar, m), CHUNK), notes=notes)
    elif m.issym():
        yield Entry(m.name, SYMLINK, link=m.linkname)
    elif m.islnk():
        yield Entry(m.name, HARDLINK, link=m.linkname)
    elif not m.isdir():
        yield Entry(m.name, OTHER)


class _Member(io.RawIOBase):
    """tarfile's reader of a member, opened lazily (a member nobody reads costs nothing)."""

    def __init__(self, tar, m):
        self.tar, self.m, self.f = tar, m, None

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.f is None:
            self.f = self.tar.extractfile(self.m)
        data = self.f.read(len(b))
        b[:len(data)] = data
        return len(data)
