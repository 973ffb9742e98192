"""The verdict on a rebuilt file against FILE: byte-identical; identical once
a modification that verify proves (a signature added after link, appended
bytes) is undone; or different, with diff's regions."""
from __future__ import annotations

import os

from ...errors import naming
from ...fileio import opened
from ...verdict import MODIFIED, OK
from ..read import read
from .result import DIFFERS, REPRODUCED, Differences

CHUNK = 1 << 20
SHOWN_RANGES = 20  # ranges kept in a verdict; diff counts them all


def same_bytes(a: str, b: str) -> bool:
    with opened(a) as fa, opened(b) as fb:
        if os.fstat(fa).st_size != os.fstat(fb).st_size:
            return False
        pos = 0
        while True:
            x, y = os.pread(fa, CHUNK, pos), os.pread(fb, CHUNK, pos)
            if x != y:
                return False
            if not x:
                return True
            pos += len(x)


def judge(path: str, rebuilt: str, build_id: str | None) -> tuple[str, str, tuple, Differences | None]:
    """(status, reason, modifications undone, differences) of the rebuilt
    file against FILE `path`, whose build ID is `build_id`."""
    with naming(path):
        if same_bytes(path, rebuilt):
            return REPRODUCED, "byte-identical", (), None
    undone = _undone(path, rebuilt, build_id)
    d = differences(path, rebuilt)
    if undone:
        how = "; ".join(m.text() for m in undone)
        return REPRODUCED, f"identical to the file as linked: {how}", undone, d
    return DIFFERS, summary(d), (), d


def _undone(path: str, rebuilt: str, build_id: str | None) -> tuple:
    """The modifications of FILE, when verify proves every one of them (undoing
    them gives bytes that hash to FILE's content ID) and the rebuilt file has
    FILE's build ID and matches its own content ID: then the rebuilt file's
    bytes are FILE's as linked, up to a SHA-256 collision (the content ID
    hashes everything but the build ID, the host build ID derived from it and
    the code signature computed from the rest). Else ()."""
    from ..verify import verify  # the verify operation (hashing, modification): only when the bytes differ

    v = verify(path)
    if v.status != MODIFIED or not v.modification or not all(m.proven for m in v.modification):
        return ()
    if build_id is None or read(rebuilt).build_id != build_id or verify(rebuilt).status != OK:
        return ()
    return tuple(v.modification)


def differences(path: str, rebuilt: str) -> Differences | None:
    from ..diff import diff  # only when the bytes differ

    d = diff(path, rebuilt)
    unit = next((u for u in d.units if not u.same_content), d.units[0] if d.units else None)
    if unit is None:
        return None
    return Differences(
        build_id=tuple(unit.parts.items()),
        differing_bytes=unit.differing_bytes,
        range_count=unit.range_count,
        by_region=tuple(unit.by_region.items()),
        ranges=tuple((r.offset, r.size, tuple(r.where)) for r in unit.ranges[:SHOWN_RANGES]),
        build_info=tuple((f.field, _text(f.a), _text(f.b)) for f in unit.build_info or ()))


def _text(value) -> str | None:
    return None if value is None else str(value)


def summary(d: Differences | None) -> str:
    """One line: how many bytes differ, where."""
    if d is None:
        return "the files differ"
    if not d.differing_bytes:
        what = "the same content modulo build IDs, but a different build ID"
    else:
        regions = ", ".join(f"{name} {n}" for name, n in d.by_region[:6])
        verb = "differs" if d.differing_bytes == 1 else "differ"
        what = f"{_plural(d.differing_bytes, 'byte')} {verb} in {_plural(d.range_count, 'range')}" \
               + (f" ({regions})" if regions else "")
    if d.build_info:
        what += "; build info: " + ", ".join(f for f, _, _ in d.build_info[:4])
    return what


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
