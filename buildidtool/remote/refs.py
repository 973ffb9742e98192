"""The grammar of remote inputs, beside local paths and `ARCHIVE!/MEMBER`.

    registry:[HOST[:PORT]/]REPO[:TAG][@DIGEST][!/MEMBER...]    an image in a registry
    http://HOST[:PORT]/PATH[!/MEMBER...]                        a file (or an archive) by URL
    https://...

An argument is a reference when it starts with one of those schemes and no
file of that name exists (the rule member paths follow: a path that exists on
disk is always the file; `./registry:x` names a local file whatever exists).
The image part follows Docker's reference grammar, as syft's `registry:` does:
a first component with a dot, a colon or `localhost` is the registry host,
else the image is on Docker Hub (`registry:alpine` is
`registry-1.docker.io/library/alpine:latest`). A tag and a digest together
(`repo:1@sha256:...`) name the digest; the tag stays for the reader. The first
`!/` ends the reference (a URL holding `!/` writes it `%21/`).

`is_reference`, which fileio and the walk ask of every argument, lives in the
package's __init__ so that a local path never imports this module."""
from __future__ import annotations

import re

from . import SCHEMES, is_reference  # noqa: F401  (the test every argument meets lives in the package)

REGISTRY, HTTP, HTTPS = SCHEMES
SEP = "!/"

# distribution/reference: path components of lowercase alphanumerics joined by
# one separator (`.`, `_`, `__`, or dashes); tags of word characters, dots and dashes.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATTERNS = {
    "repo": rf"^{_COMPONENT}(?:/{_COMPONENT})*$",
    "tag": r"^[\w][\w.-]{0,127}$",
    "digest": r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$",
    "host": r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
            r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$",
}
_compiled: dict = {}


def _match(kind: str, text: str):
    # compiled on first use: every run imports this module (fileio, the walk),
    # and compiling costs milliseconds that a local file never needs
    pattern = _compiled.get(kind)
    if pattern is None:
        pattern = _compiled[kind] = re.compile(_PATTERNS[kind])
    return pattern.match(text)
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"


class BadReference(ValueError):
    """A reference that does not parse: the message says what is wrong."""


def is_registry(path: str) -> bool:
    return path.startswith(REGISTRY)


def split_member(ref: str) -> tuple[str, str | None]:
    """`registry:h/r:1!/usr/bin/app` -> ("registry:h/r:1", "usr/bin/app"); no member: None."""
    outer, sep, member = ref.partition(SEP)
    return outer, (member if sep else None)


class ImageRef:
    """A parsed `registry:` reference: where the registry is (`host`, with its
    port), the repository, the tag and the digest (either may be None; with
    neither, the tag is `latest`), and `text`, the reference as written."""

    __slots__ = ("text", "host", "repo", "tag", "digest")

    def __init__(self, text: str, host: str, repo: str, tag: str | None, digest: str | None):
        self.text, self.host, self.repo, self.tag, self.digest = text, host, repo, tag, digest

    @property
    def api_host(self) -> str:
        """The host the distribution API is served from (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def wanted(self) -> str:
        """What the manifest is fetched by: the digest, else the tag."""
        return self.digest or self.tag or "latest"

    def pinned(self, digest: str) -> str:
        """The reference as written, naming `digest` (the manifest scanned): a
        record named so reads the same bytes again whatever the tag points at later."""
        text = self.text.split("@", 1)[0]
        return f"{text}@{digest}"

    def __repr__(self) -> str:
        return f"ImageRef({self.host!r}, {self.repo!r}, tag={self.tag!r}, digest={self.digest!r})"


def parse_image(ref: str) -> ImageRef:
    """The ImageRef of `registry:IMAGE` (no member part). Raises BadReference."""
    if not ref.startswith(REGISTRY):
        raise BadReference("not a registry: reference")
    body = ref[len(REGISTRY):]
    if body.startswith("//"):  # registry://host/repo, as some tools write it
        body = body[2:]
    if not body:
        raise BadReference("the reference names no image (registry:HOST[:PORT]/REPO[:TAG|@DIGEST])")
    name, at, digest = body.partition("@")
    if at:
        if not _match("digest", digest):
            raise BadReference(f"bad digest {digest!r} (want sha256: and 64 hex digits)")
    else:
        digest = None
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name
    tag = None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1:]
        if not _match("tag", tag):
            raise BadReference(f"bad tag {tag!r}")
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _match("host", host):
        raise BadReference(f"bad registry host {host!r}")
    if not _match("repo", path):
        raise BadReference(f"bad repository name {path!r} (lowercase letters, digits, and . _ - / between them)")
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(ref, host, path, tag, digest)


def host_of(hostport: str) -> str:
    """`127.0.0.1:5000` -> `127.0.0.1`; `[::1]:5000` -> `::1`."""
    if hostport.startswith("["):
        return hostport[1:hostport.find("]")]
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def is_loopback(hostport: str) -> bool:
    """A host on this machine, where plain HTTP needs no leave (as docker treats 127.0.0.0/8)."""
    host = host_of(hostport).lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only for a remote input
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
