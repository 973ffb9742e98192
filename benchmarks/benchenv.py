"""What the benchmarks run against: the Go toolchain, the reference tool built
from cmd/buildid, the Go samples, our console script, and the machine line.

Everything built here is cached: the reference under .cache/bench (keyed by the
toolchain), the samples wherever samples/build.py keeps them (.cache/samples or
$BUILDIDTOOL_SAMPLES; build.py has its own cache key)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench"
BUILD_SCRIPT = REPO / "samples" / "build.py"


class SetupError(Exception):
    pass


@dataclasses.dataclass
class Tools:
    python: str           # this interpreter (the venv's)
    buildid: str          # our console script, beside the interpreter
    go: str
    go_version: str       # "go1.27.3"
    gobuildid: str        # reference, built from cmd/buildid with `go`
    samples: Path
    manifest: dict

    def sample(self, name: str) -> Path:
        for s in self.manifest["samples"]:
            if s["name"] == name and not s.get("skipped"):
                return self.samples / s["path"]
        raise SetupError(f"sample {name} is missing from {self.samples}/manifest.json")

    def executables(self) -> list[Path]:
        """Every built Go executable or shared library sample."""
        return [self.samples / s["path"] for s in self.manifest["samples"]
                if s["kind"] in ("exe", "shared") and not s.get("skipped")]


def go_env() -> dict[str, str]:
    """The caller's environment, without settings that would make go build or
    go version behave differently from a plain local toolchain."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("GO", "CGO_")) and k not in ("GOROOT", "GOPATH", "GOCACHE", "GOMODCACHE"))}
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GOWORK="off", GOFLAGS="")
    return env


def find_go() -> str:
    candidates = [os.environ.get("GO"), shutil.which("go"), str(Path(sys.executable).parent / "go")]
    for go in candidates:
        if go and os.path.isfile(go) and os.access(go, os.X_OK):
            return os.path.abspath(go)
    raise SetupError("no Go toolchain: put `go` on PATH or set $GO")


def _run(cmd: list[str], **kw) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SetupError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    return proc.stdout


def go_version(go: str) -> str:
    return _run([go, "env", "GOVERSION"], env=go_env()).strip()


def ensure_reference(go: str, version: str) -> str:
    """Build cmd/buildid once per toolchain (version, GOROOT, host platform)."""
    env = go_env()
    goroot, goos, goarch = _run([go, "env", "GOROOT", "GOHOSTOS", "GOHOSTARCH"], env=env).split()
    key = hashlib.sha256(f"{go}\0{version}\0{goroot}\0{goos}/{goarch}".encode()).hexdigest()[:12]
    out = CACHE / f"ref-{version}-{key}" / "gobuildid"
    if out.is_file():
        return str(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    print(f"bench: building the reference: go build -o {out} cmd/buildid", file=sys.stderr)
    _run([go, "build", "-o", str(tmp), "cmd/buildid"], cwd=out.parent, env=dict(env, CGO_ENABLED="0"))
    tmp.replace(out)
    return str(out)


def samples_dir() -> Path:
    return Path(os.environ.get("BUILDIDTOOL_SAMPLES") or REPO / ".cache" / "samples").resolve()


def ensure_samples(go: str) -> tuple[Path, dict]:
    """Build the samples with samples/build.py (a no-op when they are current)."""
    outdir = samples_dir()
    print(f"bench: samples in {outdir}", file=sys.stderr)
    proc = subprocess.run([sys.executable, str(BUILD_SCRIPT), str(outdir)],
                          env=dict(os.environ, GO=go), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SetupError(f"samples/build.py failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    return outdir, json.loads((outdir / "manifest.json").read_text())


def our_script() -> str:
    script = Path(sys.executable).parent / "buildid"
    if not script.is_file():
        raise SetupError(f"{script} not found: install the package into this venv (pip install -e .)")
    return str(script)


def byte_compile() -> None:
    """Compile the package as `pip install` would: with PYTHONDONTWRITEBYTECODE
    set (some shells set it), every run would otherwise recompile our modules
    from source and we would time the compiler, not buildid."""
    import compileall
    import importlib.util

    for name in ("buildidtool", "buildidtool.formats"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            for where in spec.submodule_search_locations:
                compileall.compile_dir(where, quiet=1, force=False)


def setup() -> Tools:
    byte_compile()
    go = find_go()
    version = go_version(go)
    gobuildid = ensure_reference(go, version)
    samples, manifest = ensure_samples(go)
    return Tools(sys.executable, our_script(), go, version, gobuildid, samples, manifest)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def git_revision() -> str:
    try:
        rev = _run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
        dirty = _run(["git", "-C", str(REPO), "status", "--porcelain", "--", "buildidtool", "formats"])
    except (SetupError, OSError):
        return "unknown"
    return rev + ("+dirty" if dirty.strip() else "")


def machine_line(tools: Tools) -> str:
    return (f"nproc {nproc()}, {cpu_model()}, Python {platform.python_version()}, "
            f"Go {tools.go_version}, buildidtool at {git_revision()}")
