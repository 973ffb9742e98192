"""Reading a container by target address: the mapping its headers declare from
load addresses to file bytes (Go's debug/buildinfo `exe.ReadData`)."""
from __future__ import annotations

from .source import Source


class Mapping:
    """Target addresses [addr, addr+size) are file bytes [offset, offset+size) of the Source."""

    __slots__ = ("addr", "size", "offset")

    def __init__(self, addr: int, size: int, offset: int):
        self.addr, self.size, self.offset = addr, size, offset

    def __repr__(self) -> str:
        return f"Mapping(addr={self.addr:#x}, size={self.size:#x}, offset={self.offset:#x})"


class AddressSpace:
    """Reads at target virtual addresses. The first mapping containing an address
    wins (table order, as Go's DataReader); a read never crosses the end of it."""

    def __init__(self, src: Source, mappings):
        self.src = src
        # Mappings reaching past the end of the file keep only their bytes in it.
        self.regions = []
        for r in mappings:
            if r.size <= 0 or r.offset < 0 or r.offset >= src.size:
                continue
            self.regions.append(Mapping(r.addr, min(r.size, src.size - r.offset), r.offset))

    def region_of(self, addr: int) -> Mapping | None:
        for r in self.regions:
            if r.addr <= addr < r.addr + r.size:
                return r
        return None

    def available(self, addr: int) -> int:
        """How many bytes can be read from addr on (0 when addr is not mapped)."""
        r = self.region_of(addr)
        return 0 if r is None else r.addr + r.size - addr

    def file_offset(self, addr: int) -> int | None:
        r = self.region_of(addr)
        return None if r is None else self.src.absolute(r.offset + addr - r.addr)

    def read(self, addr: int, n: int, what: str = "data") -> bytes:
        """Up to n bytes at addr: fewer when the mapping ends first; b"" when addr is unmapped."""
        r = self.region_of(addr)
        if r is None or n <= 0:
            return b""
        n = min(n, r.addr + r.size - addr)
        return self.src.read_at(r.offset + addr - r.addr, n, what)
