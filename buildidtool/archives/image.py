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

from . import tarball
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

    def info(self) -> dict:
        return {"repo_tags": self.repo_tags, "config_digest": self.config_digest,
                "layers": [d for d, _ in self.layers]}


def describe(store, fmt: str) -> ImageInfo:
    img = ImageInfo(fmt)
    if fmt == DOCKER:
        manifest = _json(store, "manifest.json")
        if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
            raise ValueError("manifest.json holds no image")
        if len(manifest) > 1:
            img.note = f"manifest.json holds {len(manifest)} images; the first is read"
        m = manifest[0]
        if not isinstance(m.get("Layers"), list) or not isinstance(m.get("Config"), str):
            raise ValueError("manifest.json names no layers and config")
        img.repo_tags = [t for t in _list(m.get("RepoTags")) if isinstance(t, str)]
        config = m.get("Config", "")
        diff_ids = []
        if isinstance(config, str) and store.has(_norm(config)):
            hexpart = posixpath.basename(config).removesuffix(".json")
            img.config_digest = f"sha256:{hexpart}" if re.fullmatch(r"[0-9a-f]{64}", hexpart) else None
            cfg = _json(store, _norm(config))
            diff_ids = _list(_dict(_dict(cfg).get("rootfs")).get("diff_ids"))
        layers = m.get("Layers") or []
        for i, path in enumerate(layers):
            path = _norm(str(path))
            b = re.fullmatch(r"blobs/(sha256|sha512)/([0-9a-f]+)", path)
            digest = f"{b.group(1)}:{b.group(2)}" if b else \
                diff_ids[i] if len(diff_ids) == len(layers) else path
            img.layers.append((str(digest), path))
        return img
    index = _json(store, "index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ValueError("index.json lists no manifests")
    manifests = _image_manifests(store, index, depth=0)
    if not manifests:
        raise ValueError("index.json holds no image manifest")
    if len(manifests) > 1:
        img.note = f"the index holds {len(manifests)} image manifests; the first is read"
    desc, manifest = manifests[0]
    ref = _dict(desc.get("annotations")).get("org.opencontainers.image.ref.name")
    img.repo_tags = [ref] if isinstance(ref, str) else []
    digest = _dict(manifest.get("config")).get("digest")
    img.config_digest = digest if isinstance(digest, str) else None
    for layer in _list(manifest.get("layers")):
        digest = _dict(layer).get("digest")
        img.layers.append((digest, _blob(digest)))
    return img


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
            for e in tarball.entries(store.open(path), budget):
                if not posixpath.basename(clean(e.name)[0]).startswith(_WH):
                    e.layer = digest
                    yield e
        return
    hidden: set[str] = set()  # exact paths decided by upper layers
    hidden_under: set[str] = set()  # paths whose whole subtree upper layers decided
    for digest, path in reversed(img.layers):
        add, add_under = set(), set()
        for e in tarball.entries(store.open(path), budget):
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
        hidden |= add
        hidden_under |= add_under


# A name kept in the squash sets: the str object and a slot in two sets.
_NAME_COST = 160


def _under(name: str, dirs: set[str]) -> bool:
    if "" in dirs:  # an opaque root
        return True
    i = name.find("/")
    while i != -1:
        if name[:i] in dirs:
            return True
        i = name.find("/", i + 1)
    return False
