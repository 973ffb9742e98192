"""PE (Windows): the Go build ID is the raw marker at the start of .text, which
the Go tool looks for in the first 32 KiB of the file."""
from __future__ import annotations

import struct

from . import magic, raw
from .model import Found
from .source import PREFIX_SIZE, Source

# --- structures (PE/COFF specification) ---
COFF_HEADER = "<HHIIIHH"  # Machine NumberOfSections TimeDateStamp PointerToSymbolTable NumberOfSymbols SizeOfOptionalHeader Characteristics
SECTION_HEADER = "<8sIIIIIIHHI"  # Name VirtualSize VirtualAddress SizeOfRawData PointerToRawData ...
MACHINES = {0x14C: "386", 0x8664: "amd64", 0x1C4: "arm", 0xAA64: "arm64"}


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    lfanew = magic.pe_header_offset(prefix)
    hit = raw.find_marker(prefix)
    if hit is not None and not src.fits(lfanew + 4, 20):
        found = Found("pe")  # the Go tool reads the marker without parsing the file
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
        return found
    machine, nsect, _, _, _, optsize, _ = struct.unpack(
        COFF_HEADER, src.read_at(lfanew + 4, 20, "COFF header"))
    found = Found("pe", MACHINES.get(machine))
    if hit is None:
        # Past the first 32 KiB the Go tool gives up; the start of .text is
        # still where the linker puts the marker.
        table = src.read_at(lfanew + 24 + optsize, nsect * 40, "section table")
        for i in range(nsect):
            name, _, _, rawsize, rawptr = struct.unpack_from(SECTION_HEADER, table, i * 40)[:5]
            if name.rstrip(b"\0") == b".text" and rawptr >= PREFIX_SIZE:
                n = min(rawsize, PREFIX_SIZE)
                if src.fits(rawptr, n):
                    hit = raw.find_marker(src.read_at(rawptr, n, ".text section"))
                    if hit is not None:
                        hit = (hit[0], rawptr + hit[1])
                break
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found


