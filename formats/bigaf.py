"""AIX big archives: gccgo's member _buildid.o is an XCOFF object whose csect
.go.buildid is the build ID. Members form a list linked by file offsets."""
from __future__ import annotations

from . import magic, xcoff
from .errors import FormatError
from .goint import parse_int
from .model import Found
from .source import Source

# --- structures (ar_big(4)) ---
MAGIC = magic.BIGAF
FL_HEADER_SIZE = 128
FIRST_MEMBER = slice(68, 88)   # fl_fstmoff
MEMBER_HEADER_SIZE = 112
MEMBER_SIZE = slice(0, 20)     # ar_size
NEXT_MEMBER = slice(20, 40)    # ar_nxtmem
NAME_LEN = slice(108, 112)     # ar_namlen
GCCGO_MEMBER = b"_buildid.o"


def _number(field: bytes, what: str, bits: int = 64) -> int:
    try:
        return parse_int(field.decode("ascii").strip(), 10, bits)
    except (UnicodeDecodeError, ValueError):
        raise FormatError(f"big archive {what} field {field!r} is not a number") from None


def read(src: Source) -> Found:
    fl = src.read_at(0, FL_HEADER_SIZE, "big archive header")
    off = _number(fl[FIRST_MEMBER], "first member offset")
    while off != 0:
        hdr = src.read_at(off, MEMBER_HEADER_SIZE, "big archive member header")
        namlen = _number(hdr[NAME_LEN], "name length", 32)
        if namlen == len(GCCGO_MEMBER) and src.read_at(off + MEMBER_HEADER_SIZE, namlen) == GCCGO_MEMBER:
            size = _number(hdr[MEMBER_SIZE], "member size")
            start = off + MEMBER_HEADER_SIZE + namlen + 2
            start += start & 1
            obj = src.view(start, size, "_buildid.o member")
            at, length = xcoff.csect(obj, b".go.buildid")
            return Found("aix-big-archive", xcoff.ARCHES.get(xcoff.magic_of(obj.prefix(2)) or 0),
                         obj.read_at(at, length, ".go.buildid csect"), [obj.absolute(at)])
        nxt = _number(hdr[NEXT_MEMBER], "next member offset")
        # Members only ever follow each other; a jump back would loop for ever.
        if nxt != 0 and nxt <= off:
            raise FormatError(f"big archive member at offset {off:#x} links back to offset {nxt:#x}")
        off = nxt
    return Found("aix-big-archive")
