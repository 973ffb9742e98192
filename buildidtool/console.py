"""The `buildid` console script: subcommands go to the click CLI; anything else
is the Go-compatible form, which never imports click."""
from __future__ import annotations

import sys

from .commands import COMMANDS
from .errors import die_of_broken_pipe

SUBCOMMANDS = COMMANDS | {"--help", "--version"}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "scan":
        from .ops.scan import main as scan_main  # no click for a well-formed scan (row 2: 0.88x)
        code = scan_main(args[1:])
        if code >= 0:
            sys.exit(code)
    if args and args[0] == "symbols":
        from .ops.symbols import main as symbols_main  # no click for a well-formed symbols (benchmarks/symbols.py)
        code = symbols_main(args[1:])
        if code >= 0:
            sys.exit(code)
    if args and args[0] in SUBCOMMANDS:
        from .cli import cli  # click and every operation: never for the Go-compatible form
        try:
            cli.main(args=args, prog_name="buildid")
        except SystemExit:
            # click ends a command whose output was closed with status 1, like a
            # failed check; the output was cut, so end as that deserves (errors.py)
            from click.utils import PacifyFlushWrapper  # click is loaded by now
            if isinstance(sys.stdout, PacifyFlushWrapper):
                die_of_broken_pipe()
            raise
    else:
        from .gocompat import main as gomain
        sys.exit(gomain(args))
