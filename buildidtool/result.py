"""What `read` returns (BuildIDInfo) and the host build ID (HostID) that read,
verify and info share. Every result type of the API has `to_json()` (the
object the command's --json prints) and a repr that says what it holds."""
from __future__ import annotations

from .idstring import display, parts


class HostID:
    """The toolchain-neutral build ID (GNU build-id note or Mach-O LC_UUID).

    `status` and `reason` say whether it was derived from the Go build ID
    (hostid.judge): None where nobody judged it (`read`), set by verify and
    info. verify reports a file without one as kind None, status "absent".
    Also readable as a mapping of its JSON keys (`h["status"]`)."""

    __slots__ = ("kind", "hex", "offset", "size", "status", "reason")

    def __init__(self, kind: str | None, value: bytes | None, offset: int | None = None,
                 size: int | None = None, status: str | None = None, reason: str | None = None):
        self.kind = kind
        self.hex = value.hex() if value is not None else None
        self.offset = offset
        self.size = size
        self.status = status
        self.reason = reason

    @classmethod
    def of(cls, found_host, status: str | None = None, reason: str | None = None) -> "HostID":
        """From the located facts' host build ID (formats.HostBuildID)."""
        h = found_host
        return cls(h.kind, h.value, h.span.offset, h.span.size, status, reason)

    def to_json(self) -> dict:
        return {"kind": self.kind, "hex": self.hex, "status": self.status, "reason": self.reason}

    def __getitem__(self, key: str):
        return self.to_json()[key]

    def get(self, key: str, default=None):
        return self.to_json().get(key, default)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostID) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        judged = f", {self.status}" if self.status else ""
        return f"HostID({self.kind!r}, {self.hex!r}{judged})"


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

    @classmethod
    def failed(cls, file: str, error: str) -> "BuildIDInfo":
        """The record of a file that could not be read: every key, error set."""
        info = cls(file)
        info.error = error
        return info

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

    def __repr__(self) -> str:
        what = f"error={self.error!r}" if self.error else f"build_id={self.build_id!r}"
        slices = f", slices={[s.arch for s in self.slices]}" if self.slices else ""
        return f"BuildIDInfo({self.file!r}, {self.format}, {self.arch or '-'}, {what}{slices})"
