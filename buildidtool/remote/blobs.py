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
import time

from ..archives.streams import CHUNK, Window
from .http import BACKOFF, RETRIES, RemoteError, Transient
from .ranged import temp_fd

_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


class _Layer(Window):
    """A checked blob's temporary file, closed with the reader over it."""

    def close(self) -> None:
        if not self.closed and self.fd is not None:
            os.close(self.fd)
            self.fd = None
        super().close()


class BlobStore:
    """What image.entries reads layers from: `open(digest)` gives a reader of
    the checked blob. `sizes`: each layer's size as its manifest says."""

    def __init__(self, registry, sizes: dict[str, int], max_blob: int | None = None):
        self.registry, self.sizes = registry, sizes
        self.max_blob = max_blob
        self.fetched = 0

    def open(self, digest: str):
        size = self.sizes.get(digest)
        if size is None:
            raise RemoteError(f"layer {digest} is not in the manifest")
        fd = fetch(self.registry, digest, size, self.max_blob)
        self.fetched += size
        return io.BufferedReader(_Layer(fd, 0, size), CHUNK)


def fetch(registry, digest: str, size: int, max_blob: int | None = None) -> int:
    """An fd holding the blob `digest` of `size` bytes, checked. Raises RemoteError."""
    alg, _, hexpart = digest.partition(":")
    if alg not in _ALGORITHMS or not hexpart:
        raise RemoteError(f"layer digest {digest!r} uses an algorithm not checked here")
    if max_blob is not None and size > max_blob:
        raise RemoteError(f"layer {digest} is {size} bytes, more than --max-total-size allows")
    delay = BACKOFF
    for attempt in range(RETRIES + 1):
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
        except Transient as e:
            os.close(fd)
            if attempt == RETRIES:
                raise RemoteError(str(e)) from None
            time.sleep(delay)
            delay *= 2
        except BaseException:
            os.close(fd)
            raise
    raise AssertionError("unreachable")
