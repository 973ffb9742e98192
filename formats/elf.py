"""ELF: the Go build ID is a PT_NOTE note named "Go" of type 4; gccgo binaries
carry it as the GNU build-id note (type 3); gccgo's _buildid.o objects carry it
in a section named .go.buildid."""
from __future__ import annotations

import struct
from collections import namedtuple

from . import magic
from .errors import FormatError
from .model import Found, HashingView, HostBuildID, Image, Region, Span, image_end
from .source import PREFIX_SIZE, Source

# --- structures (System V ABI, ELF header / program header / section header) ---

MAGIC = magic.ELF
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
EV_CURRENT = 1
ET_REL = 1
PT_NOTE = 4
SHT_STRTAB = 3
SHT_NOBITS = 8
NT_GNU_BUILD_ID = 3
NT_GO_BUILD_ID = 4
GO_NOTE_NAME = b"Go\x00\x00"
GNU_NOTE_NAME = b"GNU\x00"

EHDR = {ELFCLASS32: "HHIIIIIHHHHHH", ELFCLASS64: "HHIQQQIHHHHHH"}
PHDR = {ELFCLASS32: "IIIIIIII", ELFCLASS64: "IIQQQQQQ"}
SHDR = {ELFCLASS32: "IIIIIIIIII", ELFCLASS64: "IIQQQQIIQQ"}


Ehdr = namedtuple("Ehdr", "e_type e_machine e_version e_entry e_phoff e_shoff e_flags e_ehsize e_phentsize e_phnum e_shentsize e_shnum e_shstrndx")


Phdr = namedtuple("Phdr", "p_type p_flags p_offset p_vaddr p_filesz p_align")


Shdr = namedtuple("Shdr", "sh_name sh_type sh_addr sh_offset sh_size")


# e_machine -> GOARCH, refined by class and byte order where Go names differ.
MACHINES = {3: "386", 62: "amd64", 40: "arm", 183: "arm64", 20: "ppc", 22: "s390x",
            43: "sparc64", 258: "loong64"}


def arch_name(machine: int, cls: int, little: bool) -> str | None:
    if machine == 8:  # EM_MIPS
        base = "mips64" if cls == ELFCLASS64 else "mips"
        return base + ("le" if little else "")
    if machine == 21:  # EM_PPC64
        return "ppc64le" if little else "ppc64"
    if machine == 243:  # EM_RISCV
        return "riscv64" if cls == ELFCLASS64 else "riscv"
    return MACHINES.get(machine)


# --- reader ---

class Elf:
    """Just enough of an ELF file: header, program headers, section headers on demand."""

    def __init__(self, src: Source):
        ident = src.read_padded(0, 16, "ELF identification")
        if ident[:4] != MAGIC:
            raise FormatError("not an ELF file")
        self.cls, data, version = ident[4], ident[5], ident[6]
        if self.cls not in EHDR:
            raise FormatError(f"unknown ELF class {self.cls}")
        if data not in (ELFDATA2LSB, ELFDATA2MSB):
            raise FormatError(f"unknown ELF data encoding {data}")
        if version != EV_CURRENT:
            raise FormatError(f"unknown ELF version {version}")
        self.src = src
        self.bo = "<" if data == ELFDATA2LSB else ">"
        fmt = self.bo + EHDR[self.cls]
        self.hdr = Ehdr._make(struct.unpack(fmt, src.read_padded(16, struct.calcsize(fmt), "ELF header")))
        if self.hdr.e_version != EV_CURRENT:
            raise FormatError(f"mismatched ELF version {self.hdr.e_version}")
        self.arch = arch_name(self.hdr.e_machine, self.cls, data == ELFDATA2LSB)
        if self.hdr.e_phoff >= 1 << 63:  # negative to Go, which refuses it
            raise FormatError(f"invalid phoff {self.hdr.e_phoff:#x}")

    @classmethod
    def of(cls, src: Source) -> "Elf":
        """The parsed header of src, shared by every reader of that window."""
        return src.memo("elf", lambda: cls(src))

    def u32(self, b: bytes, off: int = 0) -> int:
        return struct.unpack_from(self.bo + "I", b, off)[0]

    def program_headers(self) -> list[Phdr]:
        return self.src.memo("elf.phdrs", self._program_headers)

    def _program_headers(self) -> list[Phdr]:
        h = self.hdr
        if h.e_phnum == 0:
            return []
        fmt = self.bo + PHDR[self.cls]
        want = struct.calcsize(fmt)
        if h.e_phentsize < want:
            raise FormatError(f"invalid ELF phentsize {h.e_phentsize}")
        size = h.e_phnum * h.e_phentsize
        if h.e_phoff + size > PREFIX_SIZE:
            # Go parses the headers from the first 32 KiB only; no real file
            # puts them further in.
            raise FormatError(f"program header table at offset {h.e_phoff:#x} (size {size:#x}) "
                              f"lies past the first 32 KiB")
        table = self.src.read_padded(h.e_phoff, size, "program header table")
        out = []
        for i in range(h.e_phnum):
            f = struct.unpack_from(fmt, table, i * h.e_phentsize)
            if self.cls == ELFCLASS32:  # type, offset, vaddr, paddr, filesz, memsz, flags, align
                p = Phdr(f[0], f[6], f[1], f[2], f[4], f[7])
            else:  # type, flags, offset, vaddr, paddr, filesz, memsz, align
                p = Phdr(f[0], f[1], f[2], f[3], f[5], f[7])
            if p.p_offset >= 1 << 63 or p.p_filesz >= 1 << 63:  # negative to Go, which refuses them
                raise FormatError(f"invalid program header {i}: offset {p.p_offset:#x} size {p.p_filesz:#x}")
            out.append(p)
        return out

    def sections(self) -> dict[bytes, Shdr]:
        """Section headers by name; first of each name wins, as Go's File.Section."""
        return self.src.memo("elf.sections", self._sections)

    def _sections(self) -> dict[bytes, Shdr]:
        h = self.hdr
        if h.e_shoff == 0 or h.e_shnum == 0:
            return {}
        fmt = self.bo + SHDR[self.cls]
        want = struct.calcsize(fmt)
        if h.e_shentsize < want:
            raise FormatError(f"invalid ELF shentsize {h.e_shentsize}")
        if h.e_shstrndx >= h.e_shnum:
            raise FormatError(f"invalid ELF shstrndx {h.e_shstrndx}")
        table = self.src.read_at(h.e_shoff, h.e_shnum * h.e_shentsize, "section header table")
        if h.e_shentsize == want:  # the usual case: one pass in C
            rows = struct.iter_unpack(fmt, table)
        else:
            rows = (struct.unpack_from(fmt, table, i * h.e_shentsize) for i in range(h.e_shnum))
        raw = [Shdr(f[0], f[1], f[3], f[4], f[5]) for f in rows]  # name type addr offset size
        if h.e_shstrndx == 0:  # SHN_UNDEF: the sections have no names
            return {}
        strtab = raw[h.e_shstrndx]
        if strtab.sh_type != SHT_STRTAB:
            raise FormatError(f"section name table has type {strtab.sh_type}, not SHT_STRTAB")
        names = self.src.read_at(strtab.sh_offset, strtab.sh_size, "section name table")
        out: dict[bytes, Shdr] = {}
        for s in raw:
            if s.sh_name >= len(names) and s.sh_name != 0:
                raise FormatError(f"section name offset {s.sh_name:#x} past the name table")
            end = names.find(b"\0", s.sh_name)
            name = names[s.sh_name:end if end >= 0 else len(names)]
            out.setdefault(name, s)
        return out


SHF_COMPRESSED = 0x800
SHN_LORESERVE, SHN_XINDEX, PN_XNUM = 0xFF00, 0xFFFF, 0xFFFF
NEGATIVE = 1 << 63  # a 64-bit value Go reads as a negative int64


def go_host_build_id_span(elf: Elf) -> tuple[int, int] | None:
    """(offset, size) of what Go's FindAndHash zeroes as the host build ID: the
    .note.gnu.build-id section past its 16-byte header, found only when
    debug/elf.NewFile accepts the whole file (its checks, in its order; the
    span may reach past the end of the file). None when Go skips nothing."""
    src, h, bo, is64 = elf.src, elf.hdr, elf.bo, elf.cls == ELFCLASS64
    shoff, shnum, shstrndx, phnum = h.e_shoff, h.e_shnum, h.e_shstrndx, h.e_phnum
    shdr = bo + SHDR[elf.cls]
    want_sh, want_ph = struct.calcsize(shdr), struct.calcsize(PHDR[elf.cls])
    if shoff >= NEGATIVE or (shoff == 0 and shnum != 0) or (shnum > 0 and shstrndx >= shnum):
        return None
    if phnum > 0 and h.e_phentsize < want_ph:
        return None
    if shoff > 0 and (shnum == 0 or phnum == PN_XNUM):
        if not src.fits(shoff, want_sh):
            return None
        f = struct.unpack(shdr, src.read_at(shoff, want_sh))
        typ, size, link, info = f[1], f[5], f[6], f[7]
        if typ != 0:
            return None
        if shnum == 0:
            if size < SHN_LORESERVE:
                return None
            shnum = size
        if phnum == PN_XNUM:
            if info < 0xFFFF:
                return None
            phnum = info
        if shstrndx == SHN_XINDEX:
            shstrndx = link
            if shstrndx < SHN_LORESERVE or shstrndx >= shnum:
                return None
    if not src.fits(h.e_phoff, phnum * h.e_phentsize):
        return None
    phdr = bo + PHDR[elf.cls]
    for i in range(min(phnum, 1 << 16)):
        f = struct.unpack_from(phdr, src.read_at(h.e_phoff + i * h.e_phentsize, want_ph))
        off, filesz = (f[2], f[5]) if is64 else (f[1], f[4])
        if off >= NEGATIVE or filesz >= NEGATIVE:
            return None
    if shnum > 0 and h.e_shentsize < want_sh:
        return None
    if not src.fits(shoff, shnum * h.e_shentsize):
        return None
    table = src.read_at(shoff, shnum * h.e_shentsize) if shnum else b""
    rows = []
    for i in range(shnum):
        f = struct.unpack_from(shdr, table, i * h.e_shentsize)
        name, typ, flags, off, size = f[0], f[1], f[2], f[4], f[5]
        if off >= NEGATIVE or size >= NEGATIVE:
            return None
        if flags & SHF_COMPRESSED:
            chdr = 24 if is64 else 12
            if size < chdr or not src.fits(off, chdr):
                return None
            c = struct.unpack(bo + ("IIQQ" if is64 else "III"), src.read_at(off, chdr))
            size = c[2] if is64 else c[1]  # the uncompressed size
        rows.append((name, typ, flags, off, size))
    if not rows or shstrndx == 0:
        return None
    name_table = rows[shstrndx]
    if name_table[1] != SHT_STRTAB or name_table[2] & SHF_COMPRESSED:
        return None  # (a compressed name table Go would inflate: not worth following)
    if not src.fits(name_table[3], name_table[4]):
        return None
    names = src.read_at(name_table[3], name_table[4])
    found = None
    for name, _, _, off, size in rows:
        if name >= len(names):
            return None
        end = names.find(b"\0", name)
        if end < 0:
            return None
        if found is None and names[name:end] == b".note.gnu.build-id":
            found = (off + 16, size - 16)
    return found


def walk_notes(elf: Elf, data: bytes, base: int, align: int):
    """Yield (name, type, desc, desc_offset) for each note in a PT_NOTE segment.

    The stepping (name and descriptor rounded to 4, then the segment's own
    alignment when it is not 0) follows the Go reader, so both see the same notes.
    """
    pos = 0
    while len(data) - pos >= 16:
        namesz = elf.u32(data, pos)
        descsz = elf.u32(data, pos + 4)
        ntype = elf.u32(data, pos + 8)
        name = data[pos + 12:pos + 16]
        if namesz == 4 and pos + 16 + descsz <= len(data):
            yield name, ntype, data[pos + 16:pos + 16 + descsz], base + pos + 16
        # uint32 arithmetic, as Go's reader: a size near 2**32 wraps to a short step.
        step = (12 + ((namesz + 3) & 0xFFFFFFFC) + ((descsz + 3) & 0xFFFFFFFC)) & 0xFFFFFFFF
        if len(data) - pos <= step:
            return
        nxt = pos + step
        if align:
            nxt = ((base + nxt + align - 1) & ~(align - 1)) - base
        if nxt <= pos or nxt > len(data):
            return
        pos = nxt


# A note segment is a few hundred bytes; a larger claim is capped, never allocated.
MAX_NOTE_SEGMENT = 1 << 20


def gnu_build_id_section(elf: Elf) -> HostBuildID | None:
    """The .note.gnu.build-id section past its 16-byte note header: the span the
    Go linker may derive from the Go build ID, and so the span hashing skips."""
    try:
        s = elf.sections().get(b".note.gnu.build-id")
    except FormatError:
        return None
    if s is None or s.sh_size < 16 or not elf.src.fits(s.sh_offset, s.sh_size):
        return None
    value = elf.src.read_at(s.sh_offset + 16, s.sh_size - 16)
    return HostBuildID("gnu", Span(elf.src.absolute(s.sh_offset + 16), s.sh_size - 16), value)


def read(src: Source) -> Found:
    elf = Elf.of(src)
    go_note = gnu_note = None
    for p in elf.program_headers():
        if p.p_type != PT_NOTE or p.p_filesz < 16:
            continue
        if p.p_offset + p.p_filesz < PREFIX_SIZE:
            data = src.read_padded(p.p_offset, p.p_filesz, "note segment")
        elif not src.fits(p.p_offset, p.p_filesz):
            # Past the first 32 KiB Go reads the whole segment from the file.
            raise FormatError("unexpected EOF" if p.p_offset < src.size else "EOF")
        else:
            data = src.read_at(p.p_offset, min(p.p_filesz, MAX_NOTE_SEGMENT), "note segment")
        for name, ntype, desc, off in walk_notes(elf, data, p.p_offset, p.p_align):
            if ntype == NT_GO_BUILD_ID and name == GO_NOTE_NAME:
                go_note = (desc, off)
                break
            if ntype == NT_GNU_BUILD_ID and name == GNU_NOTE_NAME:
                gnu_note = (desc, off)
        if go_note:
            break

    host = gnu_build_id_section(elf)
    if host is None and gnu_note is not None:
        host = HostBuildID("gnu", Span(src.absolute(gnu_note[1]), len(gnu_note[0])), gnu_note[0])

    build_id = reference = unverifiable = None
    locations: list[int] = []
    if go_note is not None:
        build_id, locations = go_note[0], [src.absolute(go_note[1])]
    elif gnu_note is not None:
        # gccgo stores the Go build ID as the GNU build ID; the Go tool prints any
        # GNU build ID it finds, text or not, but only text is a Go build ID.
        reference = gnu_note[0]
        if looks_like_text(gnu_note[0]):
            build_id, locations = gnu_note[0], [src.absolute(gnu_note[1])]
            unverifiable = ("gccgo executable: the build ID is the GNU build-id note, "
                            "which the content hash skips")
    if build_id is None and elf.hdr.e_type == ET_REL:
        # A gccgo _buildid.o on its own: the Go tool reads only notes and says
        # nothing, but the section is the package's build ID.
        try:
            s = elf.sections().get(b".go.buildid")
        except FormatError:
            s = None
        if s is not None and src.fits(s.sh_offset, s.sh_size):
            build_id = src.read_at(s.sh_offset, s.sh_size, ".go.buildid section")
            locations = [src.absolute(s.sh_offset)]
            reference = b""
            unverifiable = "gccgo _buildid.o: it holds the build ID of the archive it came from"
    return Found("elf", elf.arch, build_id, locations, host_build_id=host, reference_id=reference,
                 unverifiable=unverifiable, hashing=HashingView(lambda: _hashing(elf)))


def _hashing(elf: Elf) -> tuple[list[Span], None]:
    """What hashing skips, as the Go tool sees it: the GNU build ID, only when
    Go's ELF parser accepts the file."""
    span = go_host_build_id_span(elf)
    if span is None:
        return [], None
    off, size = span
    if off < elf.src.size and size > 0:  # Go zeroes only bytes that exist
        return [Span(elf.src.absolute(off), min(size, elf.src.size - off))], None
    return [], None


def read_gccgo_object(src: Source) -> Found:
    """An ELF object (gccgo's _buildid.o) whose .go.buildid section is the ID."""
    elf = Elf(src)
    s = elf.sections().get(b".go.buildid")
    if s is None:
        raise FormatError("_buildid.o has no .go.buildid section")
    return Found("elf", elf.arch, src.read_at(s.sh_offset, s.sh_size, ".go.buildid section"),
                 [src.absolute(s.sh_offset)])


def looks_like_text(b: bytes) -> bool:
    return bool(b) and all(0x20 <= c < 0x7F for c in b)


# --- the protocol (formats.model.Image) and the layout ---


PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
PT_NAMES = {0: "NULL", 1: "LOAD", 2: "DYNAMIC", 3: "INTERP", 4: "NOTE", 6: "PHDR", 7: "TLS",
            0x6474E550: "GNU_EH_FRAME", 0x6474E551: "GNU_STACK", 0x6474E552: "GNU_RELRO"}


def _perm(flags: int) -> str:
    return "".join(c for bit, c in ((PF_R, "r"), (PF_W, "w"), (PF_X, "x")) if flags & bit)


class ElfImage(Image):
    kind = "elf"
    __slots__ = ("elf",)

    def __init__(self, src: Source):
        e = Elf.of(src)
        super().__init__(src, e.arch, e.bo, 8 if e.cls == ELFCLASS64 else 4)
        self.elf = e

    def program_headers(self) -> list[Phdr]:
        return self.elf.program_headers() if self.elf.hdr.e_phoff else []

    def segments(self) -> tuple[Region, ...]:
        return self.src.memo("elf.segments", lambda: tuple(
            Region("segment", f"{PT_NAMES.get(p.p_type, hex(p.p_type))}[{i}]", p.p_offset, p.p_filesz,
                   p.p_vaddr, None, _perm(p.p_flags))
            for i, p in enumerate(self.program_headers())))

    def loads(self) -> tuple[Region, ...]:
        return tuple(r for r in self.segments() if r.name.startswith("LOAD["))

    def sections(self) -> tuple[Region, ...]:
        return self.src.memo("elf.regions", lambda: tuple(
            Region("section", name.decode("utf-8", "replace"), s.sh_offset,
                   0 if s.sh_type == SHT_NOBITS else s.sh_size, s.sh_addr,
                   s.sh_size if s.sh_type == SHT_NOBITS else None)
            for name, s in self.elf.sections().items() if name))

    def buildinfo(self) -> tuple[int, int] | None:
        s = self.elf.sections().get(b".go.buildinfo")
        return None if s is None else (s.sh_addr, s.sh_size)

    def legacy_buildinfo(self) -> tuple[int, int] | None:
        """The first writable, non-executable PT_LOAD segment."""
        for p in self.program_headers():
            if p.p_type == PT_LOAD and p.p_flags & (PF_X | PF_W) == PF_W:
                return p.p_vaddr, p.p_filesz
        return None

    def memory(self):
        from .memory import AddressSpace, Mapping  # not needed to read an ID
        return AddressSpace(self.src, [Mapping(p.p_vaddr, p.p_filesz, p.p_offset) for p in self.program_headers()])

    def symbol(self, name: bytes) -> int | None:
        from .symtab import MAX_SYMTAB, lookup  # not needed to read an ID
        sects = self.elf.sections()
        st, names = sects.get(b".symtab"), sects.get(b".strtab")
        if st is None or names is None or st.sh_size > MAX_SYMTAB or names.sh_size > MAX_SYMTAB:
            return None
        fmt = self.byteorder + ("IBBHQQ" if self.ptr_size == 8 else "IIIBBH")
        table = self.src.read_at(st.sh_offset, st.sh_size, "symbol table")
        strtab = self.src.read_at(names.sh_offset, names.sh_size, "symbol names")
        sym = lookup(strtab, table, struct.calcsize(fmt), fmt, (name,))
        if sym is None:
            return None
        return sym[4] if self.ptr_size == 8 else sym[1]


def image(src: Source) -> ElfImage:
    return src.memo("elf.image", lambda: ElfImage(src))


ElfLayout = namedtuple("ElfLayout", "regions image_end section_names")


def layout(src: Source) -> ElfLayout:
    """Every section, segment and header table with its file range (absolute
    offsets), where the image the headers describe ends, and the section names."""
    img = image(src)
    h = img.elf.hdr
    at = src.absolute
    regions = [Region("header", "ELF header", at(0), h.e_ehsize)]
    if h.e_phnum:
        regions.append(Region("table", "program headers", at(h.e_phoff), h.e_phnum * h.e_phentsize))
    if h.e_shoff and h.e_shnum:
        regions.append(Region("table", "section headers", at(h.e_shoff), h.e_shnum * h.e_shentsize))
    regions += [r._replace(offset=at(r.offset)) for r in img.segments()]
    try:
        sections = img.sections()
    except FormatError:  # cut short: the section headers still say where the sections were
        sections = ()
        regions += [Region("section", f"section {i}", at(s.sh_offset), s.sh_size, s.sh_addr or None)
                    for i, s in enumerate(_raw_sections(img.elf)) if s.sh_type != SHT_NOBITS]
    regions += [r._replace(offset=at(r.offset), addr=r.addr or None) for r in sections if r.memsize is None]
    return ElfLayout(tuple(regions), image_end(regions), frozenset(r.name for r in sections))
def _raw_sections(elf: Elf) -> list[Shdr]:
    """The section headers without their names, when the table itself is readable."""
    h = elf.hdr
    fmt = elf.bo + SHDR[elf.cls]
    if not h.e_shoff or h.e_shentsize < struct.calcsize(fmt) or not elf.src.fits(h.e_shoff, h.e_shnum * h.e_shentsize):
        return []
    table = elf.src.read_at(h.e_shoff, h.e_shnum * h.e_shentsize, "section header table")
    rows = (struct.unpack_from(fmt, table, i * h.e_shentsize) for i in range(h.e_shnum))
    return [Shdr(f[0], f[1], f[3], f[4], f[5]) for f in rows]
