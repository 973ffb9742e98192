"""Where the Go vulnerability database comes from, opened once per run:

- a URL (default https://vuln.go.dev) speaking the database's protocol
  (go.dev/security/vuln/database): `index/db.json` (when it last changed),
  `index/modules.json` (each module's entries and their modified times),
  `ID/<id>.json` (one OSV entry), fetched when needed and cached with the
  modified times (remote.py, imported only then);
- a directory in that layout (a mirror, or a copy of the cache): read in place;
- a directory of OSV files (`GO-*.json`, as golang/vulndb's data/osv holds
  them): every file read once, the index made in memory.

    db = open_database("https://vuln.go.dev")      # or a directory; DatabaseError if unusable
    db.entries("golang.org/x/net")                 # the entries that name the module
    db.notes                                       # what the caller should tell the user (offline use)

A corrupt file, an HTTP error, a server that cannot be reached without a
cache: a DatabaseError, its one line naming the database. Forked processes
share a Database opened before the fork: what a process loads it keeps (each
entry is parsed at most once per process)."""
from __future__ import annotations

import json
import os
import re
import urllib.parse
import zlib

from ..errors import DatabaseError
from .osv import Entry

DEFAULT_URL = "https://vuln.go.dev"
TIMEOUT = 30.0  # seconds for one request
MAX_BODY = 64 << 20  # vuln.go.dev's largest file, modules.json, is a few MiB
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class Database:
    """The index (module path -> (entry id, modified) pairs) and the entries,
    each parsed once. `name`: the URL or directory as given; `modified`: when
    the database last changed, as it says; `notes`: lines for the user
    (offline use of a cache); `offline`: the cache was used without the server."""

    kind = ""

    def __init__(self, name: str, modified: str | None, index: dict[str, tuple]):
        self.name, self.modified, self.index = name, modified, index
        self.notes: list[str] = []
        self.offline = False
        self._entries: dict[str, Entry] = {}
        self._by_module: dict[str, tuple[Entry, ...]] = {}

    def entries(self, module: str) -> tuple[Entry, ...]:
        """The entries that name `module` (stdlib, toolchain or a module path)."""
        got = self._by_module.get(module)
        if got is None:
            ids = self.index.get(module, ())
            if len(ids) > 1:
                self.prefetch([module])
            got = self._by_module[module] = tuple(self._entry(i, m) for i, m in ids)
        return got

    def prefetch(self, modules) -> None:
        """Load the entries of these modules now (a remote database fetches
        what its cache lacks several at a time)."""
        want = {i: m for mod in modules for i, m in self.index.get(mod, ()) if i not in self._entries}
        self._load_many(want)

    def _entry(self, id: str, modified: str | None) -> Entry:
        e = self._entries.get(id)
        if e is None:
            e = self._entries[id] = self._load(id, modified)
        return e

    def _load_many(self, want: dict[str, str | None]) -> None:
        for id, modified in want.items():
            self._entry(id, modified)

    def _load(self, id: str, modified: str | None) -> Entry:
        raise NotImplementedError

    def describe(self) -> dict:
        """What the records and SBOMs say about the database used."""
        return {"source": self.name, "modified": self.modified, "offline": self.offline}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} modified {self.modified}, {len(self.index)} modules>"


def _parse(name: str, what: str, data: bytes):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise DatabaseError(name, f"{what}: not valid JSON ({e})") from None


def _entry_of(name: str, what: str, data: bytes, id: str | None = None) -> Entry:
    try:
        e = Entry.of(_parse(name, what, data))
    except ValueError as err:
        raise DatabaseError(name, f"{what}: not an OSV entry ({err})") from None
    if id is not None and e.id != id:
        raise DatabaseError(name, f"{what}: holds entry {e.id}, not {id}")
    return e


def _db_modified(name: str, obj) -> str:
    if not isinstance(obj, dict) or not isinstance(obj.get("modified"), str):
        raise DatabaseError(name, "index/db.json: no modified time")
    return obj["modified"]


def _index(name: str, obj) -> dict[str, tuple]:
    """modules.json as {module: ((id, modified), ...)}."""
    bad = DatabaseError(name, "index/modules.json: not a list of modules and their entries")
    if not isinstance(obj, list):
        raise bad
    out: dict[str, tuple] = {}
    for m in obj:
        if not isinstance(m, dict) or not isinstance(m.get("path"), str) or not isinstance(m.get("vulns"), list):
            raise bad
        vulns = []
        for v in m["vulns"]:
            if not isinstance(v, dict) or not isinstance(v.get("id"), str) or not _ID.fullmatch(v["id"]):
                raise bad
            vulns.append((v["id"], v.get("modified") if isinstance(v.get("modified"), str) else None))
        out[m["path"]] = out.get(m["path"], ()) + tuple(vulns)
    return out


def _gunzip(data: bytes) -> bytes:
    """gzip data inflated, at most MAX_BODY bytes of it; OSError when broken or larger."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, MAX_BODY + 1)
    except zlib.error as e:
        raise OSError(f"broken gzip data ({e})") from None
    if len(out) > MAX_BODY:
        raise OSError(f"larger than {MAX_BODY >> 20} MiB once inflated")
    return out


# --- a directory ------------------------------------------------------------------

def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise OSError(f"larger than {MAX_BODY >> 20} MiB")
    return _gunzip(data) if path.endswith(".gz") else data


class LiveDirectory(Database):
    """A directory in the protocol's layout (index/db.json, index/modules.json, ID/*.json)."""

    kind = "directory"

    def __init__(self, name: str, root: str):
        self.root = root
        db = _db_modified(name, _parse(name, "index/db.json", self._file("index/db.json", name)))
        index = _index(name, _parse(name, "index/modules.json", self._file("index/modules.json", name)))
        super().__init__(name, db, index)

    def _file(self, rel: str, name: str) -> bytes:
        path = os.path.join(self.root, rel)
        for p in (path, path + ".gz"):
            try:
                return _read(p)
            except FileNotFoundError:
                continue
            except OSError as e:
                raise DatabaseError(name, f"{rel}: {getattr(e, 'strerror', None) or e}") from None
        raise DatabaseError(name, f"{rel}: no such file")

    def _load(self, id: str, modified: str | None) -> Entry:
        rel = f"ID/{id}.json"
        return _entry_of(self.name, rel, self._file(rel, self.name), id)


class OsvDirectory(Database):
    """A directory of OSV files: all read when opened, the index made from them."""

    kind = "osv"

    def __init__(self, name: str, root: str):
        try:
            files = sorted(f for f in os.listdir(root) if f.endswith((".json", ".json.gz")))
        except OSError as e:
            raise DatabaseError(name, e.strerror or str(e)) from None
        if not files:
            raise DatabaseError(name, "no OSV files (*.json) and no index/db.json: not a vulnerability database")
        entries: dict[str, Entry] = {}
        index: dict[str, list] = {}
        latest = None
        for f in files:
            try:
                data = _read(os.path.join(root, f))
            except OSError as e:
                raise DatabaseError(name, f"{f}: {getattr(e, 'strerror', None) or e}") from None
            e = _entry_of(name, f, data)
            if e.id in entries:
                raise DatabaseError(name, f"{f}: entry {e.id} appears twice")
            entries[e.id] = e
            latest = max(latest or e.modified, e.modified)
            for mod in dict.fromkeys(a.module for a in e.affected):
                index.setdefault(mod, []).append((e.id, e.modified))
        # golang/vulndb's own files leave the times zero (the server fills them in): no date then.
        modified = latest if latest and not latest.startswith("0001-") else None
        super().__init__(name, modified, {m: tuple(v) for m, v in index.items()})
        self._entries = entries

    def _load(self, id: str, modified: str | None) -> Entry:
        raise DatabaseError(self.name, f"no entry {id}")  # every entry was read when opened


def open_database(spec: str | None = None, cache: str | None = None, timeout: float = TIMEOUT) -> Database:
    """The database `spec` names: an http(s) URL (default https://vuln.go.dev),
    a file:// URL or a directory (in the protocol's layout, or of OSV files).
    Raises DatabaseError when it cannot be used."""
    spec = spec or DEFAULT_URL
    if spec.startswith(("http://", "https://")):
        # urllib.request and http.client cost ~90 ms to import: only for a database over HTTP.
        from .remote import RemoteDatabase
        return RemoteDatabase(spec.rstrip("/"), cache, timeout)
    path = urllib.parse.unquote(urllib.parse.urlparse(spec).path) if spec.startswith("file://") else spec
    if not os.path.isdir(path):
        why = "no such directory" if not os.path.exists(path) else "not a directory"
        raise DatabaseError(spec, f"{why} (give an http(s) URL, or a directory in the database's layout "
                                  "or of OSV files)")
    if os.path.exists(os.path.join(path, "index", "db.json")) or \
            os.path.exists(os.path.join(path, "index", "db.json.gz")):
        return LiveDirectory(spec, path)
    return OsvDirectory(spec, path)


__all__ = ["open_database", "Database", "DatabaseError", "LiveDirectory", "OsvDirectory", "DEFAULT_URL",
           "MAX_BODY", "TIMEOUT"]
