"""Debian binary packages: an ar archive of `debian-binary`, `control.tar.*`
and `data.tar.*`. The package reads as its file tree: the members of
data.tar.* (any compression) appear directly under the .deb."""
from __future__ import annotations

import os

import io

from . import tarball
from .magic import AR_MAGIC
from .limits import Budget
from .streams import CHUNK, Window

_HEADER = 60


def members(fd: int, base: int, size: int):
    """(name, offset, size) of each ar member, offsets relative to the window."""
    off = len(AR_MAGIC)
    while off + _HEADER <= size:
        h = _pread(fd, base + off, _HEADER)
        if h[58:60] != b"`\n":
            raise ValueError(f"ar member header at offset {off:#x} is corrupt")
        n = int(h[48:58].strip() or b"0")
        name = h[:16].rstrip(b" ").rstrip(b"/").decode("ascii", "replace")
        if off + _HEADER + n > size:
            raise ValueError(f"ar member {name!r} runs past the end of the archive")
        yield name, off + _HEADER, n
        off += _HEADER + n + (n & 1)


def entries(fd: int, base: int, size: int, budget: Budget):
    found = False
    for name, off, n in members(fd, base, size):
        if name.startswith("data.tar"):
            found = True
            yield from tarball.entries(io.BufferedReader(Window(fd, base + off, n), CHUNK), budget)
    if not found:
        raise ValueError("no data.tar member")


def _pread(fd: int, off: int, n: int) -> bytes:
    b = os.pread(fd, n, off)
    if len(b) != n:
        raise ValueError("truncated ar header")
    return b
