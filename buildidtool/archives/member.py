"""Opening one member named by an `ARCHIVE!/MEMBER` path, for read, info,
verify and hash: the outer file is read forward until the member, which is
spooled and handed back as a file descriptor (the caller closes it)."""
from __future__ import annotations

import os

from ..errors import MalformedFile, NotRegularFile, UnreadableFile
from .limits import Limits
from .paths import SEP
from .expand import ARCHIVE, LINK, MEMBER, expand, is_layout, expand_layout


def outer_of(path: str) -> str | None:
    """The file or OCI layout a member path starts from: the longest prefix
    before a separator that exists."""
    parts = path.split(SEP)
    for i in range(len(parts) - 1, 0, -1):
        outer = SEP.join(parts[:i])
        if os.path.isfile(outer) or (os.path.isdir(outer) and is_layout(outer)):
            return outer
    return None


def open_member(path: str, limits: Limits | None = None) -> int:
    limits = limits or Limits()
    outer = outer_of(path)
    if outer is None:
        raise UnreadableFile(path, "No such file or directory")
    if os.path.isdir(outer):
        items = expand_layout(outer, limits, target=path)
    else:
        try:
            fd = os.open(outer, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise UnreadableFile(outer, e.strerror or str(e)) from None
        try:
            items = expand(outer, fd, limits, target=path)
            if items is None:
                raise MalformedFile(outer, "is not an archive this tool opens")
        except BaseException:
            os.close(fd)
            raise
    try:
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
    finally:
        close = getattr(items, "close", None)
        if close:
            close()
        if not os.path.isdir(outer):
            os.close(fd)
