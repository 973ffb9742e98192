"""An entry of the Go vulnerability database, in the OSV schema
(https://ossf.github.io/osv-schema/, with the Go database's
`ecosystem_specific.imports`), kept to what matching and reports use.

    entry = Entry.of(json.loads(text))          # ValueError if it is not an entry
    for a in entry.affected:                     # per module ("stdlib", "toolchain", a module path)
        hit, fixed = a.contains("v1.19.8")       # SEMVER ranges, introduced/fixed events
        a.imports                                # Import(path, goos, goarch, symbols)

An `affected` without imports says nothing about packages: OSV reads that as
the whole module (every package, every symbol) being affected."""
from __future__ import annotations

from .semver import canonical, compare, is_valid, key

URL = "https://pkg.go.dev/vuln/"


class Import:
    """One affected package: its import path, the platforms it is affected on
    (empty: all) and its vulnerable symbols (`Func`, `Type.Method`; empty:
    the entry names none)."""

    __slots__ = ("path", "goos", "goarch", "symbols")

    def __init__(self, path: str, goos=(), goarch=(), symbols=()):
        self.path, self.goos, self.goarch, self.symbols = path, tuple(goos), tuple(goarch), tuple(symbols)

    def applies_to(self, goos: str | None, goarch: str | None) -> bool:
        """On this platform (an unknown GOOS or GOARCH matches any list)."""
        return ((not self.goos or goos is None or goos in self.goos)
                and (not self.goarch or goarch is None or goarch in self.goarch))

    def __repr__(self) -> str:
        return f"Import({self.path!r}, symbols={list(self.symbols)})"


class Affected:
    """The versions of one module an entry affects, and its affected packages."""

    __slots__ = ("module", "ranges", "imports")

    def __init__(self, module: str, ranges, imports):
        self.module, self.ranges, self.imports = module, tuple(ranges), tuple(imports)

    def contains(self, version: str) -> tuple[bool, str | None]:
        """(whether `version` is affected, the version that fixed the range it
        is in, or None when none has). Each range's events are taken in
        version order, as x/vuln's containsSemver does: an introduced event
        opens the range, a fixed one closes it. No range means every version."""
        if not self.ranges:
            return True, None
        for events in self.ranges:
            affected, fixed = False, None
            for kind, at in events:
                if not affected and kind == "introduced":
                    affected = at == "0" or compare(version, at) >= 0
                elif affected and kind == "fixed":
                    if compare(version, at) < 0:
                        fixed = at
                        break
                    affected = False
            if affected:
                return True, fixed
        return False, None

    def __repr__(self) -> str:
        return f"Affected({self.module!r}, {len(self.ranges)} ranges, {len(self.imports)} imports)"


class Entry:
    """One database entry: id (GO-YYYY-NNNN), aliases (CVE, GHSA), summary,
    modified, withdrawn (None unless withdrawn), affected, url."""

    __slots__ = ("id", "aliases", "summary", "modified", "withdrawn", "affected", "url")

    def __init__(self, id, aliases, summary, modified, withdrawn, affected, url):
        self.id, self.aliases, self.summary, self.modified = id, tuple(aliases), summary, modified
        self.withdrawn, self.affected, self.url = withdrawn, tuple(affected), url

    @classmethod
    def of(cls, obj) -> "Entry":
        """The entry of an OSV object; ValueError naming what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError("not an OSV object")
        id = _text(obj, "id")
        modified = _text(obj, "modified")
        affected = []
        for a in _list(obj, "affected", id):
            if not isinstance(a, dict):
                raise ValueError(f"{id}: an affected item is not an object")
            pkg = a.get("package")
            if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
                raise ValueError(f"{id}: an affected item names no package")
            ranges = []
            for r in a.get("ranges") or ():
                if not isinstance(r, dict) or not isinstance(r.get("events"), list):
                    raise ValueError(f"{id}: a range of {pkg['name']} has no events")
                if r.get("type") != "SEMVER":
                    continue  # the Go database writes SEMVER ranges only; nothing else is read
                ranges.append(_events(r["events"], id))
            spec = a.get("ecosystem_specific") or {}
            imports = []
            for i in (spec.get("imports") or ()) if isinstance(spec, dict) else ():
                if not isinstance(i, dict) or not isinstance(i.get("path"), str):
                    raise ValueError(f"{id}: an affected package has no path")
                imports.append(Import(i["path"], _strings(i, "goos", id), _strings(i, "goarch", id),
                                      _strings(i, "symbols", id)))
            affected.append(Affected(pkg["name"], ranges, imports))
        aliases = tuple(dict.fromkeys(_strings(obj, "aliases", id)))  # some entries list one twice
        spec = obj.get("database_specific")
        url = spec.get("url") if isinstance(spec, dict) and isinstance(spec.get("url"), str) else URL + id
        summary = obj.get("summary") if isinstance(obj.get("summary"), str) else ""
        withdrawn = obj.get("withdrawn") if isinstance(obj.get("withdrawn"), str) else None
        return cls(id, aliases, summary, modified, withdrawn, affected, url)

    def for_module(self, module: str) -> list[Affected]:
        return [a for a in self.affected if a.module == module]

    def __repr__(self) -> str:
        return f"<Entry {self.id} {', '.join(a.module for a in self.affected)}>"


def _text(obj: dict, key: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v:
        raise ValueError(f"OSV entry {obj.get('id', '?')!s:.40}: no {key}")
    return v


def _list(obj: dict, key: str, id: str) -> list:
    v = obj.get(key)
    if not isinstance(v, list):
        raise ValueError(f"{id}: {key} is not a list")
    return v


def _strings(obj: dict, key: str, id: str) -> tuple[str, ...]:
    v = obj.get(key) or ()
    if not isinstance(v, (list, tuple)) or not all(isinstance(s, str) for s in v):
        raise ValueError(f"{id}: {key} is not a list of strings")
    return tuple(v)


def _events(events: list, id: str) -> tuple[tuple[str, str], ...]:
    """A range's (kind, version) events in version order ("0" first), versions with their v."""
    out = []
    for e in events:
        if not isinstance(e, dict) or len(e) != 1:
            raise ValueError(f"{id}: a range event is not one introduced or fixed version")
        (kind, at), = e.items()
        if kind not in ("introduced", "fixed") or not isinstance(at, str):
            if kind in ("last_affected", "limit") and isinstance(at, str):
                continue  # not written by the Go database
            raise ValueError(f"{id}: a range event is not one introduced or fixed version")
        at = at if at == "0" else canonical(at)
        if at != "0" and not is_valid(at):
            raise ValueError(f"{id}: {at!r} is not a semantic version")
        out.append((kind, at))
    out.sort(key=_event_order)
    return tuple(out)


def _event_order(event):
    kind, at = event
    return (0,) if at == "0" else (1, key(at))


__all__ = ["Entry", "Affected", "Import", "URL"]
