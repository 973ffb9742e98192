"""CycloneDX 1.6 JSON for a scan, built and serialised with cyclonedx-python-lib.

Imported only by `scan --format cyclonedx-json` (the library costs about
0.2 s to import, which no other command should pay).

With --vulns, `vulnerabilities`: one per entry and level, whose `affects`
are the binaries (their bom-refs) it was found in at that level, with the
Go database as source, the aliases as references, and an `analysis` (VEX):
`not_affected` / `code_not_present` where no code of the affected packages
is in the binary (module level), `in_triage` with the evidence as detail
otherwise (the code is there; whether it is reached, no binary tells)."""
from __future__ import annotations

import datetime
import json
import uuid

from cyclonedx.model import HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisState
from cyclonedx.model.vulnerability import (BomTarget, Vulnerability, VulnerabilityAdvisory, VulnerabilityAnalysis,
                                           VulnerabilityReference, VulnerabilitySource)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from .sbom import (NS, TOOL, Identity, Inventory, alias_source, json_text, package_purl, tool_version, unique_text,
                   vuln_detail)


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
    if inv.vulndb is not None:
        meta.properties.add(Property(name=NS + "vulndb", value=json_text(inv.vulndb["source"])))
        if inv.vulndb["modified"]:
            meta.properties.add(Property(name=NS + "vulndb.modified", value=inv.vulndb["modified"]))
        for v in vulnerabilities(inv):
            doc.vulnerabilities.add(v)
    return doc


DATABASE = "Go Vulnerability Database"


def vulnerabilities(inv: Inventory) -> list[Vulnerability]:
    """One vulnerability per (entry, module, level), affecting the binaries
    where it was found at that level."""
    groups: dict[tuple, tuple] = {}
    for b in inv.binaries:
        for f in b.vulns or ():
            key = (f.id, f.module, f.level)
            if key not in groups:
                groups[key] = (f, [])
            groups[key][1].append(b)
    out = []
    for (id, module, level), (f, binaries) in sorted(groups.items()):
        if level == "module":
            analysis = VulnerabilityAnalysis(state=ImpactAnalysisState.NOT_AFFECTED,
                                             justification=ImpactAnalysisJustification.CODE_NOT_PRESENT,
                                             detail=vuln_detail(f))
        else:
            analysis = VulnerabilityAnalysis(state=ImpactAnalysisState.IN_TRIAGE, detail=vuln_detail(f))
        refs = [VulnerabilityReference(id=a, source=VulnerabilitySource(name=src[0], url=XsUri(src[1])))
                for a in f.aliases if (src := alias_source(a))]
        props = [Property(name=NS + "level", value=level), Property(name=NS + "module", value=module)]
        if f.symbols:
            props.append(Property(name=NS + "symbols",
                                  value=" ".join(f"{s['package']}.{s['symbol']}" for s in f.symbols)))
        if f.packages:
            props.append(Property(name=NS + "packages", value=" ".join(f.packages)))
        out.append(Vulnerability(
            bom_ref=f"vuln:{id}:{module}:{level}", id=id,
            source=VulnerabilitySource(name=DATABASE, url=XsUri(f.url)), references=refs,
            description=f.summary or None,
            recommendation=f"Upgrade {module} to {f.fixed} or later." if f.fixed else None,
            advisories=[VulnerabilityAdvisory(url=XsUri(f.url))],
            affects=[BomTarget(ref=binary_ref(b.path)) for b in binaries], analysis=analysis, properties=props))
    return out


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
