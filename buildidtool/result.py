"""What `read` returns, and its JSON form."""
from __future__ import annotations

from .idstring import display, parts


class HostID:
    __slots__ = ("kind", "hex", "offset", "size")

    def __init__(self, kind: str, value: bytes, offset: int, size: int):
        self.kind = kind
        self.hex = value.hex()
        self.offset = offset
        self.size = size

    def to_json(self) -> dict:
        return {"kind": self.kind, "hex": self.hex}


class BuildIDInfo:
    """Where a file's Go build ID lives.

    build_id is None when the file has none (or could not be read: see error).
    For a universal Mach-O, `slices` holds one BuildIDInfo per architecture.
    """

    __slots__ = ("file", "format", "arch", "raw_build_id", "locations", "host_build_id",
                 "code_signature", "slices", "span", "error")

    def __init__(self, file: str, format: str = "unknown", arch: str | None = None):
        self.file = file
        self.format = format
        self.arch = arch
        self.raw_build_id: bytes | None = None
        self.locations: list[int] = []
        self.host_build_id: HostID | None = None
        self.code_signature: tuple[int, int] | None = None  # (offset, size)
        self.slices: list[BuildIDInfo] = []
        self.span: tuple[int, int] | None = None  # a slice's (offset, size)
        self.error: str | None = None

    @property
    def build_id(self) -> str | None:
        return display(self.raw_build_id)

    @property
    def parts(self) -> dict[str, str] | None:
        return parts(self.build_id)

    def to_json(self) -> dict:
        out = {
            "file": self.file,
            "format": self.format,
            "arch": self.arch,
            "build_id": self.build_id,
            "parts": self.parts,
            "locations": self.locations,
            "host_build_id": self.host_build_id.to_json() if self.host_build_id else None,
            "code_signature": ({"offset": self.code_signature[0], "size": self.code_signature[1]}
                               if self.code_signature else None),
            "slices": [s.to_json() for s in self.slices],
            "error": self.error,
        }
        if self.span is not None:
            out["offset"], out["size"] = self.span
        return out
