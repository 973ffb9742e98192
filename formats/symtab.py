"""Finding one symbol in a symbol table without decoding every entry."""
from __future__ import annotations

import struct

# Symbol and string tables larger than this are not searched.
MAX_SYMTAB = 64 << 20


def lookup(names: bytes, table: bytes, entry: int, fmt: str, want: tuple[bytes, ...]):
    """The entry of `fmt` (first field: the name's offset in `names`) whose
    name is one of `want`, found by the name's offset rather than by decoding
    every entry."""
    for name in want:
        pos = names.find(b"\0" + name + b"\0")
        off = pos + 1 if pos >= 0 else (0 if names.startswith(name + b"\0") else -1)
        if off < 0:
            continue
        key = struct.pack(fmt[0] + "I", off)
        i = table.find(key)
        while i >= 0:
            if i % entry == 0 and i + entry <= len(table):
                return struct.unpack_from(fmt, table, i)
            i = table.find(key, i + 1)
    return None
