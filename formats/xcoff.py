"""XCOFF (AIX): executables carry the raw marker at the start of text; gccgo's
_buildid.o carries the ID in a csect named .go.buildid."""
from __future__ import annotations

import struct

from . import magic, raw
from .errors import FormatError
from .model import Found
from .source import PREFIX_SIZE, Source

# --- structures (AIX XCOFF object file format) ---
U802TOCMAGIC, U64_TOCMAGIC = 0o737, 0o767
FILEHDR = {U802TOCMAGIC: ">HHIIIHH", U64_TOCMAGIC: ">HHIQHHI"}
SCNHDR = {U802TOCMAGIC: ">8sIIIIIIHHI", U64_TOCMAGIC: ">8sQQQQQQIIII"}
SYMESZ = 18
C_EXT, C_HIDEXT, C_WEAKEXT = 2, 107, 111
XTY_SD = 1
ARCHES = magic.XCOFF


def magic_of(prefix: bytes) -> int | None:
    return magic.xcoff_magic(prefix)


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    found = Found("xcoff", ARCHES.get(magic_of(prefix) or 0))
    hit = raw.find_marker(prefix)
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found


def csect(src: Source, want: bytes) -> tuple[int, int]:
    """(offset, length) within src of the defined csect named `want`."""
    magic = magic_of(src.read_at(0, 2, "XCOFF magic"))
    if magic is None:
        raise FormatError("not an XCOFF object")
    hfmt = FILEHDR[magic]
    hdr = struct.unpack(hfmt, src.read_at(0, struct.calcsize(hfmt), "XCOFF header"))
    if magic == U802TOCMAGIC:
        _, nscns, _, symptr, nsyms, opthdr, _ = hdr
    else:
        _, nscns, _, symptr, opthdr, _, nsyms = hdr
    if symptr == 0 or nsyms == 0:
        raise FormatError("XCOFF object has no symbol table")
    symtab = src.read_at(symptr, nsyms * SYMESZ, "XCOFF symbol table")
    strtab = b""
    str_off = symptr + nsyms * SYMESZ
    if src.fits(str_off, 4):
        n = struct.unpack(">I", src.read_at(str_off, 4))[0]
        if n > 4:
            strtab = src.read_at(str_off, n, "XCOFF string table")
    sfmt = SCNHDR[magic]
    ssize = struct.calcsize(sfmt)
    table = src.read_at(struct.calcsize(hfmt) + opthdr, nscns * ssize, "XCOFF section headers")
    sections = []  # (vaddr, size, scnptr)
    for i in range(nscns):
        f = struct.unpack_from(sfmt, table, i * ssize)
        sections.append((f[2], f[3], f[4]))

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


# --- layout (for explaining and diffing) ---

from collections import namedtuple  # noqa: E402  (kept with the code that uses it)

from .model import Region, image_end  # noqa: E402

STYP_BSS = 0x80
RELOC_SIZE = {U802TOCMAGIC: 10, U64_TOCMAGIC: 14}
LINENO_SIZE = {U802TOCMAGIC: 6, U64_TOCMAGIC: 12}
XcoffLayout = namedtuple("XcoffLayout", "regions image_end")


def layout(src: Source) -> XcoffLayout:
    """Headers, sections (with their relocations and line numbers), the symbol
    table and the string table, with absolute offsets."""
    magic_ = magic_of(src.read_at(0, 2, "XCOFF magic"))
    if magic_ is None:
        raise FormatError("not an XCOFF file")
    hfmt, sfmt = FILEHDR[magic_], SCNHDR[magic_]
    hdr = struct.unpack(hfmt, src.read_at(0, struct.calcsize(hfmt), "XCOFF header"))
    if magic_ == U802TOCMAGIC:
        _, nscns, _, symptr, nsyms, opthdr, _ = hdr
    else:
        _, nscns, _, symptr, opthdr, _, nsyms = hdr
    ssize = struct.calcsize(sfmt)
    at = src.absolute
    headers = struct.calcsize(hfmt) + opthdr + nscns * ssize
    regions = [Region("header", "XCOFF headers", at(0), headers)]
    table = src.read_at(struct.calcsize(hfmt) + opthdr, nscns * ssize, "XCOFF section headers")
    for i in range(nscns):
        f = struct.unpack_from(sfmt, table, i * ssize)
        name, vaddr, size, scnptr, relptr, lnnoptr, nreloc, nlnno, flags = f[0], f[2], f[3], f[4], f[5], f[6], \
            f[7], f[8], f[9]
        name = name.rstrip(b"\0").decode("utf-8", "replace")
        if scnptr and not flags & STYP_BSS:
            regions.append(Region("section", name, at(scnptr), size, vaddr or None))
        if relptr and nreloc:
            regions.append(Region("table", f"{name} relocations", at(relptr), nreloc * RELOC_SIZE[magic_]))
        if lnnoptr and nlnno:
            regions.append(Region("table", f"{name} line numbers", at(lnnoptr), nlnno * LINENO_SIZE[magic_]))
    if symptr and nsyms:
        end = symptr + nsyms * SYMESZ
        regions.append(Region("table", "symbol table", at(symptr), nsyms * SYMESZ))
        if src.fits(end, 4):
            strsize = struct.unpack(">I", src.read_at(end, 4, "XCOFF string table"))[0]
            regions.append(Region("table", "string table", at(end), max(strsize, 4)))
    return XcoffLayout(tuple(regions), image_end(regions))
