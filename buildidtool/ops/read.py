"""`read`: where a file's Go build ID lives; and exactly what `go tool buildid
FILE` prints."""
from __future__ import annotations

from ..errors import naming
from ..facts import READ, Facts, read_facts
from ..fileio import opened
from ..formats import Source, reference_id


def read(path: str) -> Facts:
    """The Go build ID of `path` and where it lives. Raises BuildIDError."""
    return read_facts(path, READ)


def read_reference(path: str) -> bytes:
    """Exactly what `go tool buildid FILE` prints, without the newline."""
    with naming(path), opened(path) as fd:
        return reference_id(Source.of_file(fd))


__all__ = ["read", "read_reference"]
