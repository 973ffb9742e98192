"""The options of `scan`, in one table: the click command (cli.py) is built
from it, and so is the click-free parser that runs a well-formed scan without
importing click (benchmarks/run.py, row 2 "scan with the click-free parser vs
through click", measures what it saves: a tenth of a small scan). Anything
the parser does not plainly accept (help, an unknown option, a bad value) goes
to click, which words the error. Every value is checked by the same function
either way."""
from __future__ import annotations

from .archives.limits import Limits, parse_size
from .report.scan import FORMATS
from .tree import ALL_LINKS, FILE_LINKS, NO_LINKS

DEFAULT_TIME_LIMIT = 300.0  # seconds per file; --verify hashes ~1 GB/s, so a 100 GB file fits


def _int_in(lo: int, hi: int | None = None):
    def check(text: str) -> int:
        v = int(text)
        if v < lo or (hi is not None and v > hi):
            raise ValueError(f"{text} is not in the range {lo}<=x" + (f"<={hi}" if hi is not None else ""))
        return v
    return check


def _float_at_least(lo: float):
    def check(text: str) -> float:
        v = float(text)
        if not v >= lo:
            raise ValueError(f"{text} is not in the range x>={lo}")
        return v
    return check


def _choice(text: str) -> str:
    if text not in FORMATS:
        raise ValueError(f"{text!r} is not one of {', '.join(FORMATS)}")
    return text


def _nonempty(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


def _size(text: str) -> int:
    return parse_size(text)


def _platform(text: str) -> str:
    from .archives.platforms import check  # only when the option is given: row 2 never pays for it
    return check(text)


class Opt:
    """One option: its names, where its value goes, how a value is checked
    (None: a flag), its help and metavar."""

    __slots__ = ("names", "dest", "check", "help", "metavar")

    def __init__(self, names: tuple[str, ...], dest: str, check, help: str, metavar: str | None = None):
        self.names, self.dest, self.check, self.help, self.metavar = names, dest, check, help, metavar

    @property
    def is_flag(self) -> bool:
        return self.check is None


OPTIONS = (
    Opt(("--format",), "form", _choice, "Output format (default: text, tab-separated); cyclonedx-json and "
        "spdx-json write one SBOM document (CycloneDX 1.6, SPDX 2.3) for the whole scan.",
        "[" + "|".join(FORMATS) + "]"),
    Opt(("--json",), "as_json", None, "Same as --format json: one JSON object per file."),
    Opt(("--csv",), "as_csv", None, "Same as --format csv: RFC 4180 with a header row."),
    Opt(("--verify",), "verify", None, "Also verify each file (reads whole files)."),
    Opt(("--vulns",), "vulns", None, "Also match each Go executable against the Go vulnerability database: "
        "findings per level (symbol, package, module) in every format, vulnerabilities in the SBOMs."),
    Opt(("--db",), "db", str, "With --vulns: the database, a URL speaking its protocol (default "
        "https://vuln.go.dev, cached) or a directory in that layout or of OSV files.", "URL|DIR"),
    Opt(("--follow-symlinks",), "follow_symlinks", None, "Also enter directories through symbolic links (each "
        "directory once). Links to files are followed without it, as go version -m does."),
    Opt(("--no-follow-symlinks",), "no_follow_symlinks", None, "Follow no symbolic link inside the trees."),
    Opt(("--go-only",), "go_only", None, "List only Go files (and files that could not be read); the summary counts all."),
    Opt(("-j", "--jobs"), "jobs", _int_in(1, 256), "Worker processes (default: one per core).", "N"),
    Opt(("--time-limit",), "time_limit", _float_at_least(0),
        "Per-file time limit; a file past it is an error record (default 300, 0: none).", "SECONDS"),
    Opt(("--no-archives",), "no_archives", None, "Do not look inside archives, packages and images."),
    Opt(("--all-layers",), "all_layers", None, "Images: every layer's files (with a layer field), not the squashed tree."),
    Opt(("--max-depth",), "max_depth", _int_in(0, 64),
        "Archives inside archives opened, the outermost counting 1 (default 4; 0: like --no-archives).", "N"),
    Opt(("--max-member-size",), "max_member_size", _size,
        "Largest member read, uncompressed (default 4G; suffixes K, M, G, T).", "SIZE"),
    Opt(("--max-total-size",), "max_total_size", _size,
        "Most data read out of one input, all nesting levels (default 16G).", "SIZE"),
    Opt(("--max-ratio",), "max_ratio", _float_at_least(1),
        "Largest expansion ratio of one input, once past 64M read (default 250).", "RATIO"),
    Opt(("--max-members",), "max_members", _int_in(1), "Most members read from one input (default 1000000).", "N"),
    Opt(("--platform",), "platform", _platform,
        "Images with several platforms: the one to read (default: this machine's), or all.", "OS/ARCH[/VARIANT]"),
    Opt(("--insecure-registry",), "insecure_registry", None,
        "Registries: allow plain HTTP and unverified TLS for every host (default: only for loopback hosts)."),
    Opt(("--dask",), "dask", _nonempty,
        "Scan on the Dask cluster whose scheduler is at ADDRESS (host:port or tcp://host:port); "
        "the inputs must be on file systems its workers share (needs the cluster extra).", "ADDRESS"),
    Opt(("--cache",), "cache", _nonempty,
        "Result cache (an SQLite file, made if missing): inputs unchanged since a scan with this "
        "version and these options are not read again.", "FILE"),
    Opt(("--serial-number",), "serial_number", str,
        "SBOM serial number (urn:uuid:...; default: random, or from the content with --reproducible).", "URN"),
    Opt(("--timestamp",), "timestamp", str,
        "SBOM creation time (default: now, or SOURCE_DATE_EPOCH / 1970 with --reproducible).", "ISO8601"),
    Opt(("--reproducible",), "reproducible", None,
        "SBOM serial number and time fixed, so two scans of one tree give the same bytes."),
)
_BY_NAME = {n: o for o in OPTIONS for n in o.names}


class Options:
    """What a scan was asked to do."""

    __slots__ = ("paths", "form", "verify", "links", "jobs", "time_limit", "sbom_identity", "archives", "go_only",
                 "remote", "insecure_registry", "dask", "cache", "vulns", "db")

    def __init__(self, paths, form="text", verify=False, links=FILE_LINKS, jobs=None,
                 time_limit=DEFAULT_TIME_LIMIT, sbom_identity=(None, None, False), archives="default",
                 go_only=False, platform=None, insecure_registry=False, dask=None, cache=None, vulns=False,
                 db=None):
        self.paths, self.form, self.verify, self.go_only = list(paths), form, verify, go_only
        self.vulns, self.db = vulns, db  # --vulns, and the database it names (None: the default)
        self.links, self.jobs, self.time_limit = links, jobs, time_limit  # tree.FILE_LINKS, ALL_LINKS, NO_LINKS
        self.sbom_identity = sbom_identity  # (serial number, timestamp, reproducible) of an SBOM
        if archives == "default":  # look inside archives with the default limits
            archives = Limits()
        self.archives = archives  # an archives.limits.Limits, or None: --no-archives
        # a registry image is read whatever --no-archives says (it was named to be
        # scanned), without opening archives inside it
        self.remote = Limits(max_depth=1, platform=platform)
        self.insecure_registry = insecure_registry
        self.dask = dask    # a Dask scheduler's address: its workers read the inputs
        self.cache = cache  # a result cache file


class UsageError(ValueError):
    """Options that do not go together, or a bad SBOM identity."""


def options(paths, values: dict) -> Options:
    """The Options of checked values (by dest); UsageError when they conflict."""
    get = values.get
    chosen = {f for f in (get("form"), "json" if get("as_json") else None, "csv" if get("as_csv") else None) if f}
    if len(chosen) > 1:
        raise UsageError("choose one output format (--format, --json, --csv)")
    form = chosen.pop() if chosen else "text"
    if get("follow_symlinks") and get("no_follow_symlinks"):
        raise UsageError("choose one of --follow-symlinks and --no-follow-symlinks")
    links = ALL_LINKS if get("follow_symlinks") else NO_LINKS if get("no_follow_symlinks") else FILE_LINKS
    identity = (get("serial_number"), get("timestamp"), bool(get("reproducible")))
    if identity != (None, None, False):
        if not FORMATS[form].wants_sbom:
            raise UsageError("--serial-number, --timestamp and --reproducible need an SBOM --format")
        # Only with the SBOM flags: the SBOM model imports packageurl, which other scans never need.
        from .report.sbom import Identity, Inventory
        try:
            Identity.make(Inventory(), *identity)
        except ValueError as e:
            raise UsageError(f"bad --serial-number, --timestamp or SOURCE_DATE_EPOCH: {e}") from None
    if get("db") is not None and not get("vulns"):
        raise UsageError("--db names the database of --vulns: give --vulns too")
    archives = None
    if not get("no_archives") and get("max_depth") != 0:
        archives = Limits(all_layers=bool(get("all_layers")), platform=get("platform"))
        for field in ("max_member_size", "max_total_size", "max_depth", "max_ratio", "max_members"):
            if get(field) is not None:
                setattr(archives, field, get(field))
    if get("dask") is not None and get("jobs") is not None:
        raise UsageError("-j sets this machine's worker processes; with --dask the cluster's workers read the files")
    if get("dask") is not None and get("vulns"):
        raise UsageError("--vulns does not go with --dask: the database is opened in this process, before its own "
                         "workers fork; scan with local workers")
    limit = get("time_limit")
    return Options(paths, form, bool(get("verify")), links, get("jobs"),
                   DEFAULT_TIME_LIMIT if limit is None else limit, identity, archives, bool(get("go_only")),
                   get("platform"), bool(get("insecure_registry")), get("dask"), get("cache"), bool(get("vulns")),
                   get("db"))


def parse(args: list[str]) -> Options | None:
    """The Options of a plainly well-formed invocation, else None (let click
    parse it and word any error)."""
    values: dict = {}
    paths: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            paths.extend(args[i + 1:])
            break
        if not a.startswith("-") or a == "-":
            paths.append(a)
            i += 1
            continue
        name, eq, value = a.partition("=") if a.startswith("--") else (a[:2], "", a[2:])
        opt = _BY_NAME.get(name)
        if opt is None or opt.dest in values:
            return None
        if opt.is_flag:
            if eq or value:
                return None
            values[opt.dest] = True
            i += 1
            continue
        if not (eq or value):
            if i + 1 >= len(args):
                return None
            value, i = args[i + 1], i + 1
        try:
            values[opt.dest] = opt.check(value)
        except ValueError:
            return None
        i += 1
    if not paths:
        return None
    try:
        return options(paths, values)
    except UsageError:
        return None
