"""Mach-O ad hoc code signatures as the Go linker writes them: one SuperBlob
holding one CodeDirectory, identifier "a.out", a SHA-256 per 4096-byte page of
the file up to the signature. Also a checker for any CodeDirectory's page hashes."""
from __future__ import annotations

import os

import hashlib
import struct
from collections.abc import Callable

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
IDENTIFIER = b"a.out"

CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSSLOT_CODEDIRECTORY = 0
CS_HASHTYPE_SHA1, CS_HASHTYPE_SHA256 = 1, 2
CS_ADHOC, CS_LINKER_SIGNED = 0x2, 0x20000
# Set by signers other than Go's linker (codesign, rcodesign): the CMS blob, hardened runtime.
CSSLOT_SIGNATURESLOT = 0x10000
CS_RUNTIME = 0x10000
CS_EXECSEG_MAIN_BINARY = 0x1
CD_VERSION = 0x20400

SUPER_BLOB = ">III"      # magic length count
BLOB_INDEX = ">II"       # type offset
CODE_DIRECTORY = ">IIIIIIIIIBBBBIIIIQQQQ"
# magic length version flags hashOffset identOffset nSpecialSlots nCodeSlots codeLimit
# hashSize hashType platform pageSize spare2 scatterOffset teamOffset spare3
# codeLimit64 execSegBase execSegLimit execSegFlags
HEADER_SIZE = struct.calcsize(SUPER_BLOB) + struct.calcsize(BLOB_INDEX)
CD_SIZE = struct.calcsize(CODE_DIRECTORY)

ReadRange = Callable[[int, int], bytes]  # (offset, n) -> at most n bytes


def _pages(code_size: int) -> int:
    return (code_size + PAGE_SIZE - 1) >> PAGE_SHIFT


def size(code_size: int, ident: bytes = IDENTIFIER) -> int:
    """The byte size of the signature Go writes for `code_size` bytes of file."""
    return HEADER_SIZE + CD_SIZE + len(ident) + 1 + _pages(code_size) * 32


def sign(read: ReadRange, code_size: int, text_offset: int, text_size: int, is_exec: bool,
         ident: bytes = IDENTIFIER) -> bytes:
    total = size(code_size, ident)
    npages = _pages(code_size)
    hash_offset = CD_SIZE + len(ident) + 1
    out = bytearray(struct.pack(SUPER_BLOB, CSMAGIC_EMBEDDED_SIGNATURE, total, 1))
    out += struct.pack(BLOB_INDEX, CSSLOT_CODEDIRECTORY, HEADER_SIZE)
    out += struct.pack(CODE_DIRECTORY, CSMAGIC_CODEDIRECTORY, total - HEADER_SIZE, CD_VERSION,
                       CS_ADHOC | CS_LINKER_SIGNED, hash_offset, CD_SIZE, 0, npages,
                       code_size & 0xFFFFFFFF, 32, CS_HASHTYPE_SHA256, 0, PAGE_SHIFT, 0, 0, 0, 0,
                       0, text_offset, text_size, CS_EXECSEG_MAIN_BINARY if is_exec else 0)
    out += ident + b"\0"
    for p in range(0, code_size, PAGE_SIZE):
        chunk = read(p, min(PAGE_SIZE, code_size - p))
        if not chunk:
            break  # the file ends early: the remaining slots stay zero, as Go leaves them
        out += hashlib.sha256(chunk).digest()
        if len(chunk) < min(PAGE_SIZE, code_size - p):
            break
    out += bytes(total - len(out))
    return bytes(out)


class PageCheck:
    """The outcome of checking a CodeDirectory's page hashes against the file."""

    __slots__ = ("pages", "mismatched", "hash_type", "identifier")

    def __init__(self, pages: int, mismatched: list[int], hash_type: int, identifier: bytes):
        self.pages = pages
        self.mismatched = mismatched  # indexes of pages whose hash differs
        self.hash_type = hash_type
        self.identifier = identifier

    @property
    def ok(self) -> bool:
        return not self.mismatched


_HASHES = {CS_HASHTYPE_SHA1: ("sha1", 20), CS_HASHTYPE_SHA256: ("sha256", 32)}


# An embedded signature larger than this is not one a linker or codesign writes: not read.
MAX_SIGNATURE = 64 << 20


def check_file(fd: int, signature, base: int, pread=os.pread) -> PageCheck | None:
    """check_pages for the signature at `signature` (a Span, file offsets) of
    the unit starting at file offset `base` of the open file; None when there
    is no CodeDirectory we can read. `pread`: how fd is read (a Source's)."""
    if signature.size > MAX_SIGNATURE:
        return None
    return check_pages(pread(fd, signature.size, signature.offset),
                       lambda off, n: pread(fd, n, base + off))


def check_pages(blob: bytes, read: ReadRange) -> PageCheck | None:
    """Check the page hashes of the CodeDirectory in `blob` (an embedded
    signature); None when the blob is not one we can read."""
    if len(blob) < 12:
        return None
    magic, _, count = struct.unpack_from(SUPER_BLOB, blob)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE or count > (len(blob) - 12) // 8:
        return None
    for i in range(count):
        typ, off = struct.unpack_from(BLOB_INDEX, blob, 12 + 8 * i)
        if typ != CSSLOT_CODEDIRECTORY:
            continue
        if off + 44 > len(blob):
            return None
        (cd_magic, _, _, _, hash_off, ident_off, _, nslots, limit, hsize, htype, _, pshift) = \
            struct.unpack_from(">IIIIIIIIIBBBB", blob, off)
        if cd_magic != CSMAGIC_CODEDIRECTORY or htype not in _HASHES or _HASHES[htype][1] != hsize:
            return None
        if not 0 < pshift < 32 or off + hash_off + nslots * hsize > len(blob):
            return None
        end = blob.find(b"\0", off + ident_off)
        ident = blob[off + ident_off:end] if end >= 0 else b""
        algo = _HASHES[htype][0]
        page = 1 << pshift
        bad = []
        for k in range(nslots):
            n = min(page, limit - k * page)
            data = read(k * page, n) if n > 0 else b""
            want = blob[off + hash_off + k * hsize:off + hash_off + (k + 1) * hsize]
            if hashlib.new(algo, data).digest() != want:
                bad.append(k)
        return PageCheck(nslots, bad, htype, ident)
    return None


def describe(blob: bytes) -> tuple[list[int], int] | None:
    """(slot types of the blobs, flags of the code directory) of an embedded
    signature, or None when `blob` is not one."""
    if len(blob) < 12:
        return None
    magic, _, count = struct.unpack_from(SUPER_BLOB, blob)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE or count > (len(blob) - 12) // 8:
        return None
    slots, flags = [], 0
    for i in range(count):
        typ, off = struct.unpack_from(BLOB_INDEX, blob, 12 + 8 * i)
        slots.append(typ)
        if typ == CSSLOT_CODEDIRECTORY and off + 16 <= len(blob):
            flags = struct.unpack_from(">I", blob, off + 12)[0]
    return slots, flags
