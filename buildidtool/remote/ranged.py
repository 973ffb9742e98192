"""A file at a URL read by byte ranges, so that `read`, `info` and `scan` of a
large binary fetch the few blocks its parsers touch (headers, the section
table, the build-ID note, the build-info blob), not the file.

Reads go through a block cache: 64 KiB blocks, the missing ones of a read
fetched by one range request, the least recently used dropped past 16 MiB.
A server that does not serve ranges (it answers the first ranged request with
the whole file, 200) is read once, forward, into an anonymous temporary file
(at most MAX_DOWNLOAD), and `notes` says so. Code that needs a file
descriptor (hashing for verify and hash, diff) asks for `spooled()` instead:
the file streamed once to a temporary file."""
from __future__ import annotations

import os
import re
from collections import OrderedDict

from ..formats.source import Source
from .http import RemoteError, Transient, client, retrying

BLOCK = 64 << 10
CACHE_BLOCKS = 256                 # 16 MiB of blocks at most
MAX_DOWNLOAD = 4 << 30             # a file streamed whole (no ranges, or verify/hash): as for standard input
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
NO_RANGES = "the server does not serve byte ranges: the whole file was downloaded once"


class RangedSource(Source):
    """A Source whose reads are range requests through the file's block cache."""

    __slots__ = ()
    pread = staticmethod(lambda f, n, off: f.pread(n, off))


class RemoteFile:
    """The file at `url`: its size, bytes by offset (`pread`), a Source over
    it, and what reading it cost (`fetched`, `requests`)."""

    def __init__(self, url: str, http=None):
        self.url = url
        self.http = http or client()
        self.blocks: OrderedDict[int, bytes] = OrderedDict()
        self.fd: int | None = None     # the whole file, when the server sent it whole
        self.notes: list[str] = []
        self.etag: str | None = None
        self.fetched = 0
        self.requests = 0
        self.size = self._first()

    # --- reading ---

    def _first(self) -> int:
        """The first block, and from its answer the size (or the whole file);
        a cut-off answer is asked for again."""
        return retrying(self._first_once)

    def _first_once(self) -> int:
        resp = self._get({"Range": f"bytes=0-{BLOCK - 1}"}, ok=(200, 206, 416))
        if resp.status == 416:  # an empty file has no byte 0
            resp.read_all(1 << 16, "response")
            return 0
        if resp.status == 200:
            self.fd = _stream_to_fd(resp, self, MAX_DOWNLOAD)
            self.notes.append(NO_RANGES)
            return os.fstat(self.fd).st_size
        start, end, total = self._content_range(resp)
        if start != 0 or total is None:
            raise RemoteError(f"the server answered a range request with bytes {start}-{end} of {total}")
        self.etag = resp.header("ETag")
        data = _body(resp, end - start + 1, self)
        self._keep(0, data)
        return total

    def _content_range(self, resp) -> tuple[int, int, int | None]:
        m = _RANGE.match(resp.header("Content-Range") or "")
        if not m:
            raise RemoteError(f"a 206 response without a usable Content-Range ({resp.header('Content-Range')!r})")
        start, end = int(m.group(1)), int(m.group(2))
        total = None if m.group(3) == "*" else int(m.group(3))
        if end < start or (total is not None and end >= total):
            raise RemoteError(f"a 206 response with an impossible Content-Range {resp.header('Content-Range')!r}")
        return start, end, total

    def _get(self, headers: dict, ok=(206,)):
        resp = self.http.request(self.url, headers, ok=ok)
        self.requests += 1
        return resp

    def _fetch(self, first: int, last: int) -> bytes:
        """Blocks first..last (inclusive) in one range request, retried when cut off."""
        start, end = first * BLOCK, min((last + 1) * BLOCK, self.size) - 1

        def once() -> bytes:
            resp = self._get({"Range": f"bytes={start}-{end}"}, ok=(206, 200))
            if resp.status == 200:  # ranges stopped being served: not the file we started on
                resp.close(reuse=False)
                raise RemoteError("the server stopped serving byte ranges while the file was read")
            got = self._content_range(resp)
            if got[0] != start or got[1] != end or got[2] != self.size:
                resp.close(reuse=False)
                raise RemoteError(f"asked for bytes {start}-{end} of {self.size}, the server sent "
                                  f"{resp.header('Content-Range')}: the file changed while it was read?")
            etag = resp.header("ETag")
            if self.etag and etag and etag != self.etag:
                resp.close(reuse=False)
                raise RemoteError("the file changed while it was read (its ETag changed)")
            return _body(resp, end - start + 1, self)

        return retrying(once)

    def pread(self, n: int, off: int) -> bytes:
        """Up to n bytes at off (fewer only at the end of the file), as os.pread."""
        if self.fd is not None:
            return os.pread(self.fd, n, off)
        n = max(0, min(n, self.size - off))
        if n == 0:
            return b""
        first, last = off // BLOCK, (off + n - 1) // BLOCK
        if last - first + 1 > CACHE_BLOCKS // 2:
            # a read larger than half the cache (a symbol table, a whole signed
            # Mach-O's pages) is fetched as it is, not cached
            return self._fetch(first, last)[off - first * BLOCK:][:n]
        parts = []
        b = first
        while b <= last:
            data = self.blocks.get(b)
            if data is not None:
                self.blocks.move_to_end(b)
                parts.append(data)
                b += 1
                continue
            run_end = b
            while run_end + 1 <= last and run_end + 1 not in self.blocks:
                run_end += 1
            data = self._fetch(b, run_end)
            for i in range(b, run_end + 1):
                block = data[(i - b) * BLOCK:(i - b + 1) * BLOCK]
                self._keep(i, block)
                parts.append(block)
            b = run_end + 1
        joined = b"".join(parts)
        start = off - first * BLOCK
        return joined[start:start + n]

    def _keep(self, index: int, data: bytes) -> None:
        self.blocks[index] = data
        while len(self.blocks) > CACHE_BLOCKS:
            self.blocks.popitem(last=False)

    def source(self) -> Source:
        if self.fd is not None:
            return Source(self.fd, 0, self.size)
        return RangedSource(self, 0, self.size)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.blocks.clear()


def _body(resp, n: int, counter) -> bytes:
    """Exactly n bytes of body; a shorter one raises Transient, a longer one RemoteError."""
    length = resp.length
    if length is not None and length != n:
        resp.close(reuse=False)
        raise RemoteError(f"asked for {n} bytes, the server says it sends {length}")
    data = resp.read_all(n, "ranged response")
    counter.fetched += len(data)
    if len(data) != n:
        raise Transient(f"truncated response: {len(data)} of {n} bytes")
    return data


def _stream_to_fd(resp, counter, limit: int) -> int:
    """The body of resp in an anonymous temporary file (memory up to 64 MiB), at most `limit` bytes."""
    length = resp.length
    if length is not None and length > limit:
        resp.close(reuse=False)
        raise RemoteError(f"the file is {length} bytes, more than the {limit >> 30} GiB read from a URL")
    fd = temp_fd(length if length is not None else limit)
    try:
        total = 0
        while chunk := resp.read(1 << 20):
            total += len(chunk)
            if total > limit:
                raise RemoteError(f"the file is more than the {limit >> 30} GiB read from a URL")
            mv = memoryview(chunk)
            while mv:
                mv = mv[os.write(fd, mv):]
        counter.fetched += total
        return fd
    except BaseException:
        os.close(fd)
        raise


MEMORY_SPOOL = 64 << 20


def temp_fd(size: int) -> int:
    """An anonymous file for `size` bytes: memory (memfd) up to 64 MiB, an
    unlinked temporary file beyond, as archive members are spooled."""
    if size <= MEMORY_SPOOL and hasattr(os, "memfd_create"):
        return os.memfd_create("buildid-remote", getattr(os, "MFD_CLOEXEC", 0))
    import tempfile
    f = tempfile.TemporaryFile()
    fd = os.dup(f.fileno())
    f.close()
    return fd


def download(url: str, http=None) -> tuple[int, list[str], int]:
    """The file at url streamed once into an anonymous temporary file: (fd,
    notes, bytes fetched). For verify, hash, diff and archives, which read
    every byte. A cut-off stream is tried again from the start."""
    http = http or client()

    def once() -> tuple[int, list[str], int]:
        resp = http.request(url, {}, ok=(200,))
        counter = _Counter()
        return _stream_to_fd(resp, counter, MAX_DOWNLOAD), [], counter.fetched

    return retrying(once)


class _Counter:
    fetched = 0
