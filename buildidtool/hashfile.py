"""`hash`: the content ID of a file's bytes with a placeholder zeroed out."""
from __future__ import annotations

import os

from .formats import Span

from .errors import RewriteError, naming
from .fileio import opened
from .plan import hash_unit, units
from .reading import locate_fd


class HashReport:
    __slots__ = ("file", "arch", "placeholder", "content_id", "sha256", "matches", "excluded", "span")

    def __init__(self, file: str, arch: str | None, placeholder: bytes, unit) -> None:
        self.file = file
        self.arch = arch
        self.placeholder = placeholder
        self.content_id: str = unit.content_id
        self.sha256: str = unit.hashed.digest.hex()
        self.matches: list[int] = unit.hashed.matches
        self.excluded: list[Span] = list(unit.exclude)
        self.span: Span = unit.span

    def to_json(self) -> dict:
        return {"file": self.file, "arch": self.arch,
                "id": self.placeholder.decode("utf-8", "replace"),
                "content_id": self.content_id, "sha256": self.sha256, "matches": self.matches,
                "excluded": [{"offset": s.offset, "size": s.size} for s in self.excluded],
                "offset": self.span.offset, "size": self.span.size}


def hash_file(path: str, id: str | bytes | None = None) -> list[HashReport]:
    """One report per unit (one for a thin file, one per slice of a universal
    Mach-O). With `id`, that string is the placeholder in every unit."""
    placeholder = id.encode() if isinstance(id, str) else id
    with naming(path), opened(path) as fd:
        found = locate_fd(fd)
        size = os.fstat(fd).st_size
        todo = units(found, size)
        if placeholder is not None:
            todo = [(found, Span(0, size), placeholder)] if not found.slices else \
                [(f, span, placeholder) for f, span, _ in todo]
        out = []
        for f, span, old in todo:
            if not old:
                raise RewriteError("no build ID to use as the placeholder (give one with --id)")
            out.append(HashReport(path, f.arch, old, hash_unit(fd, f, span, old)))
        return out
