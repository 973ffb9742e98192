"""Which image of a multi-platform image (an OCI index, a Docker manifest list,
or a `docker save` of several images) is read: `--platform OS/ARCH[/VARIANT]`,
by default the machine's own (as docker and syft choose), or `all`.

Matching follows containerd's rules, which docker uses: the OS and the
architecture must be equal; a variant asked for must be equal (arm64's `v8`
is the same as none); with no variant asked, an image of any variant matches,
the one without a variant (or the highest) first. Entries whose platform is
`unknown/unknown` are build attestations, never images to read."""
from __future__ import annotations

import os
import sys

ALL = "all"
_MACHINE = {"x86_64": "amd64", "amd64": "amd64", "aarch64": ("arm64", "v8"), "arm64": ("arm64", "v8"),
            "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "i386": "386", "i686": "386",
            "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64le"}


class Platform:
    __slots__ = ("os", "arch", "variant")

    def __init__(self, os_: str, arch: str, variant: str | None = None):
        self.os, self.arch = os_, arch
        self.variant = variant or None

    def __str__(self) -> str:
        return f"{self.os}/{self.arch}" + (f"/{self.variant}" if self.variant else "")

    def __repr__(self) -> str:
        return f"Platform({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Platform) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def parse(text: str) -> Platform | str:
    """`linux/arm64`, `linux/arm/v7`, or `all`. Raises ValueError."""
    if text == ALL:
        return ALL
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"{text!r} is not a platform (OS/ARCH[/VARIANT], e.g. linux/amd64, or all)")
    return Platform(*parts)


def check(text: str) -> str:
    """For the option table: the text when it parses."""
    parse(text)
    return text


def host() -> Platform:
    """The machine's own platform, in Go's (and the OCI spec's) names."""
    machine = os.uname().machine.lower()
    arch = _MACHINE.get(machine, machine)
    variant = None
    if isinstance(arch, tuple):
        arch, variant = arch
    osname = "linux" if sys.platform.startswith("linux") else sys.platform
    return Platform("darwin" if osname == "darwin" else osname, arch, variant)


def wanted(setting: str | None):
    """The platform a setting asks for: the text, else $BUILDID_PLATFORM, else the host's."""
    text = setting or os.environ.get("BUILDID_PLATFORM")
    return parse(text) if text else host()


def of(desc: dict | None) -> Platform | None:
    """The platform of an index entry's `platform` object (or an image config), if it names one."""
    if not isinstance(desc, dict):
        return None
    o, a = desc.get("os"), desc.get("architecture")
    if not isinstance(o, str) or not isinstance(a, str) or not o or not a:
        return None
    v = desc.get("variant")
    return Platform(o, a, v if isinstance(v, str) else None)


def _variant(p: Platform) -> str | None:
    if p.arch == "arm64" and p.variant == "v8":
        return None
    return p.variant


def matches(have: Platform | None, want: Platform) -> bool:
    if have is None:
        return False
    if (have.os, have.arch) != (want.os, want.arch):
        return False
    return _variant(want) is None or _variant(have) == _variant(want)


def is_attestation(p: Platform | None) -> bool:
    return p is not None and p.os == "unknown" and p.arch == "unknown"


def choose(candidates: list, want) -> list:
    """The candidates to read, from (platform or None, item) pairs in index
    order: one (the best match), or every real image for `all`. A single
    candidate is read whatever its platform, as a single image always was;
    [] when none matches."""
    real = [c for c in candidates if not is_attestation(c[0])]
    if want == ALL:
        return real
    if len(real) == 1:
        return real
    hits = [c for c in real if matches(c[0], want)]
    if not hits:
        return []
    # the exact variant first, then no variant, then the highest
    return [sorted(hits, key=lambda c: (_variant(c[0]) != _variant(want), _variant(c[0]) is not None,
                                         [-ord(ch) for ch in (_variant(c[0]) or "")]))[0]]


def listing(candidates: list) -> str:
    names = [str(p) if p is not None else "unknown platform" for p, _ in candidates if not is_attestation(p)]
    return ", ".join(names) or "none"
