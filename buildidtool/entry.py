"""The `buildid` console script: subcommands go to the click CLI; anything else
is the Go-compatible form, which never imports click."""
from __future__ import annotations

import sys

# The click group's commands (a test checks they agree): kept here so that the
# Go-compatible form, which build systems run once per link, never imports
# click just to learn that its argument is not a command.
COMMANDS = frozenset({"read", "hash", "rewrite", "verify", "info", "scan", "diff", "rebuild"})
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
        cli.main(args=args, prog_name="buildid")
    else:
        from .gocompat import main as gomain
        sys.exit(gomain(args))
