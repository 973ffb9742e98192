"""A unit's known vulnerabilities: its Go version and modules matched against
the database by version, then each entry that matches judged by the code the
binary really holds, which its pclntab tells even when it is stripped.

    found = check(db, "elf", "amd64", build_info, "go1.19.8", "buildinfo", lambda: table_of(src))
    found.findings          # [Finding], each with a level:
                            #   symbol   a listed vulnerable symbol is in the binary
                            #   package  code of an affected package is, no listed symbol
                            #   module   the version is affected, no code of the affected packages is
                            #   unknown  no function table to look in (gccgo, a broken table)

What is matched. The standard library (`stdlib`) and the toolchain
(`toolchain`) at the Go version, as `v1.19.8`; every dependency at its version,
a replacement's version in its place (matched under the replacement's path
when it names another module, its packages read under the path they replace);
the main module when it has a version (not `(devel)`). Build info wins; a
binary without it gets its Go version from the facts (a symbol, a scan of
its data) and its modules from the pclntab's file paths
(pcln.recovered_modules). Build info that lists no modules (a GOPATH build,
as Debian's Go packages are, or a command of the Go distribution) leaves
only the standard library and toolchain to match: such a build's paths hold
no versions either, so its dependencies are reported unchecked, as one. A
module without a version (a directory replacement, vendored code built
without -trimpath) cannot be matched: it is listed in `unchecked`, with the
reason, never guessed.

How a function name reads as the database's symbols, as govulncheck's binary
mode reads it (debug/gosym's Sym.PackageName, ReceiverName and BaseName):

- the package path is what precedes the first dot after the last slash,
  generic arguments ignored, `%XX` escapes undone (`gopkg.in/yaml%2ev3` is
  `gopkg.in/yaml.v3`);
- the symbol is the rest, with a pointer receiver's `(*` `)` dropped
  (`(*Reader).Read` is `Reader.Read`) and generic arguments dropped wherever
  they stand (`Map[go.shape.int].Load` and Go 1.18-1.20's `Map[...].Load` are
  `Map.Load`);
- a closure counts as the function it is written in (`F.func1`, `F.func1.2`,
  `F.gowrap1`, `F.deferwrap1` are `F`, found as "closure"): its code is part
  of F's source. govulncheck compares `F.func1` with `F` as they are, which
  does not match; where inline data is read (below) it seldom matters, since
  a function whose closure is in the binary is in it itself or inlined.
- inlined calls count (found as "inlined"): from Go 1.16 on, cmd/link writes
  the name of every function an inline tree names into the same name table
  as the functions' own names (walkFuncs in cmd/link/internal/ld/pcln.go), so
  a function inlined everywhere is still named there, stripped or not.
  govulncheck reads the inline trees themselves (FUNCDATA_InlTree, relative to
  the go:func.* symbol, which as far as we know it cannot find in a stripped
  binary); the trees name the same functions. Go 1.2-1.15 tables keep no such
  name table: there only the functions of the table are symbols, and a
  package whose directory is in the file table (inlined code names its file
  there) has code.

An entry's imports that name platforms (`goos`, `goarch`) apply only to a
binary built for one of them: GOOS and GOARCH from build info, else from the
container (PE is windows, Mach-O darwin, XCOFF aix, Plan 9 plan9) or the
runtime's own source file (`runtime/os_linux.go`) in the file table. An entry
whose affected module names no packages affects every package of the module,
as OSV reads it: its level is package when any code of the module is in the
binary. Packages whose imports list no symbols are affected as a whole, but no
symbol is named, so they give level package, not symbol."""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ..formats.errors import FormatError
from ..pclnmodules import MAX_NESTING, blank_instances
from .semver import go_semver, is_valid

SYMBOL, PACKAGE, MODULE, UNKNOWN = "symbol", "package", "module", "unknown"
LEVELS = (SYMBOL, PACKAGE, MODULE, UNKNOWN)
FUNCTION, INLINED, CLOSURE = "function", "inlined", "closure"
STDLIB, TOOLCHAIN = "stdlib", "toolchain"


# --- names ------------------------------------------------------------------------

_INSTANCE = re.compile(r"\[[^\[\]]*\]")
_CLOSURE = re.compile(r"(?:func|gowrap|deferwrap)[0-9]+|[0-9]+")
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")


def _dropped(s: str) -> str:
    """s without its generic arguments."""
    for _ in range(MAX_NESTING):
        if "[" not in s:
            return s
        new = _INSTANCE.sub("", s)
        if new == s:
            return s
        s = new
    return s


def split_name(name: str) -> tuple[str, str] | None:
    """(package path, symbol) of a function name as the binary spells it:
    `net/http.(*Client).Do` -> ("net/http", "(*Client).Do"); None for a name
    that names no package."""
    plain = blank_instances(name) or name  # the name's own rule, as pclnmodules reads it
    slash = plain.rfind("/")
    dot = plain.find(".", slash + 1)
    if dot <= 0:
        return None
    pkg = name[:dot]
    if "%" in pkg:
        pkg = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), pkg)
    return pkg, name[dot + 1:]


def symbol_of(rest: str) -> tuple[str, bool]:
    """(the database's name for the symbol a function is, whether it is a
    closure of it): `(*T[...]).M` -> ("T.M", False), `F.func1.2` -> ("F", True)."""
    s = _dropped(rest) if "[" in rest else rest
    if s.startswith("("):
        close = s.find(")")
        if close > 0:
            s = s[1:close].lstrip("*") + s[close + 1:]
    tail = s[s.rfind(".") + 1:]
    if tail is s or not tail or not (tail[0].isdigit() or tail.startswith(("func", "gowrap", "deferwrap"))):
        return s, False
    parts = s.split(".")
    closure = False
    while len(parts) > 1 and _CLOSURE.fullmatch(parts[-1]):
        parts.pop()
        closure = True
    return ".".join(parts), closure


@lru_cache(maxsize=4096)
def escaped(path: str) -> str:
    """A package path as the linker writes it in symbol names (objabi.PathToPrefix):
    control characters, space, `%`, `"`, non-ASCII and the dots of the last
    element as %xx."""
    slash = path.rfind("/")
    if path.isascii() and path.isprintable() and " " not in path and not any(c in path for c in '%"') \
            and "." not in path[slash + 1:]:
        return path
    out = []
    for i, ch in enumerate(path):
        c = ord(ch)
        if c <= 0x20 or c >= 0x7F or ch in '%"' or (ch == "." and i > slash):
            out.append("".join(f"%{b:02x}" for b in ch.encode("utf-8", "surrogateescape")))
        else:
            out.append(ch)
    return "".join(out)


class Code:
    """The packages and symbols whose code is in a unit, from its pclntab's
    function name table: the functions' names and (Go 1.16 and later) the
    names of functions inlined into them. `inline_data`: whether names of
    inlined functions were there to read.

    The table is searched in place rather than decoded whole: a binary has
    tens of thousands of names and the entries that match its versions ask
    about a few dozen packages, so `load` finds all their names in one pass
    and keeps only those that may spell a symbol asked about."""

    def __init__(self, region: bytes, function_offsets=None, nfunc: int | None = None):
        self.region = region
        self.inline_data = function_offsets is not None
        self._function_offsets = function_offsets  # a function giving them, asked at most once
        self._own = None
        names = region.count(b"\0")
        self.functions = nfunc if nfunc is not None else names
        self.inlined = max(names - self.functions, 0) if self.inline_data else None
        self._wanted: dict[str, frozenset] = {}      # package -> symbols its names were kept for
        self._modules: set[str] = set()             # modules whose packages were all listed
        self._present: set[str] = set()             # packages seen with code, of those searched
        self._names: dict[str, dict[int, str]] = {}  # package -> {offset: name} kept
        self._symbols: dict[str, dict[str, tuple[list, list]]] = {}

    @classmethod
    def of(cls, table) -> "Code":
        """From a pcln.PclnTable (FormatError when its names are broken)."""
        region = table.name_region()
        if region is None:  # Go 1.2-1.15: the functions' names are all there is
            names = table.function_names()
            code = cls("\0".join(names).encode("utf-8", "surrogateescape") + b"\0", None, len(names))
            code._dirs = _source_dirs(table.files)
            return code
        return cls(region, table.function_name_offsets, table.header.nfunc)

    _dirs: frozenset | None = None  # Go 1.2-1.15: the directories of the file table (inlined code included)

    def load(self, packages: dict | None = None, modules: Iterable[str] = ()) -> None:
        """Search once for the names of these packages ({path: symbols}:
        which packages have code, and the names that may spell those symbols)
        and of the modules (every package path at or below each)."""
        todo = {}
        for path, syms in (packages or {}).items():
            have = self._wanted.get(path)
            syms = frozenset(syms)
            if have is None or not syms <= have:
                todo[path] = syms | (have or frozenset())
        mods = [m for m in modules if m not in self._modules]
        if not todo and not mods:
            return
        prefixes: dict[bytes, str | None] = {}  # spelled prefix -> its package (None: read the name)
        for path in todo:
            for spelled in {path, escaped(path)}:
                prefixes[spelled.encode("utf-8", "surrogateescape") + b"."] = path
        for m in mods:
            for spelled in {m, escaped(m)}:
                raw = spelled.encode("utf-8", "surrogateescape")
                prefixes[raw + b"."] = prefixes[raw + b"/"] = None
        starts = {p: _starts(syms) for p, syms in todo.items()}
        region = self.region
        alts = b"|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
        # One pass in C over the table; a name starts after a NUL (or at the start, below).
        hits = [(m.start(1), m.group(1), m.group(2)) for m in re.finditer(b"\0(" + alts + b")([^\0]*)", region)]
        first = region[:region.find(b"\0")]
        for p in sorted(prefixes, key=len, reverse=True):
            if first.startswith(p):
                hits.append((0, p, first[len(p):]))
                break
        for off, head, tail in hits:
            pkg = prefixes[head]
            if pkg is None or b"/" in tail:  # below a module, or a longer path (go.etcd.io/... for go)
                split = split_name(_text(head + tail))
                if split is None:
                    continue
                pkg, rest = split
                self._present.add(pkg)
                if starts.get(pkg) and rest.encode("utf-8", "surrogateescape").startswith(starts[pkg]):
                    self._names.setdefault(pkg, {})[off] = _text(head + tail)
                continue
            self._present.add(pkg)
            if starts[pkg] and tail.startswith(starts[pkg]):
                self._names.setdefault(pkg, {})[off] = _text(head + tail)
        self._wanted.update(todo)
        self._modules.update(mods)
        for p in todo:
            self._symbols.pop(p, None)

    def _searched(self, path: str) -> bool:
        return path in self._wanted or any(path == m or path.startswith(m + "/") for m in self._modules)

    def has_package(self, path: str) -> bool:
        """Whether any code of the package is here: a function of it, or one
        inlined (where the table keeps no names of inlined functions, a file
        of the package's directory in the file table says so)."""
        if not self._searched(path):
            self.load({path: ()})
        if path in self._present:
            return True
        if self._dirs is not None and path:
            tail = "/" + path
            return path in self._dirs or any(d.endswith(tail) for d in self._dirs)
        return False

    def symbols(self, package: str) -> dict[str, tuple[list, list]]:
        """The symbols asked about that the package's kept names spell ->
        ([(offset, name) spelling it], [(offset, name) of its closures])."""
        got = self._symbols.get(package)
        if got is None:
            got = self._symbols[package] = {}
            for off, name in self._names.get(package, {}).items():
                sym, closure = symbol_of(split_name(name)[1])
                pair = got.get(sym)
                if pair is None:
                    pair = got[sym] = ([], [])
                pair[closure].append((off, name))
        return got

    def find(self, package: str, symbol: str) -> tuple[str, str] | None:
        """How `package.symbol` is in the binary: ("function", name) when a
        function of the table is it, ("inlined", name) when it is only named
        as inlined, ("closure", name) when only a closure of it is there;
        None when it is not."""
        if symbol not in self._wanted.get(package, ()):
            self.load({package: (symbol,)})
        pair = self.symbols(package).get(symbol)
        if pair is None:
            return None
        plain, closures = pair
        for off, name in plain:
            if self._is_function(off):
                return FUNCTION, name
        if plain:
            return INLINED, plain[0][1]
        return CLOSURE, closures[0][1]

    def _is_function(self, offset: int) -> bool:
        if not self.inline_data:
            return True
        if self._own is None:
            self._own = frozenset(self._function_offsets())
        return offset in self._own

    def module_packages(self, module: str, others: Iterable[str]) -> list[str]:
        """The packages with code here that belong to `module` and not to a
        longer module path among `others` (golang.org/x/tools/gopls apart
        from golang.org/x/tools); for stdlib, the standard library's (no dot
        in the first element, cmd/ apart), for toolchain cmd/'s."""
        if module in (STDLIB, TOOLCHAIN):
            return self._std_packages(module == TOOLCHAIN)
        self.load(modules=[module])
        longer = [o for o in others if o != module and o.startswith(module + "/")]
        return sorted(p for p in self._present
                      if (p == module or p.startswith(module + "/"))
                      and not any(p == o or p.startswith(o + "/") for o in longer))

    def _std_packages(self, cmd: bool) -> list[str]:
        out = set()
        for name in _text(self.region).split("\0"):
            split = split_name(name)
            if split is None:
                continue
            first = split[0].split("/", 1)[0]
            if "." in first or split[0] == "main" or not first[:1].isalnum():
                continue
            if (first == "cmd") == cmd:
                out.add(split[0])
        return sorted(out)

    def to_json(self) -> dict:
        return {"functions": self.functions, "inlined": self.inlined}


_AT_VERSION = re.compile(r"@v[^/]*")


def _source_dirs(files) -> frozenset:
    """The directories of a file table's files, module versions taken out
    (`.../mod/golang.org/x/sys@v0.1.0/unix` reads `.../mod/golang.org/x/sys/unix`)."""
    out = set()
    for f in files:
        f = f.replace("\\", "/")
        d = f[:f.rfind("/")] if "/" in f else ""
        if d:
            out.add(_AT_VERSION.sub("", d) if "@" in d else d)
    return frozenset(out)


def _starts(symbols) -> tuple:
    """What the rest of a name (after `package.`) starts with when it may
    spell one of these symbols: the first element, bare or as a receiver."""
    out = set()
    for s in symbols:
        head = s.split(".", 1)[0]
        out.update((head, "(*" + head, "(" + head))
    return tuple(sorted(x.encode("utf-8", "surrogateescape") for x in out))


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


# --- platform ----------------------------------------------------------------------

_BY_CONTAINER = {"pe": "windows", "macho": "darwin", "xcoff": "aix", "plan9": "plan9"}
_OS_FILE = re.compile(r"(?:^|/)runtime/os_([a-z0-9]+)\.go$")
_OS_FILE_BYTES = re.compile(rb"(?:^|[\0/\\])runtime[/\\]os_([a-z0-9]+)\.go(?=\0)")
# Where a GOOS's runtime has more than one os_*.go file, the narrower one names it.
_NARROWER = {"android": "linux", "illumos": "solaris"}
KNOWN_GOOS = frozenset({"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux",
                        "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "hurd", "zos"})


def goos_of(format: str, table=None) -> str | None:
    """GOOS without build info: the container's, else the one whose
    runtime/os_GOOS.go file the function table names (None when not told)."""
    if format in _BY_CONTAINER:
        return _BY_CONTAINER[format]
    if table is None:
        return None
    region = table.file_region()
    if region is not None:  # searched in place: the file table can hold thousands of names
        seen = {m.group(1).decode() for m in _OS_FILE_BYTES.finditer(region)}
    else:
        seen = {m.group(1) for f in table.files if (m := _OS_FILE.search(f.replace("\\", "/")))}
    seen &= KNOWN_GOOS
    for narrow, wide in _NARROWER.items():
        if narrow in seen:
            seen.discard(wide)
    return seen.pop() if len(seen) == 1 else None


# --- modules -------------------------------------------------------------------------

class Checked:
    """A module matched by version: `path` as the database names it, its
    `version` (semver), where they came from (`source`: buildinfo, pclntab,
    or for stdlib and toolchain where the Go version came from), and `code`,
    the path its packages have in the binary (another for a replacement by
    another module path)."""

    __slots__ = ("path", "version", "source", "code")

    def __init__(self, path: str, version: str, source: str, code: str | None = None):
        self.path, self.version, self.source, self.code = path, version, source, code or path

    def to_json(self) -> dict:
        out = {"path": self.path, "version": self.version, "source": self.source}
        if self.code != self.path:
            out["replaces"] = self.code
        return out

    def __repr__(self) -> str:
        return f"Checked({self.path} {self.version} from {self.source})"


def modules_of(build_info, go_version: str | None, go_source: str | None, recovered=None):
    """([Checked], [unchecked {"path", "version", "reason"}]) of a unit.
    `recovered`: a function giving pcln.RecoveredModules, asked only without build info."""
    checked, unchecked = [], []
    std = go_semver(go_version)
    source = go_source or "unknown"
    if std is not None:
        checked += [Checked(STDLIB, std, source), Checked(TOOLCHAIN, std, source)]
    else:
        why = "no Go version known" if not go_version else f"Go version {go_version!r} names no release"
        unchecked += [{"path": STDLIB, "version": go_version, "reason": why}]
    if build_info is not None and (build_info.main.path or build_info.deps):
        main = build_info.main
        if main.path and main.version and main.version != "(devel)":
            _add(checked, unchecked, main.path, main.version, main.replace, "buildinfo")
        for d in build_info.deps:
            if d.path:
                _add(checked, unchecked, d.path, d.version, d.replace, "buildinfo")
    elif build_info is not None:
        # GOPATH mode (Debian's Go packages) or a command of the Go distribution: no
        # module is recorded, and the function table's paths carry no versions either
        # (`buildid symbols` lists the code they show), so nothing more can be matched.
        unchecked.append({"path": "(dependencies)", "version": None,
                          "reason": "build info lists no modules (a GOPATH build, or a command of the Go "
                                    "distribution): no versions to match"})
    elif recovered is not None:
        for m in recovered():
            if m.version:
                _add(checked, unchecked, m.path, m.version, None, "pclntab")
            else:
                unchecked.append({"path": m.path, "version": None,
                                  "reason": f"no version in the function table's paths ({m.kind} code)"})
    return checked, unchecked


def _add(checked, unchecked, path, version, replace, source) -> None:
    if replace is not None:
        if not is_valid(replace.version or ""):  # Go writes (devel) for a directory
            unchecked.append({"path": path, "version": version or None,
                              "reason": f"replaced by {replace.path} {replace.version or ''}".rstrip()
                              + " (a directory: no version)"})
            return
        checked.append(Checked(replace.path, replace.version, source, path))
        return
    if not is_valid(version):
        unchecked.append({"path": path, "version": version or None, "reason": "not a semantic version"})
        return
    checked.append(Checked(path, version, source))


# --- findings ------------------------------------------------------------------------

class Finding:
    """One entry that affects one module of the unit: `version` is the
    module's, `fixed` the version that fixed the range it is in (None: none
    has); `packages`, the affected packages whose code is present; `symbols`,
    the listed vulnerable symbols present, each {"package", "symbol",
    "found": function|inlined|closure, "name": as in the binary}."""

    __slots__ = ("id", "aliases", "summary", "url", "module", "version", "fixed", "level", "packages", "symbols")

    def __init__(self, entry, module: str, version: str, fixed, level: str, packages=(), symbols=()):
        self.id, self.aliases, self.summary, self.url = entry.id, entry.aliases, entry.summary, entry.url
        self.module, self.version, self.fixed, self.level = module, version, fixed, level
        self.packages, self.symbols = tuple(packages), tuple(symbols)

    def to_json(self) -> dict:
        return {"id": self.id, "aliases": list(self.aliases), "summary": self.summary, "module": self.module,
                "version": self.version, "fixed": self.fixed, "level": self.level,
                "packages": list(self.packages), "symbols": [dict(s) for s in self.symbols], "url": self.url}

    def __repr__(self) -> str:
        return f"<Finding {self.id} {self.module}@{self.version} {self.level}>"


class UnitVulns:
    """What `check` found for one unit: its platform, the modules checked and
    not, what was read of its code (`code`: {"functions", "inlined"}, None
    when it was not read: nothing matched by version, or no table), the
    findings, and an error that kept the code from being read. Small and
    plain, so records carrying it cross from scan's workers cheaply."""

    __slots__ = ("goos", "goarch", "modules", "unchecked", "code", "findings", "error")

    def __init__(self, goos=None, goarch=None, modules=(), unchecked=(), code=None, findings=(), error=None):
        self.goos, self.goarch, self.modules, self.unchecked = goos, goarch, tuple(modules), tuple(unchecked)
        self.code, self.findings, self.error = code, tuple(findings), error

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(LEVELS, 0)
        for f in self.findings:
            out[f.level] += 1
        return out

    def to_json(self) -> dict:
        return {"goos": self.goos, "goarch": self.goarch, "modules": [m.to_json() for m in self.modules],
                "unchecked": [dict(u) for u in self.unchecked],
                "code": dict(self.code) if self.code is not None else None,
                "findings": [f.to_json() for f in self.findings], "counts": self.counts, "error": self.error}

    def __repr__(self) -> str:
        c = self.counts
        return f"<UnitVulns {' '.join(f'{k}={v}' for k, v in c.items() if v) or 'none'}>"


_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}


def check(db, format: str, arch: str | None, build_info, go_version: str | None, go_source: str | None,
          table=lambda: None) -> UnitVulns:
    """The findings of one executable unit. `table`: a function giving its
    pcln.PclnTable or None (FormatError or OSError when broken), asked only
    when the code must be read. Raises source.DatabaseError when the
    database fails."""
    state = {}

    def pcln():
        if "table" not in state:
            state["table"], state["error"] = None, None
            try:
                state["table"] = table()
            except FormatError as e:
                state["error"] = f"function table: {e}"
            except OSError as e:
                state["error"] = f"function table: read error: {e.strerror or e}"
        return state["table"]

    def code():
        if "code" not in state:
            state["code"] = None
            t = pcln()
            if t is not None:
                try:
                    state["code"] = Code.of(t)
                except FormatError as e:
                    state["error"] = f"function table: {e}"
        return state["code"]

    def recovered():
        from ..pcln import recovered_modules
        t = pcln()
        if t is None:
            return []
        try:
            return recovered_modules(t)
        except FormatError as e:
            state["error"] = f"function table: {e}"
            return []

    checked, unchecked = modules_of(build_info, go_version, go_source, recovered)
    settings = {s.key: s.value for s in build_info.settings} if build_info is not None else {}
    goos, goarch = settings.get("GOOS"), settings.get("GOARCH") or arch
    hits = [(entry, mod, fixed, imports, listed) for mod in checked
            for entry, fixed, imports, listed in _by_version(db, mod.path, mod.version)]
    c = code() if hits else None
    if goos is None:
        goos = goos_of(format, state.get("table") if c is not None else None)
    findings = []
    others = [m.code for m in checked]
    if c is not None:  # every package the hits ask about, in one pass over the names
        wanted: dict[str, set] = {}
        for _, mod, _, imports, _ in hits:
            for i in imports:
                if i.applies_to(goos, goarch):
                    wanted.setdefault(_in_code(i.path, mod), set()).update(i.symbols)
        c.load(wanted, [mod.code for _, mod, _, _, listed in hits if not listed and mod.path not in (STDLIB, TOOLCHAIN)])
    for entry, mod, fixed, imports, listed in hits:
        if c is None:
            findings.append(Finding(entry, mod.path, mod.version, fixed, UNKNOWN))
            continue
        here = [i for i in imports if i.applies_to(goos, goarch)]
        if listed:
            pkgs, syms = set(), []
            for imp in here:
                path = _in_code(imp.path, mod)
                if not c.has_package(path):
                    continue
                pkgs.add(imp.path)
                for s in imp.symbols:
                    got = c.find(path, s)
                    if got is not None:
                        syms.append({"package": imp.path, "symbol": s, "found": got[0], "name": got[1]})
            level = SYMBOL if syms else PACKAGE if pkgs else MODULE
            findings.append(Finding(entry, mod.path, mod.version, fixed, level, sorted(pkgs), syms))
        else:
            pkgs = c.module_packages(mod.code, others)
            findings.append(Finding(entry, mod.path, mod.version, fixed, PACKAGE if pkgs else MODULE, pkgs))
    findings.sort(key=lambda f: (_RANK[f.level], f.module, f.id))
    return UnitVulns(goos, goarch, checked, unchecked, c.to_json() if c is not None else None, findings,
                     state.get("error"))


@lru_cache(maxsize=1024)
def _by_version(db, module: str, version: str) -> tuple:
    """(entry, fixed, imports, whether the entry lists packages) of each entry
    that takes in `module` at `version`: the same for every binary of one Go
    release (or one module version), so a scan works it out once per process."""
    out = []
    for entry in db.entries(module):
        if entry.withdrawn:
            continue
        fixed, imports, listed, hit = None, [], False, False
        for a in entry.for_module(module):
            inside, fix = a.contains(version)
            if inside:
                fixed = fixed if hit else fix
                hit = True
                imports += a.imports
                listed = listed or bool(a.imports)
        if hit:
            out.append((entry, fixed, tuple(imports), listed))
    return tuple(out)


def _in_code(path: str, mod: Checked) -> str:
    """An affected package's path as the binary names it (a replacement's
    packages keep the paths of the module they replace)."""
    if mod.code != mod.path and (path == mod.path or path.startswith(mod.path + "/")):
        return mod.code + path[len(mod.path):]
    return path


__all__ = ["check", "Code", "Finding", "UnitVulns", "Checked", "modules_of", "split_name", "symbol_of",
           "goos_of", "LEVELS", "SYMBOL", "PACKAGE", "MODULE", "UNKNOWN"]
