"""The walk of a scan: the regular files under the paths given, in sorted
order, streamed (one directory's entries in memory per level), and the
problems met on the way as items of their own."""
from __future__ import annotations

import errno
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


# Which symbolic links the walk follows: links to files (the default, as
# `go version -m DIR` does), also links to directories (--follow-symlinks,
# each directory entered once), or none (--no-follow-symlinks).
FILE_LINKS, ALL_LINKS, NO_LINKS = "files", "all", "none"


class ScanStats:
    """What the walk passed over, by reason, for the summary."""

    __slots__ = ("dir_links", "links", "broken", "loops", "special", "_loop_keys")

    def __init__(self) -> None:
        self.dir_links = 0  # links to directories, not entered without --follow-symlinks
        self.links = 0  # links of any kind, with --no-follow-symlinks
        self.broken = 0  # links to nothing
        self.loops = 0  # loops of links, each counted once whatever number of links lead into it
        self.special = 0  # FIFOs, devices, sockets (and links to them)
        self._loop_keys: set = set()

    @property
    def skipped(self) -> int:
        return self.dir_links + self.links + self.broken + self.loops + self.special

    def words(self) -> str:
        """`N skipped (why, for each reason)`: the summary's last words."""
        why = [w for n, w in ((self.dir_links, _n(self.dir_links, "symbolic link to a directory",
                                                  "symbolic links to directories")
                               + ": --follow-symlinks enters them"),
                              (self.links, f"{_n(self.links, 'symbolic link')} not followed: --no-follow-symlinks"),
                              (self.broken, _n(self.broken, "broken symbolic link")),
                              (self.loops, _n(self.loops, "symbolic link loop")),
                              (self.special, _n(self.special, "FIFO, device or socket", "FIFOs, devices or sockets")))
               if n]
        return f"{self.skipped} skipped" + (f" ({'; '.join(why)})" if why else "")

    def loop(self, path: str) -> None:
        """A link that loops: counted once per loop."""
        key = _loop_key(path)
        if key not in self._loop_keys:
            self._loop_keys.add(key)
            self.loops += 1


def _n(n: int, one: str, many: str | None = None) -> str:
    return f"1 {one}" if n == 1 else f"{n} {many or one + 's'}"


def _loop_key(path: str):
    """The loop a link leads into, as the smallest (device, inode) of the links
    in the cycle, so that every link of one loop (or leading into it) gives the
    same key; for a chain too long without a cycle, the link itself."""
    chain: list = []
    p = path
    for _ in range(64):
        try:
            st = os.lstat(p)
            key = (st.st_dev, st.st_ino)
            if key in chain:
                return min(chain[chain.index(key):])
            chain.append(key)
            if not stat.S_ISLNK(st.st_mode):
                break
            p = os.path.join(os.path.dirname(p), os.readlink(p))
        except OSError:
            break
    return chain[0] if chain else path


def walk(roots: Iterable[str], links, stats: ScanStats, layouts: bool = False) -> Iterator[Walked]:
    """Regular files under each root, in sorted path order, as a stream (one
    directory's entries in memory per level). A root that cannot be read is an
    error item. `links`: FILE_LINKS, ALL_LINKS or NO_LINKS (True and False, from
    before there were three, are ALL_LINKS and NO_LINKS); with ALL_LINKS each
    directory is entered once (by device and inode), so a looping link cannot
    recurse. Broken links and loops are skipped and counted, as go version -m
    skips them. With `layouts`, a root that is an OCI image layout directory is one item."""
    links = ALL_LINKS if links is True else NO_LINKS if links is False else links
    seen: set[tuple[int, int]] | None = set() if links == ALL_LINKS else None
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
            yield from _walk_dir(root, links, stats, seen)
        else:
            stats.special += 1


def _walk_dir(root: str, links: str, stats: ScanStats, seen: set | None) -> Iterator[Walked]:
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
            if e.is_file(follow_symlinks=False):  # most entries: one test, from the directory entry
                yield Walked(e.path)
            elif e.is_symlink():
                yield from _link(e, links, stats, seen, stack)
            elif e.is_dir(follow_symlinks=False):
                err = _enter(e.path, seen, stack)
                if err:
                    yield Walked(e.path, err)
            else:
                stats.special += 1
        except OSError as x:
            yield Walked(e.path, x.strerror or str(x))


def _link(e: os.DirEntry, links: str, stats: ScanStats, seen: set | None, stack: list) -> Iterator[Walked]:
    if links == NO_LINKS:
        stats.links += 1
        return
    try:
        st = os.stat(e.path)
    except OSError as x:
        if x.errno == errno.ELOOP:
            stats.loop(e.path)
        else:
            stats.broken += 1
        return
    if stat.S_ISREG(st.st_mode):
        yield Walked(e.path)
    elif not stat.S_ISDIR(st.st_mode):
        stats.special += 1
    elif links == ALL_LINKS:
        err = _enter(e.path, seen, stack)
        if err:
            yield Walked(e.path, err)
    else:
        stats.dir_links += 1


def _enter(d: str, seen: set | None, stack: list) -> str | None:
    """Push d's sorted entries, unless d was entered before (only tracked when
    following links to directories: without them the tree has no cycles); an
    error message if unreadable."""
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
