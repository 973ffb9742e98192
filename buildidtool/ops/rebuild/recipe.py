"""What build info says a rebuild needs: the Go version, the main package,
where its source comes from, the go build flags and environment. Pure: reads
a BuildInfo, runs nothing. A binary that cannot be rebuilt raises Refused
with the reason."""
from __future__ import annotations

import dataclasses
import re

GOROOT, PROXY, LOCAL = "goroot", "proxy", "local"

# Settings that are go build flags taking a value, and boolean ones.
VALUE_FLAGS = ("-buildmode", "-compiler", "-tags", "-gcflags", "-asmflags", "-ldflags")
BOOL_FLAGS = ("-trimpath", "-race", "-msan", "-asan", "-cover")
# Settings that are environment variables of the build. Go records the one
# variant variable of the target's GOARCH (cmd/go's cfg.GetArchEnv).
ARCH_VARIANTS = ("GOAMD64", "GOARM", "GOARM64", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64",
                 "GOWASM")
ENV_SETTINGS = ("CGO_ENABLED", "GOOS", "GOARCH", "GOEXPERIMENT", "GOFIPS140",
                "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS") + ARCH_VARIANTS
# Recorded, and followed from the source rather than set: the go.mod godebug
# default, the VCS stamp (checked against a checkout), the PGO profile.
FROM_SOURCE = ("DefaultGODEBUG", "vcs", "vcs.revision", "vcs.time", "vcs.modified", "-pgo")
# The linker flags tried when build info does not record them (-trimpath
# keeps -ldflags out of it): these change the output without leaving a trace
# in build info, and release pipelines use them all.
LDFLAGS_CANDIDATES = ("", "-s", "-w", "-s -w")

_RELEASE = re.compile(r"go1\.(\d+)(?:\.\d+|rc\d+|beta\d+)?$")


class Refused(Exception):
    """The file cannot be rebuilt; str() is the reason, one line."""


@dataclasses.dataclass(frozen=True, slots=True)
class Vcs:
    system: str
    revision: str | None
    modified: str | None  # "true" / "false" as recorded


@dataclasses.dataclass(frozen=True, slots=True)
class Recipe:
    """What to build, from build info. `flags` are go build flags in the
    order the go command records them; `modes` the go command's modes to
    try (GO111MODULE=off for a command of the Go distribution, which
    releases before go1.24 built in GOPATH mode); `buildmodes` the ways to
    ask for the recorded build mode, likeliest first; `env` the target and cgo
    variables; `ldflags_known` False when the linker flags were not recorded."""

    go_version: str
    package: str
    kind: str
    module: str | None
    version: str | None
    sum: str | None
    flags: tuple[str, ...]
    modes: tuple[tuple[str, ...], ...]
    buildmodes: tuple[tuple[str, ...], ...]
    env: tuple[tuple[str, str], ...]
    ldflags_known: bool
    trimpath: bool
    vcs: Vcs | None
    pgo: str | None
    notes: tuple[str, ...]

    @property
    def relative(self) -> str:
        """The main package's directory within its module ("" at the root)."""
        if self.module is None or self.package == self.module:
            return ""
        return self.package[len(self.module) + 1:]


def toolchain_version(recorded: str) -> str:
    """The toolchain's own version (`go env GOVERSION`) from the one build
    info records, which carries the experiments baked in (` X:...`)."""
    return recorded.split(" X:", 1)[0].strip()


def recipe(bi, have_source: bool) -> Recipe:
    """The Recipe for build info `bi` (a buildidtool.BuildInfo, or None)."""
    if bi is None:
        raise Refused("the file has no Go build info: nothing says what to rebuild")
    version = toolchain_version(bi.go_version)
    m = _RELEASE.match(version)
    if m and int(m.group(1)) < 18:
        raise Refused(f"built with {version}: Go records its build settings only since go1.18")
    settings = {s.key: s.value for s in bi.settings}
    if settings.get("-compiler", "gc") != "gc":
        raise Refused(f"built with -compiler={settings['-compiler']}: only gc builds can be rebuilt "
                      f"(a gccgo build would need the same gccgo and C toolchain)")
    if not bi.path:
        raise Refused("build info records no main package")
    if bi.path == "command-line-arguments":
        raise Refused("built from .go files named on the command line (command-line-arguments): "
                      "build info does not say which")
    kind, module, mversion, msum = _origin(bi, settings, have_source)
    flags = []
    for key in sorted(settings):  # the go command's order: sorted by key
        value = settings[key]
        if key in BOOL_FLAGS:
            if value == "true":
                flags.append(key)
        elif key in VALUE_FLAGS and key not in ("-buildmode", "-compiler"):
            flags.append(f"{key}={value}")
    env = tuple((k, settings[k]) for k in ENV_SETTINGS if k in settings)
    trimpath = settings.get("-trimpath") == "true"
    vcs = None
    if "vcs" in settings:
        vcs = Vcs(settings["vcs"], settings.get("vcs.revision"), settings.get("vcs.modified"))
    known = set(VALUE_FLAGS + BOOL_FLAGS + ENV_SETTINGS + FROM_SOURCE)
    notes = tuple(f"build info records {k}={settings[k]}, which a rebuild cannot set"
                  for k in sorted(settings) if k not in known)
    if settings.get("CGO_ENABLED") == "1":
        notes += ("built with cgo: the C compiler is not recorded, and a different one gives different "
                  "bytes",)
    return Recipe(version, bi.path, kind, module, mversion, msum, tuple(flags), modes(kind, settings),
                  buildmodes(settings.get("-buildmode", "exe")), env,
                  "-ldflags" in settings or not trimpath, trimpath, vcs, settings.get("-pgo"), notes)


def _origin(bi, settings: dict, have_source: bool) -> tuple[str, str | None, str | None, str | None]:
    """(kind, module, version, sum) of the main package's source."""
    main = bi.main
    if main.is_zero():
        if bi.path == "cmd" or bi.path.startswith("cmd/"):
            if have_source:
                raise Refused(f"{bi.path} is a command of the Go distribution: its source is the "
                              f"toolchain's GOROOT, not --source")
            return GOROOT, None, None, None
        raise Refused("build info records no main module (a GOPATH-mode build): nothing says where "
                      "its source came from")
    if have_source:
        return LOCAL, main.path, main.version, main.sum or None
    revision = settings.get("vcs.revision")
    if "vcs" in settings:
        at = f" at {settings['vcs']} revision {revision}" if revision else ""
        raise Refused(f"built in a checkout of {main.path}{at} (build info records vcs.*): give that "
                      f"checkout with --source DIR")
    if not main.version or main.version == "(devel)":
        raise Refused(f"built from a local copy of {main.path} (version (devel)): give its source with "
                      f"--source DIR")
    return PROXY, main.path, main.version, main.sum or None


def modes(kind: str, settings: dict) -> tuple[tuple[str, ...], ...]:
    """Module mode, or GOPATH mode (GO111MODULE=off) for a command of the Go
    distribution: build info tells them apart only by DefaultGODEBUG, which
    GOPATH mode sets to go1.20's defaults where the cmd module, at the
    toolchain's own version, sets none. go1.22 and go1.23 releases were built
    so; both are tried, the likelier first."""
    if kind != GOROOT:
        return ((),)
    gopath = ("GO111MODULE=off",)
    return (gopath, ()) if "DefaultGODEBUG" in settings else ((), gopath)


def buildmodes(recorded: str) -> tuple[tuple[str, ...], ...]:
    """Build info records `exe` for a main package built with the default
    mode as well as with -buildmode=exe, and the two differ: the mode as
    given is hashed into the link's action ID, and where the default is PIE
    (windows, darwin/arm64, android) the code differs too. The default is
    what most builds use; -compiler=gc, the only compiler here, is left out
    the same way."""
    if recorded == "exe":
        return (), ("-buildmode=exe",)
    return (f"-buildmode={recorded}",),


def ldflags_candidates(has_symbols: bool | None, has_dwarf: bool | None) -> list[str]:
    """The candidates, most likely first given what the file holds: no symbol
    table points at -s (which implies -w), no DWARF at -w. The order only
    saves links; the build ID decides."""
    order = list(LDFLAGS_CANDIDATES)
    if has_symbols is None:
        return order
    if not has_symbols:
        first = ["-s -w", "-s"]
    elif has_dwarf is False:
        first = ["-w"]
    else:
        first = [""]
    return first + [c for c in order if c not in first]
