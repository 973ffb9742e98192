"""Run a function over a stream of items in forked worker processes: results in
input order, memory bounded whatever the number of items, and no item able to
end the run.

Why not multiprocessing.Pool or concurrent.futures: when a worker dies (a
signal, the out-of-memory killer) Pool loses its task and `imap` waits for
ever, and ProcessPoolExecutor fails every pending future; neither can stop one
task that runs too long, nor say which item was being worked on. Here each
worker publishes the item it is on in shared memory, so the parent can blame
exactly that item and hand the rest of the batch to a fresh worker.

Protocol: the parent sends a worker batches (a sequence number, the items, the
index of the first of them in the batch, and the items already known to fail)
as length-prefixed pickles on one pipe; the worker answers each batch on
another with (sequence number, last part?, combined results, index of the
first item not complete, how many of its results went out). An item may yield
many results (an archive's members): with
`part` set, they go out every `part` results, so that neither the worker nor
the parent ever holds one input's results whole. Each worker has at most WINDOW
batches outstanding, and the parent holds at most HELD_PARTS parts of a batch
that is not next in order (the worker then waits, its clock stopped), so the
walk feeding the items is read only as fast as the output is written.
"""
from __future__ import annotations

import mmap
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections.abc import Callable, Iterable, Iterator

WINDOW = 2  # batches outstanding per worker: one in work, one waiting in its pipe
# A batch is cut at this many items or this many bytes of items, so that one
# waiting batch always fits in a pipe's default 64 KiB buffer: the parent never
# blocks writing a task while a worker blocks writing results.
BATCH_ITEMS, BATCH_BYTES = 256, 24 * 1024
BATCH_COST = 1 << 20  # bytes of input: one package of a megabyte or more is a batch of its own
_HEAD = struct.Struct("<Q")
# Each worker's slot in shared memory, three 8-byte words: when it started its
# current item (monotonic clock), the batch's sequence number, the item's index
# in it (-1 between batches). Written through typed memoryviews, one aligned
# store per word (struct.pack_into zeroes its target first, so a reader could
# catch a start time of 0.0); the worker writes the time first and the parent
# reads it last, so a parent that sees a new item never pairs it with an older time.
_WORDS = 3
IDLE_DEATHS = 3  # a batch whose workers die before starting any item this often fails as a whole
HELD_PARTS = 2  # parts of a batch not yet next in order that the parent takes before it waits


class _Batch:
    __slots__ = ("seq", "items", "faults", "idle_deaths", "base", "partial")

    def __init__(self, seq: int, items: list):
        self.seq, self.items = seq, items
        self.faults: dict[int, str] = {}  # index -> why that item failed
        self.idle_deaths = 0
        self.base = 0  # index in the batch of items[0]: the items before it are complete
        self.partial = 0  # how many results of items[0] went out already

    def advance(self, complete: int, partial: int) -> None:
        """Results of the items before index `complete` have arrived, and the
        first `partial` of item `complete`'s: a worker that dies now is given
        only the rest (results of one item come the same way each time)."""
        self.items = self.items[complete - self.base:]
        self.base, self.partial = complete, partial


class _Worker:
    __slots__ = ("pid", "tasks", "results", "slot", "batches", "kill_reason", "overdue")

    def __init__(self, pid: int, tasks: int, results: int, slot: int):
        self.pid, self.tasks, self.results, self.slot = pid, tasks, results, slot
        self.batches: list[_Batch] = []
        self.kill_reason: str | None = None
        self.overdue: tuple[int, int] | None = None  # the item seen past the limit at the last check


def ordered(items: Iterable, work: Callable, fault: Callable, combine: Callable, jobs: int,
            batch_items: int = BATCH_ITEMS, time_limit: float | None = None,
            size: Callable = lambda item: 64, cost: Callable | None = None, part: int | None = None) -> Iterator:
    """combine([work(item) for item in batch]) for consecutive batches of items,
    in order. An item whose work raises, or whose worker is killed or runs past
    `time_limit` seconds, gives fault(item, message) instead. `size` estimates
    an item's pickled size (to cut batches). `cost` estimates the work an item
    takes, in bytes read: a batch is also cut once it reaches BATCH_COST, so
    that a few large inputs (packages, images) spread over the workers instead
    of landing in one batch. With `part`, work(item) and fault(item, message)
    return lists (work: any iterable) of results and a batch may come as several
    combined parts of about `part` results each; an item that fails after some
    of its results went out gets fault's results after them. jobs < 1 or no
    fork: in this process."""
    batches = cut(items, batch_items, size, cost)
    if jobs < 1 or not hasattr(os, "fork"):
        for chunk in batches:
            yield run_batch(chunk, work, fault, combine, part)
        return
    yield from _Pool(work, fault, combine, jobs, time_limit, part).run(batches)


def run_batch(chunk: list, work: Callable, fault: Callable, combine: Callable, part: int | None = None):
    """One batch in this process: combine([work(item)...]), an item whose
    work raises giving its fault instead (with `part`, work's iterable is
    read whole here)."""
    _begin(work, chunk)
    whole = work if part is None else lambda x: list(work(x))
    return combine([_guarded(whole, fault, x) for x in chunk])


def _begin(work, items: list) -> None:
    """work.begin_batch(items), when work has it: a batch's items are seen
    together first (the result cache looks them up in one query)."""
    begin = getattr(work, "begin_batch", None)
    if begin is not None:
        try:
            begin(items)
        except Exception:  # only an optimisation: the items are worked one by one regardless
            pass


def _guarded(work, fault, item):
    try:
        return work(item)
    except Exception as e:  # a bug in a reader: that item's error, not the run's
        return fault(item, _internal(e))


def _internal(e: Exception) -> str:
    return f"internal error: {type(e).__name__}: {e}"


def cut(items: Iterable, n: int, size: Callable = lambda item: 64, cost: Callable | None = None,
        max_bytes: int = BATCH_BYTES, max_cost: int = BATCH_COST) -> Iterator[list]:
    """Consecutive batches of items: at most n items, cut early at max_bytes
    of `size` or max_cost of `cost` (see ordered)."""
    it = iter(items)
    while True:
        chunk, nbytes, work = [], 0, 0
        for x in it:
            chunk.append(x)
            nbytes += size(x)
            if cost is not None:
                work += cost(x)
            if len(chunk) >= n or nbytes >= max_bytes or work >= max_cost:
                break
        if not chunk:
            return
        yield chunk


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEAD.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _assign(w: "_Worker", b: "_Batch") -> None:
    """Send b to w. A worker that has died cannot take it; that is noticed at
    the end of its results pipe, and its batches go to its successor."""
    try:
        _send(w.tasks, (b.seq, b.items, b.base, b.partial, b.faults))
    except BrokenPipeError:
        pass


def _recv(fd: int):
    """The next message, or None at end of stream (also when cut short)."""
    head = _read_exactly(fd, _HEAD.size)
    if head is None:
        return None
    body = _read_exactly(fd, _HEAD.unpack(head)[0])
    return None if body is None else pickle.loads(body)


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        b = os.read(fd, min(n - got, 1 << 20))
        if not b:
            return None
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _death_message(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        why = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"worker process killed by {name}{why} while reading this file"
    return f"worker process exited with status {os.waitstatus_to_exitcode(status)} while reading this file"


class _Pool:
    def __init__(self, work, fault, combine, jobs: int, time_limit: float | None, part: int | None = None):
        self.work, self.fault, self.combine = work, fault, combine
        self.jobs, self.time_limit, self.part = jobs, time_limit, part
        self.parts: dict[int, list] = {}  # seq -> parts received and not yet handed on
        self.complete: set[int] = set()  # seqs whose last part has arrived
        self.shared = mmap.mmap(-1, 8 * _WORDS * jobs)  # anonymous, shared with forked children
        self.times = memoryview(self.shared).cast("d")
        self.words = memoryview(self.shared).cast("q")
        self.workers: list[_Worker | None] = [None] * jobs

    # --- the parent ---------------------------------------------------------
    def run(self, batches: Iterator[list], keep: bool = False) -> Iterator:
        """With `keep`, the workers outlive a run that ends normally, for the
        next run of this pool (a Dask worker's tasks: see cluster.py)."""
        sys.stdout.flush()
        sys.stderr.flush()
        parts, complete = self.parts, self.complete
        next_out = next_seq = 0
        exhausted = False
        finished = False
        try:
            for k in range(self.jobs):
                if self.workers[k] is None:
                    self._spawn(k)
            while True:
                # Keep every worker fed, no further ahead than WINDOW: an idle worker
                # first, so that two large inputs in a row go to two workers.
                for depth in range(1, WINDOW + 1):
                    for w in self.workers:
                        if exhausted or len(w.batches) >= depth:
                            continue
                        chunk = next(batches, None)
                        if chunk is None:
                            exhausted = True
                            break
                        b = _Batch(next_seq, chunk)
                        next_seq += 1
                        w.batches.append(b)
                        _assign(w, b)
                while next_out in parts:
                    waiting = parts[next_out]
                    while waiting:
                        yield waiting.pop(0)
                    if next_out not in complete:
                        break
                    del parts[next_out]
                    complete.discard(next_out)
                    next_out += 1
                if exhausted and next_out == next_seq:
                    break
                # A worker whose results must wait for another batch's is not
                # read past HELD_PARTS parts: it blocks on its pipe instead.
                busy = {w.results: w for w in self.workers
                        if w.batches and (w.batches[0].seq == next_out
                                          or len(parts.get(w.batches[0].seq, ())) < HELD_PARTS)}
                ready, _, _ = select.select(list(busy), [], [], self._wait())
                for fd in ready:
                    w = busy[fd]
                    msg = _recv(fd)
                    if msg is None:
                        self._replace(w)
                        continue
                    seq, last, payload, done, partial = msg
                    assert w.batches and w.batches[0].seq == seq
                    parts.setdefault(seq, []).append(payload)
                    if last:
                        w.batches.pop(0)
                        complete.add(seq)
                    else:
                        w.batches[0].advance(done, partial)
                self._enforce_time_limit()
            finished = True
        finally:
            if not (finished and keep):
                self._stop(finished)

    def stop(self) -> None:
        self._stop(True)

    def _wait(self) -> float | None:
        if self.time_limit is None:
            return None
        return max(0.05, min(1.0, self.time_limit / 4))

    def _slot(self, k: int) -> tuple[int, int, float]:
        at = k * _WORDS
        seq, index = self.words[at + 1], self.words[at + 2]
        return seq, index, self.times[at]

    def _enforce_time_limit(self) -> None:
        """Kill a worker seen on the same item past the limit at two checks in
        a row (one check could catch the slot mid-update)."""
        if self.time_limit is None:
            return
        now = time.monotonic()
        for w in self.workers:
            seq, index, start = self._slot(w.slot)
            late = index >= 0 and w.batches and w.batches[0].seq == seq and now - start > self.time_limit
            if not late:
                w.overdue = None
            elif w.overdue != (seq, index):
                w.overdue = (seq, index)
            elif w.kill_reason is None:
                w.kill_reason = f"stopped after the per-file time limit of {self.time_limit:g} s"
                os.kill(w.pid, signal.SIGKILL)

    def _replace(self, w: _Worker) -> None:
        """w's results pipe ended: blame the item it was on, start a new worker
        in its place, and give it w's outstanding batches."""
        _, status = os.waitpid(w.pid, 0)
        seq, index, _ = self._slot(w.slot)
        os.close(w.tasks)
        os.close(w.results)
        self.workers[w.slot] = None
        first = w.batches[0]
        if index >= 0 and first.seq == seq:
            why = w.kill_reason or _death_message(status)
            if index == first.base and first.partial:
                # some of the item's results went out: its fault follows them
                self.parts.setdefault(seq, []).append(self.combine([self.fault(first.items[0], why)]))
                first.advance(index + 1, 0)
            else:
                first.faults[index] = why
        else:
            first.idle_deaths += 1
            if first.idle_deaths >= IDLE_DEATHS:
                first.faults.update((first.base + i, _death_message(status)) for i in range(len(first.items)))
        if not first.items:  # nothing of it left to do
            w.batches.pop(0)
            self.parts.setdefault(seq, [])
            self.complete.add(seq)
        fresh = self._spawn(w.slot)
        fresh.batches = w.batches
        for b in fresh.batches:
            _assign(fresh, b)

    def _spawn(self, k: int) -> _Worker:
        task_r, task_w = os.pipe()
        res_r, res_w = os.pipe()
        at = k * _WORDS
        self.times[at], self.words[at + 1], self.words[at + 2] = 0.0, -1, -1
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            code = 0
            try:
                os.close(task_w)
                os.close(res_r)
                # Other workers' pipes must not stay open here, or they would
                # never see the parent stop.
                for other in self.workers:
                    if other is not None:
                        os.close(other.tasks)
                        os.close(other.results)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides on Ctrl-C
                if "faulthandler" in sys.modules:  # a crash is a record, not a dump on stderr
                    sys.modules["faulthandler"].disable()
                self._serve(k, task_r, res_w)
            except BaseException:  # a broken pipe: the parent has gone
                code = 1
            os._exit(code)
        os.close(task_r)
        os.close(res_w)
        w = self.workers[k] = _Worker(pid, task_w, res_r, k)
        return w

    def _stop(self, finished: bool) -> None:
        """End the workers: at the end of input they exit on their own; when
        stopped early (output closed, Ctrl-C, an error) they are ended rather
        than waited for, having work nobody will read."""
        for w in self.workers:
            if w is None:
                continue
            os.close(w.tasks)
            os.close(w.results)
            if not finished:
                try:
                    os.kill(w.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(w.pid, 0)
            except ChildProcessError:
                pass
        self.times.release()
        self.words.release()
        self.shared.close()

    # --- a worker -----------------------------------------------------------
    def _serve(self, k: int, tasks: int, results: int) -> None:
        at = k * _WORDS
        times, words = self.times, self.words
        clock, work, fault = time.monotonic, self.work, self.fault
        while True:
            msg = _recv(tasks)
            if msg is None:
                return
            seq, items, base, skip, faults = msg
            _begin(work, items)
            out = []
            for i, item in enumerate(items, base):
                times[at] = clock()
                words[at + 1] = seq
                words[at + 2] = i
                if i in faults:
                    out.append(fault(item, faults[i]))
                elif self.part is None:
                    out.append(_guarded(work, fault, item))
                else:
                    out = self._stream(at, results, seq, i, item, out, skip if i == base else 0)
            payload = self.combine(out)
            words[at + 2] = -1
            _send(results, (seq, True, payload, base + len(items), 0))

    def _stream(self, at: int, results: int, seq: int, index: int, item, out: list, skip: int) -> list:
        """Run work(item), sending the batch's results so far every `part`
        results; the per-item results not yet sent. The first `skip` results
        went out before (from a worker that died)."""
        got: list = []
        out.append(got)
        pending = sum(len(x) for x in out)
        sent = skip
        try:
            for r in self.work(item):
                if skip:
                    skip -= 1
                    continue
                got.append(r)
                pending += 1
                if pending >= self.part:
                    # Time blocked on the pipe (the parent waits for an earlier
                    # batch) is not the item's: the clock stops meanwhile.
                    spent = time.monotonic() - self.times[at]
                    self.times[at] = float("inf")
                    sent += len(got)
                    _send(results, (seq, False, self.combine(out), index, sent))
                    self.times[at] = time.monotonic() - spent
                    got, out, pending = [], [], 0
                    out.append(got)
        except Exception as e:  # a bug in a reader: that item's error, not the run's
            if sent:
                got.extend(self.fault(item, _internal(e)))
            else:
                got[:] = self.fault(item, _internal(e))
        return out


Pool = _Pool  # for cluster.py, which keeps one between a Dask worker's tasks (run(keep=True))
