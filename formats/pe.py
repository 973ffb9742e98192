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




# --- layout (for explaining and diffing) ---

from collections import namedtuple  # noqa: E402  (kept with the code that uses it)

from .errors import FormatError  # noqa: E402
from .model import Region, Span, image_end  # noqa: E402

PE32_MAGIC, PE32PLUS_MAGIC = 0x10B, 0x20B
CHECKSUM_OFFSET = 64                               # in the optional header, PE32 and PE32+ alike
DATA_DIRECTORY_OFFSET = {PE32_MAGIC: 96, PE32PLUS_MAGIC: 112}
IMAGE_DIRECTORY_ENTRY_SECURITY = 4                 # the certificate table: a file offset, not an RVA
COFF_SYMBOL_SIZE = 18

# certificate: Span of the attribute certificate table or None; certificate_entry:
# Span of its data-directory entry; checksum: Span of the optional header's CheckSum.
PeLayout = namedtuple("PeLayout", "regions image_end certificate certificate_entry checksum has_symtab")


def layout(src: Source) -> PeLayout:
    """Headers, sections, the COFF symbol table and the certificate table with
    their file ranges, and where the fields an Authenticode signer sets live."""
    lfanew = magic.pe_header_offset(src.prefix(PREFIX_SIZE))
    if lfanew is None:
        raise FormatError("not a PE file")
    at = src.absolute
    _, nsect, _, symptr, nsyms, optsize, _ = struct.unpack(COFF_HEADER, src.read_at(lfanew + 4, 20, "COFF header"))
    opt = lfanew + 24
    opt_magic = struct.unpack("<H", src.read_at(opt, 2, "optional header"))[0]
    if opt_magic not in DATA_DIRECTORY_OFFSET or optsize < DATA_DIRECTORY_OFFSET[opt_magic]:
        raise FormatError(f"unknown PE optional header magic {opt_magic:#x} or size {optsize}")
    image_base_fmt = "<Q" if opt_magic == PE32PLUS_MAGIC else "<I"
    image_base = struct.unpack(image_base_fmt, src.read_at(opt + (24 if opt_magic == PE32PLUS_MAGIC else 28),
                                                           struct.calcsize(image_base_fmt), "image base"))[0]
    headers_size = struct.unpack("<I", src.read_at(opt + 60, 4, "SizeOfHeaders"))[0]
    regions = [Region("header", "headers", at(0), headers_size)]
    strings = b""
    if symptr and nsyms:
        end = symptr + nsyms * COFF_SYMBOL_SIZE
        strsize = struct.unpack("<I", src.read_at(end, 4, "COFF string table"))[0] if src.fits(end, 4) else 0
        if strsize > 4 and src.fits(end, strsize):
            strings = src.read_at(end, strsize, "COFF string table")
        regions.append(Region("table", "COFF symbol table", at(symptr), end - symptr + strsize))
    table = src.read_at(opt + optsize, nsect * 40, "section table")
    for i in range(nsect):
        name, _, vaddr, rawsize, rawptr = struct.unpack_from(SECTION_HEADER, table, i * 40)[:5]
        name = name.rstrip(b"\0")
        if name[:1] == b"/" and name[1:].isdigit() and int(name[1:]) < len(strings):
            name = strings[int(name[1:]):].split(b"\0", 1)[0]  # a long name, kept in the string table
        if rawsize:
            regions.append(Region("section", name.decode("utf-8", "replace"), at(rawptr), rawsize,
                                  image_base + vaddr))
    entry = opt + DATA_DIRECTORY_OFFSET[opt_magic] + 8 * IMAGE_DIRECTORY_ENTRY_SECURITY
    certificate = None
    if src.fits(entry, 8) and entry + 8 <= opt + optsize:
        cert_off, cert_size = struct.unpack("<II", src.read_at(entry, 8, "certificate table entry"))
        if cert_off and cert_size:
            certificate = Span(at(cert_off), cert_size)
            regions.append(Region("table", "certificate table", at(cert_off), cert_size))
    return PeLayout(tuple(regions), image_end(regions), certificate, Span(at(entry), 8),
                    Span(at(opt + CHECKSUM_OFFSET), 4), bool(symptr and nsyms))
