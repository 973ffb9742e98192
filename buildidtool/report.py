"""How results are shown: the text lines of read, hash, rewrite, verify and
info, the JSON line and the CSV rows of any result (diff's too), and each
command's error record.

The JSON record of a result is its `to_json()`; a file that failed gets a
record of the same shape, every key present and `error` set (`error_record`).
Text is escaped (`printable`): no ID or file name puts raw control bytes on a
terminal. scan's formats (text, JSON lines, CSV, CycloneDX, SPDX) are in
scanout.py, over the same records; diff's text is diffing.text_lines.
Nothing here imports click: the CLI only prints what these return."""
from __future__ import annotations

import json

from .idstring import printable


def file_fields(name: str) -> dict:
    """JSON's `file`: always valid Unicode text; a name that is not UTF-8 (a
    Linux file name may be any bytes) reads with U+FFFD there and also gets
    `file_bytes`, the raw name in base64, so it round-trips."""
    if name.isascii():
        return {"file": name}
    raw = name.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace")
    if text == name:
        return {"file": name}
    import base64
    return {"file": text, "file_bytes": base64.b64encode(raw).decode("ascii")}


def _named(record: dict) -> dict:
    if not isinstance(record.get("file"), str):
        return record
    out = {**file_fields(record["file"]), **{k: v for k, v in record.items() if k != "file"}}
    if out.get("slices"):
        out["slices"] = [_named(s) for s in out["slices"]]
    return out


def json_line(obj) -> str:
    """One JSON line: a result (its to_json()) or a record. ASCII, and names
    as file_fields gives them, so any file name stays valid JSON and text."""
    return json.dumps(_named(obj.to_json() if hasattr(obj, "to_json") else obj))


def error_record(command: str, path: str, message: str, dry_run: bool = False) -> dict:
    """The --json record of a file `command` could not handle: the keys of any
    other record of that command, `error` set."""
    if command == "read":
        from .result import BuildIDInfo
        return BuildIDInfo.failed(path, message).to_json()
    if command == "hash":
        from .hashfile import HashReport
        return HashReport.failed(path, message).to_json()
    if command == "rewrite":
        from .rewriting import Rewritten
        return Rewritten.failed(path, message, dry_run).to_json()
    if command == "verify":
        from .verifying import Verdict
        return Verdict.failed(path, message).to_json()
    if command == "info":
        from .inspecting import failed
        return failed(path, message)
    raise ValueError(f"no records for {command!r}")


def id_line(info) -> str:
    if info.build_id is not None:
        return printable(info.build_id)
    if info.host_build_id is not None:
        return f"(no Go build ID; {info.host_build_id.kind} build ID {info.host_build_id.hex})"
    return "(no Go build ID)"


def read_lines(info, labelled: bool) -> list[str]:
    """`read`: the ID; per slice of a universal file; `FILE: ID` when several files are read."""
    if info.slices:
        return [f"{printable(info.file)} [{s.arch}]: {id_line(s)}" for s in info.slices]
    return [f"{printable(info.file)}: {id_line(info)}" if labelled else id_line(info)]


def hash_lines(reports, name: str, several: bool) -> list[str]:
    """`hash`: content ID and SHA-256, per slice of a universal file
    (`[arch] `); `FILE: ` (`FILE [arch]: `) first when several files are hashed."""
    out = []
    for r in reports:
        label = [printable(name)] if several else []
        label += [f"[{r.arch}]"] if len(reports) > 1 else []
        prefix = " ".join(label) + (": " if several else " ") if label else ""
        out.append(f"{prefix}{r.content_id} {r.sha256}")
    return out


def rewrite_lines(r) -> list[str]:
    """`rewrite`: per unit, unchanged or old -> new."""
    out = []
    for u in r.units:
        label = printable(r.file) + (f" [{u.arch}]" if len(r.units) > 1 else "")
        old, new = printable(u.old_id), printable(u.new_id)
        if old == new and not u.changed:
            out.append(f"{label}: unchanged")
        else:
            out.append(f"{label}: {'would rewrite' if r.dry_run else 'rewrote'} {old} -> {new}")
    return out


def verify_lines(v) -> list[str]:
    """`verify`: status, reason or how the file was modified, and a host
    build ID that is there; per slice of a universal file."""
    out = []
    rows = [(f"{printable(v.file)} [{s.arch}]", s) for s in v.slices] or [(printable(v.file), v)]
    for label, s in rows:
        reason = f" ({printable(s.reason)})" if s.reason else ""
        if s.modification:
            from .modification import text
            reason = f": {printable(text(s.modification))}"
        host = s.host_build_id
        note = f" [host build ID {host.status}]" if host and host.status != "absent" else ""
        out.append(f"{label}: {s.status}{reason}{note}")
    return out


def info_lines(record: dict, lines: list[list[str]]) -> list[str]:
    """`info`: the ID lines, then each unit's `go version -m` style lines
    (inspecting.inspect_with_lines gives both)."""
    out = []
    units = [(f"{record['file']} [{s['arch']}]", s) for s in record["slices"]] or [(record["file"], record)]
    for (label, u), unit_lines in zip(units, lines):
        out.append(f"{printable(label)}: {u['format']} {u['arch'] or '-'}")
        out.append(f"\tbuild ID\t{printable(u['build_id']) if u['build_id'] else '(none)'}")
        for name, value in (u["parts"] or {}).items():
            out.append(f"\t  {name}\t{value}")
        h = u.get("host_build_id")
        if h:
            why = f": {h['reason']}" if h.get("reason") and h["status"] != "derived" else ""
            out.append(f"\thost build ID\t{h['kind']} {h['hex']} ({h['status']}{why})")
        sig = u.get("code_signature")
        if sig:
            state = {True: "page hashes match", False: "page hashes DO NOT match",
                     None: "not checked"}[sig["pages_match"]]
            made = "Go-made" if sig["go_made"] else "not Go-made"
            out.append(f"\tcode signature\t{sig['size']} bytes at {sig['offset']:#x}, {made}, {state}")
        bi = u.get("build_info")
        if bi:
            out.append(f"{printable(label)}: {bi.get('GoVersion', '')}")
            out.extend("\t".join(printable(f) for f in line.split("\t")) for line in unit_lines)
        elif u.get("build_info_error"):
            out.append(f"\tbuild info\terror: {u['build_info_error']}")
        if not bi and u.get("go_version"):
            out.append(f"\tGo version\t{printable(u['go_version'])} "
                       f"(no build info; recovered by {u['go_version_source']})")
    return out


# CSV: one row per unit (the file, or each slice of a universal file; each
# unit of a rewrite; each pair of units of a diff), columns named by the JSON
# keys, a dotted name reaching into an object. A unit's own value wins over the
# file's, so `file` and `error` come from the file and `arch` from the unit.
CSV_COLUMNS = {
    "read": ("file", "format", "arch", "build_id", "host_build_id.kind", "host_build_id.hex", "error"),
    "hash": ("file", "arch", "id", "content_id", "sha256", "offset", "size", "error"),
    "rewrite": ("file", "arch", "old_id", "new_id", "changed", "dry_run", "signature_updated", "error"),
    "verify": ("file", "format", "arch", "build_id", "status", "reason", "stored_content_id",
               "computed_content_id", "host_build_id.status", "error"),
    "info": ("file", "format", "arch", "build_id", "go_version", "go_version_source", "build_info.Path",
             "host_build_id.kind", "host_build_id.hex", "host_build_id.status", "code_signature.pages_match",
             "build_info_error", "error"),
    "diff": ("a", "b", "format", "same", "arch", "same_content", "content_id.a", "content_id.b",
             "differing_bytes", "range_count"),
}


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
    return str(value)


def csv_rows(command: str, record: dict) -> list[list[str]]:
    """The CSV rows of one record (a result's to_json(), or an error record)."""
    units = record.get("units") or record.get("slices") or [{}]
    return [[_cell(_value(record, u, c)) for c in CSV_COLUMNS[command]] for u in units]


class Printer:
    """Prints one command's results in the form asked for: text lines, JSON
    lines, or CSV (RFC 4180: a header row, CRLF line ends; on a terminal,
    control characters escaped)."""

    def __init__(self, command: str, form: str, write, terminal: bool = False):
        self.command, self.form, self.write, self.terminal = command, form, write, terminal
        self.header_done = False

    def result(self, obj, lines=None) -> None:
        """A result (or an error record); `lines()` gives its text form."""
        if self.form == "text":
            if lines is not None:
                for line in lines():
                    self.write(line + "\n")
        elif isinstance(obj, list):  # hash: a record per unit
            for item in obj:
                self.result(item)
        elif self.form == "json":
            self.write(json_line(obj) + "\n")
        else:
            self._csv(obj.to_json() if hasattr(obj, "to_json") else obj)

    def _csv(self, record: dict) -> None:
        import csv
        import io
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        if not self.header_done:
            w.writerow(CSV_COLUMNS[self.command])
            self.header_done = True
        rows = csv_rows(self.command, record)
        w.writerows([[printable(c) for c in row] for row in rows] if self.terminal else rows)
        self.write(buf.getvalue())
