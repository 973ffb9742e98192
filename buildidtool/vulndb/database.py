"""The database as the matcher asks it, whatever it comes from: the index
(module path -> entry ids and their modified times) and the entries, each
parsed once (`Database`), and the reading of the protocol's files shared by
a directory (source.py) and a server (remote.py): JSON, OSV entries,
`index/db.json`, `index/modules.json`, gzip, each bounded, each failure a
DatabaseError naming the database."""
from __future__ import annotations

import json
import re
import zlib

from ..errors import DatabaseError
from .osv import Entry

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

    def identity(self) -> dict:
        """What findings depend on, for scan's result cache: the database and
        when it last changed (a server's and a directory in its layout say
        when in index/db.json)."""
        return {"source": self.name, "modified": self.modified}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} modified {self.modified}, {len(self.index)} modules>"


def parse_json(name: str, what: str, data: bytes):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise DatabaseError(name, f"{what}: not valid JSON ({e})") from None


def entry_of(name: str, what: str, data: bytes, id: str | None = None) -> Entry:
    try:
        e = Entry.of(parse_json(name, what, data))
    except ValueError as err:
        raise DatabaseError(name, f"{what}: not an OSV entry ({err})") from None
    if id is not None and e.id != id:
        raise DatabaseError(name, f"{what}: holds entry {e.id}, not {id}")
    return e


def db_modified(name: str, obj) -> str:
    if not isinstance(obj, dict) or not isinstance(obj.get("modified"), str):
        raise DatabaseError(name, "index/db.json: no modified time")
    return obj["modified"]


def modules_index(name: str, obj) -> dict[str, tuple]:
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


def gunzip(data: bytes) -> bytes:
    """gzip data inflated, at most MAX_BODY bytes of it; OSError when broken or larger."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, MAX_BODY + 1)
    except zlib.error as e:
        raise OSError(f"broken gzip data ({e})") from None
    if len(out) > MAX_BODY:
        raise OSError(f"larger than {MAX_BODY >> 20} MiB once inflated")
    return out


def read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise OSError(f"larger than {MAX_BODY >> 20} MiB")
    return gunzip(data) if path.endswith(".gz") else data


__all__ = ["Database", "DatabaseError", "TIMEOUT", "MAX_BODY", "parse_json", "entry_of", "db_modified",
           "modules_index", "gunzip", "read_file"]
