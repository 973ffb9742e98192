"""Opening one member named by an `ARCHIVE!/MEMBER` path, for read, info,
verify and hash: the outer file is read forward until the member, which is
spooled and handed back as a file descriptor (the caller closes it)."""
from __future__ import annotations

import os
import re

from ..errors import MalformedFile, NotRegularFile, UnreadableFile
from .limits import Limits
from .paths import SEP
from .expand import ARCHIVE, LINK, MEMBER, expand, is_layout, expand_layout


_PINNED = re.compile(r"^(.*)@((?:sha256:[0-9a-f]{64})|(?:sha512:[0-9a-f]{128}))$", re.S)


def outer_of(path: str) -> str | None:
    """The file or OCI layout a member path starts from: the longest prefix
    before a separator that exists."""
    parts = path.split(SEP)
    for i in range(len(parts) - 1, 0, -1):
        outer = SEP.join(parts[:i])
        if _exists(outer):
            return outer
        m = _PINNED.match(outer)  # IMAGE@DIGEST: one image of several (scan --platform all)
        if m and _exists(m.group(1)):
            return outer
    return None


def _exists(outer: str) -> bool:
    return os.path.isfile(outer) or (os.path.isdir(outer) and is_layout(outer))


def open_member(path: str, limits: Limits | None = None) -> int:
    limits = limits or Limits()
    name = outer = outer_of(path)
    if outer is None:
        raise UnreadableFile(path, "No such file or directory")
    m = _PINNED.match(outer) if not _exists(outer) else None
    if m:
        outer, limits.platform = m.group(1), m.group(2)  # the image of that digest, named as scan named it
    if os.path.isdir(outer):
        items = expand_layout(outer, limits, target=path, name=name)
    else:
        try:
            fd = os.open(outer, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise UnreadableFile(outer, e.strerror or str(e)) from None
        try:
            items = expand(name, fd, limits, target=path)
            if items is None:
                raise MalformedFile(outer, "is not an archive this tool opens")
        except BaseException:
            os.close(fd)
            raise
    return picked(path, items, None if os.path.isdir(outer) else fd)


def picked(path: str, items, fd: int | None) -> int:
    """pick(), then `items` closed and `fd` (the archive's, when there is one) too."""
    try:
        return pick(path, items)
    finally:
        close = getattr(items, "close", None)
        if close:
            close()
        if fd is not None:
            os.close(fd)


def pick(path: str, items) -> int:
    """The spooled fd (a dup, for the caller) of the member `path` among `items`."""
    for item in items:
        if item.name == path and item.kind == MEMBER and item.fd is not None:
            return os.dup(item.fd)
        if item.name == path and item.kind == MEMBER and item.error:
            raise MalformedFile(path, item.error)
        if item.name == path and item.kind == LINK:
            raise NotRegularFile(path, f"is a {item.link} inside the archive (links are not followed)")
        if item.kind == ARCHIVE and item.error and (path.startswith(item.name + SEP) or item.name == path):
            raise MalformedFile(item.name, item.error)
    raise UnreadableFile(path, "no such member in the archive")
