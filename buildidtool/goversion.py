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

from .formats import image, slices, sniff
from .formats.errors import FormatError
from .formats.kinds import UNIVERSAL
from .formats.memory import AddressSpace, Mapping
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
# pclntab header magics: Go 1.2, 1.16, 1.18, 1.20+; then two zero bytes.
PCLNTAB_MAGICS = (0xFFFFFFFB, 0xFFFFFFFA, 0xFFFFFFF0, 0xFFFFFFF1)
GO_SECTIONS = (".gopclntab", ".go.buildinfo", ".note.go.buildid", "__gopclntab", "__go_buildinfo")


def valid(s: bytes) -> bool:
    return len(s) <= MAX_VERSION and VERSION.fullmatch(s) is not None


class Recovery:
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


# --- per format: which sections and segments hold read-only and writable data ---

def _areas(img, names, fallback, need_addr: bool = True) -> list[tuple[int, int]]:
    """(addr, size in memory) of the named sections (that have an address, when
    need_addr), or failing that of the segments `fallback(region)` picks."""
    got = []
    for name in names:
        r = img.section(name)
        if r is not None and (r.addr or not need_addr):
            got.append((r.addr, r.memsize if r.memsize is not None else r.size))
    return got or [(r.addr, r.size) for r in img.segments() if fallback(r)]


def _elf(src: Source, has_go_id: bool) -> Recovery:
    img = image(src, "elf")
    loads = img.loads()
    space = AddressSpace(img.src, [Mapping(r.addr, r.size, r.offset) for r in loads])
    try:
        names = {r.name for r in img.sections()}
    except FormatError:
        names = set()

    def pick(writable):
        return lambda r: r in loads and ("w" in r.perm) == writable and "x" not in r.perm

    try:
        rodata = _areas(img, [".rodata"], pick(False))
        data = _areas(img, [".data", ".noptrdata"], pick(True))
    except FormatError:
        rodata = [(r.addr, r.size) for r in loads if pick(False)(r)]
        data = [(r.addr, r.size) for r in loads if pick(True)(r)]
    marked = has_go_id or any(n in names for n in GO_SECTIONS)
    # Without a readable section table there is no symbol table to look in.
    symbol = img.symbol if names else (lambda name: None)
    return Recovery(space, img.ptr_size, img.byteorder, rodata, data, marked, symbol, bool(names))


def _macho(src: Source, has_go_id: bool) -> Recovery:
    img = image(src, "macho")
    space = img.memory()
    names = {r.name for r in img.sections()}
    mapped = [r for r in img.segments() if r.name != "__PAGEZERO"]

    def pick(writable):
        return lambda r: r in mapped and ("w" in r.perm) == writable

    rodata = _areas(img, ["__rodata"], pick(False), need_addr=False)
    data = _areas(img, ["__data", "__noptrdata"], pick(True), need_addr=False)
    marked = has_go_id or any(n in names for n in GO_SECTIONS)
    return Recovery(space, img.ptr_size, img.byteorder, rodata, data, marked, img.symbol, bool(names))


def _pe(src: Source, has_go_id: bool) -> Recovery:
    img = image(src, "pe")
    sections = img.sections()

    def areas(name, writable):
        got = [(r.addr, r.memsize) for r in sections if r.name == name]
        return got or [(r.addr, r.memsize) for r in sections
                       if ("w" in r.perm) == writable and "x" not in r.perm]

    return Recovery(img.memory(), img.ptr_size, "<", areas(".rdata", False), areas(".data", True), has_go_id,
                 img.symbol, False)


_RECOVERIES = {"elf": _elf, "macho": _macho, "pe": _pe}


# --- recovery ---------------------------------------------------------------

def _by_symbol(img: Recovery) -> bytes | None:
    addr = img.symbol(SYMBOL)
    return None if addr is None else img.string_at(addr)


def _candidates(img: Recovery) -> list[tuple[int, bytes]]:
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


def _by_reference(img: Recovery, cands: list[tuple[int, bytes]]) -> bytes | None:
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


def _has_pclntab(img: Recovery) -> bool:
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
    kind = sniff(src.prefix())
    if kind == UNIVERSAL:
        every = slices(src)
        if not every or sniff(every[0][1].prefix()) != "macho":
            return None
        src, kind = every[0][1], "macho"
    make = _RECOVERIES.get(kind)
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


def try_recover(src: Source, has_go_id: bool = False) -> tuple[str, str] | None:
    """recover(), with a broken container giving no version rather than an error."""
    try:
        return recover(src, has_go_id)
    except (FormatError, OSError, ValueError, struct.error):
        return None


__all__ = ["recover", "try_recover", "SOURCES", "valid"]
