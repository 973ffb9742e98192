"""WebAssembly: the Go linker puts the raw marker in a custom section, the
first section of the module, named go:buildid since Go 1.20 and go.buildid
before (Go 1.11-1.19, js/wasm)."""
from __future__ import annotations

from . import leb128, magic, raw
from .errors import FormatError
from .model import Found
from .source import PREFIX_SIZE, Source

# --- structures (WebAssembly core spec, binary format) ---
MAGIC = magic.WASM
CUSTOM_SECTION = 0
BUILDID_SECTIONS = (b"go:buildid", b"go.buildid")
# Go's module starts with its build ID; this many sections is plenty to look through.
MAX_SECTIONS_SCANNED = 64


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    try:
        return leb128.uleb(data, pos)
    except IndexError:
        raise FormatError("bad LEB128 number in wasm module") from None


def read(src: Source) -> Found:
    try:
        return _read(src)
    except FormatError:
        # The Go tool never parses the module: a marker in the first 32 KiB is
        # the ID even when a section header is broken.
        found = Found("wasm", "wasm")
        hit = raw.find_marker(src.prefix(PREFIX_SIZE))
        if hit is None:
            raise
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
        return found


def _read(src: Source) -> Found:
    found = Found("wasm", "wasm")
    pos = 8
    for _ in range(MAX_SECTIONS_SCANNED):
        if pos >= src.size:
            break
        head = src.read_at(pos, min(16, src.size - pos), "wasm section header")
        sid = head[0]
        size, n = _uleb(head, 1)
        body = pos + n
        if not src.fits(body, size):
            raise FormatError(f"wasm section at offset {pos:#x} extends past the end of the file")
        if sid == CUSTOM_SECTION:
            name_head = src.read_at(body, min(size, 16), "wasm custom section name")
            nlen, k = _uleb(name_head, 0)
            if k + nlen > size:
                raise FormatError(f"wasm custom section name at offset {body:#x} is longer than its section")
            name = src.read_at(body + k, nlen, "wasm section name")
            if name in BUILDID_SECTIONS:
                start = body + k + nlen
                data = src.read_at(start, min(size - k - nlen, PREFIX_SIZE), "go:buildid section")
                hit = raw.find_marker(data)
                if hit is None:
                    raise FormatError("go:buildid section holds no Go build ID marker")
                found.build_id = hit[0]
                found.locations = [src.absolute(start + hit[1])]
                return found
        pos = body + size
    # No such section: what the Go tool reads, the marker in the first 32 KiB.
    hit = raw.find_marker(src.prefix(PREFIX_SIZE))
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found


# --- layout (for explaining and diffing) ---

from collections import namedtuple  # noqa: E402  (kept with the code that uses it)

from .model import Region, image_end  # noqa: E402

SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
                 7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "data count"}


WasmLayout = namedtuple("WasmLayout", "regions image_end")


def layout(src: Source) -> WasmLayout:
    """Every section of the module (custom sections by their names), with
    absolute offsets; the image ends with the last section."""
    regions = [Region("header", "wasm header", src.absolute(0), 8)]
    pos = 8
    while pos < src.size:
        head = src.read_at(pos, min(16, src.size - pos), "wasm section header")
        if head[0] not in SECTION_NAMES:
            break  # not a section: the module ended before these bytes
        try:
            size, n = _uleb(head, 1)
        except FormatError:
            break
        body = pos + n
        name = SECTION_NAMES[head[0]]
        if not src.fits(body, size):  # cut short: the section still says how long it was
            regions.append(Region("section", name, src.absolute(pos), n + size))
            break
        if head[0] == CUSTOM_SECTION and size:
            nlen, k = _uleb(src.read_at(body, min(size, 16), "wasm custom section name"), 0)
            name = src.read_at(body + k, min(nlen, size - k), "wasm section name").decode("utf-8", "replace")
        regions.append(Region("section", name, src.absolute(pos), n + size))
        pos = body + size
    return WasmLayout(tuple(regions), image_end(regions))
