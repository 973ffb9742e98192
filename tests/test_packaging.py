"""What users install: the sdist and the wheel hold every module of the tree,
the license and the README, and the installed `buildid` reports its version.

The wheel checked is the one CI built (`BUILDIDTOOL_WHEEL`, `BUILDIDTOOL_SDIST`,
set by .ci/run), or one built here from a copy of the tree."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import buildidtool
from conftest import REPO

# What a copy of the tree for building leaves behind: caches, venvs, build output.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".cache", ".cache.*", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis")


def tree_modules(root: Path) -> set[str]:
    """Every module of the tree as its path inside an installed package:
    buildidtool/... as it is, the top-level formats/ as buildidtool/formats/..."""
    out = {str(p.relative_to(root)) for p in (root / "buildidtool").rglob("*.py")}
    out |= {"buildidtool/formats/" + str(p.relative_to(root / "formats")) for p in (root / "formats").rglob("*.py")}
    return {m for m in out if "__pycache__" not in m}


def wheel_modules(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return {n for n in z.namelist() if n.endswith(".py")}


def missing_from_wheel(root: Path, wheel: Path) -> set[str]:
    return tree_modules(root) - wheel_modules(wheel)


def _build(tree: Path, out: Path) -> tuple[Path, Path]:
    """sdist, then the wheel built from that sdist (what `python -m build` does),
    without build isolation: setuptools comes from the test extra."""
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("*.tar.gz")), next(out.glob("*.whl"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    wheel, sdist = os.environ.get("BUILDIDTOOL_WHEEL"), os.environ.get("BUILDIDTOOL_SDIST")
    if wheel and sdist:
        return Path(sdist), Path(wheel)
    tmp = tmp_path_factory.mktemp("dist")
    tree = tmp / "tree"
    shutil.copytree(REPO, tree, ignore=_NOT_SOURCE)
    return _build(tree, tmp / "out")


def test_the_wheel_holds_every_module_of_the_tree(built):
    sdist, wheel = built
    assert missing_from_wheel(REPO, wheel) == set()
    assert "buildidtool/formats/elf.py" in wheel_modules(wheel)  # formats/ under its installed name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert not any(n.startswith(("formats/", "tests/", "samples/")) for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as z:
        assert "buildid = buildidtool.console:main" in z.read(entry_points).decode()


def test_the_sdist_holds_the_sources_the_license_the_readme_and_the_tests(built):
    sdist, _ = built
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for needed in ("README.md", "LICENSE", "pyproject.toml", "setup.py", "tests/conftest.py", "samples/build.py",
                   "formats/elf.py", "buildidtool/report/text.py"):
        assert needed in names, needed
    assert not any(n.startswith((".cache/", ".venv/", ".git/")) for n in names)


def test_the_check_fails_when_a_module_is_dropped_from_the_build(tmp_path):
    """A hand-kept package list that forgets one package, as the one that once
    shipped a wheel without buildidtool.report did: the same check names
    exactly what it left out."""
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, ignore=_NOT_SOURCE)
    packages = sorted({".".join(p.parent.relative_to(tree).parts) for p in (tree / "buildidtool").rglob("__init__.py")}
                      - {"buildidtool.report"}) + ["buildidtool.formats"]
    (tree / "setup.py").write_text(
        "from setuptools import setup\n"
        f"setup(packages={packages!r}, package_dir={{'buildidtool.formats': 'formats'}})\n")
    _, wheel = _build(tree, tmp_path / "out")
    missing = missing_from_wheel(tree, wheel)
    assert missing == {m for m in tree_modules(tree) if m.startswith("buildidtool/report/")}


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert buildidtool.__version__ == version("buildidtool")
    for argv in ([sys.executable, "-m", "buildidtool", "--version"], [_console_script(), "--version"]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout == f"buildid, version {version('buildidtool')}\n", argv


def _console_script() -> str:
    script = Path(sys.executable).parent / "buildid"
    if not script.exists():
        pytest.skip(f"no buildid console script beside {sys.executable}")
    return str(script)


@pytest.mark.skipif(not os.environ.get("BUILDIDTOOL_TEST_INSTALLED"),
                    reason="only when the suite runs against an installed wheel (.ci/run sets BUILDIDTOOL_TEST_INSTALLED)")
def test_the_suite_runs_against_the_installed_package():
    from importlib.metadata import distribution

    here = Path(buildidtool.__file__).resolve()
    assert REPO not in here.parents, f"buildidtool imported from the checkout: {here}"
    dist = distribution("buildidtool")
    installed = {str(f) for f in dist.files or () if str(f).endswith(".py")}
    assert tree_modules(REPO) <= installed
    # Subprocesses the tests start import it from the same place.
    r = subprocess.run([sys.executable, "-c", "import buildidtool; print(buildidtool.__file__)"],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert Path(r.stdout.strip()).resolve() == here
