"""cpio "newc" archives (magic 070701, or 070702 with checksums): RPM's payload."""
from __future__ import annotations

import io
import stat

from .entry import FILE, HARDLINK, OTHER, SYMLINK, Entry
from .streams import CHUNK, read_full

MAGICS = (b"070701", b"070702")
_HEADER = 110
_TRAILER = "TRAILER!!!"


def entries(stream):
    """Entries of the newc stream `stream` (any forward reader)."""
    pos = 0
    while True:
        h = read_full(stream, _HEADER)
        if len(h) < _HEADER:
            raise ValueError(f"cpio header at offset {pos:#x} is truncated")
        if h[:6] not in MAGICS:
            raise ValueError(f"cpio header at offset {pos:#x} has no newc magic")
        try:
            f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        except ValueError:
            raise ValueError(f"cpio header at offset {pos:#x} is corrupt") from None
        mode, nlink, size, namesize = f[1], f[4], f[6], f[11]
        if namesize == 0 or namesize > 65536:
            raise ValueError(f"cpio header at offset {pos:#x}: name size {namesize} is implausible")
        name_pad = (-(_HEADER + namesize)) % 4
        raw = read_full(stream, namesize + name_pad)
        if len(raw) < namesize + name_pad:
            raise ValueError("cpio name is truncated")
        name = raw[:namesize].split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
        pos += _HEADER + namesize + name_pad
        if name == _TRAILER:
            return
        body = _Body(stream, size)
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFREG and size == 0 and nlink > 1:
            yield Entry(name, HARDLINK)  # newc stores a hard link's data with its last name only
        elif kind == stat.S_IFREG:
            yield Entry(name, FILE, size, reader=io.BufferedReader(body, CHUNK))
        elif kind == stat.S_IFLNK:
            yield Entry(name, SYMLINK, link=read_full(body, min(size, 65536)).decode("utf-8", "surrogateescape"))
        elif kind != stat.S_IFDIR:
            yield Entry(name, OTHER)
        body.drain()
        pad = (-size) % 4
        if len(read_full(stream, pad)) != pad:
            raise ValueError(f"cpio member {name!r} is truncated")
        pos += size + pad


class _Body(io.RawIOBase):
    def __init__(self, stream, size: int):
        self.stream, self.left = stream, size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.left <= 0:
            return 0
        data = self.stream.read(min(len(b), self.left))
        b[:len(data)] = data
        self.left -= len(data)
        return len(data)

    def drain(self) -> None:
        while self.left > 0:
            data = self.stream.read(min(CHUNK, self.left))
            if not data:
                raise ValueError("cpio member data is truncated")
            self.left -= len(data)
