"""Where the Go linker leaves the build info blob, per container, and a way to
read the target's memory through the file.

The blob starts with a 32-byte header: the 14-byte magic below, the pointer
size, a flags byte (bit 0: big endian; bit 1: the strings follow inline), and
in the old layout (before Go 1.18) two pointers to Go string headers. It sits at
a 16-byte aligned address.

Which bytes are searched follows Go 1.27's debug/buildinfo:
  ELF      section .go.buildinfo
  Mach-O   section __go_buildinfo (of the first slice, for a universal file)
  PE       the first section whose characteristics are exactly initialized,
           readable, writable data (alignment bits aside): .data
  XCOFF    the first STYP_DATA section
and the whole of that range is searched, 1 MiB at a time. Beyond Go:
  - with fallback=True (the default), an ELF without .go.buildinfo has the first
    64 KiB of its first writable, non-executable PT_LOAD segment searched, and a
    Mach-O without __go_buildinfo the first 64 KiB of its first read-write
    segment: the rules older Go releases used, which still find the blob in
    binaries whose section headers were stripped and in old Mach-O binaries.
  - Plan 9: the data segment, aligned by virtual address. Go uses file offsets
    as addresses there, so its 16-byte alignment only holds when the text size
    happens to line up; for the samples it does not and `go version` finds nothing.
  - wasm: Go does not emit the blob into the module at all, but the strings are
    there: runtime.buildVersion and runtime.modinfo are Go string headers in
    linear memory. When no blob is in the data segments, they are located (the
    module info by its sentinels, the version by the toolchain version in the
    "producers" section) and handed back as an old-layout blob whose pointers
    are the addresses of those two string headers.

Every read goes through Source, capped at the bytes the region holds in the file.
"""
from __future__ import annotations

import bisect
import struct

from . import leb128, magic
from .errors import FormatError
from .source import Source

MAGIC = b"\xff Go buildinf:"
ALIGN = 16
HEADER_SIZE = 32
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2

SEARCH_CHUNK = 1 << 20          # Go searches the data range this many bytes at a time
FIRST_CHUNK = 64 * 1024         # the blob is normally at the start; look there first
LEGACY_WINDOW = 64 * 1024       # older Go searched only this much of a data segment

# The module-info sentinels cmd/go wraps runtime.modinfo in.
INFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
INFO_END = bytes.fromhex("f932433186182072008242104116d8f2")


class Region:
    """Target addresses [addr, addr+size) are file bytes [offset, offset+size) of the Source."""

    __slots__ = ("addr", "size", "offset")

    def __init__(self, addr: int, size: int, offset: int):
        self.addr, self.size, self.offset = addr, size, offset

    def __repr__(self) -> str:
        return f"Region(addr={self.addr:#x}, size={self.size:#x}, offset={self.offset:#x})"


class AddressSpace:
    """Reads at target virtual addresses. The first region containing an address
    wins (table order, as Go's DataReader); a read never crosses the end of it."""

    def __init__(self, src: Source, regions: list[Region]):
        self.src = src
        # Regions reaching past the end of the file keep only their bytes in it.
        self.regions = []
        for r in regions:
            if r.size <= 0 or r.offset < 0 or r.offset >= src.size:
                continue
            self.regions.append(Region(r.addr, min(r.size, src.size - r.offset), r.offset))

    def region_of(self, addr: int) -> Region | None:
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
        """Up to n bytes at addr: fewer when the region ends first; b"" when addr is unmapped."""
        r = self.region_of(addr)
        if r is None or n <= 0:
            return b""
        n = min(n, r.addr + r.size - addr)
        return self.src.read_at(r.offset + addr - r.addr, n, what)


class Blob:
    """The build info header and the memory it points into.

    inline: the Go 1.18+ layout, two varint-prefixed strings right after the header.
    Otherwise ptr_size/big_endian decode version_ptr and modinfo_ptr, the addresses
    of two Go string headers (data pointer, length). For a wasm module the
    header is built from the located string variables and address/offset are None.
    """

    __slots__ = ("format", "arch", "header", "address", "offset", "space")

    def __init__(self, format: str, arch: str | None, header: bytes, address: int | None,
                 offset: int | None, space):
        if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
            raise ValueError("not a build info header")
        self.format, self.arch = format, arch
        self.header = header
        self.address, self.offset = address, offset
        self.space = space

    @property
    def ptr_size(self) -> int:
        return self.header[14]

    @property
    def flags(self) -> int:
        return self.header[15]

    @property
    def big_endian(self) -> bool:
        return bool(self.flags & FLAG_BIG_ENDIAN)

    @property
    def inline(self) -> bool:
        return bool(self.flags & FLAG_INLINE)

    @property
    def strings_address(self) -> int:
        """Where the inline strings start (inline layout only)."""
        return self.address + HEADER_SIZE

    def unpack_ptr(self, b: bytes) -> int:
        """A target pointer (ptr_size must be 4 or 8)."""
        code = {4: "I", 8: "Q"}[self.ptr_size]
        return struct.unpack((">" if self.big_endian else "<") + code, b[:self.ptr_size])[0]

    @property
    def version_ptr(self) -> int:
        return self.unpack_ptr(self.header[16:])

    @property
    def modinfo_ptr(self) -> int:
        return self.unpack_ptr(self.header[16 + self.ptr_size:])

    def read(self, addr: int, n: int, what: str = "build info") -> bytes:
        return self.space.read(addr, n, what)

    def available(self, addr: int) -> int:
        return self.space.available(addr)


# --- the search -------------------------------------------------------------

def search(space: AddressSpace, start: int, size: int, chunk: int = SEARCH_CHUNK) -> int | None:
    """The first 16-byte aligned MAGIC in [start, start+size) with room for a
    header after it in that range. None when there is none. A matching magic
    whose header the range cannot hold is a truncated header: FormatError."""
    end = start + size
    pos = (start + ALIGN - 1) & -ALIGN
    step = min(FIRST_CHUNK, chunk)
    while pos < end:
        want = min(step, end - pos)
        data = space.read(pos, want, "build info search")
        if not data:
            return None  # the range runs past what the file maps
        i = data.find(MAGIC)
        while i >= 0:
            if i % ALIGN == 0:
                if end - (pos + i) < HEADER_SIZE:
                    raise FormatError(f"build info header at address {pos + i:#x} is truncated "
                                      f"({end - pos - i} of {HEADER_SIZE} bytes)")
                return pos + i
            i = data.find(MAGIC, (i + ALIGN) & -ALIGN)
        pos += len(data)  # chunk sizes are multiples of 16: an aligned magic never straddles
        step = chunk
    return None


def _blob_at(fmt: str, arch: str | None, space: AddressSpace, addr: int) -> Blob:
    header = space.read(addr, HEADER_SIZE, "build info header")
    if len(header) < HEADER_SIZE:
        raise FormatError(f"build info header at address {addr:#x} is truncated "
                          f"({len(header)} of {HEADER_SIZE} bytes)")
    return Blob(fmt, arch, header, addr, space.file_offset(addr), space)


def _find_in(fmt: str, arch: str | None, space: AddressSpace, start: int, size: int) -> Blob | None:
    if size <= 0:
        return None
    addr = search(space, start, size)
    return None if addr is None else _blob_at(fmt, arch, space, addr)


# --- ELF --------------------------------------------------------------------

PT_LOAD = 1
PF_X, PF_W = 1, 2


def _elf_phdrs(e) -> list[tuple[int, int, int, int, int]]:
    """(type, flags, offset, vaddr, filesz) per program header, in table order."""
    if e.hdr.e_phoff == 0:
        return []
    return [(p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz) for p in e.program_headers()]


def _elf_section(e, want: bytes) -> tuple[int, int] | None:
    """(addr, size) of the first section named `want`."""
    s = e.sections().get(want)
    return None if s is None else (s.sh_addr, s.sh_size)


def _elf_blob(src: Source, fallback: bool) -> Blob | None:
    from .elf import Elf
    e = Elf.of(src)
    phdrs = _elf_phdrs(e)
    space = AddressSpace(src, [Region(vaddr, filesz, off) for _, _, off, vaddr, filesz in phdrs])
    sect = _elf_section(e, b".go.buildinfo")
    if sect is not None:
        return _find_in("elf", e.arch, space, *sect)
    if fallback:
        for ptype, flags, _, vaddr, filesz in phdrs:
            if ptype == PT_LOAD and flags & (PF_X | PF_W) == PF_W:
                return _find_in("elf", e.arch, space, vaddr, min(filesz, LEGACY_WINDOW))
    return None


# --- Mach-O -----------------------------------------------------------------

VM_PROT_RW = 3
LC_SEGMENT, LC_SEGMENT_64 = 0x1, 0x19
SEGMENT = "16sIIIIiiII"       # segname vmaddr vmsize fileoff filesize maxprot initprot nsects flags
SEGMENT_64 = "16sQQQQiiII"
SECTION = "16s16sIIIIIIIII"   # sectname segname addr size offset ...
SECTION_64 = "16s16sQQIIIIIIII"
CPU_ARCH_ABI64 = 0x01000000
MACHO_CPUS = {7: "386", 7 | CPU_ARCH_ABI64: "amd64", 12: "arm", 12 | CPU_ARCH_ABI64: "arm64",
              18: "ppc", 18 | CPU_ARCH_ABI64: "ppc64"}


def _macho_layout(m):
    """Segments as (name, vmaddr, fileoff, filesize, maxprot, initprot) and
    sections as (sectname, addr, size), in load-command order."""
    seg_fmt, sect_fmt, want = ((SEGMENT_64, SECTION_64, LC_SEGMENT_64) if m.is64
                               else (SEGMENT, SECTION, LC_SEGMENT))
    seg_size, sect_size = struct.calcsize(seg_fmt), struct.calcsize(sect_fmt)
    segs, sects = [], []
    for c in m.commands:
        if c.cmd != want:
            continue
        if len(c.data) < 8 + seg_size:
            raise FormatError("Mach-O segment command too short")
        name, vmaddr, _, fileoff, filesize, maxprot, initprot, nsects, _ = struct.unpack_from(
            m.bo + seg_fmt, c.data, 8)
        if 8 + seg_size + nsects * sect_size > len(c.data):
            raise FormatError("Mach-O segment claims more sections than its command holds")
        segs.append((name.split(b"\0", 1)[0], vmaddr, fileoff, filesize, maxprot, initprot))
        for k in range(nsects):
            f = struct.unpack_from(m.bo + sect_fmt, c.data, 8 + seg_size + k * sect_size)
            sects.append((f[0].split(b"\0", 1)[0], f[2], f[3]))
    return segs, sects


def _macho_blob(src: Source, fallback: bool, arch: str | None = None) -> Blob | None:
    from .macho import Macho
    m = Macho.of(src)
    arch = m.arch or arch
    segs, sects = _macho_layout(m)
    space = AddressSpace(src, [Region(vmaddr, filesize, fileoff)
                               for name, vmaddr, fileoff, filesize, _, _ in segs
                               if name != b"__PAGEZERO"])
    for name, addr, size in sects:
        if name == b"__go_buildinfo":
            return _find_in("macho", arch, space, addr, size)
    if fallback:
        for _, vmaddr, _, filesize, maxprot, initprot in segs:
            if vmaddr and filesize and maxprot == VM_PROT_RW and initprot == VM_PROT_RW:
                return _find_in("macho", arch, space, vmaddr, min(filesize, LEGACY_WINDOW))
    return None


def universal_slices(src: Source) -> list[tuple[str | None, Source]] | None:
    """(arch, slice) for each slice of a universal Mach-O; None when src is not one."""
    head = src.prefix()
    if head[:4] not in magic.FAT or len(head) < 8:
        return None
    from .macho import fat_slices
    slices = fat_slices(src)
    if slices is None:
        return None
    return [(MACHO_CPUS.get(cpu), src.view(off, size, "universal slice")) for cpu, off, size in slices]


# --- PE ---------------------------------------------------------------------

IMAGE_SCN_ALIGN_32BYTES = 0x00600000
PE_DATA_CHARACTERISTICS = 0x00000040 | 0x40000000 | 0x80000000  # initialized data, read, write
COFF_HEADER = "<HHIIIHH"  # Machine NumberOfSections TimeDateStamp PointerToSymbolTable NumberOfSymbols SizeOfOptionalHeader Characteristics
PE_SECTION = "<8sIIIIIIHHI"  # Name VirtualSize VirtualAddress SizeOfRawData PointerToRawData ... Characteristics
PE_MACHINES = {0x14C: "386", 0x8664: "amd64", 0x1C4: "arm", 0xAA64: "arm64"}


class PeLayout:
    """What the PE headers say about memory: the image base, the section table
    as (name, virtual size, address, raw size, file offset, characteristics),
    and the COFF symbol table (offset, count)."""

    __slots__ = ("machine", "base", "sections", "symtab")

    def __init__(self, machine: int, base: int, sections: list, symtab: tuple[int, int]):
        self.machine, self.base, self.sections, self.symtab = machine, base, sections, symtab

    def space(self, src: Source) -> AddressSpace:
        return AddressSpace(src, [Region(self.base + va, rawsize, rawptr)
                                  for _, _, va, rawsize, rawptr, _ in self.sections])


def pe_layout(src: Source) -> PeLayout:
    lfanew = struct.unpack_from("<I", src.read_at(magic.E_LFANEW, 4, "PE header offset"))[0]
    machine, nsect, _, symptr, nsyms, optsize, _ = struct.unpack(
        COFF_HEADER, src.read_at(lfanew + 4, 20, "COFF header"))
    opt = lfanew + 24
    base = 0
    if optsize >= 2:
        opt_magic = struct.unpack("<H", src.read_at(opt, 2, "optional header"))[0]
        if opt_magic == 0x10B and optsize >= 32:
            base = struct.unpack("<I", src.read_at(opt + 28, 4, "optional header"))[0]
        elif opt_magic == 0x20B and optsize >= 32:
            base = struct.unpack("<Q", src.read_at(opt + 24, 8, "optional header"))[0]
    table = src.read_at(opt + optsize, nsect * 40, "section table")
    sections = []
    for i in range(nsect):
        name, vsize, va, rawsize, rawptr, _, _, _, _, chars = struct.unpack_from(PE_SECTION, table, i * 40)
        sections.append((name.rstrip(b"\0"), vsize, va, rawsize, rawptr, chars))
    return PeLayout(machine, base, sections, (symptr, nsyms))


def _pe_blob(src: Source) -> Blob | None:
    pe = pe_layout(src)
    data = None
    for _, vsize, va, rawsize, _, chars in pe.sections:
        if va and rawsize and chars & ~IMAGE_SCN_ALIGN_32BYTES == PE_DATA_CHARACTERISTICS:
            data = (pe.base + va, vsize)
            break
    if data is None:
        return None
    return _find_in("pe", PE_MACHINES.get(pe.machine), pe.space(src), *data)


# --- XCOFF ------------------------------------------------------------------

STYP_DATA, STYP_BSS = 0x40, 0x80
U802TOCMAGIC, U64_TOCMAGIC = 0o737, 0o767
XCOFF_FILEHDR = {U802TOCMAGIC: ">HHIIIHH", U64_TOCMAGIC: ">HHIQHHI"}
XCOFF_SCNHDR = {U802TOCMAGIC: ">8sIIIIIIHHI", U64_TOCMAGIC: ">8sQQQQQQIIII"}


def _xcoff_blob(src: Source) -> Blob | None:
    xmagic = magic.xcoff_magic(src.read_at(0, 2, "XCOFF magic"))
    hfmt, sfmt = XCOFF_FILEHDR[xmagic], XCOFF_SCNHDR[xmagic]
    hdr = struct.unpack(hfmt, src.read_at(0, struct.calcsize(hfmt), "XCOFF header"))
    nscns = hdr[1]
    opthdr = hdr[5] if xmagic == U802TOCMAGIC else hdr[4]
    ssize = struct.calcsize(sfmt)
    table = src.read_at(struct.calcsize(hfmt) + opthdr, nscns * ssize, "XCOFF section headers")
    regions, data = [], None
    for i in range(nscns):
        f = struct.unpack_from(sfmt, table, i * ssize)
        vaddr, size, scnptr, flags = f[2], f[3], f[4], f[9]
        if flags != STYP_BSS:  # no bytes in the file
            regions.append(Region(vaddr, size, scnptr))
        if data is None and flags == STYP_DATA:
            data = (vaddr, size)
    if data is None:
        return None
    return _find_in("xcoff", magic.XCOFF.get(xmagic), AddressSpace(src, regions), *data)


# --- Plan 9 -----------------------------------------------------------------

PLAN9_MAGIC64 = 0x8000
# Where the Go linker loads text, and what it rounds the data segment's address to.
PLAN9_LAYOUT = {"386": (0x1000, 0x1000), "arm": (0x1000, 0x1000), "amd64": (0x200000, 0x200000)}


def _plan9_blob(src: Source) -> Blob | None:
    head = src.read_at(0, 32, "Plan 9 header")
    p9magic, text, data = struct.unpack_from(">III", head)
    arch = magic.plan9_arch(head)
    hdrsize = 40 if p9magic & PLAN9_MAGIC64 else 32
    load, rnd = PLAN9_LAYOUT.get(arch, (0x1000, 0x1000))
    text_va = load + hdrsize
    data_va = (text_va + text + rnd - 1) // rnd * rnd
    space = AddressSpace(src, [Region(text_va, text, hdrsize), Region(data_va, data, hdrsize + text)])
    return _find_in("plan9", arch, space, data_va, data)


# --- wasm -------------------------------------------------------------------

WASM_CUSTOM, WASM_DATA = 0, 11
MAX_WASM_SECTIONS = 4096
MAX_PRODUCERS_SIZE = 64 * 1024
WINDOW = 1 << 20
WINDOW_PAD = 16
WINDOW_CACHE = 64 << 20


class _Cursor:
    """Sequential reads of [pos, end) of a Source through a buffer."""

    def __init__(self, src: Source, pos: int, end: int, bufsize: int = 64 * 1024):
        self.src, self.pos, self.end, self.bufsize = src, pos, end, bufsize
        self.buf, self.buf_at = b"", pos

    def _fill(self, n: int) -> None:
        have = self.buf_at + len(self.buf) - self.pos
        if self.pos >= self.buf_at and have >= n:
            return
        want = min(max(n, self.bufsize), self.end - self.pos)
        if want < n:
            raise FormatError(f"wasm data at offset {self.src.absolute(self.pos):#x} runs past its section")
        self.buf = self.src.read_at(self.pos, want, "wasm section")
        self.buf_at = self.pos

    def byte(self) -> int:
        self._fill(1)
        b = self.buf[self.pos - self.buf_at]
        self.pos += 1
        return b

    def uleb(self, bits: int = 32) -> int:
        self._fill(min(10, self.end - self.pos))
        try:
            value, i = leb128.uleb(self.buf, self.pos - self.buf_at, bits)
        except IndexError:
            raise FormatError(f"wasm data at offset {self.src.absolute(self.pos):#x} runs past its section") from None
        self.pos = self.buf_at + i
        return value

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise FormatError(f"wasm data at offset {self.src.absolute(self.pos):#x} runs past its section")
        if n > self.bufsize:
            data = self.src.read_at(self.pos, n, "wasm section")
        else:
            self._fill(n)
            data = self.buf[self.pos - self.buf_at:self.pos - self.buf_at + n]
        self.pos += n
        return data


_uleb_at, _sleb_at = leb128.uleb, leb128.sleb


MAX_EXPR_OPS = 64


def _const_expr_at(buf: bytes, i: int) -> tuple[int | None, int]:
    """Evaluate a constant expression (the offset of an active data segment):
    (value, next index); the value is None when it depends on an imported global."""
    if buf[i] == 0x41 and buf[i + 1] < 0x80 and buf[i + 2] == 0x0B:  # i32.const small; end
        v = buf[i + 1]
        return (v - 0x80 if v & 0x40 else v) & 0xFFFFFFFF, i + 3
    stack: list[int | None] = []
    for _ in range(MAX_EXPR_OPS):
        op = buf[i]
        i += 1
        if op == 0x0B:
            if len(stack) != 1:
                raise FormatError("malformed wasm constant expression")
            return stack[0], i
        if op == 0x41:
            v, i = _sleb_at(buf, i, 32)
            stack.append(v & 0xFFFFFFFF)
        elif op == 0x42:
            v, i = _sleb_at(buf, i, 64)
            stack.append(v & 0xFFFFFFFFFFFFFFFF)
        elif op == 0x23:
            _, i = _uleb_at(buf, i)
            stack.append(None)
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):
            if len(stack) < 2:
                raise FormatError("malformed wasm constant expression")
            y, x = stack.pop(), stack.pop()
            if x is None or y is None:
                stack.append(None)
            else:
                v = x + y if op in (0x6A, 0x7C) else x - y if op in (0x6B, 0x7D) else x * y
                stack.append(v & (0xFFFFFFFF if op < 0x70 else 0xFFFFFFFFFFFFFFFF))
        else:
            raise FormatError(f"unsupported opcode {op:#x} in a wasm data segment offset")
    raise FormatError("wasm constant expression too long")


def _segment_header(buf: bytes, i: int) -> tuple[int | None, int, int]:
    """(memory address or None, content size, index of the content)."""
    flags, i = _uleb_at(buf, i)
    if flags == 0:
        addr, i = _const_expr_at(buf, i)
    elif flags == 1:
        addr = None  # passive: copied by code, not placed
    elif flags == 2:
        _, i = _uleb_at(buf, i)
        addr, i = _const_expr_at(buf, i)
    else:
        raise FormatError(f"unknown wasm data segment kind {flags}")
    n, i = _uleb_at(buf, i)
    return addr, n, i


class WasmMemory:
    """Linear memory as the active data segments initialize it: segment bytes,
    zeros in between. Reads are capped at the data section's size, so a bogus
    length can never make us allocate more than the module holds."""

    def __init__(self, src: Source, segments: list[Region], cap: int):
        self.src = src
        segs = sorted((r.addr, r.size, r.offset) for r in segments)
        self.starts = [s[0] for s in segs]
        self.ends = [s[0] + s[1] for s in segs]
        self.offsets = [s[2] for s in segs]
        self.end = max(self.ends, default=0)
        self.cap = cap
        self._windows: list[tuple[int, bytes]] | None = []
        self._windows_done = False

    def available(self, addr: int) -> int:
        if not self.starts or addr < self.starts[0] or addr >= self.end:
            return 0
        return min(self.end - addr, self.cap)

    def file_offset(self, addr: int) -> int | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and addr < self.ends[i]:
            return self.src.absolute(self.offsets[i] + addr - self.starts[i])
        return None

    def dense(self, addr: int, n: int, what: str = "wasm memory") -> bytes:
        """Exactly n bytes of memory at addr, zeros where no segment writes
        (callers bound n: windows by their span, strings by available())."""
        starts, ends, offsets = self.starts, self.ends, self.offsets
        end = addr + n
        i = max(bisect.bisect_right(starts, addr) - 1, 0)
        k = bisect.bisect_left(starts, end, i)
        pieces = []  # (index in the result, file offset, size)
        for j in range(i, k):
            lo, hi = max(starts[j], addr), min(ends[j], end)
            if lo < hi:
                pieces.append((lo - addr, offsets[j] + lo - starts[j], hi - lo))
        out = bytearray(n)
        if not pieces:
            return bytes(out)
        first = min(p[1] for p in pieces)
        last = max(p[1] + p[2] for p in pieces)
        if len(pieces) > 1 and last - first <= 2 * n + 65536:
            # The Go linker writes segments in address order with small headers
            # between them: one read covers them all.
            chunk = self.src.read_at(first, last - first, what)
            for at, off, size in pieces:
                out[at:at + size] = chunk[off - first:off - first + size]
        else:
            for at, off, size in pieces:
                out[at:at + size] = self.src.read_at(off, size, what)
        return bytes(out)

    def read(self, addr: int, n: int, what: str = "wasm memory") -> bytes:
        n = min(n, self.available(addr))
        return self.dense(addr, n, what) if n > 0 else b""

    def windows(self):
        """(addr, bytes) windows covering every segment byte with WINDOW_PAD
        bytes of context either side, so a pattern of up to that size touching
        a segment lies wholly inside one window. Kept for a second pass while
        they stay within WINDOW_CACHE bytes."""
        if self._windows_done and self._windows is not None:
            yield from self._windows
            return
        cache, kept = [], 0
        for w in self._make_windows():
            if cache is not None:
                kept += len(w[1])
                cache.append(w)
                if kept > WINDOW_CACHE:
                    cache = None
            yield w
        self._windows, self._windows_done = cache, True

    def _make_windows(self, pad: int = WINDOW_PAD, span: int = WINDOW):
        starts, ends, i = self.starts, self.ends, 0
        while i < len(starts):
            j, hi = i + 1, ends[i]
            while j < len(starts) and ends[j] - starts[i] <= span:
                hi = max(hi, ends[j])
                j += 1
            for a in range(starts[i], hi, span):
                lo = max(a - pad, 0)
                yield lo, self.dense(lo, min(a + span, hi) + pad - lo)
            i = j


def _wasm_sections(src: Source) -> dict[int | bytes, tuple[int, int]]:
    """Body (offset, size) by section id, and custom sections by name."""
    out: dict[int | bytes, tuple[int, int]] = {}
    pos = 8
    for _ in range(MAX_WASM_SECTIONS):
        if pos >= src.size:
            return out
        cur = _Cursor(src, pos, src.size, 16)
        sid = cur.byte()
        size = cur.uleb()
        body = cur.pos
        if not src.fits(body, size):
            raise FormatError(f"wasm section at offset {src.absolute(pos):#x} extends past the end of the file")
        if sid == WASM_CUSTOM:
            c = _Cursor(src, body, body + size, 64)
            n = c.uleb()
            name = c.take(n)
            out.setdefault(name, (c.pos, body + size - c.pos))
        else:
            out.setdefault(sid, (body, size))
        pos = body + size
    raise FormatError(f"wasm module has more than {MAX_WASM_SECTIONS} sections")


def _wasm_go_version(src: Source, producers: tuple[int, int] | None) -> bytes | None:
    """The version the producers section gives for language Go."""
    if producers is None or producers[1] > MAX_PRODUCERS_SIZE:
        return None
    cur = _Cursor(src, producers[0], producers[0] + producers[1])
    for _ in range(cur.uleb()):
        field = cur.take(cur.uleb())
        for _ in range(cur.uleb()):
            name = cur.take(cur.uleb())
            version = cur.take(cur.uleb())
            if field == b"language" and name == b"Go" and version:
                return version
    return None


SEGMENT_BUFFER = 1 << 20
MAX_SEGMENT_HEADER = 1024  # flags, an expression of at most MAX_EXPR_OPS operations, a size


def _wasm_segments(src: Source, body: int, size: int) -> list[Region]:
    """The data section's segments with a known address, read through a 1 MiB
    buffer; contents are skipped, not read."""
    end = body + size
    buf, base = b"", body

    def parse(pos: int, fn):
        nonlocal buf, base
        i = pos - base
        if i < 0 or (i + MAX_SEGMENT_HEADER > len(buf) and base + len(buf) < end):
            buf, base = src.read_at(pos, min(SEGMENT_BUFFER, end - pos), "wasm data section"), pos
            i = 0
        try:
            *value, i = fn(buf, i)
        except IndexError:
            raise FormatError(f"wasm data segment header at offset {src.absolute(pos):#x} "
                              "runs past its section") from None
        return value, base + i

    (count,), pos = parse(body, _uleb_at)
    out = []
    for _ in range(count):
        if pos >= end:
            raise FormatError("wasm data section holds fewer segments than it declares")
        (addr, n), pos = parse(pos, _segment_header)
        if pos + n > end:
            raise FormatError(f"wasm data segment at offset {src.absolute(pos):#x} runs past its section")
        if addr is not None and n:
            out.append(Region(addr, n, pos))
        pos += n
    return out


def _wasm_blob(src: Source) -> Blob | None:
    sections = _wasm_sections(src)
    if WASM_DATA not in sections:
        return None
    body, size = sections[WASM_DATA]
    mem = WasmMemory(src, _wasm_segments(src, body, size), cap=size)
    version = _wasm_go_version(src, sections.get(b"producers"))

    infos, versions = [], []
    for base, data in mem.windows():
        i = data.find(MAGIC)
        while i >= 0:
            if (base + i) % ALIGN == 0:
                return _blob_at("wasm", "wasm", mem, base + i)
            i = data.find(MAGIC, i + 1)
        for pattern, found in ((INFO_START, infos), (version, versions)):
            if pattern:
                i = data.find(pattern)
                while i >= 0:
                    if base + i not in found:
                        found.append(base + i)
                    i = data.find(pattern, i + 1)
    if not versions:
        return None

    def check_mod(ptr: int, n: int) -> bool:
        return (2 * len(INFO_START) < n <= mem.available(ptr)
                and mem.read(ptr + n - len(INFO_END), len(INFO_END)) == INFO_END)

    def check_version(ptr: int, n: int) -> bool:
        if not len(version) <= n <= min(256, mem.available(ptr)):
            return False
        rest = mem.read(ptr + len(version), n - len(version))
        return rest == b"" or rest.startswith((b"-X:", b" X:"))

    mod_hdr = _string_header(mem, infos, check_mod)
    ver_hdr = _string_header(mem, versions, check_version)
    if ver_hdr is None:
        return None
    header = MAGIC + bytes([8, 0]) + struct.pack("<QQ", ver_hdr, mod_hdr or 0)
    return Blob("wasm", "wasm", header, None, None, mem)


def wasm_summary(src: Source) -> tuple[bytes, bytes | None] | None:
    """(Go version, module text) of a Go wasm module, cheaply: the version from
    the producers section and the module text by its sentinels in the raw data
    section. The text holds no run of zeros, so the linker never splits it
    across data segments. For listings; read_build_info does the full search."""
    sections = _wasm_sections(src)
    version = _wasm_go_version(src, sections.get(b"producers"))
    if version is None or WASM_DATA not in sections:
        return None
    body, size = sections[WASM_DATA]
    overlap = 1 << 16  # a module text longer than this is cut, not missed
    pos, end = body, body + size
    while pos < end:
        n = min(SEGMENT_BUFFER + overlap, end - pos)
        data = src.read_at(pos, n, "wasm data section")
        i = data.find(INFO_START)
        if i >= 0:
            j = data.find(INFO_END, i + len(INFO_START))
            return version, (data[i + len(INFO_START):j] if j >= 0 else None)
        pos += SEGMENT_BUFFER
    return version, None


def _string_header(mem: WasmMemory, targets: list[int], check) -> int | None:
    """The lowest 8-aligned address holding a little-endian Go string header
    (ptr, len) whose ptr is one of targets and which passes check(ptr, len)."""
    if not targets:
        return None
    patterns = {struct.pack("<Q", t): t for t in targets}
    for base, data in mem.windows():
        best = None
        for pat, target in patterns.items():
            i = data.find(pat)
            while i >= 0:
                a = base + i
                if a % 8 == 0 and i + 16 <= len(data):
                    n = struct.unpack_from("<Q", data, i + 8)[0]
                    if (best is None or a < best) and check(target, n):
                        best = a
                i = data.find(pat, i + 1)
        if best is not None:
            return best
    return None


# --- entry points -----------------------------------------------------------

def identify(src: Source) -> str | None:
    """The container as debug/buildinfo would see it (plus wasm), or None."""
    head = src.prefix()
    if len(head) < 16:
        return None
    kind = magic.sniff(head)
    if kind in ("elf", "macho", "macho-fat", "pe", "xcoff", "plan9", "wasm"):
        return kind
    return None


def arch_of(src: Source) -> str | None:
    """GOARCH of a thin executable, where its header says."""
    kind = identify(src)
    head = src.prefix()
    if kind == "elf":
        from .elf import Elf
        return Elf.of(src).arch
    if kind == "macho":
        from .macho import Macho
        return Macho.of(src).arch
    if kind == "pe":
        lfanew = magic.pe_header_offset(head)
        return PE_MACHINES.get(struct.unpack("<H", src.read_at(lfanew + 4, 2, "COFF header"))[0])
    if kind == "xcoff":
        return magic.XCOFF.get(magic.xcoff_magic(head))
    if kind == "plan9":
        return magic.plan9_arch(head)
    if kind == "wasm":
        return "wasm"
    return None


def find_blob(src: Source, fallback: bool = True) -> Blob | None:
    """The build info blob of an executable (the first slice of a universal
    Mach-O, as Go reads it). None when the file has none or is not an
    executable format; FormatError when its structures are broken."""
    kind = identify(src)
    if kind == "elf":
        return _elf_blob(src, fallback)
    if kind == "macho":
        return _macho_blob(src, fallback)
    if kind == "macho-fat":
        slices = universal_slices(src)
        if not slices:
            return None
        arch, sub = slices[0]
        return _macho_blob(sub, fallback, arch) if identify(sub) == "macho" else None
    if kind == "pe":
        return _pe_blob(src)
    if kind == "xcoff":
        return _xcoff_blob(src)
    if kind == "plan9":
        return _plan9_blob(src)
    if kind == "wasm":
        return _wasm_blob(src)
    return None


__all__ = ["Blob", "AddressSpace", "Region", "WasmMemory", "find_blob", "universal_slices",
           "identify", "arch_of", "search", "MAGIC", "HEADER_SIZE", "FormatError", "pe_layout", "PeLayout"]
