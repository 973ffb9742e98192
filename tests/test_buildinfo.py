"""Go build info (`go version -m`): differential tests against the real Go
command on every sample it can read, every slice of the universal binaries,
the formats Go cannot read (wasm, Plan 9), ParseBuildInfo / BuildInfo.String
against runtime/debug itself on tricky text, and broken blobs in small files."""
from __future__ import annotations

import base64
import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from buildidtool import MalformedFile
from buildidtool.buildinfo import (BuildInfo, BuildInfoParseError, Module, of_source, parse_build_info,
                                   read_build_info, read_build_info_slices)
from buildidtool.formats.goquote import quote as go_quote
from buildidtool.fileio import opened
from buildidtool.formats.source import Source
from helpers import fat_slices

MAGIC = b"\xff Go buildinf:"
INFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
INFO_END = bytes.fromhex("f932433186182072008242104116d8f2")
BEYOND_GO = ("modapp-wasip1-wasm", "modapp-plan9-amd64", "hello-wasip1-wasm", "hello-js-wasm",
             "hello-plan9-amd64")


def go_env() -> dict[str, str]:
    return dict(os.environ, GOTOOLCHAIN="local", GOTELEMETRY="off", GOFLAGS="")


def go_version_m(samples, path: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([samples.go, "version", "-m", *flags, str(path)], capture_output=True,
                          env=go_env(), timeout=120)


def go_lines(out: bytes) -> list[bytes]:
    """`go version -m` output without its first line (FILE: goX)."""
    assert out.endswith(b"\n")
    return out[:-1].split(b"\n")[1:]


@pytest.fixture(scope="session")
def goversion(samples) -> str:
    return subprocess.run([samples.go, "env", "GOVERSION"], capture_output=True, text=True,
                          env=go_env(), check=True).stdout.strip()


# --- differential: every sample Go can read ---------------------------------

def test_every_readable_sample_matches_go_version_m(samples):
    compared = []
    for e in samples.entries:
        path = samples.path(e["name"])
        ref = go_version_m(samples, path, "-json")
        ours = read_build_info(path)
        if ref.returncode != 0:
            # Go gives up on these; we must not invent info for the files that
            # are not Go executables at all.
            if e["name"] in ("lib", "libgccgo", "hello-gccgo", "gccgo-buildid"):
                assert ours is None, e["name"]
            continue
        assert ours is not None, e["name"]
        assert ours.to_json() == json.loads(ref.stdout), e["name"]
        text = go_version_m(samples, path)
        assert text.returncode == 0
        assert [line.encode("utf-8", "surrogateescape") for line in ours.lines()] == go_lines(text.stdout), e["name"]
        assert text.stdout.split(b"\n")[0] == f"{path}: {ours.go_version}".encode()
        compared.append(e["name"])
    # Sanity: the bulk of the samples were really compared.
    assert "modapp-linux-amd64" in compared and "hello-windows-amd64" in compared
    assert "hello-darwin-universal" in compared and "hello-aix-ppc64" in compared


def test_modapp_has_deps_replace_and_vcs(samples):
    bi = read_build_info(samples.path("modapp-linux-amd64"))
    j = bi.to_json()
    assert j["Path"] == "example.com/modapp"
    deps = {d["Path"]: d for d in j["Deps"]}
    assert deps["example.com/greet"]["Sum"].startswith("h1:")
    assert deps["example.com/local"]["Replace"] == {"Path": "./local", "Version": "(devel)"}
    assert "Sum" not in deps["example.com/local"]
    assert bi.setting("vcs") == "git" and bi.setting("vcs.modified") == "false"
    # Go leaves a line holding only a tab after a replacement.
    lines = bi.lines()
    i = lines.index("\t=>\t./local\t(devel)\t")
    assert lines[i + 1] == "\t"


def test_universal_slices_match_go_on_each_extracted_slice(samples, tmp_path):
    for name in ("hello-darwin-universal", "hello-darwin-universal64"):
        path = samples.path(name)
        data = path.read_bytes()
        ours = read_build_info_slices(path)
        spans = fat_slices(data)
        assert [a for a, _ in ours] == ["amd64", "arm64"]
        for (arch, bi), (off, size) in zip(ours, spans):
            one = tmp_path / f"{name}-{arch}"
            one.write_bytes(data[off:off + size])
            ref = go_version_m(samples, one, "-json")
            assert ref.returncode == 0, ref.stderr
            assert bi is not None and bi.to_json() == json.loads(ref.stdout), (name, arch)
            assert bi.setting("GOARCH") == arch
            assert bi.offset is not None and off <= bi.offset < off + size
            assert data[bi.offset:bi.offset + len(MAGIC)] == MAGIC
        # The whole file reads as its first slice, as Go reads it.
        assert read_build_info(path) == ours[0][1]


def test_slices_of_a_thin_file(samples):
    assert [a for a, _ in read_build_info_slices(samples.path("hello-linux-arm64"))] == ["arm64"]
    [(arch, bi)] = read_build_info_slices(samples.path("lib"))
    assert bi is None


def _settings_without_target(bi: BuildInfo) -> list[tuple[str, str]]:
    target = {"GOOS", "GOARCH", "GOAMD64", "GO386", "GOARM", "GOARM64", "GOWASM"}
    return [(s.key, s.value) for s in bi.settings if s.key not in target]


@pytest.mark.parametrize("name", BEYOND_GO)
def test_formats_go_version_cannot_read(samples, goversion, name):
    path = samples.path(name)
    bi = read_build_info(path)
    assert bi is not None and bi.go_version == goversion
    e = samples.entry(name)
    assert bi.setting("GOOS") == e["goos"] and bi.setting("GOARCH") == e["goarch"]
    ref = go_version_m(samples, path, "-json")
    if ref.returncode == 0:  # a Go that reads them must agree
        assert bi.to_json() == json.loads(ref.stdout)
    if name.startswith("modapp"):
        linux = read_build_info(samples.path("modapp-linux-amd64"))
        assert bi.path == "example.com/modapp"
        assert bi.main == linux.main and bi.deps == linux.deps
        assert _settings_without_target(bi) == _settings_without_target(linux)
    else:
        hello = read_build_info(samples.path("hello-linux-amd64"))
        assert bi.path == hello.path and bi.main == hello.main


def test_shared_fd_and_source(samples):
    path = samples.path("modapp-linux-amd64")
    with opened(str(path)) as fd:
        a = of_source(Source.of_file(fd))
    assert a == read_build_info(path)


def test_not_on_the_build_id_path():
    code = ("import sys, buildidtool, buildidtool.gocompat\n"
            "bad = [m for m in sys.modules if 'buildinfo' in m]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- ParseBuildInfo and String against runtime/debug itself -----------------

GO_PARSER = r'''
package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"runtime/debug"
)

type result struct {
	Err    string          `json:"err"`
	Info   json.RawMessage `json:"info"`
	String string          `json:"string"`
}

func main() {
	var in []string
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	var out []result
	for _, s := range in {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			panic(err)
		}
		bi, err := debug.ParseBuildInfo(string(b))
		if err != nil {
			out = append(out, result{Err: err.Error()})
			continue
		}
		j, _ := json.Marshal(bi)
		out = append(out, result{Info: j, String: base64.StdEncoding.EncodeToString([]byte(bi.String()))})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
'''


@pytest.fixture(scope="session")
def go_parser(samples, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("goparser")
    (d / "main.go").write_text(GO_PARSER)
    exe = d / "parser"
    proc = subprocess.run([samples.go, "build", "-o", str(exe), "main.go"], cwd=d,
                          capture_output=True, text=True, env=go_env(), timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"cannot build the Go parser helper: {proc.stderr}")
    return exe


TRICKY = [
    b"",
    b"path\tx\n",
    b"path\tx",                                     # last line without a newline is dropped
    b"path\tx\nmod\tm\tv1\nbuild\tA=1\n",
    b"mod\tm\n",                                    # too few columns
    b"mod\tm\tv\th\textra\n",                       # too many
    b"dep\ta\tv\n=>\tb\tv2\n",                      # replacement with 2 columns
    b"=>\tb\tv2\th\n",                              # replacement first
    b"dep\ta\tv\n=>\tb\tv2\th\n=>\tc\tv3\th\n",     # second replacement
    b"mod\ta\tv\n=>\t./x\t\t\ndep\tb\tv\th\n",
    b"path\tp\nunknown line\n\nbuild\tK=V\n",
    b"build\t\n",
    b"build\t=x\n",
    b"build\tnoequals\n",
    b"build\tK=\n",
    b"build\t\"spaced key\"=\"spaced value\"\n",
    b"build\t`raw key`=`raw\\value`\n",
    b"build\t\"k\"\n",
    b"build\t\"k\"x=1\n",
    b"build\t\"k\xff\"x=1\n",
    b"build\t\"unterminated=1\n",
    b"build\t\"bad\\q\"=1\n",
    b"build\tkey with space=1\n",
    b"build\tK=value with space\n",
    b"build\tK=\"bad\\q\"\n",
    b"build\tK=\"a\"b\n",
    b"build\tK=\"\\x41\\u00e9\\U0001F600\\101\\t\"\n",
    b"build\t-ldflags=\"-X main.v=1 -s\"\n",
    b"build\tK=\"\\xff\\x00\\x7f\\u00a0\\u00ad\\u2028\"\n",
    b"build\tK=\xff\xfe\n",
    b"build\tK=caf\xc3\xa9\n",
    b"build\tK=\xed\xa0\x80\xe2\x82\n",
    b"path\t\xffbad\xc3\n",
    b"build\t\"\"=empty key\n",
    b"build\t\"\"=\"\"\n",
    b"build\tK=`a\rb`\n",
    b"build\tK=a=b\n",
    b"dep\t\tv\t\n",
]


def random_texts(n: int) -> list[bytes]:
    rng = random.Random(1234)
    atoms = [b"path\t", b"mod\t", b"dep\t", b"=>\t", b"build\t", b"\t", b"\n", b"=", b"\"", b"`",
             b"\\", b" ", b"x", b"\xff", b"\xc3\xa9", b"\\x41", b"\\u00e9", b"\r", b"\x00"]
    return [b"".join(rng.choice(atoms) for _ in range(rng.randint(1, 24))) for _ in range(n)]


ESCAPES = [b"\\x00", b"\\t", b"\\n", b"\\r", b"\\u00a0", b"\\u00ad", b"\\U0001F600", b"\\xff",
           b"\\xc3", b" ", b"`", b"\\\"", b"\\\\", b"\\u2028", b"\\u0378", b"\\u200b", b"\\U000e0001",
           b"\\x7f", b"\\u00e9", b"=", b"a", b"Z", b"\xc3\xa9", b"\\a", b"\\v", b"\\101", b"\\u4e16",
           b"\\U0010ffff", b"\\ufffd", b"\\u0085", b"\\u3000"]


def random_settings(n: int) -> list[bytes]:
    """Build lines with quoted keys and values: String() must quote them back as Go does."""
    rng = random.Random(99)

    def quoted() -> bytes:
        return b'"' + b"".join(rng.choice(ESCAPES) for _ in range(rng.randint(0, 6))) + b'"'

    lines = []
    for _ in range(n):
        key = quoted() if rng.random() < 0.5 else rng.choice([b"K", b"-tags", b"vcs.time"])
        lines.append(b"build\t" + key + b"=" + quoted() + b"\n")
    return [b"".join(lines[i:i + 3]) for i in range(0, n, 3)]


def test_parse_and_string_agree_with_runtime_debug(go_parser):
    cases = TRICKY + random_texts(3000) + random_settings(3000)
    proc = subprocess.run([str(go_parser)], input=json.dumps(
        [base64.b64encode(c).decode() for c in cases]).encode(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for case, ref in zip(cases, json.loads(proc.stdout)):
        text = case.decode("utf-8", "surrogateescape")
        if ref["err"]:
            with pytest.raises(BuildInfoParseError) as e:
                parse_build_info(text)
            assert str(e.value) == ref["err"], case
            continue
        bi = parse_build_info(text)
        assert bi.to_json() == ref["info"], case
        assert bi.string().encode("utf-8", "surrogateescape") == base64.b64decode(ref["string"]), case


def test_quote():
    assert go_quote("a b") == '"a b"'
    assert go_quote("tab\there\"\\") == '"tab\\there\\"\\\\"'
    assert go_quote(b"\xff\x00\x7f\xc2\xa0\xc2\xad\xe2\x80\xa8\xf0\x9f\x98\x80".decode(
        "utf-8", "surrogateescape")) == '"\\xff\\x00\\x7f\\u00a0\\u00ad\\u2028😀"'


def test_json_replaces_invalid_utf8_per_byte():
    bi = BuildInfo(go_version="go1", main=Module(path=b"a\xe2\x82b".decode("utf-8", "surrogateescape")))
    assert bi.to_json() == {"GoVersion": "go1", "Main": {"Path": "a\ufffd\ufffdb"}}
    assert BuildInfo().to_json() == {"Main": {}}


# --- small ELF files with hand-made blobs -----------------------------------

VADDR = 0x500000
DATA_OFF = 0x1000


def uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def wrap_modinfo(text: bytes) -> bytes:
    return INFO_START + text + INFO_END


def inline_blob(vers: bytes, mod: bytes, *, ptr: int = 8, big: bool = False) -> bytes:
    b = MAGIC + bytes([ptr, 2 | int(big)]) + bytes(16)
    b += uvarint(len(vers)) + vers + uvarint(len(mod)) + mod
    return b + bytes(-len(b) % 16)


def elf(data: bytes, *, section: bool = True, flags: int = 6, size: int | None = None) -> bytes:
    """ELF64 LE executable: one PT_LOAD mapping `data` at VADDR; a .go.buildinfo
    section of `size` bytes (default: all of data) over it when `section`."""
    names = b"\0.go.buildinfo\0.shstrtab\0"
    shstr_off = DATA_OFF + len(data)
    shoff = (shstr_off + len(names) + 7) & ~7
    sections = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    if section:
        sections.append(struct.pack("<IIQQQQIIQQ", 1, 1, 3, VADDR, DATA_OFF,
                                    len(data) if size is None else size, 0, 0, 16, 0))
    sections.append(struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, shstr_off, len(names), 0, 0, 1, 0))
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    hdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, shoff, 0, 64, 56, 1, 64,
                              len(sections), len(sections) - 1)
    phdr = struct.pack("<IIQQQQQQ", 1, flags, DATA_OFF, VADDR, VADDR, len(data), len(data), 0x1000)
    out = bytearray(hdr + phdr)
    out += bytes(DATA_OFF - len(out))
    out += data + names
    out += bytes(shoff - len(out))
    out += b"".join(sections)
    return bytes(out)


MODTEXT = b"path\texample.com/p\nmod\texample.com/p\t(devel)\t\nbuild\tGOOS=linux\n"


def write(tmp_path: Path, data: bytes, name: str = "f") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_synthetic_inline(tmp_path):
    bi = read_build_info(write(tmp_path, elf(inline_blob(b"go1.99", wrap_modinfo(MODTEXT)))))
    assert bi.to_json() == {"GoVersion": "go1.99", "Path": "example.com/p",
                            "Main": {"Path": "example.com/p", "Version": "(devel)"},
                            "Settings": [{"Key": "GOOS", "Value": "linux"}]}
    assert bi.offset == DATA_OFF and bi.format == "elf" and bi.arch == "amd64"


def test_synthetic_blob_found_past_other_data_aligned_only(tmp_path):
    # A misaligned magic first, then the real blob at a 16-byte boundary.
    data = b"\0" * 3 + MAGIC + b"\0" * (45 - len(MAGIC)) + inline_blob(b"go1.5", b"")
    bi = read_build_info(write(tmp_path, elf(data)))
    assert bi.go_version == "go1.5" and bi.offset == DATA_OFF + 48
    assert bi.to_json() == {"GoVersion": "go1.5", "Main": {}}


def test_synthetic_modinfo_without_framing_is_ignored(tmp_path):
    # Too short, or not ending in newline + sentinel: Go drops it.
    for mod in (b"path\tx\n", INFO_START + b"path\tx" + INFO_END):
        bi = read_build_info(write(tmp_path, elf(inline_blob(b"go1", mod))))
        assert bi.path == "" and bi.to_json() == {"GoVersion": "go1", "Main": {}}


def pointer_blob(ptr: int, big: bool, vers: bytes, mod: bytes) -> bytes:
    """The pre-1.18 layout: header pointers to Go string headers."""
    fmt = (">" if big else "<") + ("I" if ptr == 4 else "Q")
    vers_data, mod_data = 64, 64 + len(vers)
    vers_hdr = (mod_data + len(mod) + 15) & ~15
    mod_hdr = vers_hdr + 2 * ptr
    head = MAGIC + bytes([ptr, int(big)]) + struct.pack(fmt, VADDR + vers_hdr) + struct.pack(fmt, VADDR + mod_hdr)
    head += bytes(32 - len(head))
    body = bytearray(head + bytes(32) + vers + mod)
    body += bytes(vers_hdr - len(body))
    body += struct.pack(fmt, VADDR + vers_data) + struct.pack(fmt, len(vers))
    body += struct.pack(fmt, VADDR + mod_data) + struct.pack(fmt, len(mod))
    return bytes(body)


@pytest.mark.parametrize("ptr,big", [(8, False), (4, True), (4, False), (8, True)])
def test_synthetic_pointer_layout(tmp_path, ptr, big):
    blob = pointer_blob(ptr, big, b"go1.17.13", wrap_modinfo(MODTEXT))
    bi = read_build_info(write(tmp_path, elf(blob)))
    assert bi.go_version == "go1.17.13" and bi.path == "example.com/p"
    assert bi.lines() == ["\tpath\texample.com/p", "\tmod\texample.com/p\t(devel)\t", "\tbuild\tGOOS=linux"]


def test_synthetic_pointer_outside_the_file(tmp_path):
    blob = bytearray(pointer_blob(8, False, b"go1.17", b""))
    blob[16:24] = struct.pack("<Q", 0x7000000)  # version string header nowhere
    with pytest.raises(MalformedFile, match="not in the file"):
        read_build_info(write(tmp_path, elf(bytes(blob))))
    blob = bytearray(pointer_blob(8, False, b"go1.17", b""))
    vers_hdr = struct.unpack_from("<Q", blob, 16)[0] - VADDR
    blob[vers_hdr + 8:vers_hdr + 16] = struct.pack("<Q", 1 << 60)  # length past the segment
    with pytest.raises(MalformedFile, match="runs past"):
        read_build_info(write(tmp_path, elf(bytes(blob))))
    blob = bytearray(pointer_blob(8, False, b"go1.17", b""))
    blob[14] = 5  # pointer size Go does not know
    with pytest.raises(MalformedFile, match="pointer size"):
        read_build_info(write(tmp_path, elf(bytes(blob))))


def test_malformed_varint_length_past_the_end(tmp_path):
    for length in (100, 1 << 40, (1 << 64) - 1):
        b = MAGIC + bytes([8, 2]) + bytes(16) + uvarint(5) + b"go1.9" + uvarint(length) + b"path\t"
        path = write(tmp_path, elf(b))
        with pytest.raises(MalformedFile, match="runs past the end") as e:
            read_build_info(path)
        assert str(e.value).startswith(f"{path}: ")
    # The version's own length past the end of the section.
    b = MAGIC + bytes([8, 2]) + bytes(16) + uvarint(64) + b"go1"
    with pytest.raises(MalformedFile, match="Go version of 64 bytes"):
        read_build_info(write(tmp_path, elf(b)))


def test_malformed_bad_varints(tmp_path):
    b = MAGIC + bytes([8, 2]) + bytes(16) + b"\xff" * 10 + b"\x01" + bytes(21)
    with pytest.raises(MalformedFile, match="not a valid varint"):
        read_build_info(write(tmp_path, elf(b)))
    b = MAGIC + bytes([8, 2]) + bytes(16) + b"\x80\x80"  # the section ends inside the varint
    with pytest.raises(MalformedFile, match="cut off"):
        read_build_info(write(tmp_path, elf(b)))


def test_malformed_truncated_header(tmp_path):
    blob = inline_blob(b"go1.9", b"")
    # The section holds the magic but not the whole 32-byte header...
    with pytest.raises(MalformedFile, match="truncated"):
        read_build_info(write(tmp_path, elf(blob, size=24)))
    # ...or the file ends inside it.
    with pytest.raises(MalformedFile, match="truncated"):
        read_build_info(write(tmp_path, elf(blob[:20])))


def test_malformed_empty_version_and_bad_modinfo(tmp_path):
    with pytest.raises(MalformedFile, match="Go version is empty"):
        read_build_info(write(tmp_path, elf(inline_blob(b"", b""))))
    with pytest.raises(MalformedFile, match=r"could not parse Go build info: line 2: expected 2 or 3 columns; got 1"):
        read_build_info(write(tmp_path, elf(inline_blob(b"go1", wrap_modinfo(b"path\tp\ndep\tonly\n")))))


def test_no_blob_is_none(tmp_path):
    assert read_build_info(write(tmp_path, elf(bytes(256)))) is None             # section, no magic
    assert read_build_info(write(tmp_path, elf(inline_blob(b"go1", b""), size=0))) is None
    assert read_build_info(write(tmp_path, b"just some text, long enough\n" * 4)) is None
    assert read_build_info(write(tmp_path, b"\x7fELF")) is None                 # too short to be anything
    assert read_build_info(write(tmp_path, b"")) is None


def test_legacy_fallback_to_the_data_segment(tmp_path):
    path = write(tmp_path, elf(bytes(32) + inline_blob(b"go1.12", b""), section=False))
    assert read_build_info(path).go_version == "go1.12"
    assert read_build_info(path, fallback=False) is None
    # Only a writable, non-executable segment is searched.
    assert read_build_info(write(tmp_path, elf(inline_blob(b"go1", b""), section=False, flags=7))) is None


def test_malformed_real_binary(samples, tmp_copy):
    path = tmp_copy("modapp-linux-amd64")
    data = bytearray(path.read_bytes())
    at = data.find(MAGIC)
    vers_len = data[at + 32]
    mod_len_at = at + 33 + vers_len
    # A module-info length of 2**35 over the real one and what follows it.
    assert data[mod_len_at] & 0x80 and not data[mod_len_at + 1] & 0x80
    data[mod_len_at:mod_len_at + 6] = b"\x80" * 5 + b"\x01"
    path.write_bytes(bytes(data))
    with pytest.raises(MalformedFile, match="module info of 34359738368 bytes"):
        read_build_info(path)
    assert go_version_m(samples, path).returncode != 0


def test_summary_for_scan(samples):
    from buildidtool.buildinfo import summary
    from buildidtool.formats import locate
    for name, want in (("modapp-linux-amd64", "example.com/modapp"), ("lib", None),
                       ("hello-darwin-universal", "example.com/buildidsamples/hello")):
        path = str(samples.path(name))
        with opened(path) as fd:
            src = Source.of_file(fd)
            vers, main = summary(src, locate(src).format)
        assert main == want and (vers is None) == (want is None)


def test_quick_wasm_summary_equals_the_full_reader(samples):
    """scan's cheap wasm path (producers section + module text sentinels) must
    agree with the full search read_build_info does."""
    import os

    from buildidtool.buildinfo import read_build_info, summary
    from buildidtool.formats import Source, locate

    names = [e["name"] for e in samples.entries if e["format"] == "wasm"]
    assert len(names) >= 3
    for name in names:
        path = str(samples.path(name))
        fd = os.open(path, os.O_RDONLY)
        try:
            src = Source.of_file(fd)
            quick = summary(src, locate(src).format)
        finally:
            os.close(fd)
        full = read_build_info(path)
        assert quick == (full.go_version, full.path or None), name


def test_synthetic_module_info_pointer_outside_the_data(tmp_path):
    """Go reads a module info it cannot reach as empty (some Go 1.13 binaries
    point outside the mapped data): the version stays, no error."""
    blob = bytearray(pointer_blob(8, False, b"go1.13.8", wrap_modinfo(MODTEXT)))
    blob[24:32] = struct.pack("<Q", 0x7000000)  # module info string header nowhere
    bi = read_build_info(write(tmp_path, elf(bytes(blob))))
    assert bi.to_json() == {"GoVersion": "go1.13.8", "Main": {}}
    blob = bytearray(pointer_blob(8, False, b"go1.13.8", wrap_modinfo(MODTEXT)))
    mod_hdr = struct.unpack_from("<Q", blob, 24)[0] - VADDR
    blob[mod_hdr + 8:mod_hdr + 16] = struct.pack("<Q", 1 << 40)  # its length past the segment
    assert read_build_info(write(tmp_path, elf(bytes(blob)))).to_json() == {"GoVersion": "go1.13.8", "Main": {}}
