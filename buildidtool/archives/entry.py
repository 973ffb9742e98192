"""What every archive reader yields: one Entry per stored member."""
from __future__ import annotations

FILE, SYMLINK, HARDLINK, OTHER = "file", "symlink", "hardlink", "other"
UNREADABLE = "unreadable"  # a member we cannot read (encrypted, an unsupported method): its notes say why


class Entry:
    """A member as stored: its raw name, kind, size and, for a regular file, a
    reader of its bytes valid until the next entry is asked for."""

    __slots__ = ("name", "kind", "size", "link", "reader", "notes", "layer", "extent", "head")

    def __init__(self, name: str, kind: str, size: int = 0, link: str | None = None, reader=None,
                 notes: list[str] | None = None, layer: str | None = None):
        self.name, self.kind, self.size, self.link, self.reader = name, kind, size, link, reader
        self.notes = notes or []
        self.layer = layer
        # (fd, offset) when the bytes lie as they are in an open file (a plain tar):
        # then they are read and spooled from there, without passing through Python
        self.extent: tuple[int, int] | None = None
        # the member's first bytes when the reader got them another way (a zip
        # member's, inflated straight from the file); `reader` is then unread
        self.head: bytes | None = None
