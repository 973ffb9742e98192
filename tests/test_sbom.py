"""SBOMs from scan records (buildidtool.sbom, .cyclonedx, .spdx).

Oracles: cyclonedx-python-lib's strict JSON validator for CycloneDX 1.6,
spdx-tools' validation for SPDX 2.3, and `go version -m -json` for the modules
each binary must list."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from buildidtool.inputs import of_path
from buildidtool.ops.scan import asked_for, scan
from buildidtool.report import sbom
from buildidtool.tree import NO_LINKS, ScanStats, walk
from helpers import scan_one

SBOM = asked_for(False, True)
FORMATS = ("cyclonedx-json", "spdx-json")

SERIAL = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
STAMP = "2024-05-06T07:08:09Z"


@pytest.fixture(scope="module")
def records(samples):
    return [of_path(w, SBOM) for w in walk([str(samples.dir)], NO_LINKS, ScanStats())]


@pytest.fixture(scope="module")
def inventory(records):
    return sbom.inventory(records)


def render(inv, form, **kw):
    kw = kw or {"serial": SERIAL, "timestamp": STAMP}
    from buildidtool.report import cyclonedx, spdx
    return {"cyclonedx-json": cyclonedx, "spdx-json": spdx}[form].render(inv, sbom.Identity.make(inv, **kw))


@pytest.fixture(scope="module")
def cdx(inventory):
    return json.loads(render(inventory, "cyclonedx-json"))


@pytest.fixture(scope="module")
def spdx(inventory):
    return json.loads(render(inventory, "spdx-json"))


def test_cyclonedx_passes_the_strict_validator(inventory):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = render(inventory, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6" and doc["serialNumber"] == SERIAL
    assert doc["metadata"]["timestamp"].startswith("2024-05-06T07:08:09")


def _spdx_messages(text: str, tmp_path) -> list[str]:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    f = tmp_path / "doc.spdx.json"
    f.write_text(text)
    return [m.validation_message for m in validate_full_spdx_document(parse_file(str(f)))]


def test_spdx_passes_spdx_tools_validation(inventory, tmp_path):
    text = render(inventory, "spdx-json")
    assert _spdx_messages(text, tmp_path) == []
    doc = json.loads(text)
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["creationInfo"]["created"] == STAMP
    assert doc["documentNamespace"].endswith(SERIAL.split(":")[-1])


def expected_purls(m: dict) -> set[str]:
    """The modules `go version -m -json` lists, as purls, by the rule docs/commands.md states."""
    out = set()
    main = m.get("Main") or {}
    if main.get("Version") and main["Version"] != "(devel)":
        out.add(sbom.golang_purl(main["Path"], main["Version"]))
    for d in m.get("Deps") or []:
        rep = d.get("Replace")
        if rep and rep.get("Version") and rep["Version"] != "(devel)":
            out.add(sbom.golang_purl(rep["Path"], rep["Version"]))
        else:
            out.add(sbom.golang_purl(d["Path"], d["Version"]))
    out.add(f"pkg:golang/stdlib@{m['GoVersion'].split()[0].removeprefix('go')}")
    return out


def test_purls_equal_what_go_version_m_lists(samples, cdx, spdx):
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in cdx["dependencies"]}
    ids = {p["SPDXID"]: p for p in spdx["packages"]}
    spdx_deps: dict[str, set[str]] = {}
    for r in spdx["relationships"]:
        if r["relationshipType"] == "DEPENDS_ON":
            purl = ids[r["relatedSpdxElement"]]["externalRefs"][0]["referenceLocator"]
            spdx_deps.setdefault(ids[r["spdxElementId"]]["name"], set()).add(purl)
    checked = 0
    for path in samples.all_files():
        r = subprocess.run([samples.go, "version", "-m", "-json", str(path)], capture_output=True, text=True)
        if r.returncode != 0:
            continue
        want = expected_purls(json.loads(r.stdout))
        assert deps[f"file:{path}"] == want, path.name
        assert spdx_deps[str(path)] == want, path.name
        checked += 1
    assert checked >= 20
    # modapp: a dependency, a local replacement (kept as the original, with a
    # property), the main module with its pseudo-version, the standard library.
    modapp = deps[f"file:{samples.path('modapp-linux-amd64')}"]
    assert "pkg:golang/example.com/greet@v1.2.0" in modapp
    assert any(p.startswith("pkg:golang/example.com/modapp@v0.0.0-") for p in modapp)


def test_one_component_per_purl_shared_by_binaries(cdx):
    libs = [c for c in cdx["components"] if c["type"] == "library"]
    purls = [c["purl"] for c in libs]
    assert len(purls) == len(set(purls))
    std = next(c for c in libs if c["name"] == "stdlib")
    assert std["version"].startswith("go1.") and std["purl"] == f"pkg:golang/stdlib@{std['version'][2:]}"
    users = [d for d in cdx["dependencies"] if std["bom-ref"] in d.get("dependsOn", [])]
    assert len(users) >= 20
    local = next(c for c in libs if c["name"] == "example.com/local")
    assert {"name": "buildid:replaced_by", "value": "./local"} in local["properties"]


def _props(component: dict) -> dict:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def test_binaries_carry_hash_and_forensic_facts(samples, cdx, records):
    import hashlib

    path = samples.path("modapp-linux-amd64")
    comp = next(c for c in cdx["components"] if c["bom-ref"] == f"file:{path}")
    assert comp["type"] == "application" and comp["name"] == str(path)
    assert comp["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(path.read_bytes()).hexdigest()}]
    rec = next(r.to_json() for r in records if r.file == str(path))
    p = _props(comp)
    assert p["buildid:build_id"] == rec["build_id"]
    assert p["buildid:content_id"] == rec["build_id"].split("/")[-1]
    assert p["buildid:go_version"] == samples.manifest["go_version"]
    assert p["buildid:go_version_source"] == "buildinfo"
    assert p["buildid:host_build_id_status"] == "derived"
    assert p["buildid:build.vcs.revision"].startswith("74a20cf5eb7b")
    assert "buildid:build.vcs.time" in p
    lib = next(c for c in cdx["components"] if c["name"] == str(samples.path("lib.a")))
    assert lib["type"] == "file" and _props(lib)["buildid:format"] == "go-archive"
    # A universal binary: one set of facts per slice.
    uni = next(c for c in cdx["components"] if c["name"] == str(samples.path("hello-darwin-universal")))
    assert {"buildid:slice.amd64.build_id", "buildid:slice.arm64.build_id"} <= set(_props(uni))


def test_verify_facts_and_recovered_versions(samples, tmp_path):
    """With --verify the status and modification go in; a binary without build
    info still gets its recovered Go version, its source and the stdlib."""
    import shutil

    mod = tmp_path / "modified"
    shutil.copyfile(samples.path("hello-linux-amd64"), mod)
    data = bytearray(mod.read_bytes())
    data[len(data) // 2] ^= 0xFF
    mod.write_bytes(bytes(data))
    nobi = tmp_path / "nobuildinfo"
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy is not installed")
    subprocess.run(["objcopy", "--remove-section", ".go.buildinfo",
                    str(samples.path("hello-linux-amd64-stripped")), str(nobi)], check=True)
    recs = [scan_one(p, verify=True, sbom=True) for p in (mod, nobi)]
    doc = json.loads(render(sbom.inventory(recs), "cyclonedx-json"))
    comps = {c["name"]: c for c in doc["components"]}
    assert _props(comps[str(mod)])["buildid:verify.status"] == "modified"
    assert "content ID" in _props(comps[str(mod)])["buildid:verify.reason"]
    assert _props(comps[str(mod)])["buildid:verify.modification"] == "unexplained"
    p = _props(comps[str(nobi)])
    assert (p["buildid:go_version"], p["buildid:go_version_source"]) == (samples.manifest["go_version"], "scan")
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps[f"file:{nobi}"] == [f"pkg:golang/stdlib@{samples.manifest['go_version'][2:]}"]


def test_non_go_files_and_errors_are_left_out(tmp_path):
    (tmp_path / "notes.txt").write_text("go1.22.1\n")
    recs = [scan_one(tmp_path / "notes.txt", sbom=True),
            scan_one(tmp_path / "gone", sbom=True, error="No such file or directory")]
    inv = sbom.inventory(recs, [str(tmp_path)])
    assert inv.binaries == [] and inv.modules == {}
    doc = json.loads(render(inv, "cyclonedx-json"))
    assert doc["components"] == [] and doc["metadata"]["component"]["name"] == str(tmp_path)
    # Still a valid SPDX document: it describes the scanned tree, which holds nothing.
    assert _spdx_messages(render(inv, "spdx-json"), tmp_path) == []


def test_documents_are_deterministic(samples, records, inventory, tmp_path, monkeypatch):
    """Same tree, same flags: the same bytes, whatever the order records
    arrive in; --reproducible fixes serial and time from the content."""
    again = sbom.inventory(list(reversed([scan_one(r.file, sbom=True) for r in records])))
    for form in FORMATS:
        assert render(inventory, form) == render(again, form)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        a = render(inventory, form, reproducible=True)
        assert a == render(again, form, reproducible=True)
        assert "2023-11-14T22:13:20" in a
    fresh = [json.loads(render(inventory, "cyclonedx-json", reproducible=False))["serialNumber"] for _ in range(2)]
    assert fresh[0] != fresh[1]


def test_stable_identifiers(inventory, spdx, cdx):
    from buildidtool.report.spdx import spdx_id

    ids = [p["SPDXID"] for p in spdx["packages"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i.startswith("SPDXRef-") for i in ids)
    assert spdx_id("File", "a/b c") == spdx_id("File", "a/b c") != spdx_id("File", "a/b_c")
    refs = [c["bom-ref"] for c in cdx["components"]]
    assert len(set(refs)) == len(refs)


def test_scan_with_workers_gives_the_same_document(samples, inventory):
    recs = list(scan(walk([str(samples.dir)], NO_LINKS, ScanStats()), 2, SBOM))
    assert render(sbom.inventory(recs), "spdx-json") == render(inventory, "spdx-json")


def test_sbom_libraries_stay_out_of_other_commands(samples):
    """Only the SBOM formats import cyclonedx-python-lib and packageurl."""
    code = ("import sys, buildidtool\n"
            "from buildidtool.inputs import of_path; from buildidtool.facts import SCAN\n"
            "from buildidtool.tree import walk, ScanStats\n"
            f"[of_path(w, SCAN) for w in walk([{str(samples.dir)!r}], 'none', ScanStats())]\n"
            f"buildidtool.inspect({str(samples.path('hello-linux-amd64'))!r})\n"
            "print([m for m in ('cyclonedx', 'packageurl', 'spdx_tools') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stderr


# --- through the command line -------------------------------------------------

def test_scan_format_writes_one_valid_document(samples, tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from helpers import run

    tree = tmp_path / "release"
    (tree / "bin").mkdir(parents=True)
    for name in ("modapp-linux-amd64", "hello-darwin-universal", "hello-windows-amd64.exe"):
        (tree / "bin" / name).write_bytes(samples.path(name).read_bytes())
    (tree / "README").write_text("not a binary\n")
    first = run("scan", "--format", "cyclonedx-json", "--reproducible", "-j", "2", tree)
    assert first.returncode == 0, first.stderr
    assert b"scanned 4 files: 3 Go files" in first.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(first.stdout.decode()) is None
    assert run("scan", "--format", "cyclonedx-json", "--reproducible", "-j", "1", tree).stdout == first.stdout
    doc = json.loads(first.stdout)
    assert sorted(c["name"] for c in doc["components"] if c["type"] == "application") == \
        sorted(str(tree / "bin" / n) for n in ("modapp-linux-amd64", "hello-darwin-universal",
                                             "hello-windows-amd64.exe"))
    spdx = run("scan", "--format", "spdx-json", "--timestamp", STAMP, "--serial-number", SERIAL, tree)
    assert spdx.returncode == 0 and _spdx_messages(spdx.stdout.decode(), tmp_path) == []
    assert json.loads(spdx.stdout)["creationInfo"]["created"] == STAMP
    # --verify: the exit status and the facts as for any scan.
    v = run("scan", "--format", "cyclonedx-json", "--verify", tree)
    assert v.returncode == 0 and b'"buildid:verify.status"' in v.stdout


@pytest.mark.parametrize("args", [["--format", "json", "--reproducible"],
                                  ["--format", "spdx-json", "--serial-number", "urn:uuid:nope"],
                                  ["--format", "cyclonedx-json", "--timestamp", "yesterday"],
                                  ["--format", "cyclonedx-xml"]])
def test_scan_sbom_usage_errors(tmp_path, args):
    from helpers import run

    r = run("scan", *args, tmp_path)
    assert r.returncode == 2 and r.stdout == b"" and b"Error:" in r.stderr


def test_file_names_that_are_not_utf8(samples, tmp_path):
    """Names JSON cannot carry as bytes: U+FFFD in the name (as in SPDX), the
    identifiers kept apart; both documents still valid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    tree = tmp_path / "t"
    tree.mkdir()
    for raw in (b"x\xffy", b"x\xfey"):
        with open(os.path.join(bytes(tree), raw), "wb") as f:
            f.write(samples.path("hello-linux-amd64").read_bytes())
    recs = [of_path(w, SBOM) for w in walk([str(tree)], NO_LINKS, ScanStats())]
    inv = sbom.inventory(recs, [str(tree)])
    text = render(inv, "cyclonedx-json")
    assert "\\ud" not in text  # no lone surrogates, which strict JSON readers reject or mangle
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    apps = [c for c in json.loads(text)["components"] if c["type"] == "application"]
    assert [c["name"] for c in apps] == [f"{tree}/x\ufffdy"] * 2
    assert len({c["bom-ref"] for c in apps}) == 2
    spdx_text = render(inv, "spdx-json")
    assert _spdx_messages(spdx_text, tmp_path) == []
    assert len({p["SPDXID"] for p in json.loads(spdx_text)["packages"]}) == 4  # two files, stdlib, the root


def _deb(samples, tmp_path, name="gobins", version="1.0+b1"):
    """A Debian package made by dpkg-deb holding one Go binary."""
    import shutil
    dpkg = shutil.which("dpkg-deb")
    if dpkg is None:
        pytest.skip("dpkg-deb is not installed (apt install dpkg)")
    root = tmp_path / name
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: amd64\nMaintainer: t <t@example.org>\n"
        "Description: test\n")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "modapp").write_bytes(samples.path("modapp-linux-amd64").read_bytes())
    deb = tmp_path / f"{name}.deb"
    subprocess.run([dpkg, "--build", "--root-owner-group", "-Zgzip", root, deb], check=True,
                   stdout=subprocess.DEVNULL)
    return deb


def test_a_package_scanned_alone_is_the_documents_subject(samples, tmp_path):
    """An SBOM of one .deb describes the package its control file names (its
    purl, as syft and trivy give it), with the Go binary inside it; of two
    packages, neither is the subject."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from helpers import run

    deb = _deb(samples, tmp_path)
    r = run("scan", "--format", "cyclonedx-json", "--reproducible", deb)
    assert r.returncode == 0, r.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(r.stdout.decode()) is None
    doc = json.loads(r.stdout)
    subject = doc["metadata"]["component"]
    assert (subject["name"], subject["version"], subject["purl"]) == \
        ("gobins", "1.0+b1", "pkg:deb/debian/gobins@1.0%2Bb1?arch=amd64")
    apps = [c["name"] for c in doc["components"] if c["type"] == "application"]
    assert apps == [f"{deb}!/usr/bin/modapp"]

    s = run("scan", "--format", "spdx-json", "--timestamp", STAMP, "--serial-number", SERIAL, deb)
    assert s.returncode == 0 and _spdx_messages(s.stdout.decode(), tmp_path) == []
    spdx = json.loads(s.stdout)
    ids = {r["relatedSpdxElement"] for r in spdx["relationships"]
           if r["spdxElementId"] == "SPDXRef-DOCUMENT" and r["relationshipType"] == "DESCRIBES"}
    described = [p for p in spdx["packages"] if p["SPDXID"] in ids]
    assert [(p["name"], p["versionInfo"]) for p in described] == [("gobins", "1.0+b1")]
    refs = [x["referenceLocator"] for x in described[0]["externalRefs"] if x["referenceType"] == "purl"]
    assert refs == ["pkg:deb/debian/gobins@1.0%2Bb1?arch=amd64"]

    other = _deb(samples, tmp_path, "otherbins", "2.0")
    both = json.loads(run("scan", "--format", "cyclonedx-json", "--reproducible", deb, other).stdout)
    assert "purl" not in both["metadata"]["component"]
