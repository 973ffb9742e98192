"""JSON records: the one rule for a file name in JSON, the JSON line of any
result, and scan's fast writer of the same lines."""
from __future__ import annotations

import base64
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


class ScanJson:
    """json_line for scan records, many thousands a second: a record that
    says only "a file of unknown format" (most files of a tree) is a fixed
    text after its name, which is about a third of a scan's time otherwise.
    Gives exactly json_line's text (a test holds the two together).
    `blank`: a record with nothing known, of the groups the scan asks for."""

    def __init__(self, blank) -> None:
        self.dumps = json.JSONEncoder().encode  # ASCII output, as json.dumps
        self.quote = json.encoder.encode_basestring_ascii  # what dumps does with a str
        text = self.dumps(blank.replace(file="").to_json())
        self.blank_tail = text[text.index('""') + 2:]

    def line(self, facts) -> str:
        name = facts.file
        if name.isascii():
            file = '{"file": ' + self.quote(name)
        else:
            fields = file_fields(name)
            file = '{"file": ' + self.quote(fields["file"])
            if "file_bytes" in fields:
                file += ', "file_bytes": "' + fields["file_bytes"] + '"'
        if facts.is_blank():
            return file + self.blank_tail
        rest = self.dumps({k: v for k, v in facts.to_json().items() if k != "file"})
        return file + (", " + rest[1:] if len(rest) > 2 else "}")
