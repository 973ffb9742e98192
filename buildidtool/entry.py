"""The `buildid` console script: subcommands go to the click CLI; anything else
is the Go-compatible form, which never imports click."""
from __future__ import annotations

import sys

# The click group's commands (a test checks they agree): kept here so that the
# Go-compatible form, which build systems run once per link, never imports
# click just to learn that its argument is not a command.
COMMANDS = frozenset({"read", "hash", "rewrite", "verify", "info", "scan", "diff"})
SUBCOMMANDS = COMMANDS | {"--help", "--version"}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "scan":
        from .scancmd import main as scan_main
        code = scan_main(args[1:])
        if code >= 0:
            sys.exit(code)
    if args and args[0] in SUBCOMMANDS:
        from .cli import cli
        try:
            cli.main(args=args, prog_name="buildid")
        except SystemExit:
            # click ends a command whose output was closed with status 1, like a
            # failed check; the output was cut, so end as that deserves (errors.py)
            from click.utils import PacifyFlushWrapper
            if isinstance(sys.stdout, PacifyFlushWrapper):
                from .errors import die_of_broken_pipe
                die_of_broken_pipe()
            raise
    else:
        from .gocompat import main as gomain
        sys.exit(gomain(args))
