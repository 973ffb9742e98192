"""Rebuild: does a Go binary come from the source and toolchain its build
info records? `verify` proves a file matches the content ID stamped into it;
anyone who changes a byte and stamps it again passes that. A rebuild from
the recorded source, with the recorded toolchain and settings, gives the
bytes the source produces (Go's builds are reproducible).

    r = rebuild("gofmt")                  # Rebuilt
    r.status, r.reason                    # "reproduced", "byte-identical"
    r.command.line()                      # the go command, to run it again

The steps, one module each: recipe (what build info says: toolchain,
package, flags, environment), toolchain (which go runs), source (where the
code comes from, checked against build info), building (the builds, with
the flags build info leaves out tried until the link matches), running (the
go command in a clean environment and a temporary GOPATH), compare (the
verdict, through read, verify and diff). FILE is only ever read.
"""
from __future__ import annotations

import os
import time

from ...buildinfo import read_build_info
from ...errors import BuildIDError, naming
from ..read import read
from .building import build_and_compare
from .recipe import Refused, recipe
from .result import (CANNOT_REBUILD, DIFFERS, REPRODUCED, STATUSES, Attempt, Command, Differences, Origin,
                     Rebuilt, Toolchain)
from .running import Workspace, clean_env
from .source import prepare
from .toolchain import choose

__all__ = ["rebuild", "Rebuilt", "Toolchain", "Origin", "Command", "Attempt", "Differences", "REPRODUCED",
           "DIFFERS", "CANNOT_REBUILD", "STATUSES"]


class _Progress:
    """What is known so far, so that a refusal late in the run still says
    which toolchain and source it got to."""

    def __init__(self, path: str, start: float):
        self.path, self.start = path, start
        self.fields: dict = {}

    def result(self, status: str, reason: str, **more) -> Rebuilt:
        return Rebuilt(self.path, status, reason, seconds=time.monotonic() - self.start, **{**self.fields, **more})


def rebuild(path: str, go: str | None = None, source: str | None = None,
            env: dict[str, str] | None = None) -> Rebuilt:
    """Rebuild FILE `path` and compare. `go`: the toolchain to use (refused
    unless it is the recorded version); `source`: a local checkout of the
    main module; `env`: the caller's environment (default os.environ), from
    which only PATH, HOME and the go command's module and cache settings are
    taken. Never raises for a file or build problem: the verdict says it."""
    p = _Progress(path, time.monotonic())
    caller = dict(os.environ if env is None else env)
    try:
        with naming(path):
            info = read(path)
            bi = read_build_info(path)
        if info.slices:
            raise Refused("a universal binary: rebuild each slice on its own (lipo -thin ARCH)")
        if bi is not None:
            p.fields.update(go_version=bi.go_version, path=bi.path)
        r = recipe(bi, source is not None)
        p.fields["notes"] = r.notes
        with Workspace() as ws:
            tc, go_env = choose(r.go_version, go, caller, ws.root)
            p.fields["toolchain"] = tc
            build_env = clean_env(caller, go_env, ws.gopath, r.env, ws.tmp)
            prep = prepare(r, tc.goroot, tc.go, build_env, ws.root, source)
            p.fields["origin"] = prep.origin
            status, reason, more = build_and_compare(path, info, r, tc, prep, build_env, ws, p.fields)
            return p.result(status, reason, **more)
    except Refused as e:
        return p.result(CANNOT_REBUILD, str(e))
    except BuildIDError as e:
        return Rebuilt.failed(path, e.message)
