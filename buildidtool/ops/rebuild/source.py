"""Where the source of a rebuild comes from, checked against build info
before anything is built: a command of the Go distribution from the
toolchain's GOROOT; the main module at its version through the module proxy
(its checksum checked against the one build info records); a local checkout
given with --source (its module path, and its git revision and state where
build info records vcs.*)."""
from __future__ import annotations

import dataclasses
import json
import os
import re

from .recipe import GOROOT, LOCAL, PROXY, Recipe, Refused
from .result import Origin
from .running import FETCH_TIMEOUT, last_lines, run


@dataclasses.dataclass(frozen=True, slots=True)
class Prepared:
    """How to run the build: `go build -o OUT target` in `dir` (GOROOT,
    local), or `go install target` into the fresh GOPATH (a module at a
    version: only go install takes pkg@version, and the version it records
    is what build info holds). `flags` are added to the recipe's."""

    origin: Origin
    install: bool
    target: str
    dir: str | None
    flags: tuple[str, ...]


def prepare(r: Recipe, goroot: str, go: str, env: dict[str, str], cwd: str, source: str | None) -> Prepared:
    if r.kind == GOROOT:
        pkgdir = os.path.join(goroot, "src", *r.package.split("/"))
        if not os.path.isdir(pkgdir):
            raise Refused(f"the toolchain's GOROOT has no {r.package} ({pkgdir})")
        return Prepared(Origin(GOROOT, r.package, goroot), False, r.package, None, _pgo(r, pkgdir))
    if r.kind == PROXY:
        return _proxy(r, go, env, cwd)
    assert r.kind == LOCAL and source is not None
    return _local(r, source, env)


def _proxy(r: Recipe, go: str, env: dict[str, str], cwd: str) -> Prepared:
    mv = f"{r.module}@{r.version}"
    proxy = env.get("GOPROXY", "")
    got = run([go, "mod", "download", "-json", mv], env, cwd=cwd, timeout=FETCH_TIMEOUT)
    try:
        info = json.loads(got.stdout)
    except ValueError:
        info = {"Error": last_lines(got.stderr)}
    if info.get("Error") or got.returncode != 0:
        raise Refused(f"cannot fetch {mv} through GOPROXY={proxy}: {info.get('Error') or last_lines(got.stderr)}")
    if r.sum and info.get("Sum") != r.sum:
        raise Refused(f"GOPROXY={proxy} serves {mv} with checksum {info.get('Sum')}, but build info records "
                      f"{r.sum}: that is not the source the file was built from")
    pkgdir = os.path.join(info["Dir"], *r.relative.split("/")) if r.relative else info["Dir"]
    origin = Origin(PROXY, r.package, proxy, r.module, r.version, info.get("Sum") if r.sum else None)
    return Prepared(origin, True, f"{r.package}@{r.version}", None, _pgo(r, pkgdir))


_MODULE_LINE = re.compile(r'^\s*module\s+("(?:[^"\\]|\\.)*"|`[^`]*`|\S+)', re.M)


def _module_path(gomod: str) -> str | None:
    with open(gomod, encoding="utf-8", errors="replace") as f:
        m = _MODULE_LINE.search(f.read())
    if m is None:
        return None
    path = m.group(1)
    return json.loads(path) if path.startswith('"') else path.strip("`")


def _local(r: Recipe, source: str, env: dict[str, str]) -> Prepared:
    top = os.path.abspath(source)
    gomod = os.path.join(top, "go.mod")
    if not os.path.isdir(top):
        raise Refused(f"--source {source}: not a directory")
    if not os.path.isfile(gomod):
        raise Refused(f"--source {source}: no go.mod there (give the main module's root directory)")
    have = _module_path(gomod)
    if have != r.module:
        raise Refused(f"--source {source} holds module {have}, but the file's main module is {r.module}")
    pkgdir = os.path.join(top, *r.relative.split("/")) if r.relative else top
    if not os.path.isdir(pkgdir):
        raise Refused(f"--source {source} has no directory for {r.package}")
    revision = None
    flags: tuple[str, ...] = ()
    if r.vcs is not None:
        revision = _check_vcs(r, top, source, env)
    else:
        flags = ("-buildvcs=false",)  # build info has no vcs.*: whatever DIR is, stamp none
    target = "./" + r.relative if r.relative else "."
    return Prepared(Origin(LOCAL, r.package, top, r.module, r.version, None, revision), False, target, top,
                    flags + _pgo(r, pkgdir))


def _check_vcs(r: Recipe, top: str, source: str, env: dict[str, str]) -> str | None:
    """The checkout's revision, refused unless it is the recorded one and
    its state (uncommitted changes or not) is the recorded one."""
    vcs = r.vcs
    if vcs.system != "git":
        return None  # only git is checked; the go command stamps the others and diff compares them
    head = run(["git", "-C", top, "rev-parse", "HEAD"], env)
    if head.returncode != 0:
        raise Refused(f"--source {source}: build info records a git checkout, and `git rev-parse HEAD` "
                      f"failed there: {last_lines(head.stderr)}")
    revision = head.stdout.strip()
    if vcs.revision and revision != vcs.revision:
        raise Refused(f"--source {source} is at revision {revision}, but the file was built at {vcs.revision}")
    status = run(["git", "-C", top, "status", "--porcelain"], env)
    if status.returncode != 0:
        raise Refused(f"--source {source}: `git status` failed: {last_lines(status.stderr)}")
    dirty = bool(status.stdout.strip())
    if vcs.modified == "false" and dirty:
        raise Refused(f"--source {source} has uncommitted changes, but the file was built from a clean "
                      f"checkout (vcs.modified=false)")
    if vcs.modified == "true" and not dirty:
        raise Refused(f"the file was built with uncommitted changes (vcs.modified=true), which build info "
                      f"does not hold; --source {source} has none")
    return revision


def _pgo(r: Recipe, pkgdir: str) -> tuple[str, ...]:
    """The -pgo flag that gives the recorded profile (none when the default,
    -pgo=auto, finds it): with -trimpath build info holds only the file's
    name, looked for in the main package's directory."""
    default = os.path.join(pkgdir, "default.pgo")
    if r.pgo is None:
        return ("-pgo=off",) if os.path.isfile(default) else ()
    if os.path.basename(r.pgo) == "default.pgo" and os.path.isfile(default):
        return ()
    where = [os.path.join(pkgdir, os.path.basename(r.pgo))] + ([] if r.trimpath else [r.pgo])
    for path in where:
        if os.path.isfile(path):
            return (f"-pgo={path}",)
    raise Refused(f"built with the profile -pgo={r.pgo}, which is not at hand (looked in {pkgdir})")
