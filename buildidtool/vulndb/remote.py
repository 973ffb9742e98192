"""The Go vulnerability database over HTTP(S), in its protocol
(go.dev/security/vuln/database), cached under the user's cache directory
($XDG_CACHE_HOME or ~/.cache, then buildidtool/vulndb/<url>/) in the same
layout, with the modified times:

- a run asks for `index/db.json` only, conditionally (If-Modified-Since the
  cached copy's Last-Modified): unchanged (304, or the same `modified`), the
  cached `index/modules.json` holds;
- `index/modules.json` again only when db.json says the database changed;
- `ID/<id>.json` when a binary's module needs that entry and the cache has
  none, or an older one than the index's modified time for it.

A server that cannot be reached (refused, timed out, a name that does not
resolve) leaves the cache in use, with a note for the user saying how old it
is; without a cache that is a DatabaseError, as is an HTTP error or a file
that is not what the protocol says. Files are written whole and renamed into
place, so concurrent runs and scan's workers never read half a file (at worst
two fetch the same entry). Imported only for a database given by URL."""
from __future__ import annotations

import datetime
import hashlib
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.request

from .. import __version__
from ..errors import DatabaseError
from .osv import Entry
from .database import (MAX_BODY, TIMEOUT, Database, db_modified, entry_of, gunzip, modules_index, parse_json,
                       read_file)

FETCH_THREADS = 8  # entries fetched at once when many are needed together


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
                data = gunzip(data)
            except OSError as e:
                raise DatabaseError(self.name, f"{rel}: {e}") from None
        return data, last


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
            super().__init__(url, db_modified(url, parse_json(url, "cached index/db.json", cached_db)),
                             modules_index(url, parse_json(url, "cached index/modules.json", cached_index)))
            self.offline = True
            self.notes.append(
                f"vuln database {url} unreachable ({why}): offline, using the cache of "
                f"{meta.get('checked') or 'an unknown date'} (database modified {self.modified}) in {self.cache}; "
                "entries published or changed since are missing")
            return
        if body is None:  # 304: db.json unchanged, so the cached index holds
            modified = db_modified(url, parse_json(url, "cached index/db.json", cached_db))
            index = modules_index(url, parse_json(url, "cached index/modules.json", cached_index))
        else:
            modified = db_modified(url, parse_json(url, "index/db.json", body))
            cached_modified = None
            if have_cache:
                try:
                    cached_modified = db_modified(url, parse_json(url, "cached index/db.json", cached_db))
                except DatabaseError:
                    pass
            if have_cache and cached_modified == modified:
                index = modules_index(url, parse_json(url, "cached index/modules.json", cached_index))
            else:
                raw = self._fetch("index/modules.json")
                index = modules_index(url, parse_json(url, "index/modules.json", raw))
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
            return read_file(self._path(rel))
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
                e = entry_of(self.url, "cached " + rel, cached, id)
            except DatabaseError:
                e = None  # a damaged cache file is fetched again
            if e is not None and (self.offline or modified is None or e.modified == modified):
                return e
        if self.offline:
            raise DatabaseError(self.url, f"{rel}: not in the cache, and the server is unreachable")
        raw = self._fetch(rel)
        e = entry_of(self.url, rel, raw, id)
        _write(self._path(rel), raw)
        return e

    def _load_many(self, want: dict[str, str | None]) -> None:
        if len(want) < 2:
            return super()._load_many(want)
        from concurrent.futures import ThreadPoolExecutor  # only when many entries are missing at once
        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            done = dict(zip(want, pool.map(lambda kv: self._load(*kv), want.items())))
        self._entries.update(done)


__all__ = ["RemoteDatabase", "cache_root", "cache_dir_for"]
