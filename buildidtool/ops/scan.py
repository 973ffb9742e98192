"""`scan`: files, trees, packages and images, one record per file (per member
of an archive), read by worker processes, written in order as they come.

The pipeline: walk (tree.walk, in this process) -> records per input
(inputs.records, in the workers) -> rendered by the chosen format in the
workers -> written in order here (report.scan). Free of click: console.py
runs a well-formed scan straight from scanopts.parse."""
from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator

from ..errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, DatabaseError, die_of_broken_pipe
from ..facts import SBOM, SCAN, VERDICT, VULNS, failed
from ..inputs import records
from ..report.scan import FORMATS, Progress, Tally
from ..report.text import error_line, scan_summary
from ..remote import is_reference
from ..scanopts import Options, parse
from ..tree import ScanStats, Walked, walk
from ..workers import ordered


def asked_for(verify: bool, sbom: bool, vulns: bool = False) -> frozenset:
    """The groups of facts a scan gathers (facts.py)."""
    asked = SBOM if sbom else SCAN
    if vulns:
        asked = asked | {VULNS}
    return asked | {VERDICT} if verify else asked


def scan(items: Iterable[Walked], jobs: int, asked: frozenset = SCAN, render=None,
         time_limit: float | None = None, archives=None, remote=None, vulndb=None) -> Iterator:
    """The records of walked items in order, read by `jobs` worker processes
    (0: in this one). With `render`, a function of a batch's list of records
    run in the worker, its results instead (one per batch). A file whose
    reader raises, is killed, or runs past `time_limit` seconds is an error
    record; the rest go on. `vulndb`: the database VULNS matches against,
    opened here before the workers fork, so each has it (and what it loaded)
    without loading it again; an entry a worker loads later it keeps."""
    # Items travel to the workers as bare paths unless the walk met an error:
    # pickling a str costs a fraction of pickling an object.
    def work(item):
        return records(Walked(item) if type(item) is str else item, asked, archives, remote, vulndb)

    def fault(item, message):
        return [failed(item if type(item) is str else item.path, message, asked)]

    def combine(per_item):
        recs = [r for rs in per_item for r in rs]
        return recs if render is None else render(recs)

    bare = (x.path if x.error is None else x for x in items)
    # Verifying reads whole files: small batches keep every worker busy to the end.
    # Matching vulnerabilities reads the function table of each Go executable, and
    # those sit together (a bin/ directory): smaller batches spread them over the workers.
    # Looking inside archives, one input may hold far more work than its neighbours:
    # batches are cut by input size too, so large packages spread over the workers.
    # An archive's records go out every PART_RECORDS, so that a million members
    # are never held at once.
    batch = 4 if VERDICT in asked else 32 if VULNS in asked else 256
    batches = ordered(bare, work, fault, combine, jobs, batch_items=batch,
                      time_limit=time_limit, size=_item_size, cost=_item_cost if archives is not None else None,
                      part=PART_RECORDS)
    if render is not None:
        yield from batches
    else:
        for recs in batches:
            yield from recs


PART_RECORDS = 512


def _item_size(item) -> int:
    return len(item) + 8 if type(item) is str else len(item.path) + len(item.error) + 32


# Names that are often archives, packages or images. Only these are stat()ed for
# their size: the cost only spreads large inputs over the workers, and one
# stat per file in the parent was a tenth of a tree's scan. A large archive
# named otherwise is read all the same, in a batch with its neighbours.
_HEAVY = (".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".tzst", ".zip", ".jar", ".war",
          ".ear", ".whl", ".egg", ".nupkg", ".apk", ".aar", ".deb", ".udeb", ".rpm", ".gem", ".crate", ".sym")


def _item_cost(item) -> int:
    """An input's size on disk when its name says it may be an archive (a
    directory, an OCI layout, counts as large); otherwise, and for a walk
    error, nothing."""
    if type(item) is not str:
        return 0
    if is_reference(item):
        return 1 << 30
    if not item.endswith(_HEAVY) and "." in item.rpartition("/")[2]:
        return 0
    try:
        st = os.stat(item)
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 1 << 30


def run(opts: Options) -> int:
    """Scan, print records and the summary; the exit status: 1 when --verify
    found a modified file, else 2 when any file failed (an error record), else 0."""
    db = None
    if opts.vulns:
        from .vulns import load  # the database's client and the matcher: only for --vulns
        try:
            db = load(opts.db)
        except DatabaseError as e:
            sys.stderr.write(error_line(None, str(e)) + "\n")
            return EXIT_ERROR
    fmt = FORMATS[opts.form](opts.verify, terminal=os.isatty(1), go_only=opts.go_only, vulns=opts.vulns)
    if fmt.wants_sbom:
        fmt.identity, fmt.roots = opts.sbom_identity, opts.paths
        fmt.vulndb = db.describe() if db is not None else None
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
    if opts.insecure_registry:  # read by the HTTP client of each worker (remote/http.py)
        os.environ["BUILDID_INSECURE_REGISTRY"] = "*"
    batches = scan(walk(opts.paths, opts.links, stats, layouts), opts.jobs or os.cpu_count() or 1,
                   asked_for(opts.verify, fmt.wants_sbom, opts.vulns), render, opts.time_limit or None, opts.archives,
                   opts.remote, db)
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
    sys.stderr.write(scan_summary(total, opts.verify, stats.words(), db.describe() if db is not None else None)
                     + "\n")
    return EXIT_CHECK_FAILED if total.modified else EXIT_ERROR if total.errors else EXIT_OK


def main(args: list[str]) -> int:
    """Run a well-formed `scan` invocation without click and return its exit
    status; return -1, having done nothing, when click must parse the arguments."""
    opts = parse(args)
    if opts is None:
        return -1
    return guarded_run(opts)


def guarded_run(opts: Options) -> int:
    try:
        return run(opts)
    except BrokenPipeError:
        die_of_broken_pipe()
    except KeyboardInterrupt:
        return 130


__all__ = ["scan", "run", "main", "guarded_run", "asked_for", "Options"]
