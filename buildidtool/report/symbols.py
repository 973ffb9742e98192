"""`symbols`: its text lines, its JSON line (written here rather than by
json.dumps, as the function list is most of a large binary's record: the
same text, held equal by a test, in a third of the time) and its CSV rows
(one per function)."""
from __future__ import annotations

from ..idstring import printable
from ..pclnmodules import is_absolute, package_of

_FUNCTIONS = "\0functions\0"  # stands for a unit's function list until it is written out


# --- text -----------------------------------------------------------------------

def lines(result) -> list[str]:
    """Per unit: a headline, the table's place and layout, the Go version,
    packages, modules, main module and build paths, then a line per function
    (entry, end, name, file:line). A unit without a table prints nothing here:
    the command says so on stderr."""
    out = []
    for label, u in _labelled(result):
        t = u.table
        if t is None:
            continue
        h = t.header
        out.append(f"{label}: {u.format} {u.arch or '-'}: {t.layout} pclntab ({t.version_range}), "
                   f"{h.nfunc} functions, {len(t.files)} files")
        text = f"; text start {t.text_start:#x} ({t.text_start_from})" if t.text_start is not None else ""
        out.append(f"\tpclntab\t{t.size} bytes at offset {t.offset:#x}, address {t.address:#x} ({t.found_by}){text}")
        if u.go_version:
            out.append(f"\tgo version\t{printable(u.go_version)} ({u.go_version_source})")
        r = t.recovery
        out.append(f"\tpackages\t{len(r.std)} standard library, {len(r.other)} other")
        for m in r.modules:
            where = f"\t{printable(m.dir)}" if m.dir else ""
            out.append(f"\tmodule\t{printable(m.path)}\t{printable(m.version) if m.version else '(no version)'}\t"
                       f"{m.kind}: {m.functions} functions, {len(m.files)} files{where}")
        if r.main_path or r.main_dir:
            out.append(f"\tmain module\t{printable(r.main_path) if r.main_path else '(path not told)'}"
                       + (f"\t{printable(r.main_dir)}" if r.main_dir else ""))
        main = r.main_package_dir
        for name, value in (("goroot", r.goroot), ("module cache", r.module_cache),
                            ("main package", main if main and r.main_dir is None and is_absolute(main) else None)):
            if value:
                out.append(f"\tbuild path\t{name}\t{printable(value)}")
        if r.obfuscated:
            shown = ", ".join(printable(p) for p in r.obfuscated[:5]) + (", ..." if len(r.obfuscated) > 5 else "")
            out.append(f"\tobfuscated\t{len(r.obfuscated)} packages, {r.obfuscated_functions} functions "
                       f"(not read as modules): {shown}")
        names, entries, ends, files, numbers = t.columns
        show = _shown_cache()
        out.extend(f"\tfunc\t{e:#x}\t{x:#x}\t{show(n)}\t{show(f)}:{ln}"
                   for n, e, x, f, ln in zip(names, entries, ends, files, numbers))
    return out


def _labelled(result):
    if result.universal:
        return [(f"{printable(result.file)} [{u.arch}]", u) for u in result.units]
    return [(printable(result.file), u) for u in result.units]


def _shown_cache():
    cache: dict[str, str] = {}

    def show(s: str) -> str:
        v = cache.get(s)
        if v is None:
            v = cache[s] = printable(s)
        return v
    return show


# --- JSON -----------------------------------------------------------------------

def json_line(result) -> str:
    """records.json_line(result), with each unit's functions written directly."""
    from json.encoder import encode_basestring_ascii as quote  # json: only for --json (3 ms)

    from .records import json_line as general  # records imports json at its top

    record = result.to_json(_FUNCTIONS)
    text = general(record)
    for u in result.units:
        if u.table is None:
            continue
        names, entries, ends, files, numbers = u.table.columns
        quoted = {f: quote(f) for f in set(files)}
        body = ", ".join(map(_FUNCTION.__mod__, zip(map(quote, names), entries, ends, map(quoted.__getitem__, files),
                                                     numbers)))
        text = text.replace(quote(_FUNCTIONS), "[" + body + "]", 1)
    return text


_FUNCTION = '{"name": %s, "entry": %d, "end": %d, "file": %s, "line": %d}'


# --- CSV ------------------------------------------------------------------------

def csv_rows(record: dict) -> list[list]:
    """A row per function of each unit, in table.CSV_COLUMNS["symbols"] order
    (file, arch, function, entry, end, source file, line, package, module:
    the recovered module's path, the main module's, or `std`); a unit without
    functions, or a file that failed, is one row with its error."""
    rows = []
    units = record.get("slices") or [record]
    for u in units:
        error = u.get("error") or record.get("error")
        if not u.get("functions"):
            rows.append([record["file"], u.get("arch"), None, None, None, None, None, None, None, error])
            continue
        layout = (u.get("pclntab") or {}).get("layout", "go1.20")
        owner = {}
        for m in u.get("modules") or ():
            for p in m["evidence"]["packages"]:
                owner[p] = m["path"]
        main = (u.get("main_module") or {}).get("path")
        std = set((u.get("packages") or {}).get("std") or ())
        for f in u["functions"]:
            pkg = package_of(f["name"], layout)
            module = owner.get(pkg) or (main if main and (pkg == main or pkg.startswith(main + "/")) else None)
            if module is None and pkg in std:
                module = "std"
            rows.append([record["file"], u.get("arch"), f["name"], f["entry"], f["end"], f["file"], f["line"],
                         pkg or None, module, error])
    return rows
