"""runtime/debug.ParseBuildInfo: the module text the linker embeds, read into
the model (GoVersion left empty: it is stored apart, in the blob)."""
from __future__ import annotations

from ..formats.goquote import QuoteError, quote, quote_char, quoted_prefix, unquote
from .model import BuildInfo, BuildSetting, Module, quote_key, quote_value


def _unquote(s: str) -> str:
    """strconv.Unquote of a Go string held as str; QuoteError when Go would fail."""
    return unquote(s.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


class BuildInfoParseError(ValueError):
    """ParseBuildInfo failed; str() is Go's message."""

    def __init__(self, line: int, message: str):
        super().__init__(f"could not parse Go build info: line {line}: {message}")
        self.line = line


def _module_line(elem: list[str]) -> Module:
    if len(elem) not in (2, 3):
        raise ValueError(f"expected 2 or 3 columns; got {len(elem)}")
    return Module(elem[0], elem[1], elem[2] if len(elem) == 3 else "")


def _build_line(kv: str) -> BuildSetting:
    if not kv:
        raise ValueError("build line missing '='")
    if kv[0] == "=":
        raise ValueError("build line with missing key")
    if kv[0] in "`\"":
        raw_key = quoted_prefix(kv)
        if raw_key is None:
            raise ValueError("invalid quoted key in build line")
        if len(kv) == len(raw_key):
            raise ValueError("build line missing '=' after quoted key")
        c = kv[len(raw_key)]
        if c != "=":
            raise ValueError("unexpected character after quoted key: "
                             + quote_char(c.encode("utf-8", "surrogateescape")[0]))
        try:
            key = _unquote(raw_key)
        except QuoteError:
            key = ""
        raw_value = kv[len(raw_key) + 1:]
    else:
        key, eq, raw_value = kv.partition("=")
        if not eq:
            raise ValueError("build line missing '=' after key")
        if quote_key(key):
            raise ValueError(f"unquoted key {quote(key)} must be quoted")
    value = ""
    if raw_value:
        if raw_value[0] in "`\"":
            try:
                value = _unquote(raw_value)
            except QuoteError:
                raise ValueError("invalid quoted value in build line") from None
        else:
            value = raw_value
            if quote_value(value):
                raise ValueError(f"unquoted value {quote(value)} must be quoted")
    return BuildSetting(key, value)


def parse_build_info(data: str) -> BuildInfo:
    """runtime/debug.ParseBuildInfo: GoVersion is left empty. Lines it does not
    know are skipped, and so is a last line without a newline."""
    bi = BuildInfo()
    last: Module | None = None
    line_num = 1
    try:
        while data:
            line, nl, data = data.partition("\n")
            if not nl:
                break
            if line.startswith("path\t"):
                bi.path = line[5:]
            elif line.startswith("mod\t"):
                bi.main = last = _module_line(line[4:].split("\t"))
            elif line.startswith("dep\t"):
                last = _module_line(line[4:].split("\t"))
                bi.deps.append(last)
            elif line.startswith("=>\t"):
                elem = line[3:].split("\t")
                if len(elem) != 3:
                    raise ValueError(f"expected 3 columns for replacement; got {len(elem)}")
                if last is None:
                    raise ValueError("replacement with no module on previous line")
                last.replace = Module(elem[0], elem[1], elem[2])
                last = None
            elif line.startswith("build\t"):
                bi.settings.append(_build_line(line[6:]))
            line_num += 1
    except ValueError as e:
        raise BuildInfoParseError(line_num, str(e)) from None
    return bi


