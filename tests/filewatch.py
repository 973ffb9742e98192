"""Which files under a tree were opened or read, by any process: the kernel's
inotify, through ctypes. Reads done by forked workers or by Dask workers count
as well as our own, with nothing patched in the code under test.

    with Watch(root) as w:
        run(...)
    w.opened, w.read     # file names (relative to root) seen opened / read

IN_OPEN is any open(2); IN_ACCESS is a read(2), pread(2) or readv(2) that
returned data (mmap reads would not show, and the code under test uses none)."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import time

IN_ACCESS, IN_OPEN, IN_ISDIR = 0x1, 0x20, 0x40000000
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class Watch:
    def __init__(self, root):
        self.root = os.fspath(root)
        self.opened: set[str] = set()
        self.read: set[str] = set()
        self._dirs: dict[int, str] = {}

    def __enter__(self) -> "Watch":
        self.fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        for d, _, _ in os.walk(self.root):
            wd = _libc.inotify_add_watch(self.fd, os.fsencode(d), IN_ACCESS | IN_OPEN)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {d}")
            self._dirs[wd] = d
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.05)  # events of a process that just exited are queued already; be generous
        self._drain()
        os.close(self.fd)

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return
            at = 0
            while at < len(data):
                wd, mask, _, n = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size:at + _EVENT.size + n].rstrip(b"\0").decode("utf-8", "surrogateescape")
                at += _EVENT.size + n
                if mask & IN_ISDIR or not name:  # the walk listing a directory: not a file's contents
                    continue
                rel = os.path.relpath(os.path.join(self._dirs[wd], name), self.root)
                if mask & IN_OPEN:
                    self.opened.add(rel)
                if mask & IN_ACCESS:
                    self.read.add(rel)

    @property
    def touched(self) -> set[str]:
        return self.opened | self.read
