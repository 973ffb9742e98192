"""Known vulnerabilities as the reports show them: the text lines and CSV rows
of `vulns`, scan's column and counts, and the words shared by the SBOMs. Each
reads a record (facts.Facts, or its JSON object for CSV) whose units carry
`vulns` (vulndb.match.UnitVulns); nothing here loads the database or the
matcher."""
from __future__ import annotations

from ..idstring import printable

LEVELS = ("symbol", "package", "module", "unknown")
# What each level says, for text and for the SBOMs' analysis details.
MEANING = {
    "symbol": "a vulnerable symbol the entry lists is in the binary",
    "package": "code of an affected package is in the binary, none of the symbols the entry lists",
    "module": "the version is affected, but no code of the affected packages is in the binary",
    "unknown": "the version is affected; the binary's function table could not be read to tell more",
}
MAY_BE_AFFECTED = ("symbol", "package", "unknown")  # `vulns` exits 1 when a finding is at one of these


def counts(facts) -> dict[str, int] | None:
    """Findings per level over a record's units; None when no unit was checked."""
    out, checked = dict.fromkeys(LEVELS, 0), False
    for u in facts.units:
        if u.vulns is not None:
            checked = True
            for k, v in u.vulns.counts.items():
                out[k] += v
    return out if checked else None


def count_words(c: dict[str, int] | None) -> str:
    """`3 symbol, 7 package, 88 module` (levels with none left out), `none`, or `-` when nothing was checked."""
    if c is None:
        return "-"
    words = [f"{n} {k}" for k, n in c.items() if n]
    return ", ".join(words) if words else "none"


def symbol_words(f) -> str:
    """A finding's symbols (package.symbol, how found when not a function of the table) or its packages."""
    if f.symbols:
        return ", ".join(f"{s['package']}.{s['symbol']}" + (f" ({s['found']})" if s["found"] != "function" else "")
                         for s in f.symbols)
    return ", ".join(f.packages) or "-"


def lines(facts) -> list[str]:
    """`vulns`, per executable unit: a headline (Go version, platform, what
    was checked, the function table), the counts, then a line per finding,
    most telling level first: level, id, module and version, the fixed
    version, the symbols found (or packages), the aliases; then the modules
    that could not be checked, and why."""
    out = []
    units = [(f"{facts.file} [{s.arch}]", s) for s in facts.slices] or [(facts.file, facts)]
    for label, u in units:
        v = u.vulns
        if v is None:
            continue
        name = printable(label)
        platform = f"{v.goos or '?'}/{v.goarch or '?'}"
        version = f"{printable(u.go_version)} ({u.go_version_source})" if u.go_version else "Go version unknown"
        code = ""
        if v.code is not None:
            c = v.code
            code = f"; function table: {c['functions']} functions" + (
                f", {c['inlined']} more inlined" if c["inlined"] is not None else ", no inline names (before Go 1.16)")
        out.append(f"{name}: {version}, {platform}, {len(v.modules)} modules checked{code}")
        if v.error:
            out.append(f"\terror\t{printable(v.error)}")
        out.append(f"{name}: {count_words(v.counts)}")
        for f in v.findings:
            fixed = f"fixed in {f.fixed}" if f.fixed else "no fix"
            aliases = " ".join(f.aliases) or "-"
            out.append("\t".join(["", f.level, f.id, printable(f"{f.module}@{f.version}"), fixed,
                                  printable(symbol_words(f)), aliases]))
        for m in v.unchecked:
            out.append("\t".join(["", "unchecked", printable(m["path"]), printable(m["reason"])]))
    return out


# --- CSV: a row per finding ----------------------------------------------------------

COLUMNS = ("file", "arch", "go_version", "id", "aliases", "module", "version", "fixed", "level", "packages",
           "symbols", "error")


def csv_rows(record: dict) -> list[list]:
    """The rows of one `vulns` record (its JSON object): one per finding of
    each unit; a unit without findings, or an error record, one row with the
    finding's columns empty."""
    rows = []
    units = record.get("slices") or [record]
    for u in units:
        v = u.get("vulns") or {}
        head = [record.get("file"), u.get("arch"), u.get("go_version")]
        error = record.get("error") or v.get("error")
        findings = v.get("findings") or []
        if not findings:
            rows.append(head + [None] * 8 + [error])
        for f in findings:
            symbols = " ".join(f"{s['package']}.{s['symbol']}" for s in f["symbols"])
            rows.append(head + [f["id"], " ".join(f["aliases"]), f["module"], f["version"], f["fixed"], f["level"],
                                " ".join(f["packages"]), symbols, error])
    return rows


__all__ = ["lines", "csv_rows", "counts", "count_words", "LEVELS", "MEANING", "COLUMNS", "MAY_BE_AFFECTED"]
