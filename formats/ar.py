"""Unix ar archives: Go package archives (build ID in the __.PKGDEF header) and
gccgo archives (build ID in the member _buildid.o, an ELF object)."""
from __future__ import annotations

from collections import namedtuple

from . import elf, magic
from .errors import FormatError
from .goint import parse_int
from .goquote import QuoteError, unquote
from .model import Found, Region, image_end
from .source import Source


# --- structures (ar(5)) ---
MAGIC = magic.AR
HEADER_SIZE = 60          # name[16] date[12] uid[6] gid[6] mode[8] size[10] fmag[2]
NAME = slice(0, 16)
SIZE = slice(48, 58)
PKGDEF = b"__.PKGDEF"
GO_OBJECT = b"go object "
BUILD_ID = b"build id "
GCCGO_MEMBER = "_buildid.o/"
# The Go header lines come first; this much always holds them.
GO_HEADER_READ = 1024


def read(src: Source) -> Found:
    data = src.prefix(GO_HEADER_READ)
    lines = data.split(b"\n", 4)
    # A Go archive: "!<arch>", "__.PKGDEF ...", "go object ...", then the build id line.
    if (len(lines) == 5 and lines[0] == MAGIC[:-1] and lines[1].startswith(PKGDEF)
            and lines[2].startswith(GO_OBJECT)):
        line = lines[3]
        if not line.startswith(BUILD_ID):
            return Found("go-archive", _goarch(lines[2]))  # a Go archive without a build id line
        try:
            build_id = unquote(line[len(BUILD_ID):])
        except QuoteError:
            return read_gccgo(src)
        return Found("go-archive", _goarch(lines[2]), build_id,
                     [src.absolute(sum(len(x) + 1 for x in lines[:3]) + len(BUILD_ID) + 1)])
    return read_gccgo(src)


def _goarch(line: bytes) -> str | None:
    # "go object GOOS GOARCH VERSION ..."
    words = line.split()
    return words[3].decode("ascii", "replace") if len(words) > 3 else None


def go_version(src: Source) -> str | None:
    """The Go version a package archive's object header names ("go object
    GOOS GOARCH VERSION [experiments]"), or None: a Go toolchain version like
    `go1.22.1` or `devel go1.23-…`. The header's X: list names every enabled
    experiment, defaults included, where build info names only the others: it
    is left out, so one release reads the same in archives and executables."""
    lines = src.prefix(GO_HEADER_READ).split(b"\n", 4)
    if len(lines) < 4 or lines[0] != MAGIC[:-1] or not lines[1].startswith(PKGDEF) \
            or not lines[2].startswith(GO_OBJECT):
        return None
    words = lines[2].split()[4:]
    if not words:
        return None
    if words[0] == b"devel" and len(words) > 1:
        words = [b"devel " + words[1]] + words[2:]
    return words[0].decode("ascii", "replace")


def members(src: Source):
    """Yield (name, data offset, size) for each member, in order."""
    off = len(MAGIC)
    while True:
        if off >= src.size:
            return
        hdr = src.read_at(off, HEADER_SIZE, "archive member header")
        try:
            size = parse_int(hdr[SIZE].decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise FormatError(f"archive member at offset {off:#x} has a bad size field {hdr[SIZE]!r}") from None
        if size < 0:
            raise FormatError(f"archive member at offset {off:#x} has a negative size {size}")
        name = hdr[NAME].decode("latin-1").strip()
        yield name, off + HEADER_SIZE, size
        off += HEADER_SIZE + size
        off += off & 1


def read_gccgo(src: Source) -> Found:
    for name, off, size in members(src):
        if name == GCCGO_MEMBER:
            # Go reads the member lazily: a size running past the end is harmless
            # as long as the object's own structures are in the file.
            obj = elf.read_gccgo_object(src.view(off, max(0, min(size, src.size - off)), "_buildid.o member"))
            return Found("gccgo-archive", obj.arch, obj.build_id, obj.locations)
    return Found("unknown")  # an ar archive with no Go build ID member


# --- layout (for explaining and diffing) ---


FMAG = b"`\n"
ArLayout = namedtuple("ArLayout", "regions image_end")


def layout(src: Source) -> ArLayout:
    """The archive header and each member (header and data as one region), with
    absolute offsets. Bytes that do not start with a member header end the
    archive: they were not written by the archiver."""
    regions = [Region("header", "archive magic", src.absolute(0), len(MAGIC))]
    off = len(MAGIC)
    while off + HEADER_SIZE <= src.size:
        hdr = src.read_at(off, HEADER_SIZE, "archive member header")
        if hdr[58:60] != FMAG:
            break
        try:
            size = parse_int(hdr[SIZE].decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            break
        if size < 0:
            break
        regions.append(Region("section", hdr[NAME].decode("latin-1").strip(), src.absolute(off),
                              HEADER_SIZE + size + ((off + HEADER_SIZE + size) & 1)))
        off += HEADER_SIZE + size
        off += off & 1
    return ArLayout(tuple(regions), image_end(regions))
