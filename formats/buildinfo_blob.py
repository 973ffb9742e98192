"""Finding the build info blob the Go linker leaves in an executable. Every
fact about the container comes from its format module's Image (formats.image):
where to search (`buildinfo()`, `legacy_buildinfo()`) and reading by address
(`memory()`), as Go's debug/buildinfo asks its `exe` interface; this module
parses no container headers.

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

import struct

from . import image, slices
from .errors import FormatError
from .kinds import THIN, UNIVERSAL
from .magic import sniff
from .memory import AddressSpace
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


# --- wasm -------------------------------------------------------------------

def _wasm_blob(img) -> Blob | None:
    mem = img.memory()
    if mem is None:
        return None
    version = img.go_version()

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
    from . import wasm  # parser modules load on first use (formats/__init__)
    img = wasm.image(src)
    version = img.go_version()
    data = img.bodies().get(wasm.WASM_DATA)
    if version is None or data is None:
        return None
    body, size = data
    overlap = 1 << 16  # a module text longer than this is cut, not missed
    pos, end = body, body + size
    while pos < end:
        n = min(wasm.SEGMENT_BUFFER + overlap, end - pos)
        chunk = src.read_at(pos, n, "wasm data section")
        i = chunk.find(INFO_START)
        if i >= 0:
            j = chunk.find(INFO_END, i + len(INFO_START))
            return version, (chunk[i + len(INFO_START):j] if j >= 0 else None)
        pos += wasm.SEGMENT_BUFFER
    return version, None


def _string_header(mem, targets: list[int], check) -> int | None:
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


# --- the blob's two strings (debug/buildinfo's readRawBuildInfo) ------------

MAX_VARINT_LEN = 10


def _uvarint(b: bytes) -> tuple[int, int]:
    """encoding/binary.Uvarint: (value, bytes used); n == 0 when b ends first,
    n < 0 on overflow."""
    x = s = 0
    for i, c in enumerate(b):
        if i == MAX_VARINT_LEN:
            return 0, -(i + 1)
        if c < 0x80:
            if i == MAX_VARINT_LEN - 1 and c > 1:
                return 0, -(i + 1)
            return x | c << s, i + 1
        x |= (c & 0x7F) << s
        s += 7
    return 0, 0


def _inline_string(blob: Blob, addr: int, what: str) -> tuple[bytes, int]:
    head = blob.read(addr, MAX_VARINT_LEN, f"{what} length")
    if not head:
        raise FormatError(f"build info: {what} at address {addr:#x} lies outside the data")
    length, n = _uvarint(head)
    if n == 0 and len(head) < MAX_VARINT_LEN:
        raise FormatError(f"build info: {what} length at address {addr:#x} is cut off by the end of the data")
    if n <= 0:
        raise FormatError(f"build info: {what} length at address {addr:#x} is not a valid varint")
    addr += n
    have = blob.available(addr) if length else 0
    if length > have:
        raise FormatError(f"build info: {what} of {length} bytes at address {addr:#x} runs past "
                          f"the end of the data ({have} bytes left)")
    return blob.read(addr, length, what), addr + length


def _pointed_string(blob: Blob, addr: int, what: str) -> bytes:
    size = blob.ptr_size
    hdr = blob.read(addr, 2 * size, f"{what} string header")
    if len(hdr) < 2 * size:
        raise FormatError(f"build info: the {what} string header at address {addr:#x} is not in the file")
    data, length = blob.unpack_ptr(hdr), blob.unpack_ptr(hdr[size:])
    if length == 0:
        return b""
    have = blob.available(data)
    if length > have:
        raise FormatError(f"build info: the {what} ({length} bytes at address {data:#x}) runs past "
                          f"the data the file maps there ({have} bytes)")
    return blob.read(data, length, what)


def decode_blob(blob: Blob) -> tuple[bytes, bytes]:
    """(Go version, module info with its sentinels removed), as
    debug/buildinfo's readRawBuildInfo. FormatError when the blob is broken."""
    if blob.inline:
        vers, after = _inline_string(blob, blob.strings_address, "Go version")
        mod, _ = _inline_string(blob, after, "module info")
    else:
        if blob.ptr_size not in (4, 8):
            raise FormatError(f"build info: unsupported pointer size {blob.ptr_size}")
        vers = _pointed_string(blob, blob.version_ptr, "Go version")
        # Go reads an unreadable module info (a pointer outside the mapped data,
        # as in some Go 1.13 binaries) as empty, not as an error.
        try:
            mod = _pointed_string(blob, blob.modinfo_ptr, "module info") if blob.modinfo_ptr else b""
        except FormatError:
            mod = b""
    if not vers:
        raise FormatError("build info: the Go version is empty")
    if len(mod) >= 33 and mod[-17] == 0x0A:
        mod = mod[16:-16]
    else:
        mod = b""
    return vers, mod


def find_blob(src: Source, fallback: bool = True, arch: str | None = None) -> Blob | None:
    """The build info blob of an executable (the first slice of a universal
    Mach-O, as Go reads it). None when the file has none or is not an
    executable format; FormatError when its structures are broken. `arch`:
    what a universal header said of a slice whose own header does not.

    The range searched is the image's buildinfo() (Go's rule); with fallback,
    failing that, the first LEGACY_WINDOW bytes of its legacy_buildinfo()."""
    head = src.prefix()
    kind = sniff(head) if len(head) >= 16 else None
    if kind == UNIVERSAL:
        every = slices(src)
        if not every:
            return None
        arch, src = every[0]
        kind = sniff(src.prefix())
        if kind != "macho":
            return None
    if kind not in THIN:
        return None
    img = image(src, kind, arch)
    if img.kind == "wasm":
        return _wasm_blob(img)
    space = img.memory()
    where = img.buildinfo()
    if where is not None:
        return _find_in(img.kind, img.arch, space, *where)
    legacy = img.legacy_buildinfo() if fallback else None
    if legacy is not None:
        return _find_in(img.kind, img.arch, space, legacy[0], min(legacy[1], LEGACY_WINDOW))
    return None


__all__ = ["Blob", "decode_blob", "find_blob", "search", "MAGIC", "HEADER_SIZE", "FormatError"]
