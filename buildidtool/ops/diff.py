"""Are two files the same build, modulo their build IDs?

Each unit (a thin file, or the slices of two universal files paired by arch) is
hashed as Go hashes it, each file with its own build ID, host build ID and code
signature read as zeros: equal hashes mean the same content. When they differ,
both units are read again side by side, with those same bytes zeroed, and the
differing byte ranges are collected (merged, a bounded list plus totals) and
named by the sections or segments that hold them. Memory stays a few buffers
whatever the file sizes."""
from __future__ import annotations

import os
import re

from ..formats import Found, Source, Span, Unit, after_last_slice, locate, units

from ..buildinfo import of_source
from ..modification import layout_of

from ..errors import BuildIDError, MalformedFile, naming
from ..fileio import opened
from ..formats.errors import FormatError
from ..formats.kinds import EXECUTABLES, UNIVERSAL
from ..hashing import find_and_hash
from ..idstring import display, hash_to_string, parts

BUFSIZE = 1 << 20
MAX_RANGES = 100   # ranges listed per unit; the totals count them all
MERGE_GAP = 64     # ranges closer than this are one range: a rebuild differs in runs, not bytes
_NONZERO = re.compile(rb"[^\x00]+")


class Range:
    __slots__ = ("offset", "size", "where")

    def __init__(self, offset: int, size: int, where: list[str] | None = None):
        self.offset = offset  # within the unit (the file, or the slice)
        self.size = size
        self.where = where or []

    def to_json(self) -> dict:
        return {"offset": self.offset, "size": self.size, "where": self.where}

    def __repr__(self) -> str:
        return f"Range({self.offset:#x}, {self.size:#x}, {self.where})"


class FieldDiff:
    """One build-info field that differs: its name (`go_version`, `path`,
    `main`, `setting KEY`, `dep PATH`) and each file's value, None where that
    file has none."""

    __slots__ = ("field", "a", "b")

    def __init__(self, field: str, a: str | None, b: str | None):
        self.field, self.a, self.b = field, a, b

    def to_json(self) -> dict:
        return {"field": self.field, "a": self.a, "b": self.b}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldDiff) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"FieldDiff({self.field!r}, {self.a!r}, {self.b!r})"


class Tail:
    """What follows the last slice of each of two universal files (lipo writes
    nothing there, and no slice's content ID covers it): sizes, and whether
    the bytes are the same."""

    __slots__ = ("a", "b", "same")

    def __init__(self, a: int, b: int, same: bool):
        self.a, self.b, self.same = a, b, same

    def to_json(self) -> dict:
        return {"a": self.a, "b": self.b, "same": self.same}

    def __repr__(self) -> str:
        return f"Tail({self.a}, {self.b}, {'same' if self.same else 'different'})"


class UnitDiff:
    """One pair of units: build-ID parts, content IDs, differing ranges."""

    __slots__ = ("arch", "archs", "parts", "content_ids", "same_content", "ranges", "range_count",
                 "differing_bytes", "by_region", "sizes", "offsets", "build_info")

    def __init__(self, arch_a: str | None, arch_b: str | None):
        self.arch = arch_a or arch_b
        self.archs: tuple[str | None, str | None] = (arch_a, arch_b)
        self.parts: dict[str, str] = {}             # part name -> "equal" | "different"
        self.content_ids: tuple[str, str] = ("", "")
        self.same_content = False
        self.ranges: list[Range] = []
        self.range_count = 0
        self.differing_bytes = 0
        self.by_region: dict[str, int] = {}          # differing bytes per region, largest first
        self.sizes: tuple[int, int] = (0, 0)
        self.offsets: tuple[int, int] = (0, 0)       # where the unit starts in each file (slices)
        self.build_info: list[FieldDiff] | None = None    # None when either has none

    @property
    def same_arch(self) -> bool:
        return None in self.archs or self.archs[0] == self.archs[1]

    def to_json(self) -> dict:
        return {"arch": self.arch, "archs": {"a": self.archs[0], "b": self.archs[1]}, "build_id": self.parts,
                "content_id": {"a": self.content_ids[0], "b": self.content_ids[1]},
                "same_content": self.same_content, "sizes": {"a": self.sizes[0], "b": self.sizes[1]},
                "offsets": {"a": self.offsets[0], "b": self.offsets[1]},
                "ranges": [r.to_json() for r in self.ranges], "range_count": self.range_count,
                "differing_bytes": self.differing_bytes, "by_region": self.by_region,
                "build_info": None if self.build_info is None else [f.to_json() for f in self.build_info]}

    def __repr__(self) -> str:
        arch = f" [{self.arch}]" if self.arch else ""
        what = "same content" if self.same_content else f"{self.differing_bytes} bytes differ"
        return f"<UnitDiff{arch} {what}>"


class Diff:
    __slots__ = ("a", "b", "format", "units", "only_in_a", "only_in_b", "after_slices")

    def __init__(self, a: str, b: str, format: str):
        self.a, self.b, self.format = a, b, format
        self.units: list[UnitDiff] = []
        self.only_in_a: list[str] = []   # slices of a universal file with no partner
        self.only_in_b: list[str] = []
        self.after_slices: Tail | None = None   # two universal files: what follows their slices

    @property
    def same(self) -> bool:
        return bool(self.units) and all(u.same_content for u in self.units) \
            and not self.only_in_a and not self.only_in_b \
            and (self.after_slices is None or self.after_slices.same)

    def to_json(self) -> dict:
        return {"a": self.a, "b": self.b, "format": self.format, "same": self.same,
                "units": [u.to_json() for u in self.units],
                "only_in_a": self.only_in_a, "only_in_b": self.only_in_b,
                "after_slices": None if self.after_slices is None else self.after_slices.to_json()}

    def __repr__(self) -> str:
        return f"<Diff {self.a!r} {self.b!r}: {'same' if self.same else 'different'}>"


def diff(a: str, b: str) -> Diff:
    """Compare two files; raises BuildIDError (naming the file) when either
    cannot be read or parsed, or when they are not the same kind of file."""
    with opened(a) as fa, opened(b) as fb:
        src_a, src_b = Source.of_file(fa), Source.of_file(fb)
        with naming(a):
            found_a = locate(src_a)
        with naming(b):
            found_b = locate(src_b)
        pairs, out = _pair(a, b, src_a, src_b, found_a, found_b)
        for ua, ub in pairs:
            unit = UnitDiff(ua.arch, ub.arch)
            _compare(a, b, ua, ub, unit)
            out.units.append(unit)
        if found_a.slices and found_b.slices:
            out.after_slices = _after_slices(a, b, fa, fb, after_last_slice(found_a, src_a.size),
                                             after_last_slice(found_b, src_b.size))
        return out


def _after_slices(a, b, fa, fb, tail_a: Span | None, tail_b: Span | None) -> Tail:
    """What follows the last slice of two universal files (lipo writes nothing
    there: anything is appended), compared byte for byte."""
    sizes = [t.size if t is not None else 0 for t in (tail_a, tail_b)]
    same = sizes[0] == sizes[1]
    if same and sizes[0]:
        same = not any(True for _ in _runs(a, b, fa, fb, tail_a, tail_b, [], []))
    return Tail(sizes[0], sizes[1], same)


def _pair(a, b, src_a: Source, src_b: Source, found_a: Found, found_b: Found):
    """Units to compare: thin with thin, a thin file with the same-arch slice of a
    universal one, universal slices by arch."""
    thin = {"macho", UNIVERSAL}
    if found_a.format != found_b.format and {found_a.format, found_b.format} != thin:
        # The error names the file that is not a binary, when one is not; else the second.
        culprit = a if found_a.format == "unknown" else b
        raise MalformedFile(culprit, f"cannot compare: {a} is {found_a.format}, {b} is {found_b.format}")
    ua, ub = units(src_a, found_a), units(src_b, found_b)
    out = Diff(a, b, found_a.format if found_a.format == found_b.format else UNIVERSAL)
    if len(ua) == 1 and len(ub) == 1 and not (found_a.slices or found_b.slices):
        return [(ua[0], ub[0])], out
    by_arch_b = {u.arch: u for u in ub}
    pairs = []
    for u in ua:
        if u.arch in by_arch_b:
            pairs.append((u, by_arch_b.pop(u.arch)))
        elif found_a.slices and found_b.slices:
            out.only_in_a.append(u.arch or "?")
    if found_a.slices and found_b.slices:
        out.only_in_b = [u.arch or "?" for u in by_arch_b.values()]
    if not pairs:
        raise MalformedFile(b, f"cannot compare: no architecture in common with {a}")
    return pairs, out


def _placeholder(found: Found) -> bytes:
    # A file without a build ID is compared byte for byte: a random placeholder
    # of this length never occurs in it.
    return found.build_id or os.urandom(32)


def _compare(a, b, ua: Unit, ub: Unit, unit: UnitDiff) -> None:
    fa, fb, found_a, found_b, span_a, span_b = ua.src.fd, ub.src.fd, ua.found, ub.found, ua.span, ub.span
    with naming(a):
        ha = find_and_hash(fa, _placeholder(found_a), found_a.exclude, span_a.offset, span_a.size)
    with naming(b):
        hb = find_and_hash(fb, _placeholder(found_b), found_b.exclude, span_b.offset, span_b.size)
    unit.content_ids = (hash_to_string(ha.digest), hash_to_string(hb.digest))
    unit.sizes = (span_a.size, span_b.size)
    unit.offsets = (span_a.offset, span_b.offset)
    unit.same_content = ha.digest == hb.digest and span_a.size == span_b.size
    pa, pb = parts(display(found_a.build_id)) or {}, parts(display(found_b.build_id)) or {}
    for name in pa if pa.keys() == pb.keys() else ():
        unit.parts[name] = "equal" if pa[name] == pb[name] else "different"
    if not unit.parts:
        unit.parts["build_id"] = "absent" if not (found_a.build_id or found_b.build_id) else \
            "equal" if found_a.build_id == found_b.build_id else "different"
    if not unit.same_content:
        zero_a = list(found_a.exclude) + [Span(m, len(found_a.build_id or b"")) for m in ha.matches]
        zero_b = list(found_b.exclude) + [Span(m, len(found_b.build_id or b"")) for m in hb.matches]
        namer = _Namer(ua)
        _collect(unit, namer, _runs(a, b, fa, fb, span_a, span_b, zero_a, zero_b))
    unit.build_info = _build_info_diff(ua, ub)


def _read(path: str, fd: int, span: Span, pos: int, n: int, zero: list[Span]) -> bytearray:
    with naming(path):
        data = bytearray(os.pread(fd, n, span.offset + pos))
    start = span.offset + pos
    for z in zero:
        lo, hi = max(z.offset, start), min(z.offset + z.size, start + len(data))
        if lo < hi:
            data[lo - start:hi - start] = bytes(hi - lo)
    return data


def _runs(a, b, fa, fb, span_a, span_b, zero_a, zero_b):
    """(offset, end) of each run of differing bytes, relative to the units, in
    order, reading both a buffer at a time. A longer unit's tail is one run."""
    common = min(span_a.size, span_b.size)
    pos = 0
    while pos < common:
        want = min(BUFSIZE, common - pos)
        da, db = _read(a, fa, span_a, pos, want, zero_a), _read(b, fb, span_b, pos, want, zero_b)
        n = min(len(da), len(db))  # a file that shrank while we read ends the comparison there
        if da[:n] != db[:n]:
            # XOR as big integers is one C loop; the runs of non-zero bytes are the differences.
            x = (int.from_bytes(da[:n], "little") ^ int.from_bytes(db[:n], "little")).to_bytes(n, "little")
            for m in _NONZERO.finditer(x):
                yield pos + m.start(), pos + m.end()
        if n < want:
            common = pos + n
            break
        pos += n
    longer = max(span_a.size, span_b.size)
    if longer > common:
        yield common, longer


def _collect(unit: UnitDiff, namer: "_Namer", runs) -> None:
    """Merge runs closer than MERGE_GAP; keep the first MAX_RANGES ranges, count
    them all, and total the differing bytes by the region each run starts in."""
    cur: list[int] | None = None
    by_region: dict[str, int] = {}

    def close(r: list[int]) -> None:
        unit.range_count += 1
        if len(unit.ranges) < MAX_RANGES:
            unit.ranges.append(Range(r[0], r[1] - r[0], namer.names(r[0], r[1])))

    for lo, hi in runs:
        unit.differing_bytes += hi - lo
        where = namer.first(lo)
        by_region[where] = by_region.get(where, 0) + hi - lo
        if cur is not None and lo - cur[1] < MERGE_GAP:
            cur[1] = hi
            continue
        if cur is not None:
            close(cur)
        cur = [lo, hi]
    if cur is not None:
        close(cur)
    unit.by_region = dict(sorted(by_region.items(), key=lambda kv: -kv[1]))


class _Namer:
    """Names offsets of a unit by the sections that hold them; where no section
    does, by the segments, tables or headers; past the image, "after the image"."""

    PRIORITY = (("section",), ("segment",), ("table", "header"))

    def __init__(self, unit: Unit):
        span = unit.span
        lay = layout_of(unit.src, unit.format)
        self.image_end = None if lay is None else lay.image_end - span.offset
        self.regions = [] if lay is None else [(r.kind, r.name, r.offset - span.offset, r.end - span.offset)
                                               for r in lay.regions if r.size]
        self._last: tuple[int, int, str] | None = None

    def _fallback(self, lo: int) -> list[str]:
        if self.image_end is None:
            return []
        return ["after the image"] if lo >= self.image_end else ["between regions"]

    def names(self, lo: int, hi: int) -> list[str]:
        for kinds in self.PRIORITY:
            where = [name for kind, name, rlo, rhi in self.regions if kind in kinds and rlo < hi and lo < rhi]
            if where:
                return list(dict.fromkeys(where))[:8]
        return self._fallback(lo)

    def first(self, at: int) -> str:
        last = self._last
        if last is not None and last[0] <= at < last[1]:
            return last[2]  # runs come in order: most fall in the region of the one before
        for kinds in self.PRIORITY:
            for kind, name, rlo, rhi in self.regions:
                if kind in kinds and rlo <= at < rhi:
                    if kinds == self.PRIORITY[0]:  # a segment may hold sections the next run starts in
                        self._last = (rlo, rhi, name)
                    return name
        return (self._fallback(at) or ["unknown"])[0]


def _build_info_diff(ua: Unit, ub: Unit) -> list[FieldDiff] | None:
    """Fields of Go's build info that differ: Go version, path, main module,
    settings, dependencies. None when either file has no build info."""
    if ua.format not in EXECUTABLES:
        return None
    try:
        bia, bib = of_source(ua.src, arch=ua.arch), of_source(ub.src, arch=ub.arch)
    except (BuildIDError, FormatError, OSError, ValueError):  # broken build info: `info` reports it
        return None
    if bia is None or bib is None:
        return None
    out = []

    def note(field: str, x, y) -> None:
        if x != y:
            out.append(FieldDiff(field, x, y))

    note("go_version", bia.go_version, bib.go_version)
    note("path", bia.path, bib.path)
    main = lambda bi: bi.main.version if bi.main is not None else None  # noqa: E731
    note("main", main(bia), main(bib))
    sa, sb = ({s.key: s.value for s in bi.settings} for bi in (bia, bib))
    for k in sorted(sa.keys() | sb.keys()):
        note(f"setting {k}", sa.get(k), sb.get(k))
    da, db = ({d.path: f"{d.version} {d.sum}".strip() for d in bi.deps} for bi in (bia, bib))
    for k in sorted(da.keys() | db.keys()):
        note(f"dep {k}", da.get(k), db.get(k))
    return out


__all__ = ["diff", "Diff", "UnitDiff", "Range", "FieldDiff", "Tail", "BuildIDError"]
