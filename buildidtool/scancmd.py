"""The `scan` command's body, free of click: `buildid scan` runs once per
artifact-store sweep and its whole budget is a few hundred milliseconds, of
which importing click would take a tenth. entry.py sends well-formed
invocations here directly; help and usage errors still go through click."""
from __future__ import annotations

import os
import sys

from .errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK
from .idstring import printable


class Options:
    __slots__ = ("paths", "form", "verify", "follow_symlinks", "jobs")

    def __init__(self, paths, form="text", verify=False, follow_symlinks=False, jobs=None):
        self.paths, self.form, self.verify = list(paths), form, verify
        self.follow_symlinks, self.jobs = follow_symlinks, jobs


_FLAGS = {"--json": "json", "--csv": "csv", "--verify": "verify", "--follow-symlinks": "follow"}


def parse_simple(args: list[str]) -> Options | None:
    """Options for an invocation that is plainly well formed, else None (let
    click parse it and word any error)."""
    seen: set[str] = set()
    jobs = None
    paths: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            paths.extend(args[i + 1:])
            break
        if a in _FLAGS:
            seen.add(_FLAGS[a])
        elif a in ("-j", "--jobs") and i + 1 < len(args) and args[i + 1].isdigit():
            jobs = int(args[i + 1])
            i += 1
        elif a.startswith("--jobs=") and a[7:].isdigit():
            jobs = int(a[7:])
        elif a.startswith("-j") and a[2:].isdigit():
            jobs = int(a[2:])
        elif a.startswith("-"):
            return None
        else:
            paths.append(a)
        i += 1
    if not paths or ("json" in seen and "csv" in seen) or (jobs is not None and not 1 <= jobs <= 256):
        return None
    form = "json" if "json" in seen else "csv" if "csv" in seen else "text"
    return Options(paths, form, "verify" in seen, "follow" in seen, jobs)


class Progress:
    """A one-line counter on stderr, only on a terminal and only after a second."""

    def __init__(self) -> None:
        import time
        self.clock = time.monotonic
        self.start = self.clock()
        self.enabled = sys.stderr.isatty()
        self.shown = False
        self.last = 0.0

    def tick(self, n: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start > 1 and now - self.last > 0.1:
            sys.stderr.write(f"\rscanned {n} files")
            sys.stderr.flush()
            self.shown, self.last = True, now

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")


def run(opts: Options) -> int:
    """Scan, print records and the summary; the exit status."""
    from .scanning import CSV_COLUMNS, ScanStats, scan, walk

    for p in opts.paths:
        try:
            os.stat(p)
        except OSError as e:
            sys.stderr.write(f"buildid: {printable(p)}: {e.strerror or e}\n")
            return EXIT_ERROR
    jobs = opts.jobs or os.cpu_count() or 1
    stats = ScanStats()
    out = sys.stdout
    if opts.form == "csv":
        out.write(",".join(CSV_COLUMNS) + "\n")
    progress = Progress()
    counts = {"files": 0, "go": 0, "modified": 0, "errors": 0}
    versions: dict[str, int] = {}
    for line in scan(walk(opts.paths, opts.follow_symlinks, stats), jobs, opts.verify, opts.form):
        counts["files"] += 1
        progress.tick(counts["files"])
        if line.is_go:
            counts["go"] += 1
            versions[line.go_version or "unknown"] = versions.get(line.go_version or "unknown", 0) + 1
        counts["errors"] += line.error
        counts["modified"] += line.modified
        out.write(line.text + "\n")
    progress.done()
    out.flush()
    per_version = ", ".join(f"{v}: {n}" for v, n in sorted(versions.items()))
    sys.stderr.write(f"scanned {counts['files']} files: {counts['go']} Go files"
                     + (f" ({per_version})" if per_version else "")
                     + (f", {counts['modified']} modified" if opts.verify else "")
                     + f", {counts['errors']} errors, {stats.skipped} skipped (not regular files or links)\n")
    return EXIT_CHECK_FAILED if counts["modified"] else EXIT_OK


def main(args: list[str]) -> int:
    """Run a well-formed `scan` invocation without click and return its exit
    status; return -1, having done nothing, when click must parse the arguments."""
    opts = parse_simple(args)
    if opts is None:
        return -1
    try:
        return run(opts)
    except BrokenPipeError:
        # The reader went away: stop quietly, as click does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CHECK_FAILED
    except KeyboardInterrupt:
        return 130
