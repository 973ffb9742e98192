"""buildidtool: find, read, verify, hash and rewrite Go build IDs.

    >>> import buildidtool
    >>> facts = buildidtool.read("hello")          # a Facts record
    >>> facts.build_id, facts.format, facts.locations
    >>> buildidtool.verify("hello").status          # "ok", "modified", ...
    >>> buildidtool.inspect("hello").build_info     # everything `info` shows
    >>> buildidtool.rewrite("hello").changed        # what `go tool buildid -w` does
    >>> buildidtool.rebuild("gofmt").status         # "reproduced", "differs", "cannot-rebuild"

Every function raises buildidtool.BuildIDError (or a subclass) for a file it
cannot handle, except verify and rebuild, which report it in their verdict.
Names are imported on first use, so `buildid FILE` loads only what reading needs.
`buildidtool.__version__` is the installed distribution's version (one home:
pyproject.toml), read from the package metadata on first use.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "read": "ops.read", "read_reference": "gocompat",
    "hash_file": "ops.hash", "HashReport": "ops.hash",
    "rewrite": "ops.rewrite", "Rewritten": "ops.rewrite",
    "verify": "ops.verify", "inspect": "ops.info",
    "diff": "ops.diff", "Diff": "ops.diff", "symbols": "ops.symbols", "Symbols": "ops.symbols",
    "vulns": "ops.vulns", "open_database": "vulndb.source", "DatabaseError": "errors",
    "Facts": "facts", "HostID": "facts", "Verdict": "verdict", "Modification": "modification",
    "rebuild": "ops.rebuild", "Rebuilt": "ops.rebuild",
    "read_build_info": "buildinfo", "read_build_info_slices": "buildinfo", "BuildInfo": "buildinfo",
    "BuildIDError": "errors", "NotRegularFile": "errors", "UnreadableFile": "errors",
    "MalformedFile": "errors", "RewriteError": "errors", "FileChanged": "errors",
}

__all__ = sorted(_EXPORTS)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("buildidtool")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        value = globals()[name] = _version()
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'buildidtool' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
