"""scan's result cache (`--cache FILE`): the records of each input kept in an
SQLite file, so that a scan of a tree that has not changed opens no file.

An input (a file, or an archive with all its members' records) is found by
its path and the scan's configuration, and trusted when what identifies its
content cheaply is unchanged: device, inode, size, modification and change
times (ns), read with one stat and no open. The configuration is the tool's
version and the options that change a record (the groups of facts asked for,
which --verify and the SBOM formats set, and the archive limits with the
platform an image file is read for); entries of another version are dropped
when this one opens the file.

Schema (docs/commands.md shows it whole; PRAGMA application_id 0x62696463,
"bidc", marks the file as ours and PRAGMA user_version is SCHEMA):

    configs(id INTEGER PRIMARY KEY, version TEXT, options TEXT, UNIQUE(version, options))
    entries(config INTEGER, path BLOB, dev INTEGER, ino INTEGER, size INTEGER,
            mtime_ns INTEGER, ctime_ns INTEGER, scanned_ns INTEGER, sha256 TEXT,
            records BLOB, PRIMARY KEY (config, path)) WITHOUT ROWID

`records` holds the input's facts.Facts as pickles one after another, each
of a list of up to CHUNK records: exact (raw build ID bytes and names that
are not UTF-8 round-trip, which the JSON form cannot carry) and only ever read
by the version that wrote it. Records stream through as in a scan without a
cache (an archive's every 512): what is kept for storing is pickled chunk by
chunk, and an input whose pickles pass MAX_BYTES is not stored, so a reader
never holds more than that of one input; a hit is unpickled a chunk at a time.

Where it runs: in the process that reads the input (a local worker, or the
reader a Dask worker forks), so lookups spread over the workers like the
reads they replace. Each process has its own connection; the file is in WAL
mode and every batch's new entries are one transaction, so several writers
wait for each other instead of corrupting it.

Trust rules, each for a way a stale record could be served:
- an entry is stored with the stat taken before its read, and trusted only if
  the file's mtime and ctime are older than when that read began by RACY_NS:
  file times tick at the kernel's coarse clock, so a file rewritten within one
  tick of being read (during the read, or just before) could keep its times,
  as git's "racily clean" index entries; such an entry is read again, and
  stored anew. A file changed later gets new times, and the lookup misses;
- records with an error are not stored (a permission, a time limit or a
  crash is not a property of the content);
- a directory (an OCI image layout) is not cached: its stat does not cover
  its files; nor is a remote reference (a registry image, a URL): nothing
  cheap says that what it names is unchanged, so it is read every time.

A lookup or a store that fails mid-scan (the file removed, a full disk)
leaves that process reading files as if there were no cache.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import sqlite3
import stat
import time

from .errors import SetupError
from .remote import is_reference

SCHEMA = 1
APPLICATION_ID = 0x62696463  # "bidc"
RACY_NS = 1_000_000_000
BUSY_TIMEOUT = 60.0  # seconds a writer waits for another (one batch's transaction each)
_SQLITE_MAGIC = b"SQLite format 3\x00"
CHUNK = 512             # records per pickle in an entry
MAX_BYTES = 16 << 20    # pickled records of one input beyond which it is not stored (some 75,000)

_TABLES = """
CREATE TABLE IF NOT EXISTS configs (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL,
    options TEXT NOT NULL,
    UNIQUE (version, options));
CREATE TABLE IF NOT EXISTS entries (
    config INTEGER NOT NULL,
    path BLOB NOT NULL,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    scanned_ns INTEGER NOT NULL,
    sha256 TEXT,
    records BLOB NOT NULL,
    PRIMARY KEY (config, path)) WITHOUT ROWID;
"""


def options_text(asked: frozenset, archives, vulndb: dict | None = None) -> str:
    """The options that change a record, as the text stored in configs.options.
    The platform read from an image file with several is the one the scan
    would choose: --platform, else $BUILDID_PLATFORM, else this machine's.
    With --vulns, `vulndb` (vulndb Database.identity()): the database and when
    it last changed, so findings are never served from another version of it."""
    limits = None if archives is None else {k: getattr(archives, k) for k in type(archives).__slots__}
    if limits is not None and limits.get("platform") is None:
        from .archives.platforms import host
        limits["platform"] = os.environ.get("BUILDID_PLATFORM") or str(host())
    options = {"asked": sorted(asked), "archives": limits}
    if vulndb is not None:
        options["vulndb"] = vulndb
    return json.dumps(options, sort_keys=True)


def open_cache(path: str, asked: frozenset, archives, vulndb: dict | None = None) -> "Store":
    """Check, make or rebuild the cache file and register this configuration;
    SetupError when the file cannot be used. The connection is closed again:
    each reading process opens its own."""
    from . import __version__

    db = _connect(path)
    try:
        config = _prepare(db, path, __version__, options_text(asked, archives, vulndb))
    except sqlite3.DatabaseError as e:
        db.close()
        if not _ours(path):
            raise SetupError(path, f"not a buildid cache ({e}); name another file, or remove it") from None
        # Our own file, damaged: what it held can be computed again.
        _remove(path)
        db = _connect(path)
        try:
            config = _prepare(db, path, __version__, options_text(asked, archives, vulndb))
        except sqlite3.Error as e2:
            raise SetupError(path, f"cannot rebuild the cache: {e2}") from None
        finally:
            db.close()
        return Store(path, config)
    db.close()
    return Store(path, config)


def _connect(path: str) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        raise SetupError(path, f"cannot open the cache: {e}") from None
    return db


def _prepare(db: sqlite3.Connection, path: str, version: str, options: str) -> int:
    app, schema = db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0]
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app != APPLICATION_ID and tables:
        raise SetupError(path, "an SQLite database that is not a buildid cache; name another file")
    db.execute("BEGIN IMMEDIATE")
    try:
        if app == APPLICATION_ID and schema != SCHEMA:  # an older (or newer) layout of ours: start afresh
            db.execute("DROP TABLE IF EXISTS entries")
            db.execute("DROP TABLE IF EXISTS configs")
        for statement in _TABLES.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA}")
        # Another version's records are never served: drop them rather than let the file grow.
        db.execute("DELETE FROM entries WHERE config IN (SELECT id FROM configs WHERE version != ?)", (version,))
        db.execute("DELETE FROM configs WHERE version != ?", (version,))
        db.execute("INSERT OR IGNORE INTO configs (version, options) VALUES (?, ?)", (version, options))
        (config,) = db.execute("SELECT id FROM configs WHERE version = ? AND options = ?",
                               (version, options)).fetchone()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    # WAL: readers do not wait for the writer, and a writer's batch is one append.
    if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
        raise SetupError(path, "the cache's file system does not support SQLite's WAL mode; name a file on a local disk")
    return config


def _ours(path: str) -> bool:
    """The file is an SQLite database that says it is a buildid cache (its header's application ID)."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError:
        return False
    return len(head) == 100 and head[:16] == _SQLITE_MAGIC and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def _remove(path: str) -> None:
    for p in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise SetupError(path, f"cannot rebuild the damaged cache: {e.strerror or e}") from None


class Store:
    """An opened cache and the configuration of this scan: what the readers need
    (picklable, sent to Dask workers with each batch)."""

    __slots__ = ("path", "config")

    def __init__(self, path: str, config: int):
        self.path, self.config = os.path.abspath(path), config

    def wrap(self, work) -> "Cached":
        return Cached(work, self.path, self.config)

    def wrap_combine(self, combine) -> "Flushing":
        return Flushing(combine, self.path, self.config)


class _Conn:
    """This process's connection, the entries waiting for the end of the batch,
    and what was looked up ahead for the batch's items."""

    __slots__ = ("db", "pending", "ahead")

    def __init__(self, path: str):
        self.pending: list = []
        self.ahead: dict = {}  # item -> (read began, its stat, its row or None)
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
        except sqlite3.Error:
            self.db = None

    def get(self, config: int, path: bytes):
        if self.db is None:
            return None
        try:
            return self.db.execute("SELECT dev, ino, size, mtime_ns, ctime_ns, scanned_ns, records FROM entries"
                                   " WHERE config = ? AND path = ?", (config, path)).fetchone()
        except sqlite3.Error:
            self.db = None
            return None

    def get_many(self, config: int, paths: list[bytes]) -> dict:
        """The rows of these paths, by path, in a few queries (one costs far more than a row)."""
        rows: dict = {}
        if self.db is None:
            return rows
        try:
            for at in range(0, len(paths), _IN_MAX):
                part = paths[at:at + _IN_MAX]
                for r in self.db.execute("SELECT path, dev, ino, size, mtime_ns, ctime_ns, scanned_ns, records"
                                         " FROM entries WHERE config = ? AND path IN (%s)" % ",".join("?" * len(part)),
                                         (config, *part)):
                    rows[r[0]] = r[1:]
        except sqlite3.Error:
            self.db = None
            return {}
        return rows

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        if not rows or self.db is None:
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.execute("COMMIT")
        except sqlite3.Error:
            try:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self.db = None


_OPEN: dict[tuple[int, str], _Conn] = {}
_IN_MAX = 500  # paths per lookup query (SQLite before 3.32 allows 999 parameters)


def _conn(path: str) -> _Conn:
    # Keyed by process: a forked reader must not use its parent's connection.
    key = (os.getpid(), path)
    c = _OPEN.get(key)
    if c is None:
        c = _OPEN[key] = _Conn(path)
    return c


def _signed(n: int) -> int:
    """An unsigned 64-bit number (an inode, a device) as SQLite's signed INTEGER."""
    return n - (1 << 64) if n >= 1 << 63 else n


def _key(st: os.stat_result) -> tuple:
    return _signed(st.st_dev), _signed(st.st_ino), st.st_size, st.st_mtime_ns, st.st_ctime_ns


class Cached:
    """work(item), or the records the cache holds for it."""

    __slots__ = ("work", "path", "config")

    def __init__(self, work, path: str, config: int):
        self.work, self.path, self.config = work, path, config

    def begin_batch(self, items: list) -> None:
        """Stat the batch's files and look them all up at once (workers.py calls this first)."""
        conn = _conn(self.path)
        began = time.time_ns()
        stats = {}
        for item in items:
            if type(item) is str and not is_reference(item):
                try:
                    st = os.stat(item)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    stats[item] = st
        rows = conn.get_many(self.config, [os.fsencode(p) for p in stats])
        conn.ahead = {p: (began, st, rows.get(os.fsencode(p))) for p, st in stats.items()}

    def __call__(self, item):
        if type(item) is not str or is_reference(item):  # a walk error, or nothing cheap to key it by
            return self.work(item)
        conn = _conn(self.path)
        name = os.fsencode(item)
        ahead = conn.ahead.pop(item, None) if conn.ahead else None
        if ahead is not None:
            began, st, row = ahead
            key = _key(st)
        else:
            began = time.time_ns()
            try:
                st = os.stat(item)
            except OSError:
                return self.work(item)
            if not stat.S_ISREG(st.st_mode):
                return self.work(item)
            key = _key(st)
            row = conn.get(self.config, name)
        if row is not None and row[:5] == key and max(key[3], key[4]) < row[5] - RACY_NS:
            try:
                return _Entry(row[6])
            except Exception:  # written by a broken process: read the file instead
                pass
        return self._fill(item, conn, name, key, began)

    def _fill(self, item: str, conn: "_Conn", name: bytes, key: tuple, began: int):
        """work(item)'s records as they come, kept (pickled a CHUNK at a time)
        to be stored at the end unless one has an error or they pass MAX_BYTES."""
        held: list = []
        pickles: list[bytes] = []
        size = 0
        keep = True
        for r in self.work(item):
            yield r
            if not keep:
                continue
            if r.error is not None:  # a permission, a crash or a time limit is not the content's
                keep, held, pickles = False, [], []
                continue
            held.append(r)
            if len(held) >= CHUNK:
                pickles.append(pickle.dumps(held, pickle.HIGHEST_PROTOCOL))
                size += len(pickles[-1])
                held = []
                if size > MAX_BYTES:
                    keep, pickles = False, []
        if not keep:
            return
        one = held[0] if len(held) == 1 and not pickles else None
        digest = one.sha256 if one is not None and one.file == item else None  # a plain file's own
        if held or not pickles:
            pickles.append(pickle.dumps(held, pickle.HIGHEST_PROTOCOL))
        # Stored under the stat taken before the read. A change during the read either gives
        # the file new times (the next lookup misses) or leaves them equal, which means they were
        # within one clock tick of the read: then the racy rule never trusts the entry.
        conn.pending.append((self.config, name, *key, began, digest, b"".join(pickles)))


class _Entry:
    """The records of a hit, unpickled a chunk at a time as they are read
    (the first at once: an entry that cannot be read is a miss)."""

    __slots__ = ("data", "end", "first")

    def __init__(self, data: bytes):
        self.data, self.end = io.BytesIO(data), len(data)
        self.first = pickle.load(self.data)

    def __iter__(self):
        first, self.first = self.first, None
        yield from first
        while self.data.tell() < self.end:
            yield from pickle.load(self.data)


class Flushing:
    """combine(per_item), after writing the new entries of the inputs finished
    so far in one transaction (a batch's; each part's, where an archive's
    records go out in parts)."""

    __slots__ = ("combine", "path", "config")

    def __init__(self, combine, path: str, config: int):
        self.combine, self.path, self.config = combine, path, config

    def __call__(self, per_item: list):
        _conn(self.path).flush()
        return self.combine(per_item)


__all__ = ["open_cache", "options_text", "Store", "Cached", "Flushing", "SCHEMA", "APPLICATION_ID", "RACY_NS",
           "CHUNK", "MAX_BYTES"]
