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


# --- layout: where everything a container's headers declare lies in the file ---

class Region(namedtuple("Region", "kind name offset size addr", defaults=(None,))):
    """One named byte range a container's headers declare: a section, a
    segment, a header or a table (`kind`). `addr` is the load address, or None."""

    __slots__ = ()

    @property
    def end(self) -> int:
        return self.offset + self.size


def image_end(regions) -> int:
    """Where the linked image ends: the end of the last region that has bytes."""
    return max((r.end for r in regions if r.size), default=0)
