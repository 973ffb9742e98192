"""CycloneDX 1.6 JSON for a scan, built and serialised with cyclonedx-python-lib.

Imported only by `scan --format cyclonedx-json` (the library costs about
0.2 s to import, which no other command should pay)."""
from __future__ import annotations

import datetime
import json
import uuid

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from .sbom import NS, TOOL, Identity, Inventory, json_text, package_purl, tool_version, unique_text


ROOT = "scan-root"


def binary_ref(path: str) -> str:
    return "file:" + unique_text(path)


def bom(inv: Inventory, ident: Identity) -> Bom:
    tool = Component(type=ComponentType.APPLICATION, name=TOOL, version=tool_version(),
                     bom_ref=f"tool:{TOOL}")
    pkg = inv.package
    root = Component(type=ComponentType.FILE, name=json_text(inv.root), bom_ref=ROOT) if pkg is None else \
        Component(type=ComponentType.APPLICATION, name=pkg.name, version=pkg.version,
                  purl=PackageURL.from_string(package_purl(pkg)), bom_ref=ROOT,
                  properties=[Property(name=NS + "file", value=json_text(inv.root))])
    meta = BomMetaData(timestamp=datetime.datetime.fromisoformat(ident.timestamp.replace("Z", "+00:00")),
                       component=root)
    meta.tools.components.add(tool)
    doc = Bom(serial_number=uuid.UUID(ident.serial), metadata=meta)
    libs, apps = {}, []
    for purl in sorted(inv.modules):
        m = inv.modules[purl]
        libs[purl] = Component(
            type=ComponentType.LIBRARY, name=m.name, version=m.version, purl=PackageURL.from_string(purl),
            bom_ref=purl, properties=[Property(name=k, value=v) for k, v in sorted(m.properties.items())])
        doc.components.add(libs[purl])
    for b in inv.binaries:
        app = Component(
            type=ComponentType.FILE if b.is_archive else ComponentType.APPLICATION, name=json_text(b.path),
            bom_ref=binary_ref(b.path),
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=b.sha256)] if b.sha256 else None,
            properties=[Property(name=k, value=json_text(v)) for k, v in b.properties])
        doc.components.add(app)
        apps.append(app)
        doc.register_dependency(app, [libs[p] for p in sorted(b.modules)])
    for lib in libs.values():
        doc.register_dependency(lib, [])
    doc.register_dependency(root, apps)
    return doc


def render(inv: Inventory, ident: Identity) -> str:
    text = JsonV1Dot6(bom(inv, ident)).output_as_string(indent=2)
    if not inv.binaries and not inv.modules:
        # The library leaves an empty list out; `jq '.components[]'` should still work on a scan
        # that found no Go.
        doc = json.loads(text)
        doc.setdefault("components", [])
        text = json.dumps(doc, indent=2)
    return text + "\n"


__all__ = ["render", "bom", "binary_ref", "NS"]
