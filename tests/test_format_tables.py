"""Our format parsers against independent ones: the section, segment and note
tables formats/ reads (the Image protocol and `locate`) must be what
pyelftools reads from every ELF sample and what lief reads from every Mach-O
and PE sample."""
from __future__ import annotations

import os

import pytest

from buildidtool.formats import Source, image, locate, slices
from buildidtool.formats import elf as elfmod
from buildidtool.formats.raw import MARKER_START

elftools = pytest.importorskip("elftools.elf.elffile")
lief = pytest.importorskip("lief")


def _opened(path):
    fd = os.open(path, os.O_RDONLY)
    return fd, Source.of_file(fd)


def _elf_samples(samples):
    return [samples.dir / e["path"] for e in samples.select(format="elf")]


def _gccgo_object(samples):
    return [p for p in samples.all_files() if p.name.endswith("_buildid.o")]


def test_elf_sections_segments_and_notes_match_pyelftools(samples):
    files = _elf_samples(samples) + _gccgo_object(samples)
    assert len(files) >= 10
    for path in files:
        fd, src = _opened(path)
        try:
            img = image(src)
            found = locate(src)
            with open(path, "rb") as fh:
                ef = elftools.ELFFile(fh)
                # Sections: name, file offset, bytes in the file, address (first of each name).
                theirs, seen = [], set()
                for s in ef.iter_sections():
                    if s.name and s.name not in seen:
                        seen.add(s.name)
                        nobits = s["sh_type"] == "SHT_NOBITS"
                        theirs.append((s.name, s["sh_offset"], 0 if nobits else s["sh_size"], s["sh_addr"],
                                       s["sh_size"] if nobits else None))
                ours = [(r.name, r.offset, r.size, r.addr, r.memsize) for r in img.sections()]
                assert ours == theirs, path.name
                # Segments: file offset, file size, address, access.
                theirs = [(p["p_offset"], p["p_filesz"], p["p_vaddr"],
                           "".join(c for bit, c in ((4, "r"), (2, "w"), (1, "x")) if p["p_flags"] & bit))
                          for p in ef.iter_segments()] if ef.header["e_phoff"] else []
                ours = [(r.offset, r.size, r.addr, r.perm) for r in img.segments()]
                assert ours == theirs, path.name
                assert [r.name.split("[")[0] for r in img.loads()] == \
                    ["LOAD" for p in ef.iter_segments() if p["p_type"] == "PT_LOAD"]
                # Notes: every 4-byte-named note of every PT_NOTE segment, where its descriptor lies.
                theirs, ours = [], []
                for p in ef.iter_segments():
                    if p["p_type"] != "PT_NOTE":
                        continue
                    for n in p.iter_notes():
                        if n["n_namesz"] == 4:
                            theirs.append((n["n_name"], n["n_offset"] + 16, n["n_descsz"]))
                    data = src.read_at(p["p_offset"], p["p_filesz"])
                    ours += [(name.rstrip(b"\0").decode(), off, len(desc))
                             for name, _, desc, off in
                             elfmod.walk_notes(img.elf, data, p["p_offset"], p["p_align"])]
                assert ours == theirs, path.name
                # The build ID and host build ID we report are those notes' descriptors.
                by_offset = {t[1]: t[0] for t in theirs}
                if found.build_id is not None and found.reference_id is None:
                    assert by_offset[found.locations[0]] == "Go"
                if found.host_build_id is not None and found.host_build_id.kind == "gnu":
                    gnu = ef.get_section_by_name(".note.gnu.build-id")
                    if gnu is not None:
                        assert found.host_build_id.span.offset == gnu["sh_offset"] + 16
                        assert found.host_build_id.value == fh_read(path, gnu["sh_offset"] + 16,
                                                                    gnu["sh_size"] - 16)
        finally:
            os.close(fd)


def fh_read(path, off, n):
    with open(path, "rb") as fh:
        fh.seek(off)
        return fh.read(n)


def _lief_macho_units(path, tmp_path):
    """(lief binary, our thin Source) per architecture. lief reads no 64-bit
    universal header: then it gets each slice as a file of its own."""
    fd, src = _opened(path)
    ours = slices(src)
    windows = [sub for _, sub in ours] if ours is not None else [src]
    fat = lief.MachO.parse(str(path))
    if fat is None:
        assert ours is not None
        binaries = []
        for i, sub in enumerate(windows):
            one = tmp_path / f"slice{i}"
            one.write_bytes(os.pread(fd, sub.size, sub.base))
            binaries.append(lief.MachO.parse(str(one)).at(0))
    else:
        binaries = [fat.at(i) for i in range(fat.size)]
    assert len(binaries) == len(windows)
    return fd, list(zip(binaries, windows))


@pytest.mark.parametrize("name", ["hello-darwin-amd64", "hello-darwin-arm64", "hello-darwin-universal",
                                  "hello-darwin-universal64"])
def test_macho_tables_match_lief(samples, name, tmp_path):
    fd, units = _lief_macho_units(samples.path(name), tmp_path)
    try:
        for binary, src in units:
            img = image(src)
            found = locate(src)
            theirs = [(s.name, s.file_offset, s.file_size, s.virtual_address) for s in binary.segments]
            ours = [(r.name, r.offset, r.size, r.addr) for r in img.segments()]
            assert ours == theirs
            theirs = [(s.name, s.offset, s.size, s.virtual_address) for s in binary.sections]
            ours = [(r.name, r.offset, r.size or r.memsize, r.addr) for r in img.sections()]
            assert ours == theirs
            assert bytes(binary.uuid.uuid) == found.host_build_id.value
            if binary.has_code_signature:
                sig = binary.code_signature
                assert (found.code_signature.offset - src.base, found.code_signature.size) == \
                    (sig.data_offset, sig.data_size)
            else:
                assert found.code_signature is None
            text = binary.get_section("__text")
            assert found.locations[0] - src.base == text.offset + len(MARKER_START)  # the marker opens __text
    finally:
        os.close(fd)


@pytest.mark.parametrize("name", ["hello-windows-amd64", "hello-windows-386"])
def test_pe_sections_match_lief(samples, name):
    path = samples.path(name)
    fd, src = _opened(path)
    try:
        img = image(src)
        binary = lief.PE.parse(str(path))
        base = binary.optional_header.imagebase
        def name(s):  # a long name "/N" is at offset N of the COFF string table
            long = s.name[1:].isdigit() and s.name.startswith("/") and binary.find_coff_string(int(s.name[1:]))
            return long.string if long else s.name

        theirs = [(name(s), s.pointerto_raw_data, s.sizeof_raw_data, base + s.virtual_address, s.virtual_size)
                  for s in binary.sections]
        ours = [(r.name, r.offset, r.size, r.addr, r.memsize) for r in img.sections()]
        assert ours == theirs
        assert img.arch == {lief.PE.Header.MACHINE_TYPES.AMD64: "amd64",
                            lief.PE.Header.MACHINE_TYPES.I386: "386"}[binary.header.machine]
        assert img.ptr_size == (8 if binary.header.machine == lief.PE.Header.MACHINE_TYPES.AMD64 else 4)
        text = binary.get_section(".text")
        found = locate(src)
        # the marker is early in .text (386 puts a little code before it)
        assert text.pointerto_raw_data + len(MARKER_START) <= found.locations[0] < text.pointerto_raw_data + 4096
        # Build info lives in the data section lief names .data.
        data = binary.get_section(".data")
        assert img.buildinfo() == (base + data.virtual_address, data.virtual_size)
    finally:
        os.close(fd)


def test_every_executable_sample_answers_the_image_protocol(samples):
    """kind and arch as the manifest says; build info found through image() alone."""
    from buildidtool.formats.buildinfo_blob import find_blob
    checked = 0
    for e in samples.entries:
        if e["format"] not in ("elf", "macho", "pe", "xcoff", "plan9", "wasm") or e["kind"] != "exe":
            continue
        fd, src = _opened(samples.dir / e["path"])
        try:
            img = image(src)
            assert img.kind == e["format"]
            assert img.arch == ("wasm" if e["format"] == "wasm" else e["goarch"]), e["name"]
            if e["format"] != "wasm" and "gccgo" not in e["name"]:
                blob = find_blob(src)
                if e["format"] != "plan9":  # Go itself finds none there (see buildinfo_blob)
                    assert blob is not None, e["name"]
                if blob is not None:
                    assert img.memory().read(blob.address, 14) == b"\xff Go buildinf:"
            checked += 1
        finally:
            os.close(fd)
    assert checked >= 15


def test_found_is_immutable_and_no_id_is_none(samples, tmp_path):
    fd, src = _opened(samples.path("hello-linux-amd64"))
    try:
        found = locate(src)
        with pytest.raises(AttributeError):
            found.build_id = b"x"
        assert isinstance(found.locations, tuple)
        changed = found.replace(arch="arm64")
        assert (changed.arch, found.arch) == ("arm64", "amd64") and changed.build_id == found.build_id
        # The explicit hashing view: Go's tool zeroes the GNU build ID note's descriptor.
        h = found.host_build_id
        assert found.hashing.zeroed == (h.span,) and found.hashing.signing is None
    finally:
        os.close(fd)
    # A Go archive whose header has no build id line, and a file with nothing: None, not b"".
    lib = samples.path("lib.a").read_bytes()
    lines = lib.split(b"\n", 4)
    assert lines[3].startswith(b"build id ")
    no_line = tmp_path / "noid.a"
    no_line.write_bytes(b"\n".join(lines[:3] + [b"other", lines[4]]))
    empty = tmp_path / "empty-marker"
    empty.write_bytes(b"\xff Go build ID: \"\"\n \xff" + bytes(64))
    for path, fmt in ((no_line, "go-archive"), (empty, "unknown")):
        fd, src = _opened(path)
        try:
            found = locate(src)
            assert (found.format, found.build_id) == (fmt, None)
        finally:
            os.close(fd)


@pytest.mark.parametrize("name", ["hello-darwin-arm64"])
def test_macho_hashing_view_zeroes_signature_and_uuid_and_resigns(samples, name):
    fd, src = _opened(samples.path(name))
    try:
        found = locate(src)
        view = found.hashing
        assert view.zeroed == (found.code_signature, found.host_build_id.span)
        text = next(r for r in image(src).segments() if r.name == "__TEXT")
        assert (view.signing.text_offset, view.signing.text_size, view.signing.is_exec) == (text.offset, text.size, True)
    finally:
        os.close(fd)
