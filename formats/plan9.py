"""Plan 9 a.out: the Go build ID is the raw marker at the start of text, right
after the 32- or 40-byte header."""
from __future__ import annotations

import struct

from . import raw
from .model import Found
from .source import PREFIX_SIZE, Source

# --- structures (a.out(6)): magic = (4*b + 0)*b + 7, with HDR_MAGIC set when
# the header carries a 64-bit entry point ---
MAGICS = {0x000001EB: "386", 0x00008A97: "amd64", 0x00000647: "arm"}


def arch_of(prefix: bytes) -> str | None:
    if len(prefix) < 32:
        return None
    return MAGICS.get(struct.unpack_from(">I", prefix)[0])


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    found = Found("plan9", arch_of(prefix))
    hit = raw.find_marker(prefix)
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found
