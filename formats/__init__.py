"""One module per container format. Each locates the Go build ID (value and file
offsets), the host build ID and the code signature; `locate` picks the module by
the file's magic, and `reference_id` answers exactly what `go tool buildid` would."""
from __future__ import annotations

from . import ar, bigaf, elf, macho, pe, plan9, raw, wasm, xcoff
from .errors import FormatError
from .model import Found, HostBuildID, MachoSigning, Span
from .source import PREFIX_SIZE, Source

__all__ = ["locate", "sniff", "reference_id", "FormatError", "Found", "HostBuildID", "MachoSigning",
           "Span", "Source"]

# The Go tool insists on reading this many bytes before it looks at anything.
MIN_SIZE = 8


def sniff(head: bytes) -> str:
    """The container format named by the first bytes (at most 32 KiB) of a file."""
    if head.startswith(ar.MAGIC):
        return "ar"
    if head.startswith(bigaf.MAGIC):
        return "aix-big-archive"
    if head.startswith(elf.MAGIC):
        return "elf"
    if head[:4] in macho.MAGICS:
        return "macho"
    if head[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf") and len(head) >= 8:
        return "macho-fat"
    if head.startswith(wasm.MAGIC):
        return "wasm"
    if pe.is_pe(head):
        return "pe"
    if xcoff.magic_of(head) is not None and len(head) >= 20:
        return "xcoff"
    if plan9.arch_of(head) is not None:
        return "plan9"
    return "unknown"


_READERS = {"ar": ar.read, "aix-big-archive": bigaf.read, "elf": elf.read, "macho": macho.read,
            "wasm": wasm.read, "pe": pe.read, "xcoff": xcoff.read, "plan9": plan9.read}


def locate(src: Source) -> Found:
    head = src.prefix(PREFIX_SIZE)
    kind = sniff(head)
    if kind == "macho-fat":
        # Java class files share the magic; a header that is not plausibly
        # universal makes the file unknown rather than broken.
        fat = macho.read_fat(src)
        return fat if fat is not None else _unknown(head, src)
    reader = _READERS.get(kind)
    return reader(src) if reader else _unknown(head, src)


def _unknown(head: bytes, src: Source) -> Found:
    found = Found("unknown")
    hit = raw.find_marker(head)
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found


def reference_id(src: Source) -> bytes:
    """The bytes `go tool buildid FILE` prints (before its newline).

    Raises FormatError where the Go tool fails. Archives, ELF and thin Mach-O
    follow the same path as locate; everything else is a scan of the first
    32 KiB for the raw marker, universal Mach-O included.
    """
    if src.size < MIN_SIZE:
        raise FormatError(f"file too short ({src.size} bytes) to hold a build ID")
    head = src.prefix(PREFIX_SIZE)
    if head.startswith(ar.MAGIC):
        found = ar.read(src)
    elif head.startswith(bigaf.MAGIC):
        found = bigaf.read(src)
    elif head.startswith(elf.MAGIC):
        found = elf.read(src)
    elif head[:4] in macho.MAGICS:
        found = macho.read(src)
    else:
        hit = raw.find_marker(head)
        return hit[0] if hit else b""
    if found.reference_id is not None:
        return found.reference_id
    return found.build_id or b""
