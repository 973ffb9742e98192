"""Running the go command: no shell, an explicit environment, a time limit,
the whole process group stopped however the run ends, and a temporary
directory that is removed however the run ends (the module cache in it is
read-only: Go makes it so)."""
from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile

from .recipe import Refused

QUERY_TIMEOUT = 120      # go env, go version, git: seconds
FETCH_TIMEOUT = 1800     # a toolchain or module download
BUILD_TIMEOUT = 3600     # one go build: cmd/go from a cold cache takes minutes on two cores

# Passed through from the caller's environment: what a process needs to run
# at all (PATH finds git and a C compiler; HOME holds git's and netrc's
# configuration), nothing that changes what Go builds.
KEPT = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "SYSTEMROOT", "LANG", "LC_ALL")
# The go command's settings a rebuild takes from the caller, as `go env`
# resolves them (environment, then the go env file, then GOROOT/go.env):
# where modules come from and how they are checked, and the build cache.
FROM_GO_ENV = ("GOPROXY", "GOSUMDB", "GONOSUMDB", "GONOPROXY", "GOPRIVATE", "GOINSECURE", "GOVCS", "GOAUTH",
               "GOCACHE")


def run(argv: list[str], env: dict[str, str], cwd: str | None = None,
        timeout: float = QUERY_TIMEOUT) -> subprocess.CompletedProcess:
    """Run argv to completion; Refused when it cannot start or runs past
    `timeout` (its process group is killed, as it is on any interruption)."""
    try:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
    except OSError as e:
        raise Refused(f"cannot run {argv[0]}: {e.strerror or e}") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise Refused(f"{os.path.basename(argv[0])} {argv[1] if len(argv) > 1 else ''} ran past "
                      f"{timeout:.0f} s and was stopped".replace("  ", " ")) from None
    except BaseException:  # Ctrl-C, SIGTERM: the go command and its compilers go too
        _stop(proc)
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the group first (the go command then removes its work
    directory), SIGKILL to what is left after a few seconds."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def last_lines(text: str, n: int = 3) -> str:
    """The last few non-empty lines of a command's output, as one line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[-n:]) or "no output"


def clean_env(caller: dict[str, str], go_env: dict[str, str], gopath: str,
              settings: tuple[tuple[str, str], ...], gotmpdir: str | None = None) -> dict[str, str]:
    """The environment of a rebuild: nothing of the caller's Go settings but
    where modules come from and the build cache; a fresh GOPATH; no GOFLAGS,
    no go env file, no toolchain switching, no workspace; the go command's
    work directories in `gotmpdir` (inside the rebuild's own temporary
    directory, so that even a killed build leaves nothing behind); then the
    target's variables from build info."""
    env = {k: caller[k] for k in KEPT if k in caller}
    env.update({k: go_env[k] for k in FROM_GO_ENV if go_env.get(k)})
    env.update(GOPATH=gopath, GOFLAGS="", GOENV="off", GOTOOLCHAIN="local", GOTELEMETRY="off", GOWORK="off")
    if gotmpdir:
        env["GOTMPDIR"] = gotmpdir
    env.update(settings)
    return env


class Workspace:
    """`with Workspace() as ws:` a temporary directory holding a fresh GOPATH
    (ws.gopath), the go command's work directories (ws.tmp) and the rebuilt
    files (ws.out); removed on the way out."""

    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="buildid-rebuild-")
        self.gopath = os.path.join(self.root, "gopath")
        self.tmp = os.path.join(self.root, "tmp")
        self.out = os.path.join(self.root, "out")
        for d in (self.gopath, self.tmp, self.out):
            os.mkdir(d)

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> bool:
        remove_tree(self.root)
        return False


def remove_tree(path: str) -> None:
    """rmtree that also removes what Go made read-only (the module cache):
    every directory is made writable first, top down."""
    for dirpath, _dirs, _files in os.walk(path):
        try:
            os.chmod(dirpath, stat.S_IRWXU)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)
