"""Running commands side by side: cases, interleaved rounds, medians, pair ratios.

A Case is one thing to time: one command, or a loop of commands timed as a
whole. A Group holds the cases one table row compares (or a few rows that share
cases); `measure` runs each case once untimed (warm-up, checks), then `rounds`
rounds in which every case runs once, always in the same order (A B A B ...), so
each round gives one ratio per pair of cases and slow drift of the shared
machine hits both sides alike."""
from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 900  # seconds for one command: a hang is reported, not waited for
TIME_BIN = "/usr/bin/time"

# Peak RSS without GNU time: a wrapper per run reports its children's maximum.
_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(rc if rc >= 0 else 128 - rc)\n"
)


def _children_cpu() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def rss_method() -> str:
    if os.access(TIME_BIN, os.X_OK):
        return f"{TIME_BIN} -f %M"
    return "getrusage(RUSAGE_CHILDREN) in a wrapper process"


def _with_rss(argv: list[str], rss_file: str) -> list[str]:
    if os.access(TIME_BIN, os.X_OK):
        return [TIME_BIN, "-f", "%M", "-o", rss_file, *argv]
    return [sys.executable, "-c", _RSS_WRAPPER, rss_file, *argv]


def _read_rss(rss_file: str) -> int:
    # GNU time may put "Command exited with non-zero status N" before the figure.
    return int(Path(rss_file).read_text().split()[-1])


class CaseFailed(Exception):
    pass


@dataclasses.dataclass
class Sample:
    seconds: float
    rss_kib: int | None = None
    cpu_seconds: float | None = None  # user + system time of the commands and their children


@dataclasses.dataclass
class Case:
    """`commands` run one after another, timed as a whole (usually just one).

    prepare: untimed, before every run (fresh copies, restoring a file).
    fingerprint: computed after the warm-up run from its stdout, to check that
    two cases agree (same output, same bytes written).
    rss: also record the peak RSS of each command (the maximum over them)."""
    label: str
    commands: list[list[str]]
    ok_codes: frozenset[int] = frozenset({0})
    prepare: Callable[[], None] | None = None
    fingerprint: Callable[[bytes], str] | None = None
    rss: bool = False
    env: dict[str, str] | None = None

    def run(self, capture: bool = False) -> tuple[Sample, bytes]:
        if self.prepare:
            self.prepare()
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            rss_file = os.path.join(tmp, "rss")
            out_path = os.path.join(tmp, "stdout")
            peak = 0
            with open(out_path, "wb") if capture else open(os.devnull, "wb") as out, \
                    tempfile.TemporaryFile() as err:
                start = time.perf_counter()
                cpu_start = _children_cpu()
                for argv in self.commands:
                    self._one(_with_rss(argv, rss_file) if self.rss else argv, out, err)
                    if self.rss:
                        peak = max(peak, _read_rss(rss_file))
                seconds = time.perf_counter() - start
                cpu = _children_cpu() - cpu_start
            stdout = Path(out_path).read_bytes() if capture else b""
        return Sample(seconds, peak if self.rss else None, cpu), stdout

    def _one(self, argv: list[str], out, err) -> None:
        # A blocking wait: Popen.wait(timeout=...) polls with sleeps of up to
        # 50 ms, which would quantize every time measured. A timer kills hangs.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env)
        expired = threading.Event()
        timer = threading.Timer(TIMEOUT, lambda: (expired.set(), proc.kill()))
        timer.start()
        try:
            rc = proc.wait()
        finally:
            timer.cancel()
        if expired.is_set():
            raise CaseFailed(f"timed out after {TIMEOUT} s: {' '.join(argv)}")
        if rc not in self.ok_codes:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            tail = lines[-1] if lines else "(no stderr)"
            raise CaseFailed(f"exit {rc}: {tail}")


@dataclasses.dataclass
class Result:
    case: Case
    samples: list[Sample] = dataclasses.field(default_factory=list)
    fingerprint: str | None = None
    failure: str | None = None

    def values(self, metric: str) -> list[float]:
        if metric == "rss":
            return [s.rss_kib for s in self.samples]
        if metric == "cpu":
            return [s.cpu_seconds for s in self.samples]
        return [s.seconds for s in self.samples]

    def median(self, metric: str) -> float:
        return statistics.median(self.values(metric))


def pair_ratio(a: Result, b: Result, metric: str) -> float:
    """Median over rounds of a/b, using only rounds both completed."""
    pairs = list(zip(a.values(metric), b.values(metric)))
    return statistics.median(x / y for x, y in pairs)


def _progress(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def measure(name: str, cases: dict[str, Case], rounds: int) -> dict[str, Result]:
    results = {key: Result(case) for key, case in cases.items()}
    for key, res in results.items():
        _attempt(res, capture=True, what=f"{name}: warm-up {res.case.label}")
    for r in range(rounds):
        live = [res for res in results.values() if res.failure is None]
        _progress(f"{name}: round {r + 1}/{rounds}")
        for res in live:
            _attempt(res, capture=False)
    return results


def _attempt(res: Result, capture: bool, what: str | None = None) -> None:
    if res.failure is not None:
        return
    if what:
        _progress(what)
    try:
        sample, stdout = res.case.run(capture=capture)
    except CaseFailed as e:
        res.failure = str(e)
        _progress(f"{res.case.label}: FAILED: {e}")
        return
    if capture:
        if res.case.fingerprint:
            res.fingerprint = res.case.fingerprint(stdout)
    else:
        res.samples.append(sample)


def tool_available(argv: list[str]) -> bool:
    return shutil.which(argv[0]) is not None and subprocess.call(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
