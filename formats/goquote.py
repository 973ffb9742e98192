"""Go's string quoting, the one home of both directions: strconv.Unquote (the
build ID is written with %q; build info lines quote keys and values) and
strconv.Quote (build info lines, and messages that print an ID as Go does).

Go strings are bytes. unquote works on bytes, and invalid UTF-8 met while
decoding escapes becomes U+FFFD exactly as Go does; quote takes a str holding
those bytes as decoded with "surrogateescape", each lone byte written as a \\x escape.
"""
from __future__ import annotations

import unicodedata

_SIMPLE = {ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13,
           ord("t"): 9, ord("v"): 11, ord("\\"): 92}
_HEXLEN = {ord("x"): 2, ord("u"): 4, ord("U"): 8}
_REPLACEMENT = "\ufffd".encode()


class QuoteError(ValueError):
    pass


def _utf8_valid(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # Go rejects surrogate code points in UTF-8; Python's codec does too.
    return True


def _decode_rune(s: bytes, i: int) -> tuple[bytes, int]:
    """One UTF-8 sequence at s[i]; an invalid one is one byte that becomes U+FFFD."""
    for n in (2, 3, 4):
        chunk = s[i:i + n]
        if len(chunk) < n:
            break
        try:
            chunk.decode("utf-8")
            return chunk, i + n
        except UnicodeDecodeError:
            continue
    return _REPLACEMENT, i + 1


def unquote(q: bytes) -> bytes:
    if len(q) < 2:
        raise QuoteError("too short")
    quote = q[0]
    if quote == 0x60:  # raw string
        if q[-1] != 0x60 or 0x60 in q[1:-1]:
            raise QuoteError("bad raw string")
        return q[1:-1].replace(b"\r", b"")
    if quote not in (0x22, 0x27) or q[-1] != quote:
        raise QuoteError("not quoted")
    body = q[1:-1]
    if quote == 0x22 and 0x5C not in body and 0x0A not in body and 0x22 not in body and _utf8_valid(body):
        return body
    out = bytearray()
    i, n = 0, len(body)
    count = 0
    while i < n:
        c = body[i]
        if c == quote or c == 0x0A:
            raise QuoteError("unescaped quote or newline")
        count += 1
        if c >= 0x80:
            seq, i = _decode_rune(body, i)
            out += seq
        elif c != 0x5C:
            out.append(c)
            i += 1
        else:
            if i + 1 >= n:
                raise QuoteError("trailing backslash")
            e = body[i + 1]
            i += 2
            if e in _SIMPLE:
                out.append(_SIMPLE[e])
            elif e in _HEXLEN:
                k = _HEXLEN[e]
                digits = body[i:i + k]
                if len(digits) < k:
                    raise QuoteError("short hex escape")
                try:
                    v = int(digits.decode("ascii"), 16)
                except (UnicodeDecodeError, ValueError):
                    raise QuoteError("bad hex escape") from None
                if not all(chr(d) in "0123456789abcdefABCDEF" for d in digits):
                    raise QuoteError("bad hex escape")
                i += k
                if e == 0x78:
                    out.append(v)
                else:
                    if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                        raise QuoteError("invalid rune")
                    out += chr(v).encode("utf-8")
            elif 0x30 <= e <= 0x37:
                digits = body[i:i + 2]
                if len(digits) < 2 or not all(0x30 <= d <= 0x37 for d in digits):
                    raise QuoteError("bad octal escape")
                v = ((e - 0x30) << 6) | ((digits[0] - 0x30) << 3) | (digits[1] - 0x30)
                if v > 255:
                    raise QuoteError("octal escape out of range")
                i += 2
                out.append(v)
            elif e in (0x22, 0x27):
                if e != quote:
                    raise QuoteError("wrong escaped quote")
                out.append(e)
            else:
                raise QuoteError("unknown escape")
        if quote == 0x27 and count == 1 and i < n:
            raise QuoteError("more than one character in a rune literal")
    if quote == 0x27 and count != 1:
        raise QuoteError("rune literal must hold one character")
    return bytes(out)


# --- strconv.Quote ----------------------------------------------------------

_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def _is_print(r: int) -> bool:
    """strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space."""
    if r <= 0xFF:
        return 0x20 <= r <= 0x7E or (0xA1 <= r <= 0xFF and r != 0xAD)
    return unicodedata.category(chr(r))[0] in "LMNPS"


def _escape_rune(r: int, quote: str) -> str:
    if r == ord(quote) or r == 0x5C:
        return "\\" + chr(r)
    if _is_print(r):
        return chr(r)
    if r in _ESCAPES:
        return _ESCAPES[r]
    if r < 0x20 or r == 0x7F:
        return f"\\x{r:02x}"
    if r < 0x10000:
        return f"\\u{r:04x}"
    return f"\\U{r:08x}"


def quote(s: str) -> str:
    """strconv.Quote of the Go string s."""
    out = ['"']
    for ch in s:
        r = ord(ch)
        if 0xDC80 <= r <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{r - 0xDC00:02x}")
        else:
            out.append(_escape_rune(r, '"'))
    out.append('"')
    return "".join(out)


def quote_bytes(b: bytes) -> str:
    """%q of a Go byte string."""
    return quote(b.decode("utf-8", "surrogateescape"))


def quote_char(c: int) -> str:
    """fmt's %q of a byte: a quoted character literal."""
    return "'" + _escape_rune(c, "'") + "'"


def quoted_prefix(s: str) -> str | None:
    """strconv.QuotedPrefix for a str starting with " or `; None when invalid."""
    q = s[0]
    if q == "`":
        end = s.find("`", 1)
        return None if end < 0 else s[:end + 1]
    i = 1
    while i < len(s):
        c = s[i]
        if c == q:
            prefix = s[:i + 1]
            try:
                unquote(prefix.encode("utf-8", "surrogateescape"))
            except QuoteError:
                return None
            return prefix
        if c == "\n":
            return None
        i += 2 if c == "\\" else 1
    return None
