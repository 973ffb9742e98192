"""The click command line: parse options, call the library, print, exit.

Exit codes: 0 success; 1 a check failed (verify found a modified file,
rebuild a file that differs); 2 usage error, or a file could not be read,
parsed, rewritten or rebuilt.
"""
from __future__ import annotations

import signal
import sys

import click

from .errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, BuildIDError
from .report.scan import FORMATS as SCAN_FORMATS
from .report.text import error_line


_csv_option = click.option("--csv", "as_csv", is_flag=True,
                           help="CSV: a header row, then a row per file (per slice of a universal file).")


def _printer(command: str, as_json: bool, as_csv: bool):
    from .report.printer import Printer

    if as_json and as_csv:
        raise click.UsageError("choose one output format (--json, --csv)")
    form = "json" if as_json else "csv" if as_csv else "text"
    return Printer(command, form, lambda text: click.echo(text, nl=False), terminal=sys.stdout.isatty())


def _each_file(command: str, files, out, operation, lines, record=None, dry_run=False, stdin=True) -> int:
    """Run `operation` on each file and print its record or its text lines; a
    file that fails gets an error record (JSON, CSV) and a one-line error, and
    the others go on. With stdin, `-` is standard input (read from a copy,
    named `-` in the output). The exit status: 2 when any failed."""
    from .stdinput import path_for, renamed

    status = EXIT_OK
    for path in files:
        try:
            real = path_for(path) if stdin else path
            result = operation(real)
            renamed(record(result) if record else result, real, path)
        except BuildIDError as e:
            status = EXIT_ERROR
            if out.form != "text":
                from .report.records import error_record
                out.result(error_record(command, path, e.message, dry_run))
            _fail(e, path)
            continue
        out.result(record(result) if record else result, lambda: lines(result, path))
    return status


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
    from .reading import read as read_file
    from .report.text import read_lines

    out = _printer("read", as_json, as_csv)
    sys.exit(_each_file("read", files, out, read_file, lambda info, _: read_lines(info, len(files) > 1)))


@cli.command("hash")
@click.option("--id", "placeholder", help="Placeholder to zero out instead of the file's own build ID.")
@click.option("--json", "as_json", is_flag=True, help="Add match offsets and excluded ranges (JSON lines).")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def hash_cmd(files: tuple[str, ...], placeholder: str | None, as_json: bool, as_csv: bool) -> None:
    """Content ID and SHA-256 of each FILE with its build ID (or --id) zeroed
    (`-`: standard input)."""
    from .hashfile import hash_file
    from .report.text import hash_lines

    out = _printer("hash", as_json, as_csv)
    sys.exit(_each_file("hash", files, out, lambda p: hash_file(p, placeholder),
                        lambda reports, name: hash_lines(reports, name, len(files) > 1)))


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--atomic", is_flag=True,
              help="Write a patched copy and rename it over the file (refused for hard-linked files).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def rewrite(files: tuple[str, ...], dry_run: bool, atomic: bool, as_json: bool, as_csv: bool) -> None:
    """Stamp each FILE with the content ID of its bytes (go tool buildid -w)."""
    from .report.text import rewrite_lines
    from .rewriting import rewrite as rewrite_file

    out = _printer("rewrite", as_json, as_csv)
    _terminate_cleanly()
    sys.exit(_each_file("rewrite", files, out, lambda p: rewrite_file(p, dry_run=dry_run, atomic=atomic),
                        lambda r, _: rewrite_lines(r), dry_run=dry_run, stdin=False))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@click.option("--strict", is_flag=True, help="A host build ID not derived from the build ID is a failure.")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def verify(files: tuple[str, ...], as_json: bool, strict: bool, as_csv: bool) -> None:
    """Check that each FILE still matches the content ID stamped into it.

    Exit 0 when every file is ok, 1 when any is modified, 2 when any other
    file could not be checked (no build ID, legacy ID, unreadable).
    `-` is standard input.
    """
    from .report.text import verify_lines
    from .stdinput import path_for, renamed
    from .verifying import MODIFIED, OK, Verdict
    from .verifying import verify as verify_file

    out = _printer("verify", as_json, as_csv)
    any_modified = any_unchecked = False
    for path in files:
        try:
            real = path_for(path)
            v = renamed(verify_file(real, strict=strict), real, path)
        except BuildIDError as e:
            v = Verdict.failed(path, e.message)
        any_modified |= v.status == MODIFIED
        any_unchecked |= v.status not in (OK, MODIFIED)
        out.result(v, lambda: verify_lines(v))
        if v.status == "error" and out.form == "text":
            click.echo(error_line(path, v.reason), err=True)
    sys.exit(EXIT_CHECK_FAILED if any_modified else EXIT_ERROR if any_unchecked else EXIT_OK)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON lines).")
@_csv_option
@click.argument("files", nargs=-1, required=True)
def info(files: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """Everything known about each FILE: build ID, host build ID, code signature,
    Go build info (`-`: standard input)."""
    from .inspecting import inspect_with_lines
    from .report.text import info_lines

    out = _printer("info", as_json, as_csv)
    sys.exit(_each_file("info", files, out, inspect_with_lines, lambda r, _: info_lines(*r),
                        record=lambda r: r[0]))


@cli.command()
@click.option("--format", "form", type=click.Choice(list(SCAN_FORMATS)),
              default=None, help="Output format (default: text, tab-separated); cyclonedx-json and "
              "spdx-json write one SBOM document (CycloneDX 1.6, SPDX 2.3) for the whole scan.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json: one JSON object per file.")
@click.option("--csv", "as_csv", is_flag=True, help="Same as --format csv: RFC 4180 with a header row.")
@click.option("--verify", "do_verify", is_flag=True, help="Also verify each file (reads whole files).")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links inside the trees.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Worker processes (default: one per core).")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Per-file time limit; a file past it is an error record (default 300, 0: none).")
@click.option("--no-archives", is_flag=True, help="Do not look inside archives, packages and images.")
@click.option("--all-layers", is_flag=True, help="Images: every layer's files (with a layer field), not the squashed tree.")
@click.option("--max-depth", type=click.IntRange(0, 64), default=None,
              help="Archives inside archives opened, the outermost counting 1 (default 4; 0: like --no-archives).")
@click.option("--max-member-size", metavar="SIZE", default=None,
              help="Largest member read, uncompressed (default 4G; suffixes K, M, G, T).")
@click.option("--max-total-size", metavar="SIZE", default=None,
              help="Most data read out of one input, all nesting levels (default 16G).")
@click.option("--max-ratio", type=click.FloatRange(min=1), default=None,
              help="Largest expansion ratio of one input, once past 64M read (default 250).")
@click.option("--max-members", type=click.IntRange(min=1), default=None,
              help="Most members read from one input (default 1000000).")
@click.option("--serial-number", metavar="URN", default=None,
              help="SBOM serial number (urn:uuid:...; default: random, or from the content with --reproducible).")
@click.option("--timestamp", metavar="ISO8601", default=None,
              help="SBOM creation time (default: now, or SOURCE_DATE_EPOCH / 1970 with --reproducible).")
@click.option("--reproducible", is_flag=True,
              help="SBOM serial number and time fixed, so two scans of one tree give the same bytes.")
@click.argument("paths", nargs=-1, required=True)
def scan(paths: tuple[str, ...], form: str | None, as_json: bool, as_csv: bool, do_verify: bool,
         follow_symlinks: bool, jobs: int | None, time_limit: float | None, no_archives: bool,
         all_layers: bool, max_depth: int | None, max_member_size: str | None, max_total_size: str | None,
         max_ratio: float | None, max_members: int | None, serial_number: str | None,
         timestamp: str | None, reproducible: bool) -> None:
    """Scan files and directory trees: one record per regular file, and per member
    of archives, packages and container images (ARCHIVE!/MEMBER).

    Exit 0; 1 with --verify when any file is modified; otherwise 2 when any
    file failed (missing, unreadable, malformed, or its reader crashed or ran
    past the time limit: its record says why) or on a usage error.
    """
    from .scancmd import DEFAULT_TIME_LIMIT, Options, guarded_run

    chosen = {f for f in (form, "json" if as_json else None, "csv" if as_csv else None) if f}
    if len(chosen) > 1:
        raise click.UsageError("choose one output format (--format, --json, --csv)")
    limit = DEFAULT_TIME_LIMIT if time_limit is None else time_limit
    form = chosen.pop() if chosen else "text"
    identity = (serial_number, timestamp, reproducible)
    if identity != (None, None, False):
        from .sbom import FORMATS as SBOM_FORMATS, Identity, Inventory
        if form not in SBOM_FORMATS:
            raise click.UsageError("--serial-number, --timestamp and --reproducible need an SBOM --format")
        try:
            Identity.make(Inventory(), *identity)
        except ValueError as e:
            raise click.UsageError(f"bad --serial-number, --timestamp or SOURCE_DATE_EPOCH: {e}")
    archives = None
    if not no_archives and max_depth != 0:
        from .archives.limits import Limits, parse_size
        archives = Limits(all_layers=all_layers)
        try:
            for field, value in (("max_member_size", max_member_size), ("max_total_size", max_total_size)):
                if value is not None:
                    setattr(archives, field, parse_size(value))
        except ValueError as e:
            raise click.BadParameter(str(e)) from None
        for field, value in (("max_depth", max_depth), ("max_ratio", max_ratio), ("max_members", max_members)):
            if value is not None:
                setattr(archives, field, value)
    sys.exit(guarded_run(Options(paths, form, do_verify, follow_symlinks, jobs, limit, identity, archives)))


@cli.command("diff")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: a header row, then a row per pair of units compared.")
@click.argument("a")
@click.argument("b")
def diff_cmd(a: str, b: str, as_json: bool, as_csv: bool) -> None:
    """Are A and B the same build, modulo their build IDs?

    Exit 0 when their content is the same with each file's own build ID, host
    build ID and code signature left out; 1 when it differs; 2 on an error.
    """
    from .diffing import diff
    from .report.text import diff_lines

    out = _printer("diff", as_json, as_csv)
    try:
        d = diff(a, b)
    except BuildIDError as e:
        _fail(e)
        sys.exit(EXIT_ERROR)
    out.result(d, lambda: diff_lines(d, a, b))
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
    from .rebuilding import CANNOT_REBUILD, DIFFERS, Rebuilt, rebuild
    from .report.text import rebuild_lines
    from .stdinput import path_for

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
