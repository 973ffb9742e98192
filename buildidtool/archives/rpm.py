"""RPM packages: a 96-byte lead, a signature header (padded to 8 bytes), the
main header, then the payload: a cpio archive, compressed by gzip, bzip2, xz
or zstd. The package reads as the payload's file tree."""
from __future__ import annotations

import io
import os
import struct

from . import cpio
from .limits import Budget
from .streams import CHUNK, Window, decompressed

_HEADER_MAGIC = b"\x8e\xad\xe8\x01"
_LEAD = 96
_MAX_HEADER = 256 << 20


def _header_end(fd: int, base: int, off: int, size: int, pad: bool) -> int:
    h = os.pread(fd, 16, base + off)
    if len(h) != 16 or h[:4] != _HEADER_MAGIC:
        raise ValueError(f"RPM header at offset {off:#x} has no header magic")
    nindex, hsize = struct.unpack(">II", h[8:16])
    n = 16 + 16 * nindex + hsize
    if n > _MAX_HEADER or off + n > size:
        raise ValueError(f"RPM header at offset {off:#x} runs past the end of the package")
    end = off + n
    return end + (-end) % 8 if pad else end


def main_header(fd: int, base: int, size: int) -> int:
    """Where the main header starts (after the lead and the signature header)."""
    if size < _LEAD:
        raise ValueError("RPM lead is truncated")
    return _header_end(fd, base, _LEAD, size, pad=True)


def payload_offset(fd: int, base: int, size: int) -> int:
    return _header_end(fd, base, main_header(fd, base, size), size, pad=False)


def entries(fd: int, base: int, size: int, budget: Budget):
    off = payload_offset(fd, base, size)
    raw = io.BufferedReader(Window(fd, base + off, size - off), CHUNK)
    _, stream, held = decompressed(raw, budget)
    try:
        yield from cpio.entries(stream)
    finally:
        budget.release(held)
