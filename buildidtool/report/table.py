"""CSV: the columns of each command and the rows of a record.

RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma,
a quote or a line break. Fields are exact (raw name bytes included), so
Python's csv reads them back; on a terminal, control characters are escaped
instead. Columns are named by the JSON keys, a dotted name reaching into an
object. Per-file commands give a row per unit (the file, or each slice of a
universal file; each unit of a rewrite; each pair of units of a diff), a
unit's own value winning over the file's, so `file` and `error` come from the
file and `arch` from the unit; scan gives a row per record, and symbols a row
per function (its columns name a function's fields: report/symbols.py)."""
from __future__ import annotations

import csv
import io

from ..idstring import printable

CSV_COLUMNS = {
    "read": ("file", "format", "arch", "build_id", "host_build_id.kind", "host_build_id.hex", "error"),
    "hash": ("file", "arch", "id", "content_id", "sha256", "offset", "size", "error"),
    "rewrite": ("file", "arch", "old_id", "new_id", "changed", "dry_run", "signature_updated", "error"),
    "verify": ("file", "format", "arch", "build_id", "status", "reason", "stored_content_id",
               "computed_content_id", "host_build_id.status", "error"),
    "info": ("file", "format", "arch", "build_id", "go_version", "go_version_source", "build_info.Path",
             "recovered_modules", "host_build_id.kind", "host_build_id.hex", "host_build_id.status",
             "code_signature.pages_match", "build_info_error", "error"),
    "diff": ("a", "b", "format", "same", "arch", "same_content", "content_id.a", "content_id.b",
             "differing_bytes", "range_count"),
    "scan": ("file", "format", "arch", "build_id", "go_version", "main_path", "recovered_modules", "status", "reason",
             "error"),
    "symbols": ("file", "arch", "function", "entry", "end", "source_file", "line", "package", "module", "error"),
    "vulns": ("file", "arch", "go_version", "id", "aliases", "module", "version", "fixed", "level", "packages",
              "symbols", "error"),
    "rebuild": ("file", "status", "reason", "go_version", "path", "toolchain.version", "toolchain.chosen",
                "source.kind", "unrecorded", "command.line", "differences.differing_bytes", "seconds",
                "error"),
}
# scan --vulns: scan's columns and, before the error, the findings per level over the record's units.
VULN_COUNTS = ("vulns.symbol", "vulns.package", "vulns.module", "vulns.unknown")
CSV_COLUMNS["scan-vulns"] = CSV_COLUMNS["scan"][:-1] + VULN_COUNTS + CSV_COLUMNS["scan"][-1:]
PER_RECORD = ("scan", "scan-vulns")  # one row per record, not per unit
RECOVERED = "recovered_modules"  # PATH@VERSION (PATH alone without one) recovered from the pclntab, space-separated


def _recovered(record: dict) -> str | None:
    """The recovered_modules cell of a record (over its slices) or a slice's."""
    seen = []
    for u in record.get("slices") or [record]:
        for m in (u.get("recovered") or {}).get("modules") or ():
            text = m["path"] + ("@" + m["version"] if m["version"] else "")
            if text not in seen:
                seen.append(text)
    return " ".join(seen) or None


def _value(record: dict, unit: dict, column: str):
    for where in (unit, record):
        value = where
        for key in column.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # rebuild's unrecorded flags: one field, as a shell would take them
        import shlex  # only for rebuild's records
        return " ".join(shlex.quote(str(v)) for v in value)
    return str(value)


def _level_count(record: dict, level: str) -> int | None:
    """Findings at `level` over a scan record's units; None when no unit was checked."""
    got = [u["vulns"]["counts"][level] for u in (record.get("slices") or [record]) if u.get("vulns")]
    return sum(got) if got else None


def csv_rows(command: str, record: dict) -> list[list[str]]:
    """The CSV rows of one record (a result's to_json(), or an error record)."""
    columns = CSV_COLUMNS[command]
    if command == "symbols":  # a row per function
        from .symbols import csv_rows as symbols_rows  # the function rows: only for this command
        return [[_cell(c) for c in row] for row in symbols_rows(record)]
    if command == "vulns":  # a row per finding
        from .vulns import csv_rows as vulns_rows  # only for this command
        return [[_cell(c) for c in row] for row in vulns_rows(record)]
    if command in PER_RECORD:  # scan, and scan --vulns with the findings per level
        return [[_cell(_recovered(record) if c == RECOVERED else _level_count(record, c[6:]) if c in VULN_COUNTS
                       else record.get(c)) for c in columns]]
    units = record.get("units") or record.get("slices") or [{}]
    return [[_cell(_value(record, u, c) if c != RECOVERED else _recovered(u or record)) for c in columns]
            for u in units]


def csv_text(command: str, records: list, header: bool, terminal: bool) -> str:
    """The CSV text of some results (or their JSON objects) of `command`, the
    header row first when asked."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if header:
        w.writerow(CSV_COLUMNS[command])
    for record in records:
        rows = csv_rows(command, record.to_json() if hasattr(record, "to_json") else record)
        w.writerows([[printable(c) for c in row] for row in rows] if terminal else rows)
    return buf.getvalue()
