"""What a format parser reports: where the Go build ID, the host build ID and the
code signature live. Offsets are absolute file offsets."""
from __future__ import annotations

from collections import namedtuple


class Span:
    __slots__ = ("offset", "size")

    def __init__(self, offset: int, size: int):
        self.offset = offset
        self.size = size

    @property
    def end(self) -> int:
        return self.offset + self.size

    def __repr__(self) -> str:
        return f"Span({self.offset:#x}, {self.size:#x})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and (self.offset, self.size) == (other.offset, other.size)


class HostBuildID:
    """The toolchain-neutral build ID: GNU build-id note or Mach-O LC_UUID."""

    __slots__ = ("kind", "span", "value")

    def __init__(self, kind: str, span: Span, value: bytes):
        self.kind = kind  # "gnu" or "macho-uuid"
        self.span = span  # the payload (note descriptor / UUID bytes)
        self.value = value


class MachoSigning:
    """What re-signing a Mach-O needs besides the file bytes."""

    __slots__ = ("text_offset", "text_size", "is_exec")

    def __init__(self, text_offset: int, text_size: int, is_exec: bool):
        self.text_offset = text_offset
        self.text_size = text_size
        self.is_exec = is_exec


class Found:
    """One container's answer. For a universal Mach-O, `slices` holds one Found
    per architecture and `span` of each slice is its byte range in the file."""

    __slots__ = ("format", "arch", "build_id", "locations", "host_build_id",
                 "code_signature", "_signing", "slices", "span", "_exclude", "reference_id",
                 "unverifiable", "_hashing")

    def __init__(self, format: str, arch: str | None = None, build_id: bytes | None = None,
                 locations: list[int] | None = None):
        self.format = format
        self.arch = arch
        self.build_id = build_id  # raw bytes, None when the file has none
        self.locations = locations or []
        self.host_build_id: HostBuildID | None = None
        self.code_signature: Span | None = None
        self._signing: MachoSigning | None = None
        self.slices: list[Found] = []
        self.span: Span | None = None
        # Byte ranges hashing reads as zeros (code signature, host build ID).
        self._exclude: list[Span] = []
        # Work only hashing needs, done on first use: sets _exclude and _signing.
        self._hashing = None
        # What `go tool buildid` prints for this file when that differs from
        # build_id (a non-Go GNU build ID, the first slice of a universal file).
        self.reference_id: bytes | None = None
        # Why this file's bytes cannot be checked against its content ID, if so.
        self.unverifiable: str | None = None

    def defer_hashing(self, work) -> None:
        """Run work(found) the first time exclude or signing is asked for:
        reading an ID should not pay for what only hashing and signing need."""
        self._hashing = work

    def _settle(self) -> None:
        work, self._hashing = self._hashing, None
        if work is not None:
            work(self)

    @property
    def exclude(self) -> list[Span]:
        self._settle()
        return self._exclude

    @property
    def signing(self) -> MachoSigning | None:
        self._settle()
        return self._signing

    @signing.setter
    def signing(self, value: MachoSigning | None) -> None:
        self._signing = value


# --- the protocol: what a container's headers declare ---

class Region(namedtuple("Region", "kind name offset size addr memsize perm", defaults=(None, None, ""))):
    """One named byte range a container's headers declare: a section, a
    segment, a header or a table (`kind`). `size` is what the file holds (0 for
    zero-fill), `addr` the load address or None, `memsize` the size in memory
    when it differs from `size`, `perm` the access as "r", "w", "x" letters
    where the format says."""

    __slots__ = ()

    @property
    def end(self) -> int:
        return self.offset + self.size


def image_end(regions) -> int:
    """Where the linked image ends: the end of the last region that has bytes."""
    return max((r.end for r in regions if r.size), default=0)


class Image:
    """One executable's headers, parsed once, as every format module answers
    them (`image(src)` in each; `formats.image` picks the module):

        kind, arch, byteorder, ptr_size
        segments()        tuple[Region]  what is loaded, in header order
        sections()        tuple[Region]  in header order; FormatError if the table is broken
        section(name)     the first section of that name, or None
        buildinfo()       (addr, size) Go's debug/buildinfo searches, or None
        legacy_buildinfo() (addr, size) older Go releases searched, or None
        memory()          an AddressSpace: read by address
        symbol(name)      a symbol's address from the symbol table, or None

    The build-ID spans, host build ID and code signature come from the same
    module's `read(src)` (a Found). Tables are parsed on first use and kept
    with the Source, so every reader of one file shares one parse."""

    kind = "unknown"
    __slots__ = ("src", "arch", "byteorder", "ptr_size")

    def __init__(self, src, arch: str | None, byteorder: str, ptr_size: int):
        self.src, self.arch, self.byteorder, self.ptr_size = src, arch, byteorder, ptr_size

    def segments(self) -> tuple:
        return ()

    def sections(self) -> tuple:
        return ()

    def section(self, name: str):
        return next((s for s in self.sections() if s.name == name), None)

    def buildinfo(self):
        return None

    def legacy_buildinfo(self):
        return None

    def memory(self):
        raise NotImplementedError

    def symbol(self, name: bytes) -> int | None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.arch}>"
