"""Naming a container by its first bytes, without importing any parser: the
Go-compatible read imports only the one module the file needs."""
from __future__ import annotations

import struct

AR = b"!<arch>\n"
BIGAF = b"<bigaf>\n"
ELF = b"\x7fELF"
MACHO = {  # first four bytes -> (byte order, 64-bit)
    b"\xfe\xed\xfa\xce": (">", False), b"\xfe\xed\xfa\xcf": (">", True),
    b"\xce\xfa\xed\xfe": ("<", False), b"\xcf\xfa\xed\xfe": ("<", True),
}
FAT = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
WASM = b"\0asm"
DOS = b"MZ"
PE_SIGNATURE = b"PE\0\0"
E_LFANEW = 0x3C
XCOFF = {0o737: "ppc", 0o767: "ppc64"}  # U802TOCMAGIC, U64_TOCMAGIC
# Plan 9 a.out: magic = (4*b + 0)*b + 7, HDR_MAGIC (0x8000) set for 64-bit entry points
PLAN9 = {0x000001EB: "386", 0x00008A97: "amd64", 0x00000647: "arm"}


def pe_header_offset(head: bytes) -> int | None:
    if head[:2] != DOS or len(head) < E_LFANEW + 4:
        return None
    lfanew = struct.unpack_from("<I", head, E_LFANEW)[0]
    return lfanew if head[lfanew:lfanew + 4] == PE_SIGNATURE else None


def xcoff_magic(head: bytes) -> int | None:
    m = struct.unpack_from(">H", head)[0] if len(head) >= 2 else None
    return m if m in XCOFF else None


def plan9_arch(head: bytes) -> str | None:
    return PLAN9.get(struct.unpack_from(">I", head)[0]) if len(head) >= 32 else None


# Every magic above begins with one of these bytes (XCOFF and Plan 9 magics are
# big-endian numbers below 0x200): most files in a tree are ruled out by one test.
FIRST_BYTES = frozenset(m[:1] for m in (AR, BIGAF, ELF, *MACHO, *FAT, WASM, DOS)) | {b"\0", b"\1"}


def sniff(head: bytes) -> str:
    """The container format named by the first bytes (at most 32 KiB) of a file."""
    if head[:1] not in FIRST_BYTES:
        return "unknown"
    if head.startswith(AR):
        return "ar"
    if head.startswith(BIGAF):
        return "aix-big-archive"
    if head.startswith(ELF):
        return "elf"
    if head[:4] in MACHO:
        return "macho"
    if head[:4] in FAT and len(head) >= 8:
        return "macho-fat"
    if head.startswith(WASM):
        return "wasm"
    if pe_header_offset(head) is not None:
        return "pe"
    if xcoff_magic(head) is not None and len(head) >= 20:
        return "xcoff"
    if plan9_arch(head) is not None:
        return "plan9"
    return "unknown"
