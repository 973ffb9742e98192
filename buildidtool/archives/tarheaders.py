"""tarfile with its header extensions bounded before they are read.

The standard library reads a pax header, a GNU long name or a GNU sparse map
whole, whatever size the archive declares, and builds the sparse map as a list
of every entry: Go's own test archive gnu-sparse-many-zeros.tar.bz2 (1.6 KB)
declares ten million entries and costs tarfile 1.9 GB. Here each size is
checked before tarfile reads it, the way Go's archive/tar bounds them (1 MiB
per special header), and the sparse readers are replaced by ones that stop at
a bound. The rest (checksums, ustar, pax and GNU fields, data) stays tarfile's."""
from __future__ import annotations

import tarfile
from tarfile import BLOCKSIZE, GNUTYPE_LONGLINK, GNUTYPE_LONGNAME, GNUTYPE_SPARSE, SOLARIS_XHDTYPE, XGLTYPE, \
    XHDTYPE, nti

from .limits import MAX_GLOBAL_HEADERS, MAX_HEADER, MAX_SPARSE_ENTRIES, OverMemoryBound

_NAMES = {XHDTYPE: "pax header", SOLARIS_XHDTYPE: "pax header", XGLTYPE: "global pax header",
          GNUTYPE_LONGNAME: "GNU long name", GNUTYPE_LONGLINK: "GNU long link name"}


class BoundedInfo(tarfile.TarInfo):
    """A TarInfo whose extension headers are bounded (see the module's doc)."""

    def _proc_member(self, tar):
        kind = _NAMES.get(self.type)
        if kind is not None:
            if self.size < 0:
                raise tarfile.InvalidHeaderError(f"{kind} with a negative size")
            # Headers before one member nest (tarfile reads the next header
            # while holding this one): their sum is what is held at once.
            before = tar.header_bytes
            tar.header_bytes += self.size
            if tar.header_bytes > MAX_HEADER:
                after = f" after {before} bytes of other headers" if before else ""
                raise OverMemoryBound(f"{kind} of {self.size} bytes{after}", MAX_HEADER)
            if self.type == XGLTYPE:
                tar.global_bytes += self.size
                if tar.global_bytes > MAX_GLOBAL_HEADERS:
                    raise OverMemoryBound(f"global pax headers of {tar.global_bytes} bytes in all",
                                          f"{MAX_GLOBAL_HEADERS // 1024} KiB")
        return super()._proc_member(tar)

    def _proc_sparse(self, tar):
        """Old GNU sparse member: the map continues in extension blocks, as
        many as the archive says; at most MAX_HEADER of them, as Go."""
        structs, isextended, origsize = self._sparse_structs
        del self._sparse_structs
        read = 0
        while isextended:
            read += BLOCKSIZE
            if read > MAX_HEADER:
                raise OverMemoryBound("GNU sparse map of more than 1 MiB of extension blocks", MAX_HEADER)
            buf = tar.fileobj.read(BLOCKSIZE)
            if len(buf) != BLOCKSIZE:
                raise tarfile.ReadError("unexpected end of data in a GNU sparse map")
            pos = 0
            for _ in range(21):
                try:
                    offset = nti(buf[pos:pos + 12])
                    numbytes = nti(buf[pos + 12:pos + 24])
                except ValueError:
                    break
                if offset and numbytes:
                    structs.append((offset, numbytes))
                pos += 24
            isextended = bool(buf[504])
        self.sparse = structs
        self.offset_data = tar.fileobj.tell()
        tar.offset = self.offset_data + self._block(self.size)
        self.size = origsize
        return self

    def _proc_gnusparse_01(self, next, pax_headers, *rest):
        """GNU sparse 0.1: the map is one pax value; counted before it is split."""
        entries = (pax_headers["GNU.sparse.map"].count(",") + 1) // 2
        _check_entries(entries)
        return super()._proc_gnusparse_01(next, pax_headers, *rest)

    def _proc_gnusparse_10(self, next, pax_headers, tar, *rest):
        """GNU sparse 1.0: the map is text at the start of the member's data,
        a count and then that many offset/size pairs, one number a line;
        read within MAX_HEADER and MAX_SPARSE_ENTRIES."""
        buf = tar.fileobj.read(BLOCKSIZE)
        read = len(buf)
        numbers = []

        def number() -> int:
            nonlocal buf, read
            while b"\n" not in buf:
                if read >= MAX_HEADER:
                    raise OverMemoryBound("GNU sparse map of more than 1 MiB", MAX_HEADER)
                more = tar.fileobj.read(BLOCKSIZE)
                if len(more) != BLOCKSIZE:
                    raise tarfile.ReadError("unexpected end of data in a GNU sparse map")
                read += BLOCKSIZE
                buf += more
            field, buf = buf.split(b"\n", 1)
            try:
                return int(field)
            except ValueError:
                raise tarfile.InvalidHeaderError("GNU sparse map holds a field that is not a number") from None

        count = number()
        if count < 0:
            raise tarfile.InvalidHeaderError("GNU sparse map with a negative entry count")
        _check_entries(count)
        for _ in range(2 * count):
            numbers.append(number())
        next.offset_data = tar.fileobj.tell()
        next.sparse = list(zip(numbers[::2], numbers[1::2]))


def _check_entries(n: int) -> None:
    if n > MAX_SPARSE_ENTRIES:
        raise OverMemoryBound(f"GNU sparse map of {n} entries", f"{MAX_SPARSE_ENTRIES} entries")


class BoundedTarFile(tarfile.TarFile):
    """tarfile.TarFile reading BoundedInfo headers; the bytes of extension
    headers held are counted per member."""

    tarinfo = BoundedInfo
    header_bytes = 0
    global_bytes = 0

    def next(self):
        self.header_bytes = 0
        return super().next()


def open_tar(fileobj, mode: str) -> BoundedTarFile:
    return BoundedTarFile.open(fileobj=fileobj, mode=mode, errorlevel=2)
