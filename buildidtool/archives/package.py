"""What a package says it is: the name and version a Debian package's
control file, an RPM's header, a wheel's METADATA or an npm package's
package.json give, so that an SBOM of a package names the package, not the
file. Read from the package's own small metadata, each bounded; a package
whose metadata cannot be read is simply unnamed."""
from __future__ import annotations

import email.parser
import io
import json
import os
import re
import struct
import tarfile

from . import deb, rpm
from .streams import decompressor
from .magic import compression

MAX_METADATA = 1 << 20  # a control file, METADATA or package.json is a few KiB


class Package:
    """A package's own identity: its ecosystem (`deb`, `rpm`, `pypi`, `npm`),
    name, version and, where it says, architecture and vendor (`namespace`:
    a purl's, such as `debian` or `ubuntu`)."""

    __slots__ = ("type", "name", "version", "arch", "namespace")

    def __init__(self, type: str, name: str, version: str | None, arch: str | None = None,
                 namespace: str | None = None):
        self.type, self.name, self.version, self.arch, self.namespace = type, name, version, arch, namespace

    def to_json(self) -> dict:
        return {"type": self.type, "namespace": self.namespace, "name": self.name, "version": self.version,
                "arch": self.arch}

    def __repr__(self) -> str:
        return f"Package({self.type}:{self.name}@{self.version})"


def _fields(text: str) -> dict[str, str]:
    """RFC 822 style `Key: value` fields (a control file, a METADATA file)."""
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    return {k.lower(): v.strip() for k, v in msg.items()}


def of_deb(fd: int, size: int) -> Package | None:
    """From control.tar.*'s `control` file (Package, Version, Architecture)."""
    for name, off, n in deb.members(fd, 0, size):
        if not name.startswith("control.tar"):
            continue
        raw = io.BytesIO(_pread(fd, off, min(n, 16 * MAX_METADATA)))
        kind = compression(raw.getvalue()[:8])
        stream = decompressor(kind, raw) if kind else raw
        with tarfile.open(fileobj=stream, mode="r|") as t:
            for m in t:
                if m.name in ("./control", "control") and m.isfile() and m.size <= MAX_METADATA:
                    f = _fields(t.extractfile(m).read().decode("utf-8", "replace"))
                    if f.get("package"):
                        # Ubuntu keeps Debian's maintainer as Original-Maintainer
                        vendor = "ubuntu" if "original-maintainer" in f or "ubuntu" in f.get("maintainer", "").lower() \
                            else "debian"
                        return Package("deb", f["package"], f.get("version"), f.get("architecture"), vendor)
        return None
    return None


# RPM header tags: NAME, VERSION, RELEASE, EPOCH, ARCH.
_NAME, _VERSION, _RELEASE, _EPOCH, _ARCH = 1000, 1001, 1002, 1003, 1022
_STRING, _INT32 = 6, 4


def of_rpm(fd: int, size: int) -> Package | None:
    """From the main header's NAME, VERSION, RELEASE (and EPOCH) and ARCH tags."""
    start = rpm.main_header(fd, 0, size)
    head = _pread(fd, start, 16)
    nindex, hsize = struct.unpack(">II", head[8:16])
    index = _pread(fd, start + 16, 16 * nindex)
    store = _pread(fd, start + 16 + 16 * nindex, min(hsize, 16 * MAX_METADATA))
    tags = {}
    for i in range(nindex):
        tag, typ, off, _ = struct.unpack_from(">IIII", index, 16 * i)
        if tag in (_NAME, _VERSION, _RELEASE, _ARCH) and typ == _STRING and off < len(store):
            tags[tag] = store[off:store.find(b"\0", off)].decode("utf-8", "replace")
        elif tag == _EPOCH and typ == _INT32 and off + 4 <= len(store):
            tags[tag] = str(struct.unpack_from(">I", store, off)[0])
    if not tags.get(_NAME):
        return None
    version = "-".join(v for v in (tags.get(_VERSION), tags.get(_RELEASE)) if v) or None
    if version and tags.get(_EPOCH):
        version = f"{tags[_EPOCH]}:{version}"
    return Package("rpm", tags[_NAME], version, tags.get(_ARCH))


_WHEEL_METADATA = re.compile(r"^[^/]+\.dist-info/METADATA$")


def of_member(name: str, data: bytes) -> Package | None:
    """A package's metadata met as a member at its top: a wheel's
    `NAME-VERSION.dist-info/METADATA`, an npm tarball's `package/package.json`."""
    if len(data) > MAX_METADATA:
        return None
    if _WHEEL_METADATA.match(name):
        f = _fields(data.decode("utf-8", "replace"))
        return Package("pypi", f["name"], f.get("version")) if f.get("name") else None
    if name == "package/package.json":
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        if isinstance(doc, dict) and isinstance(doc.get("name"), str):
            version = doc.get("version")
            return Package("npm", doc["name"], version if isinstance(version, str) else None)
    return None


def wanted(name: str) -> bool:
    """Whether a top-level member is package metadata (read for of_member)."""
    return name == "package/package.json" or _WHEEL_METADATA.match(name) is not None


def _pread(fd: int, off: int, n: int) -> bytes:
    return os.pread(fd, n, off)
