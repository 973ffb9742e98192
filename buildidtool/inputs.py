"""What one walked input of a scan becomes: its records. A regular file is one
record; an archive, package or image is its own record, one per member (named
`ARCHIVE!/MEMBER`, with the facts a loose file gets) and one per link
(reported, never followed)."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from .archives.magic import sniff as sniff_archive
from .errors import BuildIDError, DatabaseError
from .facts import DIGEST, VERDICT, ArchiveFacts, Facts, failed, gather
from .formats import FormatError, sniff
from .formats.raw import MARKER_START
from .formats.source import PREFIX_SIZE
from .remote import is_reference
from .tree import Walked
from .verdict import NO_BUILD_ID, Verdict


def records(item: Walked, asked: frozenset, archives=None, remote=None, vulndb=None) -> Iterator[Facts]:
    """The records of one walked input; with `archives` (an
    archives.limits.Limits, None to look inside nothing), one per member of an
    archive, package or image too. `remote`: the Limits a registry image is
    read with when archives are not looked inside (its platform choice).
    `vulndb`: the database VULNS matches against."""
    if not item.error and is_reference(item.path):
        yield from _remote_input(item.path, asked, archives, remote, vulndb)
        return
    if archives is not None and not item.error:
        yield from _archive_input(item.path, asked, archives, vulndb)
        return
    yield of_path(item, asked, vulndb)


def of_path(item: Walked, asked: frozenset, vulndb=None) -> Facts:
    """The record of one walked regular file."""
    path = item.path
    if item.error:
        return failed(path, item.error, asked)
    # Not fileio.open_regular: the walk has already seen a regular file, so its
    # stat before the open is skipped, and the one fstat gives the size too
    # (system calls are half of a scan's time).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        return failed(path, e.strerror or str(e), asked)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped after the walk saw it
            return failed(path, "not a regular file", asked)
        return of_fd(path, fd, asked, None, st.st_size, vulndb)
    finally:
        os.close(fd)


def of_fd(path: str, fd: int, asked: frozenset, head: bytes | None = None, size: int | None = None,
          vulndb=None) -> Facts:
    """The record of the bytes open on fd (a file, or a spooled archive
    member; or a remote.ranged.RemoteFile, with head and size given), named
    `path`; `head`: its first bytes and `size`, when the caller has them."""
    try:
        size = os.fstat(fd).st_size if size is None else size
        if head is None or (len(head) < PREFIX_SIZE and len(head) < size):
            head = os.pread(fd, PREFIX_SIZE, 0)  # the prefix the parsers read first
    except OSError as e:
        return failed(path, f"read error: {e.strerror or e}", asked)
    # Most files in a tree are not binaries: this one read decides, and they
    # skip the parsers.
    if VERDICT not in asked and sniff(head) == "unknown" and MARKER_START not in head:
        return Facts(path, asked=asked)
    try:
        return gather(path, fd, asked, size=size, head=head, vulndb=vulndb)
    except FormatError as e:
        return failed(path, str(e), asked, sniff(head))
    except OSError as e:
        return failed(path, f"read error: {e.strerror or e}", asked)
    except DatabaseError as e:  # an entry this file needed could not be had: its record says so
        return failed(path, str(e), asked, sniff(head))
    except BuildIDError as e:  # a ranged read of a URL that failed part way
        return failed(path, e.message, asked, sniff(head))


# --- remote inputs ---

def _remote_input(path: str, asked: frozenset, limits, remote, vulndb=None) -> Iterator[Facts]:
    """A registry image (its members, as a local image's), or a file by URL
    (read by ranges; fetched whole for --verify, an SBOM or an archive). What
    cannot be fetched is this input's error record; the scan goes on."""
    from .remote import opening  # the HTTP client: only for a remote input
    from .remote.refs import is_registry, split_member
    outer, member = split_member(path)
    try:
        if member is not None:  # one file in a remote image or archive
            fd = opening.open_member(path, limits or remote)
            try:
                yield of_fd(path, fd, asked, vulndb=vulndb)
            finally:
                os.close(fd)
            return
        if is_registry(path):
            lim = limits or remote
            items = opening.image_items(path, lim, lim.all_layers, spool_all=DIGEST in asked)
            yield from _members(items, asked, vulndb)
            return
        f, head = opening.url_input(path, whole=VERDICT in asked or DIGEST in asked)
    except BuildIDError as e:
        yield failed(path, e.message, asked)
        return
    try:
        fmt = sniff_archive(head) if limits is not None else None
        if fmt is not None:
            from .archives.expand import worth_opening
            fmt = worth_opening(fmt, head)
        if fmt is None:
            size = f.size if type(f) is not int else None
            yield of_fd(path, f, asked, head, size, vulndb)
            return
        from .archives.expand import expand
        try:
            fd = f if type(f) is int else opening.whole_fd(f)
        except BuildIDError as e:
            yield failed(path, e.message, asked)
            return
        try:
            yield from _members(expand(path, fd, limits, limits.all_layers, fmt=fmt, spool_all=DIGEST in asked),
                                asked, vulndb)
        finally:
            if fd is not f:
                os.close(fd)
    finally:
        if type(f) is int:
            os.close(f)
        else:
            f.close()


# --- archives ---

def _archive_input(path: str, asked: frozenset, limits, vulndb=None) -> Iterator[Facts]:
    # expand.py is imported only when an input is an archive: it loads tarfile,
    # zipfile, lzma and zstandard (about 30 ms), which a tree of plain files never needs.
    # Opened first and asked once what it is: a scan of a tree passes here for
    # every file, and most are neither archives nor layouts.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        yield failed(path, e.strerror or str(e), asked)
        return
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # the walk hands over a directory only when it is an OCI layout
            from .archives.expand import expand_layout
            yield from _members(expand_layout(path, limits, limits.all_layers, spool_all=DIGEST in asked), asked,
                                vulndb)
            return
        if not stat.S_ISREG(st.st_mode):  # swapped after the walk saw it
            yield failed(path, "not a regular file", asked)
            return
        try:
            head = os.pread(fd, PREFIX_SIZE, 0)
        except OSError as e:
            yield failed(path, f"read error: {e.strerror or e}", asked)
            return
        fmt = sniff_archive(head)
        if fmt is not None:
            from .archives.expand import worth_opening
            fmt = worth_opening(fmt, head)
        if fmt is None:
            yield of_fd(path, fd, asked, head, st.st_size, vulndb)
            return
        from .archives.expand import expand
        yield from _members(expand(path, fd, limits, limits.all_layers, fmt=fmt, spool_all=DIGEST in asked), asked,
                            vulndb)
    finally:
        os.close(fd)


def _members(items, asked: frozenset, vulndb=None) -> Iterator[Facts]:
    from .archives.expand import ARCHIVE, LINK, MEMBER

    for it in items:
        extra = {}
        if it.layer is not None:
            extra["layer"] = it.layer
        if it.notes:
            extra["notes"] = tuple(it.notes)
        if it.kind == MEMBER and it.error:
            rec = failed(it.name, it.error, asked)
        elif it.kind == MEMBER and it.fd is not None:
            rec = of_fd(it.name, it.fd, asked, vulndb=vulndb)
        elif it.kind == MEMBER:
            # Not spooled: the formats layer has nothing to say about it, as of
            # an unknown loose file.
            rec = Facts(it.name, asked=asked, **({"verdict": Verdict(NO_BUILD_ID, "the file has no Go build ID")}
                                                 if VERDICT in asked else {}))
        elif it.kind == LINK:
            rec = Facts(it.name, format="link", link=it.link, asked=asked)
        elif it.kind == ARCHIVE:
            rec = failed(it.name, it.error, asked, it.format) if it.error else Facts(it.name, format=it.format,
                                                                                      asked=asked)
            info = it.info
            extra["archive"] = ArchiveFacts(info.get("members"), info.get("repo_tags"), info.get("config_digest"),
                                            info.get("layers"), info.get("digest"), info.get("platform"),
                                            info.get("index"), info.get("package"))
        else:  # devices, FIFOs: not regular files, as the walk skips them on disk
            continue
        yield rec.replace(**extra) if extra else rec
