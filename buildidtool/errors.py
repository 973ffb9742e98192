"""The project's exception types, and `naming`, the one place an error gets
its file name. Core code raises errors without a path (`MalformedFile("...")`);
each operation wraps its work in `with naming(path):` once, which names them
and turns a parser's FormatError and an OSError into our own types.
`str(e)` is the one-line message the CLI prints."""
from __future__ import annotations

import os
import signal
import sys

from .formats.errors import FormatError


# Exit statuses of the subcommands (the Go-compatible form mirrors go tool buildid).
EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR = 0, 1, 2
# verify: no file failed a check or could not be read, but some could not be
# checked (no build ID, or an ID that does not describe the file's bytes).
EXIT_UNCHECKED = 3


class BuildIDError(Exception):
    """Base class: something about FILE prevented the operation.

    `BuildIDError(message)` from core code, `BuildIDError(path, message)` where
    the file is known; `path` is None until a `naming` boundary fills it in."""

    def __init__(self, path: str | None, message: str | None = None):
        if message is None:
            path, message = None, path
        super().__init__(path, message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message if self.path is None else f"{self.path}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, {self.message!r})"


class NotRegularFile(BuildIDError):
    """A directory, FIFO, device or socket: never opened for reading."""


class UnreadableFile(BuildIDError):
    """The operating system refused (missing, permission denied, I/O error)."""


class MalformedFile(BuildIDError):
    """The container's structures are broken (truncated, out-of-range fields)."""


class RewriteError(BuildIDError):
    """A rewrite was refused or failed; the message says whether the file is unchanged."""


class NothingToRewrite(RewriteError):
    """The file has no Go build ID to rewrite (Go: `buildid.FindAndHash: no id specified`)."""


class FileChanged(RewriteError):
    """The file changed between hashing and writing; nothing was written."""


class DatabaseError(Exception):
    """The vulnerability database cannot be used (unreachable without a cache,
    corrupt, an HTTP error): not about any one file, so `naming` leaves it
    alone. `str(e)` is one line naming the database."""

    def __init__(self, name: str, message: str):
        super().__init__(f"vuln database {name}: {message}")
        self.name, self.message = name, message


class SetupError(BuildIDError):
    """scan cannot start as asked: its Dask cluster cannot be reached or cannot
    see an input, or its result cache is unusable. `path` names the address,
    input or cache file; raised before any record is written, or when the
    cluster is lost mid-scan."""


def die_of_broken_pipe():
    """The reader of the output went away before all of it was written (`buildid
    scan DIR | head -1`): end as a program that writes to a closed pipe ends by
    default, and as `go tool buildid` does, killed by SIGPIPE (a shell reports
    status 141). No verdict is given, since not all of it was delivered. The
    caller has unwound first, so what it started (workers, temporary copies) is
    gone."""
    try:
        sys.stdout.flush()
    except OSError:
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing left to flush into the closed pipe
    except OSError:
        pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(128 + signal.SIGPIPE)  # not reached: the signal ends the process


def os_message(err: OSError) -> str:
    return err.strerror or str(err)


class naming:
    """`with naming(path):` around one operation on one file: a BuildIDError
    without a path gets this one, a parser's FormatError becomes MalformedFile
    and an OSError UnreadableFile, both naming the file. (A class rather than
    contextlib, which the Go-compatible path does not otherwise import.)"""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> "naming":
        return self

    def __exit__(self, kind, err, tb) -> bool:
        if err is None:
            return False
        if isinstance(err, BuildIDError):
            if err.path is None:
                err.path = self.path
                err.args = (self.path, err.message)
            return False
        if isinstance(err, FormatError):
            raise MalformedFile(self.path, str(err)) from None
        if isinstance(err, OSError) and not isinstance(err, BrokenPipeError):
            raise UnreadableFile(self.path, f"read error: {os_message(err)}") from None
        return False
