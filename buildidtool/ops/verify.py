"""`verify`: does a file still match the content ID stamped into it (each
slice of a universal file on its own), does a Go-made Mach-O signature still
match its pages, and was the host build ID derived from the build ID?"""
from __future__ import annotations

from ..errors import BuildIDError
from ..facts import VERIFY, Facts, failed, read_facts


def verify(path: str, strict: bool = False) -> Facts:
    """The facts of `path` with its verdict (`status`, `reason`,
    `modification`). Never raises for a file problem: an unreadable or broken
    file is status "error". With `strict`, a host build ID that was not
    derived from the build ID is a modification too."""
    try:
        return read_facts(path, VERIFY, strict)
    except BuildIDError as e:
        return failed(path, e.message, VERIFY)


__all__ = ["verify"]
