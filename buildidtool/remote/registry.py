"""An image straight from a registry, through the distribution API (the
OCI distribution spec, which Docker's registry speaks): the manifest by tag
or digest (OCI and Docker schema 2 manifests, OCI indexes and Docker manifest
lists, the platform chosen as for a local image), its config, its layers as
checked blobs (blobs.py). Bearer tokens (realm, service, scope, as the
registry's challenge says) and Basic auth, credentials from the docker config
(credentials.py). HTTPS with the system's certificate authorities; plain HTTP
only for a loopback host, or one named insecure (--insecure-registry)."""
from __future__ import annotations

import base64
import hashlib
import json
import re

from ..archives import image, platforms
from . import credentials
from .blobs import BlobStore
from .http import RemoteError, client
from .refs import ImageRef

MAX_MANIFEST = 4 << 20     # the registry's own limit for a manifest
MAX_CONFIG = 16 << 20      # as for a local image's metadata
MAX_TOKEN = 1 << 20
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
_INDEXES = (OCI_INDEX, DOCKER_LIST)
_MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
_CHALLENGE = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


class Registry:
    """One repository of one registry, with its scheme and its authorization found on first contact."""

    def __init__(self, ref: ImageRef, http=None):
        self.ref = ref
        self.http = http or client()
        self.base: str | None = None          # https://host or http://host
        self.authorization: str | None = None  # the header that worked

    # --- requests ---

    def get(self, path: str, headers: dict | None = None, ok=(200,)):
        """GET /v2/<repo>/<path>, authorized as the registry asks."""
        hdrs = dict(headers or {})
        if self.base is None:
            self.base = self._scheme()
        if self.authorization:
            hdrs["Authorization"] = self.authorization
        resp = self.http.request(f"{self.base}/v2/{self.ref.repo}/{path}", hdrs, ok=ok, auth=self._authorize)
        return resp

    def _scheme(self) -> str:
        """https, or for a host where plain HTTP is allowed, http when TLS is not spoken there."""
        host = self.ref.api_host
        if not self.http.allows_plain(host):
            return f"https://{host}"
        try:
            resp = self.http.request(f"https://{host}/v2/", ok=(200, 401, 404))
            resp.body(1 << 16, "response")
            return f"https://{host}"
        except RemoteError as e:
            if not getattr(e, "tls", False):
                raise
        return f"http://{host}"

    def _authorize(self, resp) -> str | None:
        """The Authorization header answering a 401's challenge, or None."""
        challenge = resp.header("WWW-Authenticate") or ""
        scheme, _, params = challenge.strip().partition(" ")
        creds = credentials.lookup(self.ref.host)
        basic = None
        if creds is not None:
            basic = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        if scheme.lower() == "basic":
            self.authorization = basic
            return basic
        if scheme.lower() != "bearer":
            return None
        fields = dict(_CHALLENGE.findall(params))
        realm = fields.get("realm")
        if not realm:
            return None
        from urllib.parse import urlencode
        query = {"scope": fields.get("scope") or f"repository:{self.ref.repo}:pull"}
        if fields.get("service"):
            query["service"] = fields["service"]
        sep = "&" if "?" in realm else "?"
        token_resp = self.http.request(realm + sep + urlencode(query), {"Authorization": basic} if basic else {},
                                       ok=(200,))
        try:
            doc = json.loads(token_resp.body(MAX_TOKEN, "token response"))
        except ValueError:
            raise RemoteError("the token service answered with something that is not JSON") from None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise RemoteError("the token service gave no token")
        self.authorization = f"Bearer {token}"
        return self.authorization

    # --- documents ---

    def manifest(self, reference: str, size: int | None = None) -> tuple[str, str, dict]:
        """(digest, media type, document) of a manifest by tag or digest,
        checked against the digest asked for (and `size`, when a descriptor gave one)."""
        resp = self.get(f"manifests/{reference}", {"Accept": _ACCEPT})
        limit = MAX_MANIFEST if size is None else min(size, MAX_MANIFEST)
        body = resp.body(limit, f"manifest {reference}")
        if size is not None and len(body) != size:
            raise RemoteError(f"manifest {reference} is {len(body)} bytes, its descriptor says {size}")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise RemoteError(f"manifest {reference} does not match its digest (got {digest})")
        if reference.startswith("sha512:"):
            if "sha512:" + hashlib.sha512(body).hexdigest() != reference:
                raise RemoteError(f"manifest {reference} does not match its digest")
            digest = reference
        told = resp.header("Docker-Content-Digest")
        if told and told.startswith("sha256:") and told != digest:
            raise RemoteError(f"manifest {reference}: the registry says {told}, its bytes hash to {digest}")
        try:
            doc = json.loads(body)
        except ValueError:
            raise RemoteError(f"manifest {reference} is not JSON") from None
        if not isinstance(doc, dict):
            raise RemoteError(f"manifest {reference} is not a JSON object")
        media = doc.get("mediaType") or (resp.header("Content-Type") or "").split(";")[0].strip()
        if media not in _INDEXES + _MANIFESTS:
            if "manifests" in doc:
                media = OCI_INDEX
            elif "layers" in doc:
                media = OCI_MANIFEST
            else:
                raise RemoteError(f"manifest {reference} is of a kind not read here ({media or 'no media type'}; "
                                  "schema 1 manifests are not supported)")
        return digest, media, doc

    def config(self, desc: dict) -> dict:
        """The image config a manifest points at, checked against its digest and size."""
        digest, size = desc.get("digest"), desc.get("size")
        if not isinstance(digest, str):
            raise RemoteError("the manifest names no config")
        if isinstance(size, int) and size > MAX_CONFIG:
            raise RemoteError(f"config {digest} is {size} bytes, more than the {MAX_CONFIG >> 20} MiB allowed")
        resp = self.get(f"blobs/{digest}")
        body = resp.body(MAX_CONFIG, f"config {digest}")
        if isinstance(size, int) and len(body) != size:
            raise RemoteError(f"config {digest} is {len(body)} bytes, the manifest says {size}")
        if digest.startswith("sha256:") and "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise RemoteError(f"config {digest} does not match its digest")
        try:
            doc = json.loads(body)
        except ValueError:
            raise RemoteError(f"config {digest} is not JSON") from None
        return doc if isinstance(doc, dict) else {}


def resolve(ref: ImageRef, want=None, http=None) -> tuple[Registry, list[image.ImageInfo]]:
    """The registry and the image(s) to read: one, or every platform's with
    --platform all. Each ImageInfo has `digest` (the manifest read), `index`
    (the index it was chosen from, if any) and `platform`. Raises RemoteError."""
    reg = Registry(ref, http)
    digest, media, doc = reg.manifest(ref.wanted)
    if media in _MANIFESTS:
        img = _image(reg, digest, doc)
        cfg = reg.config(doc.get("config") or {})
        p = platforms.of(cfg)  # a single image is read whatever its platform, as a local one is
        img.platform = str(p) if p is not None else None
        return reg, [img]
    candidates = []
    for desc in doc.get("manifests") or []:
        if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
            continue
        if desc.get("mediaType") in _INDEXES:
            continue  # nested indexes: not produced by any tool we know of for images
        candidates.append((platforms.of(desc.get("platform")), desc))
    if isinstance(want, str) and want.startswith("sha"):
        picked = [(p, d) for p, d in candidates if d["digest"] == want]
        if not picked:
            raise RemoteError(f"no image {want} in index {digest}")
    else:
        target = platforms.wanted(want) if want != platforms.ALL else platforms.ALL
        picked = platforms.choose(candidates, target)
        if not picked:
            raise RemoteError(f"no image for platform {target} in index {digest} "
                              f"(it has {platforms.listing(candidates)}; choose one with --platform, or --platform all)")
    out = []
    for p, desc in picked:
        size = desc.get("size") if isinstance(desc.get("size"), int) else None
        mdigest, mmedia, mdoc = reg.manifest(desc["digest"], size)
        if mmedia not in _MANIFESTS:
            raise RemoteError(f"index {digest} lists {desc['digest']}, which is not an image manifest")
        img = _image(reg, mdigest, mdoc)
        reg.config(mdoc.get("config") or {})  # fetched and checked, as a pull does
        img.platform, img.index = (str(p) if p is not None else None), digest
        out.append(img)
    return reg, out


def _image(reg: Registry, digest: str, doc: dict) -> image.ImageInfo:
    """The ImageInfo of a manifest: layers named by digest (the store fetches them)."""
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise RemoteError(f"manifest {digest} lists no layers")
    ref = reg.ref
    tag = f"{ref.host}/{ref.repo}:{ref.tag}" if ref.tag else None
    img = image.oci_image(doc, digest, tag, layer_path=lambda d: d)
    img.format = image.DOCKER if doc.get("mediaType") == DOCKER_MANIFEST else image.OCI
    img.sizes = {}
    for layer in layers:
        if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str) \
                or not isinstance(layer.get("size"), int) or layer["size"] < 0:
            raise RemoteError(f"manifest {digest} has a layer without a digest and size")
        img.sizes[layer["digest"]] = layer["size"]
    return img


def store(reg: Registry, img: image.ImageInfo) -> BlobStore:
    return BlobStore(reg, img.sizes)
