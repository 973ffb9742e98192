"""`buildid [-w] FILE`: the command line of `go tool buildid`, with its output
and exit status. Kept free of click and of everything -w does not need, because
build systems run it once per link."""
from __future__ import annotations

import os
import stat
import sys

from .archives.paths import is_member_path
from .commands import COMMANDS
from .errors import BuildIDError, NothingToRewrite, die_of_broken_pipe, naming
from .fileio import opened
from .formats import Source, reference_id
from .remote import is_reference

USAGE = f"""usage: buildid [-w] file          (as go tool buildid)
       buildid COMMAND [OPTIONS] FILE...   ({", ".join(sorted(COMMANDS))})
Help: buildid --help (commands), buildid COMMAND -h (one command).
"""
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


def _usage(problem: str | None = None) -> int:
    if problem:
        sys.stderr.write(problem + "\n")
    sys.stderr.write(USAGE)
    return 2


def parse(argv: list[str]) -> tuple[bool, list[str]] | str:
    """Go's flag rules for the single boolean -w; a string is a usage error."""
    write = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if len(a) < 2 or a[0] != "-":
            break
        name = a[2:] if a.startswith("--") else a[1:]
        if not name or name[0] in "-=":
            return f"bad flag syntax: {a}"
        name, eq, value = name.partition("=")
        if name in ("h", "help"):  # Go's flag package: usage, exit 2
            return ""
        if name != "w":
            return f"flag provided but not defined: -{name}"
        if eq:
            if value in _TRUE:
                write = True
            elif value in _FALSE:
                write = False
            else:
                return f'invalid boolean value "{value}" for -w: parse error'
        else:
            write = True
        i += 1
    return write, argv[i:]


def _suggestion(argv: list[str]) -> str | None:
    """For `buildid raed FILE`: a subcommand the first word looks like, unless
    it names a file."""
    if not argv or argv[0].startswith("-") or os.path.lexists(argv[0]):
        return None
    import difflib  # 2 ms, only when a command name is misspelt

    close = difflib.get_close_matches(argv[0], sorted(COMMANDS), n=1, cutoff=0.6)
    return f'buildid: unknown command "{argv[0]}"; did you mean "{close[0]}"?' if close else None


def read_reference(path: str) -> bytes:
    """Exactly what `go tool buildid FILE` prints, without the newline."""
    with naming(path), opened(path, ranged=True) as fd:
        return reference_id(Source.of_file(fd))


def main(argv: list[str]) -> int:
    parsed = parse(argv)
    if isinstance(parsed, str):
        return _usage(parsed)
    write, args = parsed
    if len(args) != 1:
        return _usage(_suggestion(args))
    path = args[0]
    try:
        if write:
            from .ops.rewrite import rewrite  # `buildid FILE` never loads hashing, signing, locking (row 1)
            rewrite(path, go_compatible=True)
        else:
            out = read_reference(path)
            sys.stdout.buffer.write(out + b"\n")
            sys.stdout.flush()
        return 0
    except BuildIDError as e:
        sys.stderr.write(f"buildid: {go_words(path, e)}\n")
        return 1
    except BrokenPipeError:
        die_of_broken_pipe()
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback: name the file and the surprise
        sys.stderr.write(f"buildid: {path}: internal error: {type(e).__name__}: {e}\n")
        return 1


def go_words(path: str, e) -> str:
    """The error as `go tool buildid` words it where Go fails before parsing:
    os.Open (`open PATH: no such file or directory`, `permission denied`, ...)
    and its first 8-byte read (`read PATH: is a directory`; a shorter file:
    `EOF`, without the name, as Go). Worked out again only once something
    failed, so a successful run pays nothing for it. Anything else, and member
    paths and remote references, which Go does not have: our own words. And -w of a file without a
    build ID, as Go's FindAndHash words it."""
    if is_member_path(path) or is_reference(path):
        return str(e)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as x:
        return f"open {path}: {_go_errno(x.errno)}"
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if stat.S_ISDIR(st.st_mode):
        return f"read {path}: is a directory"
    if stat.S_ISREG(st.st_mode) and st.st_size < 8:
        return "EOF"
    if isinstance(e, NothingToRewrite):  # -w of a file without an ID: Go's hashing refuses the empty ID
        return "buildid.FindAndHash: no id specified"
    return str(e)


def _go_errno(code: int | None) -> str:
    """Go's text for an errno: the C library's, with a lower-case first letter
    (Go's own table for Linux)."""
    text = os.strerror(code) if code else "unknown error"
    return text[:1].lower() + text[1:]
