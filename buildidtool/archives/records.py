"""Scan records for an input that may be an archive: the archive's own record
(its format, member count, any error that stopped the read; an image's tags,
config digest and layers), one per member with the same facts a loose file
gets, one per link (reported, never followed)."""
from __future__ import annotations

import os
import stat

from ..scanning import empty_record, error_record, record_of_fd
from .detect import detect
from .limits import Limits

from ..formats.source import PREFIX_SIZE as HEAD  # the prefix the format parsers read first


def of_input(path: str, verify: bool, limits: Limits, sbom: bool = False):
    # Opened first and asked once what it is: a scan of a tree passes here for
    # every file, and most are neither archives nor layouts.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        yield error_record(path, e.strerror or str(e), verify)
        return
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if stat.S_ISDIR(mode):  # the walk hands over a directory only when it is an OCI layout
            from .walk import expand_layout
            yield from _records(expand_layout(path, limits, limits.all_layers, spool_all=sbom), verify, sbom)
            return
        if not stat.S_ISREG(mode):  # swapped after the walk saw it
            yield error_record(path, "not a regular file", verify)
            return
        try:
            head = os.pread(fd, HEAD, 0)
        except OSError as e:
            yield error_record(path, f"read error: {e.strerror or e}", verify)
            return
        fmt = detect(head)
        if fmt is not None:
            from .walk import worth_opening
            fmt = worth_opening(fmt, head)
        if fmt is None:
            yield record_of_fd(path, fd, verify, sbom, head, st.st_size)
            return
        from .walk import expand
        yield from _records(expand(path, fd, limits, limits.all_layers, fmt=fmt, spool_all=sbom), verify, sbom)
    finally:
        os.close(fd)


def _records(items, verify: bool, sbom: bool):
    from .walk import ARCHIVE, LINK, MEMBER

    for it in items:
        if it.kind == MEMBER and it.error:
            rec = error_record(it.name, it.error, verify)
        elif it.kind == MEMBER:
            rec = record_of_fd(it.name, it.fd, verify, sbom) if it.fd is not None else _plain(it.name, verify)
        elif it.kind == LINK:
            rec = empty_record(it.name)
            rec["format"], rec["link"] = "link", it.link
        elif it.kind == ARCHIVE:
            rec = empty_record(it.name, it.error)
            rec["format"] = it.format
            rec.update(it.info)
            if verify and it.error:
                rec["status"], rec["reason"], rec["modification"] = "error", it.error, None
        else:  # devices, FIFOs: not regular files, as the walk skips them on disk
            continue
        if it.layer is not None:
            rec["layer"] = it.layer
        if it.notes:
            rec["notes"] = it.notes
        yield rec


def _plain(name: str, verify: bool) -> dict:
    """A member the formats layer has nothing to say about (it was not spooled):
    the record an unknown loose file gets."""
    rec = empty_record(name)
    if verify:
        from ..verifying import NO_BUILD_ID
        rec["status"], rec["reason"], rec["modification"] = NO_BUILD_ID, "the file has no Go build ID", None
    return rec
