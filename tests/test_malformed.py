"""Broken and hostile input: every fault must give a one-line error naming the
file and a documented exit code, never a traceback, a hang, a large allocation
or a modified file.

Each fault in FAULTS is checked four ways (one test each, so a failure points
at the layer that is wrong): the Python API, `buildid read`, the Go-compatible
`buildid FILE`, and that `buildid -w` / `buildid rewrite` leave the bytes alone.
Special paths (directory, FIFO, missing, symlink loop, unreadable) and usage
errors follow; the last section holds crafted files on which the Go-compatible
form once disagreed with `go tool buildid` (regressions).
"""
from __future__ import annotations

import dataclasses
import os
import random
import stat
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Callable

import pytest

import buildidtool
from test_synthetic_formats import (  # builders shared with the positive tests
    BUILDID, CPU_AMD64, CPU_ARM64, GO_ID, TIMEOUT, WASM_HEADER, ar_archive, ar_member,
    big_archive, big_member, elf_ident, elf_note, elf_relocatable, elf_structs,
    elf_with_notes, gnu_note, go_note, macho_fat, macho_thin, marker, pe_file, wasm_section,
    xcoff_object)

# A read of a malformed file may hold the first 32 KiB and a capped note
# segment (1 MiB); anything near a length field's claim (GiB) is a bug.
MAX_ALLOCATION = 8 << 20


def run(*args) -> subprocess.CompletedProcess:
    """Our command line with a hard timeout: a hang fails the test."""
    return subprocess.run([*BUILDID, *map(str, args)], capture_output=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(proc: subprocess.CompletedProcess, path: Path) -> None:
    err = proc.stderr
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert err.endswith(b"\n") and err.count(b"\n") == 1, err
    if err == b"buildid: EOF\n" and os.path.getsize(path) < 8:
        return  # the Go-compatible form in Go's words, which name no file here
    if err == b"buildid: buildid.FindAndHash: no id specified\n":
        return  # -w of a file without an ID, in Go's words
    assert err.startswith(b"buildid: ") and os.fsencode(path) in err, err


# ============================================================================
# The faults

@dataclasses.dataclass
class Fault:
    """A broken file and what each layer must make of it.

    format: None when reading must fail (MalformedFile); otherwise the file is
    simply not a Go file (or a file without a Go build ID) and read() returns
    that format with build_id None.
    go_exit: the exit status of `buildid FILE`, which is the Go tool's: 1 where
    it fails, 0 (and an empty line) where it finds no ID without complaint.
    go_differs: why the reference tool is not asked (it hangs or panics there).
    """
    id: str
    make: Callable[[], bytes]
    format: str | None = None
    go_exit: int = 1
    go_differs: str | None = None

    def write(self, tmp_path: Path) -> Path:
        path = tmp_path / f"{self.id}.bin"
        path.write_bytes(self.make())
        return path


def elf_note_file(**kw) -> Callable[[], bytes]:
    return lambda: elf_with_notes(go_note(GO_ID), **kw)


def macho_file(**kw) -> Callable[[], bytes]:
    # No marker in the first 32 KiB, so the Go tool must parse the load commands too.
    return lambda: macho_thin(b"\xcc" * 32, **kw)


def fat_file(arches: list[dict] | None = None, nfat_arch: int | None = None) -> Callable[[], bytes]:
    thin = [(CPU_AMD64, macho_thin(marker(GO_ID), cputype=CPU_AMD64)),
            (CPU_ARM64, macho_thin(marker(GO_ID), cputype=CPU_ARM64))]
    return lambda: macho_fat(thin, arches=arches, nfat_arch=nfat_arch)


BIG_FIRST = 128  # offset of the first member, right after the fixed header
HANGS = "the Go tool loops for ever"


def big_members(count: int) -> list[tuple[bytes, bytes]]:
    return [(f"m{i}.o".encode(), b"data" * (i + 1)) for i in range(count)]


def big_file(members: int = 2, **kw) -> Callable[[], bytes]:
    return lambda: big_archive(big_members(members), **kw)


def big_offset(i: int) -> int:
    """File offset of member i of big_file()."""
    return BIG_FIRST + sum(len(big_member(n, d, 0, 0)) for n, d in big_members(i))


def random_bytes() -> bytes:
    data = random.Random(20240601).randbytes(100)
    assert b"Go build ID" not in data and data[:2] not in (b"MZ", b"\x7fE", b"!<", b"<b", b"\0a")
    return data


FAULTS = [
    # too short to be anything
    Fault("empty", lambda: b"", format="unknown"),
    Fault("one-byte", lambda: b"\x7f", format="unknown"),
    Fault("seven-bytes-of-elf", lambda: b"\x7fELF\x02\x01\x01"),
    Fault("random-100-bytes", random_bytes, format="unknown", go_exit=0),
    # ELF (tables past EOF are put past 32 KiB too: within it the Go tool reads
    # zeros instead, see test_elf_tables_past_eof_within_32k)
    Fault("elf-header-truncated", lambda: elf_note_file()()[:20]),
    Fault("elf-phoff-past-eof", elf_note_file(ehdr=dict(e_phoff=0x100000))),
    Fault("elf-phnum-0xffff", elf_note_file(ehdr=dict(e_phnum=0xFFFF))),
    Fault("elf-phentsize-too-small", elf_note_file(ehdr=dict(e_phentsize=8))),
    Fault("elf-note-offset-past-eof", elf_note_file(phdr=dict(p_offset=0x100000))),
    Fault("elf-note-filesz-0xffffffff", elf_note_file(phdr=dict(p_filesz=0xFFFFFFFF))),
    Fault("elf-class-3", elf_note_file(ehdr=dict(e_ident=elf_ident(True, True, ei_class=3)))),
    Fault("elf-data-encoding-3", elf_note_file(ehdr=dict(e_ident=b"\x7fELF\x02\x03\x01" + bytes(9)))),
    # sizes that would wrap or allocate 4 GiB: the note is skipped
    Fault("elf-note-namesz-descsz-0xffffffff",
          lambda: elf_with_notes(elf_note(b"Go\0\0", 4, GO_ID, namesz=0xFFFFFFFF, descsz=0xFFFFFFFF)),
          format="elf", go_exit=0),
    Fault("elf-note-descsz-0xffffffff",
          lambda: elf_with_notes(elf_note(b"Go\0\0", 4, GO_ID, descsz=0xFFFFFFFF)),
          format="elf", go_exit=0, go_differs="the Go tool panics (slice bounds out of range)"),
    # thin Mach-O
    Fault("macho-cmdsize-0", macho_file(segment=dict(cmdsize=0))),
    Fault("macho-cmdsize-4", macho_file(segment=dict(cmdsize=4))),
    Fault("macho-cmdsize-past-sizeofcmds", macho_file(segment=dict(cmdsize=72 + 80 + 8))),
    Fault("macho-ncmds-0xffffffff", macho_file(header=dict(ncmds=0xFFFFFFFF))),
    Fault("macho-sizeofcmds-past-eof", macho_file(header=dict(sizeofcmds=0x100000))),
    Fault("macho-nsects-too-large", macho_file(segment=dict(nsects=5))),
    Fault("macho-nsects-0xffffffff", macho_file(segment=dict(nsects=0xFFFFFFFF))),
    Fault("macho-header-truncated", lambda: macho_file()()[:20]),
    # universal Mach-O: the Go tool only scans its first 32 KiB, finding nothing
    Fault("fat-nfat-arch-0xffffffff", fat_file(nfat_arch=0xFFFFFFFF), format="unknown", go_exit=0),
    Fault("fat-slice-past-eof", fat_file(arches=[{}, dict(offset=0x100000)]), go_exit=0),
    Fault("fat-slices-overlap", fat_file(arches=[{}, dict(offset=0x2000)]), go_exit=0),
    Fault("fat-slice-overlaps-header", fat_file(arches=[dict(offset=0), {}]), go_exit=0),
    # ar archives
    Fault("ar-size-negative", lambda: ar_archive(ar_member("a.o/", b"x" * 10, size="-60")),
          go_differs=HANGS),
    Fault("ar-size-not-numeric", lambda: ar_archive(ar_member("a.o/", b"x" * 10, size="abc"))),
    Fault("ar-header-truncated", lambda: ar_archive(ar_member("a.o/", b"x" * 10))[:40]),
    Fault("ar-buildid-member-not-elf", lambda: ar_archive(ar_member("_buildid.o/", b"not ELF" * 9))),
    Fault("ar-buildid-member-no-section",
          lambda: ar_archive(ar_member("_buildid.o/", elf_relocatable({b".text": b"\x90"})))),
    # AIX big archives
    Fault("bigaf-first-member-links-to-itself", big_file(links={0: BIG_FIRST}), go_differs=HANGS),
    Fault("bigaf-member-links-to-itself", big_file(3, links={1: big_offset(1)}), go_differs=HANGS),
    Fault("bigaf-last-member-links-to-first", big_file(3, links={2: BIG_FIRST}), go_differs=HANGS),
    Fault("bigaf-member-links-backward", big_file(3, links={2: big_offset(1)}), go_differs=HANGS),
    Fault("bigaf-first-member-not-numeric", big_file(fstmoff="12x")),
    Fault("bigaf-first-member-past-eof", big_file(fstmoff=1 << 40)),
    Fault("bigaf-header-truncated", lambda: big_file()()[:100]),
    Fault("bigaf-xcoff-without-csect",
          lambda: big_archive([(b"_buildid.o", xcoff_object(b".go.other", b"a/b"))])),
    # the raw marker
    Fault("marker-unterminated", lambda: b"not an object\n" + b'\xff Go build ID: "abc'),
    Fault("marker-badly-quoted", lambda: b"not an object\n" + b'\xff Go build ID: "a\\qb"\n \xff'),
    # wasm and PE: the Go tool scans their first 32 KiB and finds nothing
    Fault("wasm-section-past-eof",
          lambda: WASM_HEADER + wasm_section(0, b"\x0ago:buildid", size=0x100000), go_exit=0),
    Fault("wasm-bad-leb128", lambda: WASM_HEADER + b"\x00" + b"\xff" * 20, go_exit=0),
    Fault("pe-section-table-past-eof", lambda: pe_with_sections(0xFFFF), go_exit=0),
]


def pe_with_sections(count: int) -> bytes:
    data = bytearray(pe_file(b"\xcc" * 64, 0x400))
    data[0x86:0x88] = count.to_bytes(2, "little")  # NumberOfSections
    return bytes(data)


FAULT = {f.id: f for f in FAULTS}


def fault_params():
    return [pytest.param(f, id=f.id) for f in FAULTS]


@pytest.mark.parametrize("fault", fault_params())
def test_api(tmp_path, fault):
    path = fault.write(tmp_path)
    tracemalloc.start()
    try:
        if fault.format is None:
            with pytest.raises(buildidtool.MalformedFile) as caught:
                buildidtool.read(str(path))
            assert str(caught.value).startswith(f"{path}: ")
            assert "\n" not in str(caught.value)
        else:
            info = buildidtool.read(str(path))
            assert (info.format, info.build_id) == (fault.format, None)
        verdict = buildidtool.verify(str(path))  # never raises
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verdict.status == ("error" if fault.format is None else "no-build-id")
    assert peak < MAX_ALLOCATION
    with pytest.raises(buildidtool.BuildIDError):
        buildidtool.rewrite(str(path), dry_run=True)
    with pytest.raises(buildidtool.BuildIDError):
        buildidtool.hash_file(str(path))


@pytest.mark.parametrize("fault", fault_params())
def test_cli_read(tmp_path, fault):
    path = fault.write(tmp_path)
    proc = run("read", path)
    if fault.format is None:
        assert (proc.returncode, proc.stdout) == (2, b"")
        assert_one_line_error(proc, path)
    else:
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"(no Go build ID)\n", b"")


@pytest.mark.parametrize("fault", fault_params())
def test_go_compatible(tmp_path, fault, reference):
    path = fault.write(tmp_path)
    proc = run(path)
    assert proc.returncode == fault.go_exit, proc.stderr
    if fault.go_exit == 0:
        assert (proc.stdout, proc.stderr) == (b"\n", b"")
    else:
        assert proc.stdout == b""
        assert_one_line_error(proc, path)
    if reference is not None and fault.go_differs is None:
        ref = subprocess.run([str(reference), str(path)], capture_output=True, timeout=TIMEOUT)
        assert (ref.returncode, ref.stdout) == (fault.go_exit, proc.stdout), ref.stderr


@pytest.mark.parametrize("fault", fault_params())
def test_rewrite_leaves_file_unchanged(tmp_path, fault):
    path = fault.write(tmp_path)
    before = path.read_bytes()
    for args, status in ((["-w"], 1), (["rewrite"], 2), (["rewrite", "--atomic"], 2)):
        proc = run(*args, path)
        assert proc.returncode == status, (args, proc.stderr)
        assert_one_line_error(proc, path)
        assert path.read_bytes() == before, args
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left


@pytest.mark.parametrize("fault", [pytest.param(f, id=f.id) for f in FAULTS
                                   if f.format is None and f.go_exit == 1][::5])
@pytest.mark.parametrize("command", ["verify", "hash"])
def test_other_subcommands_fail_cleanly(tmp_path, fault, command):
    path = fault.write(tmp_path)
    proc = run(command, path)
    assert proc.returncode == 2
    assert_one_line_error(proc, path)


def test_read_of_several_files_reports_each(tmp_path):
    good = tmp_path / "good"
    good.write_bytes(elf_with_notes(go_note(GO_ID)))
    bad = FAULT["elf-class-3"].write(tmp_path)
    proc = run("read", good, bad, good)
    assert proc.returncode == 2
    assert proc.stdout.decode().splitlines() == [f"{good}: {GO_ID.decode()}"] * 2
    assert_one_line_error(proc, bad)


# ============================================================================
# Notes whose stepping is odd but finite: the Go note is still found

@pytest.mark.parametrize("align", [0, 3], ids=["p_align-0", "p_align-3"])
def test_odd_note_alignment_terminates(tmp_path, reference, align):
    segment = (gnu_note(b"\x01" * 20) + elf_note(b"ABC\0", 1, b"z")
               + elf_note(b"ABC\0", 1, b"zzzzz") + go_note(GO_ID))
    data = elf_with_notes(segment, phdr=dict(p_align=align))
    path = tmp_path / "prog"
    path.write_bytes(data)
    info = buildidtool.read(str(path))
    assert (info.raw_build_id, list(info.locations)) == (GO_ID, [data.index(GO_ID)])
    proc = run(path)
    assert (proc.returncode, proc.stdout) == (0, GO_ID + b"\n")
    proc = run("-w", path)
    assert (proc.returncode, proc.stderr) == (0, b"")
    if reference is not None:
        theirs = tmp_path / "theirs"
        theirs.write_bytes(data)
        subprocess.run([str(reference), "-w", str(theirs)], check=True, timeout=TIMEOUT)
        assert path.read_bytes() == theirs.read_bytes()


# ============================================================================
# Paths that are not regular files

def make_directory(tmp_path: Path) -> Path:
    (tmp_path / "dir").mkdir()
    return tmp_path / "dir"


def make_fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")  # nobody writes: opening it for reading would block
    return tmp_path / "fifo"


def make_missing(tmp_path: Path) -> Path:
    return tmp_path / "missing"


def make_symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a"


def make_unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "secret"
    path.write_bytes(elf_with_notes(go_note(GO_ID)))
    path.chmod(0)
    return path


SPECIAL = [
    pytest.param(make_directory, buildidtool.NotRegularFile, id="directory"),
    pytest.param(make_fifo, buildidtool.NotRegularFile, id="fifo"),
    pytest.param(make_missing, buildidtool.UnreadableFile, id="missing"),
    pytest.param(make_symlink_loop, buildidtool.UnreadableFile, id="symlink-loop"),
    pytest.param(make_unreadable, buildidtool.UnreadableFile, id="unreadable"),
]


@pytest.mark.parametrize("make,error", SPECIAL)
def test_special_path(tmp_path, make, error):
    from helpers import run_unprivileged, unprivileged
    path = make(tmp_path)
    # In a child where file modes bind even for root (the unreadable case).
    code = ("import sys, buildidtool\n"
            "for call in (buildidtool.read, buildidtool.hash_file, buildidtool.rewrite):\n"
            "    try:\n        call(sys.argv[1])\n        print('no error')\n"
            "    except buildidtool.BuildIDError as e:\n        print(type(e).__name__, str(e))\n"
            "print(buildidtool.verify(sys.argv[1]).status)\n")
    child = subprocess.run([*unprivileged(), sys.executable, "-c", code, str(path)], capture_output=True,
                           text=True, timeout=TIMEOUT)
    *raised, verified = child.stdout.splitlines()
    assert len(raised) == 3 and verified == "error", child.stdout + child.stderr
    for line in raised:
        name, _, message = line.partition(" ")
        assert issubclass(getattr(buildidtool, name), error), line
        assert message.startswith(f"{path}: ")
    for args, status in ((["read"], 2), ([], 1), (["-w"], 1), (["rewrite"], 2), (["hash"], 2)):
        proc = run_unprivileged(*args, path)
        assert (proc.returncode, proc.stdout) == (status, b""), args
        assert_one_line_error(proc, path)


def test_fifo_is_left_a_fifo(tmp_path):
    path = make_fifo(tmp_path)
    for args in (["-w"], ["rewrite"], ["rewrite", "--atomic"]):
        run(*args, path)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


# ============================================================================
# Usage errors

@pytest.mark.parametrize("args", [[], ["a", "b"], ["-w"], ["-w", "a", "b"], ["-x", "a"],
                                  ["--x", "a"], ["-w=maybe", "a"]],
                         ids=["no-args", "two-files", "w-no-file", "w-two-files", "unknown-flag",
                              "unknown-long-flag", "bad-bool"])
def test_go_compatible_usage_error(tmp_path, args):
    proc = subprocess.run([*BUILDID, *args], capture_output=True, timeout=TIMEOUT, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr.startswith((b"usage:", b"flag provided but not defined", b"invalid boolean"))
    assert b"Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["read"], ["rewrite"], ["verify"], ["hash"], ["read", "--bogus", "x"]])
def test_subcommand_usage_error(args):
    proc = run(*args)
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr and b"Usage:" in proc.stderr


# ============================================================================
# Where the Go-compatible form once disagreed with `go tool buildid`

def go_compatible_agrees(path: Path, reference, exit_status: int, stdout: bytes) -> None:
    """`buildid FILE` behaves as the Go tool does on this file (checked against
    the reference when it is available, so the expectation itself is right)."""
    if reference is not None:
        ref = subprocess.run([str(reference), str(path)], capture_output=True, timeout=TIMEOUT)
        assert (ref.returncode, ref.stdout) == (exit_status, stdout), "expectation is wrong"
    proc = run(path)
    assert b"Traceback" not in proc.stderr
    assert (proc.returncode, proc.stdout) == (exit_status, stdout)


def test_macho_marker_in_first_32k_with_broken_load_commands(tmp_path, reference):
    path = tmp_path / "prog"
    path.write_bytes(macho_thin(marker(GO_ID), text_offset=0x1000, segment=dict(cmdsize=0)))
    go_compatible_agrees(path, reference, 0, GO_ID + b"\n")


@pytest.mark.parametrize("kw", [dict(ehdr=dict(e_phoff=0x1000)), dict(phdr=dict(p_offset=0x1000)),
                                dict(ehdr=dict(e_phnum=2))],
                         ids=["phdrs-past-eof", "note-past-eof", "second-phdr-past-eof"])
def test_elf_tables_past_eof_within_32k(tmp_path, reference, kw):
    path = tmp_path / "prog"
    path.write_bytes(elf_with_notes(b"\0" * 16, **kw))
    assert path.stat().st_size < 0x1000
    go_compatible_agrees(path, reference, 0, b"\n")


def test_gccgo_buildid_object_with_untyped_name_table(tmp_path, reference):
    obj = bytearray(elf_relocatable({b".go.buildid": b"abc/def"}))
    _, _, sh, _ = elf_structs(True, True)
    shoff = int.from_bytes(obj[0x28:0x30], "little")
    at = shoff + sh.sizeof() + 4  # section 1 (.shstrtab): sh_type
    obj[at:at + 4] = (1).to_bytes(4, "little")  # SHT_PROGBITS
    path = tmp_path / "libp.a"
    path.write_bytes(ar_archive(ar_member("_buildid.o/", bytes(obj))))
    go_compatible_agrees(path, reference, 1, b"")


def test_gccgo_buildid_member_size_past_eof(tmp_path, reference):
    obj = elf_relocatable({b".go.buildid": b"abc/def"})
    path = tmp_path / "libp.a"
    path.write_bytes(ar_archive(ar_member("_buildid.o/", obj, size=len(obj) + 1000)))
    go_compatible_agrees(path, reference, 0, b"abc/def\n")


def _fat_pointing_at(data: bytes, target: int) -> bytes:
    """data behind a universal header whose one slice starts at `target`."""
    import struct
    b = bytearray(data)
    b[:28] = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x0100000C, 0, target, len(b) - target, 14)
    return bytes(b)


@pytest.mark.parametrize("where", ["marker", "elf-header", "middle-of-text"])
def test_universal_slice_pointing_at_non_macho_bytes(samples, tmp_path, reference, where):
    """Once a KeyError from the Mach-O magic lookup in read, info, verify and hash."""
    data = bytearray(samples.path("hello-darwin-arm64").read_bytes())
    i = data.find(b'\xff Go build ID: "')
    if where == "elf-header":
        data[0x8000:0x9000] = samples.path("hello-linux-amd64").read_bytes()[:0x1000]
    target = {"marker": i, "elf-header": 0x8000, "middle-of-text": 0x12345}[where]
    path = tmp_path / "fat"
    path.write_bytes(_fat_pointing_at(bytes(data), target))
    for command in ("read", "info", "verify", "hash"):
        r = run(command, path)
        assert b"Traceback" not in r.stderr and r.returncode in ((0, 1, 2, 3) if command == "verify" else (0, 1, 2)), \
            (command, r.stderr)
        assert r.stderr.count(b"\n") <= 1
    got = run("read", path)
    if where == "marker":  # the slice starts with the marker: its first 32 KiB hold the ID
        assert got.returncode == 0 and data[i + 16:i + 16 + 83] in got.stdout
    else:
        assert got.returncode == 2 and b"not a Mach-O file" in got.stderr
    if reference is not None:  # the Go tool scans the first 32 KiB of the whole file
        assert run(path).stdout == subprocess.run([str(reference), str(path)], capture_output=True).stdout


# ============================================================================
# pclntab faults: `buildid symbols` on a real table damaged one way at a time.
# A broken table is one line naming the file and exit 2, a missing one says so
# (exit 2), damage that does not stop the reading (a stored text start that
# is wrong, pc tables that never end) gives the functions with what can be
# read; never a traceback, a hang, an allocation the size of a count, and the
# build ID is still read.

def _pclntab(data: bytes) -> tuple[int, int]:
    """(offset of the header, pointer size): a Go 1.20-layout table, little-endian."""
    at = data.find(b"\xf1\xff\xff\xff\x00\x00")
    assert at > 0
    return at, data[at + 7]


def _put(data: bytearray, at: int, fmt: str, value: int) -> None:
    data[at:at + struct.calcsize(fmt)] = struct.pack(fmt, value)


def _word(data: bytes, at: int, k: int) -> int:
    return struct.unpack_from("<Q", data, at + 8 + 8 * k)[0]


def _nfunc(v):
    return lambda d, at: _put(d, at + 8, "<Q", v)


def _offset(k, v):
    return lambda d, at: _put(d, at + 8 + 8 * k, "<Q", v)


def _unsorted(d, at):
    ft = at + _word(d, at, 7)
    a, b = struct.unpack_from("<II", d, ft + 8 * 10), struct.unpack_from("<II", d, ft + 8 * 11)
    d[ft + 8 * 10:ft + 8 * 11] = struct.pack("<II", *b)
    d[ft + 8 * 11:ft + 8 * 12] = struct.pack("<II", *a)


def _record_field(field, v):
    def damage(d, at):
        ft = at + _word(d, at, 7)
        rec = struct.unpack_from("<I", d, ft + 8 * 5 + 4)[0]
        _put(d, ft + rec + field, "<I", v)
    return damage


def _endless_pctab(d, at):
    start, end = at + _word(d, at, 6), at + _word(d, at, 7)
    d[start:end] = b"\xff" * (end - start)


def _nameless(d, at):
    start, end = at + _word(d, at, 3), at + _word(d, at, 4)
    d[start:end] = b"A" * (end - start)


def _cut(d, at):
    del d[at + _word(d, at, 6) + 100:]


def _no_magic(d, at):
    d[at:at + 4] = b"\0\0\0\0"


def _no_pclntab(d, at):
    _no_magic(d, at)
    _renamed(d, at)


def _renamed(d, at):
    i = d.find(b".gopclntab\0")
    d[i:i + 10] = b".renamed!!"


def _bogus_text(d, at):
    _put(d, at + 8 + 16, "<Q", 0x7777000)


@dataclasses.dataclass
class PclnFault:
    id: str
    damage: Callable
    error: str | None  # the one-line error, None when the table still reads
    check: Callable | None = None  # on the table that still reads
    sample: str = "hello-linux-amd64"


def _all_lines_unknown(t):
    assert t.header.nfunc > 1000 and set(t.columns[4]) == {-1}  # every pc-line table unreadable
    assert set(t.columns[3]) == {""}


PCLN_FAULTS = [
    PclnFault("nfunc-2^31", _nfunc(1 << 31), "claims 2147483648 functions"),
    PclnFault("nfunc-2^64-1", _nfunc((1 << 64) - 1), "claims 18446744073709551615 functions"),
    PclnFault("nfunc-0", _nfunc(0), "claims 0 functions"),
    PclnFault("funcname-offset-past-end", _offset(3, 1 << 40), "out of order or past the table"),
    PclnFault("offsets-out-of-order", _offset(5, 8), "out of order or past the table"),
    PclnFault("function-table-unsorted", _unsorted, "not sorted by entry"),
    PclnFault("record-name-offset-2^32-1", _record_field(4, 0xFFFFFFFF), "is not within the table"),
    PclnFault("record-cu-offset-2^32-1", _record_field(32, 0xFFFFFFFF), None,
              lambda t: t.functions[5].file == "" and t.functions[6].file != ""),
    PclnFault("pc-tables-endless-varints", _endless_pctab, None, _all_lines_unknown),
    PclnFault("names-without-end", _nameless, "is not within the table"),
    PclnFault("file-cut-inside-the-table", _cut, "lies past the end of the file"),
    PclnFault("section-renamed", _renamed, None, lambda t: t.found_by == "header search"),
    PclnFault("stored-text-start-wrong", _bogus_text, None, lambda t: t.text_start_from != "header"),
    PclnFault("section-without-a-header", _no_magic, "section .gopclntab: no pclntab header there"),
    PclnFault("no-pclntab", _no_pclntab, "no Go pclntab (function table) found",
              sample="hello-linux-amd64-stripped"),  # no symbols to name it either
]


@pytest.mark.parametrize("fault", PCLN_FAULTS, ids=[f.id for f in PCLN_FAULTS])
def test_pclntab_fault(samples, tmp_path, fault):
    from buildidtool.ops.symbols import symbols
    original = samples.path(fault.sample)
    data = bytearray(original.read_bytes())
    at, _ = _pclntab(bytes(data))
    fault.damage(data, at)
    path = tmp_path / "prog"
    path.write_bytes(bytes(data))

    tracemalloc.start()
    try:
        try:
            result = symbols(str(path))
        except buildidtool.MalformedFile as e:
            assert fault.error is not None and fault.error in str(e), str(e)
            assert str(e).startswith(str(path)) and "\n" not in str(e)
            result = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_ALLOCATION, peak
    if result is not None:
        if fault.error is not None:  # no table at all: a status, and the error record says why
            assert result.status == "no-pclntab" and result.problem == fault.error
        else:
            fault.check(result.units[0].table)

    r = run("symbols", path)
    if fault.error is None:
        assert r.returncode == 0 and r.stderr == b"", r.stderr
    else:
        assert r.returncode == 2
        assert_one_line_error(r, path)
        assert fault.error.encode() in r.stderr
    assert buildidtool.read(str(path)).build_id == buildidtool.read(str(original)).build_id
