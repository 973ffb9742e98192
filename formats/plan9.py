"""Plan 9 a.out: the Go build ID is the raw marker at the start of text, right
after the 32- or 40-byte header."""
from __future__ import annotations

from . import magic, raw
from .model import Found
from .source import PREFIX_SIZE, Source


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    found = Found("plan9", magic.plan9_arch(prefix))
    hit = raw.find_marker(prefix)
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found


# --- layout (for explaining and diffing) ---

import struct  # noqa: E402  (kept with the code that uses it)
from collections import namedtuple  # noqa: E402

from .model import Region, image_end  # noqa: E402

HDR_MAGIC = 0x8000  # a 64-bit entry point follows the 32-byte header


Plan9Layout = namedtuple("Plan9Layout", "regions image_end")


def layout(src: Source) -> Plan9Layout:
    """Header, text, data, symbols, and the pc/line tables, as the a.out header
    sizes them (absolute offsets)."""
    magic_, text, data, _, syms, _, spsz, pcsz = struct.unpack(">8I", src.read_at(0, 32, "Plan 9 header"))
    pos = 40 if magic_ & HDR_MAGIC else 32
    regions = [Region("header", "a.out header", src.absolute(0), pos)]
    for name, size in (("text", text), ("data", data), ("syms", syms), ("spsz", spsz), ("pcsz", pcsz)):
        regions.append(Region("section", name, src.absolute(pos), size))
        pos += size
    return Plan9Layout(tuple(regions), image_end(regions))
