"""Go build info: the toolchain version and module information the linker
embeds, read the way `go version -m` reads it (debug/buildinfo, then
runtime/debug.ParseBuildInfo), for every format formats.buildinfo_blob knows.

    info = read_build_info("hello")            # BuildInfo, or None
    info.to_json()                             # what `go version -m -json` prints
    info.lines()                               # the lines `go version -m` prints after the first
    read_build_info_slices("hello-universal")  # [(arch, BuildInfo | None), ...]

Go strings are bytes: every text field here is a str decoded from UTF-8 with
"surrogateescape", so `.encode("utf-8", "surrogateescape")` gives back the exact
bytes. to_json() turns bytes that are not UTF-8 into U+FFFD, one per byte, as
encoding/json does.

This module is not on the path of reading build IDs: nothing in reading.py
imports it.
"""
from __future__ import annotations

import os
import re

from .reading import guarded
from .fileio import opened
from .formats.buildinfo_blob import Blob, arch_of, find_blob, identify, universal_slices
from .formats.errors import FormatError
from .formats.goquote import QuoteError, unquote
from .formats.source import Source

MAX_VARINT_LEN = 10


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


_RAW_BYTE = re.compile("[\udc80-\udcff]")


def _json_text(s: str) -> str:
    """A Go string as encoding/json writes it: each byte that is not part of
    valid UTF-8 becomes U+FFFD."""
    return _RAW_BYTE.sub("\ufffd", s)


# --- strconv.Quote ----------------------------------------------------------

def _is_print(r: int) -> bool:
    """strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space."""
    if r <= 0xFF:
        return 0x20 <= r <= 0x7E or (0xA1 <= r <= 0xFF and r != 0xAD)
    import unicodedata
    return unicodedata.category(chr(r))[0] in "LMNPS"


_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def _escape_rune(r: int, quote: str) -> str:
    if r == ord(quote) or r == 0x5C:
        return "\\" + chr(r)
    if _is_print(r):
        return chr(r)
    if r in _ESCAPES:
        return _ESCAPES[r]
    if r < 0x20 or r == 0x7F:
        return f"\\x{r:02x}"
    if r < 0x10000:
        return f"\\u{r:04x}"
    return f"\\U{r:08x}"


def go_quote(s: str) -> str:
    """strconv.Quote of the Go string s."""
    out = ['"']
    for ch in s:
        r = ord(ch)
        if 0xDC80 <= r <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{r - 0xDC00:02x}")
        else:
            out.append(_escape_rune(r, '"'))
    out.append('"')
    return "".join(out)


def _quote_char(c: int) -> str:
    """fmt's %q of a byte: a quoted character literal."""
    return "'" + _escape_rune(c, "'") + "'"


def _go_unquote(s: str) -> str:
    """strconv.Unquote; QuoteError when Go would fail."""
    return _text(unquote(_bytes(s)))


def _quoted_prefix(s: str) -> str | None:
    """strconv.QuotedPrefix for a string starting with " or `; None when invalid."""
    q = s[0]
    if q == "`":
        end = s.find("`", 1)
        return None if end < 0 else s[:end + 1]
    i = 1
    while i < len(s):
        c = s[i]
        if c == q:
            prefix = s[:i + 1]
            try:
                _go_unquote(prefix)
            except QuoteError:
                return None
            return prefix
        if c == "\n":
            return None
        i += 2 if c == "\\" else 1
    return None


# --- the model (runtime/debug.BuildInfo) ------------------------------------

class _Plain:
    """Equality and repr over __slots__ (dataclasses would cost a few ms of
    exec per process start, which scan and info pay on every run)."""

    __slots__ = ()
    _compared: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, k) == getattr(other, k) for k in self._compared)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({args})"


class Module(_Plain):
    __slots__ = ("path", "version", "sum", "replace")
    _compared = __slots__

    def __init__(self, path: str = "", version: str = "", sum: str = "", replace: Module | None = None):
        self.path, self.version, self.sum, self.replace = path, version, sum, replace

    def is_zero(self) -> bool:
        return not (self.path or self.version or self.sum or self.replace is not None)

    def to_json(self) -> dict:
        out: dict = {}
        for key, value in (("Path", self.path), ("Version", self.version), ("Sum", self.sum)):
            if value:
                out[key] = _json_text(value)
        if self.replace is not None:
            out["Replace"] = self.replace.to_json()
        return out


class BuildSetting(_Plain):
    __slots__ = ("key", "value")
    _compared = __slots__

    def __init__(self, key: str = "", value: str = ""):
        self.key, self.value = key, value

    def to_json(self) -> dict:
        out = {}
        if self.key:
            out["Key"] = _json_text(self.key)
        if self.value:
            out["Value"] = _json_text(self.value)
        return out


def _quote_key(key: str) -> bool:
    return key == "" or any(c in key for c in "= \t\r\n\"`")


def _quote_value(value: str) -> bool:
    return any(c in value for c in " \t\r\n\"`")


class BuildInfo(_Plain):
    __slots__ = ("go_version", "path", "main", "deps", "settings", "format", "arch", "offset")
    _compared = ("go_version", "path", "main", "deps", "settings")

    def __init__(self, go_version: str = "", path: str = "", main: Module | None = None,
                 deps: list[Module] | None = None, settings: list[BuildSetting] | None = None,
                 format: str | None = None, arch: str | None = None, offset: int | None = None):
        self.go_version, self.path = go_version, path
        self.main = main if main is not None else Module()
        self.deps = deps if deps is not None else []
        self.settings = settings if settings is not None else []
        # Where it came from (not part of Go's BuildInfo); offset: of the blob header.
        self.format, self.arch, self.offset = format, arch, offset

    def setting(self, key: str) -> str | None:
        return next((s.value for s in self.settings if s.key == key), None)

    def to_json(self) -> dict:
        """Exactly the object `go version -m -json FILE` prints."""
        out: dict = {}
        if self.go_version:
            out["GoVersion"] = _json_text(self.go_version)
        if self.path:
            out["Path"] = _json_text(self.path)
        out["Main"] = self.main.to_json()
        if self.deps:
            out["Deps"] = [d.to_json() for d in self.deps]
        if self.settings:
            out["Settings"] = [s.to_json() for s in self.settings]
        return out

    def string(self) -> str:
        """BuildInfo.String(): the text ParseBuildInfo reads back (plus a go line)."""
        parts: list[str] = []
        if self.go_version:
            parts.append(f"go\t{self.go_version}\n")
        if self.path:
            parts.append(f"path\t{self.path}\n")

        def module(word: str, m: Module) -> None:
            parts.append(f"{word}\t{m.path}\t{m.version}")
            if m.replace is None:
                parts.append(f"\t{m.sum}")
            else:
                parts.append("\n")
                module("=>", m.replace)
            parts.append("\n")

        if not self.main.is_zero():
            module("mod", self.main)
        for d in self.deps:
            module("dep", d)
        for s in self.settings:
            key = go_quote(s.key) if _quote_key(s.key) else s.key
            value = go_quote(s.value) if _quote_value(s.value) else s.value
            parts.append(f"build\t{key}={value}\n")
        return "".join(parts)

    def lines(self) -> list[str]:
        """The lines `go version -m FILE` prints after `FILE: goX`, each starting
        with a tab (Go leaves a line holding only a tab after a replacement)."""
        text = BuildInfo(path=self.path, main=self.main, deps=self.deps,
                         settings=self.settings).string()
        if not text:
            return []
        return ["\t" + line for line in text[:-1].split("\n")]

    def raw_lines(self) -> list[bytes]:
        """lines() as the exact bytes Go prints."""
        return [_bytes(line) for line in self.lines()]


class BuildInfoParseError(ValueError):
    """ParseBuildInfo failed; str() is Go's message."""

    def __init__(self, line: int, message: str):
        super().__init__(f"could not parse Go build info: line {line}: {message}")
        self.line = line


def _module_line(elem: list[str]) -> Module:
    if len(elem) not in (2, 3):
        raise ValueError(f"expected 2 or 3 columns; got {len(elem)}")
    return Module(elem[0], elem[1], elem[2] if len(elem) == 3 else "")


def _build_line(kv: str) -> BuildSetting:
    if not kv:
        raise ValueError("build line missing '='")
    if kv[0] == "=":
        raise ValueError("build line with missing key")
    if kv[0] in "`\"":
        raw_key = _quoted_prefix(kv)
        if raw_key is None:
            raise ValueError("invalid quoted key in build line")
        if len(kv) == len(raw_key):
            raise ValueError("build line missing '=' after quoted key")
        c = kv[len(raw_key)]
        if c != "=":
            raise ValueError(f"unexpected character after quoted key: {_quote_char(_bytes(c)[0])}")
        try:
            key = _go_unquote(raw_key)
        except QuoteError:
            key = ""
        raw_value = kv[len(raw_key) + 1:]
    else:
        key, eq, raw_value = kv.partition("=")
        if not eq:
            raise ValueError("build line missing '=' after key")
        if _quote_key(key):
            raise ValueError(f"unquoted key {go_quote(key)} must be quoted")
    value = ""
    if raw_value:
        if raw_value[0] in "`\"":
            try:
                value = _go_unquote(raw_value)
            except QuoteError:
                raise ValueError("invalid quoted value in build line") from None
        else:
            value = raw_value
            if _quote_value(value):
                raise ValueError(f"unquoted value {go_quote(value)} must be quoted")
    return BuildSetting(key, value)


def parse_build_info(data: str) -> BuildInfo:
    """runtime/debug.ParseBuildInfo: GoVersion is left empty. Lines it does not
    know are skipped, and so is a last line without a newline."""
    bi = BuildInfo()
    last: Module | None = None
    line_num = 1
    try:
        while data:
            line, nl, data = data.partition("\n")
            if not nl:
                break
            if line.startswith("path\t"):
                bi.path = line[5:]
            elif line.startswith("mod\t"):
                bi.main = last = _module_line(line[4:].split("\t"))
            elif line.startswith("dep\t"):
                last = _module_line(line[4:].split("\t"))
                bi.deps.append(last)
            elif line.startswith("=>\t"):
                elem = line[3:].split("\t")
                if len(elem) != 3:
                    raise ValueError(f"expected 3 columns for replacement; got {len(elem)}")
                if last is None:
                    raise ValueError("replacement with no module on previous line")
                last.replace = Module(elem[0], elem[1], elem[2])
                last = None
            elif line.startswith("build\t"):
                bi.settings.append(_build_line(line[6:]))
            line_num += 1
    except ValueError as e:
        raise BuildInfoParseError(line_num, str(e)) from None
    return bi


# --- decoding the blob ------------------------------------------------------

def _uvarint(b: bytes) -> tuple[int, int]:
    """encoding/binary.Uvarint: (value, bytes used); n == 0 when b ends first,
    n < 0 on overflow."""
    x = s = 0
    for i, c in enumerate(b):
        if i == MAX_VARINT_LEN:
            return 0, -(i + 1)
        if c < 0x80:
            if i == MAX_VARINT_LEN - 1 and c > 1:
                return 0, -(i + 1)
            return x | c << s, i + 1
        x |= (c & 0x7F) << s
        s += 7
    return 0, 0


def _inline_string(blob: Blob, addr: int, what: str) -> tuple[bytes, int]:
    head = blob.read(addr, MAX_VARINT_LEN, f"{what} length")
    if not head:
        raise FormatError(f"build info: {what} at address {addr:#x} lies outside the data")
    length, n = _uvarint(head)
    if n == 0 and len(head) < MAX_VARINT_LEN:
        raise FormatError(f"build info: {what} length at address {addr:#x} is cut off by the end of the data")
    if n <= 0:
        raise FormatError(f"build info: {what} length at address {addr:#x} is not a valid varint")
    addr += n
    have = blob.available(addr) if length else 0
    if length > have:
        raise FormatError(f"build info: {what} of {length} bytes at address {addr:#x} runs past "
                          f"the end of the data ({have} bytes left)")
    return blob.read(addr, length, what), addr + length


def _pointed_string(blob: Blob, addr: int, what: str) -> bytes:
    size = blob.ptr_size
    hdr = blob.read(addr, 2 * size, f"{what} string header")
    if len(hdr) < 2 * size:
        raise FormatError(f"build info: the {what} string header at address {addr:#x} is not in the file")
    data, length = blob.unpack_ptr(hdr), blob.unpack_ptr(hdr[size:])
    if length == 0:
        return b""
    have = blob.available(data)
    if length > have:
        raise FormatError(f"build info: the {what} ({length} bytes at address {data:#x}) runs past "
                          f"the data the file maps there ({have} bytes)")
    return blob.read(data, length, what)


def decode_blob(blob: Blob) -> tuple[bytes, bytes]:
    """(Go version, module info with its sentinels removed), as
    debug/buildinfo's readRawBuildInfo. FormatError when the blob is broken."""
    if blob.inline:
        vers, after = _inline_string(blob, blob.strings_address, "Go version")
        mod, _ = _inline_string(blob, after, "module info")
    else:
        if blob.ptr_size not in (4, 8):
            raise FormatError(f"build info: unsupported pointer size {blob.ptr_size}")
        vers = _pointed_string(blob, blob.version_ptr, "Go version")
        # Go reads an unreadable module info (a pointer outside the mapped data,
        # as in some Go 1.13 binaries) as empty, not as an error.
        try:
            mod = _pointed_string(blob, blob.modinfo_ptr, "module info") if blob.modinfo_ptr else b""
        except FormatError:
            mod = b""
    if not vers:
        raise FormatError("build info: the Go version is empty")
    if len(mod) >= 33 and mod[-17] == 0x0A:
        mod = mod[16:-16]
    else:
        mod = b""
    return vers, mod


def build_info_of(blob: Blob) -> BuildInfo:
    vers, mod = decode_blob(blob)
    try:
        bi = parse_build_info(_text(mod))
    except BuildInfoParseError as e:
        raise FormatError(str(e)) from None
    bi.go_version = _text(vers)
    bi.format, bi.arch, bi.offset = blob.format, blob.arch, blob.offset
    return bi


# --- entry points -----------------------------------------------------------

def _from_source(src: Source, fallback: bool) -> BuildInfo | None:
    blob = find_blob(src, fallback)
    return None if blob is None else build_info_of(blob)


def read_build_info_source(path: str, src: Source, *, fallback: bool = True) -> BuildInfo | None:
    """Build info of the executable in src (for a universal Mach-O, of its first
    slice, as Go reads it). `path` only names the file in errors."""
    return guarded(path, _from_source, src, fallback)


def read_build_info_fd(path: str, fd: int, *, fallback: bool = True) -> BuildInfo | None:
    return guarded(path, lambda: _from_source(Source.of_file(fd), fallback))


def read_build_info(path: str | os.PathLike, *, fallback: bool = True) -> BuildInfo | None:
    """The Go build info of `path`, or None when it has none (not an executable
    format we know, or no blob). Raises BuildIDError: NotRegularFile,
    UnreadableFile, MalformedFile (broken containers or build info)."""
    path = os.fspath(path)
    with opened(path) as fd:
        return read_build_info_fd(path, fd, fallback=fallback)


def _slices(src: Source, fallback: bool) -> list[tuple[str | None, BuildInfo | None]]:
    slices = universal_slices(src) if identify(src) == "macho-fat" else None
    if slices is None:
        return [(arch_of(src), _from_source(src, fallback))]
    out = []
    for arch, sub in slices:
        try:
            if identify(sub) != "macho":
                raise FormatError("not a Mach-O file")
            out.append((arch or arch_of(sub), _from_source(sub, fallback)))
        except FormatError as e:
            raise FormatError(f"slice {arch or '?'} at offset {sub.base:#x}: {e}") from None
    return out


def read_build_info_slices_fd(path: str, fd: int, *,
                              fallback: bool = True) -> list[tuple[str | None, BuildInfo | None]]:
    return guarded(path, lambda: _slices(Source.of_file(fd), fallback))


def read_build_info_slices(path: str | os.PathLike, *,
                           fallback: bool = True) -> list[tuple[str | None, BuildInfo | None]]:
    """(arch, build info or None) for each slice of a universal Mach-O; for any
    other file, one pair for the file itself."""
    path = os.fspath(path)
    with opened(path) as fd:
        return read_build_info_slices_fd(path, fd, fallback=fallback)


NO_BUILD_INFO_FORMATS = ("ar", "go-archive", "gccgo-archive", "aix-big-archive", "unknown")


def _main_path(text: str) -> str | None:
    """The `path` line of module text, as ParseBuildInfo would take it (listings
    need nothing else, and parsing every dependency line costs more)."""
    path = ""
    for line in text.split("\n")[:-1]:  # a last line without newline is ignored
        if line.startswith("path\t"):
            path = line[5:]  # as in Go, a later path line replaces an earlier one
    return path or None


def summary(fd: int, found=None, src: Source | None = None) -> tuple[str | None, str | None]:
    """(Go version, main package path) of an open file, for listings; (None,
    None) when it has no build info. `found`, the file's formats.Found when the
    caller has it, lets archives and unknown files skip the search. Raises
    FormatError or OSError for broken files."""
    if found is not None and getattr(found, "format", None) in NO_BUILD_INFO_FORMATS:
        return None, None
    src = src if src is not None else Source.of_file(fd)
    if found is not None and found.format == "wasm":
        from .formats.buildinfo_blob import wasm_summary
        quick = wasm_summary(src)
        if quick is None:
            return None, None
        version, text = quick
        return _text(version), (_main_path(_text(text)) if text else None)
    blob = find_blob(src, True)
    if blob is None:
        return None, None
    vers, mod = decode_blob(blob)
    return _text(vers), _main_path(_text(mod))


__all__ = ["BuildInfo", "Module", "BuildSetting", "BuildInfoParseError", "parse_build_info",
           "decode_blob", "build_info_of", "read_build_info", "read_build_info_fd",
           "read_build_info_source", "read_build_info_slices", "read_build_info_slices_fd",
           "go_quote", "summary"]
