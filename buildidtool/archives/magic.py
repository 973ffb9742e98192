"""Which archive a file or member is, from its first bytes alone. Imported on
every scan, so it imports nothing: the readers load when an archive is met."""
from __future__ import annotations

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
AR_MAGIC = b"!<arch>\n"
RPM_MAGIC = b"\xed\xab\xee\xdb"
GZIP, BZIP2, XZ, ZSTD = "gzip", "bzip2", "xz", "zstd"
_COMPRESSION = ((b"\x1f\x8b", GZIP), (b"BZh", BZIP2), (b"\xfd7zXZ\x00", XZ), (b"\x28\xb5\x2f\xfd", ZSTD))
SUFFIX = {GZIP: "gz", BZIP2: "bz2", XZ: "xz", ZSTD: "zst"}


_FIRST = frozenset(m[0] for m, _ in _COMPRESSION)


def compression(head: bytes) -> str | None:
    if not head or head[0] not in _FIRST:  # most files: one test
        return None
    for magic, kind in _COMPRESSION:
        if head.startswith(magic):
            return kind
    return None


def is_deb(head: bytes) -> bool:
    """ar whose first member is `debian-binary` (Go's own .a archives are ar too)."""
    return head.startswith(AR_MAGIC) and head[8:24].rstrip(b" ").rstrip(b"/") == b"debian-binary"


def looks_like_tar(block: bytes) -> bool:
    """A 512-byte header block: the ustar magic, or a v7 header whose checksum adds up."""
    if len(block) < 512 or block[0] == 0:
        return False
    if block[257:262] == b"ustar":
        return True
    field = block[148:156]
    if field.translate(None, b"01234567 \x00"):  # not an octal field: most files end here, cheaply
        return False
    try:
        stored = int(field.replace(b"\x00", b" ").strip() or b"x", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:512] if b > 127)
    return stored in (unsigned, signed)


def sniff(head: bytes) -> str | None:
    """The archive format of data starting with `head`: zip, deb, rpm, tar, or
    a compression (gzip, bzip2, xz, zstd: the reader decides whether a tar is
    inside); None for anything else."""
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if is_deb(head):
        return "deb"
    if head.startswith(RPM_MAGIC):
        return "rpm"
    if looks_like_tar(head):
        return "tar"
    return compression(head)
