"""Shared fixtures: the Go sample binaries built by samples/build.py."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO / "samples" / "build.py"
EXIT_NO_GO = 3


def pytest_report_header(config):
    import buildidtool
    return f"buildidtool {buildidtool.__version__} from {Path(buildidtool.__file__).parent}"


def pytest_sessionstart(session):
    """Against an installed wheel (.ci/run), importing the checkout instead
    would test what users do not get: stop before any test runs."""
    import buildidtool
    here = Path(buildidtool.__file__).resolve()
    if os.environ.get("BUILDIDTOOL_TEST_INSTALLED") and REPO in here.parents:
        pytest.exit(f"BUILDIDTOOL_TEST_INSTALLED is set but buildidtool comes from the checkout ({here}); "
                    "run pytest from outside the checkout with PYTHONSAFEPATH=1", returncode=3)


def build_script():
    """samples/build.py as a module, so the tests and the script agree on where Go is."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("samples_build", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def samples_dir() -> Path:
    return Path(os.environ.get("BUILDIDTOOL_SAMPLES") or REPO / ".cache" / "samples").resolve()


@dataclasses.dataclass
class Samples:
    dir: Path
    reference: Path
    go: str
    entries: list[dict]
    skipped: dict[str, str]
    manifest: dict

    def entry(self, name: str) -> dict:
        """The manifest entry for a sample, by name or by its path in the manifest."""
        for e in self.entries:
            if name in (e["name"], e["path"]):
                return e
        if name in self.skipped:
            pytest.skip(f"sample {name} was not built: {self.skipped[name]}")
        raise KeyError(f"no sample named {name!r}")

    def path(self, name: str) -> Path:
        return self.dir / self.entry(name)["path"]

    def all_files(self) -> list[Path]:
        return [self.dir / e["path"] for e in self.entries]

    def select(self, **criteria) -> list[dict]:
        """Entries whose fields equal all the given values, e.g. select(format="elf")."""
        return [e for e in self.entries if all(e.get(k) == v for k, v in criteria.items())]

    def run_reference(self, *args) -> subprocess.CompletedProcess:
        return run_reference(self, *args)


def run_reference(samples: Samples, *args) -> subprocess.CompletedProcess:
    """Run the reference `buildid` tool built from cmd/buildid; output stays bytes."""
    return subprocess.run([str(samples.reference), *map(str, args)], capture_output=True)


def _build_samples(request, argv: list[str], env: dict, show=None) -> subprocess.CompletedProcess:
    """Run samples/build.py, showing its progress lines on the terminal as they
    come (pytest captures a fixture's output; a cold build takes minutes)."""
    show = show or _terminal(request)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if not line.startswith("samples up to date"):
            show(line)
    stdout = proc.stdout.read()
    proc.wait()
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, "".join(lines))


def _terminal(request):
    capman = request.config.pluginmanager.getplugin("capturemanager")
    first = [True]

    def show(line: str) -> None:
        if capman is None:
            return
        with capman.global_and_fixture_disabled():
            sys.stderr.write(("\n" if first[0] else "") + "samples: " + line)
            sys.stderr.flush()
        first[0] = False
    return show


@pytest.fixture(scope="session")
def samples(request) -> Samples:
    go = build_script().find_go()
    if go is None:
        pytest.skip("Go toolchain not found: put `go` on PATH or set $GO")
    outdir = samples_dir()
    proc = _build_samples(request, [sys.executable, str(BUILD_SCRIPT), str(outdir)], {**os.environ, "GO": go})
    if proc.returncode == EXIT_NO_GO:
        pytest.skip(proc.stderr.strip() or "Go toolchain not usable")
    if proc.returncode != 0:
        pytest.fail(f"samples/build.py failed (exit {proc.returncode}):\n{proc.stderr}",
                    pytrace=False)
    manifest = json.loads((outdir / "manifest.json").read_text())
    return Samples(
        dir=outdir,
        reference=outdir / manifest["reference"],
        go=manifest["go"],
        entries=[e for e in manifest["samples"] if not e["skipped"]],
        skipped={e["name"]: e["skipped"] for e in manifest["samples"] if e["skipped"]},
        manifest=manifest,
    )


@pytest.fixture
def tmp_copy(samples: Samples, tmp_path: Path):
    """Factory copying a sample into tmp_path (writable) so a test may modify it."""
    def copy(name: str) -> Path:
        src = samples.path(name)
        dest = tmp_path / src.name
        n = 1
        while dest.exists():
            n += 1
            dest = tmp_path / f"{src.stem}-{n}{src.suffix}"
        shutil.copyfile(src, dest)
        dest.chmod(src.stat().st_mode | stat.S_IWUSR)
        return dest

    return copy


@pytest.fixture
def reference(request):
    """Path of the reference `go tool buildid`, or None when it cannot be built."""
    try:
        samples = request.getfixturevalue("samples")
    except (pytest.skip.Exception, pytest.FixtureLookupError):
        return None
    return samples.reference
