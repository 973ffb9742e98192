"""`read`: where a file's Go build ID lives (what `go tool buildid FILE`
prints exactly is gocompat.read_reference)."""
from __future__ import annotations

from ..facts import READ, Facts, read_facts


def read(path: str) -> Facts:
    """The Go build ID of `path` and where it lives. Raises BuildIDError."""
    return read_facts(path, READ)


__all__ = ["read"]
