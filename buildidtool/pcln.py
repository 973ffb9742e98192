"""A unit's pclntab as facts: where the table lies and its layout, every
function (name, entry, end, and the file and line of its entry, as
debug/gosym gives them), the file table, the packages, and the modules,
build directories and main module that the file paths and names tell
(pclnmodules.py). The `symbols` command shows all of it (ops/symbols.py);
the commands that report build info use the modules where build info is
missing:

    table = table_of(src)             # PclnTable | None; FormatError if broken
    table.version_range               # VersionRange("go1.26", None)
    recovered_modules(table)          # [RecoveredModule], source "pclntab"
    unit_modules(src)                 # UnitModules: what facts.MODULES reports

`table_of` reads the header and the table through the Source (never the
whole file) and checks them against the image; the functions are decoded
only when something asks for them (`recovered_modules` does), so that call
too may raise FormatError: call both inside `with naming(path):`.
`unit_modules` records such an error instead, as facts record broken build info.
"""
from __future__ import annotations

from collections import namedtuple

from . import pclnmodules
from .formats import Source, image
from .formats.errors import FormatError
from .formats import pclntab as pcln
from .formats.kinds import THIN
from .formats.magic import sniff
from .formats.source import PREFIX_SIZE


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

    def function_names(self) -> list[str]:
        """The functions' names in table order (cheaper than `functions`: no positions)."""
        return self._at.table.function_names()

    def function_name_offsets(self) -> list[int]:
        """Where each function's name starts in `name_region()` (1.16 and later)."""
        return self._at.table.function_name_offsets()

    def name_region(self) -> bytes | None:
        """The function name table, NUL-terminated names: the functions' and
        those of the functions inlined into them (Go 1.16 and later; None before)."""
        return self._at.table.name_region()

    def file_region(self) -> bytes | None:
        """The file table, NUL-terminated names (Go 1.16 and later; None before)."""
        return self._at.table.file_region()

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

    def to_json(self, max_files: int = pclnmodules.MAX_EVIDENCE_FILES) -> dict:
        """`evidence`: how many functions' entries lie in the module's files,
        its packages, and its files (the first `max_files` of `file_count`)."""
        return {"path": self.path, "version": self.version, "source": self.source, "kind": self.kind,
                "dir": self.dir, "evidence": {"functions": self.functions, "packages": list(self.packages),
                                              "files": list(self.files[:max_files]),
                                              "file_count": len(self.files)}}

    def __reduce__(self):  # scan's workers send records to the parent (SBOM formats)
        return _recovered_module, tuple(getattr(self, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return f"<RecoveredModule {self.path} {self.version or '(no version)'} ({self.kind}, {self.functions} functions)>"


def _recovered_module(*fields) -> RecoveredModule:
    return RecoveredModule(pclnmodules.Module(*fields))


class UnitModules:
    """What a unit's pclntab tells the commands that report build info, for a
    unit whose build info names no modules (facts.MODULES): the modules
    recovered (RecoveredModule), the main module where told ({path, dir}),
    the Go releases the layout could come from, the obfuscated packages
    ({packages, functions}) if any; or the error reading the table."""

    __slots__ = ("modules", "main_module", "go_version_range", "obfuscated", "error")
    source = "pclntab"
    SAMPLE_FILES = 5  # files of each module shown as evidence in a facts record

    def __init__(self, modules=(), main_module: dict | None = None, go_version_range: VersionRange | None = None,
                 obfuscated: dict | None = None, error: str | None = None):
        self.modules, self.main_module, self.go_version_range = tuple(modules), main_module, go_version_range
        self.obfuscated, self.error = obfuscated, error

    def to_json(self) -> dict:
        r = self.go_version_range
        return {"source": self.source, "go_version_range": r.to_json() if r is not None else None,
                "main_module": self.main_module,
                "modules": [m.to_json(self.SAMPLE_FILES) for m in self.modules],
                "obfuscated": self.obfuscated, "error": self.error}

    def __repr__(self) -> str:
        what = self.error or f"{len(self.modules)} modules, {self.go_version_range}"
        return f"<UnitModules from the pclntab: {what}>"


def unit_modules(src: Source) -> UnitModules | None:
    """The modules, main module and Go version range the pclntab of one thin
    executable tells, None when it has no table; a table that does not hold
    together is a UnitModules with `error` set."""
    try:
        table = table_of(src)
        if table is None:
            return None
        rng, r = table.version_range, table.recovery
        obfuscated = {"packages": r.obfuscated, "functions": r.obfuscated_functions} if r.obfuscated else None
        return UnitModules(recovered_modules(table), main_module(table), rng, obfuscated)
    except FormatError as e:
        return UnitModules(error=str(e))
    except OSError as e:
        return UnitModules(error=f"read error: {e.strerror or e}")


def table_of(src: Source, img=None) -> PclnTable | None:
    """The pclntab of one thin executable (`src`, or its parsed `img`), or
    None when it has none (not an executable format, no table). Raises
    FormatError for a table that does not hold together."""
    if img is None:
        kind = sniff(src.prefix(PREFIX_SIZE))
        if kind not in THIN:
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


__all__ = ["table_of", "recovered_modules", "main_module", "build_paths", "version_range", "unit_modules",
           "PclnTable", "RecoveredModule", "UnitModules", "VersionRange", "Function"]
