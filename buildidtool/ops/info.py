"""`info`: everything known about a file, per slice: the build ID and its parts,
the host build ID and whether it was derived, the Mach-O code signature and
whether its page hashes match, and the Go build info."""
from __future__ import annotations

from ..facts import INFO, Facts, read_facts


def inspect(path: str) -> Facts:
    """The facts `info` shows for one file. Raises BuildIDError."""
    return read_facts(path, INFO)


__all__ = ["inspect"]
