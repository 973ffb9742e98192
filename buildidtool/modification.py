"""How a file that no longer matches its content ID was changed after the Go
linker stamped it: bytes appended, the file truncated, a signature added or
replaced, symbols or debug sections stripped, or bytes inside the image changed.

Where a change can be undone without knowing anything the file does not hold
(drop the appended bytes; drop an Authenticode certificate table and clear the
fields the signer set; give a Mach-O back the ad hoc signature layout Go's linker
writes), the undone file is hashed as Go hashes it: when that reproduces the
stored content ID, the explanation is proven. Stripping rewrites the file, so it
gets evidence, never proof. An explanation only stands where it accounts for the
whole mismatch: proven, or consistent with every remaining byte (a Mach-O whose
Go-made signature still matches every page before the tables stripping
rewrites). Anything less is listed beside `unexplained`, which says what could
not be checked: a changed byte must never hide behind an innocent explanation.
"""
from __future__ import annotations

import contextlib
import os
import re

from .formats import FormatError, Found, Source, Span, Unit

from . import codesign, formats, hostid
from .buildinfo import of_source
from .formats import macho
from .hashing import find_and_hash
from .idstring import hash_to_string

APPENDED, TRUNCATED, SIGNED, STRIPPED, UNEXPLAINED = "appended", "truncated", "signed", "stripped", "unexplained"
# The phrase each kind takes in the one-line text form: "FILE: modified: signed after link (...)".
PHRASES = {APPENDED: "bytes appended after link", TRUNCATED: "truncated", SIGNED: "signed after link",
           STRIPPED: "stripped after link", UNEXPLAINED: "unexplained"}
MAX_SIGNATURE_READ = 1 << 24
# How many earlier region ends an unproven `appended` tries (each is one hash of the file).
MAX_EARLIER_ENDS = 4


class Modification:
    """One way the file was changed: kind, whether undoing it was proven to give
    back the bytes the content ID was computed over, and what was seen."""

    __slots__ = ("kind", "proven", "detail")

    def __init__(self, kind: str, proven: bool, detail: str):
        self.kind = kind
        self.proven = proven
        self.detail = detail

    def to_json(self) -> dict:
        return {"kind": self.kind, "proven": self.proven, "detail": self.detail}

    def text(self) -> str:
        if self.proven:
            return f"{PHRASES[self.kind]} (proven: {PROOFS[self.kind]})"
        how = "evidence" if self.kind == STRIPPED else "not proven" if self.kind in PROOFS else "seen"
        return f"{PHRASES[self.kind]} ({how}: {self.detail})"

    def __repr__(self) -> str:
        return f"Modification({self.kind!r}, proven={self.proven}, {self.detail!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Modification) and self.to_json() == other.to_json()


def layout_of(src: Source, fmt: str):
    """The format module's layout of a thin container, or None when its format
    has none or its headers cannot be read that far."""
    try:
        return formats.layout(src, fmt)
    except (FormatError, OSError):
        return None


class _Undo:
    """The file as it was at link time, described as a read of the unit's first
    `length` bytes with `overlay` put back and `exclude` read as zeros."""

    __slots__ = ("length", "exclude", "overlay", "note")

    def __init__(self, length: int):
        self.length = length
        self.exclude: list[Span] = []
        self.overlay: list[tuple[int, bytes]] = []
        self.note = ""  # how the signature came to be, when this undo proves it

    def copy(self, length: int, overlay: list[tuple[int, bytes]] = ()) -> "_Undo":
        out = _Undo(length)
        out.exclude = list(self.exclude)
        out.overlay = list(self.overlay) + list(overlay)
        return out


def explain(unit: Unit, build_id: bytes, stored: str) -> list[Modification]:
    """Every modification that explains why the unit (a thin file, or one
    slice) no longer hashes to its stored content ID `stored`."""
    fd, found, span, src = unit.src.fd, unit.found, unit.span, unit.src
    lay = layout_of(src, found.format)
    out: list[Modification] = []
    if lay is None:
        return [Modification(UNEXPLAINED, False, f"the content differs and the {found.format} layout "
                                                 f"cannot tell how")]
    undo = _Undo(span.size)
    file_end, image_end = span.end, lay.image_end
    if file_end < image_end:
        out.append(Modification(TRUNCATED, False, f"the headers place data up to offset {image_end:#x}; "
                                                  f"the file ends at {file_end:#x} "
                                                  f"({image_end - file_end} bytes missing)"))
    elif file_end > image_end:
        undo.length = image_end - span.offset
        out.append(Modification(APPENDED, False, f"{file_end - image_end} bytes after the end of the linked "
                                                 f"image at offset {image_end:#x}"))
    signing = _signed(fd, found, span, lay, undo)
    signed, undos = signing if signing is not None else (None, [undo])
    if signed is not None:
        out.append(signed)
    provable = [m for m in out if m.kind in (APPENDED, SIGNED)]
    if provable and not any(m.kind == TRUNCATED for m in out):
        for candidate in undos:
            if _reproduces(fd, found, span, build_id, candidate, stored):
                for m in provable:
                    m.proven = True
                    m.detail += "; " + PROOFS[m.kind]
                if signed is not None and candidate.note:
                    signed.detail = signed.detail.replace(_FOREIGN, candidate.note, 1)
                return out
        if signed is None and _appended_earlier(fd, found, span, build_id, stored, lay, out[0]):
            return out
    stripped = None if out and out[0].kind == TRUNCATED else _stripped(fd, src, found, lay)
    if stripped is not None:
        out.append(stripped)
        consistent = _stripping_consistent(fd, found, span, lay)
        if consistent is not None:
            stripped.detail += "; " + consistent
            if len(out) == 1:
                return out
    out.append(Modification(UNEXPLAINED, False, _unexplained_detail(fd, found, span, lay, out)))
    return out


PROOFS = {APPENDED: "the file without them matches its content ID",
          SIGNED: "the unsigned file matches its content ID"}


def _appended_earlier(fd, found, span, build_id, stored, lay, appended: Modification) -> bool:
    """Appended bytes that parse as more of the container (a wasm section, say)
    move the apparent end of the image: try the ends of the last few regions."""
    ends = sorted({r.end for r in lay.regions if span.offset < r.end < lay.image_end}, reverse=True)
    for end in ends[:MAX_EARLIER_ENDS]:
        undo = _Undo(end - span.offset)
        if _reproduces(fd, found, span, build_id, undo, stored):
            appended.proven = True
            appended.detail = (f"{span.end - end} bytes after the end of the linked image at offset {end:#x}; "
                               + PROOFS[APPENDED])
            return True
    return False


def _reproduces(fd: int, found: Found, span: Span, build_id: bytes, undo: _Undo, stored: str) -> bool:
    """Whether the undone unit hashes to `stored`, as Go hashes it now or, for a
    file with a host build ID, as Go before 1.24 did (with that ID hashed in)."""
    if undo.length > span.size:
        return False  # the undone file would be longer than this one: nothing to read the rest from
    for exclude in (found.exclude, hostid.pre_1_24_exclude(found)):
        if exclude is not None:
            hashed = find_and_hash(fd, build_id, list(exclude) + undo.exclude, span.offset, undo.length,
                                   overlay=undo.overlay)
            if hash_to_string(hashed.digest) == stored:
                return True
    return False


# --- signed ---

def _signed(fd: int, found: Found, span: Span, lay, undo: _Undo) -> tuple[Modification, list[_Undo]] | None:
    """The signature Go's linker did not write, and the ways to undo it (each
    a complete _Undo, built on `undo`); None when there is none."""
    if found.format == "pe" and lay.certificate is not None:
        cert = lay.certificate
        # Go's linker writes no certificate table: the unsigned image ends with
        # whatever precedes it, and the signer set the table's directory entry
        # and the header checksum, which Go leaves zero.
        rest = [r for r in lay.regions if r.kind != "table" or r.name != "certificate table"]
        unsigned = undo.copy(min(undo.length, max(r.end for r in rest if r.size) - span.offset))
        unsigned.exclude += [lay.certificate_entry, lay.checksum]
        return Modification(SIGNED, False, f"an Authenticode certificate table ({cert.size} bytes at "
                                           f"offset {cert.offset:#x}), which Go's linker does not write"), [unsigned]
    if found.format == "macho" and lay.code_signature is not None:
        sig = lay.code_signature
        code_size = sig.offset - span.offset
        if not 0 <= code_size <= span.size:
            return None
        blob = os.pread(fd, min(sig.size, MAX_SIGNATURE_READ, span.end - sig.offset), sig.offset)
        what = _foreign_signature(blob, code_size, sig.size)
        if what is None:
            return None
        undos = []
        # Go's linker signed it (darwin/arm64) and someone re-signed: Go's ad hoc
        # signature, sized as cmd/link sizes it, is what was there.
        go_size = codesign.size(code_size)
        with contextlib.suppress(FormatError):
            replaced = undo.copy(code_size + go_size, macho.signature_size_patches(lay, go_size))
            replaced.exclude.append(Span(sig.offset, go_size))
            replaced.note = "replaced Go's ad hoc one"
            undos.append(replaced)
        # Go wrote none (darwin/amd64) and a signer added one: no such command, and
        # __LINKEDIT ends where the signature starts.
        with contextlib.suppress(FormatError):
            added = undo.copy(code_size, macho.signature_removal_patches(lay))
            added.note = "was added after link"
            undos.append(added)
        return Modification(SIGNED, False, what), undos
    return None


def _foreign_signature(blob: bytes, code_size: int, size: int) -> str | None:
    """What replaced Go's ad hoc signature, or None when it is Go's own."""
    parsed = codesign.describe(blob)
    if parsed is None:
        return f"a code signature Go's linker does not write ({size} bytes, not an embedded signature)"
    slots, flags = parsed
    if slots == [codesign.CSSLOT_CODEDIRECTORY] and flags == codesign.CS_ADHOC | codesign.CS_LINKER_SIGNED \
            and size == codesign.size(code_size):
        return None
    notes = []
    if any(s == codesign.CSSLOT_SIGNATURESLOT for s in slots):
        notes.append("CMS signature")
    if flags & codesign.CS_RUNTIME:
        notes.append("hardened runtime")
    if flags & codesign.CS_ADHOC:
        notes.append("ad hoc")
    extra = f": {', '.join(notes)}" if notes else ""
    return f"a code signature that {_FOREIGN} ({size} bytes, {len(slots)} blobs{extra})"


# What a foreign Mach-O signature did, until an undo proves which: replaced Go's or was added.
_FOREIGN = "replaced Go's ad hoc signature or was added after link"


# --- stripped ---

def _stripped(fd: int, src: Source, found: Found, lay) -> Modification | None:
    if found.format not in ("elf", "pe", "macho"):
        return None
    gone = []  # sections Go's linker always writes, taken out
    if found.format == "elf":
        names = lay.section_names
        no_symbols = ".symtab" not in names
        no_debug = not any(n.startswith((".debug_", ".zdebug_")) for n in names)
        symbols, debug = "no .symtab section", "no .debug_* sections"
        if names and ".go.buildinfo" not in names:
            gone.append("no .go.buildinfo section, which Go's linker writes into every executable "
                        "(objcopy --remove-section .go.buildinfo takes it out)")
    else:
        names = {r.name for r in lay.regions}
        no_symbols = not lay.has_symtab
        no_debug = not any(n.startswith((".debug_", ".zdebug_", "__DWARF")) for n in names)
        symbols = "no COFF symbol table" if found.format == "pe" else "no symbol table (LC_SYMTAB)"
        debug = "no DWARF sections" if found.format == "pe" else "no __DWARF segment"
    seen = _symbols_gone(src, found, names, (symbols, no_symbols), (debug, no_debug)) + gone
    return Modification(STRIPPED, False, "; ".join(seen)) if seen else None


def _symbols_gone(src: Source, found: Found, names, symbols: tuple[str, bool], debug: tuple[str, bool]) -> list[str]:
    """The evidence that symbols or DWARF were stripped: what is missing, set
    against the linker flags build info records."""
    (symbols, no_symbols), (debug, no_debug) = symbols, debug
    if not (no_symbols or no_debug):
        return []
    # objcopy adds this when the symbols are split off into a file of their own
    # (Debian's dh_strip does, for the -dbgsym package); Go's linker never writes it.
    debuglink = found.format == "elf" and ".gnu_debuglink" in names
    linked = "a .gnu_debuglink section, which Go's linker never writes (objcopy adds it when symbols are split off)"
    ldflags, no_dwarf_wanted = _link_flags(src)
    no_debug = no_debug and not no_dwarf_wanted
    if not (no_symbols or no_debug):
        return []
    if ldflags is None:
        return [" and ".join(s for s, gone in ((symbols, no_symbols), (debug, no_debug)) if gone),
                linked if debuglink else "build info does not record the linker flags, so this is likely but "
                                         "not certain"]
    seen = []
    if no_symbols and "-s" not in ldflags:
        seen.append(f"{symbols} although build info shows the linker was not given -s")
    if no_debug and not {"-s", "-w"} & ldflags:
        seen.append(f"{debug} although build info shows the linker was not given -w")
    if seen and debuglink:
        seen.append(linked)
    return seen


_LDFLAG = re.compile(r"(?:^|\s)-(s|w)(?:=(true|false))?(?=\s|$)")


def _link_flags(src: Source) -> tuple[set[str] | None, bool]:
    """({"-s", "-w"} as given to the linker, or None when build info cannot say:
    none, or built with -trimpath, which keeps -ldflags out of it; whether the
    compiler was told to emit no DWARF, as Go's own release builds are)."""
    try:
        bi = of_source(src)
    except (FormatError, OSError, ValueError):  # broken build info: `info` reports it; here it only says less
        return None, False
    if bi is None:
        return None, False
    no_dwarf = "-dwarf=false" in (bi.setting("-gcflags") or "")
    ldflags = bi.setting("-ldflags")
    if ldflags is None and bi.setting("-trimpath") == "true":
        return None, no_dwarf
    return {"-" + m.group(1) for m in _LDFLAG.finditer(ldflags or "") if m.group(2) != "false"}, no_dwarf


# --- unexplained ---

def _go_signature_mismatches(fd: int, found: Found, span: Span) -> list[int] | None:
    """The pages whose hashes no longer match a Go-made ad hoc signature (which
    holds the page hashes of the bytes as linked); None when there is none."""
    sig = found.code_signature
    if found.format != "macho" or sig is None or sig.offset < span.offset:
        return None
    check = codesign.check_file(fd, sig, span.offset)
    return None if check is None else check.mismatched


def _stripping_consistent(fd: int, found: Found, span: Span, lay) -> str | None:
    """What shows that stripping accounts for the whole mismatch: a Mach-O
    whose Go-made signature still matches every page before __LINKEDIT (the
    symbol and string tables stripping rewrites live there), when some page
    in it does not. None when nothing shows it."""
    pages = _go_signature_mismatches(fd, found, span)
    linkedit = next((r for r in lay.regions if r.kind == "segment" and r.name == "__LINKEDIT"), None)
    if not pages or linkedit is None:
        return None
    first = span.offset + pages[0] * codesign.PAGE_SIZE
    if first + codesign.PAGE_SIZE <= linkedit.offset:
        return None
    return (f"Go's ad hoc signature still matches every page before __LINKEDIT (offset {linkedit.offset:#x}), "
            f"so only the tables stripping rewrites changed")


def _unexplained_detail(fd: int, found: Found, span: Span, lay, seen: list[Modification]) -> str:
    """What no explanation found accounts for, and why: where the change is
    when Go's ad hoc signature still holds page hashes of the bytes as linked;
    else what could not be checked, given what else was seen."""
    pages = _go_signature_mismatches(fd, found, span)
    if pages:
        where = sorted({r.name for p in pages for r in lay.regions
                        if r.kind in ("section", "table", "header")
                        and r.offset < span.offset + (p + 1) * codesign.PAGE_SIZE
                        and r.end > span.offset + p * codesign.PAGE_SIZE})
        first = span.offset + pages[0] * codesign.PAGE_SIZE
        return (f"{len(pages)} page(s) no longer match Go's ad hoc signature, the first at offset {first:#x}"
                + (f" ({', '.join(where[:8])})" if where else ""))
    kinds = {m.kind for m in seen}
    if STRIPPED in kinds:
        return ("what stripping removed cannot be restored to check the rest against the content ID, "
                "so a change elsewhere in the file would look the same")
    if TRUNCATED in kinds:
        return ("the missing bytes cannot be restored to check the rest against the content ID, "
                "so a change elsewhere in the file would look the same")
    if kinds & {APPENDED, SIGNED}:
        return "undoing what was found does not give back the content ID: the bytes inside the image changed too"
    return "no appended bytes, signature or stripping explains the mismatch: the bytes inside the image changed"
