"""The member-path grammar, and what a stored member name becomes in it.

`ARCHIVE!/MEMBER` names a member; nesting repeats the separator
(`outer.tar!/inner.zip!/bin/tool`). A stored name is only ever shown, never used
to create a file, but it is made plain first: leading `/` and `./` go, `.`
components and repeated slashes go, and a name holding the separator itself
gets it escaped so that a member path still splits one way. What was changed is
said in the member's note, so a hostile name stays visible as hostile."""
from __future__ import annotations

import os
import re

SEP = "!/"
_ESCAPED_SEP = "!%2F"
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def is_member_path(path: str) -> bool:
    """A path into an archive (`a.tar!/bin/x`) rather than a file on disk."""
    return SEP in path and not os.path.lexists(path)


def join(outer: str, member: str) -> str:
    return f"{outer}{SEP}{member}"


def split(path: str) -> list[str]:
    """`a.tar!/b.zip!/c` -> ["a.tar", "b.zip", "c"]."""
    return path.split(SEP)


def clean(raw: str) -> tuple[str, list[str]]:
    """The display name of a stored member name, and notes on what was unusual."""
    notes = []
    if raw.startswith("/"):
        notes.append("absolute name")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        notes.append("name has '..' components")
    if _CONTROL.search(raw):
        notes.append("name has control characters")
    name = "/".join(parts)
    if SEP in name or name.endswith("!"):
        notes.append("name holds the member separator '!/' (escaped as '!%2F')")
        name = name.replace(SEP, _ESCAPED_SEP)
        if name.endswith("!"):
            name = name[:-1] + "!%"
    return name or ".", notes
