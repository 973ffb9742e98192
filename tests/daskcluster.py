"""A real Dask cluster on loopback for the tests and benchmarks: `dask scheduler`
and `dask worker` processes from this interpreter's environment, each in a
session of its own so that stop() ends them and everything they started."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


class DaskCluster:
    def __init__(self, workdir: Path, env: dict | None = None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        self.procs: list[subprocess.Popen] = []
        self.address: str | None = None

    def start_scheduler(self, timeout: float = 60) -> str:
        sched = self.dir / "scheduler.json"
        self._spawn([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sched)], "scheduler")
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.address = json.loads(sched.read_text())["address"]
                return self.address
            except (OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or self.procs[-1].poll() is not None:
                raise RuntimeError("dask scheduler did not start: " + self.log("scheduler"))
            time.sleep(0.1)

    def add_worker(self, prefix: list[str] = (), name: str | None = None) -> subprocess.Popen:
        name = name or f"worker{len(self.procs)}"
        return self._spawn([*prefix, str(BIN / "dask"), "worker", self.address, "--nworkers", "1", "--nthreads", "1",
                            "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(self.dir / name),
                            "--death-timeout", "60"], name)

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env,
                             start_new_session=True)
        log.close()
        p.name = name
        self.procs.append(p)
        return p

    def log(self, name: str) -> str:
        try:
            return (self.dir / f"{name}.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def client(self):
        from distributed import Client
        return Client(self.address, timeout=30, set_as_default=False)

    def wait_for_workers(self, n: int, timeout: float = 120) -> None:
        with self.client() as c:
            c.wait_for_workers(n, timeout=timeout)

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the nannies the tests started)."""
        with self.client() as c:
            return sorted(c.run(os.getpid).values())

    def groups(self) -> set[int]:
        return {p.pid for p in self.procs}

    def stop(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in the sessions started here (a nanny's worker, a forked reader): ended.
        for pgid in self.groups():
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def survivors(self, timeout: float = 10) -> list[str]:
        """Processes still in the sessions started here (ps), after stop().
        A killed process shows as <defunct> until its new parent reaps it:
        given a few seconds, then counted like any other."""
        mine = self.groups()
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["ps", "-eo", "pgid=,pid=,stat=,args="], capture_output=True, text=True).stdout
            left = [line for line in out.splitlines() if line.split() and int(line.split()[0]) in mine]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)
