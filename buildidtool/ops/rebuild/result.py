"""What a rebuild found: typed, immutable results with to_json() and a
readable repr. The report layer shows them; nothing here runs anything."""
from __future__ import annotations

import dataclasses
import shlex

REPRODUCED, DIFFERS, CANNOT_REBUILD = "reproduced", "differs", "cannot-rebuild"
STATUSES = (REPRODUCED, DIFFERS, CANNOT_REBUILD)

# How the toolchain was chosen, as the text form says it.
CHOSEN = {"--go": "given with --go", "PATH": "the go on PATH",
          "GOTOOLCHAIN": "fetched by the go command's toolchain switching"}

_frozen = dataclasses.dataclass(frozen=True, slots=True)


@_frozen
class Toolchain:
    """The Go toolchain a rebuild ran: its version, the go command, its
    GOROOT, and how it was chosen (a key of CHOSEN)."""

    version: str
    go: str
    goroot: str
    chosen: str

    def text(self) -> str:
        return f"{self.version} ({self.go}, {CHOSEN[self.chosen]})"

    def to_json(self) -> dict:
        return {"version": self.version, "go": self.go, "goroot": self.goroot, "chosen": self.chosen}


@_frozen
class Origin:
    """Where the source came from: `goroot` (a command of the Go
    distribution), `proxy` (the main module at its version, through GOPROXY)
    or `local` (a checkout given with --source). `sum` is the module's h1
    checksum as the proxy served it (checked against build info's), `revision`
    the checkout's commit (checked against vcs.revision)."""

    kind: str
    package: str
    where: str
    module: str | None = None
    version: str | None = None
    sum: str | None = None
    revision: str | None = None

    def text(self) -> str:
        if self.kind == "goroot":
            return f"{self.package} from the toolchain's GOROOT ({self.where})"
        if self.kind == "proxy":
            checked = ", checksum matches build info" if self.sum else ""
            return f"{self.package} in {self.module}@{self.version} from GOPROXY={self.where}{checked}"
        at = f" at {self.revision}" if self.revision else ""
        return f"{self.package} from {self.where}{at}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "package": self.package, "where": self.where, "module": self.module,
                "version": self.version, "sum": self.sum, "revision": self.revision}


@_frozen
class Command:
    """The go command a rebuild ran: argv, the variables it set on top of a
    clean environment, and the directory it ran in when that matters."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    dir: str | None = None

    def line(self) -> str:
        """One shell line a user can paste to run the same build."""
        assign = [f"{k}={shlex.quote(v)}" if v else f"{k}=" for k, v in self.env]
        line = " ".join(assign + [shlex.join(self.argv)])
        return f"cd {shlex.quote(self.dir)} && {line}" if self.dir else line

    def to_json(self) -> dict:
        return {"line": self.line(), "argv": list(self.argv), "env": dict(self.env), "dir": self.dir}


@_frozen
class Attempt:
    """One build of the rebuild. `unrecorded` is what was tried on top of what
    build info records: environment assignments (GO111MODULE=off: GOPATH
    mode) and go build flags (the build mode as given, linker flags that
    -trimpath keeps out of build info); `link_match` whether the rebuilt file's build ID action part
    (the hash of the link's inputs, flags included) equals FILE's (None when
    FILE has no four-part build ID)."""

    unrecorded: tuple[str, ...]
    build_id: str | None
    link_match: bool | None
    seconds: float

    def to_json(self) -> dict:
        return {"unrecorded": list(self.unrecorded), "build_id": self.build_id, "link_match": self.link_match,
                "seconds": round(self.seconds, 3)}


@_frozen
class Differences:
    """How FILE and the rebuilt file differ, from `diff`: the build ID parts,
    the differing bytes by section, the first ranges, build info fields."""

    build_id: tuple[tuple[str, str], ...]
    differing_bytes: int
    range_count: int
    by_region: tuple[tuple[str, int], ...]
    ranges: tuple[tuple[int, int, tuple[str, ...]], ...]
    build_info: tuple[tuple[str, str | None, str | None], ...]

    def regions(self) -> list[str]:
        return [name for name, _ in self.by_region]

    def to_json(self) -> dict:
        return {"build_id": dict(self.build_id), "differing_bytes": self.differing_bytes,
                "range_count": self.range_count, "by_region": dict(self.by_region),
                "ranges": [{"offset": o, "size": s, "where": list(w)} for o, s, w in self.ranges],
                "build_info": [{"field": f, "file": a, "rebuilt": b} for f, a, b in self.build_info]}


@_frozen
class Rebuilt:
    """The verdict on one file. `status` is reproduced, differs or
    cannot-rebuild and `reason` says why in one line; the rest says how:
    the Go version build info records, the main package, the toolchain,
    where the source came from, the command that ran, what build info does
    not record that gave FILE's link (flags, and GO111MODULE=off for GOPATH
    mode; None when nothing tried did), each build tried, the proven modifications undone to compare (a signature added
    after link), and for `differs` where the files differ. `error` is set
    when FILE itself could not be read."""

    file: str
    status: str
    reason: str
    go_version: str | None = None
    path: str | None = None
    toolchain: Toolchain | None = None
    origin: Origin | None = None
    command: Command | None = None
    unrecorded: tuple[str, ...] | None = None
    attempts: tuple[Attempt, ...] = ()
    undone: tuple = ()  # modification.Modification, each proven
    differences: Differences | None = None
    notes: tuple[str, ...] = ()
    seconds: float | None = None
    error: str | None = None

    @classmethod
    def failed(cls, file: str, error: str) -> "Rebuilt":
        """FILE could not be read: cannot-rebuild, with `error` set."""
        return cls(file, CANNOT_REBUILD, error, error=error)

    def renamed(self, name: str) -> "Rebuilt":
        return dataclasses.replace(self, file=name)

    def to_json(self) -> dict:
        def js(x):
            return None if x is None else x.to_json()
        return {"file": self.file, "status": self.status, "reason": self.reason, "go_version": self.go_version,
                "path": self.path, "toolchain": js(self.toolchain), "source": js(self.origin),
                "command": js(self.command),
                "unrecorded": None if self.unrecorded is None else list(self.unrecorded),
                "attempts": [a.to_json() for a in self.attempts], "undone": [m.to_json() for m in self.undone],
                "differences": js(self.differences), "notes": list(self.notes),
                "seconds": None if self.seconds is None else round(self.seconds, 3), "error": self.error}

    def __repr__(self) -> str:
        return f"<Rebuilt {self.file!r} {self.status}: {self.reason}>"
