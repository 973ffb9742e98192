"""The project's exception types. Every one names the file; `str(e)` is the
one-line message the CLI prints."""
from __future__ import annotations


# Exit statuses of the subcommands (the Go-compatible form mirrors go tool buildid).
EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR = 0, 1, 2


class BuildIDError(Exception):
    """Base class: something about FILE prevented the operation."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class NotRegularFile(BuildIDError):
    """A directory, FIFO, device or socket: never opened for reading."""


class UnreadableFile(BuildIDError):
    """The operating system refused (missing, permission denied, I/O error)."""


class MalformedFile(BuildIDError):
    """The container's structures are broken (truncated, out-of-range fields)."""


class RewriteError(BuildIDError):
    """A rewrite was refused or failed; the message says whether the file is unchanged."""


class FileChanged(RewriteError):
    """The file changed between hashing and writing; nothing was written."""


def os_message(err: OSError) -> str:
    return err.strerror or str(err)
