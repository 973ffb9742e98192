"""Go build info as runtime/debug.BuildInfo holds it: the model, its
`go version -m -json` object and its text form (BuildInfo.String).

Go strings are bytes: every text field is a str decoded from UTF-8 with
"surrogateescape", so `.encode("utf-8", "surrogateescape")` gives back the exact
bytes. to_json() turns bytes that are not UTF-8 into U+FFFD, one per byte, as
encoding/json does."""
from __future__ import annotations

import re

from ..formats.goquote import quote

_RAW_BYTE = re.compile("[\udc80-\udcff]")


def json_text(s: str) -> str:
    """A Go string as encoding/json writes it: each byte that is not part of
    valid UTF-8 becomes U+FFFD."""
    return _RAW_BYTE.sub("\ufffd", s)


class _Plain:
    """Equality and repr over __slots__ (dataclasses would cost a few ms of
    exec per process start, which scan and info pay on every run)."""

    __slots__ = ()
    _compared: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, k) == getattr(other, k) for k in self._compared)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({args})"


class Module(_Plain):
    __slots__ = ("path", "version", "sum", "replace")
    _compared = __slots__

    def __init__(self, path: str = "", version: str = "", sum: str = "", replace: Module | None = None):
        self.path, self.version, self.sum, self.replace = path, version, sum, replace

    def is_zero(self) -> bool:
        return not (self.path or self.version or self.sum or self.replace is not None)

    def to_json(self) -> dict:
        out: dict = {}
        for key, value in (("Path", self.path), ("Version", self.version), ("Sum", self.sum)):
            if value:
                out[key] = json_text(value)
        if self.replace is not None:
            out["Replace"] = self.replace.to_json()
        return out


class BuildSetting(_Plain):
    __slots__ = ("key", "value")
    _compared = __slots__

    def __init__(self, key: str = "", value: str = ""):
        self.key, self.value = key, value

    def to_json(self) -> dict:
        out = {}
        if self.key:
            out["Key"] = json_text(self.key)
        if self.value:
            out["Value"] = json_text(self.value)
        return out


def quote_key(key: str) -> bool:
    return key == "" or any(c in key for c in "= \t\r\n\"`")


def quote_value(value: str) -> bool:
    return any(c in value for c in " \t\r\n\"`")


class BuildInfo(_Plain):
    __slots__ = ("go_version", "path", "main", "deps", "settings", "format", "arch", "offset")
    _compared = ("go_version", "path", "main", "deps", "settings")

    def __init__(self, go_version: str = "", path: str = "", main: Module | None = None,
                 deps: list[Module] | None = None, settings: list[BuildSetting] | None = None,
                 format: str | None = None, arch: str | None = None, offset: int | None = None):
        self.go_version, self.path = go_version, path
        self.main = main if main is not None else Module()
        self.deps = deps if deps is not None else []
        self.settings = settings if settings is not None else []
        # Where it came from (not part of Go's BuildInfo); offset: of the blob header.
        self.format, self.arch, self.offset = format, arch, offset

    def setting(self, key: str) -> str | None:
        return next((s.value for s in self.settings if s.key == key), None)

    def to_json(self) -> dict:
        """Exactly the object `go version -m -json FILE` prints."""
        out: dict = {}
        if self.go_version:
            out["GoVersion"] = json_text(self.go_version)
        if self.path:
            out["Path"] = json_text(self.path)
        out["Main"] = self.main.to_json()
        if self.deps:
            out["Deps"] = [d.to_json() for d in self.deps]
        if self.settings:
            out["Settings"] = [s.to_json() for s in self.settings]
        return out

    def string(self) -> str:
        """BuildInfo.String(): the text ParseBuildInfo reads back (plus a go line)."""
        parts: list[str] = []
        if self.go_version:
            parts.append(f"go\t{self.go_version}\n")
        if self.path:
            parts.append(f"path\t{self.path}\n")

        def module(word: str, m: Module) -> None:
            parts.append(f"{word}\t{m.path}\t{m.version}")
            if m.replace is None:
                parts.append(f"\t{m.sum}")
            else:
                parts.append("\n")
                module("=>", m.replace)
            parts.append("\n")

        if not self.main.is_zero():
            module("mod", self.main)
        for d in self.deps:
            module("dep", d)
        for s in self.settings:
            key = quote(s.key) if quote_key(s.key) else s.key
            value = quote(s.value) if quote_value(s.value) else s.value
            parts.append(f"build\t{key}={value}\n")
        return "".join(parts)

    def lines(self) -> list[str]:
        """The lines `go version -m FILE` prints after `FILE: goX`, each starting
        with a tab (Go leaves a line holding only a tab after a replacement)."""
        text = BuildInfo(path=self.path, main=self.main, deps=self.deps,
                         settings=self.settings).string()
        if not text:
            return []
        return ["\t" + line for line in text[:-1].split("\n")]
