"""Mach-O, thin and universal. The Go build ID is the raw marker at the start of
__text; LC_UUID holds the host build ID and LC_CODE_SIGNATURE the ad hoc signature."""
from __future__ import annotations

import array
import struct
import sys
from collections import namedtuple

from . import magic, raw
from .errors import FormatError
from .model import Found, HashingView, HostBuildID, Image, MachoSigning, Region, Span, image_end
from .source import PREFIX_SIZE, Source

# --- structures (<mach-o/loader.h>, <mach-o/fat.h>) ---

MH_MAGIC, MH_MAGIC_64 = 0xFEEDFACE, 0xFEEDFACF
FAT_MAGIC, FAT_MAGIC_64 = 0xCAFEBABE, 0xCAFEBABF
MAGICS = magic.MACHO
MH_EXECUTE = 2
LC_SEGMENT, LC_SEGMENT_64 = 0x1, 0x19
LC_SYMTAB, LC_DYSYMTAB = 0x2, 0xB
LC_LOAD_DYLIB, LC_RPATH = 0xC, 0x8000001C
LC_UUID = 0x1B
LC_CODE_SIGNATURE = 0x1D

MACH_HEADER = "IiiIIII"       # magic cputype cpusubtype filetype ncmds sizeofcmds flags
LOAD_COMMAND = "II"           # cmd cmdsize
SEGMENT = "16sIIIIiiII"       # segname vmaddr vmsize fileoff filesize maxprot initprot nsects flags
SEGMENT_64 = "16sQQQQiiII"
SECTION = "16s16sIIIIIIIII"   # sectname segname addr size offset align reloff nreloc flags r1 r2
SECTION_64 = "16s16sQQIIIIIIII"
FAT_HEADER = ">II"            # magic nfat_arch
FAT_ARCH = ">iiIII"           # cputype cpusubtype offset size align
FAT_ARCH_64 = ">iiQQII"       # cputype cpusubtype offset size align reserved

CPU_ARCH_ABI64 = 0x01000000
CPUS = {7: "386", 7 | CPU_ARCH_ABI64: "amd64", 12: "arm", 12 | CPU_ARCH_ABI64: "arm64",
        18: "ppc", 18 | CPU_ARCH_ABI64: "ppc64"}

# A universal header with more slices than this is not one (Java class files
# share the magic and put their version where the slice count goes).
MAX_FAT_ARCHS = 32


Section = namedtuple("Section", "sectname segname size offset addr cmd_offset", defaults=(None,))


Segment = namedtuple("Segment", "segname fileoff filesize vmaddr vmsize maxprot initprot cmd_offset")


LoadCommand = namedtuple("LoadCommand", "cmd offset data")


def _max_name_offset(symbols: bytes, entry: int, bo: str) -> int:
    """The largest n_strx in an nlist table (the first 4 bytes of each entry)."""
    words = array.array("I", symbols)
    if (bo == "<") != (sys.byteorder == "little"):
        words.byteswap()
    return max(words[::entry // 4])


def _name(b: bytes) -> bytes:
    return b.split(b"\0", 1)[0]


# --- reader ---

class Macho:
    def __init__(self, src: Source):
        head = src.read_at(0, 4, "Mach-O magic")
        if head not in MAGICS:
            raise FormatError("not a Mach-O file")
        self.src = src
        self.bo, self.is64 = MAGICS[head]
        (_, self.cputype, _, self.filetype, ncmds, sizeofcmds, _) = struct.unpack(
            self.bo + MACH_HEADER, src.read_at(0, 28, "Mach-O header"))
        self.arch = CPUS.get(self.cputype)
        hdrsize = 32 if self.is64 else 28
        if not src.fits(hdrsize, sizeofcmds):
            raise FormatError(f"Mach-O load commands (size {sizeofcmds:#x}) extend past the end of the file")
        if ncmds > sizeofcmds // 8:
            raise FormatError(f"Mach-O command count {ncmds} does not fit in {sizeofcmds} bytes")
        table = src.read_at(hdrsize, sizeofcmds, "Mach-O load commands")
        self.commands: list[LoadCommand] = []
        pos = 0
        for i in range(ncmds):
            if pos + 8 > len(table):
                raise FormatError(f"Mach-O load command {i} extends past sizeofcmds")
            cmd, cmdsize = struct.unpack_from(self.bo + LOAD_COMMAND, table, pos)
            if cmdsize < 8 or pos + cmdsize > len(table):
                raise FormatError(f"Mach-O load command {i} has invalid size {cmdsize}")
            self.commands.append(LoadCommand(cmd, hdrsize + pos, table[pos:pos + cmdsize]))
            pos += cmdsize

    @classmethod
    def of(cls, src: Source) -> "Macho":
        """The parsed load commands of src, shared by every reader of that window."""
        return src.memo("macho", lambda: cls(src))

    def segments(self) -> tuple[list[Segment], list[Section]]:
        """The segment commands of this file's word size, and their sections."""
        return self.src.memo("macho.segments", self._segments)

    def _segments(self) -> tuple[list[Segment], list[Section]]:
        segs, sects = [], []
        seg_fmt, sect_fmt, want = (
            (SEGMENT_64, SECTION_64, LC_SEGMENT_64) if self.is64 else (SEGMENT, SECTION, LC_SEGMENT))
        seg_size = struct.calcsize(seg_fmt)
        sect_size = struct.calcsize(sect_fmt)
        for c in self.commands:
            if c.cmd != want:
                continue
            if len(c.data) < 8 + seg_size:
                raise FormatError("Mach-O segment command too short")
            segname, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, nsects, _ = struct.unpack_from(
                self.bo + seg_fmt, c.data, 8)
            if 8 + seg_size + nsects * sect_size > len(c.data):
                raise FormatError(f"Mach-O segment {_name(segname).decode(errors='replace')} "
                                  f"claims {nsects} sections that do not fit its command")
            segs.append(Segment(_name(segname), fileoff, filesize, vmaddr, vmsize, maxprot, initprot, c.offset))
            for k in range(nsects):
                f = struct.unpack_from(self.bo + sect_fmt, c.data, 8 + seg_size + k * sect_size)
                sects.append(Section(_name(f[0]), _name(f[1]), f[3], f[4], f[2], c.offset))
        return segs, sects

    def command(self, cmd: int) -> LoadCommand | None:
        return next((c for c in self.commands if c.cmd == cmd), None)

    def go_would_parse(self) -> bool:
        """Whether Go's debug/macho accepts the file. The Go tool skips the code
        signature and the UUID while hashing only when it does, so we must too."""
        return self.go_rejects() is None

    def go_rejects(self) -> str | None:
        """Go's error text when debug/macho.NewFile refuses the file, else None.

        The header and the command sizes were checked when the table was read;
        this adds what Go checks beyond them, in Go's order: each command's
        fixed part, the tables it points at (read whole, so "EOF" when cut off),
        symbol names inside the string table, dysymtab ranges (uint32
        arithmetic, as Go), and both kinds of segment command in any file.
        """
        src, bo = self.src, self.bo
        nsyms = None
        for c in self.commands:
            d, at = c.data, f" in record at byte {c.offset + len(c.data):#x}"
            if c.cmd in (LC_RPATH, LC_LOAD_DYLIB):
                fixed = 12 if c.cmd == LC_RPATH else 24  # RpathCmd / DylibCmd
                if len(d) < fixed:
                    return "unexpected EOF"
                name = struct.unpack_from(bo + "I", d, 8)[0]
                if name >= len(d):
                    what = "path in rpath" if c.cmd == LC_RPATH else "name in dynamic library"
                    return f"invalid {what} command '{name}'{at}"
            elif c.cmd == LC_SYMTAB:
                if len(d) < 24:
                    return "unexpected EOF"
                symoff, n, stroff, strsize = struct.unpack_from(bo + "IIII", d, 8)
                entry = 16 if self.is64 else 12
                if not (src.fits(stroff, strsize) and src.fits(symoff, n * entry)):
                    return "EOF"
                if n:
                    top = _max_name_offset(src.read_at(symoff, n * entry), entry, bo)
                    if top >= strsize:
                        return f"invalid name in symbol table '{top}'{at}"
                nsyms = n
            elif c.cmd == LC_DYSYMTAB:
                if len(d) < 80:
                    return "unexpected EOF"
                if nsyms is None:
                    return f"dynamic symbol table seen before any ordinary symbol table{at}"
                f = struct.unpack_from(bo + "18I", d, 8)
                iundef, nundef, indoff, nind = f[4], f[5], f[12], f[13]
                if iundef > nsyms:
                    return (f"undefined symbols index in dynamic symbol table command is greater "
                            f"than symbol table length ({iundef} > {nsyms}){at}")
                if (iundef + nundef) & 0xFFFFFFFF > nsyms:
                    return (f"number of undefined symbols after index in dynamic symbol table command "
                            f"is greater than symbol table length ({iundef + nundef} > {nsyms}){at}")
                if not src.fits(indoff, nind * 4):
                    return "EOF"
            elif c.cmd in (LC_SEGMENT, LC_SEGMENT_64):
                problem = self._go_segment_problem(c, at)
                if problem:
                    return problem
        return None

    def _go_segment_problem(self, c: LoadCommand, at: str) -> str | None:
        seg_fmt, sect_fmt = (SEGMENT_64, SECTION_64) if c.cmd == LC_SEGMENT_64 else (SEGMENT, SECTION)
        seg_size, sect_size = struct.calcsize(seg_fmt), struct.calcsize(sect_fmt)
        if len(c.data) < 8 + seg_size:
            return "unexpected EOF" if len(c.data) > 8 else "EOF"
        _, _, _, fileoff, filesize, _, _, nsects, _ = struct.unpack_from(self.bo + seg_fmt, c.data, 8)
        for k in range(nsects):
            pos = 8 + seg_size + k * sect_size
            if pos + sect_size > len(c.data):
                return "unexpected EOF" if pos < len(c.data) else "EOF"
            f = struct.unpack_from(self.bo + sect_fmt, c.data, pos)
            reloff, nreloc = f[6], f[7]
            if nreloc and not self.src.fits(reloff, nreloc * 8):
                return "EOF"
        if fileoff >= 1 << 63:
            return f"invalid section offset '{fileoff}'{at}"
        if filesize >= 1 << 63:
            return f"invalid section file size '{filesize}'{at}"
        return None

    def go_sections(self) -> list[Section]:
        """Sections of every segment command, 32- and 64-bit alike, as Go lists
        them (call only when go_rejects() is None)."""
        out = []
        for c in self.commands:
            if c.cmd not in (LC_SEGMENT, LC_SEGMENT_64):
                continue
            seg_fmt, sect_fmt = (SEGMENT_64, SECTION_64) if c.cmd == LC_SEGMENT_64 else (SEGMENT, SECTION)
            seg_size, sect_size = struct.calcsize(seg_fmt), struct.calcsize(sect_fmt)
            nsects = struct.unpack_from(self.bo + seg_fmt, c.data, 8)[7]
            for k in range(nsects):
                f = struct.unpack_from(self.bo + sect_fmt, c.data, 8 + seg_size + k * sect_size)
                out.append(Section(_name(f[0]), _name(f[1]), f[3], f[4], f[2]))
        return out


def reference(src: Source) -> bytes:
    """What `go tool buildid` prints for a thin Mach-O: the marker in the first
    32 KiB, else the marker at the start of __text once debug/macho accepts
    the file. Raises FormatError where Go fails."""
    try:
        quick = raw.find_marker(src.prefix(PREFIX_SIZE))
    except FormatError:
        quick = None
    if quick is not None and quick[0]:
        return quick[0]
    if src.size < 28:
        raise FormatError("unexpected EOF")
    m = Macho(src)
    problem = m.go_rejects()
    if problem:
        raise FormatError(problem)
    text = next((s for s in m.go_sections() if s.sectname == b"__text"), None)
    if text is None:
        raise FormatError("cannot find __text section")
    n = min(text.size, PREFIX_SIZE)
    if not src.fits(text.offset, n):
        raise FormatError("EOF")
    hit = raw.find_marker(src.read_at(text.offset, n, "__text section"))
    return hit[0] if hit else b""


def read(src: Source) -> Found:
    """A thin Mach-O (the whole file or one slice of a universal file)."""
    prefix = src.prefix(PREFIX_SIZE)
    try:
        quick = raw.find_marker(prefix)
    except FormatError:
        quick = None
    try:
        m = Macho.of(src)
        segs, sects = m.segments()
    except FormatError:
        if quick is None or not quick[0]:
            raise
        # The Go tool takes a marker in the first 32 KiB without parsing the
        # file, and then hashes it whole: no signature, no UUID to skip.
        # The window may not start with a Mach-O header at all (a universal
        # slice pointing anywhere): then the slice table names the arch.
        bo = MAGICS.get(prefix[:4], (None,))[0]
        arch = CPUS.get(struct.unpack_from(bo + "i", prefix, 4)[0]) if bo and len(prefix) >= 8 else None
        return Found("macho", arch, quick[0], [src.absolute(quick[1])])
    build_id, locations = None, []
    if quick is not None and quick[0]:
        build_id, locations = quick[0], [src.absolute(quick[1])]
    else:
        text = next((s for s in sects if s.sectname == b"__text"), None)
        if text is None:
            raise FormatError("cannot find __text section")
        n = min(text.size, PREFIX_SIZE)
        hit = raw.find_marker(src.read_at(text.offset, n, "__text section"))
        if hit is not None:
            build_id, locations = hit[0], [src.absolute(text.offset + hit[1])]

    host = signature = None
    uuid = m.command(LC_UUID)
    if uuid is not None:
        host = HostBuildID("macho-uuid", Span(src.absolute(uuid.offset + 8), len(uuid.data) - 8), uuid.data[8:])
    sig = m.command(LC_CODE_SIGNATURE)
    if sig is not None and len(sig.data) >= 16:
        dataoff, datasize = struct.unpack_from(m.bo + "II", sig.data, 8)
        signature = Span(src.absolute(dataoff), datasize)
    return Found("macho", m.arch, build_id, locations, host_build_id=host, code_signature=signature,
                 hashing=HashingView(lambda: _hashing(m, segs, host, signature)))


def _hashing(m: Macho, segs: list, host: HostBuildID | None, signature: Span | None):
    """Exclusions and signing, as the Go tool sees them: only when Go's parser
    accepts the file."""
    zeroed, signing = [], None
    if not m.go_would_parse():
        return zeroed, signing
    if signature is not None:
        zeroed.append(signature)
        text_seg = next((s for s in segs if s.segname == b"__TEXT"), None)
        if text_seg is not None:
            signing = MachoSigning(text_seg.fileoff, text_seg.filesize, m.filetype == MH_EXECUTE)
    if host is not None:
        zeroed.append(host.span)
    return zeroed, signing


def fat_slices(src: Source) -> list[tuple[int, int, int]] | None:
    """(cputype, offset, size) per slice, or None when the header is not a
    plausible universal header (too many slices: likely a Java class file)."""
    magic, narch = struct.unpack(FAT_HEADER, src.read_at(0, 8, "universal header"))
    if narch == 0 or narch > MAX_FAT_ARCHS:
        return None
    fmt = FAT_ARCH_64 if magic == FAT_MAGIC_64 else FAT_ARCH
    size = struct.calcsize(fmt)
    table = src.read_at(8, narch * size, "universal slice table")
    out = []
    for i in range(narch):
        f = struct.unpack_from(fmt, table, i * size)
        out.append((f[0], f[2], f[3]))
    return out


def read_fat(src: Source) -> Found | None:
    slices = fat_slices(src)
    if slices is None:
        return None
    header_end = 8 + len(slices) * struct.calcsize(FAT_ARCH_64 if src.prefix(4) == b"\xca\xfe\xba\xbf" else FAT_ARCH)
    spans: list[tuple[int, int]] = []
    found = []
    for cputype, off, size in slices:
        if off < header_end:
            raise FormatError(f"universal slice at offset {off:#x} overlaps the header")
        sub = src.view(off, size, "universal slice")
        for o, s in spans:
            if off < o + s and o < off + size:
                raise FormatError(f"universal slices at {o:#x} and {off:#x} overlap")
        spans.append((off, size))
        one = read(sub)
        found.append(one.replace(arch=one.arch or CPUS.get(cputype), span=Span(src.absolute(off), size)))
    return Found("macho-fat", slices=found)


# --- the protocol (formats.model.Image) and the layout ---


VM_PROT_READ, VM_PROT_WRITE, VM_PROT_EXECUTE = 1, 2, 4
VM_PROT_RW = VM_PROT_READ | VM_PROT_WRITE


def _perm(prot: int) -> str:
    return "".join(c for bit, c in ((VM_PROT_READ, "r"), (VM_PROT_WRITE, "w"), (VM_PROT_EXECUTE, "x"))
                   if prot & bit)


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


class MachoImage(Image):
    """A thin Mach-O. Section names are the section's own (`__text`); the
    layout names them `segment,section`."""

    kind = "macho"
    __slots__ = ("m",)

    def __init__(self, src: Source, arch: str | None = None):
        m = Macho.of(src)
        super().__init__(src, m.arch or arch, m.bo, 8 if m.is64 else 4)
        self.m = m

    def segments(self) -> tuple[Region, ...]:
        return tuple(Region("segment", _text(g.segname), g.fileoff, g.filesize, g.vmaddr, g.vmsize,
                            _perm(g.initprot)) for g in self.m.segments()[0])

    def sections(self) -> tuple[Region, ...]:
        return tuple(Region("section", _text(t.sectname), t.offset, t.size if t.offset else 0, t.addr,
                            None if t.offset else t.size) for t in self.m.segments()[1])

    def buildinfo(self) -> tuple[int, int] | None:
        t = next((t for t in self.m.segments()[1] if t.sectname == b"__go_buildinfo"), None)
        return None if t is None else (t.addr, t.size)

    def legacy_buildinfo(self) -> tuple[int, int] | None:
        """The first segment mapped read-write with bytes in the file."""
        for g in self.m.segments()[0]:
            if g.vmaddr and g.filesize and g.maxprot == VM_PROT_RW and g.initprot == VM_PROT_RW:
                return g.vmaddr, g.filesize
        return None

    def memory(self):
        from .memory import AddressSpace, Mapping  # not needed to read an ID
        return AddressSpace(self.src, [Mapping(g.vmaddr, g.filesize, g.fileoff)
                                       for g in self.m.segments()[0] if g.segname != b"__PAGEZERO"])

    def symbol(self, name: bytes) -> int | None:
        from .symtab import MAX_SYMTAB, lookup  # not needed to read an ID
        """By its C name (`_` + name) or as written."""
        c = self.m.command(LC_SYMTAB)
        if c is None or len(c.data) < 24:
            return None
        symoff, nsyms, stroff, strsize = struct.unpack_from(self.byteorder + "IIII", c.data, 8)
        fmt = self.byteorder + ("IBBhQ" if self.ptr_size == 8 else "IBBhI")
        entry = struct.calcsize(fmt)
        if nsyms * entry > MAX_SYMTAB or strsize > MAX_SYMTAB:
            return None
        table = self.src.read_at(symoff, nsyms * entry, "symbol table")
        names = self.src.read_at(stroff, strsize, "symbol names")
        sym = lookup(names, table, entry, fmt, (b"_" + name, name))
        return None if sym is None else sym[4]


def image(src: Source, arch: str | None = None) -> MachoImage:
    return src.memo("macho.image", lambda: MachoImage(src, arch))


def slices(src: Source) -> list[tuple[str | None, Source]] | None:
    """(arch, window) for each slice of a universal Mach-O; None when the header
    is not a plausible universal header."""
    table = fat_slices(src)
    if table is None:
        return None
    return [(CPUS.get(cpu), src.view(off, size, "universal slice")) for cpu, off, size in table]


# code_signature: Span (absolute) of the LC_CODE_SIGNATURE data, or None;
# signature_size_field, linkedit_vmsize_field, linkedit_filesize_field: Spans of
# the header fields a signer rewrites when the signature changes size (None when
# absent); linkedit_fileoff: the __LINKEDIT segment's offset within the slice;
# text: (fileoff, filesize) of __TEXT within the slice.
MachoLayout = namedtuple("MachoLayout", "regions image_end base byteorder is64 is_exec has_symtab "
                                        "code_signature signature_size_field linkedit_fileoff "
                                        "linkedit_vmsize_field linkedit_filesize_field text "
                                        "ncmds sizeofcmds signature_command_last")


def layout(src: Source) -> MachoLayout:
    """Header, load commands, segments, sections, symbol and string tables and
    the code signature of a thin Mach-O, with absolute file offsets."""
    m = Macho.of(src)
    at = src.absolute
    hdrsize = 32 if m.is64 else 28
    sizeofcmds = struct.unpack(m.bo + "I", src.read_at(20, 4, "Mach-O header"))[0]
    regions = [Region("header", "Mach-O header and load commands", at(0), hdrsize + sizeofcmds)]
    word = 8 if m.is64 else 4
    linkedit = text = vm_field = file_field = sig_field = sig = None
    has_symtab = False
    segs, sects = m.segments()
    by_command = {g.cmd_offset: g for g in segs}
    for c in m.commands:
        g = by_command.get(c.offset) if c.cmd in (LC_SEGMENT, LC_SEGMENT_64) else None
        if g is not None:
            regions.append(Region("segment", _text(g.segname), at(g.fileoff), g.filesize, g.vmaddr))
            if g.segname == b"__LINKEDIT":
                linkedit = g.fileoff
                vm_field = Span(at(c.offset + 24 + word), word)       # cmd cmdsize segname vmaddr | vmsize
                file_field = Span(at(c.offset + 24 + 3 * word), word)  # ... vmsize fileoff | filesize
            elif g.segname == b"__TEXT":
                text = (g.fileoff, g.filesize)
            regions += [Region("section", f"{_text(t.segname)},{_text(t.sectname)}", at(t.offset), t.size, t.addr)
                        for t in sects if t.cmd_offset == c.offset and t.offset and t.size]
        elif c.cmd == LC_SYMTAB and len(c.data) >= 24:
            symoff, nsyms, stroff, strsize = struct.unpack_from(m.bo + "IIII", c.data, 8)
            has_symtab = nsyms > 0
            regions.append(Region("table", "symbol table", at(symoff), nsyms * (16 if m.is64 else 12)))
            regions.append(Region("table", "string table", at(stroff), strsize))
        elif c.cmd == LC_CODE_SIGNATURE and len(c.data) >= 16:
            dataoff, datasize = struct.unpack_from(m.bo + "II", c.data, 8)
            sig = Span(at(dataoff), datasize)
            sig_field = Span(at(c.offset + 12), 4)
            regions.append(Region("table", "code signature", at(dataoff), datasize))
    last = bool(m.commands) and m.commands[-1].cmd == LC_CODE_SIGNATURE
    return MachoLayout(tuple(regions), image_end(regions), src.base, m.bo, m.is64, m.filetype == MH_EXECUTE,
                       has_symtab, sig, sig_field, linkedit, vm_field, file_field, text,
                       len(m.commands), sizeofcmds, last)


def signature_size_patches(lay: MachoLayout, sig_size: int) -> list[tuple[int, bytes]]:
    """(absolute offset, bytes) that give the signature `sig_size` bytes the way
    Go's linker sizes it: LC_CODE_SIGNATURE's datasize, and __LINKEDIT's vmsize
    and filesize both ending where the signature ends."""
    if lay.code_signature is None or lay.linkedit_fileoff is None:
        raise FormatError("Mach-O file has no code signature or no __LINKEDIT segment")
    seg = lay.code_signature.offset - lay.base + sig_size - lay.linkedit_fileoff
    w = lay.byteorder + ("Q" if lay.is64 else "I")
    return [(lay.signature_size_field.offset, struct.pack(lay.byteorder + "I", sig_size)),
            (lay.linkedit_vmsize_field.offset, struct.pack(w, seg)),
            (lay.linkedit_filesize_field.offset, struct.pack(w, seg))]


def signature_removal_patches(lay: MachoLayout) -> list[tuple[int, bytes]]:
    """(absolute offset, bytes) that take out a code signature added after
    linking, as the file was before: the LC_CODE_SIGNATURE command (the last one)
    zeroed and uncounted, __LINKEDIT ending where the signature starts."""
    if lay.code_signature is None or lay.linkedit_fileoff is None or not lay.signature_command_last:
        raise FormatError("Mach-O code signature is not a last load command with a __LINKEDIT segment")
    cmd = lay.signature_size_field.offset - 12
    seg = lay.code_signature.offset - lay.base - lay.linkedit_fileoff
    w = lay.byteorder + ("Q" if lay.is64 else "I")
    u32 = lay.byteorder + "I"
    return [(lay.base + 16, struct.pack(u32, lay.ncmds - 1)),
            (lay.base + 20, struct.pack(u32, lay.sizeofcmds - 16)),
            (cmd, bytes(16)),
            (lay.linkedit_vmsize_field.offset, struct.pack(w, seg)),
            (lay.linkedit_filesize_field.offset, struct.pack(w, seg))]
