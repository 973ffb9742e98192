"""The Go version of an executable whose build info is missing.

Release pipelines strip the build-info blob (`objcopy --remove-section
.go.buildinfo`, post-link packers, some vendors' own tooling), and `go version`
then says "not a Go executable". The runtime still carries its version:
the linker sets the string variable runtime.buildVersion (a Go string header
in the data, pointing at the bytes in read-only data). Three ways to it, most
certain first, reported as two sources:

  symbol  runtime.buildVersion through the symbol table (ELF .symtab, Mach-O
          LC_SYMTAB, PE COFF symbols): read its string header, then the string.
  scan    without symbols: (1) every `go1.` (or `devel go1.`) in read-only
          data whose address and length some aligned string header in the
          writable data holds; failing that, (2) the version strings a bounded
          search of the read-only data finds, accepted only when they all agree.

A version is reported only for a file that is plainly Go: a Go build ID, a Go
section (.gopclntab, __gopclntab, .go.buildinfo, __go_buildinfo), the symbol
itself, or a Go pclntab header in its data. Every recovered string
must read as a Go version (`go1.N[.P][rcN|betaN]` or `devel ...`, optionally
with ` X:experiments`); anything else is no answer rather than a guess.
"""
from __future__ import annotations

import re
import struct

from .formats.buildinfo_blob import (AddressSpace, Region, _macho_layout, identify, pe_layout,
                                     universal_slices)
from .formats.errors import FormatError
from .formats.source import Source

SOURCES = ("buildinfo", "symbol", "scan")

SYMBOL = b"runtime.buildVersion"
VERSION = re.compile(rb"(?:go1\.\d{1,3}(?:\.\d{1,3})?(?:(?:rc|beta)\d{1,3})?|devel [ -~]{1,160})"
                     rb"(?:[ -]X:[ -~]{1,200})?")
LOOSE = re.compile(rb"go1\.\d{1,3}(?:\.\d{1,3})?(?:(?:rc|beta)\d{1,3})?(?![0-9.])")
MAX_VERSION = 256
MAX_REGION = 64 << 20    # read-only data or writable data searched, per file
MAX_CANDIDATES = 256     # `go1.` occurrences followed up
WINDOW = 4 << 20         # bytes searched at a time
MAX_SYMTAB = 64 << 20
# pclntab header magics: Go 1.2, 1.16, 1.18, 1.20+; then two zero bytes.
PCLNTAB_MAGICS = (0xFFFFFFFB, 0xFFFFFFFA, 0xFFFFFFF0, 0xFFFFFFF1)
GO_SECTIONS = (b".gopclntab", b".go.buildinfo", b".note.go.buildid", b"__gopclntab", b"__go_buildinfo")


def valid(s: bytes) -> bool:
    return len(s) <= MAX_VERSION and VERSION.fullmatch(s) is not None


class Image:
    """What recovery needs from one executable: its memory, where its read-only
    and writable data lie, how wide and in what order its pointers are, whether
    it bears a Go mark, and a symbol lookup."""

    def __init__(self, space: AddressSpace, ptr: int, bo: str, rodata: list, data: list,
                 go_marked: bool, symbol, sections_known: bool):
        self.space, self.ptr, self.bo = space, ptr, bo
        self.rodata, self.data = rodata, data  # [(addr, size)]
        self.go_marked = go_marked
        # The file names its sections, so a Go binary would show a Go section.
        self.sections_known = sections_known
        self.symbol = symbol  # name -> address or None

    def string_at(self, addr: int) -> bytes | None:
        """The Go string whose header is at addr, if it is a Go version."""
        hdr = self.space.read(addr, 2 * self.ptr, "string header")
        if len(hdr) < 2 * self.ptr:
            return None
        code = self.bo + ("Q" if self.ptr == 8 else "I") * 2
        ptr, n = struct.unpack(code, hdr)
        if not 0 < n <= MAX_VERSION:
            return None
        s = self.space.read(ptr, n, "Go version")
        return s if len(s) == n and valid(s) else None

    def chunks(self, areas: list, overlap: int = MAX_VERSION):
        """(addr, bytes) windows over the areas, WINDOW bytes apart and `overlap`
        bytes longer, so a pattern that short is whole in one of them; at most
        MAX_REGION bytes in all, and never more than a window in memory."""
        left = MAX_REGION
        for addr, size in areas:
            n = min(size, left, self.space.available(addr))
            left -= max(n, 0)
            for pos in range(addr, addr + n, WINDOW):
                yield pos, self.space.read(pos, min(WINDOW + overlap, addr + n - pos), "data")


# --- per format -------------------------------------------------------------

def _symtab_lookup(names: bytes, table: bytes, entry: int, fmt: str, want: tuple[bytes, ...]):
    """The entry of `fmt` (first field: the name's offset in `names`) whose
    name is one of `want`, found by the name's offset rather than by decoding
    every entry."""
    for name in want:
        pos = names.find(b"\0" + name + b"\0")
        off = pos + 1 if pos >= 0 else (0 if names.startswith(name + b"\0") else -1)
        if off < 0:
            continue
        key = struct.pack(fmt[0] + "I", off)
        i = table.find(key)
        while i >= 0:
            if i % entry == 0 and i + entry <= len(table):
                return struct.unpack_from(fmt, table, i)
            i = table.find(key, i + 1)
    return None


def _elf(src: Source, has_go_id: bool) -> Image:
    from .formats.elf import Elf
    e = Elf.of(src)
    phdrs = e.program_headers() if e.hdr.e_phoff else []
    loads = [p for p in phdrs if p.p_type == 1]
    space = AddressSpace(src, [Region(p.p_vaddr, p.p_filesz, p.p_offset) for p in loads])
    try:
        sects = e.sections()
    except FormatError:
        sects = {}

    def areas(names, want_flags):
        got = [(sects[n].sh_addr, sects[n].sh_size) for n in names if n in sects and sects[n].sh_addr]
        return got or [(p.p_vaddr, p.p_filesz) for p in loads if p.p_flags & 3 == want_flags]

    rodata = areas([b".rodata"], 0)
    data = areas([b".data", b".noptrdata"], 2)
    ptr = 8 if e.cls == 2 else 4
    fmt = e.bo + ("IBBHQQ" if ptr == 8 else "IIIBBH")

    def symbol(name: bytes):
        st, names = sects.get(b".symtab"), sects.get(b".strtab")
        if st is None or names is None or st.sh_size > MAX_SYMTAB or names.sh_size > MAX_SYMTAB:
            return None
        table = src.read_at(st.sh_offset, st.sh_size, "symbol table")
        strtab = src.read_at(names.sh_offset, names.sh_size, "symbol names")
        sym = _symtab_lookup(strtab, table, struct.calcsize(fmt), fmt, (name,))
        if sym is None:
            return None
        return sym[4] if ptr == 8 else sym[1]

    marked = has_go_id or any(n in sects for n in GO_SECTIONS)
    return Image(space, ptr, e.bo, rodata, data, marked, symbol, bool(sects))


def _macho(src: Source, has_go_id: bool) -> Image:
    from .formats.macho import LC_SYMTAB, Macho
    m = Macho.of(src)
    segs, sects = _macho_layout(m)
    space = AddressSpace(src, [Region(vmaddr, filesize, fileoff)
                               for name, vmaddr, fileoff, filesize, _, _ in segs if name != b"__PAGEZERO"])
    by_name = {name: (addr, size) for name, addr, size in reversed(sects)}

    def areas(names, writable):
        got = [by_name[n] for n in names if n in by_name]
        return got or [(vmaddr, filesize) for name, vmaddr, _, filesize, _, init in segs
                       if name != b"__PAGEZERO" and bool(init & 2) == writable]

    rodata = areas([b"__rodata"], False)
    data = areas([b"__data", b"__noptrdata"], True)
    ptr = 8 if m.is64 else 4
    fmt = m.bo + ("IBBhQ" if ptr == 8 else "IBBhI")

    def symbol(name: bytes):
        c = m.command(LC_SYMTAB)
        if c is None or len(c.data) < 24:
            return None
        symoff, nsyms, stroff, strsize = struct.unpack_from(m.bo + "IIII", c.data, 8)
        entry = struct.calcsize(fmt)
        if nsyms * entry > MAX_SYMTAB or strsize > MAX_SYMTAB:
            return None
        table = src.read_at(symoff, nsyms * entry, "symbol table")
        names = src.read_at(stroff, strsize, "symbol names")
        sym = _symtab_lookup(names, table, entry, fmt, (b"_" + name, name))
        return None if sym is None else sym[4]

    marked = has_go_id or any(n in by_name for n in GO_SECTIONS)
    return Image(space, ptr, m.bo, rodata, data, marked, symbol, bool(sects))


def _pe(src: Source, has_go_id: bool) -> Image:
    pe = pe_layout(src)
    space = pe.space(src)
    ptr = 8 if pe.machine in (0x8664, 0xAA64) else 4

    def areas(names, writable):
        got = [(pe.base + va, vsize) for name, vsize, va, _, _, _ in pe.sections if name in names]
        return got or [(pe.base + va, vsize) for _, vsize, va, _, _, chars in pe.sections
                       if bool(chars & 0x80000000) == writable and not chars & 0x20000000]

    rodata = areas([b".rdata"], False)
    data = areas([b".data"], True)

    def symbol(name: bytes):
        symptr, nsyms = pe.symtab
        if not symptr or not nsyms or nsyms * 18 > MAX_SYMTAB:
            return None
        table = src.read_at(symptr, nsyms * 18, "COFF symbol table")
        size = struct.unpack("<I", src.read_at(symptr + nsyms * 18, 4, "COFF string table"))[0]
        names = src.read_at(symptr + nsyms * 18, min(size, MAX_SYMTAB), "COFF string table")
        hits = []
        if len(name) <= 8:
            hits.append(table.find(name.ljust(8, b"\0")))
        else:
            pos = names.find(b"\0" + name + b"\0")
            if pos >= 0:
                hits.append(table.find(struct.pack("<II", 0, pos + 1)))
        for i in hits:
            while i >= 0 and i % 18:
                i = table.find(table[i:i + 8], i + 1)
            if i >= 0:
                value, sect = struct.unpack_from("<Ih", table, i + 8)
                if 0 < sect <= len(pe.sections):
                    return pe.base + pe.sections[sect - 1][2] + value
        return None

    return Image(space, ptr, "<", rodata, data, has_go_id, symbol, False)


_IMAGES = {"elf": _elf, "macho": _macho, "pe": _pe}


# --- recovery ---------------------------------------------------------------

def _by_symbol(img: Image) -> bytes | None:
    addr = img.symbol(SYMBOL)
    return None if addr is None else img.string_at(addr)


def _candidates(img: Image) -> list[tuple[int, bytes]]:
    """(address, bytes from there) of each `go1.` / `devel go1.` in read-only data."""
    out: dict[int, bytes] = {}  # windows overlap: one entry per address
    for base, chunk in img.chunks(img.rodata):
        i = chunk.find(b"go1.")
        while i >= 0 and len(out) < MAX_CANDIDATES:
            start = i - 6 if chunk[max(i - 6, 0):i] == b"devel " else i
            text = chunk[start:start + MAX_VERSION]
            if len(text) > len(out.get(base + start, b"")):  # a window may cut it short
                out[base + start] = text
            i = chunk.find(b"go1.", i + 1)
    return sorted(out.items())


def _by_reference(img: Image, cands: list[tuple[int, bytes]]) -> bytes | None:
    """A version string some aligned string header in the writable data points at."""
    if not cands:
        return None
    word = img.bo + ("Q" if img.ptr == 8 else "I")
    wanted = {struct.pack(word, addr): text for addr, text in cands}
    for base, chunk in img.chunks(img.data):
        for key, text in wanted.items():
            i = chunk.find(key)
            while i >= 0:
                if (base + i) % img.ptr == 0 and i + 2 * img.ptr <= len(chunk):
                    n = struct.unpack_from(word, chunk, i + img.ptr)[0]
                    if 0 < n <= len(text) and valid(text[:n]):
                        return text[:n]
                i = chunk.find(key, i + 1)
    return None


def _by_search(cands: list[tuple[int, bytes]]) -> bytes | None:
    """The one version a plain search finds, if every hit agrees."""
    found = {m.group() for _, text in cands if (m := LOOSE.match(text))}
    return found.pop() if len(found) == 1 else None


def _has_pclntab(img: Image) -> bool:
    """A Go pclntab header (magic, two zero bytes, instruction quantum, pointer
    size) in the read-only data: what marks a Go binary whose sections and
    build ID are gone."""
    magics = [struct.pack(img.bo + "I", m) + b"\0\0" for m in PCLNTAB_MAGICS]
    for _, chunk in img.chunks([(r.addr, r.size) for r in img.space.regions]):
        for m in magics:
            i = chunk.find(m)
            while i >= 0:
                if i + 8 <= len(chunk) and chunk[i + 6] in (1, 2, 4) and chunk[i + 7] == img.ptr:
                    return True
                i = chunk.find(m, i + 1)
    return False


def recover(src: Source, has_go_id: bool = False) -> tuple[str, str] | None:
    """(version, source) for an executable without build info: source is
    "symbol" or "scan". None when the file is not plainly Go or carries no
    readable version. `has_go_id`: the caller found a Go build ID in it.
    Raises FormatError for broken containers."""
    kind = identify(src)
    if kind == "macho-fat":
        slices = universal_slices(src)
        if not slices or identify(slices[0][1]) != "macho":
            return None
        src, kind = slices[0][1], "macho"
    make = _IMAGES.get(kind)
    if make is None:
        return None
    img = make(src, has_go_id)
    if not img.go_marked and img.sections_known:
        return None  # Go's linkers always name their sections: this is not Go
    if img.go_marked:
        v = _by_symbol(img)
        if v is not None:
            return v.decode("ascii"), "symbol"
    cands = _candidates(img)
    if not cands or not (img.go_marked or _has_pclntab(img)):
        return None
    v = _by_reference(img, cands) or _by_search(cands)
    return None if v is None else (v.decode("ascii"), "scan")


RECOVERABLE = ("elf", "macho", "macho-fat", "pe")


def fill(record: dict, found, src: Source) -> None:
    """Set record["go_version_source"]: "buildinfo" when build info gave
    record["go_version"]; otherwise recover the version if the file is plainly
    Go (setting both keys), else leave both None. A broken container gives no
    version, never an error: the record's other fields already say what broke."""
    if record.get("go_version"):
        record["go_version_source"] = "buildinfo"
        return
    record["go_version_source"] = None
    if found.format not in RECOVERABLE:
        return
    got = try_recover(src, bool(found.build_id or any(s.build_id for s in found.slices)))
    if got is not None:
        record["go_version"], record["go_version_source"] = got


def try_recover(src: Source, has_go_id: bool = False) -> tuple[str, str] | None:
    """recover(), with a broken container giving no version rather than an error."""
    try:
        return recover(src, has_go_id)
    except (FormatError, OSError, ValueError, struct.error):
        return None


__all__ = ["recover", "try_recover", "fill", "SOURCES", "valid"]
