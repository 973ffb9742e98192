"""Opening a remote input, for the per-file commands (through fileio) and for
scan (through inputs.py): the one place references become bytes.

- a URL: a RemoteFile read by ranges (`read`, `info`, `scan`), or with
  `whole`, the file streamed once into a temporary file (verify, hash, diff:
  they hash every byte from a file descriptor);
- a URL of an archive with a member (`https://host/pkg.deb!/usr/bin/app`):
  the archive downloaded once, then opened as a local one;
- a registry image with a member (`registry:host/repo:tag!/usr/bin/app`):
  layers fetched top down, each checked, until the member is found;
- a registry image for scan: its items (members, links, its own record)
  named `registry:host/repo:tag@DIGEST!/MEMBER` after the manifest read."""
from __future__ import annotations

import os

from ..archives.expand import expand, expand_image
from ..archives.limits import Limits
from ..archives.member import picked
from ..errors import MalformedFile
from .http import RemoteError
from .ranged import RemoteFile, download
from .refs import BadReference, is_registry, parse_image, split_member


def open_file(url: str, whole: bool = False):
    """A URL without a member: a RemoteFile, or with `whole` an fd of the
    whole file (the caller closes either). Raises RemoteError."""
    if is_registry(url):
        raise RemoteError("is an image: name a file in it (REF!/usr/bin/app), or scan it")
    if whole:
        fd, _, _ = download(url)
        return fd
    return RemoteFile(url)


def open_member(path: str, limits: Limits | None = None) -> int:
    """An fd of the member `path` names inside a remote image or archive."""
    limits = limits or Limits()
    outer, member = split_member(path)
    if is_registry(outer):
        ref = _parse(outer)
        from .registry import resolve, store
        reg, imgs = resolve(ref, limits.platform if limits.platform != "all" else None)
        img = imgs[0]
        items = expand_image(outer, store(reg, img), img, limits, target=path,
                             input_size=sum(img.sizes.values()))
    else:
        fd, _, _ = download(outer)
        try:
            items = expand(outer, fd, limits, target=path)
        except BaseException:
            os.close(fd)
            raise
        if items is None:
            os.close(fd)
            raise MalformedFile(outer, "is not an archive this tool opens")
    return picked(path, items, None if is_registry(outer) else fd)


def image_items(ref_text: str, limits: Limits, all_layers: bool = False, spool_all: bool = False):
    """The items of a registry image (each platform's, with --platform all),
    named by the manifest read. Raises RemoteError before the first item when
    the image cannot be found; a layer that fails later is an error on its
    image's record."""
    ref = _parse(ref_text)
    from .registry import resolve, store
    reg, imgs = resolve(ref, limits.platform)
    max_blob = limits.max_total_size

    def run():
        for img in imgs:
            blobs = store(reg, img)
            blobs.max_blob = max_blob
            digests = [d for d, _ in img.layers]
            blobs.prefetch(digests if all_layers else digests[::-1])  # the order image.entries reads them
            try:
                yield from expand_image(ref.pinned(img.digest), blobs, img, limits, all_layers,
                                        spool_all=spool_all, input_size=sum(img.sizes.values()))
            finally:
                blobs.close()
    return run()


def url_input(url: str, whole: bool):
    """For scan: (RemoteFile or fd, first bytes). The first range request
    gives the first 64 KiB, which decide what the file is."""
    if whole:
        fd, _, _ = download(url)
        return fd, os.pread(fd, 32 << 10, 0)
    f = RemoteFile(url)
    try:
        return f, f.pread(32 << 10, 0)
    except BaseException:
        f.close()
        raise


def whole_fd(f) -> int:
    """An fd of the whole of a RemoteFile (downloaded once more only if the
    ranged reads did not already bring it all); the caller closes it."""
    if f.fd is not None:
        return os.dup(f.fd)
    fd, _, _ = download(f.url, f.http)
    return fd


def _parse(text: str):
    try:
        return parse_image(text)
    except BadReference as e:
        raise RemoteError(str(e)) from None
