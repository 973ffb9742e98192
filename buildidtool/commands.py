"""The subcommands' names: the console script routes by them and the
Go-compatible usage lists them, neither of which may import click to learn
them (a test holds this list equal to the click group's)."""

COMMANDS = frozenset({"read", "hash", "rewrite", "verify", "info", "scan", "diff", "symbols", "rebuild",
                      "vulns"})
