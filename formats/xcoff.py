"""XCOFF (AIX): executables carry the raw marker at the start of text; gccgo's
_buildid.o carries the ID in a csect named .go.buildid."""
from __future__ import annotations

import struct
from collections import namedtuple

from . import magic, raw
from .errors import FormatError
from .memory import AddressSpace, Mapping
from .model import Found, Image, Region, image_end
from .source import PREFIX_SIZE, Source


# --- structures (AIX XCOFF object file format) ---
U802TOCMAGIC, U64_TOCMAGIC = 0o737, 0o767
FILEHDR = {U802TOCMAGIC: ">HHIIIHH", U64_TOCMAGIC: ">HHIQHHI"}
SCNHDR = {U802TOCMAGIC: ">8sIIIIIIHHI", U64_TOCMAGIC: ">8sQQQQQQIIII"}
SYMESZ = 18
C_EXT, C_HIDEXT, C_WEAKEXT = 2, 107, 111
XTY_SD = 1
ARCHES = magic.XCOFF


FileHeader = namedtuple("FileHeader", "f_magic f_nscns f_symptr f_nsyms f_opthdr")
Scnhdr = namedtuple("Scnhdr", "s_name s_paddr s_vaddr s_size s_scnptr s_relptr s_lnnoptr s_nreloc s_nlnno "
                              "s_flags")


def magic_of(prefix: bytes) -> int | None:
    return magic.xcoff_magic(prefix)


def file_header(src: Source) -> FileHeader:
    magic_ = magic_of(src.read_at(0, 2, "XCOFF magic"))
    if magic_ is None:
        raise FormatError("not an XCOFF object")
    hdr = struct.unpack(FILEHDR[magic_], src.read_at(0, struct.calcsize(FILEHDR[magic_]), "XCOFF header"))
    if magic_ == U802TOCMAGIC:
        _, nscns, _, symptr, nsyms, opthdr, _ = hdr
    else:
        _, nscns, _, symptr, opthdr, _, nsyms = hdr
    return FileHeader(magic_, nscns, symptr, nsyms, opthdr)


def section_headers(src: Source, fh: FileHeader) -> list[Scnhdr]:
    sfmt = SCNHDR[fh.f_magic]
    ssize = struct.calcsize(sfmt)
    table = src.read_at(struct.calcsize(FILEHDR[fh.f_magic]) + fh.f_opthdr, fh.f_nscns * ssize,
                        "XCOFF section headers")
    return [Scnhdr(*struct.unpack_from(sfmt, table, i * ssize)[:10]) for i in range(fh.f_nscns)]


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    hit = raw.find_marker(prefix)
    return Found("xcoff", ARCHES.get(magic_of(prefix) or 0), *((hit[0], [src.absolute(hit[1])]) if hit else ()))


def csect(src: Source, want: bytes) -> tuple[int, int]:
    """(offset, length) within src of the defined csect named `want`."""
    fh = file_header(src)
    magic, symptr, nsyms = fh.f_magic, fh.f_symptr, fh.f_nsyms
    if symptr == 0 or nsyms == 0:
        raise FormatError("XCOFF object has no symbol table")
    symtab = src.read_at(symptr, nsyms * SYMESZ, "XCOFF symbol table")
    strtab = b""
    str_off = symptr + nsyms * SYMESZ
    if src.fits(str_off, 4):
        n = struct.unpack(">I", src.read_at(str_off, 4))[0]
        if n > 4:
            strtab = src.read_at(str_off, n, "XCOFF string table")
    sections = [(h.s_vaddr, h.s_size, h.s_scnptr) for h in section_headers(src, fh)]

    def name_at(off: int) -> bytes | None:
        if off < 4 or off >= len(strtab):
            return None
        end = strtab.find(b"\0", off)
        return strtab[off:end if end >= 0 else len(strtab)]

    i = 0
    while i < nsyms:
        e = symtab[i * SYMESZ:(i + 1) * SYMESZ]
        if magic == U802TOCMAGIC:
            nname, value, scnum, _, sclass, numaux = struct.unpack(">8sIhHBB", e)
            name = name_at(struct.unpack_from(">I", nname, 4)[0]) if nname[:4] == b"\0\0\0\0" \
                else nname.split(b"\0", 1)[0]
        else:
            value, noff, scnum, _, sclass, numaux = struct.unpack(">QIhHBB", e)
            name = name_at(noff)
        if (name == want and sclass in (C_EXT, C_WEAKEXT, C_HIDEXT)
                and numaux >= 1 and i + numaux < nsyms):
            aux = symtab[(i + numaux) * SYMESZ:(i + numaux + 1) * SYMESZ]
            if magic == U802TOCMAGIC:
                length, _, _, smtyp, _ = struct.unpack_from(">IIHBB", aux)
            else:
                lo, _, _, smtyp, _, hi = struct.unpack_from(">IIHBBI", aux)
                length = hi << 32 | lo
            if smtyp & 7 == XTY_SD and 1 <= scnum <= len(sections):
                vaddr, size, scnptr = sections[scnum - 1]
                rel = value - vaddr
                if 0 <= rel and rel + length <= size and src.fits(scnptr + rel, length):
                    return scnptr + rel, length
            break
        i += 1 + numaux
    raise FormatError(f"XCOFF object has no {want.decode()} csect")


# --- the protocol (formats.model.Image) and the layout ---


STYP_TEXT, STYP_DATA, STYP_BSS = 0x20, 0x40, 0x80


def _perm(flags: int) -> str:
    """How the loader maps a section of these type flags (XCOFF has no others)."""
    return "rx" if flags & STYP_TEXT else "rw" if flags & (STYP_DATA | STYP_BSS) else ""
RELOC_SIZE = {U802TOCMAGIC: 10, U64_TOCMAGIC: 14}
LINENO_SIZE = {U802TOCMAGIC: 6, U64_TOCMAGIC: 12}


class XcoffImage(Image):
    kind = "xcoff"
    __slots__ = ("header", "headers")

    def __init__(self, src: Source):
        fh = file_header(src)
        super().__init__(src, ARCHES.get(fh.f_magic), ">", 8 if fh.f_magic == U64_TOCMAGIC else 4)
        self.header, self.headers = fh, tuple(section_headers(src, fh))

    def sections(self) -> tuple[Region, ...]:
        return tuple(Region("section", h.s_name.rstrip(b"\0").decode("utf-8", "replace"), h.s_scnptr,
                            0 if h.s_flags & STYP_BSS else h.s_size, h.s_vaddr,
                            h.s_size if h.s_flags & STYP_BSS else None, _perm(h.s_flags)) for h in self.headers)

    def buildinfo(self) -> tuple[int, int] | None:
        """The first data section."""
        h = next((h for h in self.headers if h.s_flags == STYP_DATA), None)
        return None if h is None else (h.s_vaddr, h.s_size)

    def memory(self) -> AddressSpace:
        return AddressSpace(self.src, [Mapping(h.s_vaddr, h.s_size, h.s_scnptr)
                                       for h in self.headers if h.s_flags != STYP_BSS])


def image(src: Source) -> XcoffImage:
    return src.memo("xcoff.image", lambda: XcoffImage(src))


XcoffLayout = namedtuple("XcoffLayout", "regions image_end")


def layout(src: Source) -> XcoffLayout:
    """Headers, sections (with their relocations and line numbers), the symbol
    table and the string table, with absolute offsets."""
    img = image(src)
    fh = img.header
    at = src.absolute
    headers = struct.calcsize(FILEHDR[fh.f_magic]) + fh.f_opthdr + fh.f_nscns * struct.calcsize(SCNHDR[fh.f_magic])
    regions = [Region("header", "XCOFF headers", at(0), headers)]
    for h in img.headers:
        name = h.s_name.rstrip(b"\0").decode("utf-8", "replace")
        if h.s_scnptr and not h.s_flags & STYP_BSS:
            regions.append(Region("section", name, at(h.s_scnptr), h.s_size, h.s_vaddr or None))
        if h.s_relptr and h.s_nreloc:
            regions.append(Region("table", f"{name} relocations", at(h.s_relptr),
                                  h.s_nreloc * RELOC_SIZE[fh.f_magic]))
        if h.s_lnnoptr and h.s_nlnno:
            regions.append(Region("table", f"{name} line numbers", at(h.s_lnnoptr),
                                  h.s_nlnno * LINENO_SIZE[fh.f_magic]))
    symptr, nsyms = fh.f_symptr, fh.f_nsyms
    if symptr and nsyms:
        end = symptr + nsyms * SYMESZ
        regions.append(Region("table", "symbol table", at(symptr), nsyms * SYMESZ))
        if src.fits(end, 4):
            strsize = struct.unpack(">I", src.read_at(end, 4, "XCOFF string table"))[0]
            regions.append(Region("table", "string table", at(end), max(strsize, 4)))
    elif fh.f_magic == U64_TOCMAGIC:
        tables = unrecorded_tables(src, image_end(regions) - src.base)
        if tables is not None:
            start, strtab, end = tables
            regions.append(Region("table", "symbol table (not in the header)", at(start), strtab - start))
            regions.append(Region("table", "string table", at(strtab), end - strtab))
    return XcoffLayout(tuple(regions), image_end(regions))


# The most bytes walked looking for tables the header leaves out.
MAX_UNRECORDED = 64 << 20


def unrecorded_tables(src: Source, start: int) -> tuple[int, int, int] | None:
    """Go's linker writes the symbol and string tables even when told -s, and
    then leaves them out of the file header (f_symptr and f_nsyms zero), so
    the header alone places the end of the image too early. (start, string
    table, end) of such tables after `start`, when the bytes there walk as
    64-bit symbol entries up to a string table whose size fits the file and
    holds every name they point at; None otherwise."""
    n = min(src.size - start, MAX_UNRECORDED)
    if n < SYMESZ + 4:
        return None
    data = src.read_at(start, n, "XCOFF symbol table")
    pos, longest = 0, 0
    while pos + 4 <= n:
        size = struct.unpack_from(">I", data, pos)[0]
        # A symbol entry starts with the top half of its value, never 4 or more
        # in a Go binary's addresses; a string table starts with its own size.
        if pos and 4 <= size and pos + size <= n and longest < size and data[pos + size - 1] == 0:
            return start, start + pos, start + pos + size
        if pos + SYMESZ > n:
            return None
        longest = max(longest, struct.unpack_from(">I", data, pos + 8)[0])
        numaux = data[pos + SYMESZ - 1]
        if numaux > 8:
            return None
        pos += SYMESZ * (1 + numaux)
    return None
