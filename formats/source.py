"""A bounded window on an open file.

Every read a parser makes goes through Source.read_at, which checks the offset
and length against the window before touching the file, so no length field read
from the file can make us seek past the end or allocate more than the file holds.
"""
from __future__ import annotations

import os

from .errors import FormatError

PREFIX_SIZE = 32 * 1024


class Source:
    __slots__ = ("fd", "base", "size", "_prefix", "cache")

    @staticmethod
    def pread(fd, n: int, off: int) -> bytes:
        return os.pread(fd, n, off)  # looked up at each call, so a test can make reads fail

    def __init__(self, fd: int, base: int, size: int, prefix: bytes | None = None):
        self.fd = fd
        self.base = base  # absolute file offset of this window
        self.size = size
        self._prefix = prefix
        # Parsed tables, so two readers of one file (IDs, build info) parse them once.
        self.cache: dict = {}

    @classmethod
    def of_file(cls, fd) -> "Source":
        """A window on the whole of fd; an object that is not a file
        descriptor (a remote file) gives its own Source."""
        if type(fd) is not int:
            return fd.source()
        return cls(fd, 0, os.fstat(fd).st_size)

    def prefix(self, n: int = PREFIX_SIZE) -> bytes:
        """The first n bytes (fewer if the window is shorter); cached."""
        p = self._prefix
        if p is None or (len(p) < n and len(p) < self.size):
            p = self._prefix = self.pread(self.fd, min(n, self.size), self.base)
        return p[:n]

    def memo(self, key: str, make):
        """make() once per window: parsed tables shared by every reader of a file."""
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = make()
        return value

    def fits(self, off: int, n: int) -> bool:
        return 0 <= off and 0 <= n and off + n <= self.size

    def read_at(self, off: int, n: int, what: str = "data") -> bytes:
        if not self.fits(off, n):
            raise FormatError(f"{what} at offset {self.base + off:#x} (size {n:#x}) lies past the end of the file")
        p = self._prefix
        if p is not None and off + n <= len(p):
            return p[off:off + n]
        data = self.pread(self.fd, n, self.base + off)
        if len(data) != n:
            raise FormatError(f"{what} at offset {self.base + off:#x}: file shrank while reading")
        return data

    def read_padded(self, off: int, n: int, what: str = "data") -> bytes:
        """Like read_at, but within the first 32 KiB the window reads as if
        padded with zeros to 32 KiB: that is what the Go tool parses ELF from."""
        if 0 <= off and 0 <= n and off + n <= PREFIX_SIZE:
            p = self.prefix(PREFIX_SIZE)
            return (p[off:off + n] + bytes(n))[:n]
        return self.read_at(off, n, what)

    def view(self, off: int, n: int, what: str = "member") -> "Source":
        if not self.fits(off, n):
            raise FormatError(f"{what} at offset {self.base + off:#x} (size {n:#x}) lies past the end of the file")
        return type(self)(self.fd, self.base + off, n)

    def absolute(self, off: int) -> int:
        return self.base + off
