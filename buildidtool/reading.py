"""Reading: open the file safely and let the format parsers locate the ID;
`naming` (errors.py) turns their errors into ones that name the file."""
from __future__ import annotations

from .formats import Found, Source, locate, reference_id

from .errors import BuildIDError, naming
from .fileio import opened
from .result import BuildIDInfo, HostID


def locate_fd(fd: int) -> Found:
    """The located facts of an open file; raises FormatError or OSError (call
    it inside `naming`)."""
    return locate(Source.of_file(fd))


def unit_source(fd: int, found: Found) -> Source:
    """The bytes of one unit of the open file: the file, or a slice of a universal one."""
    src = Source.of_file(fd)
    return src.view(found.span.offset, found.span.size) if found.span is not None else src


def to_info(path: str, found: Found) -> BuildIDInfo:
    info = BuildIDInfo(path, found.format, found.arch)
    info.raw_build_id = found.build_id or None
    info.locations = list(found.locations)
    h = found.host_build_id
    if h is not None:
        info.host_build_id = HostID.of(h)
    if found.code_signature is not None:
        info.code_signature = (found.code_signature.offset, found.code_signature.size)
    if found.span is not None:
        info.span = (found.span.offset, found.span.size)
    info.slices = [to_info(path, s) for s in found.slices]
    return info


def read(path: str) -> BuildIDInfo:
    """The Go build ID of `path` and where it lives. Raises BuildIDError."""
    with naming(path), opened(path) as fd:
        return to_info(path, locate_fd(fd))


def read_reference(path: str) -> bytes:
    """Exactly what `go tool buildid FILE` prints, without the newline."""
    with naming(path), opened(path) as fd:
        return reference_id(Source.of_file(fd))


__all__ = ["read", "read_reference", "locate_fd", "to_info", "BuildIDError"]
