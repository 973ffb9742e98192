"""Small helpers shared by the tests (fixtures live in conftest.py)."""
from __future__ import annotations

import ast
import struct
import subprocess
import sys
from pathlib import Path

BUILDID = [sys.executable, "-m", "buildidtool"]


def run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run our CLI; stdout and stderr stay bytes."""
    return subprocess.run([*BUILDID, *map(str, args)], capture_output=True, timeout=timeout)


def modules_loaded(args: list, modules) -> tuple[list[str], bytes]:
    """Which of `modules` a `buildid ARGS` run (in a fresh interpreter, through
    the console entry point) has imported by its end; with its stderr."""
    code = ("import sys; from buildidtool.console import main\n"
            f"sys.argv = ['buildid'] + {[str(a) for a in args]!r}\n"
            "try:\n main()\nexcept SystemExit:\n pass\n"
            f"print([m for m in {tuple(modules)!r} if m in sys.modules], file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    return ast.literal_eval(r.stderr.strip().splitlines()[-1].decode()), r.stderr


def big_copies(sample: Path, tmp_path: Path, n: int) -> Path:
    """A directory of n hard links to one 24 MiB file (the sample with random
    bytes appended, stamped again so it verifies ok): verifying each takes a
    reader some 20-40 ms, and a fraction of a millisecond passes between two."""
    import os
    import shutil
    big = tmp_path / "big"
    shutil.copy(sample, big)
    with open(big, "ab") as f:
        f.write(os.urandom(24 << 20))
    assert run("-w", big).returncode == 0
    root = tmp_path / "many"
    root.mkdir()
    for i in range(n):
        os.link(big, root / f"f{i:04}")
    return root


def fat_slices(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each slice of a universal Mach-O, read independently of formats/."""
    magic, n = struct.unpack_from(">II", data)
    if magic == 0xCAFEBABF:
        return [struct.unpack_from(">QQ", data, 8 + 32 * i + 8) for i in range(n)]
    return [struct.unpack_from(">II", data, 8 + 20 * i + 8) for i in range(n)]


def flip_byte(path: Path, offset: int | None = None) -> int:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x5A
    path.write_bytes(bytes(data))
    return at


def scan_records(path, verify: bool = False, sbom: bool = False, archives=None, error: str | None = None) -> list:
    """A scan's records (facts.Facts) of one input, in process, as the workers make them."""
    from buildidtool.inputs import records
    from buildidtool.ops.scan import asked_for
    from buildidtool.tree import Walked
    return list(records(Walked(str(path), error), asked_for(verify, sbom), archives))


def scan_one(path, verify: bool = False, sbom: bool = False, error: str | None = None):
    """The scan record of one file (no looking inside archives)."""
    (rec,) = scan_records(path, verify, sbom, None, error)
    return rec


def unprivileged() -> list[str]:
    """A command prefix under which file modes bind as they bind anyone: as
    root, setpriv drops from the bounding set the two capabilities that let
    root read and write any file, so a test of an unreadable or read-only
    file checks the real refusal. [] when not root."""
    import os
    import shutil

    import pytest

    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux), which the permission tests need")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def run_unprivileged(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """run(), with file modes binding even when the tests run as root."""
    return subprocess.run([*unprivileged(), *BUILDID, *map(str, args)], capture_output=True, timeout=timeout)
