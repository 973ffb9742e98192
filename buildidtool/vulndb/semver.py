"""Go's semantic versions, as golang.org/x/mod/semver reads them, and the
Go release names (`go1.22.1`, `go1.21rc2`) as the vulnerability database
spells them (`v1.22.1`, `v1.21.0-rc.2`).

    compare("v1.2.3", "v1.10.0") == -1
    compare("v0.0.0-20220715151400-c0bba94af5f8", "v0.1.0") == -1   # a pseudo-version is a pre-release
    go_semver("go1.21rc2") == "v1.21.0-rc.2"

Build metadata (`+incompatible`) takes no part in comparisons; `v1` and `v1.2`
are `v1.0.0` and `v1.2.0`. An invalid version compares less than every valid
one, and equal to every other invalid one, as semver.Compare has it."""
from __future__ import annotations

import re
from functools import lru_cache

_SEMVER = re.compile(
    r"v(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?)?"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
# x/vuln's GoTagToSemver: go1.N[.P][(beta|rc)K]; go1.9.2rc2 and the like included.
_GO_TAG = re.compile(r"go(\d+\.\d+)(\.\d+|)(?:(beta|rc|-pre)(\d+))?")


@lru_cache(maxsize=4096)
def key(v: str) -> tuple | None:
    """A sort key for a valid version (None for an invalid one): numbers, then
    a release ranking above its pre-releases, then the pre-release identifiers
    (numeric ones below alphanumeric ones, a shorter list below a longer one
    it begins)."""
    m = _SEMVER.fullmatch(v)
    if m is None:
        return None
    major, minor, patch, pre = m.groups()
    if patch is None and m.end(2 if minor is not None else 1) != len(v):
        return None  # v1-pre and v1.2+build are not valid shorthands
    nums = (int(major), int(minor or 0), int(patch or 0))
    if pre is None:
        return nums + ((1,),)
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return nums + ((0,) + ids,)


def is_valid(v: str) -> bool:
    return key(v) is not None


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as a is below, equal to or above b (semver.Compare)."""
    ka, kb = key(a), key(b)
    if ka is None or kb is None:
        return (ka is not None) - (kb is not None)
    return (ka > kb) - (ka < kb)


def canonical(v: str) -> str:
    """`v` as the database's versions are read: with a leading v (OSV writes
    them without), build metadata kept."""
    return v if v.startswith("v") else "v" + v


def go_semver(go_version: str | None) -> str | None:
    """The semantic version of a Go release named as the toolchain names it
    (`go1.22.1`, `go1.21rc2`, `go1.22.1 X:boringcrypto`), or None for a
    development toolchain or anything else that names no release."""
    if not go_version:
        return None
    tag = go_version.split()[0]
    if tag == "go1":
        return "v1.0.0"
    m = _GO_TAG.fullmatch(tag)
    if m is None:
        return None
    minor, patch, pre, n = m.groups()
    v = "v" + minor + (patch or ".0")
    if pre:
        v += ("-" if pre != "-pre" else "") + pre + "." + n
    return v


__all__ = ["compare", "is_valid", "canonical", "go_semver", "key"]
