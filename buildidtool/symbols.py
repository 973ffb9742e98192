"""`symbols`: what a Go binary's pclntab says, per executable unit (the file,
or each slice of a universal Mach-O): where the table lies and its layout,
every function (name, entry, end, and the file and line of its entry, as
debug/gosym gives them), the file table, the packages, and the modules,
build directories and main module that the file paths and names tell.

For the commands that report build info (`info`, `scan`, the SBOMs), the
same facts without the rest, where build info is missing:

    table = table_of(src)             # PclnTable | None; FormatError if broken
    table.version_range               # VersionRange("go1.26", None)
    recovered_modules(table)          # [RecoveredModule], source "pclntab"

`table_of` reads the header and the table through the Source (never the
whole file) and checks them against the image; the functions are decoded
only when something asks for them (`recovered_modules` does), so that call
too may raise FormatError: call both inside `with naming(path):`.
"""
from __future__ import annotations

from collections import namedtuple

from . import pclnmodules
from .errors import naming
from .fileio import opened
from .formats import FormatError, Source, image, slices
from .formats import pclntab as pcln
from .formats.magic import sniff
from .formats.source import PREFIX_SIZE

OK, NO_PCLNTAB = "ok", "no-pclntab"
NO_PCLNTAB_MESSAGE = "no Go pclntab (function table) found"
EXECUTABLES = ("elf", "macho", "pe", "xcoff", "plan9", "wasm")


class Function(namedtuple("Function", "name entry end file line")):
    """One function as debug/gosym gives it: Funcs[i].Name, .Entry, .End, and
    Table.PCToLine(.Entry)'s file and line."""
    __slots__ = ()


class VersionRange(namedtuple("VersionRange", "min max")):
    """The Go releases a table's layout could come from (max None: any later one)."""
    __slots__ = ()

    def to_json(self) -> dict:
        return {"min": self.min, "max": self.max}

    def __str__(self) -> str:
        return f"{self.min} or later" if self.max is None else f"{self.min} to {self.max}"


def version_range(hdr: pcln.Header) -> VersionRange:
    """What the layout implies, narrowed for the 1.20 layout by what Go 1.26
    changed in it: the text start no longer stored, the function names right
    after the header."""
    low, high = pcln.RELEASES[hdr.layout]
    if hdr.layout == "go1.20":
        packed = hdr.offsets[0] == pcln.header_size(hdr.layout, hdr.ptr_size)
        if packed and not hdr.text_start:
            return VersionRange(pcln.UNRELOCATED_SINCE, None)
        if not packed:
            return VersionRange(low, "go1.25")
    return VersionRange(low, high)


class PclnTable:
    """One unit's pclntab: where it lies, its layout, and (decoded on first
    use) its functions, file table and packages. Immutable."""

    __slots__ = ("_at", "_recovery", "_functions")

    def __init__(self, located: pcln.Located):
        put = object.__setattr__
        put(self, "_at", located)
        put(self, "_recovery", None)
        put(self, "_functions", None)

    def __setattr__(self, name, value):
        raise AttributeError("PclnTable is immutable")

    # -- where and what --
    offset = property(lambda self: self._at.offset, doc="file offset of the header")
    size = property(lambda self: self._at.size, doc="bytes of the table")
    address = property(lambda self: self._at.addr, doc="address of the header in the image")
    found_by = property(lambda self: self._at.found_by)
    text_start = property(lambda self: self._at.text_start)
    text_start_from = property(lambda self: self._at.text_start_from)
    layout = property(lambda self: self._at.table.layout)
    raw = property(lambda self: self._at.table.data, doc="the table's bytes, as read")
    pc_shift = property(lambda self: self._at.table.pc_shift,
                        doc="16 where the table stores wasm function indexes rather than PCs")
    header = property(lambda self: self._at.table.hdr)

    @property
    def version_range(self) -> VersionRange:
        return version_range(self.header)

    @property
    def columns(self) -> tuple[tuple, tuple, tuple, tuple, tuple]:
        """(names, entries, ends, files, lines): the functions as parallel tuples."""
        return self._at.table.functions()

    @property
    def functions(self) -> tuple[Function, ...]:
        if self._functions is None:
            object.__setattr__(self, "_functions", tuple(map(Function._make, zip(*self.columns))))
        return self._functions

    @property
    def files(self) -> tuple[str, ...]:
        """The file table, in table order."""
        return self._at.table.files()

    @property
    def recovery(self) -> pclnmodules.Recovery:
        if self._recovery is None:
            names, _, _, files, _ = self.columns
            object.__setattr__(self, "_recovery", pclnmodules.recover(names, files, self.files, self.layout))
        return self._recovery

    @property
    def packages(self) -> dict[str, list[str]]:
        r = self.recovery
        return {"std": r.std, "other": r.other}

    def to_json(self) -> dict:
        """Where the table lies and how it is laid out (the `pclntab` object of `symbols --json`)."""
        h = self.header
        return {"offset": self.offset, "size": self.size, "address": self.address, "found_by": self.found_by,
                "layout": self.layout, "byte_order": "little" if h.order == "<" else "big",
                "quantum": h.quantum, "ptr_size": h.ptr_size, "nfunc": h.nfunc, "nfiles": h.nfiles,
                "text_start": self.text_start, "text_start_from": self.text_start_from}

    def __repr__(self) -> str:
        return (f"<PclnTable {self.layout} at {self.offset:#x} ({self.size} bytes, {self.found_by}), "
                f"{self.header.nfunc} functions, {self.version_range}>")


class RecoveredModule:
    """A module whose code is in the binary, recovered from the pclntab's file
    paths and function names. `version` is None when the paths carry none
    (a local replace, vendored code built without -trimpath), never a guess."""

    __slots__ = ("path", "version", "kind", "dir", "functions", "files", "packages")
    source = "pclntab"

    def __init__(self, m: pclnmodules.Module):
        for k in self.__slots__:
            object.__setattr__(self, k, getattr(m, k))

    def __setattr__(self, name, value):
        raise AttributeError("RecoveredModule is immutable")

    def to_json(self) -> dict:
        return {"path": self.path, "version": self.version, "source": self.source, "kind": self.kind,
                "dir": self.dir, "evidence": {"functions": self.functions, "packages": list(self.packages),
                                              "files": list(self.files[:pclnmodules.MAX_EVIDENCE_FILES])}}

    def __repr__(self) -> str:
        return f"<RecoveredModule {self.path} {self.version or '(no version)'} ({self.kind}, {self.functions} functions)>"


def table_of(src: Source, img=None) -> PclnTable | None:
    """The pclntab of one thin executable (`src`, or its parsed `img`), or
    None when it has none (not an executable format, no table). Raises
    FormatError for a table that does not hold together."""
    if img is None:
        kind = sniff(src.prefix(PREFIX_SIZE))
        if kind not in EXECUTABLES:
            return None
        img = image(src, kind)
    located = src.memo("pclntab", lambda: pcln.find(img) or False) if hasattr(src, "memo") else pcln.find(img)
    return PclnTable(located) if located else None


def recovered_modules(table: PclnTable) -> list[RecoveredModule]:
    """The modules the table's paths and names show (not the main module:
    `main_module(table)`), sorted by path."""
    return [RecoveredModule(m) for m in table.recovery.modules]


def main_module(table: PclnTable) -> dict | None:
    """{"path", "dir"} of the main module where the paths tell it, else None."""
    r = table.recovery
    if r.main_path is None and r.main_dir is None:
        return None
    return {"path": r.main_path, "dir": r.main_dir}


def build_paths(table: PclnTable) -> dict:
    """The directories the build ran in, where the paths were not trimmed."""
    r = table.recovery
    main = r.main_package_dir
    return {"goroot": r.goroot, "module_cache": r.module_cache, "main_module": r.main_dir,
            "main_package": main if main and pclnmodules.is_absolute(main) else None}


# --- the command ------------------------------------------------------------------


class Unit:
    """One executable unit's answer. status: "ok" or "no-pclntab"; error: a
    broken table or slice (the other slices are still read)."""

    __slots__ = ("format", "arch", "table", "go_version", "go_version_source", "span", "error")

    def __init__(self, format, arch, table=None, go_version=None, go_version_source=None, span=None, error=None):
        self.format, self.arch, self.table = format, arch, table
        self.go_version, self.go_version_source, self.span, self.error = go_version, go_version_source, span, error

    @property
    def status(self) -> str | None:
        if self.error:
            return None
        return OK if self.table is not None else NO_PCLNTAB

    def to_json(self, functions=None) -> dict:
        """The unit's record; `functions`, when given, stands in for the
        function list (a writer that spells the list itself passes a marker)."""
        t = self.table
        r = t.recovery if t is not None else None
        out = {"format": self.format, "arch": self.arch, "status": self.status,
               "pclntab": t.to_json() if t else None,
               "go_version_range": t.version_range.to_json() if t else None,
               "go_version": self.go_version, "go_version_source": self.go_version_source,
               "functions": (functions if functions is not None else [f._asdict() for f in t.functions])
               if t else [],
               "files": list(t.files) if t else [],
               "packages": t.packages if t else None,
               "modules": [m.to_json() for m in recovered_modules(t)] if t else [],
               "main_module": main_module(t) if t else None,
               "build_paths": build_paths(t) if t else None,
               "obfuscated": ({"packages": r.obfuscated, "functions": r.obfuscated_functions}
                              if r is not None and r.obfuscated else None)}
        if self.span is not None:
            out["offset"], out["size"] = self.span
        out["error"] = self.error or (NO_PCLNTAB_MESSAGE if t is None and self.status == NO_PCLNTAB else None)
        return out


class Symbols:
    """What `symbols` found in one file: one Unit for a thin file, one per slice
    of a universal Mach-O."""

    __slots__ = ("file", "format", "units", "universal", "error")

    def __init__(self, file: str, format: str = "unknown", units=(), universal: bool = False, error=None):
        self.file, self.format, self.units, self.universal, self.error = file, format, list(units), universal, error

    @classmethod
    def failed(cls, file: str, error: str) -> "Symbols":
        return cls(file, error=error)

    @property
    def status(self) -> str | None:
        """ok when every unit has a table; no-pclntab when any has none; None on an error."""
        if self.error or any(u.error for u in self.units):
            return None
        return OK if self.units and all(u.table is not None for u in self.units) else NO_PCLNTAB

    @property
    def problem(self) -> str | None:
        """The one-line complaint about this file, if any (no table, a broken slice)."""
        if self.error:
            return self.error
        bad = [u for u in self.units if u.error or u.table is None]
        if not bad:
            return None
        if not self.universal:
            return bad[0].error or NO_PCLNTAB_MESSAGE
        return "; ".join(f"[{u.arch}] {u.error or NO_PCLNTAB_MESSAGE}" for u in bad)

    def to_json(self, functions=None) -> dict:
        """The `symbols --json` record; `functions` as for Unit.to_json."""
        if self.universal or self.error or not self.units:
            blank = Unit(self.format, None).to_json()
            blank.update(status=None if self.error or self.universal else NO_PCLNTAB, error=None)
            blank.pop("error")
            return {"file": self.file, **blank,
                    "slices": [u.to_json(functions) for u in self.units] if self.universal else [],
                    "error": self.error or (None if self.universal else NO_PCLNTAB_MESSAGE)}
        unit = self.units[0].to_json(functions)
        error = unit.pop("error")
        return {"file": self.file, **unit, "slices": [], "error": error}

    def __repr__(self) -> str:
        if self.error:
            return f"<Symbols {self.file!r} error {self.error!r}>"
        what = ", ".join(f"[{u.arch}] {u.table.layout}, {u.table.header.nfunc} functions" if u.table
                         else f"[{u.arch}] {u.error or NO_PCLNTAB}" for u in self.units)
        return f"<Symbols {self.file!r} {self.format}: {what or NO_PCLNTAB}>"


def _exact_version(src: Source) -> tuple[str | None, str | None]:
    """(Go version, source) where the binary carries it: build info, else the
    runtime's version string (goversion's symbol or scan)."""
    from .formats.buildinfo_blob import find_blob
    try:
        blob = find_blob(src, True)
    except (FormatError, ValueError):
        blob = None
    if blob is not None:
        from .buildinfo import decode_blob
        try:
            version = decode_blob(blob)[0].decode("utf-8", "replace")
        except (FormatError, ValueError):
            version = ""
        if version:
            return version, "buildinfo"
    from .goversion import try_recover
    got = try_recover(src, True)
    return got if got is not None else (None, None)


def _unit(src: Source, kind: str, arch: str | None, span=None) -> Unit:
    img = image(src, kind, arch)
    table = table_of(src, img)
    if table is not None:  # decoded now, so a broken table is this unit's error, not a later surprise
        table.columns, table.files, table.recovery
    version, source = _exact_version(src) if table is not None else (None, None)
    return Unit(kind, img.arch if img is not None else arch, table, version, source, span)


def symbols_of(path: str, src: Source) -> Symbols:
    """symbols() of an open Source; raises FormatError for a broken thin file."""
    kind = sniff(src.prefix(PREFIX_SIZE))
    if kind == "macho-fat":
        parts = slices(src)
        if parts:
            units = []
            for arch, sub in parts:
                span = (sub.base, sub.size)
                try:
                    if sniff(sub.prefix(PREFIX_SIZE)) != "macho":
                        raise FormatError("not a Mach-O file")
                    units.append(_unit(sub, "macho", arch, span))
                except FormatError as e:
                    units.append(Unit("macho", arch, span=span, error=f"slice at offset {sub.base:#x}: {e}"))
            return Symbols(path, kind, units, universal=True)
    if kind not in EXECUTABLES:
        return Symbols(path, kind, [Unit(kind, None)])
    return Symbols(path, kind, [_unit(src, kind, None)])


def symbols(path: str) -> Symbols:
    """The pclntab of each unit of `path`. A file without one is a result with
    status "no-pclntab"; raises BuildIDError when the file cannot be read or
    its (thin) container or table is broken."""
    with naming(path), opened(path) as fd:
        return symbols_of(path, Source.of_file(fd))


__all__ = ["symbols", "symbols_of", "table_of", "recovered_modules", "main_module", "build_paths",
           "version_range", "PclnTable", "RecoveredModule", "VersionRange", "Function", "Symbols", "Unit"]
