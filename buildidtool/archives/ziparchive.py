"""The zip family (.zip, .whl, .jar, .nupkg, .apk, ...) by the standard
library's zipfile: the central directory is read first (so the archive must
be seekable: a file on disk, or a spooled member), each local header is checked
against it (zipfile refuses a name that differs), data is inflated in C and
its CRC checked at the end of each member."""
from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib

from .entry import FILE, OTHER, SYMLINK, UNREADABLE, Entry
from .limits import READER_MEMORY, Budget, LimitExceeded
from .streams import CHUNK, Counted, Window

from ..formats.source import PREFIX_SIZE as HEAD  # the prefix the format parsers read first


def directory(raw) -> tuple[int, int, int] | None:
    """(member count, offset, size) of the central directory as the
    end-of-central-directory record declares them (zip64 too), read before
    zipfile loads the directory into memory; None if not found."""
    raw.seek(0, 2)
    size = raw.tell()
    start = max(0, size - (65536 + 22))
    raw.seek(start)
    tail = raw.read(size - start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count, cd_size = struct.unpack_from("<HI", tail, at + 10)
    eocd = start + at
    # zipfile reads a zip64 end record from just before the locator (not where
    # the locator points), and the directory from just before the end record,
    # whatever offset is declared (bytes may be prepended, as in a self-extractor)
    loc = at - 20
    if loc >= 0 and tail[loc:loc + 4] == b"PK\x06\x07" and start + loc >= 56:
        raw.seek(start + loc - 56)
        rec = raw.read(56)
        if rec[:4] == b"PK\x06\x06":
            count, cd_size = struct.unpack_from("<QQ", rec, 32)
            eocd = start + loc - 56
    cd_size = max(0, min(cd_size, eocd))
    return count, eocd - cd_size, cd_size


# What zipfile holds per member beyond the directory's own bytes (a ZipInfo and
# its names), and the directory read whole and decoded into those names: about
# ENTRY_BYTES + 2 * directory size in all, measured on Python 3.11.
ENTRY_BYTES = 512
_MIN_ENTRY = 46  # a central directory header without name, extra field or comment


def _entries_in(raw, offset: int, size: int) -> int:
    """The headers actually in the central directory (zipfile reads them all,
    whatever count the end record declares), counted without keeping them."""
    raw.seek(offset)
    n, buf, pos, left = 0, b"", 0, size
    while True:
        if len(buf) - pos < _MIN_ENTRY:
            more = raw.read(min(left, 1 << 20))
            left -= len(more)
            buf, pos = buf[pos:] + more, 0
            if len(buf) < _MIN_ENTRY:
                return n
        if buf[pos:pos + 4] != b"PK\x01\x02":
            return n
        name, extra, comment = struct.unpack_from("<HHH", buf, pos + 28)
        step = _MIN_ENTRY + name + extra + comment
        n += 1
        if pos + step <= len(buf):
            pos += step
        else:  # the rest of this header lies past the buffer: skip it in the stream
            skip = pos + step - len(buf)
            raw.seek(skip, 1)
            left -= skip
            buf, pos = b"", 0
            if left <= 0:
                return n


def _charge(raw, budget: Budget) -> int:
    """Charge what loading the directory will hold, before zipfile loads it."""
    d = directory(raw)
    if d is None:
        return 0  # zipfile fails on it without reading a directory
    count, offset, size = d
    lim = budget.limits
    if budget.members + count > lim.max_members:
        raise LimitExceeded("max_members", lim.max_members, f"member count {count}")
    # Every header is at least 46 bytes: the most the directory can hold. Only
    # when that could pass the bound are the headers counted.
    most = size // _MIN_ENTRY
    if budget.held + 2 * size + ENTRY_BYTES * most > READER_MEMORY:
        most = _entries_in(raw, offset, size)
    held = 2 * size + ENTRY_BYTES * most
    budget.hold(held, f"zip central directory of {most} entries ({size} bytes)")
    return held


def entries(raw, budget: Budget):
    held = _charge(raw, budget)
    try:
        yield from _entries(raw, budget)
    finally:
        budget.release(held)


def _entries(raw, budget: Budget):
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
            e = Entry(info.filename, FILE, info.file_size, reader=io.BufferedReader(reader, CHUNK))
            e.head = _head(raw, info, budget)
            yield e
            reader.close_member()


def _head(raw, info, budget: Budget) -> bytes | None:
    """The first HEAD bytes of a stored or deflated member, read with one pread
    and inflated in one call, with the checks zipfile.open makes (the local
    header's magic and name) and, when that is the whole member, its CRC; None
    for anything else, which zipfile then reads. A jar holds tens of thousands
    of small members, most of which only this head decides: zipfile's reader
    costs five times as much per member."""
    window = raw.raw
    flags = info.flag_bits
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or flags & 0x61 \
            or not isinstance(window, Window):
        return None
    name = info.orig_filename.encode("utf-8" if flags & 0x800 else "cp437")
    want = min(info.file_size, HEAD)
    # deflate never needs much more input than it gives out (stored blocks: 5 bytes per 64 KiB)
    take = min(info.compress_size, want + 1024) if info.compress_type else want
    fixed = 30 + len(name)
    data = os.pread(window.fd, fixed + 1024 + take, window.base + info.header_offset)
    if len(data) < 30 or data[:4] != b"PK\x03\x04":
        return None  # zipfile says what is wrong
    n, m = struct.unpack_from("<HH", data, 26)
    if data[30:30 + n] != name:
        return None
    start = 30 + n + m
    if len(data) < start + take:
        if m <= 1024:
            return None  # cut by the end of the file
        data = os.pread(window.fd, start + take, window.base + info.header_offset)
        if len(data) < start + take:
            return None
    body = data[start:start + take]
    if info.compress_type == zipfile.ZIP_STORED:
        head = body
    else:
        try:
            head = zlib.decompressobj(-15).decompress(body, want)
        except zlib.error:
            return None
        budget.count(len(head))
    if len(head) != want:
        return None
    if want == info.file_size and zlib.crc32(head) != info.CRC:
        return None
    return head


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
