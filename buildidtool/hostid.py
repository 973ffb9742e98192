"""Host build IDs derived from the Go build ID (Go 1.24 and later): the linker
hashes the ID it was given and uses that hash, slightly altered, as the GNU
build ID or the Mach-O UUID."""
from __future__ import annotations

import hashlib


def derive(linker_id: bytes, kind: str) -> bytes:
    h = bytearray(hashlib.sha256(linker_id).digest())
    h[0] ^= 0xFF
    if kind == "gnu":
        return bytes(h[:20])
    uuid = h[:16]
    uuid[6] = (uuid[6] & 0x0F) | 0x30  # version 3
    uuid[8] = (uuid[8] & 0x3F) | 0x80  # variant 1
    return bytes(uuid)


def linker_ids(build_id: bytes) -> list[bytes]:
    """What the linker may have been given: the go command's placeholder (the
    final ID with its last part replaced by its first), or the ID itself
    (-ldflags=-buildid=X)."""
    out = []
    if b"/" in build_id:
        out.append(build_id[:build_id.rindex(b"/") + 1] + build_id.split(b"/", 1)[0])
    out.append(build_id)
    return out


def status(build_id: bytes | None, kind: str, value: bytes) -> str:
    """"derived" or "not-derived". gccgo's GNU build ID is the Go build ID
    itself: derived, trivially."""
    if build_id and (value == build_id or any(derive(c, kind) == value for c in linker_ids(build_id))):
        return "derived"
    return "not-derived"
