"""The click command line: parse options, call an operation, print, exit.

Exit codes: 0 success; 1 a check failed (verify found a modified file,
rebuild a file that differs); 2 usage error, or a file could not be read,
parsed, rewritten or rebuilt; 3 verify could not check a file.
"""
from __future__ import annotations

import signal
import sys

import click

from .errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, EXIT_UNCHECKED, BuildIDError
from .facts import INFO, READ, VERIFY, failed
from .ops.diff import diff
from .ops.hash import HashReport, hash_file
from .ops.info import inspect
from .ops.read import read as read_file
from .ops.rewrite import Rewritten, rewrite as rewrite_file
from .ops.scan import guarded_run
from .ops.verify import verify as verify_file
from .report.printer import Printer
from .report.text import diff_lines, error_line, hash_lines, info_lines, read_lines, rewrite_lines, verify_lines
from .scanopts import OPTIONS, UsageError, options
from .stdinput import path_for, renamed
from .verdict import ERROR, MODIFIED, UNCHECKED

_csv_option = click.option("--csv", "as_csv", is_flag=True,
                           help="CSV: a header row, then a row per file (per slice of a universal file).")


def _printer(command: str, as_json: bool, as_csv: bool):

    if as_json and as_csv:
        raise click.UsageError("choose one output format (--json, --csv)")
    form = "json" if as_json else "csv" if as_csv else "text"
    return Printer(command, form, lambda text: click.echo(text, nl=False), terminal=sys.stdout.isatty())


def _each_file(files, out, operation, lines, failed, stdin=True) -> int:
    """Run `operation` on each file and print its result or its text lines; a
    file that fails gets its `failed(path, message)` record (JSON, CSV) and a
    one-line error, and the others go on. With stdin, `-` is standard input
    (read from a copy, named `-` in the output). The exit status: 2 when any
    failed."""

    status = EXIT_OK
    for path in files:
        try:
            real = path_for(path) if stdin else path
            result = renamed(operation(real), real, path)
        except BuildIDError as e:
            status = EXIT_ERROR
            if out.form != "text":
                out.result(failed(path, e.message))
            _fail(e, path)
            continue
        out.result(result, lambda: lines(result, path))
        if out.form == "text":
            _notes(result, path)
    return status


def _notes(result, name: str) -> None:
    """What a remote read says about how it was read (a server without byte
    ranges): JSON and CSV carry it as `notes`; text gets it on stderr."""
    for note in getattr(result, "notes", ()) or ():
        click.echo(error_line(name, f"note: {note}"), err=True)


def _fail(e: BuildIDError, name: str | None = None) -> None:
    click.echo(error_line(None, str(e)) if name is None else error_line(name, e.message), err=True)


def _terminate_cleanly() -> None:
    # A SIGTERM during a rewrite unwinds like Ctrl-C, so temporary files go and
    # nothing is left half-done.
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="buildidtool", prog_name="buildid")
def cli() -> None:
    """Find, read, verify, hash and rewrite Go build IDs.

    Without a command, `buildid [-w] FILE` behaves exactly as `go tool buildid`.
    """


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def read(files: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """Print the Go build ID of each FILE (`-`: standard input)."""

    out = _printer("read", as_json, as_csv)
    sys.exit(_each_file(files, out, read_file, lambda info, _: read_lines(info, len(files) > 1),
                        lambda p, m: failed(p, m, READ)))


@cli.command("hash")
@click.option("--id", "placeholder", help="Placeholder to zero out instead of the file's own build ID.")
@click.option("--json", "as_json", is_flag=True, help="Add match offsets and excluded ranges (JSON lines).")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def hash_cmd(files: tuple[str, ...], placeholder: str | None, as_json: bool, as_csv: bool) -> None:
    """Content ID and SHA-256 of each FILE with its build ID (or --id) zeroed
    (`-`: standard input)."""

    out = _printer("hash", as_json, as_csv)
    sys.exit(_each_file(files, out, lambda p: hash_file(p, placeholder),
                        lambda reports, name: hash_lines(reports, name, len(files) > 1), HashReport.failed))


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--atomic", is_flag=True,
              help="Write a patched copy and rename it over the file (refused for hard-linked files).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def rewrite(files: tuple[str, ...], dry_run: bool, atomic: bool, as_json: bool, as_csv: bool) -> None:
    """Stamp each FILE with the content ID of its bytes (go tool buildid -w)."""

    out = _printer("rewrite", as_json, as_csv)
    _terminate_cleanly()
    sys.exit(_each_file(files, out, lambda p: rewrite_file(p, dry_run=dry_run, atomic=atomic),
                        lambda r, _: rewrite_lines(r), lambda p, m: Rewritten.failed(p, m, dry_run), stdin=False))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@click.option("--strict", is_flag=True, help="A host build ID not derived from the build ID is a failure.")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def verify(files: tuple[str, ...], as_json: bool, strict: bool, as_csv: bool) -> None:
    """Check that each FILE still matches the content ID stamped into it.

    Exit 0 when every file is ok; 1 when any is modified; else 2 when any
    could not be read (missing, unreadable, malformed); else 3 when any
    could not be checked (no build ID, or an ID that cannot describe the
    file: set by hand, or a Go archive's linked by another linker).
    `-` is standard input.
    """

    out = _printer("verify", as_json, as_csv)
    any_modified = any_error = any_unchecked = False
    for path in files:
        try:
            real = path_for(path)
            v = renamed(verify_file(real, strict=strict), real, path)
        except BuildIDError as e:
            v = failed(path, e.message, VERIFY)
        any_modified |= v.status == MODIFIED
        any_error |= v.status == ERROR
        any_unchecked |= v.status in UNCHECKED
        if v.status == ERROR and out.form == "text":
            # one line for a file that could not be read, on stderr, as every command
            click.echo(error_line(path, v.reason), err=True)
            continue
        out.result(v, lambda: verify_lines(v))
    sys.exit(EXIT_CHECK_FAILED if any_modified else EXIT_ERROR if any_error else
             EXIT_UNCHECKED if any_unchecked else EXIT_OK)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def info(files: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """Everything known about each FILE: build ID, host build ID, code signature,
    Go build info (`-`: standard input)."""

    out = _printer("info", as_json, as_csv)
    sys.exit(_each_file(files, out, inspect, lambda facts, _: info_lines(facts), lambda p, m: failed(p, m, INFO)))


def _scan_command():
    """`scan`, its options made from the one table (scanopts.OPTIONS)."""

    def checked(opt):
        def callback(ctx, param, value):
            if value is None:
                return None
            try:
                return opt.check(value)
            except ValueError as e:
                raise click.BadParameter(str(e)) from None
        return callback

    def scan(paths: tuple[str, ...], **values) -> None:
        """Scan files and directory trees: one record per regular file, and per member
        of archives, packages and container images (ARCHIVE!/MEMBER).

        Exit 0; 1 with --verify when any file is modified; otherwise 2 when any
        file failed (missing, unreadable, malformed, or its reader crashed or ran
        past the time limit: its record says why) or on a usage error.
        """
        try:
            opts = options(paths, values)
        except UsageError as e:
            raise click.UsageError(str(e)) from None
        sys.exit(guarded_run(opts))

    command = click.argument("paths", nargs=-1, required=True)(scan)
    for opt in reversed(OPTIONS):
        if opt.is_flag:
            command = click.option(*opt.names, opt.dest, is_flag=True, help=opt.help)(command)
        else:
            command = click.option(*opt.names, opt.dest, default=None, metavar=opt.metavar, help=opt.help,
                                   callback=checked(opt))(command)
    return cli.command("scan")(command)


_scan_command()


@cli.command("symbols")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: a header row, then a row per function.")
@click.argument("files", nargs=-1, required=True)
def symbols_cmd(files: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """What each FILE's pclntab says: where it lies, its layout, every function
    (name, entry, end, file and line), the file table, packages, and the
    modules and build paths its file paths show (`-`: standard input).

    Exit 0; 2 when any file could not be read, is broken, or has no pclntab.
    """
    from .ops.symbols import guarded_run as symbols_run  # the pclntab reader: ~10 ms the other commands never need

    if as_json and as_csv:
        raise click.UsageError("choose one output format (--json, --csv)")
    sys.exit(symbols_run(list(files), "json" if as_json else "csv" if as_csv else "text"))


@cli.command("vulns")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: a header row, then a row per finding.")
@click.option("--db", "db", metavar="URL|DIR",
              help="The Go vulnerability database: a URL speaking its protocol (default https://vuln.go.dev, "
                   "cached under $XDG_CACHE_HOME/buildidtool/vulndb), or a directory in that layout or of OSV files.")
@click.argument("files", nargs=-1, required=True)
def vulns_cmd(files: tuple[str, ...], as_json: bool, as_csv: bool, db: str | None) -> None:
    """Known vulnerabilities of each Go executable FILE, by what it really
    contains: the Go version and modules (build info, else recovered from the
    function table) matched against the Go vulnerability database, each
    finding at the symbol, package or module level (`-`: standard input).

    Exit 0; 1 when a finding is at the symbol or package level (or could not
    be told: no function table); otherwise 2 when a file could not be read,
    holds no Go executable, or the database cannot be used.
    """
    from .ops.vulns import run as vulns_run  # the database and the matcher: only for this command

    if as_json and as_csv:
        raise click.UsageError("choose one output format (--json, --csv)")
    sys.exit(vulns_run(list(files), "json" if as_json else "csv" if as_csv else "text", db,
                       lambda text: click.echo(text, nl=False)))


@cli.command("diff")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: a header row, then a row per pair of units compared.")
@click.option("--short", is_flag=True, help="Text: what differs, without the list of byte ranges.")
@click.argument("a")
@click.argument("b")
def diff_cmd(a: str, b: str, as_json: bool, as_csv: bool, short: bool) -> None:
    """Are A and B the same build, modulo their build IDs?

    Exit 0 when their content is the same with each file's own build ID, host
    build ID and code signature left out; 1 when it differs; 2 on an error.
    """

    out = _printer("diff", as_json, as_csv)
    try:
        d = diff(a, b)
    except BuildIDError as e:
        _fail(e)
        sys.exit(EXIT_ERROR)
    out.result(d, lambda: diff_lines(d, a, b, short))
    sys.exit(EXIT_OK if d.same else EXIT_CHECK_FAILED)


@cli.command("rebuild")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@_csv_option
@click.option("--go", "go", metavar="GO",
              help="The go command to rebuild with (refused unless it is the Go version build info records).")
@click.option("--source", metavar="DIR",
              help="A checkout of the main module (checked against vcs.revision and vcs.modified where recorded).")
@click.argument("files", nargs=-1, required=True)
def rebuild_cmd(files: tuple[str, ...], as_json: bool, as_csv: bool, go: str | None, source: str | None) -> None:
    """Rebuild each FILE from the source and toolchain its build info records,
    and compare: reproduced, differs, or cannot-rebuild (with the reason).

    Exit 0 when every file is reproduced, 1 when any differs, otherwise 2
    when any cannot be rebuilt. FILE is only read.
    """
    # a rebuild runs the go command for seconds: its modules load only here
    from .ops.rebuild import CANNOT_REBUILD, DIFFERS, Rebuilt, rebuild
    from .report.text import rebuild_lines

    out = _printer("rebuild", as_json, as_csv)
    _terminate_cleanly()  # a SIGTERM unwinds, so the build stops and its temporary tree goes
    seen = set()
    for path in files:
        try:
            real = path_for(path)
            r = rebuild(real, go=go, source=source)
        except BuildIDError as e:
            r = Rebuilt.failed(path, e.message)
        else:
            r = r.renamed(path) if real != path else r
        seen.add(r.status)
        out.result(r, lambda: rebuild_lines(r))
        if r.error:
            click.echo(error_line(path, r.error), err=True)
    sys.exit(EXIT_CHECK_FAILED if DIFFERS in seen else EXIT_ERROR if CANNOT_REBUILD in seen else EXIT_OK)
