"""What a rewrite would write: for each unit (the file, or each slice of a
universal Mach-O) the old ID, its occurrences, the new ID and, for a Go-made
ad hoc signature, the new signature. hash, verify and rewrite all start here."""
from __future__ import annotations

import os

from .formats import Unit

from . import codesign
from .errors import NothingToRewrite, RewriteError
from .formats.goquote import quote_bytes
from .hashing import Hashed, find_and_hash
from .idstring import hash_to_string, new_id as with_content_id


class Plan:
    """One unit hashed as Go hashes it, and what stamping it would write."""

    __slots__ = ("span", "arch", "old_id", "hashed", "new_id", "signature", "old_signature",
                 "new_signature", "exclude")

    def __init__(self, unit: Unit, old_id: bytes):
        self.span = unit.span
        self.arch = unit.arch
        self.old_id = old_id
        self.exclude = unit.found.exclude
        self.hashed: Hashed | None = None
        self.new_id: bytes | None = None
        self.signature: Span | None = None  # a Go-made signature, which a rewrite regenerates
        self.old_signature: bytes | None = None
        self.new_signature: bytes | None = None

    @property
    def content_id(self) -> str:
        assert self.hashed is not None
        return hash_to_string(self.hashed.digest)

    @property
    def patches(self) -> list[tuple[int, bytes, bytes]]:
        """(offset, old bytes, new bytes) for every write the rewrite makes."""
        out = [(m, self.old_id, self.new_id) for m in self.hashed.matches] if self.hashed.matches else []
        if out and self.signature is not None:
            out.append((self.signature.offset, self.old_signature, self.new_signature))
        return out

    @property
    def changes(self) -> list[tuple[int, bytes, bytes]]:
        return [p for p in self.patches if p[1] != p[2]]


def hash_unit(unit: Unit, placeholder: bytes) -> Plan:
    """The unit hashed with `placeholder` (its build ID, or another ID as text)
    and the excluded spans read as zeros."""
    plan = Plan(unit, placeholder)
    plan.hashed = find_and_hash(unit.src.fd, placeholder, plan.exclude, unit.span.offset, unit.span.size)
    return plan


def plan_unit(unit: Unit, old_id: bytes | None) -> Plan:
    """Hash a unit and work out the rewrite; RewriteError where Go's tool refuses."""
    if not old_id:
        raise NothingToRewrite("no Go build ID to rewrite")
    plan = hash_unit(unit, old_id)
    if b"/" not in old_id:
        raise RewriteError("build ID is a legacy format (no content ID part); not rewritten")
    new_id = with_content_id(old_id, plan.content_id)
    if len(new_id) != len(old_id):
        raise RewriteError(f"build ID length mismatch {quote_bytes(old_id)} vs {quote_bytes(new_id)}")
    plan.new_id = new_id
    if plan.hashed.matches:
        _plan_signature(unit, plan)
    return plan


def _plan_signature(unit: Unit, plan: Plan) -> None:
    fd, found, span = unit.src.fd, unit.found, unit.span
    sig, signing = found.code_signature, found.signing
    if sig is None or signing is None:
        return
    code_size = sig.offset - span.offset
    # Only a signature of exactly the size Go's linker gives it is Go's to redo;
    # anything else was signed by someone else and is left alone.
    if code_size < 0 or codesign.size(code_size) != sig.size:
        return
    # A thin file cut inside its signature gets all of it back, lengthening the
    # file as Go's tool does; a slice's must not spill into the next slice.
    if sig.end > span.end and found.span is not None:
        return
    patches = [(m, plan.new_id) for m in plan.hashed.matches]
    plan.signature = sig
    plan.old_signature = os.pread(fd, sig.size, sig.offset)
    plan.new_signature = codesign.sign(patched_reader(fd, span.offset, patches), code_size,
                                       signing.text_offset, signing.text_size, signing.is_exec)


def patched_reader(fd: int, base: int, patches: list[tuple[int, bytes]]):
    """read(off, n) over the unit at `base`, as it will be once `patches` are written."""
    def read(off: int, n: int) -> bytes:
        start = base + off
        data = os.pread(fd, n, start)
        for at, new in patches:
            lo, hi = max(at, start), min(at + len(new), start + len(data))
            if lo < hi:
                data = data[:lo - start] + new[lo - at:hi - at] + data[hi - start:]
        return data
    return read

