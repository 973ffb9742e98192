"""Where Go's parsers reject a file, the Go-compatible form fails as the
reference does: exit 1, nothing on stdout, one `buildid: ...` line naming the
file (with Go's words for the problem). The subcommands stay lenient: they
read what is there (docs/forensics.md, the fault table).

Each case starts from a real sample. For Mach-O the marker is damaged first,
so the Go tool has to parse the load commands (with a marker in the first
32 KiB it never does)."""
from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

import shutil

from helpers import BUILDID, run

LC_SYMTAB, LC_DYSYMTAB = 0x2, 0xB
MARKER = b"\xff Go build ID: \""


def commands(data: bytes) -> dict[int, int]:
    """Load command type -> offset of its first occurrence (64-bit little-endian Mach-O)."""
    ncmds = struct.unpack_from("<I", data, 16)[0]
    out, pos = {}, 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        out.setdefault(cmd, pos)
        pos += size
    return out


def unmarked(data: bytes) -> bytearray:
    i = data.find(MARKER)
    assert 0 <= i < 32 * 1024
    b = bytearray(data)
    b[i + 2] = ord("g")
    return b


def symbol_name_outside_strings(data: bytes) -> bytes:
    b = unmarked(data)
    at = commands(b)[LC_SYMTAB]
    symoff, nsyms, stroff, strsize = struct.unpack_from("<IIII", b, at + 8)
    struct.pack_into("<I", b, symoff + 16 * (nsyms // 2), strsize + 5)
    return bytes(b)


def undefined_symbols_past_the_table(data: bytes) -> bytes:
    b = unmarked(data)
    nsyms = struct.unpack_from("<I", b, commands(b)[LC_SYMTAB] + 12)[0]
    at = commands(b)[LC_DYSYMTAB]
    iundef = struct.unpack_from("<I", b, at + 8 + 16)[0]
    struct.pack_into("<I", b, at + 8 + 20, nsyms - iundef + 1)
    return bytes(b)


def load_commands_cut_by_eof(data: bytes) -> bytes:
    sizeofcmds = struct.unpack_from("<I", data, 20)[0]
    return bytes(unmarked(data))[:32 + sizeofcmds // 2]


def elf_note_cut_off(data: bytes) -> bytes:
    """The PT_NOTE segment moved past the first 32 KiB, running off the end."""
    b = bytearray(data[:64 * 1024])
    phoff, phnum = struct.unpack_from("<Q", b, 0x20)[0], struct.unpack_from("<H", b, 0x38)[0]
    for i in range(phnum):
        at = phoff + 56 * i
        if struct.unpack_from("<I", b, at)[0] == 4:  # PT_NOTE
            struct.pack_into("<Q", b, at + 8, len(b) - 64)   # p_offset
            struct.pack_into("<Q", b, at + 32, 4096)         # p_filesz
            return bytes(b)
    raise AssertionError("no PT_NOTE")


CASES = [
    # (sample, mutation, Go's words, does `buildid read` still succeed?)
    ("hello-darwin-arm64", symbol_name_outside_strings, "invalid name in symbol table", True),
    ("hello-darwin-amd64", undefined_symbols_past_the_table,
     "number of undefined symbols after index in dynamic symbol table command is greater than symbol table length",
     True),
    ("hello-darwin-arm64", load_commands_cut_by_eof, "EOF", False),  # ours says more: "past the end"
    ("hello-linux-amd64", elf_note_cut_off, "unexpected EOF", False),
]


@pytest.mark.parametrize("sample, mutate, words, lenient", CASES, ids=[c[1].__name__ for c in CASES])
def test_go_compatible_form_fails_as_go_does(samples, tmp_path, sample, mutate, words, lenient):
    f = tmp_path / sample
    f.write_bytes(mutate(samples.path(sample).read_bytes()))
    ref = samples.run_reference(f)
    assert ref.returncode == 1 and ref.stdout == b"", ref  # the reference rejects it...
    assert words.encode() in ref.stderr
    ours = run(f)
    assert (ours.returncode, ours.stdout) == (ref.returncode, ref.stdout)  # ...and so do we
    assert ours.stderr.count(b"\n") == 1 and ours.stderr.startswith(b"buildid: ")
    assert os.fsencode(f) in ours.stderr
    assert words.encode() in ours.stderr or (words == "EOF" and b"past the end of the file" in ours.stderr)
    r = run("read", f)
    assert r.returncode == (0 if lenient else 2), r.stderr  # 2: a malformed file
    assert b"Traceback" not in r.stderr


# --- -w where Go's parsers decide what is hashed -----------------------------

def compressed_section_past_eof(data: bytes) -> bytes:
    """A compressed debug section whose offset lies past the end: debug/elf
    refuses the file, so Go's hash does not skip the GNU build ID."""
    b = bytearray(data)
    shoff, shnum = struct.unpack_from("<Q", b, 0x28)[0], struct.unpack_from("<H", b, 0x3C)[0]
    for i in range(shnum):
        at = shoff + 64 * i
        if struct.unpack_from("<Q", b, at + 8)[0] & 0x800:  # SHF_COMPRESSED
            struct.pack_into("<Q", b, at + 24, len(b) + (1 << 32))
            return bytes(b)
    raise AssertionError("no compressed section")


def wasm_section_size_past_eof(data: bytes) -> bytes:
    """The build ID section's size runs past the end; its marker is intact."""
    b = bytearray(data)
    assert b[8] == 0 and b[9:14] == b"\xf2\x80\x80\x80\x00"  # a 5-byte LEB128 size, as Go writes
    b[9:14] = b"\xff\xff\xff\xff\x0f"
    return bytes(b)


@pytest.mark.parametrize("sample, mutate", [("hello-linux-amd64", compressed_section_past_eof),
                                            ("hello-wasip1-wasm", wasm_section_size_past_eof)],
                         ids=["elf-compressed-section-past-eof", "wasm-section-size-past-eof"])
def test_rewrite_matches_go_where_its_parsers_decide(samples, tmp_path, sample, mutate):
    data = mutate(samples.path(sample).read_bytes())
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    theirs.write_bytes(data)
    ours.write_bytes(data)
    ref = samples.run_reference("-w", theirs)
    assert ref.returncode == 0, ref.stderr
    r = run("-w", ours)
    assert r.returncode == 0, r.stderr
    assert ours.read_bytes() == theirs.read_bytes() != data


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nowhere"


def _directory(tmp_path: Path) -> Path:
    return tmp_path


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "f").write_bytes(b"x" * 100)
    return tmp_path / "f" / "x"


def _short(tmp_path: Path) -> Path:
    (tmp_path / "short").write_bytes(b"GO")
    return tmp_path / "short"


def _not_go(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_bytes(b"not a Go file at all\n" * 10)
    return tmp_path / "notes.txt"


def _unreadable(tmp_path: Path) -> Path:
    (tmp_path / "secret").write_bytes(b"\x7fELF" + bytes(200))
    (tmp_path / "secret").chmod(0)
    return tmp_path / "secret"


@pytest.mark.parametrize("make", [_missing, _directory, _under_a_file, _short, _not_go, _unreadable],
                         ids=["missing", "directory", "not-a-directory", "shorter-than-8-bytes", "not-go",
                              "permission-denied"])
@pytest.mark.parametrize("write", [False, True], ids=["read", "-w"])
def test_common_errors_in_go_words(samples, tmp_path, make, write):
    """The errors met before any parsing read exactly as `go tool buildid`'s:
    stderr, stdout and exit status equal to the reference's."""
    path = make(tmp_path)
    drop = []
    if make is _unreadable:
        # Tests run as root, who reads any file: without the capabilities that
        # override file modes, root meets the mode as anyone would.
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("setpriv (util-linux) is needed to drop root's file-mode override")
            drop = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    args = ["-w", str(path)] if write else [str(path)]
    ours = subprocess.run([*drop, *BUILDID, *args], capture_output=True, timeout=60)
    ref = subprocess.run([*drop, str(samples.reference), *args], capture_output=True, timeout=60)
    assert (ours.returncode, ours.stdout, ours.stderr) == (ref.returncode, ref.stdout, ref.stderr)
