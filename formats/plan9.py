"""Plan 9 a.out: the Go build ID is the raw marker at the start of text, right
after the 32- or 40-byte header."""
from __future__ import annotations

from . import magic, raw
from .model import Found
from .source import PREFIX_SIZE, Source


def read(src: Source) -> Found:
    prefix = src.prefix(PREFIX_SIZE)
    found = Found("plan9", magic.plan9_arch(prefix))
    hit = raw.find_marker(prefix)
    if hit is not None:
        found.build_id = hit[0]
        found.locations = [src.absolute(hit[1])]
    return found
