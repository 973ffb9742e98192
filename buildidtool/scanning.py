"""`scan`: what a walked input becomes. `walk` streams the regular files under
the roots; `records` turns one walked input into its records (one per file
today; an archive would give one per member, named `ARCHIVE!/MEMBER`). Workers
and output live elsewhere (workers.py, report/scan.py); scancmd.py joins them."""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from operator import attrgetter

from .errors import BuildIDError
from .formats import FormatError, Source, locate, sniff
from .formats.raw import MARKER_START
from .formats.source import PREFIX_SIZE
from .reading import to_info


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


def _go_summary(fd: int, found, src: Source) -> tuple[str | None, str | None]:
    from .buildinfo import summary

    try:
        return summary(fd, found, src)
    except (BuildIDError, FormatError, OSError, ValueError):
        return None, None


_BLANK = {"file": "", "format": "unknown", "arch": None, "build_id": None, "parts": None,
          "locations": [], "host_build_id": None, "code_signature": None, "slices": [],
          "error": None, "go_version": None, "go_version_source": None, "main_path": None}


def empty_record(name: str, error: str | None = None) -> dict:
    """A record with every key and nothing known: the shape of every record,
    so an error record has the same keys as any other."""
    rec = _BLANK.copy()
    rec["file"], rec["error"], rec["locations"], rec["slices"] = name, error, [], []  # fresh lists
    return rec


def is_blank(rec: dict) -> bool:
    """Nothing known but the name: most files of a tree (output can take a short cut)."""
    if rec["format"] != "unknown" or rec["error"] is not None:
        return False
    _BLANK["file"] = rec["file"]  # the template's name never matters: set it to compare
    return rec == _BLANK


def error_record(name: str, error: str, verify: bool) -> dict:
    rec = empty_record(name, error)
    if verify:
        rec["status"], rec["reason"], rec["modification"] = "error", error, None
    return rec


def scan(items: Iterable[Walked], jobs: int, verify: bool = False, render=None,
         time_limit: float | None = None, sbom: bool = False, archives=None) -> Iterator:
    """The records of walked items in order, read by `jobs` worker processes
    (0: in this one). With `render`, a function of a batch's list of records
    run in the worker, its results instead (one per batch). A file whose
    reader raises, is killed, or runs past `time_limit` seconds is an error
    record; the rest go on. sbom: records carry what an SBOM needs (scan_one)."""
    from .workers import ordered

    # Items travel to the workers as bare paths unless the walk met an error:
    # pickling a str costs a fraction of pickling an object.
    def work(item):
        return records(Walked(item) if type(item) is str else item, verify, sbom, archives)

    def fault(item, message):
        return [error_record(item if type(item) is str else item.path, message, verify)]

    def combine(per_item):
        recs = [r for rs in per_item for r in rs]
        return recs if render is None else render(recs)

    bare = (x.path if x.error is None else x for x in items)
    # Verifying reads whole files: small batches keep every worker busy to the end.
    # Looking inside archives, one input may hold far more work than its neighbours:
    # batches are cut by input size too, so large packages spread over the workers.
    # An archive's records go out every PART_RECORDS, so that a million members
    # are never held at once.
    batches = ordered(bare, work, fault, combine, jobs, batch_items=4 if verify else 256,
                      time_limit=time_limit, size=_item_size, cost=_item_cost if archives is not None else None,
                      part=PART_RECORDS)
    if render is not None:
        yield from batches
    else:
        for recs in batches:
            yield from recs


PART_RECORDS = 512


def _item_size(item) -> int:
    return len(item) + 8 if type(item) is str else len(item.path) + len(item.error) + 32


# Names that are often archives, packages or images. Only these are stat()ed for
# their size: the cost only spreads large inputs over the workers, and one
# stat per file in the parent was a tenth of a tree's scan. A large archive
# named otherwise is read all the same, in a batch with its neighbours.
_HEAVY = (".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".tzst", ".zip", ".jar", ".war",
          ".ear", ".whl", ".egg", ".nupkg", ".apk", ".aar", ".deb", ".udeb", ".rpm", ".gem", ".crate", ".sym")


def _item_cost(item) -> int:
    """An input's size on disk when its name says it may be an archive (a
    directory, an OCI layout, counts as large); otherwise, and for a walk
    error, nothing."""
    if type(item) is not str or (not item.endswith(_HEAVY) and "." in item.rpartition("/")[2]):
        return 0
    try:
        st = os.stat(item)
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 1 << 30


def records(item: Walked, verify: bool = False, sbom: bool = False, archives=None) -> Iterator[dict]:
    """The records for one walked input: `read --json` fields plus go_version,
    go_version_source, main_path and, with verify, status and reason. This is
    where an input becomes records: one per regular file, and with `archives`
    (an archives.limits.Limits, None to look inside nothing) one per member of
    an archive, package or image too, named `ARCHIVE!/MEMBER`."""
    if archives is not None and not item.error:
        from .archives import records as archive_records
        yield from archive_records.of_input(item.path, verify, archives, sbom)
        return
    yield scan_one(item, verify, sbom)


def scan_one(item: Walked, verify: bool = False, sbom: bool = False) -> dict:
    """The record for one file; with sbom, what an SBOM needs besides (sbom.facts)."""
    path = item.path
    if item.error:
        return error_record(path, item.error, verify)
    # Not fileio.open_regular: the walk has already seen a regular file, so its
    # stat before the open is skipped, and the one fstat gives the size too
    # (system calls are half of a scan's time).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        return error_record(path, e.strerror or str(e), verify)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped after the walk saw it
            return error_record(path, "not a regular file", verify)
        return record_of_fd(path, fd, verify, sbom, None, st.st_size)
    finally:
        os.close(fd)


def record_of_fd(path: str, fd: int, verify: bool = False, sbom: bool = False,
                 head: bytes | None = None, size: int | None = None) -> dict:
    """The record for the bytes open on fd (a file, or a spooled archive member), named
    `path`; `head`: its first bytes, when the caller has read them already; `size`,
    when the caller has it."""
    size = os.fstat(fd).st_size if size is None else size
    if head is None or (len(head) < PREFIX_SIZE and len(head) < size):
        head = os.pread(fd, PREFIX_SIZE, 0)  # the prefix locate reads first
    # Most files in a tree are not binaries: this one read decides, and they
    # skip the parsers.
    if not verify and sniff(head) == "unknown" and MARKER_START not in head:
        return empty_record(path)
    src = Source(fd, 0, size, head)
    record = empty_record(path)
    try:
        found = locate(src)
    except FormatError as e:
        record["format"] = sniff(src.prefix(PREFIX_SIZE))
        record["error"] = str(e)
        if verify:
            record["status"], record["reason"], record["modification"] = "error", str(e), None
        return record
    except OSError as e:
        return error_record(path, f"read error: {e.strerror or e}", verify)
    record.update(to_info(path, found).to_json())
    if found.format != "unknown":
        record["go_version"], record["main_path"] = _go_summary(fd, found, src)
    from .goversion import fill
    fill(record, found, src)
    if sbom:
        from .sbom import facts
        record.update(facts(path, fd, found, src))
    if verify:
        from .verifying import verify_found
        v = verify_found(path, fd, found)
        record["status"], record["reason"] = v.status, v.reason
        _judged_host_ids(record, v)
        record["modification"] = None if v.modification is None else [m.to_json() for m in v.modification]
    return record


def _judged_host_ids(record: dict, verdict) -> None:
    """With --verify, a host build ID carries verify's status and reason, as in `verify --json`."""
    units = list(zip(record["slices"], verdict.slices)) if record["slices"] else [(record, verdict)]
    for rec, v in units:
        if rec.get("host_build_id") is not None and v.host_build_id is not None:
            rec["host_build_id"] = v.host_build_id.to_json()
