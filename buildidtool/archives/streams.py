"""Byte streams under the archive readers: windows on an open file (pread, so
no shared file position), decompressors (all in C: zlib, bz2, lzma from the
standard library, zstd from `zstandard`), counting against the budget, and
spooling a member to a file descriptor the format parsers and hashing read."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tempfile

import zstandard

from .limits import Budget

CHUNK = 1 << 20

from .magic import BZIP2, GZIP, XZ, ZSTD, compression


class Window(io.RawIOBase):
    """Read-only, seekable bytes [base, base+size) of an fd, by pread."""

    def __init__(self, fd: int, base: int = 0, size: int | None = None):
        self.fd, self.base = fd, base
        self.size = os.fstat(fd).st_size - base if size is None else size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = max(0, min(len(b), self.size - self.pos))
        if n == 0:
            return 0
        data = os.pread(self.fd, n, self.base + self.pos)
        b[:len(data)] = data
        self.pos += len(data)
        return len(data)

    def seek(self, off: int, whence: int = 0) -> int:
        self.pos = off if whence == 0 else self.pos + off if whence == 1 else self.size + off
        if self.pos < 0:
            raise OSError("seek before the start")
        return self.pos

    def tell(self) -> int:
        return self.pos


class Counted(io.RawIOBase):
    """A forward-only reader that charges every byte it returns to a budget."""

    def __init__(self, inner, budget: Budget):
        self.inner, self.budget = inner, budget

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.inner.read(len(b))
        n = len(data)
        b[:n] = data
        self.budget.count(n)
        return n


class Chain(io.RawIOBase):
    """`head` (bytes already read) followed by the rest of `rest`."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[:len(data)] = data
        return len(data)


def decompressor(kind: str, raw):
    """A reader of the decompressed bytes of `raw`; every format's multi-stream
    concatenation is read through, as gzip -d does."""
    if kind == GZIP:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == BZIP2:
        return bz2.BZ2File(raw)
    if kind == XZ:
        return lzma.LZMAFile(raw)
    if kind == ZSTD:
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    raise ValueError(kind)


def decompressed(raw, budget: Budget):
    """`raw` (a buffered reader) decompressed if it starts with a known
    compression magic, else as is; counted. Returns (kind, reader).
    Not buffered again: a reader that reads ahead would meet a truncation
    before the member in front of it was handed on."""
    kind = compression(raw.peek(8)[:8])
    if kind is None:
        return None, raw
    return kind, Counted(decompressor(kind, raw), budget)


def read_full(f, n: int) -> bytes:
    """Up to n bytes from f, fewer only at its end."""
    parts, want = [], n
    while want > 0:
        b = f.read(want)
        if not b:
            break
        parts.append(b)
        want -= len(b)
    return b"".join(parts)


def spool(head: bytes, rest, size: int, budget: Budget) -> int:
    """An fd holding `head` followed by the rest of the member, read from `rest`
    up to `size` bytes in all. Memory (memfd) up to the budget's bound, an
    anonymous temporary file beyond; the caller closes it. A stream that ends
    early leaves a short spool: the format parsers see a truncated file.
    Nothing is charged here: bytes are charged where they are decompressed."""
    fd = _spool_fd(size, budget)
    try:
        _write_all(fd, head)
        left = size - len(head)
        while left > 0:
            b = rest.read(min(CHUNK, left))
            if not b:
                break
            _write_all(fd, b)
            left -= len(b)
        return fd
    except BaseException:
        os.close(fd)
        raise


def spool_extent(src: int, offset: int, size: int, budget: Budget) -> int:
    """spool() for bytes lying in file `src` at `offset`: copied by the kernel."""
    fd = _spool_fd(size, budget)
    try:
        done = 0
        while done < size:
            n = os.sendfile(fd, src, offset + done, min(size - done, 1 << 30))
            if n == 0:  # the file is shorter than its tar header says
                break
            done += n
        return fd
    except BaseException:
        os.close(fd)
        raise


def _spool_fd(size: int, budget: Budget) -> int:
    if size <= budget.limits.memory_spool and hasattr(os, "memfd_create"):
        return os.memfd_create("buildid-member", getattr(os, "MFD_CLOEXEC", 0))
    f = tempfile.TemporaryFile()
    fd = os.dup(f.fileno())
    f.close()
    return fd


def _write_all(fd: int, b: bytes) -> None:
    mv = memoryview(b)
    while mv:
        mv = mv[os.write(fd, mv):]
