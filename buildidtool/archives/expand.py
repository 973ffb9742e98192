"""The one pass over an input: which archive format it is, its members as
Items (virtual name, and for a regular member a spooled fd when the formats
layer could make anything of it), nested archives expanded in place, and the
archive's own record last, carrying any error that stopped the pass."""
from __future__ import annotations

import io
import os
import posixpath
import re
import struct
import tarfile
import zipfile
import zlib

from . import deb, image, package, platforms, rpm, tarball, ziparchive
from .entry import FILE, HARDLINK, SYMLINK, UNREADABLE, Entry
from .limits import Budget, LimitExceeded, Limits
from .paths import SEP, clean, join
from .magic import SUFFIX, looks_like_tar, sniff
from .streams import (CHUNK, MAX_WINDOW, Chain, Counted, Window, charge_window, decompressor, read_full, spool,
                      spool_extent, window)

from ..errors import BuildIDError
from ..formats import sniff as sniff_container
from ..formats.macho import MAX_FAT_ARCHS
from ..formats.raw import find_marker
from ..formats.source import PREFIX_SIZE as HEAD  # the prefix the format parsers read first

MEMBER, LINK, ARCHIVE, SKIPPED = "member", "link", "archive", "skipped"


class Item:
    """One record's worth: a member (fd set when spooled), a link, or an archive."""

    __slots__ = ("name", "kind", "fd", "format", "error", "notes", "layer", "link", "info")

    def __init__(self, name: str, kind: str, fd: int | None = None, format: str | None = None,
                 error: str | None = None, notes=None, layer=None, link=None, info=None):
        self.name, self.kind, self.fd, self.format, self.error = name, kind, fd, format, error
        self.notes, self.layer, self.link, self.info = notes or [], layer, link, info or {}


def _errors() -> tuple:
    errs = [tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError, KeyError, IndexError, OverflowError, struct.error, UnicodeError, NotImplementedError,
            RuntimeError]
    import lzma
    errs.append(lzma.LZMAError)
    try:
        import zstandard
        errs.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errs)


_ERRORS = _errors()


def _message(e: BaseException) -> str:
    """One line for what stopped an archive: truncated, corrupt, or the OS's word."""
    text = " ".join((str(e) or type(e).__name__).split())
    low = text.lower()
    if isinstance(e, EOFError) or "end of data" in low or "ended before" in low:
        return text if "truncat" in low else f"truncated archive: {text}"
    if "memory usage limit" in low or "too much memory" in low:  # a later xz block or zstd frame
        return f"compressed stream needs more memory than the archive reader's memory bound ({text})"
    if isinstance(e, OSError) and e.errno:
        return f"read error: {e.strerror or text}"
    if isinstance(e, (tarfile.TarError, zipfile.BadZipFile, zlib.error, OSError)) or "decompress" in low:
        return text if "corrupt" in low else f"corrupt archive: {text}"
    return text



def expand(name: str, fd: int, limits: Limits, all_layers: bool = False,
           fmt: str | None = None, target: str | None = None, spool_all: bool = False):
    """Items for the archive open on fd, named `name`; None if it is not an
    archive. With `target` (a member path), only what leads to it is read and
    that member is spooled whatever it holds; with `spool_all` every member is
    (an SBOM wants every file's digest)."""
    size = os.fstat(fd).st_size
    if fmt is None:
        fmt = sniff(os.pread(fd, HEAD, 0))
    if fmt is None:
        return None
    budget = Budget(limits, size)
    budget.target, budget.spool_all = target, spool_all
    if fmt == "tar" and limits.platform == platforms.ALL:
        several = _several_images(name, lambda: image.TarStore(fd, size), budget, all_layers)
        if several is not None:
            return several
    return _archive(name, fd, size, fmt, budget, all_layers, depth=1)


def expand_layout(root: str, limits: Limits, all_layers: bool = False, target: str | None = None,
                  spool_all: bool = False, name: str | None = None):
    """Items for an OCI layout directory (named `name`, by default its path)."""
    budget = Budget(limits, _tree_size(root))
    budget.target, budget.spool_all = target, spool_all
    store = image.DirStore(root)
    if limits.platform == platforms.ALL:
        several = _several_images(root, lambda: store, budget, all_layers)
        if several is not None:
            return several
    return _run(name or root, "oci-image", budget, all_layers, 1, lambda rec: _image_entries(store, image.OCI, rec, budget,
                                                                                      all_layers))


def expand_image(name: str, store, img, limits: Limits, all_layers: bool = False, target: str | None = None,
                 spool_all: bool = False, input_size: int = 1):
    """Items for one image already described (`img`, an image.ImageInfo) whose
    layers `store.open(path)` reads: a registry's, fetched and checked blob by blob."""
    budget = Budget(limits, input_size)
    budget.target, budget.spool_all = target, spool_all
    store.budget = budget  # a store that decompresses layers itself charges what it makes
    return _run(name, img.format, budget, all_layers, 1,
                lambda rec: _image_entries(store, img.format, rec, budget, all_layers, img))


def _several_images(name: str, make_store, budget, all_layers):
    """--platform all on an image file or layout holding several images: each
    read in turn, its records named NAME@DIGEST (the digest of its manifest, or
    for `docker save` its image ID); None when it holds one image or none."""
    try:
        store = make_store()
        kind = image.kind(store)
        imgs = image.describe_all(store, kind, platforms.ALL) if kind else []
    except (image.NotAnImage, *_ERRORS):
        return None
    if len(imgs) < 2 or any(img.digest is None for img in imgs):
        return None

    def run():
        for img in imgs:
            yield from _run(f"{name}@{img.digest}", kind, budget, all_layers, 1,
                            lambda rec, img=img: _image_entries(store, kind, rec, budget, all_layers, img))
    return run()


def is_layout(root: str) -> bool:
    return os.path.isfile(os.path.join(root, "oci-layout")) and os.path.isfile(os.path.join(root, "index.json"))


def _tree_size(root: str) -> int:
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total


def _image_entries(store, fmt, rec: Item, budget, all_layers, img=None):
    img = img or image.describe(store, fmt, budget.limits.platform)
    rec.info.update(img.info())
    if img.note:
        rec.notes.append(img.note)
    return image.entries(store, img, budget, all_layers)


def _archive(name, fd, size, fmt, budget, all_layers, depth):
    def open_entries(rec: Item):
        if fmt == "zip":
            return ziparchive.entries(io.BufferedReader(Window(fd, 0, size), CHUNK), budget)
        if fmt == "deb":
            _identify(rec, package.of_deb, fd, size)
            return deb.entries(fd, 0, size, budget)
        if fmt == "rpm":
            _identify(rec, package.of_rpm, fd, size)
            return rpm.entries(fd, 0, size, budget)
        if fmt == "tar":
            return _tar_or_image(fd, size, rec, budget, all_layers)
        return _compressed(name, fd, size, fmt, rec, budget, all_layers)
    return _run(name, fmt, budget, all_layers, depth, open_entries)


def _compressed(name, fd, size, fmt, rec: Item, budget, all_layers):
    """A compressed file: a tar inside reads as one (tar.gz, ...); anything
    else is one member, named as the archive without its suffix."""
    raw = io.BufferedReader(Window(fd, 0, size), CHUNK)
    held = charge_window(fmt, raw.peek(64)[:64], budget)
    try:
        stream = Counted(decompressor(fmt, raw, held), budget)
        first = read_full(stream, 512)
        stream = Chain(first, stream)
        if looks_like_tar(first):
            rec.format = f"tar.{SUFFIX[fmt]}"
            if _IMAGE_START.match(first[:100].split(b"\0", 1)[0]):
                yield from _compressed_image(stream, rec, budget, all_layers, fmt)
            else:
                yield from tarball.entries(stream, budget, compressed=False)
            return
        stem, ext = posixpath.splitext(posixpath.basename(name.rsplit(SEP, 1)[-1]))
        member = stem if ext else f"{stem}.out"
        yield Entry(member, FILE, budget.limits.max_member_size, reader=stream)
    finally:
        budget.release(held)


def _tar_or_image(fd, size, rec: Item, budget, all_layers):
    """A plain tar on fd: an image when it holds one, else its members."""
    try:
        store = image.TarStore(fd, size)
    except image.NotAnImage:
        store = None
    except _ERRORS:  # broken: the forward read below yields what it can, then says what is wrong
        store = None
    kind = image.kind(store) if store is not None else None
    if kind is not None:
        try:
            img = image.describe(store, kind, budget.limits.platform)
        except image.NoPlatform:
            raise
        except _ERRORS:  # a manifest.json that describes no image: an ordinary tar
            img = None
        if img is not None:
            rec.format = kind
            return _image_entries(store, kind, rec, budget, all_layers, img)
    return tarball.entries(io.BufferedReader(Window(fd, 0, size), CHUNK), budget)


# The first member of a `docker save` or OCI layout tar: an image layout file, a blob
# directory, or (older docker) a layer directory or config named by a digest.
_IMAGE_START = re.compile(rb"^(\./)?(oci-layout|index\.json|manifest\.json|blobs/?|[0-9a-f]{64}(/|\.json)).*", re.S)


def _compressed_image(stream, rec: Item, budget, all_layers, fmt):
    """`docker save | gzip`: the image needs random access, so the decompressed tar
    is spooled first (counted against the limits like any decompressed byte)."""
    fd = spool(b"", stream, budget.limits.max_total_size, budget)
    try:
        size = os.fstat(fd).st_size
        entries = _tar_or_image(fd, size, rec, budget, all_layers)
        if rec.format in (image.DOCKER, image.OCI):
            rec.notes.append(f"{fmt}-compressed image, decompressed to a temporary file first")
        else:
            rec.format = f"tar.{SUFFIX[fmt]}"
        yield from entries
    finally:
        os.close(fd)


def _identify(rec: Item, how, fd: int, size: int) -> None:
    """The package's own name and version on its record; a package whose
    metadata cannot be read is simply not named (its members are read all the same)."""
    try:
        found = how(fd, size)
    except _ERRORS:
        found = None
    if found is not None:
        rec.info["package"] = found


def _run(name, fmt, budget, all_layers, depth, open_entries):
    rec = Item(name, ARCHIVE, format=fmt)
    seen: set[int] = set()  # hashes of the names met, for "duplicate name" notes
    count = 0
    try:
        for e in open_entries(rec):
            count += 1
            yield from _member(name, e, budget, all_layers, depth, seen, rec)
    except LimitExceeded as e:
        rec.error = str(e)
    except BuildIDError as e:  # a registry blob that could not be fetched or does not match its digest
        rec.error = e.message
    except _ERRORS as e:
        rec.error = _message(e)
    rec.info["members"] = count
    yield rec


def _member(outer, e: Entry, budget: Budget, all_layers: bool, depth: int, seen: set, owner: Item):
    shown, notes = clean(e.name)
    notes = notes + e.notes
    vname = join(outer, shown)
    target = budget.target
    if target is not None and vname != target and not target.startswith(vname + SEP):
        return
    # A hash, not the name: a member count's worth of names could be large (a
    # name may be a 1 MiB long name); two names sharing a 64-bit hash is the
    # price, a false note once in billions of archives.
    key = hash((shown, e.layer) if all_layers else shown)
    if key in seen:
        notes.append("duplicate name")
    else:
        budget.hold(_SEEN_COST, "the names seen in the archive")
        seen.add(key)
    if e.kind in (SYMLINK, HARDLINK):
        yield Item(vname, LINK, notes=notes, layer=e.layer, link=f"{e.kind} to {e.link}")
        return
    if e.kind == UNREADABLE:
        yield Item(vname, MEMBER, error="; ".join(notes), layer=e.layer)
        return
    if e.kind != FILE:
        yield Item(vname, SKIPPED, notes=notes, layer=e.layer)
        return
    budget.member(e.size)
    if e.head is not None:
        head = e.head
    elif e.extent:
        head = os.pread(e.extent[0], min(HEAD, e.size), e.extent[1])
    else:
        head = read_full(e.reader, min(HEAD, e.size))
    if depth == 1 and len(head) == e.size and package.wanted(shown) and "package" not in owner.info:
        found = package.of_member(shown, head)  # a wheel's METADATA, an npm package's package.json
        if found is not None:
            owner.info["package"] = found
    inner = None if vname == target else worth_opening(sniff(head), head)
    if inner is not None:
        if depth >= budget.limits.max_depth:
            lim = budget.limits.max_depth
            yield Item(vname, ARCHIVE, format=inner, notes=notes, layer=e.layer,
                       error=str(LimitExceeded("max_depth", lim, f"nesting depth {depth + 1}")))
            return
        fd = _spool(e, head, budget)
        try:
            size = os.fstat(fd).st_size
            for item in _archive(vname, fd, size, inner, budget, all_layers, depth + 1):
                if item.name == vname:  # the nested archive's own record
                    item.notes[:0] = notes
                    item.layer = e.layer
                yield item
        finally:
            os.close(fd)
        return
    if target is None and not budget.spool_all and not _worth_spooling(head):
        yield Item(vname, MEMBER, notes=notes, layer=e.layer)
        return
    fd = _spool(e, head, budget)
    try:
        yield Item(vname, MEMBER, fd=fd, notes=notes, layer=e.layer)
    finally:
        os.close(fd)


_SEEN_COST = 64  # an int and its slot in a set


def worth_opening(fmt: str | None, head: bytes) -> str | None:
    """`fmt` if an archive of that format should be opened. A lone compressed
    file is opened only when what it holds starts like a tar, an archive or a
    binary: a package's hundreds of compressed man pages stay one plain record
    each. A start that does not decode on its own (a bzip2 block is up to
    900 kB) is opened, to be sure."""
    if fmt not in SUFFIX:
        return fmt
    try:
        inner = decompressor(fmt, io.BytesIO(head), min(window(fmt, head), MAX_WINDOW)).read(HEAD)
    except _ERRORS:
        inner = b""
    except Exception:  # the codec of a cut-off start can fail in its own ways
        inner = b""
    if not inner:
        return fmt
    return fmt if sniff(inner) is not None or _worth_spooling(inner) else None


def _spool(e: Entry, head: bytes, budget: Budget) -> int:
    if e.extent is not None:
        return spool_extent(e.extent[0], e.extent[1], e.size, budget)
    if e.head is not None:  # the reader is unread: it gives the whole member
        return spool(b"", e.reader, e.size, budget)
    return spool(head, e.reader, e.size, budget)


def _worth_spooling(head: bytes) -> bool:
    kind = sniff_container(head)
    if kind == "macho-fat" and not _plausible_fat(head):
        kind = "unknown"  # a Java class file: a jar holds thousands, and the parsers would say unknown
    return kind != "unknown" or find_marker(head) is not None


def _plausible_fat(head: bytes) -> bool:
    return 0 < int.from_bytes(head[4:8], "big") <= MAX_FAT_ARCHS
