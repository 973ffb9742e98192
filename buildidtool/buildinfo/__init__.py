"""Go build info: the toolchain version and module information the linker
embeds, read the way `go version -m` reads it (debug/buildinfo, then
runtime/debug.ParseBuildInfo), for every format formats.buildinfo_blob knows.

    info = read_build_info("hello")            # BuildInfo, or None
    info.to_json()                             # what `go version -m -json` prints
    info.lines()                               # the lines `go version -m` prints after the first
    read_build_info_slices("hello-universal")  # [(arch, BuildInfo | None), ...]

The model is model.py, the text parser parse.py, the blob and its two strings
formats/buildinfo_blob.py; this module joins them. Nothing on the path of
reading build IDs imports it."""
from __future__ import annotations

import os

from ..errors import naming
from ..fileio import opened
from ..formats import Source, image, slices, sniff
from ..formats.buildinfo_blob import Blob, decode_blob, find_blob, wasm_summary
from ..formats.errors import FormatError
from ..formats.kinds import EXECUTABLES, UNIVERSAL
from .model import BuildInfo, BuildSetting, Module
from .parse import BuildInfoParseError, parse_build_info


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def of_blob(blob: Blob) -> BuildInfo:
    """The build info a blob holds; FormatError when it is broken."""
    vers, mod = decode_blob(blob)
    try:
        bi = parse_build_info(_text(mod))
    except BuildInfoParseError as e:
        raise FormatError(str(e)) from None
    bi.go_version = _text(vers)
    bi.format, bi.arch, bi.offset = blob.format, blob.arch, blob.offset
    return bi


def of_source(src: Source, fallback: bool = True, arch: str | None = None) -> BuildInfo | None:
    """Build info of the executable in src (a unit, or a universal file's first
    slice as Go reads it), None when it has none; FormatError when broken."""
    blob = find_blob(src, fallback, arch)
    return None if blob is None else of_blob(blob)


def read_build_info(path: str | os.PathLike, *, fallback: bool = True) -> BuildInfo | None:
    """The Go build info of `path`, or None when it has none (not an executable
    format we know, or no blob). Raises BuildIDError: NotRegularFile,
    UnreadableFile, MalformedFile (broken containers or build info)."""
    path = os.fspath(path)
    with naming(path), opened(path) as fd:
        return of_source(Source.of_file(fd), fallback)


def read_build_info_slices(path: str | os.PathLike, *,
                           fallback: bool = True) -> list[tuple[str | None, BuildInfo | None]]:
    """(arch, build info or None) for each slice of a universal Mach-O; for any
    other file, one pair for the file itself."""
    path = os.fspath(path)
    with naming(path), opened(path) as fd:
        src = Source.of_file(fd)
        if sniff(src.prefix()) != UNIVERSAL:
            bi = of_source(src, fallback)
            return [(bi.arch if bi is not None else _arch(src), bi)]
        out = []
        for arch, sub in slices(src) or ():
            try:
                if sniff(sub.prefix()) != "macho":
                    raise FormatError("not a Mach-O file")
                bi = of_source(sub, fallback, arch)
                out.append((arch or (bi.arch if bi is not None else _arch(sub)), bi))
            except FormatError as e:
                raise FormatError(f"slice {arch or '?'} at offset {sub.base:#x}: {e}") from None
        return out


def _arch(src: Source) -> str | None:
    img = image(src)
    return img.arch if img is not None else None


def _main_path(text: str) -> str | None:
    """The `path` line of module text, as ParseBuildInfo would take it (listings
    need nothing else, and parsing every dependency line costs more)."""
    path = ""
    for line in text.split("\n")[:-1]:  # a last line without newline is ignored
        if line.startswith("path\t"):
            path = line[5:]  # as in Go, a later path line replaces an earlier one
    return path or None


def summary(src: Source, format: str) -> tuple[str | None, str | None]:
    """(Go version, main package path) of a unit whose Found.format is
    `format`, for listings; (None, None) when it has no build info. Raises
    FormatError or OSError for broken files."""
    if format not in EXECUTABLES:
        return None, None
    if format == "wasm":
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


__all__ = ["BuildInfo", "Module", "BuildSetting", "BuildInfoParseError", "parse_build_info", "of_blob",
           "of_source", "read_build_info", "read_build_info_slices", "summary"]
