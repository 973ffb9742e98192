"""The zip family (.zip, .whl, .jar, .nupkg, .apk, ...) by the standard
library's zipfile: the central directory is read first (so the archive must
be seekable: a file on disk, or a spooled member), each local header is checked
against it (zipfile refuses a name that differs), data is inflated in C and
its CRC checked at the end of each member."""
from __future__ import annotations

import io
import stat
import struct
import zipfile

from .entry import FILE, OTHER, SYMLINK, UNREADABLE, Entry
from .limits import Budget, LimitExceeded
from .streams import CHUNK, Counted



def declared_count(raw) -> int | None:
    """The member count the end-of-central-directory record declares (zip64 too),
    read before zipfile loads the whole directory into memory; None if not found."""
    raw.seek(0, 2)
    size = raw.tell()
    start = max(0, size - (65536 + 22))
    raw.seek(start)
    tail = raw.read(size - start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    (count,) = struct.unpack_from("<H", tail, at + 10)
    loc = at - 20
    if count == 0xFFFF and loc >= 0 and tail[loc:loc + 4] == b"PK\x06\x07":
        (eocd64,) = struct.unpack_from("<Q", tail, loc + 8)
        if 0 <= eocd64 <= size - 56:
            raw.seek(eocd64)
            rec = raw.read(56)
            if rec[:4] == b"PK\x06\x06":
                (count,) = struct.unpack_from("<Q", rec, 32)
    return count


def entries(raw, budget: Budget):
    count = declared_count(raw)
    lim = budget.limits
    if count is not None and budget.members + count > lim.max_members:
        raise LimitExceeded("max_members", lim.max_members, f"member count {count}")
    raw.seek(0)
    z = zipfile.ZipFile(raw)
    with z:
        for info in z.infolist():
            if info.is_dir():
                continue
            why = _unreadable(info)
            if why:
                yield Entry(info.filename, UNREADABLE, notes=[why])
                continue
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):  # made on Unix: the mode is meaningful
                with z.open(info) as f:
                    target = f.read(4096).decode("utf-8", "surrogateescape")
                yield Entry(info.filename, SYMLINK, link=target)
                continue
            if info.create_system == 3 and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                yield Entry(info.filename, OTHER)
                continue
            lim = budget.limits
            if info.compress_size and info.file_size > lim.ratio_floor \
                    and info.file_size / info.compress_size > lim.max_ratio:
                raise LimitExceeded("max_ratio", lim.max_ratio,
                                    f"{info.filename!r}: expansion ratio {info.file_size / info.compress_size:.0f}")
            reader = _Lazy(z, info, budget if info.compress_type != zipfile.ZIP_STORED else None)
            yield Entry(info.filename, FILE, info.file_size, reader=io.BufferedReader(reader, CHUNK))
            reader.close_member()


# stored, deflate, bzip2, lzma: what zipfile decompresses
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def _unreadable(info) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted member: not read"
    if info.compress_type not in _METHODS:
        return f"compression method {info.compress_type} is not supported: not read"
    return None


class _Lazy(io.RawIOBase):
    """The member opened on first read (zipfile checks the local header then);
    inflated bytes charged to the budget."""

    def __init__(self, z, info, budget):
        self.z, self.info, self.budget, self.f = z, info, budget, None

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.f is None:
            f = self.z.open(self.info)
            self.f = Counted(f, self.budget) if self.budget is not None else f
        data = self.f.read(len(b))
        b[:len(data)] = data
        return len(data)

    def close_member(self) -> None:
        if self.f is not None:
            self.f.close()
