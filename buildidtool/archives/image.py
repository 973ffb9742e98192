"""Container images: `docker save` tarballs (manifest.json), OCI image layouts
(oci-layout + index.json) as a tar (`oci-archive`) or a directory.

By default the image reads as its squashed file system: layers are read from
the top down, so a file is reported from the highest layer that has it and a
whiteout (`.wh.NAME`) or an opaque directory (`.wh..wh..opq`) hides what the
layers below hold there; one pass, no layer read twice, nothing buffered but
the set of names already decided. With all_layers every layer's files are
reported, bottom up, each with its layer's digest."""
from __future__ import annotations

import io
import json
import os
import posixpath
import re

from . import platforms, tarball
from .tarheaders import open_tar
from .limits import Budget
from .paths import clean
from .streams import CHUNK, Window

DOCKER, OCI = "docker-image", "oci-image"
_WH, _OPAQUE = ".wh.", ".wh..wh..opq"
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json")
_DIGEST = re.compile(r"^(sha256|sha512):([0-9a-f]{64,128})$")
# Image metadata (manifest.json, index.json, manifests, config) is parsed whole:
# 1 MiB of JSON can become 25 MiB of Python objects, so no more is read (real
# ones are a few KiB; a config with a long history a few hundred).
_MAX_JSON = 1 << 20


MAX_IMAGE_MEMBERS = 100_000  # an image tar holds layers and metadata: a few per layer
MAX_IMAGE_NAMES = 8 << 20  # bytes of member names indexed (a name may be a 1 MiB GNU long name)


class NotAnImage(Exception):
    pass


class TarStore:
    """The regular members of a seekable, uncompressed tar, by name (links
    inside the tar resolved, a few steps at most), read through windows.
    Raises NotAnImage past MAX_IMAGE_MEMBERS members or MAX_IMAGE_NAMES bytes
    of names, so that indexing a huge ordinary tar never holds more."""

    def __init__(self, fd: int, size: int):
        self.fd = fd
        self.files: dict[str, tuple[int, int]] = {}
        links: dict[str, str] = {}
        with open_tar(io.BufferedReader(Window(fd, 0, size), 64 << 10), "r:") as tar:
            count = names = 0
            while (m := tar.next()) is not None:
                tar.members.clear()
                count += 1
                names += len(m.name) + len(m.linkname)
                if count > MAX_IMAGE_MEMBERS or names > MAX_IMAGE_NAMES:
                    raise NotAnImage()
                name = _norm(m.name)
                if m.isreg() and not m.issparse():
                    self.files[name] = (m.offset_data, m.size)
                elif m.issym():
                    links[name] = _norm(posixpath.join(posixpath.dirname(name), m.linkname))
                elif m.islnk():
                    links[name] = _norm(m.linkname)
        for name in links:
            target = name
            for _ in range(8):
                target = links.get(target, target)
            if target in self.files:
                self.files[name] = self.files[target]

    def has(self, name: str) -> bool:
        return name in self.files

    def open(self, name: str):
        if name not in self.files:
            raise ValueError(f"image member {name!r} is missing")
        off, n = self.files[name]
        return io.BufferedReader(Window(self.fd, off, n), CHUNK)

    def size(self, name: str) -> int:
        return self.files[name][1]


class DirStore:
    """An OCI layout directory."""

    def __init__(self, root: str):
        self.root = root

    def _path(self, name: str) -> str:
        name = _norm(name)
        if name.startswith("../") or name == "..":
            raise ValueError(f"image member {name!r} lies outside the layout")
        return os.path.join(self.root, name)

    def has(self, name: str) -> bool:
        return os.path.isfile(self._path(name))

    def open(self, name: str):
        return open(self._path(name), "rb", buffering=CHUNK)

    def size(self, name: str) -> int:
        return os.path.getsize(self._path(name))


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def kind(store) -> str | None:
    if store.has("manifest.json"):
        return DOCKER
    if store.has("oci-layout") and store.has("index.json"):
        return OCI
    return None


def _json(store, name: str):
    if store.size(name) > _MAX_JSON:
        raise ValueError(f"image metadata {name!r} is larger than {_MAX_JSON >> 20} MiB")
    with store.open(name) as f:
        return json.loads(f.read())


def _dict(x) -> dict:
    """Image metadata is JSON from the archive: a field of the wrong type reads as empty."""
    return x if isinstance(x, dict) else {}


def _list(x) -> list:
    return x if isinstance(x, list) else []


def _blob(digest) -> str:
    m = _DIGEST.match(digest if isinstance(digest, str) else "")
    if not m:
        raise ValueError(f"malformed digest {digest!r}")
    return f"blobs/{m.group(1)}/{m.group(2)}"


class ImageInfo:
    """What the image record shows, and its layers bottom up as (digest, member name)."""

    def __init__(self, fmt: str):
        self.format = fmt
        self.repo_tags: list[str] = []
        self.config_digest: str | None = None
        self.layers: list[tuple[str, str]] = []
        self.note: str | None = None
        self.digest: str | None = None     # the manifest's (OCI, registry) or the config's (docker save)
        self.platform: str | None = None   # shown only when a platform was chosen among several
        self.index: str | None = None      # the index or manifest list it was chosen from (registry)
        self.platform_seen = None          # what the index or config says, chosen or not

    def info(self) -> dict:
        out = {"repo_tags": self.repo_tags, "config_digest": self.config_digest,
               "layers": [d for d, _ in self.layers]}
        if self.digest is not None and self.digest != self.config_digest:  # docker save names none of its own
            out["digest"] = self.digest
        for key in ("platform", "index"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


class NoPlatform(ValueError):
    """An index with no image for the platform asked for."""


def describe(store, fmt: str, want=None) -> ImageInfo:
    """The image to read: the one image, or the one of several that --platform chooses."""
    return describe_all(store, fmt, want)[0]


def describe_all(store, fmt: str, want=None) -> list[ImageInfo]:
    """The images to read (several only for --platform all). `want`: a
    platform setting (None: $BUILDID_PLATFORM or the host's), or a digest
    naming one image. Raises ValueError (NoPlatform when none matches)."""
    if fmt == DOCKER:
        manifest = _json(store, "manifest.json")
        if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
            raise ValueError("manifest.json holds no image")
        candidates = []
        for m in manifest:
            img = _docker_image(store, m) if isinstance(m, dict) else None
            if img is not None:
                candidates.append((img.platform_seen, img))
        if not candidates:
            raise ValueError("manifest.json names no layers and config")
        return _chosen(candidates, want, "manifest.json")
    index = _json(store, "index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ValueError("index.json lists no manifests")
    manifests = _image_manifests(store, index, depth=0)
    if not manifests:
        raise ValueError("index.json holds no image manifest")
    candidates = []
    for desc, manifest in manifests:
        img = oci_image(manifest, desc.get("digest"), _dict(desc.get("annotations")).get(
            "org.opencontainers.image.ref.name"))
        seen = platforms.of(desc.get("platform"))
        if seen is None and len(manifests) > 1:  # an entry without a platform: its config says
            seen = platforms.of(_config(store, img.config_digest))
        img.platform_seen = seen
        candidates.append((seen, img))
    return _chosen(candidates, want, "the index")


def _chosen(candidates: list, want, where: str) -> list[ImageInfo]:
    if isinstance(want, str) and _DIGEST.match(want):
        hits = [img for _, img in candidates if img.digest == want]
        if not hits:
            raise ValueError(f"no image {want} in {where}")
        return hits[:1]
    want = platforms.wanted(want) if not isinstance(want, platforms.Platform) and want != platforms.ALL else want
    picked = platforms.choose(candidates, want)
    if not picked and len(candidates) > 1 and all(p is None for p, _ in candidates):
        picked = candidates[:1]  # nothing names a platform: the first, as before
    if not picked:
        raise NoPlatform(f"no image for platform {want} in {where} (it has {platforms.listing(candidates)}; "
                         "choose one with --platform, or --platform all)")
    real = [c for c in candidates if not platforms.is_attestation(c[0])]
    out = [img for _, img in picked]
    if len(real) > 1:
        for p, img in picked:
            img.platform = str(p) if p is not None else None
        if len(out) == 1:
            out[0].note = f"{where} holds {len(real)} images ({platforms.listing(real)}); {out[0].platform or 'the first'} was read"
    return out


def _docker_image(store, m: dict) -> ImageInfo | None:
    if not isinstance(m.get("Layers"), list) or not isinstance(m.get("Config"), str):
        return None
    img = ImageInfo(DOCKER)
    img.repo_tags = [t for t in _list(m.get("RepoTags")) if isinstance(t, str)]
    config = m.get("Config", "")
    diff_ids = []
    img.platform_seen = None
    if isinstance(config, str) and store.has(_norm(config)):
        hexpart = posixpath.basename(config).removesuffix(".json")
        img.config_digest = f"sha256:{hexpart}" if re.fullmatch(r"[0-9a-f]{64}", hexpart) else None
        img.digest = img.config_digest  # docker's image ID
        cfg = _json(store, _norm(config))
        diff_ids = _list(_dict(_dict(cfg).get("rootfs")).get("diff_ids"))
        img.platform_seen = platforms.of(_dict(cfg))
    layers = m.get("Layers") or []
    for i, path in enumerate(layers):
        path = _norm(str(path))
        b = re.fullmatch(r"blobs/(sha256|sha512)/([0-9a-f]+)", path)
        digest = f"{b.group(1)}:{b.group(2)}" if b else \
            diff_ids[i] if len(diff_ids) == len(layers) else path
        img.layers.append((str(digest), path))
    return img


def oci_image(manifest: dict, digest, ref=None, layer_path=None) -> ImageInfo:
    """The ImageInfo of an OCI or Docker schema 2 image manifest (a dict);
    `layer_path(digest)` names where each layer is read from (default: the
    layout's blobs/ALG/HEX)."""
    img = ImageInfo(OCI)
    img.digest = digest if isinstance(digest, str) else None
    img.repo_tags = [ref] if isinstance(ref, str) else []
    config = _dict(manifest.get("config")).get("digest")
    img.config_digest = config if isinstance(config, str) else None
    img.platform_seen = None
    for layer in _list(manifest.get("layers")):
        d = _dict(layer).get("digest")
        img.layers.append((d, (layer_path or _blob)(d)))
    return img


def _config(store, digest) -> dict | None:
    try:
        return _dict(_json(store, _blob(digest)))
    except (ValueError, OSError):
        return None


def _image_manifests(store, index, depth: int) -> list:
    if depth > 4 or not isinstance(index, dict):
        return []
    out = []
    for desc in _list(index.get("manifests")):
        if not isinstance(desc, dict):
            continue
        doc = _json(store, _blob(desc.get("digest")))
        if desc.get("mediaType") in _INDEX_TYPES or (isinstance(doc, dict) and "manifests" in doc):
            out.extend(_image_manifests(store, doc, depth + 1))
        elif isinstance(doc, dict) and "layers" in doc:
            out.append((desc, doc))
    return out


def entries(store, img: ImageInfo, budget: Budget, all_layers: bool):
    if all_layers:
        for digest, path in img.layers:
            with store.open(path) as layer:
                for e in tarball.entries(layer, budget):
                    if not posixpath.basename(clean(e.name)[0]).startswith(_WH):
                        e.layer = digest
                        yield e
        return
    hidden: set[str] = set()  # exact paths decided by upper layers
    hidden_under: set[str] = set()  # paths whose whole subtree upper layers decided
    for digest, path in reversed(img.layers):
        add, add_under = set(), set()
        with store.open(path) as layer:
            yield from _squashed(tarball.entries(layer, budget), digest, hidden, hidden_under, add, add_under, budget)
        hidden |= add
        hidden_under |= add_under


# A name kept in the squash sets: the str object and a slot in two sets.
_NAME_COST = 160


def _squashed(layer_entries, digest, hidden, hidden_under, add, add_under, budget):
    """One layer's entries that upper layers did not decide, noting what it decides."""
    for e in layer_entries:
        name = clean(e.name)[0]
        budget.hold(len(name) + _NAME_COST, "the image's file list")
        parent, base = posixpath.split(name)
        if base == _OPAQUE:
            add_under.add(parent)
            continue
        if base.startswith(_WH):
            gone = posixpath.join(parent, base[len(_WH):])
            add.add(gone)
            add_under.add(gone)
            continue
        if name in hidden or _under(name, hidden_under):
            continue
        add.add(name)
        add_under.add(name)  # a file hides whatever a lower layer has beneath its name
        e.layer = digest
        yield e


def _under(name: str, dirs: set[str]) -> bool:
    if "" in dirs:  # an opaque root
        return True
    i = name.find("/")
    while i != -1:
        if name[:i] in dirs:
            return True
        i = name.find("/", i + 1)
    return False
