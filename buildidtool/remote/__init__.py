"""Remote inputs: images straight from a registry and files by URL.

Only this package knows references (refs.py: `registry:` and `http(s)://`,
beside local paths and `ARCHIVE!/MEMBER`). http.py is the client (the
standard library's http.client: kept-alive connections, ranges, redirects,
retries with backoff, timeouts, size caps, the system's certificate
authorities); ranged.py reads a file by byte ranges through a block cache;
registry.py speaks the distribution API (manifests, indexes and platforms,
Bearer and Basic auth, credentials.py for the docker config); blobs.py fetches
layers, each once, checked against its digest before it is read; opening.py
is what fileio and scan call.

Import the submodules: this one holds only `is_reference`, which fileio and the
walk ask of every argument, so that local inputs pay for nothing else (`buildid
FILE` imports no HTTP client and not even the grammar)."""
from __future__ import annotations

import os

SCHEMES = ("registry:", "http://", "https://")


def is_reference(path: str) -> bool:
    """A remote input (`registry:...`, `http://...`, `https://...`) rather than
    a file on disk: a file of that name, when there is one, is the file."""
    return path.startswith(SCHEMES) and not os.path.lexists(path)
