"""Layer blobs of a registry image, each fetched once and checked before any
of its files is read: the blob is streamed into an anonymous temporary file
(memory up to 64 MiB, disk beyond: one layer at a time) while it is hashed,
and only a blob of the size and digest its manifest names is handed to the
image reader, which then reads it as it reads a layer of a local image (gzip
and zstd decompressed as a stream, members spooled from it). A blob that does
not match is an error on the image's record and gives no record of its own;
a stream cut off is fetched again (with backoff), as are transient failures."""
from __future__ import annotations

import hashlib
import io
import os

from ..archives.streams import CHUNK, Window
from .http import RemoteError, Transient, retrying
from .ranged import MEMORY_SPOOL, temp_fd

_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
AHEAD = 2  # layers prepared ahead of the one being read: two inflating at once fill two cores


class _Layer(Window):
    """A checked blob's temporary file, closed with the reader over it."""

    def close(self) -> None:
        if not self.closed and self.fd is not None:
            os.close(self.fd)
            self.fd = None
        super().close()


class BlobStore:
    """What image.entries reads layers from: `open(digest)` gives a reader of
    the checked blob. `sizes`: each layer's size as its manifest says.

    A gzip layer (nearly every layer a registry holds) is inflated once into a
    temporary file by zlib in large pieces, so the tar is read as a local
    uncompressed one is (in place, members copied by the kernel), not through
    tarfile's 10 KiB stream reads: measured on an image of 52 Go binaries,
    Python's reading of the stream cost as much as inflating it. With
    `prefetch(order)`, the next AHEAD layers are fetched, checked and inflated
    in threads of their own while this one is read (zlib and hashlib release
    the GIL, so two cores inflate two layers at once); the HTTP client is
    shared under its lock."""

    def __init__(self, registry, sizes: dict[str, int], max_blob: int | None = None):
        self.registry, self.sizes = registry, sizes
        self.max_blob = max_blob
        self.budget = None        # the image's Budget: inflated bytes count against the limits
        self._order: list[str] = []
        self._ahead: list = []    # (digest, thread, box) of the layers being prepared, in order

    def prefetch(self, order: list[str]) -> None:
        """The digests in the order they will be opened (a scan reads every layer)."""
        self._order = list(order)

    def open(self, digest: str):
        fd = self._take(digest)
        try:
            size = os.fstat(fd).st_size
            self._start_next(digest)
        except BaseException:
            os.close(fd)
            raise
        return io.BufferedReader(_Layer(fd, 0, size), CHUNK)

    def _prepare(self, digest: str) -> int:
        size = self.sizes.get(digest)
        if size is None:
            raise RemoteError(f"layer {digest} is not in the manifest")
        fd = fetch(self.registry, digest, size, self.max_blob)
        try:
            inflated = inflate(fd, self.budget)
        except BaseException:
            os.close(fd)
            raise
        if inflated is None:
            return fd
        os.close(fd)
        return inflated

    def _take(self, digest: str) -> int:
        while self._ahead:
            want, thread, box = self._ahead.pop(0)
            thread.join()
            if want == digest:
                if "error" in box:
                    raise box["error"]
                return box["fd"]
            if "fd" in box:  # not the order announced: dropped
                os.close(box["fd"])
        return self._prepare(digest)

    def _start_next(self, digest: str) -> None:
        if digest not in self._order:
            return
        i = self._order.index(digest) + 1
        started = {d for d, _, _ in self._ahead}
        import threading
        for nxt in self._order[i:i + AHEAD]:
            if nxt in started:
                continue
            box: dict = {}

            def work(nxt=nxt, box=box):
                try:
                    box["fd"] = self._prepare(nxt)
                except BaseException as e:  # handed to the reader when it opens that layer
                    box["error"] = e
            thread = threading.Thread(target=work, name="buildid-layer", daemon=True)
            thread.start()
            self._ahead.append((nxt, thread, box))

    def close(self) -> None:
        """Drop the layers prepared ahead that nobody will read."""
        ahead, self._ahead = self._ahead, []
        for _, thread, box in ahead:
            thread.join()
            if "fd" in box:
                os.close(box["fd"])


_GZIP = b"\x1f\x8b"
_PIECE = 4 << 20


def inflate(fd: int, budget, zlib=None) -> int | None:
    """The tar inside a gzip blob on fd, in a new temporary file (every
    concatenated member, as gzip -d reads them), each piece charged to the
    budget as it is produced; None when the blob is not gzip. `zlib`: the
    module to inflate with (default: zlib-ng's if installed)."""
    if os.pread(fd, 2, 0) != _GZIP:
        return None
    zlib = zlib or _zlib()
    size = os.fstat(fd).st_size
    hint = int.from_bytes(os.pread(fd, 4, size - 4), "little") if size >= 4 else 0  # ISIZE, mod 2**32
    out = temp_fd(hint)
    in_memory = hint <= MEMORY_SPOOL
    written = 0
    try:
        d = zlib.decompressobj(wbits=31)
        pos = 0
        pending = b""
        while True:
            if not pending:
                pending = os.pread(fd, _PIECE, pos)
                pos += len(pending)
                if not pending:
                    break
            data = d.decompress(pending, _PIECE)
            pending = d.unconsumed_tail
            done = False
            if d.eof:  # another member may follow; anything else after the last is padding
                rest = d.unused_data
                if len(rest) < 2 and pos < size:
                    more = os.pread(fd, _PIECE, pos)
                    pos += len(more)
                    rest += more
                if rest.startswith(_GZIP):
                    d, pending = zlib.decompressobj(wbits=31), rest
                else:
                    done = True
            if data:
                if budget is not None:
                    budget.count(len(data))
                written += len(data)
                if in_memory and written > 2 * MEMORY_SPOOL:  # its trailer lied: to disk
                    out, in_memory = _to_disk(out), False
                mv = memoryview(data)
                while mv:
                    mv = mv[os.write(out, mv):]
            if done:
                break
        # a stream cut short (not possible for a checked blob, but a lying one)
        # leaves a short tar, which tarfile reports as truncated
        return out
    except zlib.error as e:  # the chosen module's error
        os.close(out)
        raise RemoteError(f"layer does not decompress: {e}") from None
    except BaseException:
        os.close(out)
        raise


def _zlib():
    """zlib-ng's inflate where it is installed (the `fast` extra: 2.9x the
    standard library's on image layers, benchmarks/README.md), else zlib's."""
    try:
        from zlib_ng import zlib_ng
        return zlib_ng
    except ImportError:
        import zlib
        return zlib


def _to_disk(memfd: int) -> int:
    import tempfile
    f = tempfile.TemporaryFile()
    fd = os.dup(f.fileno())
    f.close()
    size = os.fstat(memfd).st_size
    done = 0
    while done < size:
        done += os.sendfile(fd, memfd, done, size - done)
    os.close(memfd)
    return fd


def fetch(registry, digest: str, size: int, max_blob: int | None = None) -> int:
    """An fd holding the blob `digest` of `size` bytes, checked. Raises RemoteError."""
    alg, _, hexpart = digest.partition(":")
    if alg not in _ALGORITHMS or not hexpart:
        raise RemoteError(f"layer digest {digest!r} uses an algorithm not checked here")
    if max_blob is not None and size > max_blob:
        raise RemoteError(f"layer {digest} is {size} bytes, more than --max-total-size allows")

    def once() -> int:
        resp = registry.get(f"blobs/{digest}")
        length = resp.length
        if length is not None and length != size:
            resp.close(reuse=False)
            raise RemoteError(f"blob {digest} is {length} bytes, the manifest says {size}")
        fd = temp_fd(size)
        try:
            h = _ALGORITHMS[alg]()
            got = 0
            while chunk := resp.read(min(CHUNK, size + 1 - got)):
                got += len(chunk)
                if got > size:
                    resp.close(reuse=False)
                    raise RemoteError(f"blob {digest} is longer than the {size} bytes the manifest says")
                h.update(chunk)
                mv = memoryview(chunk)
                while mv:
                    mv = mv[os.write(fd, mv):]
            if got < size:
                raise Transient(f"truncated blob {digest}: {got} of {size} bytes")
            if h.hexdigest() != hexpart:
                raise RemoteError(f"blob {digest} does not match its digest (its bytes hash to {alg}:{h.hexdigest()}); "
                                  "none of its files was read")
            return fd
        except BaseException:
            os.close(fd)
            raise

    return retrying(once)
