"""Mach-O ad hoc signatures after a rewrite: page hashes checked by our code and,
independently, through lief (which locates the signature) and a construct parse
of the CodeDirectory written here from Apple's layout."""
from __future__ import annotations

import hashlib
import os

import pytest
from construct import Int8ub, Int32ub, Int64ub, Struct

import buildidtool
from buildidtool import codesign
from helpers import flip_byte, run

CodeDirectory = Struct(
    "magic" / Int32ub, "length" / Int32ub, "version" / Int32ub, "flags" / Int32ub,
    "hashOffset" / Int32ub, "identOffset" / Int32ub, "nSpecialSlots" / Int32ub,
    "nCodeSlots" / Int32ub, "codeLimit" / Int32ub, "hashSize" / Int8ub, "hashType" / Int8ub,
    "platform" / Int8ub, "pageSize" / Int8ub, "spare2" / Int32ub, "scatterOffset" / Int32ub,
    "teamOffset" / Int32ub, "spare3" / Int32ub, "codeLimit64" / Int64ub,
    "execSegBase" / Int64ub, "execSegLimit" / Int64ub, "execSegFlags" / Int64ub,
)
SuperBlob = Struct("magic" / Int32ub, "length" / Int32ub, "count" / Int32ub,
                   "type" / Int32ub, "offset" / Int32ub)


def lief_check(path) -> tuple[int, int]:
    """(pages, bad pages) using lief for the signature location and our own
    construct structs for its contents."""
    lief = pytest.importorskip("lief")
    binary = lief.MachO.parse(str(path)).at(0)
    sig = binary.code_signature
    blob = bytes(sig.content)
    sb = SuperBlob.parse(blob)
    assert sb.magic == 0xFADE0CC0 and sb.type == 0
    cd = CodeDirectory.parse(blob[sb.offset:])
    assert cd.magic == 0xFADE0C02 and cd.hashType == 2
    ident = blob[sb.offset + cd.identOffset:].split(b"\0")[0]
    assert ident == b"a.out"
    data = path.read_bytes()
    assert cd.codeLimit == sig.data_offset
    page = 1 << cd.pageSize
    bad = 0
    for k in range(cd.nCodeSlots):
        want = blob[sb.offset + cd.hashOffset + 32 * k:][:32]
        got = hashlib.sha256(data[k * page:min((k + 1) * page, cd.codeLimit)]).digest()
        bad += want != got
    text = next(s for s in binary.segments if s.name == "__TEXT")
    assert (cd.execSegBase, cd.execSegLimit) == (text.file_offset, text.file_size)
    return cd.nCodeSlots, bad


def our_check(path):
    info = buildidtool.read(str(path))
    sig = info.code_signature
    off, size = sig.offset, sig.size
    fd = os.open(path, os.O_RDONLY)
    try:
        blob = os.pread(fd, size, off)
        return codesign.check_pages(blob, lambda o, n: os.pread(fd, n, o))
    finally:
        os.close(fd)


def test_tampered_then_rewritten_signature_matches_pages(tmp_copy):
    f = tmp_copy("hello-darwin-arm64")
    assert our_check(f).ok and lief_check(f)[1] == 0  # as the linker left it
    flip_byte(f)
    assert not our_check(f).ok
    pages, bad = lief_check(f)
    assert bad == 1
    assert run("-w", f).returncode == 0
    check = our_check(f)
    assert check.ok and check.pages == pages and check.identifier == b"a.out"
    assert lief_check(f) == (pages, 0)


def test_signature_size_formula_matches_the_linker(samples):
    sig = buildidtool.read(str(samples.path("hello-darwin-arm64"))).code_signature
    off, size = sig.offset, sig.size
    assert codesign.size(off) == size
    # Go's internal linker signs only darwin/arm64 executables.
    assert buildidtool.read(str(samples.path("hello-darwin-amd64"))).code_signature is None


def test_foreign_signature_size_is_left_alone(tmp_copy):
    """A signature of another size was not made by Go: a rewrite must not touch it."""
    f = tmp_copy("hello-darwin-arm64")
    info = buildidtool.read(str(f))
    sig = info.code_signature
    off, size = sig.offset, sig.size
    data = bytearray(f.read_bytes())
    # Shrink LC_CODE_SIGNATURE's datasize by 4: same bytes, "foreign" size.
    import struct
    i = data.find(struct.pack("<IIII", 0x1D, 16, off, size))
    assert i > 0
    data[i + 12:i + 16] = struct.pack("<I", size - 4)
    flip_byte_at = len(data) // 2
    data[flip_byte_at] ^= 0x5A
    f.write_bytes(bytes(data))
    sig_before = bytes(data[off:off + size])
    assert run("-w", f).returncode == 0
    after = f.read_bytes()
    assert after[off:off + size] == sig_before
    assert after != bytes(data)  # the build ID itself was rewritten
