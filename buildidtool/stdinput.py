"""`-` (or /dev/stdin on a pipe) as a FILE: standard input is copied to a
temporary file first, because every reader needs to seek. The copy is bounded
(MAX_BYTES) and removed when the command ends; names in the output stay `-`."""
from __future__ import annotations

import os
import stat
import sys

from .errors import BuildIDError

MAX_BYTES = 4 << 30  # larger than any executable we expect; a runaway pipe stops here
_spooled: dict[str, str] = {}  # standard input can be read once: later uses share the copy


def is_stdin(name: str) -> bool:
    if name == "-":
        return True
    if name != "/dev/stdin":
        return False
    try:  # a redirected regular file can be read in place
        return not stat.S_ISREG(os.fstat(0).st_mode)
    except OSError:
        return False


def path_for(name: str) -> str:
    """The path to open for FILE argument `name`. Raises BuildIDError."""
    if not is_stdin(name):
        return name
    if name in _spooled:
        return _spooled[name]
    if os.isatty(0):
        raise BuildIDError(name, "standard input is a terminal; pipe or redirect a file into it")
    import atexit  # with tempfile, 6 ms only `-` needs
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="buildid-stdin-")
    atexit.register(_remove, tmp)
    _spooled[name] = tmp
    total = 0
    with os.fdopen(fd, "wb") as out:
        src = sys.stdin.buffer
        while chunk := src.read(1 << 20):
            total += len(chunk)
            if total > MAX_BYTES:
                raise BuildIDError(name, f"standard input is larger than {MAX_BYTES >> 30} GiB; not read")
            out.write(chunk)
    return tmp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def renamed(obj, real: str, name: str):
    """obj with every `file` that says `real` saying `name` instead (results
    hold the path they were read from; for standard input that is the copy)."""
    if real == name:
        return obj
    if isinstance(obj, list):
        return [renamed(o, real, name) for o in obj]
    rename = getattr(obj, "renamed", None)  # an immutable result gives a renamed copy
    if rename is not None:
        return rename(real, name)
    if getattr(obj, "file", None) == real:
        obj.file = name
    return obj
