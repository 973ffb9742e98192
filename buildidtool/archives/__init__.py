"""Looking inside archives, packages and container images.

Only this package knows the `ARCHIVE!/MEMBER` grammar, the limits and the
image rules. Each input is read once, forward; members the formats layer can
use are spooled (memory up to a bound, an anonymous temporary file beyond) and
handed on as file descriptors; everything else is skipped unspooled."""
from __future__ import annotations

from .limits import LimitExceeded, Limits
from .paths import SEP, join, split
from .walk import ARCHIVE, LINK, MEMBER, SKIPPED, Item, detect, expand, expand_layout, is_layout

__all__ = ["Limits", "LimitExceeded", "SEP", "join", "split", "Item", "detect", "expand", "expand_layout",
           "is_layout", "ARCHIVE", "LINK", "MEMBER", "SKIPPED"]
