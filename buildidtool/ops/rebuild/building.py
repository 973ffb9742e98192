"""The builds of a rebuild. Build info leaves some things out: the build mode
as given (-buildmode=exe and the default both record `exe`), with -trimpath
the linker flags, and for a command of the Go distribution whether it was
built in GOPATH mode. Each candidate is built until the build ID's
action part, the hash of the link's inputs (flags included), is FILE's; the
compile is cached after the first build, so a further candidate is a
relink. The verdict compares the matching build (else the likeliest) with
FILE."""
from __future__ import annotations

import os
import time

from ...errors import naming
from ...fileio import opened
from ...formats import Source
from ...idstring import parts
from ...modification import layout_of
from ..read import read
from .compare import judge, same_bytes
from .recipe import Recipe, Refused, ldflags_candidates
from .result import Attempt, Command, Toolchain
from .running import BUILD_TIMEOUT, last_lines, run


def candidates(r: Recipe, path: str, fmt: str) -> list[tuple[str, ...]]:
    """What to try on top of the recipe, likeliest first: environment
    assignments (K=V) and go build flags (-flag=value)."""
    links = [""] if r.ldflags_known else ldflags_candidates(*_evidence(path, fmt))
    return [mode + bm + ((f"-ldflags={ld}",) if ld else ())
            for mode in r.modes for bm in r.buildmodes for ld in links]


def build_and_compare(path: str, info, r: Recipe, tc: Toolchain, prep, env: dict[str, str], ws,
                      fields: dict) -> tuple:
    """(status, reason) and the verdict's other fields; `fields` gets the
    attempts and the command as they happen, for a build that fails later."""
    want = info.parts
    attempts: list[Attempt] = []
    kept = None  # (file, command, flags) compared in the end
    notes = list(r.notes)
    settled: set[tuple[str, ...]] = set()  # modes whose compile differs: no linker flag helps
    for n, extra in enumerate(candidates(r, path, info.format)):
        mode = tuple(f for f in extra if not f.startswith("-ldflags="))
        if mode in settled:
            continue
        out, command, seconds = _build(r, tc, prep, env, ws, extra, n)
        got = read(out).build_id
        have = parts(got)
        match = None if want is None or have is None else have["action"] == want["action"]
        attempts.append(Attempt(extra, got, match, seconds))
        fields.update(attempts=tuple(attempts), command=command)
        if kept is None or match:
            kept = (out, command, extra)
        if match or (match is None and same_bytes(path, out)):
            break
        if want is not None and have is not None and \
                (have["main_action"], have["main_content"]) != (want["main_action"], want["main_content"]):
            settled.add(mode)
    out, command, extra = kept
    matched = any(a.link_match for a in attempts)
    if want is not None and not matched:
        notes.append(_why_no_match(r, attempts, want))
    status, reason, undone, differences = judge(path, out, info.build_id)
    unrecorded = extra if matched or (want is None and status != "differs") else None
    return status, reason, dict(command=command, unrecorded=unrecorded, attempts=tuple(attempts),
                                undone=undone, differences=differences, notes=tuple(notes))


def _why_no_match(r: Recipe, attempts: list[Attempt], want: dict) -> str:
    compiled = [a for a in attempts if (parts(a.build_id) or {}).get("main_content") == want["main_content"]]
    if not compiled:
        return ("the main package compiled differently (build ID main_content): its source, compiler "
                "flags or toolchain differ, which no linker flag changes")
    if r.ldflags_known:
        return "no build gives FILE's link action ID: the link had other inputs (a dependency differs)"
    tried = ", ".join(" ".join(a.unrecorded) or "none" for a in attempts)
    return (f"build info does not record the linker flags (-trimpath), and no build tried ({tried}) gives "
            f"FILE's link action ID: other flags (such as -X) or other link inputs")


def _build(r: Recipe, tc: Toolchain, prep, env: dict[str, str], ws, extra: tuple[str, ...],
           n: int) -> tuple[str, Command, float]:
    """Build once; (the rebuilt file, the command, seconds)."""
    assigned = [tuple(x.split("=", 1)) for x in extra if not x.startswith("-")]
    flags = list(r.flags) + [x for x in extra if x.startswith("-")] + list(prep.flags)
    env = {**env, **dict(assigned)}
    out = os.path.join(ws.out, f"rebuilt-{n}")
    shown = [("GOFLAGS", ""), ("GOTOOLCHAIN", "local")] + assigned + list(r.env)
    if prep.install:
        argv = [tc.go, "install", *flags, prep.target]
        shown.insert(0, ("GOPATH", ws.gopath))
        cwd = ws.root
    else:
        argv = [tc.go, "build", *flags, "-o", out, prep.target]
        cwd = prep.dir or ws.root
    start = time.monotonic()
    done = run(argv, env, cwd=cwd, timeout=BUILD_TIMEOUT)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise Refused(f"the build failed: {last_lines(done.stderr)}")
    if prep.install:
        _collect_install(ws.gopath, out)
    return out, Command(tuple(argv), tuple(shown), prep.dir), seconds


def _collect_install(gopath: str, out: str) -> None:
    """Move what go install wrote into GOPATH/bin (GOPATH/bin/GOOS_GOARCH for
    another platform) to `out`."""
    found = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(gopath, "bin")) for f in files]
    if len(found) != 1:
        raise Refused(f"go install wrote {len(found)} files into GOPATH/bin, not one")
    os.replace(found[0], out)


def _evidence(path: str, fmt: str) -> tuple[bool | None, bool | None]:
    """(has a symbol table, has DWARF) as the file's headers show, to try the
    likeliest linker flags first; (None, None) when its format cannot say."""
    if fmt not in ("elf", "macho", "pe"):
        return None, None
    with naming(path), opened(path) as fd:
        lay = layout_of(Source.of_file(fd), fmt)
    if lay is None:
        return None, None
    names = lay.section_names if fmt == "elf" else {reg.name for reg in lay.regions}
    symbols = ".symtab" in names if fmt == "elf" else lay.has_symtab
    dwarf = any(n.startswith((".debug_", ".zdebug_", "__DWARF", "__debug_")) for n in names)
    return symbols, dwarf
