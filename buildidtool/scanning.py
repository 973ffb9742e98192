"""`scan`: walk trees, one record per regular file, in parallel.

Walking happens in the parent (cheap: directory entries only); reading, and
hashing for --verify, happen in worker processes, in order."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator

from .errors import BuildIDError
from .formats import FormatError, Source, locate, sniff
from .formats.source import PREFIX_SIZE
from .idstring import printable
from .reading import to_info


class Walked:
    """A file to scan, or a problem met while walking (error set, path kept)."""

    __slots__ = ("path", "error")

    def __init__(self, path: str, error: str | None = None):
        self.path = path
        self.error = error


class ScanStats:
    __slots__ = ("skipped",)

    def __init__(self) -> None:
        self.skipped = 0  # FIFOs, devices, sockets, symlinks not followed


def walk(roots: Iterable[str], follow_symlinks: bool, stats: ScanStats) -> Iterator[Walked]:
    """Regular files under each root, in sorted path order. Symlinks are followed
    only when asked, and then each directory is entered once (by device and
    inode), so a looping link cannot recurse for ever."""
    seen: set[tuple[int, int]] = set()
    for root in roots:
        st = os.stat(root)  # roots named on the command line are followed, as find -H does
        if stat.S_ISREG(st.st_mode):
            yield Walked(root)
        elif stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, follow_symlinks, stats, seen)
        else:
            stats.skipped += 1


def _walk_dir(root: str, follow: bool, stats: ScanStats, seen: set) -> Iterator[Walked]:
    stack: list[Iterator[os.DirEntry]] = []  # sorted entries of each open directory
    err = _enter(root, seen, stack)
    if err:
        yield Walked(root, err)
    while stack:
        e = next(stack[-1], None)
        if e is None:
            stack.pop()
            continue
        try:
            if e.is_symlink():
                if not follow:
                    stats.skipped += 1
                    continue
                os.stat(e.path)  # a dangling or looping link fails here
            if e.is_dir(follow_symlinks=follow):
                err = _enter(e.path, seen, stack)
                if err:
                    yield Walked(e.path, err)
            elif e.is_file(follow_symlinks=follow):
                yield Walked(e.path)
            else:
                stats.skipped += 1
        except OSError as x:
            yield Walked(e.path, x.strerror or str(x))


def _enter(d: str, seen: set, stack: list) -> str | None:
    """Push d's sorted entries, unless d was entered before; an error message if unreadable."""
    try:
        st = os.stat(d)
        if (st.st_dev, st.st_ino) in seen:
            return None
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(d) as it:
            stack.append(iter(sorted(it, key=lambda e: e.name)))
    except OSError as e:
        return e.strerror or str(e)
    return None


def _go_summary(fd: int, found, src: Source) -> tuple[str | None, str | None]:
    from .buildinfo import summary

    try:
        return summary(fd, found, src)
    except (BuildIDError, FormatError, OSError, ValueError):
        return None, None


def scan_one(item: Walked, verify: bool = False, sbom: bool = False) -> dict:
    """The record for one walked path: `read --json` fields plus go_version,
    go_version_source, main_path and, with verify, status and reason; with
    sbom, what an SBOM needs besides (sbom.facts)."""
    path = item.path
    record = {"file": path, "format": "unknown", "arch": None, "build_id": None, "parts": None,
              "locations": [], "host_build_id": None, "code_signature": None, "slices": [],
              "error": item.error, "go_version": None, "go_version_source": None, "main_path": None}
    if item.error:
        return record
    try:
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except OSError as e:
        record["error"] = e.strerror or str(e)
        return record
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped after the walk saw it
            record["error"] = "not a regular file"
            return record
        src = Source.of_file(fd)
        try:
            found = locate(src)
        except FormatError as e:
            record["format"] = sniff(src.prefix(PREFIX_SIZE))
            record["error"] = str(e)
            return record
        except OSError as e:
            record["error"] = f"read error: {e.strerror or e}"
            return record
        record.update(to_info(path, found).to_json())
        if found.format not in ("unknown",):
            record["go_version"], record["main_path"] = _go_summary(fd, found, src)
        from .goversion import fill
        fill(record, found, src)
        if sbom:
            from .sbom import facts
            record.update(facts(path, fd, found, src))
        if verify:
            from .verifying import verify_found
            v = verify_found(path, fd, found)
            record["status"], record["reason"] = v.status, v.reason
    finally:
        os.close(fd)
    return record


CSV_COLUMNS = ["file", "format", "arch", "build_id", "go_version", "main_path", "status", "reason", "error"]


def format_record(rec: dict, form: str) -> str:
    """One output line (without newline) for a record: json, csv or text."""
    if form == "json":
        import json
        return json.dumps(rec)
    if form == "csv":
        import csv
        import io
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(
            ["" if rec.get(c) is None else rec.get(c) for c in CSV_COLUMNS])
        return out.getvalue()
    ids = [rec["build_id"]] + [s["build_id"] for s in rec["slices"]]
    shown = rec["build_id"] or ",".join(filter(None, ids)) or "-"
    status = f" {rec['status']}" if "status" in rec else ""
    err = f" error: {rec['error']}" if rec["error"] else ""
    fields = [rec["file"], rec["format"], rec["arch"] or "-", rec["go_version"] or "-", shown + status + err]
    return "\t".join(printable(f) for f in fields)


class Line:
    """What a worker sends back: the formatted line and what the summary needs,
    so that no record dictionary crosses the process boundary."""

    __slots__ = ("text", "is_go", "go_version", "modified", "error")

    def __init__(self, rec: dict, form: str):
        self.text = format_record(rec, form)
        self.is_go = bool(rec["build_id"] or any(s["build_id"] for s in rec["slices"]) or rec["go_version"])
        self.go_version = rec["go_version"]
        self.modified = rec.get("status") == "modified"
        self.error = bool(rec["error"])

    def __getstate__(self):
        return (self.text, self.is_go, self.go_version, self.modified, self.error)

    def __setstate__(self, state):
        self.text, self.is_go, self.go_version, self.modified, self.error = state


def _line(item: Walked, verify: bool, form: str) -> Line:
    return Line(scan_one(item, verify), form)


def scan(items: Iterable[Walked], jobs: int, verify: bool, form: str | None = None,
         sbom: bool = False) -> Iterator:
    """Records (dicts) in walk order, or with `form` ("json", "csv", "text")
    Line objects formatted in the workers; `jobs` processes (1: this one).
    sbom: records carry what an SBOM needs (scan_one)."""
    import functools

    fn = functools.partial(_line, verify=verify, form=form) if form else \
        functools.partial(scan_one, verify=verify, sbom=sbom)
    if jobs <= 1 or not hasattr(os, "fork"):
        yield from map(fn, items)
        return
    # Verifying reads whole files: small chunks keep every core busy to the end.
    yield from _forked(list(items), jobs, fn, chunk=4 if verify else 64)


def _forked(items: list, jobs: int, fn, chunk: int) -> Iterator:
    """fn over items in `jobs` workers, results in order. Worker k takes chunks
    k, k+jobs, ...; worker 0 is this process, the others are forked and send
    their results through a pipe each. A plain fork and a pipe cost far less
    than starting a multiprocessing pool, which matters when a scan takes 0.2 s."""
    import pickle
    import struct
    import sys

    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    jobs = max(1, min(jobs, len(chunks)))
    sys.stdout.flush()
    sys.stderr.flush()
    workers: list = [(None, None)]  # worker 0: this process
    for k in range(1, jobs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            code = 0
            try:
                os.close(r)
                # Pipes of earlier workers must not stay open here, or those
                # workers would never see the parent stop reading.
                for _, earlier in workers[1:]:
                    earlier.close()
                with os.fdopen(w, "wb") as out:
                    for ci in range(k, len(chunks), jobs):
                        payload = pickle.dumps([fn(x) for x in chunks[ci]], pickle.HIGHEST_PROTOCOL)
                        out.write(struct.pack("<Q", len(payload)))
                        out.write(payload)
            except BaseException:  # a broken pipe or a bug: the parent reports it
                code = 1
            os._exit(code)
        os.close(w)
        workers.append((pid, os.fdopen(r, "rb")))
    finished = False
    try:
        for ci in range(len(chunks)):
            pid, pipe = workers[ci % jobs]
            if pipe is None:
                yield from map(fn, chunks[ci])
                continue
            head = pipe.read(8)
            if len(head) != 8:
                raise RuntimeError(f"scan worker {pid} died")
            (n,) = struct.unpack("<Q", head)
            yield from pickle.loads(pipe.read(n))
        finished = True
    finally:
        # Stopped early (output closed, Ctrl-C, an error): end the workers
        # rather than wait for them to finish work nobody will read.
        import signal
        for pid, pipe in workers[1:]:
            pipe.close()
            if not finished:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
