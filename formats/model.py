"""What a format parser reports: where the Go build ID, the host build ID and the
code signature live. Offsets are absolute file offsets."""
from __future__ import annotations

from collections import namedtuple


class Span:
    __slots__ = ("offset", "size")

    def __init__(self, offset: int, size: int):
        self.offset = offset
        self.size = size

    @property
    def end(self) -> int:
        return self.offset + self.size

    def __repr__(self) -> str:
        return f"Span({self.offset:#x}, {self.size:#x})"

    def to_json(self) -> dict:
        return {"offset": self.offset, "size": self.size}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and (self.offset, self.size) == (other.offset, other.size)


class HostBuildID:
    """The toolchain-neutral build ID: GNU build-id note or Mach-O LC_UUID."""

    __slots__ = ("kind", "span", "value")

    def __init__(self, kind: str, span: Span, value: bytes):
        self.kind = kind  # "gnu" or "macho-uuid"
        self.span = span  # the payload (note descriptor / UUID bytes)
        self.value = value


class MachoSigning:
    """What re-signing a Mach-O needs besides the file bytes."""

    __slots__ = ("text_offset", "text_size", "is_exec")

    def __init__(self, text_offset: int, text_size: int, is_exec: bool):
        self.text_offset = text_offset
        self.text_size = text_size
        self.is_exec = is_exec


class HashingView:
    """What hashing one unit reads as zeros (`zeroed`: the Mach-O code signature
    and the host build ID, when Go's own parser accepts the file, as its tool
    skips them only then) and what a rewrite re-signs (`signing`, for a
    Go-made Mach-O ad hoc signature). Both are worked out on first use, once,
    by the format module, so reading an ID does not pay for them (they cost
    more than locating the ID: benchmarks/README.md, "Measurements behind the
    code"). Never changes once worked out."""

    __slots__ = ("_work", "_zeroed", "_signing")

    def __init__(self, work=None, zeroed: tuple = (), signing: MachoSigning | None = None):
        self._work = work  # () -> (zeroed spans, signing), or None when known
        self._zeroed, self._signing = tuple(zeroed), signing

    def _settle(self) -> None:
        if self._work is not None:
            zeroed, signing = self._work()
            self._zeroed, self._signing, self._work = tuple(zeroed), signing, None

    @property
    def zeroed(self) -> tuple[Span, ...]:
        self._settle()
        return self._zeroed

    @property
    def signing(self) -> MachoSigning | None:
        self._settle()
        return self._signing

    def __repr__(self) -> str:
        return "HashingView(not yet worked out)" if self._work else \
            f"HashingView(zeroed={list(self._zeroed)}, signing={self._signing is not None})"


NOTHING_ZEROED = HashingView()


class Found:
    """One container's answer, immutable (`replace` makes a changed copy).

    build_id: the raw ID, None when the file has none (never b"");
    locations: file offsets of its occurrences; host_build_id, code_signature:
    where they lie; hashing: what hashing skips and what a rewrite re-signs;
    reference_id: what `go tool buildid` prints when that differs from build_id
    (a non-Go GNU build ID, b"" for a gccgo _buildid.o); unverifiable: why the
    bytes cannot be checked against the content ID, if so. For a universal
    Mach-O `slices` holds one Found per architecture, each with `span`, its
    byte range in the file."""

    __slots__ = ("format", "arch", "build_id", "locations", "host_build_id", "code_signature",
                 "hashing", "slices", "span", "reference_id", "unverifiable")

    def __init__(self, format: str, arch: str | None = None, build_id: bytes | None = None,
                 locations=(), *, host_build_id: HostBuildID | None = None, code_signature: Span | None = None,
                 hashing: HashingView = NOTHING_ZEROED, slices=(), span: Span | None = None,
                 reference_id: bytes | None = None, unverifiable: str | None = None):
        put = object.__setattr__
        put(self, "format", format)
        put(self, "arch", arch)
        put(self, "build_id", build_id or None)
        put(self, "locations", tuple(locations))
        put(self, "host_build_id", host_build_id)
        put(self, "code_signature", code_signature)
        put(self, "hashing", hashing)
        put(self, "slices", tuple(slices))
        put(self, "span", span)
        put(self, "reference_id", reference_id)
        put(self, "unverifiable", unverifiable)

    def __setattr__(self, name, value):
        raise AttributeError(f"Found is immutable (set {name} with replace())")

    def replace(self, **changes) -> "Found":
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Found(**fields)

    @property
    def exclude(self) -> tuple[Span, ...]:
        """Byte ranges hashing reads as zeros (hashing.zeroed)."""
        return self.hashing.zeroed

    @property
    def signing(self) -> MachoSigning | None:
        return self.hashing.signing

    def __repr__(self) -> str:
        return (f"Found({self.format!r}, arch={self.arch!r}, build_id={self.build_id!r}, "
                f"locations={list(self.locations)}" + (f", slices={len(self.slices)}" if self.slices else "") + ")")


class Unit:
    """One independently stamped executable or object: a thin file, or one
    slice of a universal Mach-O. `found` is what its reader located (offsets
    absolute in the file), `span` its bytes in the file, `src` a Source over
    exactly those bytes. Every operation that works per unit gets them here
    (formats.units), once."""

    __slots__ = ("found", "span", "src")

    def __init__(self, found: Found, span: Span, src):
        self.found, self.span, self.src = found, span, src

    @property
    def format(self) -> str:
        return self.found.format

    @property
    def arch(self) -> str | None:
        return self.found.arch

    @property
    def is_slice(self) -> bool:
        return self.found.span is not None

    def __repr__(self) -> str:
        return f"<Unit {self.found.format} {self.found.arch} {self.span}>"


def after_last_slice(found: Found, size: int) -> Span | None:
    """The bytes after the last slice of a universal file of `size` bytes,
    where lipo writes nothing and no slice's content ID reaches; None when
    there are none (or the file is not universal)."""
    if not found.slices:
        return None
    end = max(s.span.end for s in found.slices)
    return Span(end, size - end) if size > end else None


# --- the protocol: what a container's headers declare ---

class Region(namedtuple("Region", "kind name offset size addr memsize perm", defaults=(None, None, ""))):
    """One named byte range a container's headers declare: a section, a
    segment, a header or a table (`kind`). `size` is what the file holds (0 for
    zero-fill), `addr` the load address or None, `memsize` the size in memory
    when it differs from `size`, `perm` the access as "r", "w", "x" letters
    where the format says."""

    __slots__ = ()

    @property
    def end(self) -> int:
        return self.offset + self.size


def image_end(regions) -> int:
    """Where the linked image ends: the end of the last region that has bytes."""
    return max((r.end for r in regions if r.size), default=0)


class Image:
    """One executable's headers, parsed once, as every format module answers
    them (`image(src)` in each; `formats.image` picks the module):

        kind, arch, byteorder, ptr_size
        segments()        tuple[Region]  what is loaded, in header order
        sections()        tuple[Region]  in header order; FormatError if the table is broken
        section(name)     the first section of that name, or None
        buildinfo()       (addr, size) Go's debug/buildinfo searches, or None
        legacy_buildinfo() (addr, size) older Go releases searched, or None
        memory()          an AddressSpace: read by address
        symbol(name)      a symbol's address from the symbol table, or None

    The build-ID spans, host build ID and code signature come from the same
    module's `read(src)` (a Found). Tables are parsed on first use and kept
    with the Source, so every reader of one file shares one parse."""

    kind = "unknown"
    __slots__ = ("src", "arch", "byteorder", "ptr_size")

    def __init__(self, src, arch: str | None, byteorder: str, ptr_size: int):
        self.src, self.arch, self.byteorder, self.ptr_size = src, arch, byteorder, ptr_size

    def segments(self) -> tuple:
        return ()

    def sections(self) -> tuple:
        return ()

    def section(self, name: str):
        return next((s for s in self.sections() if s.name == name), None)

    def buildinfo(self):
        return None

    def legacy_buildinfo(self):
        return None

    def memory(self):
        raise NotImplementedError

    def symbol(self, name: bytes) -> int | None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.arch}>"
