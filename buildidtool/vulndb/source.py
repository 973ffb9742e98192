"""Where the Go vulnerability database comes from, read once per run:

- a URL (default https://vuln.go.dev) speaking the database's protocol
  (go.dev/security/vuln/database): `index/db.json` (when it last changed),
  `index/modules.json` (each module's entries and their modified times),
  `ID/<id>.json` (one OSV entry). What is fetched is cached under the user's
  cache directory ($XDG_CACHE_HOME or ~/.cache, then buildidtool/vulndb/),
  with the modified times: a run asks for db.json only (a conditional
  request), the index again only when db.json says the database changed, and
  an entry again only when the index says that entry changed. An entry is
  fetched when a binary's module needs it, not before.
- a directory in that layout (a mirror, or the cache itself): read in place.
- a directory of OSV files (`GO-*.json`, as golang/vulndb's data/osv holds
  them): every file read once, the index made in memory.

    db = open_database("https://vuln.go.dev")      # or a directory; DatabaseError if unusable
    db.entries("golang.org/x/net")                 # the entries that name the module
    db.notes                                       # what the caller should tell the user (offline use)

When the server cannot be reached, the cache is used if there is one and a
note says how old it is; without a cache that is a DatabaseError. A corrupt
file or an HTTP error is a DatabaseError too, its one line naming the
database. Forked processes share a Database opened before the fork: what a
process loads it keeps (each entry is parsed at most once per process), and
what it fetches it writes to the cache by renaming a complete file into
place, so processes never see half a file."""
from __future__ import annotations

import datetime
import hashlib
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib

from .. import __version__
from ..errors import DatabaseError
from .osv import Entry

DEFAULT_URL = "https://vuln.go.dev"
TIMEOUT = 30.0  # seconds for one request
FETCH_THREADS = 8  # entries fetched at once when many are needed together
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
        super().__init__(name, latest, {m: tuple(v) for m, v in index.items()})
        self._entries = entries

    def _load(self, id: str, modified: str | None) -> Entry:
        raise DatabaseError(self.name, f"no entry {id}")  # every entry was read when opened


# --- over HTTP, cached --------------------------------------------------------------

def cache_root() -> str:
    """$XDG_CACHE_HOME/buildidtool/vulndb (~/.cache when unset, as XDG says)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "buildidtool", "vulndb")


def cache_dir_for(url: str, root: str | None = None) -> str:
    """The cache of one database URL: readable, and unique per URL."""
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_")[:80]
    return os.path.join(root or cache_root(), f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:8]}")


class Unreachable(Exception):
    """The server could not be asked (refused, timed out, no route, a name that does not resolve)."""


class _Http:
    """GET with a timeout, gzip understood, a size bound; HTTP errors as DatabaseError."""

    def __init__(self, name: str, base: str, timeout: float):
        self.name, self.base, self.timeout = name, base.rstrip("/") + "/", timeout

    def get(self, rel: str, since: str | None = None) -> tuple[bytes | None, str | None]:
        """(body, Last-Modified header), or (None, None) when unchanged since `since`."""
        headers = {"User-Agent": f"buildidtool/{__version__}", "Accept-Encoding": "gzip"}
        if since:
            headers["If-Modified-Since"] = since
        req = urllib.request.Request(self.base + rel, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                data = r.read(MAX_BODY + 1)
                encoding = r.headers.get("Content-Encoding", "")
                last = r.headers.get("Last-Modified")
        except urllib.error.HTTPError as e:
            if e.code == 304:
                return None, since
            raise DatabaseError(self.name, f"{rel}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as e:
            raise Unreachable(_why(e)) from None  # refused, timed out, no route, cut short
        if len(data) > MAX_BODY:
            raise DatabaseError(self.name, f"{rel}: larger than {MAX_BODY >> 20} MiB")
        if encoding == "gzip":
            try:
                data = _gunzip(data)
            except OSError as e:
                raise DatabaseError(self.name, f"{rel}: {e}") from None
        return data, last


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


def _why(e: Exception) -> str:
    reason = getattr(e, "reason", None) or e
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def _write(path: str, data: bytes) -> None:
    """A complete file renamed into place; a cache that cannot be written is not an error."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


class RemoteDatabase(Database):
    """The protocol over HTTP(S), with the cache described above."""

    kind = "url"

    def __init__(self, url: str, cache: str | None = None, timeout: float = TIMEOUT):
        self.url = url
        self.cache = cache or cache_dir_for(url)
        self.http = _Http(url, url, timeout)
        meta = self._meta()
        cached_db = self._cached("index/db.json")
        cached_index = self._cached("index/modules.json")
        have_cache = cached_db is not None and cached_index is not None
        try:
            body, last = self.http.get("index/db.json", meta.get("last_modified") if have_cache else None)
        except Unreachable as why:
            if not have_cache:
                raise DatabaseError(url, f"unreachable ({why}) and nothing cached in {self.cache}; "
                                         "for offline use pass --db DIR (a copy in the same layout, "
                                         "or a directory of OSV files)") from None
            super().__init__(url, _db_modified(url, _parse(url, "cached index/db.json", cached_db)),
                             _index(url, _parse(url, "cached index/modules.json", cached_index)))
            self.offline = True
            self.notes.append(
                f"vuln database {url} unreachable ({why}): offline, using the cache of "
                f"{meta.get('checked') or 'an unknown date'} (database modified {self.modified}) in {self.cache}; "
                "entries published or changed since are missing")
            return
        if body is None:  # 304: db.json unchanged, so the cached index holds
            modified = _db_modified(url, _parse(url, "cached index/db.json", cached_db))
            index = _index(url, _parse(url, "cached index/modules.json", cached_index))
        else:
            modified = _db_modified(url, _parse(url, "index/db.json", body))
            cached_modified = None
            if have_cache:
                try:
                    cached_modified = _db_modified(url, _parse(url, "cached index/db.json", cached_db))
                except DatabaseError:
                    pass
            if have_cache and cached_modified == modified:
                index = _index(url, _parse(url, "cached index/modules.json", cached_index))
            else:
                raw = self._fetch("index/modules.json")
                index = _index(url, _parse(url, "index/modules.json", raw))
                _write(self._path("index/modules.json"), raw)  # the index first: db.json never claims more
            _write(self._path("index/db.json"), body)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        _write(self._path("meta.json"), json.dumps({"url": url, "last_modified": last if body is not None
                                                    else meta.get("last_modified"), "checked": stamp}).encode())
        super().__init__(url, modified, index)

    def _path(self, rel: str) -> str:
        return os.path.join(self.cache, *rel.split("/"))

    def _cached(self, rel: str) -> bytes | None:
        try:
            return _read(self._path(rel))
        except OSError:
            return None

    def _meta(self) -> dict:
        raw = self._cached("meta.json")
        try:
            meta = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return meta if isinstance(meta, dict) and meta.get("url") == self.url else {}

    def _fetch(self, rel: str) -> bytes:
        try:
            body, _ = self.http.get(rel)
        except Unreachable as why:
            raise DatabaseError(self.url, f"{rel}: unreachable ({why})") from None
        return body

    def _load(self, id: str, modified: str | None) -> Entry:
        rel = f"ID/{id}.json"
        cached = self._cached(rel)
        if cached is not None:
            try:
                e = _entry_of(self.url, "cached " + rel, cached, id)
            except DatabaseError:
                e = None  # a damaged cache file is fetched again
            if e is not None and (self.offline or modified is None or e.modified == modified):
                return e
        if self.offline:
            raise DatabaseError(self.url, f"{rel}: not in the cache, and the server is unreachable")
        raw = self._fetch(rel)
        e = _entry_of(self.url, rel, raw, id)
        _write(self._path(rel), raw)
        return e

    def _load_many(self, want: dict[str, str | None]) -> None:
        if len(want) < 2:
            return super()._load_many(want)
        from concurrent.futures import ThreadPoolExecutor  # only when many entries are missing at once
        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            done = dict(zip(want, pool.map(lambda kv: self._load(*kv), want.items())))
        self._entries.update(done)


def open_database(spec: str | None = None, cache: str | None = None, timeout: float = TIMEOUT) -> Database:
    """The database `spec` names: an http(s) URL (default https://vuln.go.dev),
    a file:// URL or a directory (in the protocol's layout, or of OSV files).
    Raises DatabaseError when it cannot be used."""
    spec = spec or DEFAULT_URL
    if spec.startswith(("http://", "https://")):
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


__all__ = ["open_database", "Database", "DatabaseError", "RemoteDatabase", "LiveDirectory", "OsvDirectory",
           "DEFAULT_URL", "cache_root", "cache_dir_for"]
