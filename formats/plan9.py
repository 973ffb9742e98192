"""Plan 9 a.out: the Go build ID is the raw marker at the start of text, right
after the 32- or 40-byte header."""
from __future__ import annotations

import struct
from collections import namedtuple

from . import magic, raw
from .memory import AddressSpace, Mapping
from .model import Found, Image, Region, image_end
from .source import PREFIX_SIZE, Source


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    hit = raw.find_marker(prefix)
    return Found("plan9", magic.plan9_arch(prefix), *((hit[0], [src.absolute(hit[1])]) if hit else ()))


# --- the protocol (formats.model.Image) and the layout ---


HDR_MAGIC = 0x8000  # a 64-bit entry point follows the 32-byte header
# Where the Go linker loads text, and what it rounds the data segment's address to.
LOAD = {"386": (0x1000, 0x1000), "arm": (0x1000, 0x1000), "amd64": (0x200000, 0x200000)}

Exec = namedtuple("Exec", "magic text data bss syms entry spsz pcsz")


class Plan9Image(Image):
    """Text and data at the addresses the Go linker gives them (Go's own
    debug/buildinfo uses file offsets as addresses here)."""

    kind = "plan9"
    __slots__ = ("header",)

    def __init__(self, src: Source):
        head = src.read_at(0, 32, "Plan 9 header")
        super().__init__(src, magic.plan9_arch(head), ">", 8 if struct.unpack_from(">I", head)[0] & HDR_MAGIC else 4)
        self.header = Exec._make(struct.unpack(">8I", head))

    @property
    def header_size(self) -> int:
        return 40 if self.header.magic & HDR_MAGIC else 32

    def segments(self) -> tuple[Region, ...]:
        load, rnd = LOAD.get(self.arch, (0x1000, 0x1000))
        text_va = load + self.header_size
        data_va = (text_va + self.header.text + rnd - 1) // rnd * rnd
        return (Region("segment", "text", self.header_size, self.header.text, text_va, None, "rx"),
                Region("segment", "data", self.header_size + self.header.text, self.header.data, data_va, None, "rw"))

    def buildinfo(self) -> tuple[int, int]:
        data = self.segments()[1]
        return data.addr, data.size

    def memory(self) -> AddressSpace:
        return AddressSpace(self.src, [Mapping(r.addr, r.size, r.offset) for r in self.segments()])


def image(src: Source) -> Plan9Image:
    return src.memo("plan9.image", lambda: Plan9Image(src))


Plan9Layout = namedtuple("Plan9Layout", "regions image_end")


def layout(src: Source) -> Plan9Layout:
    """Header, text, data, symbols, and the pc/line tables, as the a.out header
    sizes them (absolute offsets)."""
    img = image(src)
    h, pos = img.header, img.header_size
    regions = [Region("header", "a.out header", src.absolute(0), pos)]
    for name, size in (("text", h.text), ("data", h.data), ("syms", h.syms), ("spsz", h.spsz), ("pcsz", h.pcsz)):
        regions.append(Region("section", name, src.absolute(pos), size))
        pos += size
    return Plan9Layout(tuple(regions), image_end(regions))
