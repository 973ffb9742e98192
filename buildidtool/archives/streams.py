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

from .limits import Budget, OverMemoryBound

try:
    from _compression import DecompressReader  # what LZMAFile reads through, which takes a memory limit
except ImportError:
    DecompressReader = None

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


# The most memory one decompressor may use: xz's dictionary, zstd's window
# (xz -9 needs 64 MiB, zstd -19 8 MiB; zstd --ultra -22 128 MiB is refused);
# bzip2 needs up to about 4 MiB and gzip 32 KiB whatever the stream says.
MAX_WINDOW = 64 << 20
_FIXED = {GZIP: 64 << 10, BZIP2: 4 << 20}


def window(kind: str, head: bytes) -> int:
    """The memory a decompressor of the stream starting with `head` will need,
    as its header declares (MAX_WINDOW when it cannot be read there)."""
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == ZSTD:
        try:
            return zstandard.get_frame_parameters(head).window_size
        except zstandard.ZstdError:
            return MAX_WINDOW
    return _xz_dictionary(head) or MAX_WINDOW


def _xz_dictionary(head: bytes) -> int | None:
    """The LZMA2 dictionary size in the first block header of an xz stream."""
    def varint(at: int) -> tuple[int, int]:
        n = shift = 0
        for i in range(at, min(at + 9, len(head))):
            n |= (head[i] & 0x7F) << shift
            shift += 7
            if head[i] < 0x80:
                return n, i + 1
        raise IndexError
    try:
        at = 12  # after the stream header
        if head[at] == 0:  # an index: no block
            return None
        flags = head[at + 1]
        at += 2
        if flags & 0x40:
            _, at = varint(at)
        if flags & 0x80:
            _, at = varint(at)
        for _ in range((flags & 3) + 1):
            fid, at = varint(at)
            nprops, at = varint(at)
            if fid == 0x21 and nprops == 1:
                b = head[at]
                return None if b > 40 else 0xFFFFFFFF if b == 40 else (2 | (b & 1)) << (b // 2 + 11)
            at += nprops
    except IndexError:
        return None
    return None


def decompressor(kind: str, raw, limit: int = MAX_WINDOW):
    """A reader of the decompressed bytes of `raw`; every format's multi-stream
    concatenation is read through, as gzip -d does. xz and zstd refuse a
    stream that needs more than `limit` bytes of memory."""
    if kind == GZIP:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == BZIP2:
        return bz2.BZ2File(raw)
    if kind == XZ:
        if DecompressReader is None:  # where the standard library moved it: unbounded, as before
            return lzma.LZMAFile(raw)
        # what LZMAFile reads through, with the memory limit it cannot pass on
        return io.BufferedReader(DecompressReader(raw, lzma.LZMADecompressor, trailing_error=lzma.LZMAError,
                                                  memlimit=limit + (1 << 20)))
    if kind == ZSTD:
        return zstandard.ZstdDecompressor(max_window_size=limit).stream_reader(raw, read_across_frames=True)
    raise ValueError(kind)


def decompressed(raw, budget: Budget):
    """`raw` (a buffered reader) decompressed if it starts with a known
    compression magic, else as is; counted. Returns (kind, reader, held):
    the memory its decompressor holds is charged to the budget, and the
    caller releases `held` when done with the reader.
    Not buffered again: a reader that reads ahead would meet a truncation
    before the member in front of it was handed on."""
    kind = compression(raw.peek(8)[:8])
    if kind is None:
        return None, raw, 0
    held = charge_window(kind, raw.peek(64)[:64], budget)
    return kind, Counted(decompressor(kind, raw, held), budget), held


def charge_window(kind: str, head: bytes, budget: Budget) -> int:
    """Charge the budget with what the decompressor of this stream will hold."""
    need = window(kind, head)
    if need > MAX_WINDOW:
        raise OverMemoryBound(f"{kind} stream with a window of {need >> 20} MiB", MAX_WINDOW)
    budget.hold(need, f"{kind} stream with a window of {need >> 10} KiB")
    return need


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
