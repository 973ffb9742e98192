"""Modules recovered from the pclntab where build info names none (facts.MODULES),
as info, scan and both SBOMs give them.

The oracle is `go version -m` on the original binary: a copy with its build
info zeroed must give, in every command, the modules it lists wherever their
code is in the binary (tests/test_symbols.py `code_in`), with the versions it
lists, marked with the source `pclntab`, and none that it does not list. A
binary with build info gives what it gave before, and its pclntab is never
read (counted, and its reader never imported)."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gomodules
from buildidtool.facts import INFO, SCAN, read_facts
from buildidtool.ops.scan import asked_for, scan
from buildidtool.report import sbom
from buildidtool.tree import NO_LINKS, ScanStats, walk
from helpers import run, scan_one
from test_realworld import npm_file
from test_sbom import _spdx_messages, expected_purls, render
from test_symbols import code_in, listed_modules, without_build_info

SBOM = asked_for(False, True)


@pytest.fixture(scope="module")
def zoo(samples):
    return gomodules.build(samples.go, samples.manifest["go_version"])


def zeroed_module_text(path: Path, out: Path) -> Path:
    """A copy whose build info keeps its Go version but whose module text is
    zeros (what some release pipelines leave): build info that names no modules."""
    from buildidtool.buildinfo import decode_blob, read_build_info
    from buildidtool.formats import Source
    from buildidtool.formats.buildinfo_blob import find_blob
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:
        _, mod = decode_blob(find_blob(Source.of_file(f.fileno())))
    at = data.find(mod)
    assert at > 0
    while at >= 0:  # the varint length before the text stays; the text reads as empty lines only
        data[at:at + len(mod)] = b"\n" * len(mod)
        at = data.find(mod, at + 1)
    out.write_bytes(bytes(data))
    out.chmod(0o755)
    bi = read_build_info(str(out))
    assert bi is not None and not bi.path and not bi.deps and bi.go_version
    return out


def without_any_build_info(path: Path, out: Path, go_version: str) -> Path:
    """without_build_info, also for wasm, where Go writes no blob: its module
    text and every copy of its Go version (runtime.buildVersion, the producers
    section) are zeroed."""
    from buildidtool.buildinfo import decode_blob, read_build_info
    from buildidtool.formats import Source
    from buildidtool.formats.buildinfo_blob import find_blob
    with open(path, "rb") as f:
        blob = find_blob(Source.of_file(f.fileno()))
        _, mod = decode_blob(blob)
    if blob.offset is not None:
        return without_build_info(path, out)
    data = bytearray(path.read_bytes())
    for text in (b"\xff Go buildinf:", mod, go_version.encode()):
        at = data.find(text) if text else -1
        while at >= 0:
            data[at:at + len(text)] = bytes(len(text))
            at = data.find(text, at + 1)
    out.write_bytes(bytes(data))
    out.chmod(0o755)
    assert read_build_info(str(out)) is None
    return out


def table_files(path: Path) -> tuple[str, ...]:
    from buildidtool.ops.symbols import symbols
    return symbols(str(path)).units[0].table.files


def check_modules(go: str, original: Path, modules: list[dict], copy: Path) -> list[dict]:
    """`modules` (a facts record's recovered.modules of `copy`) against `go
    version -m` of the original: every dependency whose code is in the copy's
    table, versions as listed (none where the paths carry none), nothing
    invented, all from the pclntab."""
    deps = listed_modules(go, original)
    got = {m["path"]: m for m in modules}
    assert all(m["source"] == "pclntab" for m in modules)
    files = table_files(copy)
    for dep in deps:
        m = got.get(dep["path"])
        assert m is not None or not code_in(files, dep), f"{dep['path']}: not recovered from {original.name}"
        if m is None:
            continue
        if m["kind"] == "module":
            assert m["version"] == dep["version"], (dep, m)
        else:
            assert m["version"] is None and (m["kind"] == "vendored" or dep["replace"]), (dep, m)
        ev = m["evidence"]
        assert ev["file_count"] >= len(ev["files"]) > 0 and len(ev["files"]) <= 5 and ev["functions"] >= 0
    listed = {d["path"] for d in deps} | {d["replace"][0] for d in deps if d["replace"]}
    assert not [p for p in got if p not in listed], "modules `go version -m` does not list"
    return deps


# ---------------------------------------------------------------- info

@pytest.mark.parametrize("variant", list(gomodules.VARIANTS))
def test_info_of_a_copy_without_build_info(samples, zoo, variant, tmp_path):
    original = zoo[variant]
    copy = without_build_info(original, tmp_path / original.name)
    facts = read_facts(str(copy), INFO)
    assert facts.build_info is None and facts.go_version == samples.manifest["go_version"]
    rec = facts.to_json()["recovered"]
    assert rec["source"] == "pclntab" and rec["error"] is None
    assert rec["go_version_range"] == {"min": "go1.26", "max": None}
    deps = check_modules(samples.go, original, rec["modules"], copy)
    assert len(rec["modules"]) == len(deps) == 7  # every dependency's code is in the zoo
    assert rec["main_module"]["path"] == "example.com/zoo"
    if "vendor" not in variant or "trimpath" in variant:
        got = {m["path"]: m["version"] for m in rec["modules"]}
        assert got["example.com/UpperCase/lib"] == "v1.0.0" and got["example.com/pre"] == "v0.3.0-rc.1"

    text = run("info", copy).stdout.decode()
    assert "\tpclntab\t7 modules recovered (build info names none)\n" in text
    assert "\tmain module\texample.com/zoo\t(pclntab)\n" in text
    for m in rec["modules"]:
        assert f"\tmodule\t{m['path']}\t{m['version'] or '(no version)'}\t(pclntab: " in text
    assert json.loads(run("info", "--json", copy).stdout)["recovered"] == rec
    rows = list(csv.DictReader(io.StringIO(run("info", "--csv", copy).stdout.decode())))
    assert sorted(rows[0]["recovered_modules"].split()) == sorted(
        m["path"] + (f"@{m['version']}" if m["version"] else "") for m in rec["modules"])


def test_info_with_build_info_is_as_before(samples, zoo):
    """Build info names the modules: no `recovered`, and the lines of before."""
    for path in (zoo["plain"], samples.path("modapp-linux-amd64"), samples.path("hello-darwin-universal")):
        facts = read_facts(str(path), INFO)
        assert all(u.recovered is None for u in facts.units)
        record = json.loads(run("info", "--json", path).stdout)
        assert record["recovered"] is None and all(s["recovered"] is None for s in record["slices"])
        text = run("info", path).stdout.decode()
        assert "\tpclntab\t" not in text and "\tmodule\t" not in text and "(pclntab)" not in text
        row = next(csv.DictReader(io.StringIO(run("info", "--csv", path).stdout.decode())))
        assert row["recovered_modules"] == ""


def test_build_info_without_module_text(samples, zoo, tmp_path):
    """Build info whose module text is gone keeps its Go version (it wins) and
    gets the modules from the pclntab."""
    original = zoo["trimpath"]
    copy = zeroed_module_text(original, tmp_path / "zoo")
    facts = read_facts(str(copy), INFO)
    assert facts.build_info is not None and facts.go_version_source == "buildinfo"
    check_modules(samples.go, original, facts.to_json()["recovered"]["modules"], copy)
    assert len(facts.recovered.modules) == 7
    assert scan_one(copy).recovered.to_json() == facts.recovered.to_json()  # scan reads the summary alone


def test_the_issues_example(samples):
    """esbuild 0.28.2 on npm ships without build info: its module, from the table."""
    path = npm_file("@esbuild/linux-x64", "0.28.2", "bin/esbuild")
    facts = read_facts(str(path), INFO)
    assert facts.build_info is None and facts.go_version.startswith("go1.26")
    rec = facts.recovered
    assert [(m.path, m.version, m.source) for m in rec.modules] == [
        ("golang.org/x/sys", "v0.0.0-20220715151400-c0bba94af5f8", "pclntab")]
    assert rec.main_module["path"] == "github.com/evanw/esbuild"
    # Its predecessor with build info lists that module at that version.
    older = npm_file("@esbuild/linux-x64", "0.23.1", "bin/esbuild")
    deps = {d["path"]: d["version"] for d in listed_modules(samples.go, older)}
    assert deps["golang.org/x/sys"] == "v0.0.0-20220715151400-c0bba94af5f8"
    assert read_facts(str(older), INFO).recovered is None


@pytest.mark.parametrize("name", ["modapp-wasip1-wasm", "modapp-plan9-amd64"])
def test_go_version_from_the_table_where_nothing_else_tells(samples, name, tmp_path):
    """wasm and Plan 9 have no version to recover without build info: the
    layout's range stands in, and the modules are still there. (A wasm module
    whose producers section names a Go version of zeros once made build
    info's search for it run on for minutes.)"""
    original = samples.path(name)
    copy = without_any_build_info(original, tmp_path / name, samples.manifest["go_version"])
    facts = read_facts(str(copy), INFO)
    assert facts.go_version is None and facts.go_version_source is None
    rec = facts.to_json()["recovered"]
    assert rec["go_version_range"] == {"min": "go1.26", "max": None}
    # Go's tools read no build info from these formats: the oracle is the same program built for Linux.
    check_modules(samples.go, samples.path("modapp-linux-amd64"), rec["modules"], copy)
    assert [(m["path"], m["version"]) for m in rec["modules"]] == [("example.com/greet", "v1.2.0")]
    text = run("info", copy).stdout.decode()
    assert "\tGo version\tgo1.26 or later (no build info; from the pclntab's layout)\n" in text
    line = run("scan", copy).stdout.decode().rstrip("\n").split("\t")
    assert line[3] == "go1.26 or later (pclntab)"


def test_a_broken_table_is_the_records_note_not_its_error(samples, tmp_path):
    """A pclntab whose function names lie past it: `recovered.error`, the
    record itself fine (scan exits 0)."""
    from buildidtool.formats import Source
    from buildidtool.pcln import table_of
    copy = without_build_info(samples.path("modapp-linux-amd64"), tmp_path / "modapp")
    with open(copy, "rb") as f:
        t = table_of(Source.of_file(f.fileno()))
        raw = t._at.table
        assert t.layout == "go1.20" and t.header.order == "<"
        name_at = t.offset + raw.records_base + raw.funcoffs[5] + 4  # the record's name offset
    data = bytearray(copy.read_bytes())
    data[name_at:name_at + 4] = (0x7FFFFFF0).to_bytes(4, "little")
    copy.write_bytes(bytes(data))
    facts = read_facts(str(copy), INFO)
    assert facts.error is None and facts.go_version is not None
    assert "not within the table" in facts.recovered.error and facts.recovered.modules == ()
    assert facts.to_json()["recovered"]["error"] == facts.recovered.error
    assert f"\tpclntab\terror: {facts.recovered.error}\n" in run("info", copy).stdout.decode()
    r = run("scan", copy)
    assert r.returncode == 0 and b"0 errors" in r.stderr and b"recovered" not in r.stderr


# ---------------------------------------------------------------- scan

def test_scan_records_and_summary(samples, zoo, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    without_build_info(zoo["plain"], tree / "zoo-nobi")
    (tree / "zoo").write_bytes(zoo["plain"].read_bytes())
    (tree / "hello").write_bytes(samples.path("hello-linux-amd64").read_bytes())
    (tree / "notes.txt").write_text("not a binary\n")
    r = run("scan", "--format", "json", tree)
    assert r.returncode == 0, r.stderr
    recs = {Path(x["file"]).name: x for x in map(json.loads, r.stdout.splitlines())}
    check_modules(samples.go, zoo["plain"], recs["zoo-nobi"]["recovered"]["modules"], tree / "zoo-nobi")
    assert recs["zoo-nobi"]["recovered"]["main_module"]["path"] == "example.com/zoo"
    assert recs["zoo"]["recovered"] is None and recs["hello"]["recovered"] is None
    assert recs["notes.txt"]["recovered"] is None
    assert b", 1 file with modules recovered from the pclntab, " in r.stderr

    rows = {Path(x["file"]).name: x for x in csv.DictReader(io.StringIO(run("scan", "--csv", tree).stdout.decode()))}
    want = {m["path"] + (f"@{m['version']}" if m["version"] else "") for m in recs["zoo-nobi"]["recovered"]["modules"]}
    assert set(rows["zoo-nobi"]["recovered_modules"].split()) == want
    assert rows["zoo"]["recovered_modules"] == rows["hello"]["recovered_modules"] == ""

    text = run("scan", tree)
    assert text.stdout.count(b"\n") == 4 and all(line.count(b"\t") == 5 for line in text.stdout.splitlines())
    assert b"modules recovered" in text.stderr
    # Build info only: the summary is the one of before.
    only = run("scan", tree / "zoo", tree / "hello")
    assert b"pclntab" not in only.stderr and b"scanned 2 files: 2 Go files (" in only.stderr


def _names_modules(path: str) -> bool:
    """Whether every unit's build info names modules (its path or
    dependencies), read by the reader test_buildinfo.py holds to Go's."""
    from buildidtool import read_build_info_slices
    from buildidtool.errors import BuildIDError
    try:
        infos = [bi for _, bi in read_build_info_slices(path)]
    except BuildIDError:
        return False
    return all(bi is not None and bool(bi.path or bi.deps) for bi in infos)


def test_scan_of_files_with_build_info_never_reads_the_pclntab(samples, monkeypatch):
    """Counted per file over every sample, as the workers read them: the
    table is looked for only in units whose build info names no modules; and
    a scan of binaries with build info never imports its reader."""
    import buildidtool.pcln as pcln
    from buildidtool.inputs import records

    calls = []
    real_modules, real_table = pcln.unit_modules, pcln.table_of
    monkeypatch.setattr(pcln, "unit_modules", lambda src: calls.append("modules") or real_modules(src))
    monkeypatch.setattr(pcln, "table_of", lambda src, img=None: calls.append("table") or real_table(src, img))
    named = unnamed = 0
    for item in walk([str(samples.dir)], NO_LINKS, ScanStats()):
        names_modules = _names_modules(item.path)
        for asked in (SCAN, SBOM):
            calls.clear()
            (rec,) = records(item, asked)
            if names_modules:
                assert calls == [] and all(u.recovered is None for u in rec.units), item.path
            elif rec.is_go and rec.format in ("elf", "macho", "pe", "macho-fat"):
                assert calls.count("modules") == len(rec.units) == calls.count("table"), item.path
        named += names_modules
        unnamed += not names_modules and rec.is_go
    assert named >= 20 and unnamed >= 1
    names = ("hello-linux-amd64", "modapp-linux-amd64", "hello-darwin-universal", "hello-windows-amd64.exe")
    code = ("import sys\nfrom buildidtool.ops.scan import scan, asked_for\n"
            "from buildidtool.tree import walk, ScanStats, NO_LINKS\n"
            f"files = {[str(samples.path(n)) for n in names]!r}\n"
            "for asked in (asked_for(False, False), asked_for(False, True)):\n"
            "    recs = list(scan(walk(files, NO_LINKS, ScanStats()), 0, asked))\n"
            "    assert len(recs) == 4 and all(r.is_go for r in recs)\n"
            "print([m for m in ('buildidtool.pcln', 'buildidtool.formats.pclntab', 'buildidtool.pclnmodules')"
            " if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr


def test_workers_carry_the_recovered_modules(zoo, tmp_path):
    """SBOM records cross from the workers to the parent: the same document."""
    tree = tmp_path / "t"
    tree.mkdir()
    for v in ("plain", "vendor"):
        without_build_info(zoo[v], tree / v)
    inproc = [r for r in scan(walk([str(tree)], NO_LINKS, ScanStats()), 0, SBOM)]
    forked = list(scan(walk([str(tree)], NO_LINKS, ScanStats()), 2, SBOM))
    assert [r.to_json() for r in forked] == [r.to_json() for r in inproc]
    assert render(sbom.inventory(forked), "spdx-json") == render(sbom.inventory(inproc), "spdx-json")


# ---------------------------------------------------------------- SBOMs

def _validate(tmp_path, cdx_text: str, spdx_text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx_text) is None
    assert _spdx_messages(spdx_text, tmp_path) == []


def _props(c: dict) -> dict:
    return {p["name"]: p["value"] for p in c.get("properties", [])}


@pytest.mark.parametrize("variant", ["plain", "trimpath", "vendor"])
def test_sboms_of_a_copy_without_build_info(samples, zoo, variant, tmp_path):
    original = zoo[variant]
    copy = without_build_info(original, tmp_path / f"zoo-{variant}")
    inv = sbom.inventory([scan_one(copy, sbom=True)], [str(copy)])
    cdx_text, spdx_text = render(inv, "cyclonedx-json"), render(inv, "spdx-json")
    _validate(tmp_path, cdx_text, spdx_text)
    cdx, spdx = json.loads(cdx_text), json.loads(spdx_text)
    deps = listed_modules(samples.go, original)
    listed = {d["path"]: d for d in deps}
    libs = {c["name"]: c for c in cdx["components"] if c["type"] == "library" and c["name"] != "stdlib"}
    assert set(libs) == set(listed)  # every dependency's code is there; none invented
    for name, c in libs.items():
        p = _props(c)
        assert p["buildid:source"] == "pclntab" and p["buildid:pclntab.binary"] == str(copy)
        assert int(p["buildid:pclntab.files"]) > 0 and int(p["buildid:pclntab.functions"]) >= 0
        assert p["buildid:pclntab.sample_files"]
        if "version" in c:
            assert c["version"] == listed[name]["version"]
            assert c["purl"] == sbom.golang_purl(name, c["version"])
        else:  # vendored, or replaced by a directory: the paths carry no version
            assert variant == "vendor" or listed[name]["replace"]
            assert c["purl"] == sbom.golang_purl(name, None)
    app = next(c for c in cdx["components"] if c["type"] == "application")
    ap = _props(app)
    assert ap["buildid:modules_source"] == "pclntab" and ap["buildid:pclntab.modules"] == str(len(libs))
    assert ap["buildid:pclntab.main_module"] == "example.com/zoo"
    assert ap["buildid:pclntab.go_version_range"] == "go1.26 or later"
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in cdx["dependencies"]}
    assert depends[f"file:{copy}"] == {c["purl"] for c in libs.values()} | {
        f"pkg:golang/stdlib@{samples.manifest['go_version'][2:]}"}

    pkgs = {p["name"]: p for p in spdx["packages"]}
    for name, c in libs.items():
        p = pkgs[name]
        assert p.get("versionInfo") == c.get("version")
        assert "pclntab" in p["comment"]
        assert "buildid:source=pclntab" in [a["comment"] for a in p["annotations"]]
    ids = {p["SPDXID"]: p["name"] for p in spdx["packages"]}
    on = {ids[r["relatedSpdxElement"]] for r in spdx["relationships"] if r["relationshipType"] == "DEPENDS_ON"}
    assert on == set(libs) | {"stdlib"}


def test_sboms_with_build_info_are_as_before(samples, zoo, tmp_path):
    """Binaries with build info: what `go version -m` lists, and no pclntab word;
    beside a copy without build info, a module that build info lists keeps its word."""
    copy = without_build_info(zoo["plain"], tmp_path / "zoo-nobi")
    with_bi = [zoo["plain"], samples.path("modapp-linux-amd64")]
    inv = sbom.inventory([scan_one(p, sbom=True) for p in with_bi])
    text = render(inv, "cyclonedx-json")
    for doc in (text, render(inv, "spdx-json")):
        assert not any(word in doc for word in ("buildid:pclntab", "buildid:source", "buildid:modules_source"))
    cdx = json.loads(text)
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in cdx["dependencies"]}
    for p in with_bi:
        m = json.loads(subprocess.run([samples.go, "version", "-m", "-json", str(p)], capture_output=True,
                                      text=True, check=True).stdout)
        assert depends[f"file:{p}"] == expected_purls(m)

    both = sbom.inventory([scan_one(p, sbom=True) for p in (*with_bi, copy)])
    cdx_text, spdx_text = render(both, "cyclonedx-json"), render(both, "spdx-json")
    _validate(tmp_path, cdx_text, spdx_text)
    cdx = json.loads(cdx_text)
    libs = {c["purl"]: c for c in cdx["components"] if c["type"] == "library"}
    gen = libs["pkg:golang/example.net/gen@v0.2.0"]  # in the zoo's build info and the copy's pclntab
    assert "buildid:source" not in _props(gen)
    local = libs["pkg:golang/example.com/local"]  # only the copy's table shows it (without a version)
    assert _props(local)["buildid:source"] == "pclntab" and _props(local)["buildid:pclntab.kind"] == "local"
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in cdx["dependencies"]}
    assert gen["bom-ref"] in depends[f"file:{copy}"] and gen["bom-ref"] in depends[f"file:{zoo['plain']}"]


def test_scan_command_writes_valid_documents(samples, zoo, tmp_path):
    tree = tmp_path / "rel"
    tree.mkdir()
    without_build_info(zoo["trimpath"], tree / "zoo")
    esbuild = npm_file("@esbuild/linux-x64", "0.28.2", "bin/esbuild")
    (tree / "esbuild").write_bytes(esbuild.read_bytes())
    c = run("scan", "--format", "cyclonedx-json", "--reproducible", "-j", "2", tree)
    s = run("scan", "--format", "spdx-json", "--reproducible", tree)
    assert c.returncode == s.returncode == 0, c.stderr
    _validate(tmp_path, c.stdout.decode(), s.stdout.decode())
    assert b"2 files with modules recovered from the pclntab" in c.stderr
    libs = {x["purl"] for x in json.loads(c.stdout)["components"] if x["type"] == "library"}
    assert "pkg:golang/golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8" in libs
    assert "pkg:golang/example.com/pre@v0.3.0-rc.1" in libs
    assert run("scan", "--format", "cyclonedx-json", "--reproducible", "-j", "1", tree).stdout == c.stdout
    assert os.path.exists(tree / "zoo")


def test_hostile_tables_of_files_without_build_info(samples, tmp_path):
    """pclntab mutants (tests/mutations.py) of copies without build info, through
    info and scan: a record every time (a broken table is its `recovered.error`,
    never the record's error or an exception), quickly."""
    import random
    import time

    from buildidtool.errors import BuildIDError
    from mutations import pclntab_mutate
    seeds = [without_build_info(samples.path(n), tmp_path / n).read_bytes()
             for n in ("modapp-linux-amd64", "hello-windows-amd64.exe", "hello-darwin-arm64")]
    errors = 0
    for i in range(int(os.environ.get("BUILDIDTOOL_FUZZ_PCLNTAB", "150")) // 5):
        rng = random.Random(4_000_037 + i)
        kind, blob = pclntab_mutate(rng, rng.choice(seeds))
        path = tmp_path / f"mutant-{i}"
        path.write_bytes(blob)
        t0 = time.process_time()
        try:
            facts = read_facts(str(path), INFO)
        except BuildIDError:
            continue  # the container itself broken: info's one-line error, as before
        rec = scan_one(path, sbom=True)
        assert time.process_time() - t0 < 6, (i, kind)
        for f in (facts, rec):
            assert f.error is None or "pclntab" not in f.error, (i, kind, f.error)
        errors += any(u.recovered is not None and u.recovered.error for u in facts.units)
        json.dumps(facts.to_json())
    assert errors


def test_universal_binary_per_slice(samples, tmp_path):
    """Each slice's build info zeroed: each slice has its own `recovered`, the
    file's record none; the SBOM says so per slice."""
    data = bytearray(samples.path("hello-darwin-universal").read_bytes())
    magic = b"\xff Go buildinf:"
    at = data.find(magic)
    while at >= 0:
        data[at:at + 32] = bytes(32)
        at = data.find(magic, at + 1)
    path = tmp_path / "hello-universal"
    path.write_bytes(bytes(data))
    facts = read_facts(str(path), INFO)
    assert facts.recovered is None and [s.arch for s in facts.slices] == ["amd64", "arm64"]
    for s in facts.slices:
        assert s.build_info is None and s.recovered.modules == () and s.recovered.error is None
        assert str(s.recovered.go_version_range) == "go1.26 or later"
    assert run("info", path).stdout.decode().count("\tpclntab\t0 modules recovered (build info names none)\n") == 2
    props = dict(sbom.properties(scan_one(path, sbom=True)))
    assert props["buildid:slice.amd64.modules_source"] == props["buildid:slice.arm64.modules_source"] == "pclntab"
    assert props["buildid:slice.arm64.pclntab.modules"] == "0" and "buildid:modules_source" not in props
