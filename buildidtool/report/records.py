"""JSON records: the one rule for a file name in JSON, the JSON line of any
result or record, the error record of each command, and scan's fast writer
of the same lines."""
from __future__ import annotations

import json
import json.encoder


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


def record_of(obj) -> dict:
    """A result's JSON object (its to_json()), or a record as it is."""
    return obj.to_json() if hasattr(obj, "to_json") else obj


def json_line(obj) -> str:
    """One JSON line: a result (its to_json()) or a record. ASCII, and names
    as file_fields gives them, so any file name stays valid JSON and text."""
    return json.dumps(_named(record_of(obj)))


def error_record(command: str, path: str, message: str, dry_run: bool = False) -> dict:
    """The record of a file `command` could not handle: the keys of any other
    record of that command, `error` set."""
    if command == "read":
        from ..result import BuildIDInfo
        return BuildIDInfo.failed(path, message).to_json()
    if command == "hash":
        from ..hashfile import HashReport
        return HashReport.failed(path, message).to_json()
    if command == "rewrite":
        from ..rewriting import Rewritten
        return Rewritten.failed(path, message, dry_run).to_json()
    if command == "verify":
        from ..verifying import Verdict
        return Verdict.failed(path, message).to_json()
    if command == "info":
        from ..inspecting import failed
        return failed(path, message)
    if command == "symbols":
        from ..symbols import Symbols
        return Symbols.failed(path, message).to_json()
    raise ValueError(f"no records for {command!r}")


class ScanJson:
    """json_line for scan records, many thousands a second: a record that
    says only "a file of unknown format" (most files of a tree) is a fixed
    text after its name, which is about a third of a scan's time otherwise.
    Gives exactly json_line's text (a test holds the two together)."""

    def __init__(self) -> None:
        from ..scanning import empty_record, is_blank
        self.dumps = json.JSONEncoder().encode  # ASCII output, as json.dumps
        self.quote = json.encoder.encode_basestring_ascii  # what dumps does with a str
        self.is_blank = is_blank
        blank = self.dumps(empty_record(""))
        self.blank_tail = blank[blank.index('""') + 2:]

    def line(self, rec: dict) -> str:
        name = rec["file"]
        if name.isascii():
            file = '{"file": ' + self.quote(name)
        else:
            fields = file_fields(name)
            file = '{"file": ' + self.quote(fields["file"])
            if "file_bytes" in fields:
                file += ', "file_bytes": "' + fields["file_bytes"] + '"'
        if self.is_blank(rec):
            return file + self.blank_tail
        rest = self.dumps({k: v for k, v in rec.items() if k != "file"})
        return file + (", " + rest[1:] if len(rest) > 2 else "}")
