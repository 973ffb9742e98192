"""WebAssembly: the Go linker puts the raw marker in a custom section, the
first section of the module, named go:buildid since Go 1.20 and go.buildid
before (Go 1.11-1.19, js/wasm)."""
from __future__ import annotations

import bisect
from collections import namedtuple
from itertools import islice

from . import leb128, magic, raw
from .errors import FormatError
from .memory import Mapping
from .model import Found, Image, Region, image_end
from .source import PREFIX_SIZE, Source


# --- structures (WebAssembly core spec, binary format) ---
MAGIC = magic.WASM
CUSTOM_SECTION = 0
BUILDID_SECTIONS = (b"go:buildid", b"go.buildid")
# Go's module starts with its build ID; this many sections is plenty to look through.
MAX_SECTIONS_SCANNED = 64


# One row per section as the module declares it; offsets are within the Source.
# name: a custom section's name, None for other sections and for a custom
# section whose name cannot be read; name_size: the bytes that name takes.
Section = namedtuple("Section", "id offset header_size body_offset body_size name name_size")


def _content(s: Section) -> tuple[int, int]:
    """(offset, size) of what follows a custom section's name."""
    return s.body_offset + s.name_size, s.body_size - s.name_size


class SectionCut(FormatError):
    """A section whose body runs past the end of the file; `section` keeps its
    declared size."""

    def __init__(self, message: str, section: Section):
        super().__init__(message)
        self.section = section


def sections(src: Source):
    """The module's sections in order, the one walk every reader here uses:
    FormatError at a header that cannot be read, SectionCut at a body cut by
    the end of the file. How far to go and what a broken header or name means
    is each reader's own policy: read looks at the first few sections and
    falls back to the raw marker, build info wants all of them intact, layout
    lists what it can. (Nothing walks one Source twice: build info's readers
    share section_bodies, kept on the Source; layout is given a Source of its own.)"""
    pos = 8
    while pos < src.size:
        head = src.read_at(pos, min(16, src.size - pos), "wasm section header")
        try:
            size, body = leb128.uleb(head, 1)
        except IndexError:
            raise FormatError(f"wasm section header at offset {src.absolute(pos):#x} "
                              "runs past the end of the file") from None
        body += pos
        if not src.fits(body, size):
            raise SectionCut(f"wasm section at offset {src.absolute(pos):#x} extends past the end of the file",
                             Section(head[0], pos, body - pos, body, size, None, 0))
        name, name_size = _custom_name(src, body, size) if head[0] == CUSTOM_SECTION else (None, 0)
        yield Section(head[0], pos, body - pos, body, size, name, name_size)
        pos = body + size


def _custom_name(src: Source, body: int, size: int) -> tuple[bytes | None, int]:
    """(name, bytes it takes), or (None, 0) when it does not fit its section."""
    head = src.read_at(body, min(size, 16), "wasm custom section name")
    try:
        n, k = leb128.uleb(head, 0)
    except (IndexError, FormatError):
        return None, 0
    if k + n > size:
        return None, 0
    return src.read_at(body + k, n, "wasm section name"), k + n


def _named(src: Source, s: Section) -> bytes:
    """A custom section's name, for readers that cannot go on without it."""
    if s.name is None:
        raise FormatError(f"wasm custom section at offset {src.absolute(s.offset):#x} has a broken name")
    return s.name


def read(src: Source) -> Found:
    try:
        return _read(src)
    except FormatError:
        # The Go tool never parses the module: a marker in the first 32 KiB is
        # the ID even when a section header is broken.
        hit = raw.find_marker(src.prefix(PREFIX_SIZE))
        if hit is None:
            raise
        return Found("wasm", "wasm", hit[0], [src.absolute(hit[1])])


def _read(src: Source) -> Found:
    for s in islice(sections(src), MAX_SECTIONS_SCANNED):
        if s.id == CUSTOM_SECTION and _named(src, s) in BUILDID_SECTIONS:
            start, size = _content(s)
            hit = raw.find_marker(src.read_at(start, min(size, PREFIX_SIZE), "go:buildid section"))
            if hit is None:
                raise FormatError("go:buildid section holds no Go build ID marker")
            return Found("wasm", "wasm", hit[0], [src.absolute(start + hit[1])])
    # No such section: what the Go tool reads, the marker in the first 32 KiB.
    hit = raw.find_marker(src.prefix(PREFIX_SIZE))
    return Found("wasm", "wasm", *((hit[0], [src.absolute(hit[1])]) if hit else ()))


# --- the protocol (formats.model.Image): sections, linear memory, producers ---


WASM_CODE, WASM_DATA = 10, 11
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
    if buf[i] == 0 and buf[i + 1] == 0x41:
        got = _go_segment_header(buf, i + 2)
        if got is not None:
            return got
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


def _go_segment_header(buf: bytes, j: int) -> tuple[int, int, int] | None:
    """The header every segment Go's linker writes has (active, at an i32.const
    address), read without the general machinery: a module holds tens of
    thousands. None for anything else (or anything the general reader would
    reject), which the general reader then reads."""
    v = shift = 0
    while True:
        b = buf[j]
        j += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
        if shift >= 35:
            return None
    if buf[j] != 0x0B:
        return None
    if b & 0x40:
        v -= 1 << shift
    j += 1
    n = shift = 0
    while True:
        b = buf[j]
        j += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
        if shift >= 35:
            return None
    return None if n >> 32 else (v & 0xFFFFFFFF, n, j)


class WasmMemory:
    """Linear memory as the active data segments initialize it: segment bytes,
    zeros in between. Reads are capped at the data section's size, so a bogus
    length can never make us allocate more than the module holds."""

    def __init__(self, src: Source, segments: list[Mapping], cap: int):
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


def section_bodies(src: Source) -> dict[int | bytes, tuple[int, int]]:
    """Body (offset, size) by section id, and custom sections' contents by
    name; the first of each."""
    out: dict[int | bytes, tuple[int, int]] = {}
    end = 8
    for s in islice(sections(src), MAX_WASM_SECTIONS):
        if s.id == CUSTOM_SECTION:
            out.setdefault(_named(src, s), _content(s))
        else:
            out.setdefault(s.id, (s.body_offset, s.body_size))
        end = s.body_offset + s.body_size
    if end < src.size:
        raise FormatError(f"wasm module has more than {MAX_WASM_SECTIONS} sections")
    return out


def producers_go_version(src: Source, producers: tuple[int, int] | None) -> bytes | None:
    """The version the producers section gives for language Go, when it reads
    as one (runtime.Version(): `go1...` or `devel ...`, printable): build info
    searches the data for it, and a version of zeros would match everywhere."""
    if producers is None or producers[1] > MAX_PRODUCERS_SIZE:
        return None
    cur = _Cursor(src, producers[0], producers[0] + producers[1])
    for _ in range(cur.uleb()):
        field = cur.take(cur.uleb())
        for _ in range(cur.uleb()):
            name = cur.take(cur.uleb())
            version = cur.take(cur.uleb())
            if field == b"language" and name == b"Go" and version:
                ok = version.startswith((b"go1", b"devel ")) and version.isascii() and version.decode().isprintable()
                return version if ok else None
    return None


SEGMENT_BUFFER = 1 << 20
MAX_SEGMENT_HEADER = 1024  # flags, an expression of at most MAX_EXPR_OPS operations, a size


def data_segments(src: Source, body: int, size: int) -> list[Mapping]:
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
            out.append(Mapping(addr, n, pos))
        pos += n
    return out


class WasmImage(Image):
    """A module: its sections (custom ones by name) and its linear memory as
    the active data segments initialize it. Go puts no build info blob in it."""

    kind = "wasm"
    __slots__ = ()

    def __init__(self, src: Source):
        super().__init__(src, "wasm", "<", 8)

    def bodies(self) -> dict[int | bytes, tuple[int, int]]:
        return self.src.memo("wasm.bodies", lambda: section_bodies(self.src))

    def sections(self) -> tuple[Region, ...]:
        return tuple(Region("section", SECTION_NAMES.get(k, str(k)) if isinstance(k, int)
                            else k.decode("utf-8", "replace"), off, size)
                     for k, (off, size) in self.bodies().items())

    def memory(self) -> WasmMemory | None:
        """None when the module has no data section. Built once per Source:
        build info, version recovery and the pclntab reader share it (a Go
        module has tens of thousands of segments)."""
        data = self.bodies().get(WASM_DATA)
        if data is None:
            return None
        return self.src.memo("wasm.memory", lambda: WasmMemory(self.src, data_segments(self.src, *data), cap=data[1]))

    def code_functions(self) -> int | None:
        """How many functions the code section defines (None without one)."""
        code = self.bodies().get(WASM_CODE)
        if code is None or not code[1]:
            return None
        count, _ = _uleb_at(self.src.read_at(code[0], min(code[1], 10), "wasm code section"), 0)
        return count

    def go_version(self) -> bytes | None:
        """The version the producers section gives for language Go."""
        return producers_go_version(self.src, self.bodies().get(b"producers"))


def image(src: Source) -> WasmImage:
    return src.memo("wasm.image", lambda: WasmImage(src))


# --- layout (for explaining and diffing) ---


SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
                 7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "data count"}


WasmLayout = namedtuple("WasmLayout", "regions image_end")


def layout(src: Source) -> WasmLayout:
    """Every section of the module (custom sections by their names), with
    absolute offsets, up to the first byte that does not start one; a section
    cut by the end of the file is listed with its declared size. The image
    ends with the last section."""
    regions = [Region("header", "wasm header", src.absolute(0), 8)]

    def add(s: Section) -> None:
        name = SECTION_NAMES[s.id] if s.name is None else s.name.decode("utf-8", "replace")
        regions.append(Region("section", name, src.absolute(s.offset), s.header_size + s.body_size))

    try:
        for s in sections(src):
            if s.id not in SECTION_NAMES:
                break  # not a section: the module ended before these bytes
            add(s)
    except SectionCut as cut:
        if cut.section.id in SECTION_NAMES:
            add(cut.section)
    except FormatError:
        pass  # a header that is not one: the module ended before it
    return WasmLayout(tuple(regions), image_end(regions))
