"""What a format parser reports: where the Go build ID, the host build ID and the
code signature live. Offsets are absolute file offsets."""
from __future__ import annotations


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
                 "code_signature", "signing", "slices", "span", "exclude", "reference_id",
                 "unverifiable")

    def __init__(self, format: str, arch: str | None = None, build_id: bytes | None = None,
                 locations: list[int] | None = None):
        self.format = format
        self.arch = arch
        self.build_id = build_id  # raw bytes, None when the file has none
        self.locations = locations or []
        self.host_build_id: HostBuildID | None = None
        self.code_signature: Span | None = None
        self.signing: MachoSigning | None = None
        self.slices: list[Found] = []
        self.span: Span | None = None
        # Byte ranges hashing reads as zeros (code signature, host build ID).
        self.exclude: list[Span] = []
        # What `go tool buildid` prints for this file when that differs from
        # build_id (a non-Go GNU build ID, the first slice of a universal file).
        self.reference_id: bytes | None = None
        # Why this file's bytes cannot be checked against its content ID, if so.
        self.unverifiable: str | None = None
