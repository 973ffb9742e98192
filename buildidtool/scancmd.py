"""The `scan` command's body, free of click: a scan of a small tree takes a
few hundred milliseconds, of which importing click would take a tenth (see
the README's benchmark table). entry.py sends well-formed invocations here
directly; help and usage errors still go through click (cli.py).

The pipeline: walk (scanning.walk, in this process) -> records per input
(scanning.records, in the workers) -> rendered by the chosen format in the
workers -> written in order here (report.scan)."""
from __future__ import annotations

import os
import sys

from .errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK

DEFAULT_TIME_LIMIT = 300.0  # seconds per file; --verify hashes ~1 GB/s, so a 100 GB file fits


class Options:
    __slots__ = ("paths", "form", "verify", "links", "jobs", "time_limit", "sbom_identity", "archives")

    def __init__(self, paths, form="text", verify=False, links="files", jobs=None,
                 time_limit=DEFAULT_TIME_LIMIT, sbom_identity=(None, None, False), archives="default"):
        self.paths, self.form, self.verify = list(paths), form, verify
        self.links, self.jobs, self.time_limit = links, jobs, time_limit  # scanning.FILE_LINKS, ...
        self.sbom_identity = sbom_identity  # (serial number, timestamp, reproducible) of an SBOM
        if archives == "default":  # look inside archives with the default limits
            from .archives.limits import Limits
            archives = Limits()
        self.archives = archives  # an archives.limits.Limits, or None: --no-archives


_FLAGS = {"--json": "json", "--csv": "csv", "--verify": "verify", "--follow-symlinks": "all",
          "--no-follow-symlinks": "none", "--no-archives": "no-archives", "--all-layers": "all-layers"}


def _value(args: list[str], i: int, long: str, short: str | None = None) -> tuple[str | None, int]:
    """The value of option `long` (or `short`) at args[i] and the next index, or (None, i)."""
    a = args[i]
    if a == long or a == short:
        return (args[i + 1], i + 2) if i + 1 < len(args) else (None, i)
    if a.startswith(long + "="):
        return a[len(long) + 1:], i + 1
    if short and a.startswith(short) and len(a) > len(short):
        return a[len(short):], i + 1
    return None, i


def parse_simple(args: list[str]) -> Options | None:
    """Options for an invocation that is plainly well formed, else None (let
    click parse it and word any error)."""
    from .report.scan import FORMATS

    forms: set[str] = set()
    verify = False
    links: set[str] = set()
    jobs = None
    limit = DEFAULT_TIME_LIMIT
    archives: set[str] = set()  # flags about looking inside archives
    paths: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            paths.extend(args[i + 1:])
            break
        if a in _FLAGS:
            flag = _FLAGS[a]
            if flag in FORMATS:
                forms.add(flag)
            verify |= flag == "verify"
            if flag in ("all", "none"):
                links.add(flag)
            if flag in ("no-archives", "all-layers"):
                archives.add(flag)
            i += 1
            continue
        v, j = _value(args, i, "--jobs", "-j")
        if j > i:
            if not v.isdigit() or not 1 <= int(v) <= 256:
                return None
            jobs, i = int(v), j
            continue
        v, j = _value(args, i, "--format")
        if j > i:
            if v not in FORMATS:
                return None
            forms.add(v)
            i = j
            continue
        v, j = _value(args, i, "--time-limit")
        if j > i:
            try:
                limit = float(v)
            except ValueError:
                return None
            if not limit >= 0:
                return None
            i = j
            continue
        if a.startswith("-"):
            return None
        paths.append(a)
        i += 1
    if not paths or len(forms) > 1 or len(links) > 1:
        return None
    limits = None
    if "no-archives" not in archives:
        from .archives.limits import Limits
        limits = Limits(all_layers="all-layers" in archives)
    return Options(paths, forms.pop() if forms else "text", verify, links.pop() if links else "files", jobs, limit,
                   archives=limits)


def run(opts: Options) -> int:
    """Scan, print records and the summary; the exit status: 1 when --verify
    found a modified file, else 2 when any file failed (an error record), else 0."""
    from .scanning import ScanStats, scan, walk
    from .report.scan import FORMATS, Progress, Tally
    from .report.text import scan_summary

    fmt = FORMATS[opts.form](opts.verify, terminal=os.isatty(1))
    sbom = getattr(fmt, "wants_sbom", False)
    if sbom:
        fmt.identity, fmt.roots = opts.sbom_identity, opts.paths
    stats = ScanStats()

    def render(recs):  # in the workers
        t = Tally()
        for r in recs:
            t.count(r)
        return fmt.render_batch(recs), t

    out = sys.stdout.buffer
    sys.stdout.flush()
    progress = Progress()
    total = Tally()
    fmt.begin(out)
    layouts = opts.archives is not None
    batches = scan(walk(opts.paths, opts.links, stats, layouts), opts.jobs or os.cpu_count() or 1,
                   opts.verify, render, opts.time_limit or None, sbom, opts.archives)
    try:
        for rendered, tally in batches:
            total.add(tally)
            progress.before_output()
            fmt.write(out, rendered)
            if progress.shared:
                out.flush()
            progress.tick(total.files)
        fmt.end(out)
        out.flush()
    finally:
        batches.close()  # stopped early (the output closed, Ctrl-C): the workers end now
    progress.clear()
    sys.stderr.write(scan_summary(total, opts.verify, stats.words()) + "\n")
    return EXIT_CHECK_FAILED if total.modified else EXIT_ERROR if total.errors else EXIT_OK


def main(args: list[str]) -> int:
    """Run a well-formed `scan` invocation without click and return its exit
    status; return -1, having done nothing, when click must parse the arguments."""
    opts = parse_simple(args)
    if opts is None:
        return -1
    return guarded_run(opts)


def guarded_run(opts: Options) -> int:
    try:
        return run(opts)
    except BrokenPipeError:
        from .errors import die_of_broken_pipe
        die_of_broken_pipe()
    except KeyboardInterrupt:
        return 130
