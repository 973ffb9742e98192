"""Opening files safely: regular files only, checked before and after open so a
FIFO can never block us and a device is never read."""
from __future__ import annotations

import os
import stat

from .archives.paths import SEP, is_member_path
from .errors import NotRegularFile, RewriteError, UnreadableFile, naming, os_message
from .remote import is_reference

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


def open_regular(path: str, write: bool = False, ranged: bool = False):
    """A read-only (or, for a rewrite, read-write) fd of the regular file
    `path`, or of the member an `ARCHIVE!/MEMBER` path names. A remote
    reference (`registry:...!/MEMBER`, `https://...`) gives the fd of its
    bytes fetched once, or with `ranged`, for a URL, a remote.ranged.RemoteFile
    that fetches only what is read (Source.of_file and facts.gather take either)."""
    if is_reference(path):
        if write:
            raise RewriteError(path, "is a remote input and cannot be rewritten; nothing was changed")
        from .remote import opening  # an HTTP client: never loaded for local files
        with naming(path):  # remote errors come without the name, as core errors do
            if SEP in path:
                return opening.open_member(path)
            return opening.open_file(path, whole=not ranged)
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

    def __init__(self, path: str, write: bool = False, ranged: bool = False):
        self.fd = open_regular(path, write, ranged)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc) -> None:
        if type(self.fd) is int:
            os.close(self.fd)
        else:
            self.fd.close()
