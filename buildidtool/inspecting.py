"""`info`: everything known about a file, per slice: the build ID and its parts,
the host build ID and whether it was derived, the Mach-O code signature and
whether its page hashes match, and the Go build info."""
from __future__ import annotations

from . import codesign, goversion, hostid
from .buildinfo import read_build_info_fd, read_build_info_slices_fd
from .errors import BuildIDError, naming, os_message
from .fileio import opened
from .formats import Found
from .reading import locate_fd, to_info, unit_source
from .result import HostID


def _unit(fd: int, found: Found, record: dict, build_info, build_info_error: str | None) -> list[str]:
    """Fill one unit's record; return its `go version -m` text lines."""
    version = {"go_version": build_info.go_version if build_info is not None else None}
    goversion.fill(version, found, unit_source(fd, found))
    h = found.host_build_id
    if h is not None:
        # Without build info, the recovered Go version still says which rule applies.
        settings = hostid.settings_of(build_info) if build_info is not None else None
        status, why = hostid.judge(found.build_id, h.kind, h.value, version["go_version"], settings)
        record["host_build_id"] = HostID.of(h, status, why).to_json()
    sig = found.code_signature
    if sig is not None:
        base = found.span.offset if found.span is not None else 0
        try:
            check = codesign.check_file(fd, sig, base)
        except OSError:
            check = None
        record["code_signature"] = {
            "offset": sig.offset, "size": sig.size,
            "go_made": codesign.size(sig.offset - base) == sig.size,
            "pages": check.pages if check else None,
            "pages_match": check.ok if check else None,
        }
    record["build_info"] = build_info.to_json() if build_info is not None else None
    record["build_info_error"] = build_info_error
    record.update(version)
    return build_info.lines() if build_info is not None else []


def inspect(path: str) -> dict:
    """The `info --json` object for one file. Raises BuildIDError."""
    return inspect_with_lines(path)[0]


def failed(path: str, error: str) -> dict:
    """The `info --json` object of a file that could not be read: every key of
    a thin file's object, `error` set."""
    from .result import BuildIDInfo
    return {**BuildIDInfo.failed(path, error).to_json(), "build_info": None, "build_info_error": None,
            "go_version": None, "go_version_source": None}


def inspect_with_lines(path: str) -> tuple[dict, list[list[str]]]:
    """inspect(), and the `go version -m` text lines of each unit (the file, or
    each slice), which the text form shows."""
    with naming(path), opened(path) as fd:
        found = locate_fd(fd)
        record = to_info(path, found).to_json()
        try:
            infos = read_build_info_slices_fd(path, fd) if found.slices else \
                [(found.arch, read_build_info_fd(path, fd))]
            error = None
        except BuildIDError as e:
            infos, error = [(None, None)] * max(1, len(found.slices)), e.message
        except OSError as e:
            infos, error = [(None, None)] * max(1, len(found.slices)), os_message(e)
        if found.slices:
            lines = [_unit(fd, s, r, bi, error)
                     for s, r, (_, bi) in zip(found.slices, record["slices"], infos)]
            record["build_info"] = None
            record["build_info_error"] = None
            # The file's version is its first slice's, as Go reads it.
            record["go_version"] = record["slices"][0].get("go_version")
            record["go_version_source"] = record["slices"][0].get("go_version_source")
            return record, lines
        return record, [_unit(fd, found, record, infos[0][1], error)]
