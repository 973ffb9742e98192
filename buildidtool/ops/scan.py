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
from functools import partial

from ..errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, DatabaseError, SetupError, die_of_broken_pipe
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
         time_limit: float | None = None, archives=None, remote=None, vulndb=None, *, dask: str | None = None,
         cache: str | None = None, roots: Iterable[str] = ()) -> Iterator:
    """The records of walked items in order, read by `jobs` worker processes
    (0: in this one). With `render`, a function of a batch's list of records
    run in the worker, its results instead (one per batch). A file whose
    reader raises, is killed, or runs past `time_limit` seconds is an error
    record; the rest go on. `vulndb`: the database VULNS matches against,
    opened here before the workers fork, so each has it (and what it loaded)
    without loading it again; an entry a worker loads later it keeps.

    `dask`: the address of a Dask scheduler whose workers read the batches
    instead (cluster.py; `jobs` is then unused, and `render` must pickle);
    the `roots` the items were walked from are first checked to be the same
    files on every worker (remote references need no check: every worker
    reaches them). `cache`: a result cache file (cache.py): a local input
    unchanged since a scan with the same version and options (and with
    `vulndb`, the same database: Database.identity()) is not read again.
    Both are set up before this returns (SetupError when they cannot
    be); the records come as the iterator is read."""
    if dask is not None and vulndb is not None:
        raise ValueError("vulndb does not go with dask: the database is opened in this process, before its "
                         "own workers fork (scanopts refuses --vulns with --dask)")
    work = partial(_work, asked, archives, remote, vulndb=vulndb)
    fault = partial(_fault, asked)
    combine = _Combine(render)
    visible = [r for r in roots if not is_reference(r)]
    if cache is not None:
        from ..cache import open_cache  # sqlite3 and pickle only with --cache
        store = open_cache(cache, asked, archives, vulndb.identity() if vulndb is not None else None)
        work, combine = store.wrap(work), store.wrap_combine(combine)
        visible.append(os.path.dirname(os.path.abspath(cache)))
    # Items travel to the workers as bare paths unless the walk met an error:
    # pickling a str costs a fraction of pickling an object.
    bare = (x.path if x.error is None else x for x in items)
    cost = _item_cost if archives is not None else None
    if dask is not None:
        from ..cluster import Cluster  # dask.distributed only with --dask
        cluster = Cluster.connect(dask)
        try:
            cluster.check_visible(visible)
        except BaseException:
            cluster.close()
            raise
        batches = cluster.ordered(bare, work, fault, combine, verify=VERDICT in asked, time_limit=time_limit,
                                  size=_item_size, cost=cost, part=PART_RECORDS)
    else:
        # Verifying reads whole files: small batches keep every worker busy to the end.
        # Matching vulnerabilities reads the function table of each Go executable, and
        # those sit together (a bin/ directory): smaller batches spread them over the workers.
        # Looking inside archives, one input may hold far more work than its neighbours:
        # batches are cut by input size too, so large packages spread over the workers.
        # An archive's records go out every PART_RECORDS, so that a million members
        # are never held at once.
        batch = 4 if VERDICT in asked else 32 if VULNS in asked else 256
        batches = ordered(bare, work, fault, combine, jobs, batch_items=batch,
                          time_limit=time_limit, size=_item_size, cost=cost, part=PART_RECORDS)
    return batches if render is not None else (r for recs in batches for r in recs)


# The work of one batch, as module-level functions and classes so that they
# pickle by name: forked workers need nothing of the sort, Dask's do.

def _work(asked: frozenset, archives, remote, item, vulndb=None) -> Iterator:
    return records(Walked(item) if type(item) is str else item, asked, archives, remote, vulndb)


def _fault(asked: frozenset, item, message: str) -> list:
    return [failed(item if type(item) is str else item.path, message, asked)]


class _Combine:
    """A batch's records, one list, or what `render` makes of them."""

    __slots__ = ("render",)

    def __init__(self, render):
        self.render = render

    def __call__(self, per_item: list):
        recs = [r for rs in per_item for r in rs]
        return recs if self.render is None else self.render(recs)


class _Render:
    """run()'s render: a batch's output in the chosen format and its tally,
    made where the batch was read."""

    __slots__ = ("fmt",)

    def __init__(self, fmt):
        self.fmt = fmt

    def __call__(self, recs: list):
        t = Tally()
        for r in recs:
            t.count(r)
        return self.fmt.render_batch(recs), t


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
    found a modified file, else 2 when any file failed (an error record) or
    the scan could not start or was cut short (SetupError: one line on
    stderr; likewise a vulnerability database that cannot be used), else 0."""
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
    layouts = opts.archives is not None
    if opts.dask is not None:
        # The client's log (a result fetched again, a worker lost) is handled here: stderr
        # keeps to the summary line, or one line saying why the scan stopped. Importing
        # distributed gives "distributed", "distributed.client" and others a stderr
        # handler each (its logging config), so a level on the parent is not enough:
        # every handler it set up goes, after the import that sets them up.
        import logging
        try:
            import distributed  # noqa: F401
        except ImportError:
            pass  # Cluster.connect says which extra is missing
        for name, log in list(logging.root.manager.loggerDict.items()):
            if name.split(".")[0] == "distributed" and isinstance(log, logging.Logger) and log.handlers:
                log.handlers[:] = [logging.NullHandler()]
    if opts.insecure_registry:  # read by the HTTP client of each worker (remote/http.py; cluster.py sends it on)
        os.environ["BUILDID_INSECURE_REGISTRY"] = "*"
    try:
        batches = scan(walk(opts.paths, opts.links, stats, layouts), opts.jobs or os.cpu_count() or 1,
                       asked_for(opts.verify, fmt.wants_sbom, opts.vulns), _Render(fmt), opts.time_limit or None,
                       opts.archives, opts.remote, db, dask=opts.dask, cache=opts.cache, roots=opts.paths)
    except SetupError as e:
        sys.stderr.write(error_line(e.path, e.message) + "\n")
        return EXIT_ERROR
    out = sys.stdout.buffer
    sys.stdout.flush()
    progress = Progress()
    total = Tally()
    fmt.begin(out)
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
    except SetupError as e:  # the cluster went away mid-scan: what was written stands, the rest is missing
        out.flush()
        progress.clear()
        sys.stderr.write(error_line(e.path, e.message) + "\n")
        return EXIT_ERROR
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
