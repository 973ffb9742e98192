"""One parse per format, each reader with its own policy on broken input: the
wasm section walk (formats/wasm.py `sections`) serves read, build info and layout;
PeImage's COFF header serves read, build info and layout. These cases are the
ones where sharing the parse could have changed what a reader says. Each starts
from a real sample with bytes cut or patched."""
from __future__ import annotations

import os
import struct

import pytest

from buildidtool.formats import FormatError, Source, image, layout, locate
from buildidtool.formats import wasm as wasmmod

from helpers import run

WASM_SAMPLES = ["hello-wasip1-wasm", "hello-js-wasm"]
PE_SAMPLES = ["hello-windows-amd64", "hello-windows-386"]
MARKER = b"\xff Go build ID: \""


def parsed(tmp_path, data: bytes, fn, name: str = "f"):
    """fn(Source) on `data` written to a file, with a Source of its own."""
    p = tmp_path / name
    p.write_bytes(data)
    fd = os.open(p, os.O_RDONLY)
    try:
        return fn(Source.of_file(fd))
    finally:
        os.close(fd)


def outcome(tmp_path, data: bytes, fn):
    try:
        return parsed(tmp_path, data, fn)
    except FormatError as e:
        return e


def assert_go_compatible_read(samples, path, data: bytes, build_id: bytes) -> None:
    """`buildid FILE` prints what the reference prints: the ID."""
    path.write_bytes(data)
    ours, ref = run(path), samples.run_reference(path)
    assert ref.returncode == 0 and ours.returncode == 0, ours.stderr
    assert ours.stdout == ref.stdout == build_id + b"\n"


# --- wasm --------------------------------------------------------------------

def uleb(data: bytes, i: int) -> tuple[int, int]:
    """A LEB128 number, decoded here rather than by formats.leb128, so that the
    walk is checked against a reading of its own."""
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def wasm_sections(data: bytes) -> list[tuple[int, int, int, bytes | None]]:
    """(id, offset, end, custom name) of every section, read here independently."""
    out, pos = [], 8
    while pos < len(data):
        size, body = uleb(data, pos + 1)
        name = None
        if data[pos] == 0:
            n, k = uleb(data, body)
            name = data[k:k + n]
        out.append((data[pos], pos, body + size, name))
        pos = body + size
    return out


@pytest.fixture(params=WASM_SAMPLES)
def wasm_sample(request, samples):
    data = samples.path(request.param).read_bytes()
    return data, wasm_sections(data)


def regions(lay) -> list[tuple[str, int, int]]:
    return [(r.name, r.offset, r.size) for r in lay.regions]


def test_wasm_walk_is_the_module_as_declared(tmp_path, wasm_sample):
    data, secs = wasm_sample
    walked = parsed(tmp_path, data, lambda src: list(wasmmod.sections(src)))
    assert [(s.id, s.offset, s.body_offset + s.body_size, s.name) for s in walked] == secs
    assert all(s.offset + s.header_size == s.body_offset for s in walked)
    assert walked[0].name == b"go:buildid" and secs[-1][2] == len(data)


def test_wasm_broken_buildid_section_name(tmp_path, samples, wasm_sample):
    """The go:buildid section's name claims more bytes than its section has:
    read falls back to the marker as the Go tool finds it; layout lists the
    section unnamed and goes on; build info, which needs every name, refuses."""
    data, secs = wasm_sample
    (_, off, end, name), *rest = secs
    body = uleb(data, off + 1)[1]
    assert data[body] == len(name)
    b = bytearray(data)
    b[body] = 0x7F  # longer than the section (114 bytes)
    assert 0x7F > end - body
    broken = bytes(b)
    pristine = parsed(tmp_path, data, locate)
    found = parsed(tmp_path, broken, locate)
    assert (found.build_id, found.locations, found.arch) == (pristine.build_id, pristine.locations, pristine.arch)
    want = regions(parsed(tmp_path, data, lambda src: layout(src, "wasm")))
    want[1] = ("custom", *want[1][1:])
    lay = parsed(tmp_path, broken, lambda src: layout(src, "wasm"))
    assert regions(lay) == want and lay.image_end == len(data)
    with pytest.raises(FormatError, match="broken name"):
        parsed(tmp_path, broken, lambda src: image(src).sections())
    assert_go_compatible_read(samples, tmp_path / "broken.wasm", broken, pristine.build_id)


def test_wasm_broken_name_past_the_build_id(tmp_path, wasm_sample):
    """The producers section's name length is not a LEB128 number: read never
    gets there; layout lists every section, that one unnamed; build info refuses."""
    data, secs = wasm_sample
    i = next(i for i, s in enumerate(secs) if s[3] == b"producers")
    body = uleb(data, secs[i][1] + 1)[1]
    broken = data[:body] + b"\xff" * 6 + data[body + 6:]
    pristine = parsed(tmp_path, data, locate)
    found = parsed(tmp_path, broken, locate)
    assert (found.build_id, found.locations) == (pristine.build_id, pristine.locations)
    want = regions(parsed(tmp_path, data, lambda src: layout(src, "wasm")))
    assert want[i + 1][0] == "producers" and want[-1][0] == "name"
    want[i + 1] = ("custom", *want[i + 1][1:])
    assert regions(parsed(tmp_path, broken, lambda src: layout(src, "wasm"))) == want
    with pytest.raises(FormatError, match="broken name"):
        parsed(tmp_path, broken, lambda src: image(src).go_version())


def test_wasm_section_cut_by_the_end_of_the_file(tmp_path, wasm_sample):
    """Cut in the middle of the code section: layout still lists it, with the
    size it declares, so the image ends where the module said it would."""
    data, secs = wasm_sample
    i, (_, off, end, _) = next((i, s) for i, s in enumerate(secs) if s[0] == 10)
    cut = data[:(off + end) // 2]
    pristine = parsed(tmp_path, data, locate)
    assert parsed(tmp_path, cut, locate).build_id == pristine.build_id
    want = regions(parsed(tmp_path, data, lambda src: layout(src, "wasm")))[:i + 2]
    lay = parsed(tmp_path, cut, lambda src: layout(src, "wasm"))
    assert regions(lay) == want and lay.image_end == end > len(cut)
    err = outcome(tmp_path, cut, lambda src: list(wasmmod.sections(src)))
    assert isinstance(err, wasmmod.SectionCut) and "extends past the end of the file" in str(err)
    assert (err.section.offset, err.section.body_offset + err.section.body_size) == (off, end)
    with pytest.raises(FormatError, match="extends past the end of the file"):
        parsed(tmp_path, cut, lambda src: image(src).sections())


def test_wasm_header_cut_by_the_end_of_the_file(tmp_path, wasm_sample):
    """Cut inside a section's size: layout lists the sections before it."""
    data, secs = wasm_sample
    i, (_, off, _, _) = next((i, s) for i, s in enumerate(secs) if s[0] == 10)
    cut = data[:off + 3]
    assert parsed(tmp_path, cut, locate).build_id == parsed(tmp_path, data, locate).build_id
    want = regions(parsed(tmp_path, data, lambda src: layout(src, "wasm")))[:i + 1]
    lay = parsed(tmp_path, cut, lambda src: layout(src, "wasm"))
    assert regions(lay) == want and lay.image_end == off
    with pytest.raises(FormatError, match="header at offset .* runs past the end of the file"):
        parsed(tmp_path, cut, lambda src: image(src).sections())


def test_wasm_section_limit_of_build_info(tmp_path):
    """section_bodies reads at most 4096 sections: a module of exactly that many is whole."""
    head = b"\0asm\1\0\0\0"
    ok = parsed(tmp_path, head + b"\x01\x00" * wasmmod.MAX_WASM_SECTIONS, wasmmod.section_bodies)
    assert ok == {1: (10, 0)}
    with pytest.raises(FormatError, match="more than 4096 sections"):
        parsed(tmp_path, head + b"\x01\x00" * (wasmmod.MAX_WASM_SECTIONS + 1), wasmmod.section_bodies)


# --- PE ----------------------------------------------------------------------

@pytest.fixture(params=PE_SAMPLES)
def pe_sample(request, samples):
    data = samples.path(request.param).read_bytes()
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    return data, lfanew


def test_pe_header_moved_so_the_file_ends_inside_the_optional_header(tmp_path, samples, pe_sample):
    """The marker lies in the first 32 KiB and the COFF header is whole, but the
    file ends 10 bytes into the optional header: read gives the ID and the
    machine without needing the rest (as the Go tool gives the ID); the
    sections, which do need it, cannot be read."""
    data, lfanew = pe_sample
    at = 4096
    assert 0 <= data.find(MARKER) < at
    b = bytearray(data[:at] + data[lfanew:lfanew + 24 + 10])
    struct.pack_into("<I", b, 0x3C, at)
    moved = bytes(b)
    pristine = parsed(tmp_path, data, locate)
    found = parsed(tmp_path, moved, locate)
    assert (found.format, found.arch) == ("pe", pristine.arch) and found.arch in ("amd64", "386")
    assert (found.build_id, found.locations) == (pristine.build_id, pristine.locations)
    with pytest.raises(FormatError, match="optional header"):
        parsed(tmp_path, moved, lambda src: image(src).sections())
    assert_go_compatible_read(samples, tmp_path / "moved.exe", moved, pristine.build_id)


def test_pe_cut_inside_the_optional_header_without_a_marker(tmp_path, pe_sample):
    """No marker in what is left: read looks for .text in the section table,
    and says that the table lies past the end (not the optional header,
    which it does not need)."""
    data, lfanew = pe_sample
    cut = data[:lfanew + 24 + 10]
    with pytest.raises(FormatError, match=r"^section table at offset"):
        parsed(tmp_path, cut, locate)


def test_pe_section_table_past_the_end(tmp_path, pe_sample):
    """NumberOfSections claims a table larger than the file: read still gives
    the ID and machine (it never needs the table when the marker is in the first
    32 KiB); the sections cannot be read."""
    data, lfanew = pe_sample
    b = bytearray(data)
    struct.pack_into("<H", b, lfanew + 6, 0xFFFF)
    assert lfanew + 24 + struct.unpack_from("<H", data, lfanew + 20)[0] + 0xFFFF * 40 > len(data)
    pristine = parsed(tmp_path, data, locate)
    found = parsed(tmp_path, bytes(b), locate)
    assert (found.build_id, found.locations, found.arch) == (pristine.build_id, pristine.locations, pristine.arch)
    with pytest.raises(FormatError, match="section table"):
        parsed(tmp_path, bytes(b), lambda src: image(src).sections())


def test_pe_marker_at_text_past_32k(tmp_path, pe_sample):
    """No marker in the first 32 KiB, .text moved past it: read finds the marker
    at the start of .text through the section table PeImage parses."""
    data, lfanew = pe_sample
    mark = data.find(MARKER)
    end = data.index(b"\xff", mark + len(MARKER)) + 1
    b = bytearray(data)
    b[mark + 2] = ord("g")  # no longer a marker
    optsize = struct.unpack_from("<H", data, lfanew + 20)[0]
    text = lfanew + 24 + optsize  # the first section header: .text
    assert data[text:text + 8].rstrip(b"\0") == b".text"
    new_text = 0x10000
    struct.pack_into("<I", b, text + 20, new_text)  # PointerToRawData
    b[new_text + 16:new_text + 16 + end - mark] = data[mark:end]
    found = parsed(tmp_path, bytes(b), locate)
    pristine = parsed(tmp_path, data, locate)
    moved_id = new_text + 16 + pristine.locations[0] - mark
    assert (found.build_id, found.locations, found.arch) == (pristine.build_id, (moved_id,), pristine.arch)
    b[new_text + 16 + 2] = ord("g")
    assert parsed(tmp_path, bytes(b), locate).build_id is None
