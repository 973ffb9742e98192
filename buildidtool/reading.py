"""Reading: open the file safely, let the format parsers locate the ID, and turn
their errors into errors that name the file."""
from __future__ import annotations

from .formats import FormatError, Found, Source, locate, reference_id

from .errors import BuildIDError, MalformedFile
from .fileio import opened
from .result import BuildIDInfo, HostID


def guarded(path: str, fn, *args):
    """Run a parser: the one place where its FormatError, or an OSError from
    reading, becomes a MalformedFile that names the file."""
    try:
        return fn(*args)
    except FormatError as e:
        raise MalformedFile(path, str(e)) from None
    except OSError as e:
        raise MalformedFile(path, f"read error: {e.strerror or e}") from None


def locate_fd(path: str, fd: int) -> Found:
    return guarded(path, locate, Source.of_file(fd))


def to_info(path: str, found: Found) -> BuildIDInfo:
    info = BuildIDInfo(path, found.format, found.arch)
    info.raw_build_id = found.build_id or None
    info.locations = list(found.locations)
    h = found.host_build_id
    if h is not None:
        info.host_build_id = HostID(h.kind, h.value, h.span.offset, h.span.size)
    if found.code_signature is not None:
        info.code_signature = (found.code_signature.offset, found.code_signature.size)
    if found.span is not None:
        info.span = (found.span.offset, found.span.size)
    info.slices = [to_info(path, s) for s in found.slices]
    return info


def read(path: str) -> BuildIDInfo:
    """The Go build ID of `path` and where it lives. Raises BuildIDError."""
    with opened(path) as fd:
        return to_info(path, locate_fd(path, fd))


def read_reference(path: str) -> bytes:
    """Exactly what `go tool buildid FILE` prints, without the newline."""
    with opened(path) as fd:
        return guarded(path, reference_id, Source.of_file(fd))


__all__ = ["read", "read_reference", "locate_fd", "guarded", "to_info", "BuildIDError"]
