"""Package discovery, so that no module can be left out of a build.

The pyproject.toml holds the metadata. What it cannot say is that the
top-level `formats/` folder (kept there so a reader sees the container parsers
first) installs as `buildidtool.formats`: setuptools' own discovery would name
it `formats`. So the packages are found here, under both roots, every time a
wheel or an sdist is built; tests/test_packaging.py checks a built wheel
against the tree.
"""
from setuptools import find_packages, setup

packages = find_packages(include=["buildidtool", "buildidtool.*"])
packages += ["buildidtool.formats"] + [f"buildidtool.formats.{p}" for p in find_packages("formats")]

setup(packages=packages, package_dir={"buildidtool.formats": "formats"})
