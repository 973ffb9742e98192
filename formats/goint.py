"""Go's strconv.ParseInt, for the numeric text fields of archive headers."""
from __future__ import annotations

# base 0: an optional sign, then 0x / 0o / 0b / leading-0 prefixes, with
# underscores allowed only between digits after a prefix.
_BASE0 = r"^([+-]?)(0[xX][_0-9a-fA-F]+|0[oO][_0-7]+|0[bB][_01]+|0[_0-7]*|[1-9][0-9]*)$"
_BASE10 = r"^[+-]?[0-9]+$"


def parse_int(text: str, base: int = 0, bits: int = 64) -> int:
    """Parse like Go; ValueError on anything Go would refuse, including overflow."""
    import re  # only archives need it; keep it off the path of reading executables

    if base == 10:
        if not re.match(_BASE10, text):
            raise ValueError(f"invalid number {text!r}")
        v = int(text, 10)
    else:
        m = re.match(_BASE0, text)
        if not m:
            raise ValueError(f"invalid number {text!r}")
        sign, body = m.groups()
        if "_" in body:
            if body[:2].lower() not in ("0x", "0o", "0b") and not body.startswith("0"):
                raise ValueError(f"invalid number {text!r}")
            digits = body[2:] if body[:2].lower() in ("0x", "0o", "0b") else body[1:]
            if digits.startswith("__") or digits.endswith("_") or "__" in digits:
                raise ValueError(f"invalid number {text!r}")
            body = body.replace("_", "")
        low = body[:2].lower()
        if low == "0x":
            v = int(body[2:], 16)
        elif low == "0o":
            v = int(body[2:], 8)
        elif low == "0b":
            v = int(body[2:], 2)
        elif body.startswith("0") and len(body) > 1:
            v = int(body[1:], 8)
        else:
            v = int(body, 10)
        v = -v if sign == "-" else v
    if not -(1 << (bits - 1)) <= v < (1 << (bits - 1)):
        raise ValueError(f"number {text!r} out of range")
    return v
