"""`hash`: the content ID of a file's bytes with a placeholder zeroed out."""
from __future__ import annotations

from ..formats import Source, Span, locate, units

from ..errors import RewriteError, naming
from ..fileio import opened
from ..idstring import display
from ..plan import Plan, hash_unit


class HashReport:
    """One unit's hash: the content ID and SHA-256 of its bytes with `placeholder`
    (the ID, as text) at `matches` and the `excluded` spans read as zeros."""

    __slots__ = ("file", "arch", "placeholder", "content_id", "sha256", "matches", "excluded", "span", "error")

    def __init__(self, file: str, arch: str | None, placeholder: bytes | None, plan: Plan | None = None) -> None:
        self.file = file
        self.arch = arch
        self.placeholder: str | None = display(placeholder)
        self.content_id: str | None = plan.content_id if plan else None
        self.sha256: str | None = plan.hashed.digest.hex() if plan else None
        self.matches: list[int] = plan.hashed.matches if plan else []
        self.excluded: list[Span] = list(plan.exclude) if plan else []
        self.span: Span | None = plan.span if plan else None
        self.error: str | None = None

    @classmethod
    def failed(cls, file: str, error: str) -> "HashReport":
        """The record of a file that could not be hashed: every key, error set."""
        r = cls(file, None, None)
        r.error = error
        return r

    def to_json(self) -> dict:
        return {"file": self.file, "arch": self.arch, "id": self.placeholder,
                "content_id": self.content_id, "sha256": self.sha256, "matches": self.matches,
                "excluded": [s.to_json() for s in self.excluded],
                "offset": self.span.offset if self.span else None,
                "size": self.span.size if self.span else None, "error": self.error}

    def __repr__(self) -> str:
        arch = f" [{self.arch}]" if self.arch else ""
        what = f"error {self.error!r}" if self.error else f"{self.content_id} {self.sha256}"
        return f"<HashReport {self.file!r}{arch} {what}>"


def hash_file(path: str, id: str | bytes | None = None) -> list[HashReport]:
    """One report per unit (one for a thin file, one per slice of a universal
    Mach-O). With `id`, that string is the placeholder in every unit."""
    placeholder = id.encode() if isinstance(id, str) else id
    with naming(path), opened(path) as fd:
        src = Source.of_file(fd)
        found = locate(src)
        out = []
        for unit in units(src, found):
            old = placeholder if placeholder is not None else unit.found.build_id
            if not old:
                raise RewriteError("no build ID to use as the placeholder (give one with --id)")
            out.append(HashReport(path, unit.arch, old, hash_unit(unit, old)))
        return out


__all__ = ["hash_file", "HashReport"]
