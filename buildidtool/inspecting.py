"""`info`: everything known about a file, per slice: the build ID and its parts,
the host build ID and whether it was derived, the Mach-O code signature and
whether its page hashes match, and the Go build info."""
from __future__ import annotations

import os

from . import codesign, goversion, hostid
from .buildinfo import read_build_info_fd, read_build_info_slices_fd
from .errors import BuildIDError, os_message
from .fileio import opened
from .formats import Found, Source
from .reading import locate_fd, to_info


def _unit(fd: int, found: Found, record: dict, build_info, build_info_error: str | None) -> dict:
    version = {"go_version": build_info.go_version if build_info is not None else None}
    src = Source.of_file(fd)
    goversion.fill(version, found, src.view(found.span.offset, found.span.size) if found.span else src)
    h = found.host_build_id
    if h is not None:
        # Without build info, the recovered Go version still says which rule applies.
        settings = hostid.settings_of(build_info) if build_info is not None else None
        status, why = hostid.judge(found.build_id, h.kind, h.value, version["go_version"], settings)
        record["host_build_id"] = {"kind": h.kind, "hex": h.value.hex(), "status": status, "reason": why}
    sig = found.code_signature
    if sig is not None:
        base = found.span.offset if found.span is not None else 0
        try:
            blob = os.pread(fd, sig.size, sig.offset) if sig.size <= (64 << 20) else b""
            check = codesign.check_pages(blob, lambda off, n: os.pread(fd, n, base + off))
        except OSError:
            check = None
        record["code_signature"] = {
            "offset": sig.offset, "size": sig.size,
            "go_made": codesign.size(sig.offset - base) == sig.size,
            "pages": check.pages if check else None,
            "pages_match": check.ok if check else None,
        }
    record["build_info"] = build_info.to_json() if build_info is not None else None
    record["build_info_error"] = build_info_error
    record.update(version)
    record["_lines"] = build_info.lines() if build_info is not None else []
    return record


def inspect(path: str) -> dict:
    """The `info --json` object for one file. Raises BuildIDError."""
    return strip_private(inspect_with_lines(path))


def inspect_with_lines(path: str) -> dict:
    """inspect(), keeping each unit's `go version -m` text lines under "_lines"."""
    with opened(path) as fd:
        found = locate_fd(path, fd)
        record = to_info(path, found).to_json()
        try:
            infos = read_build_info_slices_fd(path, fd) if found.slices else \
                [(found.arch, read_build_info_fd(path, fd))]
            error = None
        except BuildIDError as e:
            infos, error = [(None, None)] * max(1, len(found.slices)), e.message
        except OSError as e:
            infos, error = [(None, None)] * max(1, len(found.slices)), os_message(e)
        if found.slices:
            record["slices"] = [_unit(fd, s, r, bi, error)
                                for s, r, (_, bi) in zip(found.slices, record["slices"], infos)]
            record["build_info"] = None
            record["build_info_error"] = None
            # The file's version is its first slice's, as Go reads it.
            record["go_version"] = record["slices"][0].get("go_version")
            record["go_version_source"] = record["slices"][0].get("go_version_source")
            record["_lines"] = []
            return record
        return _unit(fd, found, record, infos[0][1], error)


def human_lines(record: dict) -> list[str]:
    """The text form: the ID lines, then `go version -m` style lines."""
    from .idstring import printable

    out = []
    units = [(f"{record['file']} [{s['arch']}]", s) for s in record["slices"]] or [(record["file"], record)]
    for label, u in units:
        out.append(f"{printable(label)}: {u['format']} {u['arch'] or '-'}")
        out.append(f"\tbuild ID\t{printable(u['build_id']) if u['build_id'] else '(none)'}")
        for name, value in (u["parts"] or {}).items():
            out.append(f"\t  {name}\t{value}")
        h = u.get("host_build_id")
        if h:
            why = f": {h['reason']}" if h.get("reason") and h["status"] != "derived" else ""
            out.append(f"\thost build ID\t{h['kind']} {h['hex']} ({h['status']}{why})")
        sig = u.get("code_signature")
        if sig:
            state = {True: "page hashes match", False: "page hashes DO NOT match",
                     None: "not checked"}[sig["pages_match"]]
            made = "Go-made" if sig["go_made"] else "not Go-made"
            out.append(f"\tcode signature\t{sig['size']} bytes at {sig['offset']:#x}, {made}, {state}")
        bi = u.get("build_info")
        if bi:
            out.append(f"{printable(label)}: {bi.get('GoVersion', '')}")
            out.extend("\t".join(printable(f) for f in line.split("\t")) for line in u["_lines"])
        elif u.get("build_info_error"):
            out.append(f"\tbuild info\terror: {u['build_info_error']}")
        if not bi and u.get("go_version"):
            out.append(f"\tGo version\t{printable(u['go_version'])} "
                       f"(no build info; recovered by {u['go_version_source']})")
    return out


def strip_private(record: dict) -> dict:
    record.pop("_lines", None)
    for s in record.get("slices", []):
        s.pop("_lines", None)
    return record
