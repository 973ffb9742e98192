"""scan on a Dask cluster (`scan --dask ADDRESS`): the walk's items cut into
batches, each batch one Dask task, results back in input order.

A task reads its batch exactly as a local scan does (workers.ordered with one
forked reader, in the Dask worker's process): a file whose reader crashes or
passes the time limit is its own error record there, and the Dask worker
lives on. Dask handles what is left: a worker that dies (a lost machine, the
out-of-memory killer) has its tasks run again elsewhere. Tasks write nothing
but their result (and the cache, which takes a batch twice), so a task run
twice gives the same records once. A batch that still fails (its workers
killed `allowed-failures` times, or the task raised) is split into one task
per input, so that only the input that cannot be read becomes an error record.

The scheduler knows nothing of paths: an input is read wherever its task
runs, so before any work `check_visible` asks every worker for the roots of
the scan and refuses one that is missing there or, on the same machine, is
another file (a container or mount namespace of its own). Remote references
(registry images, URLs) go to the workers like paths and are fetched there;
the client's settings for reading them (SETTINGS) travel with the tasks.

dask.distributed is imported only here, and this module only with --dask."""
from __future__ import annotations

import os
import stat
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator

from .errors import SetupError
from .workers import Pool, cut

CONNECT_TIMEOUT = 10.0  # seconds for the scheduler to answer, and for a first worker to join it
# A batch costs the cluster some 26-29 ms beyond its reading (benchmarks/README.md, "Cluster and
# cache"): batches are far larger than a local worker's, so that this stays small beside the reading.
BATCH_ITEMS, BATCH_ITEMS_VERIFY = 1024, 64
BATCH_BYTES = 256 * 1024        # of pickled items
BATCH_COST = 64 << 20           # bytes of input
WINDOW = 2                      # batches in flight per worker thread: one running, one queued
# The environment that changes what a reader makes of an input, set in the
# readers as on the client: plain HTTP for --insecure-registry and the HTTP
# timeout (remote/http.py), and the platform of a multi-platform image, which
# defaults to the client's machine as in a local scan (archives/platforms.py).
# Registry credentials are not sent: each worker uses its own (credentials.py).
SETTINGS = ("BUILDID_INSECURE_REGISTRY", "BUILDID_HTTP_TIMEOUT", "BUILDID_PLATFORM")


class Cluster:
    """A connection to a Dask scheduler, for one scan."""

    def __init__(self, client, address: str):
        self.client, self.address = client, address

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT) -> "Cluster":
        try:
            from distributed import Client
        except ImportError:
            raise SetupError(address, "--dask needs Dask's distributed scheduler: "
                             "pip install 'buildidtool[cluster]'") from None
        _check_address(address)
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise SetupError(address, f"cannot reach the Dask scheduler ({_why(e)})") from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as e:
            client.close()
            raise SetupError(address, f"no Dask worker joined the scheduler within {timeout:g} s ({_why(e)})") from None
        return cls(client, address)

    def close(self) -> None:
        self.client.close()

    def threads(self) -> int:
        return sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()) or 1

    # --- before the scan ------------------------------------------------------

    def check_visible(self, paths: Iterable[str]) -> None:
        """SetupError unless every worker sees each path that exists here as
        the same kind of file, readable, and (on this same machine) as the
        same file; and runs this version of buildidtool."""
        from . import __version__  # read from the package metadata on first use (importlib.metadata)

        here = {}
        for p in paths:
            what = _probe_one(os.path.abspath(p))
            if what[0] != "missing":  # the walk makes it an error record
                here[p] = what
        try:
            seen = self.client.run(_probe, [os.path.abspath(p) for p in here])
        except Exception as e:  # a worker that cannot import us, or went away
            raise SetupError(self.address, f"cannot ask the Dask workers for the inputs ({_why(e)})") from None
        for worker, (version, boot, answers) in sorted(seen.items()):
            if version != __version__:
                raise SetupError(self.address, f"Dask worker {worker} runs buildidtool {version}, this client "
                                 f"{__version__}: records would differ")
            for (p, mine), theirs in zip(here.items(), answers):
                problem = _compare(mine, theirs, boot == _boot_id())
                if problem:
                    raise SetupError(p, f"{problem} on Dask worker {worker}: the inputs must be on a file "
                                     "system the workers share")

    # --- the scan ---------------------------------------------------------------

    def ordered(self, items: Iterable, work: Callable, fault: Callable, combine: Callable, *,
                verify: bool = False, time_limit: float | None = None,
                size: Callable = lambda item: 64, cost: Callable | None = None, part: int | None = None) -> Iterator:
        """What workers.ordered gives for the same arguments, read on the
        cluster: combined results of each inner batch (several with `part`),
        in input order. Closes the connection at the end."""
        try:
            yield from self._ordered(items, work, fault, combine, verify, time_limit, size, cost, part)
        finally:
            self.close()

    def _ordered(self, items, work, fault, combine, verify, time_limit, size, cost, part) -> Iterator:
        from distributed import wait  # distributed: only here and in connect, whose ImportError names the extra

        chunks = cut(items, BATCH_ITEMS_VERIFY if verify else BATCH_ITEMS, size, cost, BATCH_BYTES, BATCH_COST)
        job = _Job(work, fault, combine, time_limit, os.getcwd(), 4 if verify else 256, size, part, _settings())
        window = WINDOW * self.threads()
        pending: dict = {}          # future -> (batch, index of its one item, or None for the whole batch)
        done: dict[int, list] = {}  # sequence number -> the batch's results, in order
        next_seq = next_out = 0
        exhausted = False

        def submit(b: _Batch, index: int | None) -> None:
            part = b.items if index is None else [b.items[index]]
            f = self.client.submit(_run, job, part, pure=False, retries=1)
            pending[f] = (b, index)
            if index is not None:
                b.running += 1

        try:
            while True:
                while not exhausted and next_seq - next_out < window:
                    chunk = next(chunks, None)
                    if chunk is None:
                        exhausted = True
                        break
                    submit(_Batch(next_seq, chunk), None)
                    next_seq += 1
                while next_out in done:
                    yield from done.pop(next_out)
                    next_out += 1
                if exhausted and next_out == next_seq:
                    return
                # Waited for as a set, rather than through as_completed: a result lost with
                # the worker that held it goes back to pending, and is simply waited for again.
                with self.client.as_current():
                    ready = wait(list(pending), return_when="FIRST_COMPLETED").done
                for f in ready:
                    self._settle(f, pending, done, submit, fault, combine)
        finally:
            for f in pending:
                f.cancel()

    def _settle(self, f, pending: dict, done: dict, submit, fault, combine) -> None:
        """Take the outcome of one task that completed: its batch's results, or
        the batch split, or an item retried alone or blamed."""
        status = f.status
        if status == "finished":
            try:
                result = f.result()
            except Exception:  # lost or cancelled since it finished, or its own failure
                status = f.status if f.status != "finished" else "error"
        if status in ("pending", "lost"):  # its result died with the worker holding it: run again
            return
        b, index = pending.pop(f)
        if status not in ("finished", "error"):  # cancelled: the scheduler went away, or dropped us
            raise SetupError(self.address, "lost the Dask scheduler during the scan; "
                             "the records written so far are complete, the rest are missing")
        if index is None:
            if status == "finished":
                done[b.seq] = result
            elif len(b.items) > 1:
                # Which input failed is unknown: each goes on in a task of its own.
                b.parts = [None] * len(b.items)
                for i in range(len(b.items)):
                    submit(b, i)
            else:
                done[b.seq] = [combine([fault(b.items[0], _failure(f.exception()))])]
            f.release()
            return
        b.running -= 1
        if status == "finished":
            b.parts[index] = result
        elif index not in b.retried:
            # A task queued on a worker that an input kills dies with it: an input is
            # blamed only once it also fails alone, after the rest of its batch.
            b.retried.add(index)
            b.retry.append(index)
        else:
            b.parts[index] = [combine([fault(b.items[index], _failure(f.exception()))])]
        f.release()
        if b.running == 0 and b.retry:
            submit(b, b.retry.pop(0))
        elif all(p is not None for p in b.parts):
            done[b.seq] = [r for p in b.parts for r in p]


class _Batch:
    __slots__ = ("seq", "items", "parts", "running", "retry", "retried")

    def __init__(self, seq: int, items: list):
        self.seq, self.items = seq, items
        self.parts: list | None = None  # once split: each item's results
        self.running = 0                # its one-item tasks in flight
        self.retry: list[int] = []      # items whose task failed, to run again one at a time
        self.retried: set[int] = set()


class _Job:
    """What every task of a scan shares (pickled with each; small)."""

    __slots__ = ("scan", "work", "fault", "combine", "time_limit", "cwd", "batch_items", "size", "part", "env")

    def __init__(self, work, fault, combine, time_limit, cwd, batch_items, size, part, env):
        self.scan = uuid.uuid4().hex  # which scan: its tasks share a worker thread's reader
        self.work, self.fault, self.combine = work, fault, combine
        self.time_limit, self.cwd, self.batch_items, self.size = time_limit, cwd, batch_items, size
        self.part, self.env = part, env

    def __getstate__(self):
        return tuple(getattr(self, k) for k in self.__slots__)

    def __setstate__(self, state):
        for k, v in zip(self.__slots__, state):
            setattr(self, k, v)


_readers = threading.local()  # per Dask worker thread: (scan, workers.Pool)


def _run(job: _Job, items: list) -> list:
    """A Dask task: the batch read by a forked reader (workers.Pool, one
    worker), as a local scan reads it; its combined results, in order. The
    reader is kept for the scan's next task on this thread: forking a Dask
    worker's process costs more than the scheduler's round trip (README of
    benchmarks/, "Cluster and cache")."""
    _quiet_fork_warning()
    kept = getattr(_readers, "kept", None)
    if kept is None or kept[0] != job.scan:
        if kept is not None:
            kept[1].stop()
        _readers.kept = kept = (job.scan, Pool(_AsClient(job.work, job.cwd, job.env), job.fault, job.combine, 1,
                                                job.time_limit, job.part))
    try:
        return list(kept[1].run(cut(items, job.batch_items, job.size), keep=True))
    except BaseException:  # the pool stopped its reader: the next task starts afresh
        _readers.kept = None
        raise


class _AsClient:
    """work(item), in the client's working directory, so that relative paths
    name the same files there, and with the client's SETTINGS (the reader is
    a forked process: the Dask worker's own directory and environment are
    untouched)."""

    __slots__ = ("work", "cwd", "env", "pid")

    def __init__(self, work, cwd: str, env: dict):
        self.work, self.cwd, self.env, self.pid = work, cwd, env, os.getpid()

    def __call__(self, item):
        self._enter()
        return self.work(item)

    def begin_batch(self, items: list) -> None:
        begin = getattr(self.work, "begin_batch", None)
        if begin is not None:
            self._enter()
            begin(items)

    def _enter(self) -> None:
        if self.pid != os.getpid():
            self.pid = os.getpid()
            os.chdir(self.cwd)
            for k in SETTINGS:
                if k in self.env:
                    os.environ[k] = self.env[k]
                else:
                    os.environ.pop(k, None)


_quieted = False


def _quiet_fork_warning() -> None:
    # Python 3.12+ warns on fork() in a process with threads (a Dask worker has its
    # event loop's); the forked reader runs only our code, which takes no lock those threads hold.
    global _quieted
    if not _quieted:
        import warnings  # once, on the first scan that forks in a worker
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        _quieted = True


def _check_address(address: str) -> None:
    """SetupError for an address Dask cannot parse: checked before a Client is
    made, since one that fails on it hangs in its destructor."""
    from distributed.comm import parse_address  # called from connect, after its import of distributed succeeded
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import backends

    try:
        scheme, location = parse_address(address)
        if scheme not in backends:
            raise ValueError(f"unknown scheme {scheme!r}")
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
    except ValueError as e:
        raise SetupError(address, f"not a Dask scheduler address ({e}); give host:port or tcp://host:port") from None


def _settings() -> dict:
    """The client's SETTINGS, with the platform it would choose by default."""
    from .archives.platforms import host  # the platform table: only when settings are sent

    env = {k: os.environ[k] for k in SETTINGS if os.environ.get(k)}
    env.setdefault("BUILDID_PLATFORM", str(host()))
    return env


def _failure(e: BaseException | None) -> str:
    name = type(e).__name__
    if name == "KilledWorker":
        return "Dask workers died while reading this file (KilledWorker)"
    return f"internal error on the Dask worker: {name}: {e}"


def _why(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# --- what a worker sees -------------------------------------------------------

def _boot_id() -> str | None:
    """This machine's boot ID: equal on two processes of one running kernel,
    where device and inode numbers name the same file."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


def _probe_one(path: str) -> tuple:
    try:
        st = os.stat(path)
    except OSError as e:
        return ("missing", e.strerror or str(e))
    kind = "directory" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
    readable = os.access(path, os.R_OK | (os.X_OK if kind == "directory" else 0))
    return (kind, st.st_dev, st.st_ino, readable)


def _probe(paths: list[str]) -> tuple:
    """Run on each worker: its buildidtool version, boot ID and what it sees at each path."""
    from . import __version__  # read from the package metadata on first use (importlib.metadata)
    return __version__, _boot_id(), [_probe_one(p) for p in paths]


def _compare(mine: tuple, theirs: tuple, same_machine: bool) -> str | None:
    if theirs[0] == "missing":
        return f"not visible ({theirs[1]})"
    if theirs[0] != mine[0]:
        return f"a {theirs[0]} rather than a {mine[0]}"
    if not theirs[3]:
        return "not readable"
    if same_machine and theirs[1:3] != mine[1:3]:
        return "another file (another mount namespace or container)"
    return None


__all__ = ["Cluster", "CONNECT_TIMEOUT", "BATCH_ITEMS", "BATCH_ITEMS_VERIFY", "SETTINGS"]
