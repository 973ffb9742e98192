"""The walk of a scan: the regular files under the paths given, in sorted
order, streamed (one directory's entries in memory per level), and the
problems met on the way as items of their own."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from operator import attrgetter

from .remote import is_reference


class Walked:
    """A file to scan, or a problem met while walking (error set, path kept)."""

    __slots__ = ("path", "error")

    def __init__(self, path: str, error: str | None = None):
        self.path = path
        self.error = error

    def __reduce__(self):  # pickled by the million: keep it a bare tuple
        return (Walked, (self.path, self.error))


_BY_NAME = attrgetter("name")


class ScanStats:
    __slots__ = ("skipped",)

    def __init__(self) -> None:
        self.skipped = 0  # FIFOs, devices, sockets, symlinks not followed


def walk(roots: Iterable[str], follow_symlinks: bool, stats: ScanStats, layouts: bool = False) -> Iterator[Walked]:
    """Regular files under each root, in sorted path order, as a stream (one
    directory's entries in memory per level). A root that cannot be read is an
    error item. Symlinks are followed only when asked, and then each directory
    is entered once (by device and inode), so a looping link cannot recurse.
    With `layouts`, a root that is an OCI image layout directory is one item."""
    seen: set[tuple[int, int]] | None = set() if follow_symlinks else None
    for root in roots:
        if is_reference(root):  # an image in a registry, a file by URL: read by the workers
            yield Walked(root)
            continue
        try:
            st = os.stat(root)  # roots named on the command line are followed, as find -H does
        except OSError as e:
            yield Walked(root, e.strerror or str(e))
            continue
        if stat.S_ISREG(st.st_mode):
            yield Walked(root)
        elif layouts and stat.S_ISDIR(st.st_mode) and os.path.isfile(os.path.join(root, "oci-layout")):
            yield Walked(root)  # an OCI image layout named on the command line reads as one image
        elif stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, follow_symlinks, stats, seen)
        else:
            stats.skipped += 1


def _walk_dir(root: str, follow: bool, stats: ScanStats, seen: set | None) -> Iterator[Walked]:
    stack: list[Iterator[os.DirEntry]] = []  # sorted entries of each open directory
    err = _enter(root, seen, stack)
    if err:
        yield Walked(root, err)
    while stack:
        e = next(stack[-1], None)
        if e is None:
            stack.pop()
            continue
        try:
            if not follow and e.is_file(follow_symlinks=False):  # most entries: one test
                yield Walked(e.path)
                continue
            if e.is_symlink():
                if not follow:
                    stats.skipped += 1
                    continue
                os.stat(e.path)  # a dangling or looping link fails here
            if e.is_dir(follow_symlinks=follow):
                err = _enter(e.path, seen, stack)
                if err:
                    yield Walked(e.path, err)
            elif e.is_file(follow_symlinks=follow):
                yield Walked(e.path)
            else:
                stats.skipped += 1
        except OSError as x:
            yield Walked(e.path, x.strerror or str(x))


def _enter(d: str, seen: set | None, stack: list) -> str | None:
    """Push d's sorted entries, unless d was entered before (only tracked when
    following links: without them the tree has no cycles); an error message if
    unreadable."""
    try:
        if seen is not None:
            st = os.stat(d)
            if (st.st_dev, st.st_ino) in seen:
                return None
            seen.add((st.st_dev, st.st_ino))
        with os.scandir(d) as it:
            stack.append(iter(sorted(it, key=_BY_NAME)))
    except OSError as e:
        return e.strerror or str(e)
    return None
