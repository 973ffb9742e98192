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

Import the submodules: this one loads nothing, so that local inputs never pay
for an HTTP client (`buildid FILE` imports none)."""
