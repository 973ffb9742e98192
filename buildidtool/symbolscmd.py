"""The `symbols` command's body, free of click: importing click costs about
20 ms of a run that a Go program does in tens (benchmarks/symbols.py), so
entry.py sends a plainly well-formed invocation (`symbols [--json|--csv]
FILE...`) here directly; help and usage errors still go through click,
whose command (cli.py) runs the same `run`."""
from __future__ import annotations

import os
import sys

from .errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, BuildIDError

FORMS = {"--json": "json", "--csv": "csv"}


def parse_simple(args: list[str]) -> tuple[list[str], str] | None:
    """(files, form) of a plainly well-formed invocation, else None."""
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
    from .report.printer import Printer
    from .report.symbols import lines
    from .report.text import error_line
    from .stdinput import path_for, renamed
    from .symbols import symbols

    out = Printer("symbols", form, sys.stdout.write, terminal=sys.stdout.isatty())
    status = EXIT_OK
    for path in files:
        try:
            real = path_for(path)
            result = renamed(symbols(real), real, path)
        except BuildIDError as e:
            status = EXIT_ERROR
            if form != "text":
                from .report.records import error_record
                out.result(error_record("symbols", path, e.message))
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
    parsed = parse_simple(args)
    return -1 if parsed is None else guarded_run(*parsed)
