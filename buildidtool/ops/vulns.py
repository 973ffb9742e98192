"""`vulns`: the known vulnerabilities of each Go executable unit (the file, or
each slice of a universal Mach-O), at the symbol, package or module level
(vulndb/match.py), against the Go vulnerability database (vulndb/source.py)
opened once for all the files.

    db = open_database(None)                  # https://vuln.go.dev, cached; DatabaseError
    facts = vulns("fzf", db)                  # a facts.Facts whose units carry .vulns
    facts.vulns.findings[0].level             # "symbol"

Exit status of the command: 1 when any finding may affect a binary (symbol,
package or unknown level); else 2 when a file could not be read or holds no
Go executable; else 0. A database that cannot be used stops the run with
one line and status 2."""
from __future__ import annotations

import sys

from ..errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, BuildIDError, DatabaseError
from ..facts import VULN_CHECK, Facts, failed, read_facts
from ..report.printer import Printer
from ..report.text import error_line
from ..report.vulns import MAY_BE_AFFECTED, lines
from ..stdinput import path_for, renamed
from ..vulndb.match import STDLIB, TOOLCHAIN
from ..vulndb.source import Database, open_database

NOT_GO = "not a Go executable: nothing to check"


def vulns(path: str, db: Database) -> Facts:
    """The facts of `path` with its units' vulnerabilities. Raises
    BuildIDError for a file that cannot be read, DatabaseError when the
    database fails."""
    return read_facts(path, VULN_CHECK, vulndb=db)


def checked(facts: Facts) -> bool:
    return any(u.vulns is not None for u in facts.units)


def may_be_affected(facts: Facts) -> bool:
    return any(f.level in MAY_BE_AFFECTED for u in facts.units if u.vulns is not None for f in u.vulns.findings)


def load(spec: str | None) -> Database:
    """The database, its notes (offline use) said on stderr, the standard
    library's entries loaded (every binary needs them)."""
    db = open_database(spec)
    for note in db.notes:
        sys.stderr.write(error_line(None, note) + "\n")
    db.prefetch([STDLIB, TOOLCHAIN])
    return db


def run(files: list[str], form: str, spec: str | None, write=None) -> int:
    """Print each file's findings in `form`; see the module docstring for the exit status."""
    write = write or sys.stdout.write
    try:
        db = load(spec)
    except DatabaseError as e:
        sys.stderr.write(error_line(None, str(e)) + "\n")
        return EXIT_ERROR
    out = Printer("vulns", form, write, terminal=sys.stdout.isatty())
    affected = error = False
    for path in files:
        try:
            real = path_for(path)
            result = renamed(vulns(real, db), real, path)
        except BuildIDError as e:
            error = True
            if form != "text":
                out.result(failed(path, e.message, VULN_CHECK))
            sys.stdout.flush()
            sys.stderr.write(error_line(path, e.message) + "\n")
            continue
        except DatabaseError as e:
            sys.stdout.flush()
            sys.stderr.write(error_line(None, str(e)) + "\n")
            return EXIT_ERROR
        out.result(result, lambda: lines(result))
        if form == "text" and result.notes:  # how a remote file was read: JSON and CSV carry it as `notes`
            sys.stdout.flush()
            sys.stderr.writelines(error_line(path, f"note: {n}") + "\n" for n in result.notes)
        affected |= may_be_affected(result)
        if not checked(result):
            error = True
            sys.stdout.flush()
            sys.stderr.write(error_line(path, NOT_GO) + "\n")
    sys.stdout.flush()
    return EXIT_CHECK_FAILED if affected else EXIT_ERROR if error else EXIT_OK


__all__ = ["vulns", "run", "load", "checked", "may_be_affected"]
