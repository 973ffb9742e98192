"""One module per container format, chosen here by the file's magic (magic.sniff,
the one dispatch). Each answers one protocol (formats.model.Image):
`read(src)` locates the Go build ID (value and file offsets), the host build
ID and the code signature; `image(src)` gives kind, arch, sections, segments,
where build info lives and reads by address; `layout(src)` adds the headers and
tables for explaining and diffing. `reference_id` answers exactly what
`go tool buildid` would. Parser modules are imported on first use, so reading
one ELF loads only elf.py."""
from __future__ import annotations

import importlib

from . import raw
from .errors import FormatError
from .kinds import CONTAINER, THIN
from .magic import sniff
from .model import Found, HashingView, HostBuildID, Image, MachoSigning, Region, Span, Unit, after_last_slice
from .source import PREFIX_SIZE, Source

__all__ = ["locate", "image", "layout", "slices", "sniff", "units", "reference_id", "after_last_slice",
           "FormatError", "Found", "HashingView", "HostBuildID", "Image", "MachoSigning", "Region", "Span",
           "Source", "Unit"]

# The Go tool insists on reading this many bytes before it looks at anything.
MIN_SIZE = 8

_READERS = {"ar": ("ar", "read"), "aix-big-archive": ("bigaf", "read"), "elf": ("elf", "read"),
            "macho": ("macho", "read"), "macho-fat": ("macho", "read_fat"), "wasm": ("wasm", "read"),
            "pe": ("pe", "read"), "xcoff": ("xcoff", "read"), "plan9": ("plan9", "read")}


def _reader(kind: str):
    module, name = _READERS[kind]
    return getattr(importlib.import_module(f".{module}", __name__), name)


def image(src: Source, kind: str | None = None, arch: str | None = None):
    """The Image of a thin container (kind as sniff names it, found when not
    given), or None for formats without one (archives, universal files, unknown).
    `arch`: what a universal header said, for a Mach-O slice whose own header does not."""
    kind = kind or sniff(src.prefix(PREFIX_SIZE))
    if kind not in THIN:
        return None
    module = importlib.import_module(f".{kind}", __name__)
    return module.image(src, arch) if kind == "macho" else module.image(src)


def layout(src: Source, kind: str):
    """The layout of a thin container whose Found.format is `kind` (headers,
    sections, segments, tables, where the image ends), or None when that
    format has none. Raises FormatError when the headers cannot be read."""
    if kind not in THIN and kind not in CONTAINER:
        return None
    return importlib.import_module(f".{CONTAINER.get(kind, kind)}", __name__).layout(src)


def slices(src: Source):
    """(arch, window) per slice of a universal Mach-O, or None when src is not one."""
    if sniff(src.prefix(PREFIX_SIZE)) != "macho-fat":
        return None
    return importlib.import_module(".macho", __name__).slices(src)


def units(src: Source, found: Found) -> tuple[Unit, ...]:
    """The units of a located file: the file itself, or each slice of a universal one."""
    if found.slices:
        return tuple(Unit(s, s.span, src.view(s.span.offset - src.base, s.span.size, "universal slice"))
                     for s in found.slices)
    return (Unit(found, Span(src.base, src.size), src),)


def locate(src: Source) -> Found:
    head = src.prefix(PREFIX_SIZE)
    kind = sniff(head)
    if kind == "unknown":
        return _unknown(head, src)
    found = _reader(kind)(src)
    # Java class files share the universal magic; an implausible universal
    # header makes the file unknown rather than broken.
    return found if found is not None else _unknown(head, src)


def _unknown(head: bytes, src: Source) -> Found:
    hit = raw.find_marker(head)
    return Found("unknown") if hit is None else Found("unknown", None, hit[0], [src.absolute(hit[1])])


def reference_id(src: Source) -> bytes:
    """The bytes `go tool buildid FILE` prints (before its newline).

    Raises FormatError where the Go tool fails. Archives and ELF follow the
    same path as locate; a thin Mach-O gets debug/macho's stricter checks
    (macho.reference); everything else is a scan of the first 32 KiB for the
    raw marker, universal Mach-O included.
    """
    if src.size < MIN_SIZE:
        raise FormatError(f"file too short ({src.size} bytes) to hold a build ID")
    head = src.prefix(PREFIX_SIZE)
    kind = sniff(head)
    if kind not in ("ar", "aix-big-archive", "elf", "macho"):
        hit = raw.find_marker(head)
        return hit[0] if hit else b""
    if kind == "macho":
        return importlib.import_module(".macho", __name__).reference(src)
    found = _reader(kind)(src)
    if found.reference_id is not None:
        return found.reference_id
    return found.build_id or b""
