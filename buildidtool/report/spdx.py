"""SPDX 2.3 JSON for a scan, written as plain JSON.

Written by hand rather than through spdx-tools: the document is a flat list of
packages and relationships that maps one to one from the inventory, and
spdx-tools costs about 0.4 s to import (its writer pulls in its whole model,
validation and rdflib) on a command whose budget is a few hundred
milliseconds. The tests validate every document we write with spdx-tools.

Facts SPDX has no field for (build ID, content ID, Go version and its source,
host build ID status, verification) are package annotations whose comment is
`buildid:NAME=VALUE`, the same names as the CycloneDX properties.

With --vulns, SPDX 2.3 having no vulnerability model, each finding is an
external reference of the binary's package (category SECURITY, type advisory,
the entry's page as locator) whose comment gives the level and its evidence;
a module-level finding's comment starts with the VEX statement CycloneDX
gives as an analysis: `not_affected (code_not_present)`. The database is an
annotation of the root package (`buildid:vulndb=URL`, `buildid:vulndb.modified=TIME`)."""
from __future__ import annotations

import hashlib
import json
import re

from .sbom import NS, TOOL, Identity, Inventory, json_text, package_purl, tool_version, vuln_detail

ROOT = "SPDXRef-Root"  # what was scanned: described by the document, containing every binary
_NOT_ID = re.compile(r"[^A-Za-z0-9.-]+")


def spdx_id(kind: str, key: str) -> str:
    """SPDXRef-<kind>-<readable key>-<8 hex of the key>: stable, valid, unique."""
    readable = _NOT_ID.sub("-", key).strip("-")[:80]
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"SPDXRef-{kind}-{readable}-{digest}"


def document(inv: Inventory, ident: Identity) -> dict:
    creator = f"Tool: {TOOL}-{tool_version()}"
    packages, relationships = [], []

    def annotations(props) -> list[dict]:
        return [{"annotationType": "OTHER", "annotator": creator, "annotationDate": ident.timestamp,
                 "comment": f"{k}={json_text(v)}"} for k, v in props]

    mod_ids = {}
    for purl in sorted(inv.modules):
        m = inv.modules[purl]
        mod_ids[purl] = sid = spdx_id("Package-golang", f"{m.name}@{m.version}" if m.version else m.name)
        pkg = {"SPDXID": sid, "name": m.name, "versionInfo": m.version, "downloadLocation": "NOASSERTION",
               "filesAnalyzed": False, "primaryPackagePurpose": "LIBRARY",
               "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
               "copyrightText": "NOASSERTION",
               "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                 "referenceLocator": purl}]}
        if m.version is None:  # recovered from a pclntab whose paths carry no version
            del pkg["versionInfo"]
        if m.properties.get(NS + "source") == "pclntab":
            pkg["comment"] = ("Recovered from the pclntab (function table) of a binary whose build info names no "
                              "modules: its evidence is in the buildid:pclntab annotations.")
        if m.properties:
            pkg["annotations"] = annotations(sorted(m.properties.items()))
        packages.append(pkg)
    for b in inv.binaries:
        sid = spdx_id("File", b.path)
        pkg = {"SPDXID": sid, "name": json_text(b.path), "downloadLocation": "NOASSERTION",
               "filesAnalyzed": False, "primaryPackagePurpose": "ARCHIVE" if b.is_archive else "APPLICATION",
               "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
               "copyrightText": "NOASSERTION"}
        if b.sha256:
            pkg["checksums"] = [{"algorithm": "SHA256", "checksumValue": b.sha256}]
        if b.properties:
            pkg["annotations"] = annotations(b.properties)
        if b.vulns:
            pkg["externalRefs"] = [security_ref(f) for f in b.vulns]
        packages.append(pkg)
        relationships.append({"spdxElementId": ROOT, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": sid})
        relationships.extend({"spdxElementId": sid, "relationshipType": "DEPENDS_ON",
                              "relatedSpdxElement": mod_ids[p]} for p in sorted(b.modules))
    root = {"SPDXID": ROOT, "name": json_text(inv.root), "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False, "primaryPackagePurpose": "OTHER",
            "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION"}
    notes = []
    if inv.package is not None:  # one package scanned: the subject is the package, by its own name
        pkg = inv.package
        root.update(name=pkg.name, primaryPackagePurpose="INSTALL",
                    externalRefs=[{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                   "referenceLocator": package_purl(pkg)}])
        notes.append((NS + "file", inv.root))
        if pkg.version:
            root["versionInfo"] = pkg.version
    if inv.vulndb is not None:  # with --vulns: the database the findings come from
        notes.append((NS + "vulndb", inv.vulndb["source"]))
        if inv.vulndb["modified"]:
            notes.append((NS + "vulndb.modified", inv.vulndb["modified"]))
    if notes:
        root["annotations"] = annotations(notes)
    packages.append(root)
    relationships.append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                          "relatedSpdxElement": ROOT})
    packages.sort(key=lambda p: p["SPDXID"])
    relationships.sort(key=lambda r: (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]))
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{TOOL} scan",
        "documentNamespace": f"https://spdx.org/spdxdocs/{TOOL}-scan-{ident.serial}",
        "creationInfo": {"created": ident.timestamp, "creators": [creator]},
        "packages": packages,
        "relationships": relationships,
    }


def security_ref(f) -> dict:
    """A finding as an external reference: the entry's page, the level and why in the comment."""
    vex = "not_affected (code_not_present): " if f.level == "module" else ""
    aliases = f" [{' '.join(f.aliases)}]" if f.aliases else ""
    return {"referenceCategory": "SECURITY", "referenceType": "advisory", "referenceLocator": f.url,
            "comment": f"{f.id}{aliases}: {vex}{vuln_detail(f)}"}


def render(inv: Inventory, ident: Identity) -> str:
    return json.dumps(document(inv, ident), indent=2, ensure_ascii=False) + "\n"


__all__ = ["render", "document", "spdx_id"]
