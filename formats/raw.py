"""The raw marker the Go linker puts at the start of text:
    \\xff Go build ID: "<Go-quoted ID>"\\n \\xff
"""
from __future__ import annotations

from .errors import FormatError
from .goquote import QuoteError, unquote

MARKER_START = b'\xff Go build ID: "'
MARKER_END = b'"\n \xff'


def find_marker(data: bytes) -> tuple[bytes, int] | None:
    """(ID, offset of the ID's first byte in data), or None when there is no marker.

    The offset is where the quoted text starts; for the IDs Go writes no
    escaping is needed, so the ID bytes sit exactly there.
    """
    i = data.find(MARKER_START)
    if i < 0:
        return None
    body = i + len(MARKER_START)
    j = data.find(MARKER_END, body)
    if j < 0:
        raise FormatError("unterminated Go build ID marker")
    try:
        value = unquote(data[body - 1:j + 1])
    except QuoteError:
        raise FormatError("badly quoted Go build ID marker") from None
    return value, body
