"""Small helpers shared by the tests (fixtures live in conftest.py)."""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

BUILDID = [sys.executable, "-m", "buildidtool"]


def run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run our CLI; stdout and stderr stay bytes."""
    return subprocess.run([*BUILDID, *map(str, args)], capture_output=True, timeout=timeout)


def fat_slices(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each slice of a universal Mach-O, read independently of formats/."""
    magic, n = struct.unpack_from(">II", data)
    if magic == 0xCAFEBABF:
        return [struct.unpack_from(">QQ", data, 8 + 32 * i + 8) for i in range(n)]
    return [struct.unpack_from(">II", data, 8 + 20 * i + 8) for i in range(n)]


def flip_byte(path: Path, offset: int | None = None) -> int:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x5A
    path.write_bytes(bytes(data))
    return at
