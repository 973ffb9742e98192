"""How scan streams its records: one class per output format, the tally
behind the summary line, and the progress counter. The shapes themselves are
the report layer's (text.scan_line, records.ScanJson, table.csv_text, the
SBOM documents); this module only says where each is made.

A format renders records in the workers (`render_batch`, so the work is spread
over the cores and only text crosses the process boundary) and writes the
rendered batches in the parent (`begin`, `write`, `end`). A format that needs
every record before writing (a document rather than lines) returns its own
objects from render_batch and writes them out in `end`."""
from __future__ import annotations

import os
import sys
import time

from ..facts import SCAN, VERDICT, VULNS, Facts
from ..verdict import MODIFIED, UNCHECKED
from .text import plural, scan_header, scan_line


class Format:
    """Lines of text; subclasses say how one record reads."""

    name = ""
    wants_sbom = False  # records gather what an SBOM needs (facts.SBOM)

    def __init__(self, verify: bool, terminal: bool = False, go_only: bool = False, vulns: bool = False):
        self.verify = verify
        self.terminal = terminal  # stdout is a terminal: never write raw control bytes
        self.go_only = go_only    # only Go files' records (and those of files that could not be read)
        self.vulns = vulns        # records carry the VULNS facts (scan --vulns)

    def __reduce__(self):
        # Sent to Dask workers with each batch: they need only what render_batch reads
        # (not a JSON encoder's bound methods, nor an SBOM's records so far).
        return type(self), (self.verify, self.terminal, self.go_only)

    def shown(self, recs: list) -> list:
        return [r for r in recs if r.is_go or r.error is not None] if self.go_only else recs

    def render(self, rec) -> str:
        raise NotImplementedError

    def render_batch(self, recs: list):
        return "".join([self.render(r) for r in self.shown(recs)])

    def begin(self, out) -> None:
        pass

    def write(self, out, rendered) -> None:
        out.write(rendered.encode("utf-8", "surrogateescape"))

    def end(self, out) -> None:
        pass


class TextFormat(Format):
    name = "text"

    def begin(self, out) -> None:
        # A header names the columns for a reader at a terminal; a pipe gets records only.
        if self.terminal:
            out.write((scan_header(self.verify, self.vulns) + "\n").encode())

    def render(self, rec) -> str:
        return scan_line(rec, self.verify, self.vulns) + "\n"


class JsonFormat(Format):
    name = "json"

    def __init__(self, verify: bool, terminal: bool = False, go_only: bool = False, vulns: bool = False):
        super().__init__(verify, terminal, go_only, vulns)
        from .records import ScanJson  # json (3 ms) only for this format
        asked = SCAN | {VULNS} if vulns else SCAN
        self.line = ScanJson(Facts("", asked=asked | {VERDICT} if verify else asked)).line

    def render(self, rec) -> str:
        return self.line(rec) + "\n"


class CsvFormat(Format):
    name = "csv"

    @property
    def columns(self) -> str:
        return "scan-vulns" if self.vulns else "scan"

    def render_batch(self, recs: list) -> str:
        from .table import csv_text  # csv only for this format
        return csv_text(self.columns, self.shown(recs), False, self.terminal)

    def begin(self, out) -> None:
        from .table import csv_text  # csv only for this format
        out.write(csv_text(self.columns, [], True, False).encode("ascii"))


class SbomFormat(Format):
    """One SBOM document for the whole scan (buildidtool.sbom): the workers
    add what an SBOM needs to each record (wants_sbom) and keep only Go files;
    the document is written at the end. The command sets `identity`
    (serial, timestamp, reproducible), `roots` (the paths scanned) and, with
    --vulns, `vulndb` (the database's Database.describe())."""

    wants_sbom = True

    def __init__(self, verify: bool, terminal: bool = False, go_only: bool = False, vulns: bool = False):
        super().__init__(verify, terminal, go_only, vulns)
        self.identity: tuple = (None, None, False)
        self.roots: list[str] = []
        self.records: list = []
        self.vulndb: dict | None = None

    def render_batch(self, recs: list) -> list:
        from .sbom import is_subject  # packageurl: only for the SBOM formats
        # Go files, and the one package scanned, whose own name names the document
        return [r for r in recs if (not r.error and r.is_go) or is_subject(r, self.roots)]

    def write(self, out, rendered) -> None:
        self.records.extend(rendered)

    def end(self, out) -> None:
        from .sbom import Identity, inventory
        inv = inventory(self.records, self.roots, self.vulndb)
        out.write(self.document(inv, Identity.make(inv, *self.identity)).encode("utf-8"))

    def document(self, inv, ident) -> str:
        raise NotImplementedError


class CycloneDxFormat(SbomFormat):
    name = "cyclonedx-json"

    def document(self, inv, ident) -> str:
        from .cyclonedx import render  # cyclonedx-python-lib: 80+ ms, only for this format
        return render(inv, ident)


class SpdxFormat(SbomFormat):
    name = "spdx-json"

    def document(self, inv, ident) -> str:
        from .spdx import render  # json: only for this format
        return render(inv, ident)


FORMATS: dict[str, type[Format]] = {f.name: f for f in (TextFormat, JsonFormat, CsvFormat,
                                                        CycloneDxFormat, SpdxFormat)}


class Tally:
    """What the summary line counts; built in the workers, added up in the parent."""

    __slots__ = ("files", "go", "modified", "unchecked", "errors", "versions", "recovered", "vuln_units", "vulns")

    def __init__(self) -> None:
        self.files = self.go = self.modified = self.unchecked = self.errors = 0
        self.versions: dict[str, int] = {}
        self.recovered = 0  # Go files with modules recovered from the pclntab (no modules in build info)
        self.vuln_units = 0  # executable units matched against the database (--vulns)
        self.vulns: dict[str, int] = {}  # findings per level

    def count(self, rec) -> None:
        self.files += 1
        if rec.is_blank():
            return  # most files: nothing else to count
        if rec.raw_build_id or rec.go_version or any(s.raw_build_id for s in rec.slices):
            self.go += 1
            v = rec.go_version or "unknown"
            self.versions[v] = self.versions.get(v, 0) + 1
            self.unchecked += rec.status in UNCHECKED
            self.recovered += any(u.recovered is not None and u.recovered.modules for u in rec.units)
        self.modified += rec.status == MODIFIED
        self.errors += rec.error is not None
        for u in rec.units:
            if u.vulns is not None:
                self.vuln_units += 1
                for level, n in u.vulns.counts.items():
                    self.vulns[level] = self.vulns.get(level, 0) + n

    def add(self, other: "Tally") -> None:
        self.files += other.files
        self.go += other.go
        self.modified += other.modified
        self.unchecked += other.unchecked
        self.errors += other.errors
        for v, n in other.versions.items():
            self.versions[v] = self.versions.get(v, 0) + n
        self.recovered += other.recovered
        self.vuln_units += other.vuln_units
        for level, n in other.vulns.items():
            self.vulns[level] = self.vulns.get(level, 0) + n

    def __reduce__(self):
        return (_tally, (self.files, self.go, self.modified, self.unchecked, self.errors, self.versions,
                         self.recovered, self.vuln_units, self.vulns))


def _tally(files, go, modified, unchecked, errors, versions, recovered=0, vuln_units=0, vulns=None) -> Tally:
    t = Tally()
    t.files, t.go, t.modified, t.unchecked, t.errors, t.versions = files, go, modified, unchecked, errors, versions
    t.recovered = recovered
    t.vuln_units, t.vulns = vuln_units, vulns or {}
    return t


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal and only
    after a second. When stdout is that same terminal, the counter is cleared
    before any record is written, so records never share its line."""

    def __init__(self, stdout_fd: int = 1, stderr_fd: int = 2) -> None:
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
