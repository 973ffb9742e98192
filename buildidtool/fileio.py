"""Opening files safely: regular files only, checked before and after open so a
FIFO can never block us and a device is never read."""
from __future__ import annotations

import os
import stat

from .archives.paths import is_member_path
from .errors import NotRegularFile, RewriteError, UnreadableFile, os_message

_KINDS = ((stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a FIFO"),
          (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
          (stat.S_ISSOCK, "is a socket"))


def _kind(mode: int) -> str:
    for test, what in _KINDS:
        if test(mode):
            return what
    return "is not a regular file"


def check_regular(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except OSError as e:
        raise UnreadableFile(path, os_message(e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path, _kind(st.st_mode))
    return st


def open_regular(path: str, write: bool = False) -> int:
    if is_member_path(path):
        if write:
            raise RewriteError(path, "is an archive member and cannot be rewritten; nothing was changed")
        from .archives.member import open_member  # tarfile, zipfile, zstandard: 40+ ms plain files never pay
        return open_member(path)
    check_regular(path)
    flags = (os.O_RDWR if write else os.O_RDONLY) | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise UnreadableFile(path, os_message(e)) from None
    # The path may have been swapped for something else between stat and open.
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(path, _kind(mode))
    return fd


class opened:
    """`with opened(path) as fd:` (a class, not contextlib, to keep imports light)."""

    def __init__(self, path: str, write: bool = False):
        self.fd = open_regular(path, write)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc) -> None:
        os.close(self.fd)
