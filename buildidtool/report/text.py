"""Text: the lines every command prints for a human, and the one-line error.

Every field is escaped (`printable`): no ID or file name puts raw control
bytes on a terminal."""
from __future__ import annotations

from ..idstring import printable


def error_line(name: str | None, message: str) -> str:
    """The one line a failure prints on stderr, naming the file as the user
    gave it (`-` for standard input) when there is one."""
    return "buildid: " + printable(message if name is None else f"{name}: {message}")


def id_line(info) -> str:
    if info.build_id is not None:
        return printable(info.build_id)
    if info.host_build_id is not None:
        return f"(no Go build ID; {info.host_build_id.kind} build ID {info.host_build_id.hex})"
    return "(no Go build ID)"


def read_lines(info, labelled: bool) -> list[str]:
    """`read`: the ID; per slice of a universal file; `FILE: ID` when several files are read."""
    if info.slices:
        return [f"{printable(info.file)} [{s.arch}]: {id_line(s)}" for s in info.slices]
    return [f"{printable(info.file)}: {id_line(info)}" if labelled else id_line(info)]


def hash_lines(reports, name: str, several: bool) -> list[str]:
    """`hash`: content ID and SHA-256, per slice of a universal file
    (`[arch] `); `FILE: ` (`FILE [arch]: `) first when several files are hashed."""
    out = []
    for r in reports:
        label = [printable(name)] if several else []
        label += [f"[{r.arch}]"] if len(reports) > 1 else []
        prefix = " ".join(label) + (": " if several else " ") if label else ""
        out.append(f"{prefix}{r.content_id} {r.sha256}")
    return out


def rewrite_lines(r) -> list[str]:
    """`rewrite`: per unit, unchanged or old -> new."""
    out = []
    for u in r.units:
        label = printable(r.file) + (f" [{u.arch}]" if len(r.units) > 1 else "")
        old, new = printable(u.old_id), printable(u.new_id)
        if old == new and not u.changed:
            out.append(f"{label}: unchanged")
        else:
            out.append(f"{label}: {'would rewrite' if r.dry_run else 'rewrote'} {old} -> {new}")
    return out


def verify_lines(v) -> list[str]:
    """`verify`: status, reason or how the file was modified, and a host
    build ID that is there; per slice of a universal file."""
    out = []
    rows = [(f"{printable(v.file)} [{s.arch}]", s) for s in v.slices] or [(printable(v.file), v)]
    for label, s in rows:
        reason = f" ({printable(s.reason)})" if s.reason else ""
        if s.modification:
            reason = ": " + printable("; ".join(m.text() for m in s.modification))
        host = s.host_build_id
        note = f" [host build ID {host.status}]" if host and host.status != "absent" else ""
        out.append(f"{label}: {s.status}{reason}{note}")
    return out


def info_lines(facts) -> list[str]:
    """`info`: per unit, the ID lines, then the `go version -m` lines of its build info."""
    out = []
    units = [(f"{facts.file} [{s.arch}]", s) for s in facts.slices] or [(facts.file, facts)]
    for label, u in units:
        out.append(f"{printable(label)}: {u.format} {u.arch or '-'}")
        out.append(f"\tbuild ID\t{printable(u.build_id) if u.build_id else '(none)'}")
        for name, value in (u.parts or {}).items():
            out.append(f"\t  {name}\t{value}")
        h = u.host_build_id
        if h:
            why = f": {h.reason}" if h.reason and h.status != "derived" else ""
            out.append(f"\thost build ID\t{h.kind} {h.hex} ({h.status}{why})")
        sig = u.code_signature
        if sig:
            state = {True: "page hashes match", False: "page hashes DO NOT match",
                     None: "not checked"}[sig.pages_match]
            made = "Go-made" if sig.go_made else "not Go-made"
            out.append(f"\tcode signature\t{sig.size} bytes at {sig.offset:#x}, {made}, {state}")
        bi = u.build_info
        if bi is not None:
            out.append(f"{printable(label)}: {printable(bi.go_version)}")
            out.extend("\t".join(printable(f) for f in line.split("\t")) for line in bi.lines())
        elif u.build_info_error:
            out.append(f"\tbuild info\terror: {printable(u.build_info_error)}")
        if bi is None and u.go_version:
            out.append(f"\tGo version\t{printable(u.go_version)} "
                       f"(no build info; recovered by {u.go_version_source})")
        if u.recovered is not None:
            out.extend(recovered_lines(u))
    return out


def recovered_lines(u) -> list[str]:
    """`info`, for a unit whose build info names no modules: what its pclntab
    tells (the Go releases its layout could come from, where no version is
    known; the main module; each module with its evidence)."""
    rec = u.recovered
    if rec.error:
        return [f"\tpclntab\terror: {printable(rec.error)}"]
    out = []
    if not u.go_version and rec.go_version_range is not None:
        out.append(f"\tGo version\t{rec.go_version_range} (no build info; from the pclntab's layout)")
    out.append(f"\tpclntab\t{plural(len(rec.modules), 'module')} recovered (build info names none)")
    main = rec.main_module
    if main is not None and main.get("path"):
        out.append(f"\tmain module\t{printable(main['path'])}\t(pclntab)")
    for m in rec.modules:
        kind = "" if m.kind == "module" else f"{m.kind}, "
        out.append(f"\tmodule\t{printable(m.path)}\t{printable(m.version) if m.version else '(no version)'}\t"
                   f"(pclntab: {kind}{plural(m.functions, 'function')}, {plural(len(m.files), 'file')})")
    if rec.obfuscated:
        out.append(f"\tobfuscated\t{len(rec.obfuscated['packages'])} packages, "
                   f"{rec.obfuscated['functions']} functions (not read as modules)")
    return out


def _value(v: str | None) -> str:
    return "absent" if v is None else v or '""'


def diff_lines(d, label_a: str, label_b: str, short: bool = False) -> list[str]:
    """`diff`: a verdict line, then per unit what differs most plainly first
    (the architectures, the build info), then the build-ID parts, the content
    and, unless `short`, the differing byte ranges (section names and build
    info come from the files: each line is escaped)."""
    verdict = "same content modulo build IDs" if d.same else "different"
    lines = [f"{label_a} vs {label_b}: {verdict}"]
    for u in d.units:
        pre = f"  [{u.arch}] " if len(d.units) > 1 or d.format == "macho-fat" else "  "
        if not u.same_arch:
            lines.append(pre + f"architectures differ: {u.archs[0]} vs {u.archs[1]} "
                               "(builds for two targets never have the same content)")
        for f in u.build_info or ():
            lines.append(pre + f"build info {f.field}: {_value(f.a)} vs {_value(f.b)}")
        lines.append(pre + "build ID: " + ", ".join(f"{k} {v}" for k, v in u.parts.items()))
        if u.same_content:
            lines.append(pre + f"content: same ({u.content_ids[0]})")
            continue
        verb = "differs" if u.differing_bytes == 1 else "differ"
        lines.append(pre + f"content: {u.content_ids[0]} vs {u.content_ids[1]}: {plural(u.differing_bytes, 'byte')} "
                           f"{verb} in {plural(u.range_count, 'range')}"
                     + (f" (first {len(u.ranges)} listed)" if u.range_count > len(u.ranges) and not short else ""))
        if u.sizes[0] != u.sizes[1]:
            lines.append(pre + f"  sizes: {u.sizes[0]} vs {u.sizes[1]} bytes")
        if u.by_region:
            lines.append(pre + "  by region: " + ", ".join(f"{k} {v}" for k, v in list(u.by_region.items())[:12]))
        for r in () if short else u.ranges:
            where = f" {', '.join(r.where)}" if r.where else ""
            lines.append(pre + f"  {r.offset:#x}-{r.offset + r.size:#x} ({plural(r.size, 'byte')}){where}")
    tail = d.after_slices
    if tail is not None and (tail.a or tail.b):
        lines.append(f"  after the last slice: {tail.a} vs {tail.b} bytes, "
                     + ("the same" if tail.same else "different"))
    for side, archs in (("a", d.only_in_a), ("b", d.only_in_b)):
        if archs:
            lines.append(f"  only in {label_a if side == 'a' else label_b}: {', '.join(archs)}")
    return [printable(line) for line in lines]


def rebuild_lines(r) -> list[str]:
    """`rebuild`: the verdict, then how it was reached: toolchain, source,
    the flags build info does not record, the command, and where a file
    that differs differs (ranges and build info come from the files: each
    line is escaped)."""
    lines = [f"{r.file}: {r.status}: {r.reason}"]
    if r.error:
        return [printable(lines[0])]
    if r.toolchain is not None:
        lines.append(f"  toolchain: {r.toolchain.text()}")
    if r.origin is not None:
        lines.append(f"  source: {r.origin.text()}")
    if len(r.attempts) > 1 or r.unrecorded:
        tried = ", ".join(f"{' '.join(a.unrecorded) or 'none'} (link {_link_word(a.link_match)})"
                          for a in r.attempts)
        if r.unrecorded is None:
            lines.append(f"  not in build info, tried: {tried}")
        else:
            lines.append(f"  not in build info: {' '.join(r.unrecorded) or 'none'}"
                         + (f" (tried {tried})" if len(r.attempts) > 1 else ""))
    if r.command is not None:
        lines.append(f"  command: {r.command.line()}")
    for m in r.undone:
        lines.append(f"  undone: {m.kind}: {m.detail}")
    d = r.differences
    if d is not None and r.status == "differs":
        lines.append("  build ID: " + ", ".join(f"{k} {v}" for k, v in d.build_id))
        for offset, size, where in d.ranges[:5]:
            lines.append(f"  {offset:#x}-{offset + size:#x} ({plural(size, 'byte')}) {', '.join(where)}".rstrip())
        if d.range_count > 5:
            lines.append(f"  … {d.range_count - 5} more ranges")
        for field, a, b in d.build_info:
            lines.append(f"  build info {field}: {_value(a)} (file) vs {_value(b)} (rebuilt)")
    lines += [f"  note: {n}" for n in r.notes]
    return [printable(line) for line in lines]


def _link_word(match: bool | None) -> str:
    return {True: "matches", False: "differs", None: "unknown"}[match]


def shown_id(facts) -> str | None:
    """scan's build ID column: the file's own, or its slices', comma-separated."""
    if facts.raw_build_id:
        return facts.build_id
    return ",".join(s.build_id for s in facts.slices if s.raw_build_id) or None


def shown_range(facts) -> str | None:
    """scan's Go column for a Go file of no known version: the releases its
    pclntab's layout could come from, where it was read."""
    for u in facts.units:
        if u.recovered is not None and u.recovered.go_version_range is not None:
            return f"{u.recovered.go_version_range} (pclntab)"
    return None


def scan_header(verify: bool, vulns: bool = False) -> str:
    """The column names of scan_line."""
    return "\t".join(["FILE", "FORMAT", "ARCH", "GO", "BUILD ID", *(["STATUS", "REASON"] if verify else []),
                      *(["VULNS"] if vulns else []), "ERROR / LINK"])


def scan_line(facts, verify: bool, vulns: bool = False) -> str:
    """`scan`, tab-separated: file, format, arch, go_version, build_id[, status,
    reason][, findings per level], error (for a link, what it links to); `-`
    for an empty field; no tab or newline inside a field breaks a column."""
    fields = [facts.file, facts.format, facts.arch, facts.go_version or shown_range(facts), shown_id(facts)]
    if verify:
        fields += [facts.status, "; ".join(m.text() for m in facts.modification) if facts.modification
                   else facts.reason]
    if vulns:
        from .vulns import count_words, counts  # only for scan --vulns
        words = count_words(counts(facts))
        fields.append(words if words != "-" else None)
    fields.append(facts.error if facts.link is None else facts.link)
    return "\t".join([printable(f) if f else "-" for f in fields])


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def scan_summary(tally, verify: bool, skipped: str, vulndb: dict | None = None) -> str:
    """The line on stderr after a scan (report.scan.Tally counts it); `skipped`:
    what the walk passed over, worded (tree.ScanStats.words); `vulndb`: the
    database of --vulns (Database.describe()), whose findings it counts."""
    per_version = ", ".join(f"{v}: {n}" for v, n in sorted(tally.versions.items()))
    vulns = ""
    if vulndb is not None:
        from .vulns import count_words  # only for scan --vulns
        offline = ", offline" if vulndb.get("offline") else ""
        vulns = (f"; known vulnerabilities in {plural(tally.vuln_units, 'Go executable')}: "
                 f"{count_words(tally.vulns)} (vuln database {printable(vulndb['source'])}, "
                 f"modified {vulndb['modified'] or 'unknown'}{offline})")
    return (f"scanned {plural(tally.files, 'file')}: {plural(tally.go, 'Go file')}"
            + (f" ({per_version})" if per_version else "")
            + (f", {plural(tally.recovered, 'file')} with modules recovered from the pclntab" if tally.recovered
               else "")
            + (f", {tally.modified} modified, {tally.unchecked} could not be checked" if verify else "")
            + f", {plural(tally.errors, 'error')}, {skipped}" + vulns)
