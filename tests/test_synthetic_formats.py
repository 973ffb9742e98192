"""Positive tests on small synthetic files, for the containers no toolchain here
can produce (gccgo and AIX archives, XCOFF objects, big-endian ELF, odd layouts).

The builders at the top make one structure each; test_malformed.py reuses them
to make broken files. Where the reference `go tool buildid` is available (the
`samples` fixture of conftest.py) the Go-compatible output is also compared
with it; otherwise with the bytes Go is known to print.
"""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from construct import (Bytes, Const, ExprAdapter, Int8ub, Int16sb, Int16ub, Int16ul, Int32sb,
                       Int32sl, Int32ub, Int32ul, Int64ub, Int64ul, Struct)

import buildidtool

BUILDID = [sys.executable, "-m", "buildidtool"]
TIMEOUT = 10
PREFIX = 32 * 1024  # what `go tool buildid` reads before it parses anything


def run(*args) -> subprocess.CompletedProcess:
    """Our command line; stdout and stderr stay bytes."""
    return subprocess.run([*BUILDID, *map(str, args)], capture_output=True, timeout=TIMEOUT)


def go_compatible(path: Path, reference, expected: bytes) -> None:
    """`buildid FILE` prints `expected` + newline, exits 0, as the reference does."""
    ours = run(path)
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, expected + b"\n", b"")
    if reference is not None:
        ref = subprocess.run([str(reference), str(path)], capture_output=True, timeout=TIMEOUT)
        assert (ref.returncode, ref.stdout) == (0, expected + b"\n"), ref.stderr


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def pad(data: bytes, align: int, fill: bytes = b"\0") -> bytes:
    return data + fill * (-len(data) % align)


def place(size: int, *chunks: tuple[int, bytes]) -> bytes:
    """A zero-filled file of at least `size` bytes with each chunk at its offset."""
    end = max([size] + [off + len(b) for off, b in chunks])
    out = bytearray(end)
    for off, b in chunks:
        out[off:off + len(b)] = b
    return bytes(out)


# --- the raw marker and Go quoting ---

def marker(build_id: bytes, quoted: bytes | None = None) -> bytes:
    """The marker the Go linker writes at the start of text; `quoted` is the
    text between the quotes when it should not simply be the ID."""
    return b'\xff Go build ID: "' + (build_id if quoted is None else quoted) + b'"\n \xff'


# --- ELF (System V ABI) ---

PT_LOAD, PT_NOTE = 1, 4
ET_EXEC, ET_REL = 2, 1
SHT_PROGBITS, SHT_STRTAB = 1, 3
EM_X86_64, EM_PPC = 62, 20


def elf_structs(is64: bool, little: bool):
    """(Ehdr, Phdr, Shdr, Nhdr) for one ELF class and byte order."""
    half = Int16ul if little else Int16ub
    word = Int32ul if little else Int32ub
    addr = (Int64ul if little else Int64ub) if is64 else word
    ehdr = Struct("e_ident" / Bytes(16), "e_type" / half, "e_machine" / half, "e_version" / word,
                  "e_entry" / addr, "e_phoff" / addr, "e_shoff" / addr, "e_flags" / word,
                  "e_ehsize" / half, "e_phentsize" / half, "e_phnum" / half,
                  "e_shentsize" / half, "e_shnum" / half, "e_shstrndx" / half)
    if is64:
        phdr = Struct("p_type" / word, "p_flags" / word, "p_offset" / addr, "p_vaddr" / addr,
                      "p_paddr" / addr, "p_filesz" / addr, "p_memsz" / addr, "p_align" / addr)
    else:
        phdr = Struct("p_type" / word, "p_offset" / addr, "p_vaddr" / addr, "p_paddr" / addr,
                      "p_filesz" / addr, "p_memsz" / addr, "p_flags" / word, "p_align" / addr)
    shdr = Struct("sh_name" / word, "sh_type" / word, "sh_flags" / addr, "sh_addr" / addr,
                  "sh_offset" / addr, "sh_size" / addr, "sh_link" / word, "sh_info" / word,
                  "sh_addralign" / addr, "sh_entsize" / addr)
    nhdr = Struct("n_namesz" / word, "n_descsz" / word, "n_type" / word)
    return ehdr, phdr, shdr, nhdr


def elf_ident(is64: bool, little: bool, ei_class: int | None = None) -> bytes:
    cls = ei_class if ei_class is not None else (2 if is64 else 1)
    return b"\x7fELF" + bytes([cls, 1 if little else 2, 1]) + bytes(9)


def elf_header(is64: bool, little: bool, **fields) -> bytes:
    ehdr, phdr, shdr, _ = elf_structs(is64, little)
    values = dict(e_ident=elf_ident(is64, little), e_type=ET_EXEC, e_machine=EM_X86_64,
                  e_version=1, e_entry=0, e_phoff=0, e_shoff=0, e_flags=0,
                  e_ehsize=ehdr.sizeof(), e_phentsize=phdr.sizeof(), e_phnum=0,
                  e_shentsize=shdr.sizeof(), e_shnum=0, e_shstrndx=0)
    values.update(fields)
    return ehdr.build(values)


def elf_note(name: bytes, ntype: int, desc: bytes, *, little: bool = True,
             namesz: int | None = None, descsz: int | None = None) -> bytes:
    """One note: header, name and descriptor each padded to 4 bytes."""
    nhdr = elf_structs(True, little)[3]
    head = nhdr.build(dict(n_namesz=len(name) if namesz is None else namesz,
                           n_descsz=len(desc) if descsz is None else descsz, n_type=ntype))
    return head + pad(name, 4) + pad(desc, 4)


def go_note(build_id: bytes, little: bool = True) -> bytes:
    return elf_note(b"Go\0\0", 4, build_id, little=little)


def gnu_note(desc: bytes, little: bool = True) -> bytes:
    return elf_note(b"GNU\0", 3, desc, little=little)


def elf_with_notes(segment: bytes, *, is64: bool = True, little: bool = True,
                   machine: int = EM_X86_64, note_offset: int | None = None, size: int = 0,
                   phdr: dict | None = None, ehdr: dict | None = None) -> bytes:
    """An executable whose one program header is a PT_NOTE segment holding `segment`."""
    eh, ph, _, _ = elf_structs(is64, little)
    phoff = eh.sizeof()
    if note_offset is None:
        note_offset = phoff + ph.sizeof()
    prog = dict(p_type=PT_NOTE, p_flags=4, p_offset=note_offset, p_vaddr=0x400000 + note_offset,
                p_paddr=0, p_filesz=len(segment), p_memsz=len(segment), p_align=4)
    prog.update(phdr or {})
    header = elf_header(is64, little, **{"e_machine": machine, "e_phoff": phoff, "e_phnum": 1,
                                         **(ehdr or {})})
    return place(size, (0, header), (phoff, ph.build(prog)), (note_offset, segment))


def elf_relocatable(sections: dict[bytes, bytes], *, is64: bool = True, little: bool = True,
                    machine: int = EM_X86_64) -> bytes:
    """An ET_REL object: header, section contents, then the section header table
    (null section, .shstrtab, then one PROGBITS section per entry), as gccgo's
    _buildid.o."""
    eh, _, sh, _ = elf_structs(is64, little)
    contents = [(b".shstrtab", SHT_STRTAB, None), *((n, SHT_PROGBITS, d) for n, d in sections.items())]
    strtab = b"\0" + b"".join(name + b"\0" for name, _, _ in contents)
    headers = [dict(sh_name=0, sh_type=0, sh_offset=0, sh_size=0, sh_addralign=0)]
    body = bytearray(pad(bytes(eh.sizeof()), 8))
    for name, kind, data in contents:
        data = strtab if data is None else data
        headers.append(dict(sh_name=strtab.index(b"\0" + name + b"\0") + 1, sh_type=kind,
                            sh_offset=len(body), sh_size=len(data), sh_addralign=1))
        body += data
    body = bytearray(pad(bytes(body), 8))
    shoff = len(body)
    for h in headers:
        body += sh.build(dict(sh_flags=0, sh_addr=0, sh_link=0, sh_info=0, sh_entsize=0, **h))
    body[:eh.sizeof()] = elf_header(is64, little, e_type=ET_REL, e_machine=machine, e_shoff=shoff,
                                    e_shnum=len(headers), e_shstrndx=1)
    return bytes(body)


# --- Unix ar (ar(5)) ---

def Text(n: int):
    """A fixed-width ASCII field, left-justified and padded with spaces."""
    return ExprAdapter(Bytes(n), lambda obj, ctx: obj.decode("ascii").rstrip(),
                       lambda obj, ctx: str(obj).encode("ascii").ljust(n))


AR_MAGIC = b"!<arch>\n"
ArHeader = Struct("name" / Text(16), "date" / Text(12), "uid" / Text(6), "gid" / Text(6),
                  "mode" / Text(8), "size" / Text(10), "fmag" / Const(b"`\n"))


def ar_member(name: str, data: bytes, size: str | int | None = None) -> bytes:
    """Header, data and the padding byte that keeps the next header at an even offset."""
    head = ArHeader.build(dict(name=name, date=0, uid=0, gid=0, mode=644,
                               size=len(data) if size is None else size))
    return head + pad(data, 2, b"\n")


def ar_archive(*members: bytes) -> bytes:
    return AR_MAGIC + b"".join(members)


def go_archive(header_lines: list[bytes], size: int = 100) -> bytes:
    """A Go package archive: __.PKGDEF member whose data starts with the export header."""
    data = b"".join(line + b"\n" for line in header_lines).ljust(size, b"\n")
    return ar_archive(ar_member("__.PKGDEF", data))


# --- XCOFF (AIX) ---

XCOFF32, XCOFF64 = 0o737, 0o767
C_EXT, XTY_SD, XMC_RW, AUX_CSECT = 2, 1, 5, 251
SYMESZ = 18


def xcoff_structs(is64: bool):
    """(file header, section header, symbol, csect aux entry), all big-endian."""
    if is64:
        filehdr = Struct("f_magic" / Int16ub, "f_nscns" / Int16ub, "f_timdat" / Int32ub,
                         "f_symptr" / Int64ub, "f_opthdr" / Int16ub, "f_flags" / Int16ub,
                         "f_nsyms" / Int32ub)
        scnhdr = Struct("s_name" / Bytes(8), "s_paddr" / Int64ub, "s_vaddr" / Int64ub,
                        "s_size" / Int64ub, "s_scnptr" / Int64ub, "s_relptr" / Int64ub,
                        "s_lnnoptr" / Int64ub, "s_nreloc" / Int32ub, "s_nlnno" / Int32ub,
                        "s_flags" / Int32ub, "s_pad" / Int32ub)
        syment = Struct("n_value" / Int64ub, "n_offset" / Int32ub, "n_scnum" / Int16sb,
                        "n_type" / Int16ub, "n_sclass" / Int8ub, "n_numaux" / Int8ub)
        csect = Struct("x_scnlen_lo" / Int32ub, "x_parmhash" / Int32ub, "x_snhash" / Int16ub,
                       "x_smtyp" / Int8ub, "x_smclas" / Int8ub, "x_scnlen_hi" / Int32ub,
                       "x_pad" / Int8ub, "x_auxtype" / Int8ub)
    else:
        filehdr = Struct("f_magic" / Int16ub, "f_nscns" / Int16ub, "f_timdat" / Int32ub,
                         "f_symptr" / Int32ub, "f_nsyms" / Int32ub, "f_opthdr" / Int16ub,
                         "f_flags" / Int16ub)
        scnhdr = Struct("s_name" / Bytes(8), "s_paddr" / Int32ub, "s_vaddr" / Int32ub,
                        "s_size" / Int32ub, "s_scnptr" / Int32ub, "s_relptr" / Int32ub,
                        "s_lnnoptr" / Int32ub, "s_nreloc" / Int16ub, "s_nlnno" / Int16ub,
                        "s_flags" / Int32ub)
        # n_name: four zero bytes then the offset of the name in the string table
        syment = Struct("n_zeroes" / Const(b"\0\0\0\0"), "n_offset" / Int32ub, "n_value" / Int32ub,
                        "n_scnum" / Int16sb, "n_type" / Int16ub, "n_sclass" / Int8ub,
                        "n_numaux" / Int8ub)
        csect = Struct("x_scnlen_lo" / Int32ub, "x_parmhash" / Int32ub, "x_snhash" / Int16ub,
                       "x_smtyp" / Int8ub, "x_smclas" / Int8ub, "x_stab" / Int32ub,
                       "x_snstab" / Int16ub)
    return filehdr, scnhdr, syment, csect


def xcoff_object(name: bytes, value: bytes, *, is64: bool = True) -> bytes:
    """An object with one .data section holding `value` as the csect `name`,
    eight bytes into a section whose virtual address is not 0."""
    filehdr, scnhdr, syment, csect = xcoff_structs(is64)
    vaddr, lead = 0x200, b"\xaa" * 8
    data = pad(lead + value, 4)
    scnptr = filehdr.sizeof() + scnhdr.sizeof()
    symptr = scnptr + len(data)
    strtab_names = b"\0" * 4 + name + b"\0"  # the length word, then NUL-terminated names
    strtab = struct.pack(">I", len(strtab_names)) + strtab_names[4:]
    sym = dict(n_value=vaddr + len(lead), n_offset=4, n_scnum=1, n_type=0, n_sclass=C_EXT,
               n_numaux=1)
    aux = dict(x_scnlen_lo=len(value), x_parmhash=0, x_snhash=0, x_smtyp=XTY_SD,
               x_smclas=XMC_RW, x_scnlen_hi=0, x_pad=0, x_auxtype=AUX_CSECT, x_stab=0,
               x_snstab=0)
    header = filehdr.build(dict(f_magic=XCOFF64 if is64 else XCOFF32, f_nscns=1, f_timdat=0,
                                f_symptr=symptr, f_opthdr=0, f_flags=0, f_nsyms=2))
    section = scnhdr.build(dict(s_name=b".data\0\0\0", s_paddr=vaddr, s_vaddr=vaddr, s_size=len(data),
                                s_scnptr=scnptr, s_relptr=0, s_lnnoptr=0, s_nreloc=0, s_nlnno=0,
                                s_flags=0x40, s_pad=0))
    return header + section + data + syment.build(sym) + csect.build(aux) + strtab


# --- AIX big archive (ar_big(4)) ---

BIGAF_MAGIC = b"<bigaf>\n"
BigHeader = Struct("magic" / Const(BIGAF_MAGIC), "memoff" / Text(20), "gstoff" / Text(20),
                   "gst64off" / Text(20), "fstmoff" / Text(20), "lstmoff" / Text(20),
                   "freeoff" / Text(20))
BigMember = Struct("size" / Text(20), "nxtmem" / Text(20), "prvmem" / Text(20),
                   "date" / Text(12), "uid" / Text(12), "gid" / Text(12), "mode" / Text(12),
                   "namlen" / Text(4))


def big_member(name: bytes, data: bytes, nxtmem: int | str, prvmem: int | str) -> bytes:
    """Header, name padded to even, "`\\n", then the data (padded to even)."""
    head = BigMember.build(dict(size=len(data), nxtmem=nxtmem, prvmem=prvmem, date=0, uid=0,
                                gid=0, mode=644, namlen=len(name)))
    return head + pad(name, 2) + b"`\n" + pad(data, 2)


def big_archive(members: list[tuple[bytes, bytes]], *, fstmoff: int | str | None = None,
                links: dict[int, int | str] | None = None) -> bytes:
    """Members linked in order; `links` overrides member i's next-member offset."""
    offsets, off = [], BigHeader.sizeof()
    for name, data in members:
        offsets.append(off)
        off += BigMember.sizeof() + len(pad(name, 2)) + 2 + len(pad(data, 2))
    out = BigHeader.build(dict(memoff=0, gstoff=0, gst64off=0,
                               fstmoff=offsets[0] if fstmoff is None else fstmoff,
                               lstmoff=offsets[-1], freeoff=0))
    for i, (name, data) in enumerate(members):
        nxt = offsets[i + 1] if i + 1 < len(members) else 0
        nxt = (links or {}).get(i, nxt)
        out += big_member(name, data, nxt, offsets[i - 1] if i else 0)
    return out


# --- Mach-O (<mach-o/loader.h>, <mach-o/fat.h>) ---

MH_MAGIC_64, MH_EXECUTE, LC_SEGMENT_64 = 0xFEEDFACF, 2, 0x19
CPU_AMD64, CPU_ARM64 = 0x01000007, 0x0100000C

MachHeader64 = Struct("magic" / Int32ul, "cputype" / Int32sl, "cpusubtype" / Int32sl,
                      "filetype" / Int32ul, "ncmds" / Int32ul, "sizeofcmds" / Int32ul,
                      "flags" / Int32ul, "reserved" / Int32ul)
SegmentCommand64 = Struct("cmd" / Int32ul, "cmdsize" / Int32ul, "segname" / Bytes(16),
                          "vmaddr" / Int64ul, "vmsize" / Int64ul, "fileoff" / Int64ul,
                          "filesize" / Int64ul, "maxprot" / Int32sl, "initprot" / Int32sl,
                          "nsects" / Int32ul, "flags" / Int32ul)
Section64 = Struct("sectname" / Bytes(16), "segname" / Bytes(16), "addr" / Int64ul,
                   "size" / Int64ul, "offset" / Int32ul, "align" / Int32ul, "reloff" / Int32ul,
                   "nreloc" / Int32ul, "flags" / Int32ul, "reserved1" / Int32ul,
                   "reserved2" / Int32ul, "reserved3" / Int32ul)
FatHeader = Struct("magic" / Int32ub, "nfat_arch" / Int32ub)
FatArch = Struct("cputype" / Int32sb, "cpusubtype" / Int32sb, "offset" / Int32ub,
                 "size" / Int32ub, "align" / Int32ub)


def seg_name(name: str) -> bytes:
    return name.encode().ljust(16, b"\0")


def macho_thin(text: bytes, *, text_offset: int = 0x9000, cputype: int = CPU_AMD64,
               header: dict | None = None, segment: dict | None = None) -> bytes:
    """A 64-bit executable with one __TEXT segment whose one section, __text,
    starts at `text_offset` (past the first 32 KiB by default)."""
    sect = Section64.build(dict(sectname=seg_name("__text"), segname=seg_name("__TEXT"),
                                addr=0x100000000 + text_offset, size=len(text),
                                offset=text_offset, align=4, reloff=0, nreloc=0,
                                flags=0x80000400, reserved1=0, reserved2=0, reserved3=0))
    cmdsize = SegmentCommand64.sizeof() + len(sect)
    seg = dict(cmd=LC_SEGMENT_64, cmdsize=cmdsize, segname=seg_name("__TEXT"),
               vmaddr=0x100000000, vmsize=text_offset + len(text), fileoff=0,
               filesize=text_offset + len(text), maxprot=5, initprot=5, nsects=1, flags=0)
    seg.update(segment or {})
    hdr = dict(magic=MH_MAGIC_64, cputype=cputype, cpusubtype=3, filetype=MH_EXECUTE, ncmds=1,
               sizeofcmds=cmdsize, flags=0, reserved=0)
    hdr.update(header or {})
    commands = SegmentCommand64.build(seg) + sect
    return place(0, (0, MachHeader64.build(hdr)), (MachHeader64.sizeof(), commands),
                 (text_offset, text))


def macho_fat(slices: list[tuple[int, bytes]], *, align: int = 12,
              arches: list[dict] | None = None, nfat_arch: int | None = None) -> bytes:
    """A universal file; `arches` overrides fields of each fat_arch entry."""
    off, table, chunks = 0x1000, [], []
    for i, (cputype, data) in enumerate(slices):
        off = -(-off // (1 << align)) * (1 << align)
        arch = dict(cputype=cputype, cpusubtype=3, offset=off, size=len(data), align=align)
        arch.update((arches or [{}] * len(slices))[i])
        table.append(FatArch.build(arch))
        chunks.append((off, data))
        off += len(data)
    head = FatHeader.build(dict(magic=0xCAFEBABE,
                                nfat_arch=len(slices) if nfat_arch is None else nfat_arch))
    return place(0, (0, head + b"".join(table)), *chunks)


# --- PE (PE/COFF specification) ---

PE_LFANEW = 0x80
CoffHeader = Struct("Machine" / Int16ul, "NumberOfSections" / Int16ul, "TimeDateStamp" / Int32ul,
                    "PointerToSymbolTable" / Int32ul, "NumberOfSymbols" / Int32ul,
                    "SizeOfOptionalHeader" / Int16ul, "Characteristics" / Int16ul)
SectionHeader = Struct("Name" / Bytes(8), "VirtualSize" / Int32ul, "VirtualAddress" / Int32ul,
                       "SizeOfRawData" / Int32ul, "PointerToRawData" / Int32ul,
                       "PointerToRelocations" / Int32ul, "PointerToLinenumbers" / Int32ul,
                       "NumberOfRelocations" / Int16ul, "NumberOfLinenumbers" / Int16ul,
                       "Characteristics" / Int32ul)


def pe_file(text: bytes, text_offset: int) -> bytes:
    """An amd64 image (no optional header) with one .text section at `text_offset`."""
    dos = b"MZ" + bytes(0x3A) + struct.pack("<I", PE_LFANEW)
    coff = CoffHeader.build(dict(Machine=0x8664, NumberOfSections=1, TimeDateStamp=0,
                                 PointerToSymbolTable=0, NumberOfSymbols=0,
                                 SizeOfOptionalHeader=0, Characteristics=0x22))
    raw = pad(text, 0x200)
    sect = SectionHeader.build(dict(Name=b".text\0\0\0", VirtualSize=len(text),
                                    VirtualAddress=0x1000, SizeOfRawData=len(raw),
                                    PointerToRawData=text_offset, PointerToRelocations=0,
                                    PointerToLinenumbers=0, NumberOfRelocations=0,
                                    NumberOfLinenumbers=0, Characteristics=0x60000020))
    return place(0, (0, dos), (PE_LFANEW, b"PE\0\0" + coff + sect), (text_offset, raw))


# --- WebAssembly ---

def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def wasm_section(sid: int, body: bytes, size: int | None = None) -> bytes:
    return bytes([sid]) + uleb(len(body) if size is None else size) + body


WASM_HEADER = b"\0asm\x01\0\0\0"


# ============================================================================
# ELF

GO_ID = b"abcdefghijklmnopqrst/ABCDEFGHIJKLMNOPQRST"


@pytest.mark.parametrize("is64,little,machine,arch", [
    (True, True, EM_X86_64, "amd64"),
    (False, False, EM_PPC, "ppc"),
], ids=["elf64-le", "elf32-be"])
def test_elf_go_note(tmp_path, reference, is64, little, machine, arch):
    data = elf_with_notes(go_note(GO_ID, little), is64=is64, little=little, machine=machine)
    path = write(tmp_path, "prog", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.arch, info.raw_build_id) == ("elf", arch, GO_ID)
    assert list(info.locations) == [data.index(GO_ID)]
    assert data.index(GO_ID) % 4 == 0  # the descriptor follows the 16-byte header and name
    go_compatible(path, reference, GO_ID)


def test_elf_note_segment_past_first_32k(tmp_path, reference):
    note_at = 0x11000
    data = elf_with_notes(go_note(GO_ID), note_offset=note_at, size=0x12000)
    assert len(data) > 64 * 1024
    path = write(tmp_path, "prog", data)
    info = buildidtool.read(str(path))
    assert info.raw_build_id == GO_ID
    assert list(info.locations) == [note_at + 16]
    go_compatible(path, reference, GO_ID)


def test_elf_go_note_after_gnu_note(tmp_path, reference):
    gnu = bytes(range(0xE0, 0xF4))
    segment = gnu_note(gnu) + go_note(GO_ID)
    data = elf_with_notes(segment)
    path = write(tmp_path, "prog", data)
    info = buildidtool.read(str(path))
    assert info.raw_build_id == GO_ID
    assert list(info.locations) == [data.index(GO_ID)]
    assert (info.host_build_id.kind, info.host_build_id.hex) == ("gnu", gnu.hex())
    go_compatible(path, reference, GO_ID)


def test_elf_binary_gnu_build_id_only(tmp_path, reference):
    gnu = bytes([0x00, 0x0A, 0xFF, 0x80]) + bytes(range(0x90, 0xA0))  # a newline and NULs too
    path = write(tmp_path, "prog", elf_with_notes(gnu_note(gnu)))
    info = buildidtool.read(str(path))
    assert (info.format, info.build_id, info.raw_build_id) == ("elf", None, None)
    assert (info.host_build_id.kind, info.host_build_id.hex) == ("gnu", gnu.hex())
    go_compatible(path, reference, gnu)  # the Go tool prints any GNU build ID, raw


# ============================================================================
# gccgo archives

def gccgo_archive(build_id: bytes, first: bytes = b"package data, odd length") -> bytes:
    obj = elf_relocatable({b".text": b"\x90" * 3, b".go.buildid": build_id})
    return ar_archive(ar_member("p.o/", first), ar_member("_buildid.o/", obj),
                      ar_member("other.o/", b"x"))


@pytest.mark.parametrize("first", [b"odd length data", b"even length data"])
def test_gccgo_archive(tmp_path, reference, first):
    data = gccgo_archive(b"abc/def", first)
    assert len(ar_member("p.o/", first)) % 2 == 0  # odd data gets one byte of padding
    path = write(tmp_path, "libp.a", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.arch, info.build_id) == ("gccgo-archive", "amd64", "abc/def")
    assert list(info.locations) == [data.index(b"abc/def")]
    go_compatible(path, reference, b"abc/def")


def test_gccgo_archive_without_buildid_member(tmp_path, reference):
    path = write(tmp_path, "libc.a", ar_archive(ar_member("a.o/", b"abc"), ar_member("b.o/", b"")))
    info = buildidtool.read(str(path))
    assert (info.format, info.build_id) == ("unknown", None)
    go_compatible(path, reference, b"")


# ============================================================================
# AIX big archives and XCOFF

@pytest.mark.parametrize("is64,arch", [(True, "ppc64"), (False, "ppc")], ids=["xcoff64", "xcoff32"])
def test_aix_big_archive(tmp_path, reference, is64, arch):
    build_id = b"aix/action/content"
    obj = xcoff_object(b".go.buildid", build_id, is64=is64)
    data = big_archive([(b"first.o", b"\x01" * 7), (b"_buildid.o", obj), (b"last.o", b"z")])
    path = write(tmp_path, "libp.a", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.arch, info.raw_build_id) == ("aix-big-archive", arch, build_id)
    assert list(info.locations) == [data.index(build_id)]
    go_compatible(path, reference, build_id)


def test_aix_big_archive_without_buildid_member(tmp_path, reference):
    path = write(tmp_path, "libc.a", big_archive([(b"a.o", b"aa"), (b"b.o", b"b")]))
    info = buildidtool.read(str(path))
    assert (info.format, info.build_id) == ("aix-big-archive", None)
    go_compatible(path, reference, b"")


# ============================================================================
# Go package archives

PKGDEF_HEADER = b"__.PKGDEF       0           0     0     644     100       `"


def test_go_archive_header_layout():
    # The builder writes exactly the header the Go toolchain writes.
    assert go_archive([b"go object linux amd64 go1.27 X:none"])[8:68] == PKGDEF_HEADER + b"\n"


def test_go_archive(tmp_path, reference):
    data = go_archive([b"go object linux amd64 go1.27 X:none", b'build id "aaa/bbb"', b"main"])
    path = write(tmp_path, "p.a", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.arch, info.build_id) == ("go-archive", "amd64", "aaa/bbb")
    assert list(info.locations) == [data.index(b"aaa/bbb")]
    go_compatible(path, reference, b"aaa/bbb")


def test_go_archive_without_build_id_line(tmp_path, reference):
    path = write(tmp_path, "p.a", go_archive([b"go object linux amd64 go1.27 X:none", b"main"]))
    info = buildidtool.read(str(path))
    assert (info.format, info.build_id) == ("go-archive", None)
    go_compatible(path, reference, b"")


def test_go_archive_badly_quoted_id_falls_back_to_gccgo(tmp_path, reference):
    data = go_archive([b"go object linux amd64 go1.27 X:none", b'build id "aaa\\qbbb"', b"main"])
    path = write(tmp_path, "p.a", data)
    info = buildidtool.read(str(path))
    assert info.build_id is None  # parsed as a gccgo archive, which has no _buildid.o
    go_compatible(path, reference, b"")


# ============================================================================
# PE and Mach-O: the marker at the start of text, past the first 32 KiB

def test_pe_marker_at_start_of_text_past_32k(tmp_path, reference):
    text_at = PREFIX + 0x200
    data = pe_file(marker(GO_ID) + b"\xcc" * 64, text_at)
    path = write(tmp_path, "prog.exe", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.arch, info.raw_build_id) == ("pe", "amd64", GO_ID)
    assert list(info.locations) == [text_at + len(b'\xff Go build ID: "')]
    go_compatible(path, reference, b"")  # the Go tool reads only the first 32 KiB


def test_pe_marker_in_first_32k(tmp_path, reference):
    data = pe_file(marker(GO_ID), 0x400)
    path = write(tmp_path, "prog.exe", data)
    assert buildidtool.read(str(path)).raw_build_id == GO_ID
    go_compatible(path, reference, GO_ID)


def test_macho_marker_at_start_of_text_past_32k(tmp_path, reference):
    data = macho_thin(marker(GO_ID) + b"\xcc" * 64)
    assert data.index(GO_ID) > PREFIX
    path = write(tmp_path, "prog", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.arch, info.raw_build_id) == ("macho", "amd64", GO_ID)
    assert list(info.locations) == [data.index(GO_ID)]
    go_compatible(path, reference, GO_ID)  # the Go tool parses Mach-O for __text


def test_macho_universal(tmp_path, reference):
    ids = [b"aaaa/1111", b"bbbb/2222"]
    slices = [(CPU_AMD64, macho_thin(marker(ids[0]), cputype=CPU_AMD64)),
              (CPU_ARM64, macho_thin(marker(ids[1]), cputype=CPU_ARM64))]
    data = macho_fat(slices)
    path = write(tmp_path, "prog", data)
    info = buildidtool.read(str(path))
    assert info.format == "macho-fat"
    assert [(s.arch, s.raw_build_id) for s in info.slices] == [("amd64", ids[0]), ("arm64", ids[1])]
    assert [list(s.locations) for s in info.slices] == [[data.index(i)] for i in ids]
    second = 0x1000 + -(-len(slices[0][1]) // 0x1000) * 0x1000
    assert [(s.span.offset, s.span.size) for s in info.slices] == [(0x1000, len(slices[0][1])), (second, len(slices[1][1]))]
    out = run("read", path)
    assert out.returncode == 0
    assert out.stdout.decode().splitlines() == [f"{path} [amd64]: aaaa/1111", f"{path} [arm64]: bbbb/2222"]
    go_compatible(path, reference, b"")  # the Go tool scans a universal file's first 32 KiB only


# ============================================================================
# Go quoting of the raw marker

QUOTED = [
    (b"\\x41\\101\\u00e9\\\"z", b'AA\xc3\xa9"z'),
    (b"a\\tb\\\\c\\U0001F600", b"a\tb\\c\xf0\x9f\x98\x80"),
    (b"\\xff\\000/x", b"\xff\x00/x"),
]


@pytest.mark.parametrize("quoted,value", QUOTED, ids=["hex-octal-u-quote", "tab-backslash-U", "bytes"])
def test_marker_go_quoting(tmp_path, reference, quoted, value):
    data = b"not an object file\n" * 3 + marker(b"", quoted) + b"tail"
    path = write(tmp_path, "blob", data)
    info = buildidtool.read(str(path))
    assert (info.format, info.raw_build_id) == ("unknown", value)
    assert list(info.locations) == [data.index(quoted)]
    go_compatible(path, reference, value)
