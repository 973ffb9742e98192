"""Fuzzing, seeded from every sample: byte flips, header fields forced to 0,
0x7fffffff and 0xffffffff, truncations at structure boundaries and headers
spliced from other formats. Every entry point is driven in-process: the API
(read, hash, verify, scan, rewrite on copies) and both command-line forms.

Properties: only BuildIDError escapes the library; the CLI exits 0, 1 or 2 with
at most one line on stderr; no example takes long; memory stays bounded; a
refused or failed rewrite leaves the file byte for byte unchanged. The pclntab
reader (`symbols`, the API) runs on every mutant too, and the API and the
command on mutants aimed at the table's own counts, offsets, records and pc
tables (test_pclntab_mutants)."""
from __future__ import annotations

import hashlib
import io
import os
import struct
import sys
import time
import tracemalloc

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

import buildidtool
from buildidtool import gocompat
from buildidtool.cli import cli
from helpers import scan_one
from buildidtool.ops.symbols import symbols

EXAMPLES = int(os.environ.get("BUILDIDTOOL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
# CPU seconds of the test's own thread (not wall time, which a loaded machine
# stretches many times over, nor the process's, which counts whatever threads an
# earlier test left behind: a Dask client's event loop once added 50 s); real runs
# take milliseconds, this only catches loops and blow-ups.
SLOW = 3.0
# Peak Python allocations per example. The largest legal demand of a 2.5 MB
# sample is a PE whose 16-bit section count fills the rest of the file with
# section headers: 62,000 of them, a few hundred bytes of objects each, 46 MB
# over all the operations below (test_pe_with_a_section_table_to_the_end_of_the_file;
# Go's debug/pe reads such a table too). Unbounded growth goes far past this.
MEMORY = 56 << 20
SPECIAL = [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFF, 0x10]

class _Seeds(dict):
    """name -> the sample's first bytes; its repr stays short, since Hypothesis
    writes the test's arguments out for every example (223 MB for all of them)."""

    def __repr__(self) -> str:
        return f"<{len(self)} samples>"


_seeds = _Seeds()


@pytest.fixture(scope="module")
def seeds(samples):
    if not _seeds:
        for e in samples.entries:
            data = samples.path(e["name"]).read_bytes()
            # the headers and the first structures are where the parsers look
            _seeds[e["name"]] = data if len(data) < (4 << 20) else data[:4 << 20]
    return _seeds


def boundaries(data: bytes) -> list[int]:
    """Offsets where structures begin or end: headers, tables, notes, slices."""
    out = {0, 4, 8, 16, 20, 32, 52, 64, 128, 1024, 4096, len(data) // 2, len(data) - 1}
    if data[:4] == b"\x7fELF":
        bo = "<" if data[5] == 1 else ">"
        if data[4] == 2:
            phoff, shoff = struct.unpack_from(bo + "QQ", data, 0x20)
            phnum, = struct.unpack_from(bo + "H", data, 0x38)
            out |= {phoff + 56 * i for i in range(min(phnum, 16))} | {shoff}
    for m in range(0, min(len(data), 8192), 4):
        if data[m:m + 8] in (b"Go\0\0\x04\0\0\0",) or data[m:m + 4] == b"\xff Go":
            out.add(m)
    return sorted(o for o in out if 0 <= o < len(data))


@st.composite
def mutants(draw, seeds_: dict[str, bytes]):
    name = draw(st.sampled_from(sorted(seeds_)))
    data = bytearray(seeds_[name])
    how = draw(st.sampled_from(["field", "field", "flip", "truncate", "splice", "field-in-structure"]))
    if how == "field":
        off = draw(st.integers(0, min(len(data), 4096) - 4)) & ~3
        data[off:off + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), draw(st.sampled_from(SPECIAL)))
    elif how == "field-in-structure":
        base = draw(st.sampled_from(boundaries(bytes(data))))
        off = min(base + 4 * draw(st.integers(0, 15)), len(data) - 4)
        data[off:off + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), draw(st.sampled_from(SPECIAL)))
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            off = draw(st.integers(0, min(len(data), 65536) - 1))
            data[off] ^= 1 << draw(st.integers(0, 7))
    elif how == "truncate":
        cut = draw(st.sampled_from(boundaries(bytes(data)) + [draw(st.integers(0, min(len(data), 70000)))]))
        del data[cut:]
    else:  # splice another format's header over this one
        other = seeds_[draw(st.sampled_from(sorted(seeds_)))]
        n = draw(st.sampled_from([4, 8, 64, 512, 4096]))
        data[:n] = other[:n]
    return name, how, bytes(data)


def _cli_go(args: list[str]) -> tuple[int, bytes]:
    out, err = io.BytesIO(), io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.TextIOWrapper(out), err
    try:
        code = gocompat.main(args)
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = stdout, stderr
    return code, err.getvalue().encode()


def check_one(path: str, cpu: float = SLOW * 4, seed: bytes | None = None) -> None:
    """Every operation and command on `path`: one-line errors, within the memory
    bound and `cpu` seconds. A loop or a blow-up is over the bound every time and
    many times what its seed costs. So when a run is over, CPU time is the better of
    two runs, and with `seed` (the sample the mutant came from) the bound is at least
    three times what the seed itself takes: a Go wasm sample costs 8-11 s here (its
    27,000 data segments under tracemalloc), and a machine busy with other jobs once
    stretched that to 40 s."""
    original = open(path, "rb").read()
    spent = _exercise(path, original)
    if spent >= cpu:
        with open(path, "wb") as f:
            f.write(original)  # a successful rewrite changed it
        spent = min(spent, _exercise(path, original))
    if spent >= cpu and seed is not None:
        cpu = max(cpu, 3 * _seed_cost(path, seed))
    assert spent < cpu, f"{spent:.1f} s of CPU"


_seed_costs: dict[bytes, float] = {}


def _seed_cost(path: str, seed: bytes) -> float:
    """The CPU seconds check_one's work takes on the unmutated seed (once per seed)."""
    key = hashlib.sha256(seed).digest()
    if key not in _seed_costs:
        twin = path + ".seed"
        with open(twin, "wb") as f:
            f.write(seed)
        try:
            _seed_costs[key] = _exercise(twin, seed)
        finally:
            os.unlink(twin)
    return _seed_costs[key]


def _exercise(path: str, original: bytes) -> float:
    """check_one's work once; the CPU seconds it took."""
    t0 = time.thread_time()
    tracemalloc.start()
    try:
        for op in (buildidtool.read, buildidtool.hash_file, buildidtool.read_reference,
                   buildidtool.inspect, buildidtool.read_build_info, symbols_decoded):
            try:
                op(path)
            except buildidtool.BuildIDError as e:
                assert str(e).startswith(path) and "\n" not in str(e)
        v = buildidtool.verify(path)
        assert v.status in ("ok", "modified", "no-build-id", "unverifiable", "error")
        rec = scan_one(path).to_json()
        assert rec["file"] == path
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY, f"peak allocation {peak} bytes"

    runner = CliRunner()
    for args in (["read", path], ["read", "--json", path], ["hash", path], ["verify", path],
                 ["info", path], ["info", "--json", path], ["scan", "--json", "-j", "1", path]):
        r = runner.invoke(cli, args)
        # verify: 3 when the file could not be checked (documented exit status)
        assert r.exit_code in ((0, 1, 2, 3) if args[0] == "verify" else (0, 1, 2)), (args, r.exception)
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, repr(r.exception))
        assert r.stderr.count("\n") <= (1 if args[0] != "scan" else 1), (args, r.stderr)
    code, err = _cli_go([path])
    assert code in (0, 1) and err.count(b"\n") <= 1 and b"internal error" not in err, err
    assert open(path, "rb").read() == original  # nothing so far may write

    # Rewrites: refused or failed means unchanged; success means a second is a no-op.
    try:
        result = buildidtool.rewrite(path)
    except buildidtool.BuildIDError as e:
        assert open(path, "rb").read() == original, str(e)
    else:
        if result.changed:
            assert not buildidtool.rewrite(path).changed
        else:
            assert open(path, "rb").read() == original
    code, err = _cli_go(["-w", path])
    assert code in (0, 1) and err.count(b"\n") <= 1 and b"internal error" not in err, err
    return time.thread_time() - t0


def symbols_decoded(path: str):
    """symbols(), with every table decoded and its modules recovered."""
    result = symbols(path)
    for u in result.units:
        if u.table is not None:
            u.table.columns, u.table.files, u.table.recovery
    return result


def test_pe_with_a_section_table_to_the_end_of_the_file(samples, tmp_path):
    """NumberOfSections as large as the file holds (a mutant Hypothesis once
    found claimed 32,784): every command reads it within the memory bound."""
    data = bytearray(samples.path("hello-windows-amd64.exe").read_bytes())
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    table = lfanew + 24 + struct.unpack_from("<H", data, lfanew + 20)[0]
    count = min((len(data) - table) // 40, 0xFFFF)
    assert count > 30000
    struct.pack_into("<H", data, lfanew + 6, count)
    path = tmp_path / "many-sections.exe"
    path.write_bytes(data)
    # 62,000 sections: each command makes them again, under tracemalloc too (4 s
    # of CPU without it, every command together; a loop would be far beyond)
    check_one(str(path), cpu=SLOW * 12)


@FUZZ
@given(data=st.data())
def test_mutated_samples(seeds, tmp_path_factory, data):
    name, how, blob = data.draw(mutants(seeds))
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(blob)
    check_one(str(path), seed=seeds[name])


@settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(blob=st.binary(max_size=512), magic=st.sampled_from([
    b"", b"!<arch>\n", b"<bigaf>\n", b"\x7fELF\x02\x01\x01", b"\x7fELF\x01\x02\x01", b"\xcf\xfa\xed\xfe",
    b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf", b"MZ", b"\0asm\x01\0\0\0", b"\x01\xf7",
    b"\0\0\x8a\x97", b'\xff Go build ID: "']))
def test_small_files_with_every_magic(tmp_path_factory, blob, magic):
    path = tmp_path_factory.mktemp("small") / "f"
    path.write_bytes(magic + blob)
    check_one(str(path))


# --- structure-blind mutants (tests/mutations.py) ----------------------------
# Universal headers whose slices point anywhere, special 32-bit values across
# the first KiBs, chunks copied over headers, truncation at structure
# boundaries; a quarter also lose the marker so Mach-O headers must be parsed.

BLIND = int(os.environ.get("BUILDIDTOOL_FUZZ_BLIND", "120"))
DIFFERENTIAL = int(os.environ.get("BUILDIDTOOL_FUZZ_DIFFERENTIAL", "600"))


def _blind(seeds_: dict[str, bytes], count: int, salt: int):
    import random
    from mutations import mutate
    names, others = sorted(seeds_), list(seeds_.values())
    for i in range(count):
        rng = random.Random(salt * 1_000_003 + i)
        name = rng.choice(names)
        kind, blob = mutate(rng, seeds_[name], others)
        yield i, name, kind, blob


def test_structure_blind_mutants(seeds, tmp_path):
    """No traceback, hang, blow-up or write on any of them, in any command."""
    for i, name, kind, blob in _blind(seeds, BLIND, salt=1):
        path = tmp_path / f"{i}-{name}"
        path.write_bytes(blob)
        try:
            check_one(str(path), seed=seeds[name])
        except AssertionError as e:
            raise AssertionError(f"mutant {i} ({kind} of {name}): {e}") from None
        path.unlink()


def test_differential_against_the_reference(seeds, samples, tmp_path):
    """On every mutant where the reference neither hangs nor panics, the
    Go-compatible form prints the same stdout with the same exit status; on a
    third of them `-w` also leaves the same bytes."""
    from mutations import ours_says, reference_says, rewrite_agrees
    disagreements, compared = [], 0
    for i, name, kind, blob in _blind(seeds, DIFFERENTIAL, salt=2):
        path = tmp_path / f"{i}-{name}"
        path.write_bytes(blob)
        ref = reference_says(str(samples.reference), str(path))
        if ref is not None:
            compared += 1
            code, out, err = ours_says(str(path))
            if (code, out) != ref:
                disagreements.append(f"mutant {i} ({kind} of {name}): reference {ref}, ours {(code, out)} {err!r}")
                continue
            problem = rewrite_agrees(str(samples.reference), str(path)) if i % 3 == 0 else None
            if problem:  # -w leaves the same bytes with the same status (universal files aside: docs/commands.md)
                disagreements.append(f"mutant {i} ({kind} of {name}): {problem}")
                continue
            path.unlink()
    assert compared > DIFFERENTIAL * 0.9
    assert not disagreements, "\n".join(disagreements[:10])


# --- pclntab mutants (tests/mutations.py) ------------------------------------
# Counts set to 2^31 or 2^64-1, offsets past the table or out of order, function
# table entries and records pointing anywhere, pc tables of endless varints,
# names without an end, the file cut inside the table.
PCLNTAB = int(os.environ.get("BUILDIDTOOL_FUZZ_PCLNTAB", "150"))


def test_pclntab_mutants(seeds, tmp_path):
    """symbols (API and command) on each: a result or one clean line, quickly, in bounded memory."""
    import random
    from mutations import pclntab_mutate
    names = sorted(n for n, d in seeds.items() if b"\xff\xff\xff\x00\x00" in d[:4 << 20])
    runner = CliRunner()
    kinds = set()
    for i in range(PCLNTAB):
        rng = random.Random(3_000_017 + i)
        name = rng.choice(names)
        kind, blob = pclntab_mutate(rng, seeds[name])
        kinds.add(kind)
        path = tmp_path / f"{i}-{name}"
        path.write_bytes(blob)
        where = f"mutant {i} ({kind} of {name})"
        t0 = time.thread_time()
        try:
            symbols_decoded(str(path))
        except buildidtool.BuildIDError as e:
            assert str(e).startswith(str(path)) and "\n" not in str(e), where
        assert time.thread_time() - t0 < SLOW, f"{where}: {time.thread_time() - t0:.1f} s"
        if i % 4 == 0:  # memory, on a quarter (tracemalloc slows a run several times over)
            tracemalloc.start()
            try:
                symbols_decoded(str(path))
            except buildidtool.BuildIDError:
                pass
            finally:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            assert peak < MEMORY, f"{where}: peak allocation {peak} bytes"
        r = runner.invoke(cli, ["symbols", "--json", str(path)])
        assert r.exit_code in (0, 2) and (r.exception is None or isinstance(r.exception, SystemExit)), \
            (where, repr(r.exception))
        assert r.stderr.count("\n") <= 1, (where, r.stderr)
        path.unlink()
    assert len(kinds) >= 6, kinds
