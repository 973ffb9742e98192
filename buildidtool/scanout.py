"""How scan records are shown: one class per output format, the tally behind
the summary line, and the progress counter.

A format renders records in the workers (`render_batch`, so the work is spread
over the cores and only text crosses the process boundary) and writes the
rendered batches in the parent (`begin`, `write`, `end`). A new format (an
SBOM, say) subclasses Format and registers itself in FORMATS; a format that
needs every record before writing (a document rather than lines) can return
its own objects from render_batch and write them out in `end`."""
from __future__ import annotations

import sys

from .idstring import printable
from .report import file_fields

CSV_COLUMNS = ["file", "format", "arch", "build_id", "go_version", "main_path", "status", "reason", "error"]


def shown_id(rec: dict) -> str | None:
    """The build ID to list: the file's own, or its slices', comma-separated."""
    if rec["build_id"]:
        return rec["build_id"]
    return ",".join(s["build_id"] for s in rec["slices"] if s["build_id"]) or None


class Format:
    """Lines of text; subclasses say how one record reads."""

    name = ""

    def __init__(self, verify: bool, terminal: bool = False):
        self.verify = verify
        self.terminal = terminal  # stdout is a terminal: never write raw control bytes

    def render(self, rec: dict) -> str:
        raise NotImplementedError

    def render_batch(self, recs: list[dict]):
        return "".join([self.render(r) for r in recs])

    def begin(self, out) -> None:
        pass

    def write(self, out, rendered) -> None:
        out.write(rendered.encode("utf-8", "surrogateescape"))

    def end(self, out) -> None:
        pass


class TextFormat(Format):
    """Tab-separated: file, format, arch, go_version, build_id[, status, reason], error;
    `-` for an empty field; every field escaped (no control byte, no raw
    non-UTF-8 byte reaches a terminal, no tab or newline breaks a column)."""

    name = "text"

    def render(self, rec: dict) -> str:
        fields = [rec["file"], rec["format"], rec["arch"], rec["go_version"], shown_id(rec)]
        if self.verify:
            fields += [rec.get("status"), rec.get("reason")]
        fields.append(rec["error"])
        return "\t".join([printable(f) if f else "-" for f in fields]) + "\n"


class JsonFormat(Format):
    """JSON lines. `file` is always valid Unicode (a byte that is not UTF-8
    becomes U+FFFD); such a name also gets `file_bytes`, the raw name in base64."""

    name = "json"

    def __init__(self, verify: bool, terminal: bool = False):
        super().__init__(verify, terminal)
        import json
        import json.encoder

        from .scanning import empty_record, is_blank
        self.dumps = json.JSONEncoder().encode  # ASCII output: control bytes are always escaped
        self.quote = json.encoder.encode_basestring_ascii  # what dumps does with a str
        self.is_blank = is_blank
        # Most records say only "a file of unknown format": their JSON is a
        # fixed text after the name (about a third of a scan's time otherwise).
        blank = self.dumps(empty_record(""))
        self.blank_tail = blank[blank.index('""') + 2:]

    def render(self, rec: dict) -> str:
        name = rec["file"]
        if name.isascii():
            file = '{"file": ' + self.quote(name)
        else:
            fields = file_fields(name)
            file = '{"file": ' + self.quote(fields["file"])
            if "file_bytes" in fields:
                file += ', "file_bytes": "' + fields["file_bytes"] + '"'
        if self.is_blank(rec):
            return file + self.blank_tail + "\n"
        rest = self.dumps({k: v for k, v in rec.items() if k != "file"})
        return file + (", " + rest[1:] if len(rest) > 2 else "}") + "\n"


class CsvFormat(Format):
    """RFC 4180: a header row, CRLF line ends, fields quoted when they hold a
    comma, a quote or a line break. Fields are exact (raw name bytes
    included), so Python's csv reads them back; on a terminal, control
    characters are escaped instead."""

    name = "csv"

    def render_batch(self, recs: list[dict]) -> str:
        import csv
        import io
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        fix = printable if self.terminal else str
        w.writerows([["" if rec.get(c) is None else fix(rec[c]) for c in CSV_COLUMNS] for rec in recs])
        return buf.getvalue()

    def begin(self, out) -> None:
        out.write((",".join(CSV_COLUMNS) + "\r\n").encode("ascii"))


class SbomFormat(Format):
    """One SBOM document for the whole scan (buildidtool.sbom): the workers
    add what an SBOM needs to each record (wants_sbom) and keep only Go files;
    the document is written at the end. The command sets `identity`
    (serial, timestamp, reproducible) and `roots` (the paths scanned)."""

    wants_sbom = True

    def __init__(self, verify: bool, terminal: bool = False):
        super().__init__(verify, terminal)
        self.identity: tuple = (None, None, False)
        self.roots: list[str] = []
        self.records: list[dict] = []

    def render_batch(self, recs: list[dict]) -> list[dict]:
        from .sbom import is_go
        return [r for r in recs if not r["error"] and is_go(r)]

    def write(self, out, rendered) -> None:
        self.records.extend(rendered)

    def end(self, out) -> None:
        from .sbom import inventory, render, Identity
        inv = inventory(self.records, self.roots)
        out.write(render(inv, self.name, Identity.make(inv, *self.identity)).encode("utf-8"))


class CycloneDxFormat(SbomFormat):
    name = "cyclonedx-json"


class SpdxFormat(SbomFormat):
    name = "spdx-json"


FORMATS: dict[str, type[Format]] = {f.name: f for f in (TextFormat, JsonFormat, CsvFormat,
                                                        CycloneDxFormat, SpdxFormat)}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Tally:
    """What the summary line counts; built in the workers, added up in the parent."""

    __slots__ = ("files", "go", "modified", "errors", "versions")

    def __init__(self) -> None:
        self.files = self.go = self.modified = self.errors = 0
        self.versions: dict[str, int] = {}

    def count(self, rec: dict) -> None:
        self.files += 1
        if rec["format"] == "unknown" and rec["error"] is None and not rec["build_id"] and not rec["go_version"]:
            return  # most files: nothing else to count
        if rec["build_id"] or rec["go_version"] or any(s["build_id"] for s in rec["slices"]):
            self.go += 1
            v = rec["go_version"] or "unknown"
            self.versions[v] = self.versions.get(v, 0) + 1
        self.modified += rec.get("status") == "modified"
        self.errors += rec["error"] is not None

    def add(self, other: "Tally") -> None:
        self.files += other.files
        self.go += other.go
        self.modified += other.modified
        self.errors += other.errors
        for v, n in other.versions.items():
            self.versions[v] = self.versions.get(v, 0) + n

    def summary(self, verify: bool, skipped: int) -> str:
        per_version = ", ".join(f"{v}: {n}" for v, n in sorted(self.versions.items()))
        return (f"scanned {plural(self.files, 'file')}: {plural(self.go, 'Go file')}"
                + (f" ({per_version})" if per_version else "")
                + (f", {self.modified} modified" if verify else "")
                + f", {plural(self.errors, 'error')}, {skipped} skipped (not regular files or links)")

    def __reduce__(self):
        return (_tally, (self.files, self.go, self.modified, self.errors, self.versions))


def _tally(files, go, modified, errors, versions) -> Tally:
    t = Tally()
    t.files, t.go, t.modified, t.errors, t.versions = files, go, modified, errors, versions
    return t


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal and only
    after a second. When stdout is that same terminal, the counter is cleared
    before any record is written, so records never share its line."""

    def __init__(self, stdout_fd: int = 1, stderr_fd: int = 2) -> None:
        import os
        import time
        self.clock = time.monotonic
        self.start = self.clock()
        self.enabled = os.isatty(stderr_fd)
        self.shared = False
        if self.enabled and os.isatty(stdout_fd):
            a, b = os.fstat(stdout_fd), os.fstat(stderr_fd)
            self.shared = (a.st_rdev, a.st_ino, a.st_dev) == (b.st_rdev, b.st_ino, b.st_dev)
        self.shown = False
        self.last = 0.0

    def tick(self, n: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start > 1 and now - self.last > 0.1:
            sys.stderr.write(f"\rscanned {plural(n, 'file')}")
            sys.stderr.flush()
            self.shown, self.last = True, now

    def before_output(self) -> None:
        if self.shared and self.shown:
            self.clear()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False
