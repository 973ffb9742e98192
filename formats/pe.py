"""PE (Windows): the Go build ID is the raw marker at the start of .text, which
the Go tool looks for in the first 32 KiB of the file."""
from __future__ import annotations

import struct
from collections import namedtuple

from . import magic, raw
from .errors import FormatError
from .model import Found, Image, Region, Span, image_end
from .source import PREFIX_SIZE, Source


# --- structures (PE/COFF specification) ---
COFF_HEADER = "<HHIIIHH"  # Machine NumberOfSections TimeDateStamp PointerToSymbolTable NumberOfSymbols SizeOfOptionalHeader Characteristics
SECTION_HEADER = "<8sIIIIIIHHI"  # Name VirtualSize VirtualAddress SizeOfRawData PointerToRawData ...
MACHINES = {0x14C: "386", 0x8664: "amd64", 0x1C4: "arm", 0xAA64: "arm64"}
CoffHeader = namedtuple("CoffHeader", "Machine NumberOfSections TimeDateStamp PointerToSymbolTable "
                                      "NumberOfSymbols SizeOfOptionalHeader Characteristics")


def read(src: Source) -> Found:
    hit = raw.find_marker(src.prefix(PREFIX_SIZE))
    try:
        # Not image(src): kept on the Source, the image and the Source would
        # hold each other, and every file's 32 KiB prefix would then live on
        # until the cycle collector ran (benchmarks/README.md, "Measurements
        # behind the code").
        img = PeImage(src)
    except FormatError:  # the COFF header lies past the end of the file
        if hit is None:
            raise
        return Found("pe", None, hit[0], [src.absolute(hit[1])])  # the Go tool reads the marker without parsing
    if hit is None:
        # Past the first 32 KiB the Go tool gives up; the start of .text is
        # still where the linker puts the marker.
        text = next((h for h in img.headers if h.Name == b".text" and h.PointerToRawData >= PREFIX_SIZE), None)
        if text is not None:
            n = min(text.SizeOfRawData, PREFIX_SIZE)
            if src.fits(text.PointerToRawData, n):
                hit = raw.find_marker(src.read_at(text.PointerToRawData, n, ".text section"))
                if hit is not None:
                    hit = (hit[0], text.PointerToRawData + hit[1])
    return Found("pe", img.arch, *((hit[0], [src.absolute(hit[1])]) if hit else ()))


# --- the protocol (formats.model.Image) and the layout ---


PE32_MAGIC, PE32PLUS_MAGIC = 0x10B, 0x20B
CHECKSUM_OFFSET = 64                               # in the optional header, PE32 and PE32+ alike
DATA_DIRECTORY_OFFSET = {PE32_MAGIC: 96, PE32PLUS_MAGIC: 112}
IMAGE_DIRECTORY_ENTRY_SECURITY = 4                 # the certificate table: a file offset, not an RVA
COFF_SYMBOL_SIZE = 18
IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040
IMAGE_SCN_ALIGN_32BYTES = 0x00600000
IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE = 0x20000000, 0x40000000, 0x80000000
DATA_CHARACTERISTICS = IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_WRITE
WIDE_MACHINES = (0x8664, 0xAA64)

# What we use of the optional header: ImageBase is 0 when Magic is unknown.
OptionalHeader = namedtuple("OptionalHeader", "Magic ImageBase")
# One row of the section table; Name as stored (a long name is "/N").
SectionHeader = namedtuple("SectionHeader", "Name VirtualSize VirtualAddress SizeOfRawData PointerToRawData "
                                            "Characteristics")


def _optional_header(src: Source, opt: int, optsize: int) -> OptionalHeader:
    magic_, image_base = 0, 0
    if optsize >= 2:
        magic_ = struct.unpack("<H", src.read_at(opt, 2, "optional header"))[0]
        if magic_ == PE32_MAGIC and optsize >= 32:
            image_base = struct.unpack("<I", src.read_at(opt + 28, 4, "optional header"))[0]
        elif magic_ == PE32PLUS_MAGIC and optsize >= 32:
            image_base = struct.unpack("<Q", src.read_at(opt + 24, 8, "optional header"))[0]
    return OptionalHeader(magic_, image_base)


def _perm(chars: int) -> str:
    return "".join(c for bit, c in ((IMAGE_SCN_MEM_READ, "r"), (IMAGE_SCN_MEM_WRITE, "w"),
                                    (IMAGE_SCN_MEM_EXECUTE, "x")) if chars & bit)


class PeImage(Image):
    """The COFF header, read when the image is made; the optional header's
    magic and image base and the section table, each read on first use, so
    that reading an ID asks no more of the file than it did before these were
    shared (an unknown optional header just has no image base, as in debug/pe)."""

    kind = "pe"
    __slots__ = ("lfanew", "coff", "_optional", "_headers")

    def __init__(self, src: Source):
        lfanew = struct.unpack_from("<I", src.read_at(magic.E_LFANEW, 4, "PE header offset"))[0]
        coff = CoffHeader._make(struct.unpack(COFF_HEADER, src.read_at(lfanew + 4, 20, "COFF header")))
        super().__init__(src, MACHINES.get(coff.Machine), "<", 8 if coff.Machine in WIDE_MACHINES else 4)
        self.lfanew, self.coff = lfanew, coff
        self._optional = self._headers = None

    @property
    def optional(self) -> OptionalHeader:
        if self._optional is None:
            self._optional = _optional_header(self.src, self.lfanew + 24, self.coff.SizeOfOptionalHeader)
        return self._optional

    @property
    def headers(self) -> tuple[SectionHeader, ...]:
        if self._headers is None:
            coff = self.coff
            table = self.src.read_at(self.lfanew + 24 + coff.SizeOfOptionalHeader, coff.NumberOfSections * 40,
                                     "section table")
            self._headers = tuple(SectionHeader(name.rstrip(b"\0"), vsize, va, rawsize, rawptr, chars)
                                  for name, vsize, va, rawsize, rawptr, _, _, _, _, chars
                                  in struct.iter_unpack(SECTION_HEADER, table))
        return self._headers

    def symbol_tables(self) -> tuple[int, int, int] | None:
        """(offset of the COFF symbol table, of the string table after it, the
        string table's declared size or 0 when cut off), or None without one."""
        symptr, nsyms = self.coff.PointerToSymbolTable, self.coff.NumberOfSymbols
        if not (symptr and nsyms):
            return None
        end = symptr + nsyms * COFF_SYMBOL_SIZE
        src = self.src
        return symptr, end, struct.unpack("<I", src.read_at(end, 4, "COFF string table"))[0] if src.fits(end, 4) else 0

    def string_table(self) -> bytes:
        """The COFF string table (long section names), or b"" when absent or cut off."""
        tables = self.symbol_tables()
        if tables is None:
            return b""
        _, end, strsize = tables
        fits = strsize > 4 and self.src.fits(end, strsize)
        return self.src.read_at(end, strsize, "COFF string table") if fits else b""

    def sections(self) -> tuple[Region, ...]:
        return self.src.memo("pe.sections", self._sections)

    def _sections(self) -> tuple[Region, ...]:
        base = self.optional.ImageBase
        strings = self.string_table() if any(h.Name[:1] == b"/" for h in self.headers) else b""
        out = []
        for h in self.headers:
            name = h.Name
            if name[:1] == b"/" and name[1:].isdigit() and int(name[1:]) < len(strings):
                name = strings[int(name[1:]):].split(b"\0", 1)[0]  # a long name, kept in the string table
            out.append(Region("section", name.decode("utf-8", "replace"), h.PointerToRawData, h.SizeOfRawData,
                              base + h.VirtualAddress, h.VirtualSize, _perm(h.Characteristics)))
        return tuple(out)

    def buildinfo(self) -> tuple[int, int] | None:
        """The first section of initialized, readable, writable data (.data)."""
        base = self.optional.ImageBase
        for h in self.headers:
            if (h.VirtualAddress and h.SizeOfRawData
                    and h.Characteristics & ~IMAGE_SCN_ALIGN_32BYTES == DATA_CHARACTERISTICS):
                return base + h.VirtualAddress, h.VirtualSize
        return None

    def memory(self):
        from .memory import AddressSpace, Mapping  # not needed to read an ID
        base = self.optional.ImageBase
        return AddressSpace(self.src, [Mapping(base + h.VirtualAddress, h.SizeOfRawData,
                                               h.PointerToRawData) for h in self.headers])

    def symbol(self, name: bytes) -> int | None:
        from .symtab import MAX_SYMTAB  # not needed to read an ID
        symptr, nsyms, src = self.coff.PointerToSymbolTable, self.coff.NumberOfSymbols, self.src
        if not symptr or not nsyms or nsyms * COFF_SYMBOL_SIZE > MAX_SYMTAB:
            return None
        table = src.read_at(symptr, nsyms * COFF_SYMBOL_SIZE, "COFF symbol table")
        end = symptr + nsyms * COFF_SYMBOL_SIZE
        size = struct.unpack("<I", src.read_at(end, 4, "COFF string table"))[0]
        names = src.read_at(end, min(size, MAX_SYMTAB), "COFF string table")
        hits = []
        if len(name) <= 8:
            hits.append(table.find(name.ljust(8, b"\0")))
        else:
            pos = names.find(b"\0" + name + b"\0")
            if pos >= 0:
                hits.append(table.find(struct.pack("<II", 0, pos + 1)))
        for i in hits:
            while i >= 0 and i % COFF_SYMBOL_SIZE:
                i = table.find(table[i:i + 8], i + 1)
            if i >= 0:
                value, sect = struct.unpack_from("<Ih", table, i + 8)
                if 0 < sect <= len(self.headers):
                    return self.optional.ImageBase + self.headers[sect - 1].VirtualAddress + value
        return None


def image(src: Source) -> PeImage:
    return src.memo("pe.image", lambda: PeImage(src))


# certificate: Span of the attribute certificate table or None; certificate_entry:
# Span of its data-directory entry; checksum: Span of the optional header's CheckSum.
PeLayout = namedtuple("PeLayout", "regions image_end certificate certificate_entry checksum has_symtab")


def layout(src: Source) -> PeLayout:
    """Headers, sections, the COFF symbol table and the certificate table with
    their file ranges, and where the fields an Authenticode signer sets live."""
    if magic.pe_header_offset(src.prefix(PREFIX_SIZE)) is None:
        raise FormatError("not a PE file")
    img = image(src)
    sections = img.sections()  # first: a cut file is reported by what it lacks first, the section table
    at = src.absolute
    opt, opt_magic, optsize = img.lfanew + 24, img.optional.Magic, img.coff.SizeOfOptionalHeader
    if opt_magic not in DATA_DIRECTORY_OFFSET or optsize < DATA_DIRECTORY_OFFSET[opt_magic]:
        raise FormatError(f"unknown PE optional header magic {opt_magic:#x} or size {optsize}")
    headers_size = struct.unpack("<I", src.read_at(opt + 60, 4, "SizeOfHeaders"))[0]
    regions = [Region("header", "headers", at(0), headers_size)]
    symtab = img.symbol_tables()
    if symtab is not None:
        symptr, end, strsize = symtab
        regions.append(Region("table", "COFF symbol table", at(symptr), end - symptr + strsize))
    regions += [Region("section", r.name, at(r.offset), r.size, r.addr) for r in sections if r.size]
    entry = opt + DATA_DIRECTORY_OFFSET[opt_magic] + 8 * IMAGE_DIRECTORY_ENTRY_SECURITY
    certificate = None
    if src.fits(entry, 8) and entry + 8 <= opt + optsize:
        cert_off, cert_size = struct.unpack("<II", src.read_at(entry, 8, "certificate table entry"))
        if cert_off and cert_size:
            certificate = Span(at(cert_off), cert_size)
            regions.append(Region("table", "certificate table", at(cert_off), cert_size))
    return PeLayout(tuple(regions), image_end(regions), certificate, Span(at(entry), 8),
                    Span(at(opt + CHECKSUM_OFFSET), 4), symtab is not None)
