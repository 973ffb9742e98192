"""`symbols`: what a Go binary's pclntab says, per executable unit (the file,
or each slice of a universal Mach-O): where the table lies and its layout,
every function, the file table, the packages, the modules and build
directories the paths tell (buildidtool/pcln.py), and the Go version where
the binary carries it. A well-formed invocation runs without click
(`main`): importing click costs about 20 ms of a run that a Go program does
in tens (benchmarks/symbols.py)."""
from __future__ import annotations

import os
import sys

from ..errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, BuildIDError, naming
from ..facts import VERSION, of_found
from ..fileio import opened
from ..formats import FormatError, Source, Unit, image, locate, units
from ..formats.kinds import THIN, UNIVERSAL
from ..pcln import PclnTable, build_paths, main_module, recovered_modules, table_of
from ..report.printer import Printer
from ..report.symbols import lines
from ..report.text import error_line
from ..stdinput import path_for, renamed

OK, NO_PCLNTAB = "ok", "no-pclntab"
NO_PCLNTAB_MESSAGE = "no Go pclntab (function table) found"


class UnitSymbols:
    """One executable unit's answer. status: "ok" or "no-pclntab"; error: a
    broken table or slice (the other slices are still read)."""

    __slots__ = ("format", "arch", "table", "go_version", "go_version_source", "span", "error")

    def __init__(self, format, arch, table: PclnTable | None = None, go_version=None, go_version_source=None,
                 span=None, error=None):
        self.format, self.arch, self.table = format, arch, table
        self.go_version, self.go_version_source, self.span, self.error = go_version, go_version_source, span, error

    @property
    def status(self) -> str | None:
        if self.error:
            return None
        return OK if self.table is not None else NO_PCLNTAB

    def to_json(self, functions=None) -> dict:
        """The unit's record; `functions`, when given, stands in for the
        function list (a writer that spells the list itself passes a marker)."""
        t = self.table
        r = t.recovery if t is not None else None
        out = {"format": self.format, "arch": self.arch, "status": self.status,
               "pclntab": t.to_json() if t else None,
               "go_version_range": t.version_range.to_json() if t else None,
               "go_version": self.go_version, "go_version_source": self.go_version_source,
               "functions": (functions if functions is not None else [f._asdict() for f in t.functions])
               if t else [],
               "files": list(t.files) if t else [],
               "packages": t.packages if t else None,
               "modules": [m.to_json() for m in recovered_modules(t)] if t else [],
               "main_module": main_module(t) if t else None,
               "build_paths": build_paths(t) if t else None,
               "obfuscated": ({"packages": r.obfuscated, "functions": r.obfuscated_functions}
                              if r is not None and r.obfuscated else None)}
        if self.span is not None:
            out["offset"], out["size"] = self.span.offset, self.span.size
        out["error"] = self.error or (NO_PCLNTAB_MESSAGE if t is None and self.status == NO_PCLNTAB else None)
        return out

    def __repr__(self) -> str:
        what = self.error or (f"{self.table.layout}, {self.table.header.nfunc} functions" if self.table
                              else NO_PCLNTAB)
        return f"<UnitSymbols {self.format} {self.arch or '-'}: {what}>"


class Symbols:
    """What `symbols` found in one file: one UnitSymbols for a thin file, one
    per slice of a universal Mach-O."""

    __slots__ = ("file", "format", "units", "universal", "error")

    def __init__(self, file: str, format: str = "unknown", units=(), universal: bool = False, error=None):
        self.file, self.format, self.units, self.universal, self.error = file, format, list(units), universal, error

    @classmethod
    def failed(cls, file: str, error: str) -> "Symbols":
        return cls(file, error=error)

    @property
    def status(self) -> str | None:
        """ok when every unit has a table; no-pclntab when any has none; None on an error."""
        if self.error or any(u.error for u in self.units):
            return None
        return OK if self.units and all(u.table is not None for u in self.units) else NO_PCLNTAB

    @property
    def problem(self) -> str | None:
        """The one-line complaint about this file, if any (no table, a broken slice)."""
        if self.error:
            return self.error
        bad = [u for u in self.units if u.error or u.table is None]
        if not bad:
            return None
        if not self.universal:
            return bad[0].error or NO_PCLNTAB_MESSAGE
        return "; ".join(f"[{u.arch}] {u.error or NO_PCLNTAB_MESSAGE}" for u in bad)

    def to_json(self, functions=None) -> dict:
        """The `symbols --json` record; `functions` as for UnitSymbols.to_json."""
        if self.universal or self.error or not self.units:
            blank = UnitSymbols(self.format, None).to_json()
            blank.update(status=None if self.error or self.universal else NO_PCLNTAB)
            blank.pop("error")
            return {"file": self.file, **blank,
                    "slices": [u.to_json(functions) for u in self.units] if self.universal else [],
                    "error": self.error or (None if self.universal else NO_PCLNTAB_MESSAGE)}
        unit = self.units[0].to_json(functions)
        error = unit.pop("error")
        return {"file": self.file, **unit, "slices": [], "error": error}

    def __repr__(self) -> str:
        if self.error:
            return f"<Symbols {self.file!r} error {self.error!r}>"
        what = ", ".join(f"[{u.arch}] {u.table.layout}, {u.table.header.nfunc} functions" if u.table
                         else f"[{u.arch}] {u.error or NO_PCLNTAB}" for u in self.units)
        return f"<Symbols {self.file!r} {self.format}: {what or NO_PCLNTAB}>"


def _unit(unit: Unit, version: str | None, source: str | None) -> UnitSymbols:
    img = image(unit.src, unit.format, unit.arch)
    table = table_of(unit.src, img)
    if table is not None:  # decoded now, so a broken table is this unit's error, not a later surprise
        table.columns, table.files, table.recovery
    else:
        version = source = None
    return UnitSymbols(unit.format, img.arch if img is not None else unit.arch, table, version, source,
                       unit.span if unit.is_slice else None)


def symbols_of(path: str, src: Source) -> Symbols:
    """symbols() of an open Source; raises FormatError for a broken thin file."""
    found = locate(src)
    if found.format not in THIN and found.format != UNIVERSAL:
        return Symbols(path, found.format, [UnitSymbols(found.format, None)])
    # The Go version, where the binary carries it: the facts' one rule (build info, else recovered).
    versions = of_found(path, src, found, frozenset({VERSION})).units
    out = []
    for unit, facts in zip(units(src, found), versions):
        try:
            out.append(_unit(unit, facts.go_version, facts.go_version_source))
        except FormatError as e:
            if not found.slices:
                raise
            out.append(UnitSymbols(unit.format, unit.arch, span=unit.span,
                                   error=f"slice at offset {unit.span.offset:#x}: {e}"))
    return Symbols(path, found.format, out, universal=bool(found.slices))


def symbols(path: str) -> Symbols:
    """The pclntab of each unit of `path`. A file without one is a result with
    status "no-pclntab"; raises BuildIDError when the file cannot be read or
    its (thin) container or table is broken."""
    with naming(path), opened(path) as fd:
        return symbols_of(path, Source.of_file(fd))


# --- the command, without click --------------------------------------------------

FORMS = {"--json": "json", "--csv": "csv"}


def parse(args: list[str]) -> tuple[list[str], str] | None:
    """(files, form) of a plainly well-formed invocation, else None (let click
    parse it and word any error)."""
    forms, files = set(), []
    for i, a in enumerate(args):
        if a == "--":
            files.extend(args[i + 1:])
            break
        if a in FORMS:
            forms.add(FORMS[a])
        elif a.startswith("-") and a != "-":
            return None
        else:
            files.append(a)
    if not files or len(forms) > 1:
        return None
    return files, forms.pop() if forms else "text"


def run(files: list[str], form: str) -> int:
    """Print each file's symbols in `form`; a file that cannot be read, is
    broken or has no pclntab gets a one-line error (and its error record in
    JSON and CSV), and the others go on. Exit 2 when any did, else 0."""
    out = Printer("symbols", form, sys.stdout.write, terminal=sys.stdout.isatty())
    status = EXIT_OK
    for path in files:
        try:
            real = path_for(path)
            result = renamed(symbols(real), real, path)
        except BuildIDError as e:
            status = EXIT_ERROR
            if form != "text":
                out.result(Symbols.failed(path, e.message))
            sys.stdout.flush()
            sys.stderr.write(error_line(path, e.message) + "\n")
            continue
        out.result(result, lambda: lines(result))
        if result.problem:
            status = EXIT_ERROR
            sys.stdout.flush()
            sys.stderr.write(error_line(path, result.problem) + "\n")
    sys.stdout.flush()
    return status


def guarded_run(files: list[str], form: str) -> int:
    try:
        return run(files, form)
    except BrokenPipeError:
        # The reader went away: stop quietly, as click does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CHECK_FAILED


def main(args: list[str]) -> int:
    """Run a well-formed `symbols` invocation and return its exit status;
    -1, having done nothing, when click must parse the arguments."""
    parsed = parse(args)
    return -1 if parsed is None else guarded_run(*parsed)


__all__ = ["symbols", "symbols_of", "Symbols", "UnitSymbols", "main", "run", "guarded_run"]
