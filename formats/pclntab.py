"""Go's pc-line table (pclntab): where it lies in an executable, and what it
says about every function (name, entry, end, and the file and line of its
entry) and about the files the program was built from.

The table is found by its header (a magic per layout, two zero bytes, the
instruction quantum, the pointer size) anywhere in the image's mapped data,
and a candidate is accepted only when it agrees with the text it describes:
its counts and offsets fit, its function table is sorted, and the functions'
entries lie in executable memory (for the layouts whose entries are offsets,
from a text start we can vouch for). Section names (`.gopclntab`,
`__gopclntab`) and the `runtime.pclntab` symbol only make the search shorter.

What a function's entry says is decoded with debug/gosym's rules (the oracle
the tests hold us to): the entry and end come from the function table, the
name from the function record, and the file and line are the values the
record's pc-file and pc-line tables give at the entry, looked up the way
`Table.PCToLine(entry)` does. Where gosym would panic and recover on a broken
table we give the same empty answer, except that anything that would make the
work grow with the table's size per function (a varint that never ends, a run
of zero-length steps) is cut short: a hostile table costs time linear in its
size. Every count and offset is checked against the bytes we hold before use;
breakage that gosym turns into "no functions" is a FormatError here.
"""
from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_right
from itertools import accumulate, islice, repeat
from operator import add, and_, itemgetter, lt

from .errors import FormatError

# magic -> the layout's name: the first release that wrote it.
LAYOUTS = {0xFFFFFFFB: "go1.2", 0xFFFFFFFA: "go1.16", 0xFFFFFFF0: "go1.18", 0xFFFFFFF1: "go1.20"}
# layout -> (first release, last release or None): what the layout alone implies.
RELEASES = {"go1.2": ("go1.2", "go1.15"), "go1.16": ("go1.16", "go1.17"),
            "go1.18": ("go1.18", "go1.19"), "go1.20": ("go1.20", None)}
# Go 1.26 stopped storing the text start in the header (it needed a relocation)
# and packed the tables right after it; earlier 1.20-layout linkers did neither.
UNRELOCATED_SINCE = "go1.26"

# Function records decoded per layout: (entry, name offset, pcfile, pcln[, cu offset]).
_RECORD = {"go1.2": "{w}i12xII", "go1.16": "{w}i12xII4xI", "go1.18": "Ii12xII4xI", "go1.20": "Ii12xII4xI"}


def _record_shape(layout: str, ptr: int) -> tuple[int, int]:
    """(where npcdata lies in a function record, the size of its fixed part):
    the pcdata offsets, then the funcdata, follow the fixed part."""
    if layout == "go1.16":
        return ptr + 24, ptr + 36
    return 28, 44 if layout == "go1.20" else 40


# Hostile-input bounds. No function or file name is longer than MAX_NAME (the
# longest generic instantiations in real binaries take a few KiB); a varint of
# more than MAX_VARINT bytes has no more bits to give a uint32 (gosym reads on
# to the end of the data); a pc-value table that has not moved past the entry
# after MAX_STEPS steps never will in a table a linker wrote.
MAX_NAME = 64 << 10
MAX_VARINT = 5
MAX_STEPS = 64
# A wasm function's PC is (index + 0x1000) << 16 (cmd/link's funcValueOffset).
WASM_TEXT = 0x1000 << 16
# Bytes searched at a time for a header, and how much of a region is read for a table.
WINDOW = 4 << 20
NATIVE = "<" if sys.byteorder == "little" else ">"


def _u32() -> str:
    return "I" if array("I").itemsize == 4 else "L"


def _words(data, off: int, count: int, size: int, order: str) -> array:
    """count unsigned integers of size bytes at off, in the table's byte order."""
    code = _u32() if size == 4 else "Q"
    a = array(code)
    a.frombytes(data[off:off + count * size])
    if order != NATIVE:
        a.byteswap()
    return a


class Header:
    """The fixed part of a pclntab: layout, byte order, instruction quantum,
    pointer size, the two counts, the text start it stores (1.18 and later;
    0 when not stored) and the offsets of its sub-tables (1.16 and later:
    function names, compilation units, files, pc tables, function table)."""

    __slots__ = ("layout", "order", "quantum", "ptr_size", "nfunc", "nfiles", "text_start", "offsets", "size")

    def __init__(self, layout, order, quantum, ptr_size, nfunc, nfiles, text_start, offsets, size):
        self.layout, self.order, self.quantum, self.ptr_size = layout, order, quantum, ptr_size
        self.nfunc, self.nfiles, self.text_start, self.offsets, self.size = nfunc, nfiles, text_start, offsets, size

    @property
    def word(self) -> str:
        return "Q" if self.ptr_size == 8 else "I"

    def __repr__(self) -> str:
        return (f"Header({self.layout}, {'little' if self.order == '<' else 'big'}, quantum={self.quantum}, "
                f"ptr={self.ptr_size}, nfunc={self.nfunc}, nfiles={self.nfiles})")


def header_size(layout: str, ptr_size: int) -> int:
    return 8 + {"go1.2": 1, "go1.16": 7}.get(layout, 8) * ptr_size


def looks_like_header(b: bytes, pos: int = 0) -> bool:
    """The eight bytes every layout starts with, at pos: a magic, two zero
    bytes, quantum 1, 2 or 4, pointer size 4 or 8."""
    return (len(b) >= pos + 8 and b[pos + 4] == 0 and b[pos + 5] == 0 and b[pos + 6] in (1, 2, 4)
            and b[pos + 7] in (4, 8))


def parse_header(b: bytes, order: str | None = None) -> Header | None:
    """The header at the start of b, or None when b does not start with one
    (or is too short to hold it). `order`: only that byte order."""
    if not looks_like_header(b):
        return None
    layout = None
    for o in ((order,) if order else ("<", ">")):
        layout = LAYOUTS.get(struct.unpack_from(o + "I", b)[0])
        if layout:
            order = o
            break
    if layout is None:
        return None
    quantum, ptr = b[6], b[7]
    size = header_size(layout, ptr)
    if len(b) < size:
        return None
    words = struct.unpack_from(order + ("Q" if ptr == 8 else "I") * ((size - 8) // ptr), b, 8)
    if layout == "go1.2":
        return Header(layout, order, quantum, ptr, words[0], None, 0, None, size)
    if layout == "go1.16":
        return Header(layout, order, quantum, ptr, words[0], words[1], 0, words[2:7], size)
    return Header(layout, order, quantum, ptr, words[0], words[1], words[2], words[3:8], size)


# --- the table ----------------------------------------------------------------


class Table:
    """A pclntab held in memory (`data`: its bytes, from the header on) with the
    text start its entries are relative to (1.18 and later). Checked when made:
    raises FormatError when a count or offset does not fit in `data`.

    `extent` is how many bytes of `data` the table uses (its size when it was
    found without a section or symbol to size it)."""

    def __init__(self, data, text_start: int = 0, hdr: Header | None = None, pc_shift: int = 0):
        if not isinstance(data, bytes):
            data = bytes(data)  # one copy, so every lookup below is a plain bytes search
        hdr = hdr or parse_header(data[:64])
        if hdr is None:
            raise FormatError("no pclntab header")
        self.data, self.hdr, self.text_start = data, hdr, text_start
        # Go 1.21 and later store a wasm function's index, not its PC (index << 16).
        self.pc_shift = pc_shift
        n, size = hdr.nfunc, len(data)
        ptr = hdr.ptr_size
        if hdr.layout == "go1.2":
            fs = ptr
            self.functab_off = 8 + ptr
            self.records_base = 0
            self.pctab_off = 0
            self.funcname_off = 0
        else:
            fs = 4 if hdr.layout in ("go1.18", "go1.20") else ptr
            funcname, cu, files, pctab, pcln = hdr.offsets
            if not hdr.size <= funcname <= cu <= files <= pctab <= pcln <= size:
                raise FormatError(f"pclntab header offsets {[hex(o) for o in hdr.offsets]} are out of order "
                                  f"or past the table's {size:#x} bytes")
            self.functab_off = self.records_base = pcln
            self.pctab_off, self.funcname_off, self.cu_off, self.filetab_off = pctab, funcname, cu, files
        self.field = fs
        room = (size - self.functab_off) // fs
        if n < 1 or 2 * n + 1 > room:
            raise FormatError(f"pclntab claims {n} functions; its function table has room for "
                              f"{max(room - 1, 0) // 2}")
        ft = _words(data, self.functab_off, 2 * n + 1, fs, hdr.order)
        self.pcs = ft[0::2]        # n + 1 entries: each function's, then the end of the last
        self.funcoffs = ft[1::2]   # n record offsets
        if hdr.layout == "go1.2":
            end = self.functab_off + (2 * n + 1) * fs
            if end + 4 > size:
                raise FormatError("pclntab ends before its file table offset")
            self.filetab_off = struct.unpack_from(hdr.order + "I", data, end)[0]
            if self.filetab_off + 4 > size:
                raise FormatError(f"pclntab file table at {self.filetab_off:#x} lies past its {size:#x} bytes")
            nfiles = struct.unpack_from(hdr.order + "I", data, self.filetab_off)[0]
            if self.filetab_off + 4 * nfiles > size:
                raise FormatError(f"pclntab claims {nfiles} files; its file table has room for "
                                  f"{(size - self.filetab_off) // 4}")
            hdr.nfiles = nfiles
        record = _RECORD[hdr.layout].format(w=hdr.word)
        self.record = struct.Struct(hdr.order + record)
        top = max(self.funcoffs)
        if self.records_base + top + self.record.size > size:
            raise FormatError(f"a function record at offset {self.records_base + top:#x} lies past the "
                              f"table's {size:#x} bytes")
        self._functions = None
        self._files = None

    # -- what the header and function table say --

    @property
    def layout(self) -> str:
        return self.hdr.layout

    @property
    def relative(self) -> bool:
        """Entries are offsets from the text start (1.18 and later)."""
        return self.hdr.layout in ("go1.18", "go1.20")

    def sorted(self) -> bool:
        pcs = self.pcs
        return all(map(lt, pcs, islice(pcs, 1, None)))

    def extent(self) -> int:
        """The bytes of the table from the header to its last structure."""
        hdr, data = self.hdr, self.data
        if hdr.layout == "go1.2":
            end = self.filetab_off + 4 * hdr.nfiles
            offs = _words(data, self.filetab_off + 4, max(hdr.nfiles - 1, 0), 4, hdr.order)
            if offs:
                top = max(offs)
                nul = _find_nul(data, top)
                end = max(end, top if nul < 0 else nul + 1)
            return min(end, len(data))
        top = self.records_base + max(self.funcoffs)
        at, total = _record_shape(hdr.layout, hdr.ptr_size)
        if top + total > len(data):
            return len(data)
        npcdata = struct.unpack_from(hdr.order + "I", data, top + at)[0]
        nfuncdata = data[top + total - 1]
        end = top + total + 4 * npcdata
        if hdr.layout == "go1.16":
            end += -end % hdr.ptr_size + hdr.ptr_size * nfuncdata
        else:
            end += 4 * nfuncdata
        # The function table itself ends before any record.
        return min(max(end, self.functab_off + (2 * hdr.nfunc + 1) * self.field), len(data))

    # -- the file table --

    def files(self) -> tuple[str, ...]:
        """Every name in the file table, in table order (gosym's Table.Files
        holds the same names as a map; Go 1.2-1.15 tables start at index 1)."""
        if self._files is None:
            self._files = tuple(self._read_files())
        return self._files

    def _read_files(self) -> list[str]:
        hdr, data = self.hdr, self.data
        n = hdr.nfiles or 0
        if hdr.layout == "go1.2":
            offs = _words(data, self.filetab_off + 4, max(n - 1, 0), 4, hdr.order)
            out = []
            for off in offs:
                s = _cstring(data, off)
                if s is None:
                    return []  # gosym's file map is empty when one name is unreadable
                out.append(s)
            return out
        names = _split_names(data, self.filetab_off, n)
        return [] if names is None else names

    # -- the functions --

    def functions(self) -> tuple[tuple, tuple, tuple, tuple, tuple]:
        """(names, entries, ends, files, lines): parallel tuples, one item per
        function in table order, as debug/gosym gives Funcs[i].Name, .Entry,
        .End and Table.PCToLine(.Entry)'s file and line."""
        if self._functions is None:
            self._functions = self._decode()
        return self._functions

    def _decode(self):
        hdr = self.hdr
        n = hdr.nfunc
        base = self.text_start if self.relative else 0
        shift = self.pc_shift
        entries = list(map(base.__add__, self.pcs)) if base else list(self.pcs)
        rec_entry, nameoffs, pcfile, pcln, cus = self._columns()
        names = self._names(nameoffs)
        if base:
            rec_entry = list(map(base.__add__, rec_entry))
        if shift:
            entries = [e << shift for e in entries]
            rec_entry = [e << shift for e in rec_entry]
        if rec_entry == entries[:n] and self.sorted():
            # What a linker writes: PCToLine(entry) finds function i itself and
            # asks its tables at their start.
            # The pc tables are read in place: their offsets move to the table's start.
            base = self.pctab_off
            fnos = _starts(self.data, list(map(base.__add__, pcfile)) if base else pcfile, hdr.quantum)
            lines = _starts(self.data, list(map(base.__add__, pcln)) if base else pcln, hdr.quantum)
            files = self._file_names(fnos, cus)
        else:
            files, lines = self._positions_anyhow(entries, rec_entry, pcfile, pcln, cus)
        return tuple(names), tuple(entries[:n]), tuple(entries[1:]), tuple(files), tuple(lines)

    def function_names(self) -> list[str]:
        """The functions' names in table order, their positions left undecoded."""
        if self._functions is not None:
            return list(self._functions[0])
        return self._names(self._columns()[1])

    def function_name_offsets(self) -> list[int]:
        """Where each function's name starts in the function name table (1.16
        and later) or in the table (1.2), in table order."""
        return list(self._columns(names_only=True)[1])

    def name_region(self) -> bytes | None:
        """The function name table's bytes, NUL-terminated names (Go 1.16 and
        later): the functions' own names and, since cmd/link's walkFuncs writes
        the name of every function an inline tree names there too, the names
        of functions inlined into them. None for the Go 1.2-1.15 layout, whose
        names lie among the function records."""
        if self.hdr.layout == "go1.2":
            return None
        return self.data[self.funcname_off:self.cu_off]

    def file_region(self) -> bytes | None:
        """The file table's bytes, NUL-terminated names (1.16 and later; None before)."""
        if self.hdr.layout == "go1.2":
            return None
        return self.data[self.filetab_off:self.pctab_off]

    @property
    def pctab(self) -> bytes:
        return self.data[self.pctab_off:] if self.pctab_off else self.data

    def _columns(self, names_only: bool = False):
        """(entries as stored, name offsets, pcfile offsets, pcln offsets, CU
        offsets or None) of every function record, in table order; with
        `names_only`, where the records allow it, the name offsets alone
        (the others None)."""
        data, rb, offs = self.data, self.records_base, self.funcoffs
        if self.relative and rb % 4 == 0 and not any(map(and_, offs, repeat(3))):
            # Records are 4-byte aligned: pick their words by index, the same
            # indexes for every field, from views shifted by the field's place.
            n = (max(offs) >> 2) + 9
            if self.hdr.order == NATIVE and len(offs) > 1:
                words = memoryview(data)[rb:rb + 4 * n].cast(_u32())
            else:
                words = _words(data, rb, n, 4, self.hdr.order)
            pick = itemgetter(*[o >> 2 for o in offs])
            if len(offs) == 1:
                return [[words[(offs[0] >> 2) + k]] for k in (0, 1, 5, 6, 8)]
            if names_only:
                return [None, list(pick(words[1:])), None, None, None]
            return [list(pick(words[k:])) for k in (0, 1, 5, 6, 8)]
        unpack = self.record.unpack_from
        rows = [unpack(data, rb + off) for off in offs]
        cols = [list(c) for c in zip(*rows)]
        return cols if len(cols) == 5 else cols + [None]

    def _names(self, nameoffs) -> list[str]:
        data, start = self.data, self.funcname_off
        if self.hdr.layout != "go1.2" and nameoffs and min(nameoffs) >= 0:
            # The names as one string, one character per byte: each name is a slice to its NUL.
            region = data[start:self.cu_off]
            text = region.decode("latin-1")
            try:
                ends = list(map(text.index, repeat("\0"), nameoffs, map(add, nameoffs, repeat(MAX_NAME))))
            except ValueError:  # an offset past the names, or a name without its NUL: one by one
                pass
            else:
                names = list(map(text.__getitem__, map(slice, nameoffs, ends)))
                if not region.isascii():
                    names = [x if x.isascii() else _text(x.encode("latin-1")) for x in names]
                return names
        known: dict[int, str] = {}
        names = []
        for i, o in enumerate(nameoffs):
            off = o & 0xFFFFFFFF
            name = known.get(off)
            if name is None:
                name = known[off] = _cstring(data, start + off)
                if name is None:
                    raise FormatError(f"the name of function {i} at offset {start + off:#x} is not within the table")
            names.append(name)
        return names

    def _file_names(self, fnos, cus) -> list[str]:
        if self.hdr.layout == "go1.2":
            memo = {f: self._file_by_index(f) for f in set(fnos)}
            return list(map(memo.__getitem__, fnos))
        keys = [(c + f) & 0xFFFFFFFF if f >= 0 else -1 for c, f in zip(cus, fnos)]
        memo = {k: self._file_by_cu(k) for k in set(keys)}
        return list(map(memo.__getitem__, keys))

    def _file_by_index(self, fno: int) -> str:
        """A Go 1.2-1.15 file number's name (go12PCToFile)."""
        if fno <= 0 or fno >= self.hdr.nfiles:
            return ""
        off = struct.unpack_from(self.hdr.order + "I", self.data, self.filetab_off + 4 * fno)[0]
        return _cstring(self.data, off) or ""

    def _file_by_cu(self, key: int) -> str:
        """The name the CU table's entry `key` points at (go12PCToFile); "" for
        a negative file number, an entry out of range or an absent file."""
        if key < 0:
            return ""
        data, at = self.data, self.cu_off + 4 * key
        if at + 4 > len(data):
            return ""
        off = struct.unpack_from(self.hdr.order + "I", data, at)[0]
        if off == 0xFFFFFFFF:
            return ""
        names = self._filetab_names
        if names is None:
            names = self._filetab_names = _packed(data[self.filetab_off:self.pctab_off])
        name = names.get(off)
        return name if name is not None else (_cstring(data, self.filetab_off + off) or "")

    _filetab_names = None

    def _positions_anyhow(self, entries, rec_entry, pcfile, pcln, cus):
        """PCToLine(entry) for a table a linker did not write: unsorted entries,
        records whose entry differs from the function table's."""
        n = self.hdr.nfunc
        values = _Values(self.pctab, self.hdr.quantum)
        first, end = entries[0], entries[n]
        files, lines = [], []
        for i in range(n):
            pc = entries[i]
            if _find_func(entries, n, pc) is None:  # Table.PCToFunc: no function, no position
                files.append("")
                lines.append(0)
                continue
            if pc < first or pc >= end:  # findFunc: outside the table
                files.append("")
                lines.append(-1)
                continue
            j = bisect_right(entries, pc, 0, n) - 1  # the last entry at or before pc
            fno = values.at(pcfile[j], rec_entry[j], pc)
            if self.hdr.layout == "go1.2":
                files.append(self._file_by_index(fno))
            else:
                files.append(self._file_by_cu((cus[j] + fno) & 0xFFFFFFFF if fno >= 0 else -1))
            lines.append(values.at(pcln[j], rec_entry[j], pc))
        return files, lines


def _find_func(entries, n: int, pc: int) -> int | None:
    """Table.PCToFunc: the function whose [Entry, End) holds pc, found by
    gosym's binary search over Funcs (Entry entries[i], End entries[i + 1]),
    which on unsorted entries may miss it; None then."""
    lo, hi = 0, n
    while lo < hi:
        m = lo + (hi - lo) // 2
        if pc < entries[m]:
            hi = m
        elif pc < entries[m + 1]:
            return m
        else:
            lo = m + 1
    return None


def _packed(region: bytes) -> dict[int, str]:
    """Offset -> name of the NUL-terminated names packed in region."""
    # Latin-1 keeps one character per byte, so lengths are byte counts.
    pieces = region.decode("latin-1").split("\0")[:-1]
    offsets = map(add, accumulate(map(len, pieces), initial=0), range(len(pieces)))
    if not region.isascii():
        pieces = [p if p.isascii() else _text(p.encode("latin-1")) for p in pieces]
    return dict(zip(offsets, pieces))


def _starts(tab: bytes, offs, quantum: int) -> list[int]:
    """The value each pc-value table at offs gives at its function's entry.
    A linker's table starts with the value (a varint of up to three bytes for
    a line number) and a non-zero pc step of one or two bytes: decoded here
    inline; anything else walks the table as gosym does."""
    limit = len(tab) - 6
    out = []
    append = out.append
    memo: dict[int, int] = {}
    walk = _Values(tab, quantum)._walk
    for o in offs:
        if 0 <= o < limit:
            b = tab[o]
            if b < 0x80:
                uv, p = b, o + 1
            else:
                c = tab[o + 1]
                if c < 0x80:
                    uv, p = (b & 0x7F) | c << 7, o + 2
                else:
                    d = tab[o + 2]
                    uv, p = ((b & 0x7F) | (c & 0x7F) << 7 | d << 14, o + 3) if d < 0x80 else (-1, 0)
            if uv >= 0:
                step = tab[p]
                if 0 < step < 0x80 or (step > 0x80 and tab[p + 1] < 0x80):
                    append((uv >> 1) - 1 if not uv & 1 else -(uv >> 1) - 2)
                    continue
        v = memo.get(o)
        if v is None:
            v = memo[o] = walk(o, 0, 0)
        append(v)
    return out


class _Values:
    """The value a pc-value table gives at a pc (gosym's pcvalue), memoized
    by (table offset, start) for the common case of asking at the start."""

    __slots__ = ("tab", "quantum", "memo")

    def __init__(self, tab: bytes, quantum: int):
        self.tab, self.quantum, self.memo = tab, quantum, {}

    def at(self, off: int, start: int, target: int) -> int:
        if target == start:
            v = self.memo.get(off)
            if v is None:
                v = self.memo[off] = self._walk(off, start, target)
            return v
        return self._walk(off, start, target)

    def _walk(self, off: int, start: int, target: int) -> int:
        tab, q = self.tab, self.quantum
        size = len(tab)
        val, pc, p = -1, start, off
        for _ in range(MAX_STEPS):
            first = pc == start
            uv, p = _varint(tab, p, size)
            if uv is None:
                return -1
            if uv == 0 and not first:
                return -1
            delta = ~(uv >> 1) if uv & 1 else uv >> 1
            val = ((val + delta + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            step, p = _varint(tab, p, size)
            if step is None:
                return -1
            pc += (step * q) & 0xFFFFFFFF
            if target < pc:
                return val
        return -1


def _varint(tab: bytes, p: int, size: int) -> tuple[int | None, int]:
    if p >= size:
        return None, p
    b = tab[p]
    if b < 0x80:
        return b, p + 1
    v, shift = b & 0x7F, 7
    for k in range(1, MAX_VARINT):
        if p + k >= size:
            return None, p
        b = tab[p + k]
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v & 0xFFFFFFFF, p + k + 1
        shift += 7
    return None, p


def _text(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("utf-8", "replace")


def _find_nul(data: bytes, off: int) -> int:
    return data.find(b"\0", off) if 0 <= off <= len(data) else -1


def _cstring(data: bytes, off: int) -> str | None:
    """The NUL-terminated string at off, or None when off is out of range or
    no NUL follows within MAX_NAME bytes (gosym would read on to the next NUL
    wherever it is; every name lookup costing at most MAX_NAME keeps a table
    of hostile offsets linear)."""
    if not 0 <= off < len(data):
        return None
    end = data.find(b"\0", off, off + MAX_NAME)
    return None if end < 0 else _text(data[off:end])


def _split_names(data: bytes, off: int, n: int) -> list[str] | None:
    """n NUL-terminated names packed from off, or None when they run out."""
    if n > len(data) - off:  # each takes a byte at least
        return None
    pieces = data[off:].split(b"\0", n)
    if len(pieces) <= n:
        return None
    return [_text(p) for p in pieces[:n]]


# --- finding the table in an image -------------------------------------------

# Where the linkers put the table under a name: checked first, trusted never.
SECTIONS = (".gopclntab", ".data.rel.ro.gopclntab", "__gopclntab")
MODULEDATA_SECTIONS = (".go.module", "__go_module")
TEXT_SECTIONS = (".text", "__text")
# A hostile file may hold any number of fake headers: at most this many are tried.
MAX_CANDIDATES = 16
# moduledata (runtime/symtab.go), in words: the pcHeader pointer, six slices,
# findfunctab, minpc, maxpc, text; Go 1.26 and later end the prefix with
# gofunc and epclntab at 43 and 44.
MD_FTAB, MD_MINPC, MD_MAXPC, MD_TEXT, MD_GOFUNC, MD_EPCLNTAB = 16, 20, 21, 22, 43, 44


class Located:
    """A pclntab found in an image and checked against it.

    offset: the file offset of its header (absolute); addr: its address;
    size: its bytes (the section's or the symbols' span where they name it,
    else from the header to its end as the runtime's module data says or, failing
    that, to the last structure its header and records reach); found_by:
    "section NAME", "symbol runtime.pclntab" or "header search";
    text_start and text_start_from ("header", "symbol runtime.text",
    "moduledata", "section NAME", "segment NAME", "wasm"): what the 1.18 and
    later layouts' entries are offsets from (None before 1.18); table: the
    decoded Table."""

    __slots__ = ("offset", "addr", "size", "found_by", "text_start", "text_start_from", "table")

    def __init__(self, offset, addr, size, found_by, text_start, text_start_from, table):
        self.offset, self.addr, self.size, self.found_by = offset, addr, size, found_by
        self.text_start, self.text_start_from, self.table = text_start, text_start_from, table

    @property
    def header(self) -> Header:
        return self.table.hdr

    def __repr__(self) -> str:
        return (f"<pclntab {self.table.layout} at {self.offset:#x} ({self.size} bytes, {self.found_by}), "
                f"{self.table.hdr.nfunc} functions>")


class _Memory:
    """An image's mapped bytes read by address, and which of them are code."""

    def __init__(self, img):
        self.img = img
        mem = img.memory()
        self.mem = mem
        if mem is None:
            self.areas = []
        elif hasattr(mem, "regions"):
            self.areas = [(r.addr, r.size) for r in mem.regions]
        else:  # wasm linear memory: its data segments
            self.areas = list(zip(mem.starts, (e - s for s, e in zip(mem.starts, mem.ends))))
        self.code = self._code()

    def _code(self) -> list[tuple[int, int]]:
        img, out = self.img, []
        for r in img.segments():
            if "x" in r.perm:
                out.append((r.addr, r.memsize if r.memsize is not None else r.size))
        if not out:
            try:
                sections = img.sections()
            except FormatError:
                sections = ()
            out = [(r.addr, r.memsize if r.memsize is not None else r.size) for r in sections if "x" in r.perm]
        return out

    def in_code(self, lo: int, hi: int) -> bool:
        return any(a <= lo and hi <= a + n for a, n in self.code)

    def available(self, addr: int) -> int:
        return self.mem.available(addr) if self.mem is not None else 0

    def read(self, addr: int, n: int) -> bytes:
        return self.mem.read(addr, n) if self.mem is not None else b""

    def file_offset(self, addr: int) -> int | None:
        return self.mem.file_offset(addr) if self.mem is not None else None

    def ordered(self) -> list[tuple[int, int]]:
        """Mapped areas, read-only data first (where linkers put the table),
        then code (Plan 9 and XCOFF keep it there), then writable data."""
        if not hasattr(self.mem, "regions"):
            return self.areas
        writable = [(r.addr, r.memsize or r.size) for r in (*self.img.segments(), *_sections(self.img))
                    if "w" in r.perm]

        def rank(area):
            start = area[0]
            if any(a <= start < a + n for a, n in writable):
                return 2
            return 1 if any(a <= start < a + n for a, n in self.code) else 0
        return sorted(dict.fromkeys(self.areas), key=lambda a: (rank(a), a[0]))

    def windows(self, areas):
        """(addr, bytes) over the areas, WINDOW bytes at a time, overlapping by a header's worth."""
        if not hasattr(self.mem, "regions"):  # wasm: its own windows over the data segments
            yield from self.mem.windows()
            return
        for addr, size in areas:
            end = addr + min(size, self.available(addr))
            pos = addr
            while pos < end:
                chunk = self.read(pos, min(WINDOW + 64, end - pos))
                if not chunk:
                    break
                yield pos, chunk
                pos += WINDOW


def _sections(img):
    try:
        return img.sections()
    except FormatError:
        return ()


def find(img) -> Located | None:
    """The image's pclntab, checked against its text; None when it has none.
    Raises FormatError when it has one (by name, or by a header) that does
    not hold together."""
    mem = _Memory(img)
    if mem.mem is None:
        return None
    problems: list[str] = []
    tried: set[int] = set()
    for addr, limit, how in _named(img):
        tried.add(addr)
        try:
            return _check(img, mem, addr, limit, how)
        except FormatError as e:
            problems.append(f"{how}: {e}")
    for addr in _search(img, mem):
        if addr in tried:
            continue
        tried.add(addr)
        if len(tried) > MAX_CANDIDATES:
            break
        try:
            return _check(img, mem, addr, None, "header search")
        except FormatError as e:
            problems.append(f"header at {_where(mem, addr)}: {e}")
    if problems:
        raise FormatError("pclntab " + problems[0])
    return None


def _where(mem: _Memory, addr: int) -> str:
    off = mem.file_offset(addr)
    return f"offset {off:#x}" if off is not None else f"address {addr:#x}"


def _named(img):
    """(address, size or None, how) of the tables the image names."""
    for s in _sections(img):
        if s.name in SECTIONS and s.size:
            yield s.addr, s.size, f"section {s.name}"
    start = img.symbol(b"runtime.pclntab")
    if start:
        end = img.symbol(b"runtime.epclntab")
        yield start, (end - start if end and end > start else None), "symbol runtime.pclntab"


def _order(img) -> str:
    """The byte order of the image's data (a Plan 9 a.out header is big-endian
    whatever the machine; Go's Plan 9 ports are all little-endian)."""
    return "<" if img.kind == "plan9" else img.byteorder


def _search(img, mem: _Memory):
    """Addresses of every plausible header in the mapped data, read-only data
    first, the newest layout's first in each window: the first that holds
    together ends the search, and a table is found by its 4-byte magic (a
    longer pattern of 0xff and 0x00 bytes is several times slower to search for)."""
    order, ptr = _order(img), img.ptr_size
    magics = [struct.pack(order + "I", m) for m in sorted(LAYOUTS, key=_newest_first)]
    if img.kind == "wasm":
        yield from _search_wasm(img, mem, [m + b"\0\0" for m in magics], ptr)
        return
    seen: set[int] = set()
    for base, chunk in mem.windows(mem.ordered()):
        for magic in magics:
            i = chunk.find(magic)
            while i >= 0:
                at = base + i
                if at % 4 == 0 and at not in seen and looks_like_header(chunk, i) and chunk[i + 7] == ptr:
                    seen.add(at)
                    yield at
                i = chunk.find(magic, i + 1)


def _newest_first(magic: int) -> int:
    return ["go1.20", "go1.18", "go1.16", "go1.2"].index(LAYOUTS[magic])


def _search_wasm(img, mem: _Memory, pats, ptr):
    """Headers in a wasm module's data segments, found in the data section's
    bytes as they are (a header has no run of zeros for the linker to leave
    out) and placed in memory by the segment that holds them."""
    body = img.bodies().get(11)
    if body is None:
        return
    m = mem.mem
    for pos in range(body[0], body[0] + body[1], WINDOW):
        chunk = img.src.read_at(pos, min(WINDOW + 8, body[0] + body[1] - pos), "wasm data section")
        hits = []
        for pat in pats:
            i = chunk.find(pat)
            while 0 <= i < WINDOW:
                if looks_like_header(chunk, i) and chunk[i + 7] == ptr:
                    j = bisect_right(m.offsets, pos + i) - 1
                    if j >= 0 and pos + i + 8 <= m.offsets[j] + m.ends[j] - m.starts[j]:
                        at = m.starts[j] + pos + i - m.offsets[j]
                        if at % 4 == 0:
                            hits.append(at)
                i = chunk.find(pat, i + 1)
        yield from sorted(hits)


def _check(img, mem: _Memory, addr: int, limit: int | None, how: str) -> Located:
    """The table at addr, if it holds together and agrees with the image's text."""
    ptr, order = img.ptr_size, _order(img)
    room = mem.available(addr)
    if limit is not None:
        if limit > room:
            raise FormatError(f"its {limit:#x} bytes run past the mapped data ({room:#x} bytes)")
        room = limit
    hdr = parse_header(mem.read(addr, min(room, 8 + 8 * 8)), order)
    if hdr is None:
        raise FormatError("no pclntab header there")
    if hdr.ptr_size != ptr:
        raise FormatError(f"pointer size {hdr.ptr_size} in a {ptr * 8}-bit image")
    # The function table first: cheap to read, and it decides whether the rest is worth reading.
    fs = 4 if hdr.layout in ("go1.18", "go1.20") else hdr.ptr_size
    ft_off = 8 + ptr if hdr.layout == "go1.2" else hdr.offsets[4]
    n = hdr.nfunc
    if n < 1 or ft_off > room or 2 * n + 1 > (room - ft_off) // fs:
        raise FormatError(f"it claims {n} functions; the data after it has room for "
                          f"{max((room - ft_off) // fs - 1, 0) // 2}")
    pcs = _words(mem.read(addr + ft_off, (2 * n + 1) * fs), 0, 2 * n + 1, fs, order)[0::2]
    if not all(map(lt, pcs, islice(pcs, 1, None))):
        raise FormatError("its function table is not sorted by entry")
    text, text_from, md, shift = _text_start(img, mem, addr, hdr, pcs)
    need = _needed(mem, addr, hdr, room, limit)
    table = Table(mem.read(addr, need), text, hdr, shift)
    size = limit
    if size is None:
        size = table.extent()
        if md is not None and md[1] is not None and size <= md[1] - addr <= room:
            size = md[1] - addr
    offset = mem.file_offset(addr)
    return Located(offset, addr, size, how, text if table.relative else None,
                   text_from if table.relative else None, table)


def _needed(mem: _Memory, addr: int, hdr: Header, room: int, limit: int | None) -> int:
    """How many bytes from addr to read for the table: all of a named one;
    for one found by its header, up to the end of its last record (1.16 and
    later) or of its file names (1.2)."""
    if limit is not None:
        return limit
    order, ptr = hdr.order, hdr.ptr_size
    if hdr.layout == "go1.2":
        ft_end = 8 + ptr + (2 * hdr.nfunc + 1) * ptr
        if ft_end + 4 > room:
            return room
        filetab = struct.unpack(order + "I", mem.read(addr + ft_end, 4))[0]
        if filetab + 4 > room:
            return room
        nfiles = struct.unpack(order + "I", mem.read(addr + filetab, 4))[0]
        if filetab + 4 * nfiles > room:
            return room
        offs = _words(mem.read(addr + filetab, 4 * nfiles), 4, max(nfiles - 1, 0), 4, order)
        top = max(offs, default=0)
        # The names follow the table; the last one ends at the next NUL.
        head = mem.read(addr + top, min(4096, max(room - top, 0))) if top < room else b""
        nul = head.find(b"\0")
        return max(filetab + 4 * nfiles, top + nul + 1) if nul >= 0 else room
    fs = 4 if hdr.layout in ("go1.18", "go1.20") else ptr
    pcln = hdr.offsets[4]
    n = hdr.nfunc
    offs = _words(mem.read(addr + pcln, (2 * n + 1) * fs), 0, 2 * n + 1, fs, order)[1::2]
    top = pcln + max(offs)
    at, total = _record_shape(hdr.layout, ptr)
    if top + total > room:
        return room
    rec = mem.read(addr + top, total)
    npcdata = struct.unpack_from(order + "I", rec, at)[0]
    end = top + total + 4 * npcdata
    end += (-end % ptr + ptr * rec[-1]) if hdr.layout == "go1.16" else 4 * rec[-1]
    return min(max(end, pcln + (2 * n + 1) * fs), room)


def _text_start(img, mem: _Memory, addr: int, hdr: Header, pcs) -> tuple[int, str | None, tuple | None, int]:
    """(text start, where it came from, (text, epclntab) from the module data
    if that was read, how far entries shift to make PCs) such that every entry
    lies in code. Before 1.18 entries are addresses: they are checked as they
    are, and the start is 0."""
    first, last = pcs[0], pcs[-1]
    if img.kind == "wasm":
        return _wasm_text(img, hdr, first, last)
    if hdr.layout in ("go1.2", "go1.16"):
        if not mem.in_code(first, last):
            raise FormatError(f"its functions ({first:#x}-{last:#x}) do not lie in the image's code")
        return 0, None, None, 0
    md = None
    for where, text in _text_candidates(img, mem, addr, hdr, pcs):
        if where == "moduledata":
            md, text = text, text[0]
        if text is not None and mem.in_code(text + first, text + last):
            return text, where, md, 0
    raise FormatError(f"no text start puts its functions (offsets {first:#x}-{last:#x}) in the image's code")


def _text_candidates(img, mem, addr, hdr, pcs):
    """Where the text start may be told, cheapest first: the header (Go 1.18
    to 1.25), the runtime's module data (checked field by field against the
    table; Go 1.26 and later give it a section of its own), the runtime.text
    symbol (a read of the whole symbol table), the text section or segment."""
    if hdr.text_start:
        yield "header", hdr.text_start
    md = _moduledata(img, mem, addr, hdr, pcs)
    if md is not None:
        yield "moduledata", md
    sym = img.symbol(b"runtime.text")
    if sym:
        yield "symbol runtime.text", sym
    for s in _sections(img):
        if s.name in TEXT_SECTIONS and s.addr:
            yield f"section {s.name}", s.addr
            break
    for r in img.segments():
        if "x" in r.perm:
            yield f"segment {r.name}", r.addr
            break


def _moduledata(img, mem: _Memory, addr: int, hdr: Header, pcs) -> tuple[int, int | None] | None:
    """(text, epclntab or None) from the runtime's module data, found as the
    words that point at this table's header and function names, and believed
    only when its function table slice and pc bounds agree with the table."""
    ptr, order = hdr.ptr_size, hdr.order
    word = order + ("Q" if ptr == 8 else "I")
    key = struct.pack(word, addr) + struct.pack(word, addr + hdr.offsets[0])
    named = [(s.addr, s.size) for s in _sections(img) if s.name in MODULEDATA_SECTIONS and s.addr]
    writable = [(r.addr, r.memsize or r.size) for r in img.segments() if "w" in r.perm]
    if not writable:
        writable = [(s.addr, s.size) for s in _sections(img) if "w" in s.perm and s.size]
    for base, chunk in mem.windows(named or writable):
        i = chunk.find(key)
        while i >= 0:
            if (base + i) % ptr == 0:
                w = mem.read(base + i, (MD_EPCLNTAB + 1) * ptr)
                if len(w) >= (MD_TEXT + 1) * ptr:
                    words = struct.unpack_from(order + word[-1] * (len(w) // ptr), w)
                    text = words[MD_TEXT]
                    if (words[MD_FTAB] == addr + hdr.offsets[4] and words[MD_FTAB + 1] == hdr.nfunc + 1
                            and words[MD_MINPC] - text == pcs[0] and words[MD_MAXPC] - text == pcs[-1]):
                        end = words[MD_EPCLNTAB] if len(words) > MD_EPCLNTAB else None
                        if end is not None and not addr < words[MD_GOFUNC] <= end:
                            end = None
                        return text, end
            i = chunk.find(key, i + 1)
    return None


def _wasm_text(img, hdr: Header, first: int, last: int) -> tuple[int, str | None, None, int]:
    """wasm's text starts at 0: a function's PC is (index + 0x1000) << 16, which
    tables before Go 1.21 store whole and later ones as index + 0x1000. The
    table must not name more functions than the code section defines."""
    shift = 16 if first < WASM_TEXT else 0
    lo, hi = first << shift, last << shift
    count = img.code_functions()
    if hdr.text_start or lo < WASM_TEXT or lo & 0xFFFF or count is None or (hi >> 16) - 0x1000 > count:
        raise FormatError(f"its functions ({lo:#x}-{hi:#x}) are not wasm functions of this module")
    return 0, ("wasm" if hdr.layout in ("go1.18", "go1.20") else None), None, shift
