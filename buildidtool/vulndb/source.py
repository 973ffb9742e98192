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

import hashlib
import os
import urllib.parse

from ..errors import DatabaseError
from .database import (MAX_BODY, TIMEOUT, Database, db_modified, entry_of, modules_index, parse_json,
                       read_file)
from .osv import Entry

DEFAULT_URL = "https://vuln.go.dev"


# --- a directory ------------------------------------------------------------------

class LiveDirectory(Database):
    """A directory in the protocol's layout (index/db.json, index/modules.json, ID/*.json)."""

    kind = "directory"

    def __init__(self, name: str, root: str):
        self.root = root
        db = db_modified(name, parse_json(name, "index/db.json", self._file("index/db.json", name)))
        index = modules_index(name, parse_json(name, "index/modules.json", self._file("index/modules.json", name)))
        super().__init__(name, db, index)

    def _file(self, rel: str, name: str) -> bytes:
        path = os.path.join(self.root, rel)
        for p in (path, path + ".gz"):
            try:
                return read_file(p)
            except FileNotFoundError:
                continue
            except OSError as e:
                raise DatabaseError(name, f"{rel}: {getattr(e, 'strerror', None) or e}") from None
        raise DatabaseError(name, f"{rel}: no such file")

    def _load(self, id: str, modified: str | None) -> Entry:
        rel = f"ID/{id}.json"
        return entry_of(self.name, rel, self._file(rel, self.name), id)


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
        digest = hashlib.sha256()
        for f in files:
            try:
                data = read_file(os.path.join(root, f))
            except OSError as e:
                raise DatabaseError(name, f"{f}: {getattr(e, 'strerror', None) or e}") from None
            digest.update(b"%d:%s\0%d:" % (len(f), f.encode("utf-8", "surrogateescape"), len(data)) + data)
            e = entry_of(name, f, data)
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
        self.digest = digest.hexdigest()

    def identity(self) -> dict:
        """The files' names and bytes as well: golang/vulndb's own files carry
        no dates, and an edited file need not change one."""
        return {**super().identity(), "sha256": self.digest}

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
