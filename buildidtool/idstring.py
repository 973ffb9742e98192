"""Build ID strings: Go's 20-character hash encoding and the parts of an ID."""
from __future__ import annotations

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PART_LENGTH = 20


def hash_to_string(digest: bytes) -> str:
    """First 120 bits of a SHA-256, 6 bits a character, as Go writes content IDs."""
    out = bytearray()
    for i in range(0, 15, 3):
        v = digest[i] << 16 | digest[i + 1] << 8 | digest[i + 2]
        out += bytes((ALPHABET[v >> 18 & 63], ALPHABET[v >> 12 & 63], ALPHABET[v >> 6 & 63], ALPHABET[v & 63]))
    return out.decode("ascii")


PART_NAMES = {4: ("action", "main_action", "main_content", "content"), 2: ("action", "content")}


def parts(build_id: str | None) -> dict[str, str] | None:
    if not build_id:
        return None
    pieces = build_id.split("/")
    names = PART_NAMES.get(len(pieces))
    return dict(zip(names, pieces)) if names else None


def new_id(old: bytes, content_id: str) -> bytes:
    """The old ID with its last part replaced by `content_id` (old must hold a '/')."""
    return old[:old.rindex(b"/")] + b"/" + content_id.encode("ascii")


def display(raw: bytes | None) -> str | None:
    return None if not raw else raw.decode("utf-8", "replace")


def printable(text: str | None) -> str:
    """Escape control characters, so no ID puts raw bytes on a terminal; a
    byte that was not UTF-8 (a surrogate escape) shows as the byte, \\xNN."""
    if text is None:
        return ""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    if "\udc80" <= c <= "\udcff":
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape").decode("ascii")
