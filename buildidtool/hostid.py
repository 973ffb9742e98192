"""Host build IDs derived from the Go build ID (Go 1.24 and later): the linker
hashes the ID it was given and uses that hash, slightly altered, as the GNU
build ID or the Mach-O UUID."""
from __future__ import annotations

import hashlib
import re
import struct


def derive(linker_id: bytes, kind: str) -> bytes:
    h = bytearray(hashlib.sha256(linker_id).digest())
    h[0] ^= 0xFF
    if kind == "gnu":
        return bytes(h[:20])
    uuid = h[:16]
    uuid[6] = (uuid[6] & 0x0F) | 0x30  # version 3
    uuid[8] = (uuid[8] & 0x3F) | 0x80  # variant 1
    return bytes(uuid)


def linker_ids(build_id: bytes) -> list[bytes]:
    """What the linker may have been given: the go command's placeholder (the
    final ID with its last part replaced by its first), or the ID itself
    (-ldflags=-buildid=X)."""
    out = []
    if b"/" in build_id:
        out.append(build_id[:build_id.rindex(b"/") + 1] + build_id.split(b"/", 1)[0])
    out.append(build_id)
    return out


def status(build_id: bytes | None, kind: str, value: bytes) -> str:
    """"derived" or "not-derived", from the bytes alone. gccgo's GNU build ID is the Go build ID
    itself: derived, trivially."""
    if build_id and (value == build_id or any(derive(c, kind) == value for c in linker_ids(build_id))):
        return "derived"
    return "not-derived"


# Go's linker derives the host build ID from the Go build ID by default since
# Go 1.24 (cmd/link sets -B gobuildid whenever it is given -buildid); before,
# and whenever -B names a value, the host build ID is whatever the linker (or
# the external linker) was told or chose.
FIRST_DERIVING = (1, 24)
_GO_MINOR = re.compile(r"^go1\.(\d+)(?!\d)")
_B_FLAG = re.compile(r"(?:^|\s)--?B(?:=|\s+)(\S+)")


def not_applicable(go_version: str | None, ldflags: str | None) -> str | None:
    """Why the linker that made a file would not have derived its host build
    ID, from the Go version and -ldflags its build info records; None when
    nothing says so (a development toolchain counts as recent)."""
    m = _GO_MINOR.match(go_version or "")
    if m is not None and (1, int(m.group(1))) < FIRST_DERIVING:
        return f"built by {go_version}: Go's linker derives the host build ID only since go1.24"
    b = _B_FLAG.search(ldflags or "")
    if b is not None and b.group(1).strip("'\"") != "gobuildid":
        return f"-ldflags sets -B {b.group(1)}: the host build ID was chosen at link time"
    return None


def judge(src, build_id: bytes | None, kind: str, value: bytes) -> tuple[str, str | None]:
    """(status, reason) of the host build ID of the unit in `src` (a Source):
    "derived", "not-derived", or "not-applicable" with the reason, read from
    the unit's build info (or, without it, the Go version its runtime carries)
    only when the ID was not derived."""
    got = status(build_id, kind, value)
    if got == "derived":
        return got, None
    why = not_applicable(*_linker_facts(src, bool(build_id)))
    return ("not-applicable", why) if why else (got, None)


def _linker_facts(src, has_go_id: bool) -> tuple[str | None, str | None]:
    from .buildinfo import read_build_info_source
    from .errors import BuildIDError
    from .formats import FormatError
    try:
        bi = read_build_info_source("", src)
    except (BuildIDError, ValueError):
        bi = None
    if bi is not None:
        return bi.go_version, bi.setting("-ldflags")
    from . import goversion
    try:
        got = goversion.recover(src, has_go_id)
    except (FormatError, OSError, ValueError, struct.error):
        got = None
    return (got[0] if got else None), None


def pre_1_24_exclude(found) -> list | None:
    """The byte ranges Go before 1.24 read as zeros when hashing the unit of
    `found` (a Found): its own, with the host build ID hashed in, since it could
    not yet depend on the build ID. None when the host build ID is not excluded."""
    host = found.host_build_id
    rest = [s for s in found.exclude if host is None or s != host.span]
    return None if len(rest) == len(found.exclude) else rest
