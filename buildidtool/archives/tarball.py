"""tar (ustar, pax, GNU, v7), plain or compressed, read as one forward stream by
the standard library's tarfile (its extension headers bounded: tarheaders.py):
headers in Python, data and decompression in C."""
from __future__ import annotations

import io
import tarfile

from .entry import FILE, HARDLINK, OTHER, SYMLINK, Entry
from .limits import Budget
from .streams import CHUNK, Window, decompressed
from .tarheaders import open_tar


def entries(raw, budget: Budget, compressed: bool = True):
    """Entries of the tar in buffered reader `raw` (decompressed first if it is
    compressed, unless told it is not). Sparse members read with their holes as zeros."""
    kind, stream, held = decompressed(raw, budget) if compressed else (None, raw, 0)
    try:
        yield from _entries(stream, kind, budget)
    finally:
        budget.release(held)


def _entries(stream, kind, budget: Budget):
    window = getattr(stream, "raw", None)
    if kind is None and isinstance(window, Window):
        # Not compressed and seekable (a tar on disk, a spooled member, an image
        # layer read in place): tarfile then reads each member straight from the
        # file instead of copying it through its 10 KiB stream buffer.
        tar = open_tar(stream, "r:")
    else:
        # tarfile's own 10 KiB reads: a larger buffer saves 4% CPU but reads that far
        # ahead, and would meet a truncation before the member in front of it is whole
        tar = open_tar(stream, "r|")
    with tar:
        while True:
            m = tar.next()
            if m is None:
                return
            tar.members.clear()  # tarfile keeps every header otherwise: memory would grow with the count
            for e in _entry(tar, m):
                if kind is None and isinstance(window, Window) and e.reader is not None and not m.issparse():
                    e.extent = (window.fd, window.base + m.offset_data)
                yield e


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
