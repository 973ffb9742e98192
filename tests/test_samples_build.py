"""Sanity checks on the samples built by samples/build.py."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "samples" / "build.py"

FORMATS = {"elf", "macho", "macho-fat", "pe", "xcoff", "plan9", "wasm",
           "go-archive", "gccgo-archive"}
KINDS = {"exe", "archive", "shared", "object"}
ENTRY_KEYS = {"name", "path", "goos", "goarch", "kind", "format", "flags", "skipped"}

EXPECTED_NAMES = {
    *(f"hello-linux-{a}" for a in
      ("amd64", "386", "arm", "arm64", "mips", "ppc64le", "s390x", "riscv64")),
    "hello-darwin-amd64", "hello-darwin-arm64",
    "hello-windows-amd64", "hello-windows-386",
    "hello-freebsd-amd64", "hello-aix-ppc64", "hello-plan9-amd64",
    "hello-wasip1-wasm", "hello-js-wasm",
    *(f"hello-linux-amd64-{v}" for v in
      ("stripped", "trimpath", "custombuildid", "nobuildid", "pie", "extlink")),
    "cgo-linux-amd64", "cshared-linux-amd64", "lib",
    "hello-darwin-universal", "hello-darwin-universal64",
    "libgccgo", "hello-gccgo", "gccgo-buildid",
    "modapp-linux-amd64", "modapp-wasip1-wasm", "modapp-plan9-amd64",
}

# The reference tool prints an empty line for these: no ID was stamped, or (for the
# bare gccgo object) cmd/buildid only looks for .go.buildid inside an archive.
EMPTY_REFERENCE_ID = {"hello-linux-amd64-nobuildid", "gccgo-buildid"}

ELF_MACHINE = {"amd64": 62, "386": 3, "arm": 40, "arm64": 183, "mips": 8,
               "ppc64le": 21, "s390x": 22, "riscv64": 243}
ELF_TYPES = {"exe": {2, 3}, "shared": {3}, "object": {1}}
MACHO_CPU = {"amd64": 0x01000007, "arm64": 0x0100000C}
PE_MACHINE = {"amd64": 0x8664, "386": 0x14C}
PLAN9_MAGIC = {"amd64": 0x8A97, "386": 0x01EB}


def test_manifest_shape(samples):
    m = samples.manifest
    assert {"key", "go_version", "go", "reference", "samples"} <= m.keys()
    assert m["go_version"].startswith("go")
    assert samples.reference.is_file()
    names = [e["name"] for e in m["samples"]]
    assert len(names) == len(set(names))
    assert len({e["path"] for e in m["samples"]}) == len(names)
    for e in m["samples"]:
        assert ENTRY_KEYS <= e.keys(), e
        assert e["format"] in FORMATS, e
        assert e["kind"] in KINDS, e
        assert isinstance(e["flags"], list)
        assert e["skipped"] is None or (isinstance(e["skipped"], str) and e["skipped"])


def test_every_sample_is_listed(samples):
    if samples.manifest.get("only"):
        return
    listed = {e["name"] for e in samples.manifest["samples"]}
    assert EXPECTED_NAMES <= listed, sorted(EXPECTED_NAMES - listed)


def test_built_files_exist(samples):
    missing = [str(p) for p in samples.all_files() if not p.is_file() or p.stat().st_size == 0]
    assert not missing


def test_reference_reads_every_sample(samples):
    problems = []
    for e in samples.entries:
        proc = samples.run_reference(samples.dir / e["path"])
        out = proc.stdout
        if proc.returncode != 0:
            problems.append(f"{e['name']}: exit {proc.returncode}: {proc.stderr!r}")
        elif e["name"] in EMPTY_REFERENCE_ID:
            if out != b"\n":
                problems.append(f"{e['name']}: expected an empty line, got {out!r}")
        elif not out.endswith(b"\n") or not out.strip():
            problems.append(f"{e['name']}: unexpected output {out!r}")
    assert not problems, "\n".join(problems)


def test_custom_build_id(samples):
    proc = samples.run_reference(samples.path("hello-linux-amd64-custombuildid"))
    assert proc.stdout == b"custom-build-id-for-tests\n"


def check_elf(data: bytes, e: dict) -> None:
    assert data[:4] == b"\x7fELF"
    endian = {1: "<", 2: ">"}[data[5]]
    e_type, e_machine = struct.unpack_from(endian + "HH", data, 16)
    assert e_type in ELF_TYPES[e["kind"]]
    assert e_machine == ELF_MACHINE[e["goarch"]]


def check_macho(data: bytes, e: dict) -> None:
    assert data[:4] == b"\xcf\xfa\xed\xfe"
    assert struct.unpack_from("<I", data, 4)[0] == MACHO_CPU[e["goarch"]]


def check_macho_fat(data: bytes, e: dict) -> None:
    assert data[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")


def check_pe(data: bytes, e: dict) -> None:
    assert data[:2] == b"MZ"
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[pe:pe + 4] == b"PE\0\0"
    assert struct.unpack_from("<H", data, pe + 4)[0] == PE_MACHINE[e["goarch"]]


def check_xcoff(data: bytes, e: dict) -> None:
    assert data[:2] == b"\x01\xf7"


def check_plan9(data: bytes, e: dict) -> None:
    assert struct.unpack_from(">I", data, 0)[0] == PLAN9_MAGIC[e["goarch"]]


def check_wasm(data: bytes, e: dict) -> None:
    assert data[:8] == b"\0asm\x01\0\0\0"


def check_go_archive(data: bytes, e: dict) -> None:
    assert data[:8] == b"!<arch>\n"
    assert data[8:24].startswith(b"__.PKGDEF")


def check_gccgo_archive(data: bytes, e: dict) -> None:
    assert data[:8] == b"!<arch>\n"
    assert b"_buildid.o/" in data


MAGIC_CHECKS = {
    "elf": check_elf, "macho": check_macho, "macho-fat": check_macho_fat, "pe": check_pe,
    "xcoff": check_xcoff, "plan9": check_plan9, "wasm": check_wasm,
    "go-archive": check_go_archive, "gccgo-archive": check_gccgo_archive,
}


def test_formats_match_magic(samples):
    problems = []
    for e in samples.entries:
        data = (samples.dir / e["path"]).read_bytes()
        try:
            MAGIC_CHECKS[e["format"]](data, e)
        except (AssertionError, KeyError, struct.error) as exc:
            problems.append(f"{e['name']} ({e['format']}, {e['goarch']}): "
                            f"{type(exc).__name__} {exc} head={data[:16].hex()}")
    assert not problems, "\n".join(problems)


def test_fat_macho_layout(samples):
    thin = {MACHO_CPU[a]: samples.path(f"hello-darwin-{a}").read_bytes()
            for a in ("amd64", "arm64")}
    for name, magic, entry_fmt in [("hello-darwin-universal", 0xCAFEBABE, ">iIIII"),
                                   ("hello-darwin-universal64", 0xCAFEBABF, ">iIQQII")]:
        data = samples.path(name).read_bytes()
        got_magic, nfat = struct.unpack_from(">II", data, 0)
        assert (got_magic, nfat) == (magic, 2), name
        size = struct.calcsize(entry_fmt)
        offsets = []
        for i in range(nfat):
            cputype, _sub, offset, length, align, *_ = struct.unpack_from(
                entry_fmt, data, 8 + i * size)
            assert align == 14
            assert offset % (1 << 14) == 0
            assert data[offset:offset + length] == thin[cputype], (name, i)
            offsets.append(offset)
        assert offsets[0] == 1 << 14


def test_modapp_build_info(samples):
    env = dict(os.environ, GOTOOLCHAIN="local", GOTELEMETRY="off")
    proc = subprocess.run([samples.go, "version", "-m", samples.path("modapp-linux-amd64")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\tdep\texample.com/greet\tv1.2.0\th1:" in out
    assert "\t=>\t./local" in out
    assert "vcs.revision=" in out
    assert "vcs.time=2024-01-02T03:04:05Z" in out
    assert "vcs.modified=false" in out


def test_rerun_uses_cache(samples):
    manifest = samples.dir / "manifest.json"
    before = manifest.stat().st_mtime_ns
    proc = subprocess.run([sys.executable, str(BUILD_SCRIPT), str(samples.dir)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stderr
    assert manifest.stat().st_mtime_ns == before
    assert json.loads(manifest.read_text())["key"] == samples.manifest["key"]


def test_builds_run_in_parallel_with_progress(tmp_path, monkeypatch, capsys):
    """build_all keeps MAX_JOBS builds going at once and reports each as it ends
    (the go command itself is faked: this checks the driver, in a second)."""
    import threading
    import time

    from conftest import build_script

    mod = build_script()
    lock = threading.Lock()
    running, peak = [0], [0]

    def fake_build(go, sample, outdir, env, cwd):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        (outdir / sample.path).write_bytes(b"\x7fELF")
        with lock:
            running[0] -= 1

    monkeypatch.setattr(mod, "go_build", fake_build)
    monkeypatch.setattr(mod, "run", lambda *a, **kw: "")
    monkeypatch.setattr(mod, "MAX_JOBS", 2)
    chosen = mod.select(mod.sample_list(), ["hello-linux-amd64", "hello-linux-arm64", "lib"])
    mod.build_all("go", tmp_path, chosen)
    assert peak[0] == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("building the reference tool and 3 samples (4 builds) in ") and "2 at a time" in err[0]
    assert sorted(l.split("]")[0] for l in err if l.startswith("[")) == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert err[-1].startswith("built the reference tool and 3 of 3 samples (0 skipped)")


def test_sample_build_progress_is_shown_as_it_comes(request):
    """The samples fixture passes build.py's progress lines on while the build
    runs (through pytest's capture: see conftest._terminal), not at the end."""
    import time

    from conftest import _build_samples

    shown = []
    script = ("import sys, time\n"
              "print('[1/2] s1: ok (0.1s)', file=sys.stderr, flush=True)\n"
              "time.sleep(1)\n"
              "print('[2/2] s2: ok (0.1s)', file=sys.stderr, flush=True)\n"
              "print('done')\n")
    proc = _build_samples(request, [sys.executable, "-c", script], dict(os.environ),
                          show=lambda line: shown.append((time.monotonic(), line)))
    end = time.monotonic()
    assert proc.returncode == 0 and proc.stdout == "done\n"
    assert proc.stderr == "[1/2] s1: ok (0.1s)\n[2/2] s2: ok (0.1s)\n"
    assert [line for _, line in shown] == ["[1/2] s1: ok (0.1s)\n", "[2/2] s2: ok (0.1s)\n"]
    assert end - shown[0][0] > 0.8  # the first line was shown a second before the build ended


def test_build_log_counts_agree():
    """The first and last lines of the build log count the same things: the
    reference tool and the samples, as the [n/total] progress lines do."""
    from conftest import build_script
    build = build_script()
    start = build.start_message(34, Path("/out"), 2)
    end = build.end_message(34, 1, 12.0)
    assert start.startswith("building the reference tool and 34 samples (35 builds) in /out, 2 at a time")
    assert end == "built the reference tool and 33 of 34 samples (1 skipped) in 12.0s"
