"""LEB128 numbers, as WebAssembly writes sizes, counts and constants."""
from __future__ import annotations

from .errors import FormatError

# A wasm u32 takes at most 5 bytes, a u64 or s64 at most 10.


def _groups(buf: bytes, i: int, bits: int) -> tuple[int, int, int, int]:
    """(7-bit groups as one number, bits consumed, last byte, index after)."""
    result = shift = 0
    while True:
        c = buf[i]
        i += 1
        result |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return result, shift, c, i
        if shift >= bits:
            raise FormatError("bad LEB128 number in wasm module")


def uleb(buf: bytes, i: int, bits: int = 32) -> tuple[int, int]:
    """(value, index after it). IndexError when buf ends inside the number;
    FormatError when it is longer or larger than `bits` allow."""
    result, _, _, i = _groups(buf, i, bits)
    if result >> bits:
        raise FormatError("LEB128 number too large in wasm module")
    return result, i


def sleb(buf: bytes, i: int, bits: int) -> tuple[int, int]:
    """Signed: (value, index after it), with the same errors as uleb."""
    result, shift, last, i = _groups(buf, i, bits)
    if last & 0x40:
        result -= 1 << shift
    return result, i
