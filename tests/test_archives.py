"""Looking inside packages and images made at test time by the real tools
(npm pack, wheel pack, dpkg-deb, rpmbuild, skopeo) or assembled here to the
docker-save and OCI image-layout specs. Every Go member found must give the
same read/info/verify facts as the same bytes extracted to a file."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from buildidtool.archives.limits import Limits
from buildidtool.archives.expand import ARCHIVE, LINK, MEMBER, expand, expand_layout
from buildidtool.ops.info import inspect
from buildidtool.ops.read import read
from buildidtool.ops.verify import verify
from helpers import flip_byte, run, scan_records

# Members put in every package: sample name -> name inside the package.
PAYLOAD = {"hello-linux-amd64": "hello", "hello-windows-amd64.exe": "hello.exe",
           "hello-darwin-universal": "hello-mac", "modapp-linux-amd64": "modapp", "lib.a": "lib.a"}
TAMPERED = "hello-tampered"


@pytest.fixture(scope="module")
def payload(samples, tmp_path_factory) -> dict[str, Path]:
    """name in package -> the file it was made from (a tampered copy included)."""
    d = tmp_path_factory.mktemp("payload")
    out = {}
    for sample, name in PAYLOAD.items():
        out[name] = d / name
        shutil.copyfile(samples.path(sample), out[name])
    shutil.copyfile(samples.path("hello-linux-amd64"), d / TAMPERED)
    flip_byte(d / TAMPERED, 0x2000)
    out[TAMPERED] = d / TAMPERED
    (d / "README").write_text("not a binary\n")
    out["README"] = d / "README"
    return out


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (.ci/run installs it from Debian)")
    return path


def _sh(*args, cwd=None):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{args[0]} failed: {proc.stderr[-2000:]}"
    return proc


def items(path: Path, **kw) -> list:
    fd = os.open(path, os.O_RDONLY)
    try:
        out = []
        for it in expand(str(path), fd, kw.pop("limits", Limits()), **kw):
            out.append((it.kind, it.name, it.format, it.error, it.layer, it.link, dict(it.info),
                        list(it.notes), it.fd is not None))
        return out
    finally:
        os.close(fd)


def _same(member: str, extracted: Path) -> None:
    """read, info and verify on the member path equal those on the extracted file."""
    def strip(d):
        d = dict(d)
        d.pop("file", None)
        for s in d.get("slices", []):
            s.pop("file", None)
        return d
    assert strip(read(member).to_json()) == strip(read(str(extracted)).to_json())
    assert strip(inspect(member).to_json()) == strip(inspect(str(extracted)).to_json())
    assert strip(verify(member).to_json()) == strip(verify(str(extracted)).to_json())


def scanned(path, limits=None) -> dict[str, dict]:
    """scan --verify records (with the facts an SBOM needs) by name, in process."""
    return {r["file"]: r for r in (f.to_json() for f in scan_records(path, True, True, limits or Limits()))}


def _nameless(rec: dict) -> dict:
    rec = dict(rec)
    rec.pop("file")
    rec["slices"] = [{k: v for k, v in s.items() if k != "file"} for s in rec["slices"]]
    return rec


def _loose(path: Path) -> dict:
    return _nameless(scan_records(path, True, True)[0].to_json())


def _extract(pkg: Path, dest: Path) -> Path:
    """The package's files as its own tools extract them."""
    dest.mkdir()
    if pkg.suffix == ".deb":
        _sh(_need("dpkg-deb"), "-x", pkg, dest)
    elif pkg.suffix == ".rpm":
        _sh(_need("rpm2archive"), "-n", pkg)  # writes PKG.tar beside the package
        _sh("tar", "-xf", f"{pkg}.tar", "-C", dest)
    elif pkg.suffix == ".whl":
        _sh(_need("unzip"), "-q", pkg, "-d", dest)
    else:
        _sh("tar", "-xzf", pkg, "-C", dest)
    return dest


def _check_package(pkg: Path, prefix: str, payload: dict[str, Path], fmt: str, package: dict) -> None:
    recs = scanned(pkg)
    top = recs.pop(str(pkg))
    assert (top["format"], top["error"]) == (fmt, None), top
    # the package's own metadata names it (the SBOM's subject)
    assert top["package"] == package, top["package"]
    for name, src in payload.items():
        assert f"{pkg}!/{prefix}{name}" in recs, (name, sorted(recs))
    # every regular file the package's own tools extract has a member record equal to its own
    out = _extract(pkg, pkg.parent / f"{pkg.name}.extracted")
    files = sorted(p for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    assert len(files) >= len(payload)
    for f in files:
        member = f"{pkg}!/{f.relative_to(out).as_posix()}"
        assert member in recs, (member, sorted(recs))
        assert _nameless(recs[member]) == _loose(f), member
    assert recs[f"{pkg}!/{prefix}{TAMPERED}"]["status"] == "modified"
    assert recs[f"{pkg}!/{prefix}hello"]["status"] == "ok"
    # read, info and verify by member path, for one member
    _same(f"{pkg}!/{prefix}hello-mac", out / prefix / "hello-mac")


def test_npm_pack(payload, tmp_path):
    npm = _need("npm")
    pkg = tmp_path / "pkg"
    (pkg / "bin").mkdir(parents=True)
    for name, src in payload.items():
        shutil.copyfile(src, pkg / "bin" / name)
    (pkg / "package.json").write_text(json.dumps({"name": "gobins", "version": "1.0.0", "files": ["bin"]}))
    _sh(npm, "pack", "--pack-destination", tmp_path, cwd=pkg)
    _check_package(tmp_path / "gobins-1.0.0.tgz", "package/bin/", payload, "tar.gz",
                   {"type": "npm", "namespace": None, "name": "gobins", "version": "1.0.0", "arch": None})


def test_wheel_with_data_scripts(payload, tmp_path):
    pytest.importorskip("wheel", reason="the wheel tool packs the test wheel")
    root = tmp_path / "gobins-1.0"
    scripts = root / "gobins-1.0.data" / "scripts"
    scripts.mkdir(parents=True)
    info = root / "gobins-1.0.dist-info"
    info.mkdir()
    for name, src in payload.items():
        shutil.copyfile(src, scripts / name)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gobins\nVersion: 1.0\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
                                "Tag: py3-none-linux_x86_64\n")
    _sh(sys.executable, "-m", "wheel", "pack", root, "-d", tmp_path)
    _check_package(tmp_path / "gobins-1.0-py3-none-linux_x86_64.whl", "gobins-1.0.data/scripts/", payload, "zip",
                   {"type": "pypi", "namespace": None, "name": "gobins", "version": "1.0", "arch": None})


@pytest.mark.parametrize("comp", ["xz", "gzip", "zstd", "none"])
def test_deb(payload, tmp_path, comp):
    dpkg = _need("dpkg-deb")
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: gobins\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: test\n")
    (root / "usr" / "bin").mkdir(parents=True)
    for name, src in payload.items():
        shutil.copyfile(src, root / "usr" / "bin" / name)
    os.symlink("hello", root / "usr" / "bin" / "hello-link")
    deb = tmp_path / "gobins.deb"
    _sh(dpkg, "--build", "--root-owner-group", f"-Z{comp}", "-z1", root, deb)  # -z1: fast, same format
    _check_package(deb, "usr/bin/", payload, "deb",
                   {"type": "deb", "namespace": "debian", "name": "gobins", "version": "1.0", "arch": "amd64"})
    links = [it for it in items(deb) if it[0] == LINK]
    assert [(n, l) for _, n, _, _, _, l, *_ in links] == [(f"{deb}!/usr/bin/hello-link", "symlink to hello")]


@pytest.mark.parametrize("comp", ["w1.gzdio", "w1.bzdio", "w1.xzdio", "w3.zstdio"])
def test_rpm(payload, tmp_path, comp):
    rpmbuild = _need("rpmbuild")
    top = tmp_path / "rpm"
    src = tmp_path / "src"
    src.mkdir()
    for name, p in payload.items():
        shutil.copyfile(p, src / name)
    spec = tmp_path / "gobins.spec"
    spec.write_text(f"""Name: gobins
Version: 1.0
Release: 1
Summary: test
License: BSD
BuildArch: noarch
%global debug_package %{{nil}}
%global __os_install_post %{{nil}}
%global _build_id_links none
%global _binary_payload {comp}
%description
test
%install
mkdir -p %{{buildroot}}/usr/bin
cp -p {src}/* %{{buildroot}}/usr/bin/
%files
/usr/bin/*
""")
    _sh(rpmbuild, "-bb", "--define", f"_topdir {top}", "--define", "__strip /bin/true", spec)
    rpm = next((top / "RPMS").rglob("*.rpm"))
    _check_package(rpm, "usr/bin/", payload, "rpm",
                   {"type": "rpm", "namespace": None, "name": "gobins", "version": "1.0-1", "arch": "noarch"})


# --- images, assembled to the specs -----------------------------------------------------

def _layer(files: dict[str, bytes | None]) -> bytes:
    """An uncompressed layer tar; None makes a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o755
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _layers(payload) -> list[dict]:
    hello = payload["hello"].read_bytes()
    return [
        {"usr/": None, "usr/bin/": None, "usr/bin/hello": hello, "usr/bin/gone": hello,
         "opt/": None, "opt/d/": None, "opt/d/old": payload["modapp"].read_bytes()},
        {"usr/bin/.wh.gone": b"", "opt/d/.wh..wh..opq": b"", "opt/d/new": hello,
         "usr/bin/hello": payload[TAMPERED].read_bytes(), "usr/bin/hello.exe": payload["hello.exe"].read_bytes()},
    ]


def _sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _add(t: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))


def docker_save(path: Path, layers: list[bytes], tag="example/gobins:1") -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [_sha(l) for l in layers]}}).encode()
    cfg_hex = _sha(config).split(":")[1]
    with tarfile.open(path, "w") as t:
        names = []
        for i, layer in enumerate(layers):
            d = hashlib.sha256(b"layer%d" % i).hexdigest()
            _add(t, f"{d}/layer.tar", layer)
            names.append(f"{d}/layer.tar")
        _add(t, f"{cfg_hex}.json", config)
        _add(t, "manifest.json", json.dumps([{"Config": f"{cfg_hex}.json", "RepoTags": [tag],
                                              "Layers": names}]).encode())
    return _sha(config)


def oci_layout(root: Path, layers: list[bytes], ref="1.0") -> str:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(b: bytes) -> str:
        (blobs / _sha(b).split(":")[1]).write_bytes(b)
        return _sha(b)
    descs = []
    for layer in layers:
        gz = gzip.compress(layer, 1)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(gz),
                      "size": len(gz)})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [_sha(l) for l in layers]}}).encode()
    cfg = put(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg,
                                      "size": len(config)}, "layers": descs}).encode()
    m = put(manifest)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": ref}}]}))
    return cfg


def _image_checks(image: str, found: list, payload, fmt: str) -> None:
    members = {n: layer for kind, n, _, _, layer, *_ in found if kind == MEMBER}
    assert set(members) == {f"{image}!/usr/bin/hello", f"{image}!/usr/bin/hello.exe", f"{image}!/opt/d/new"}
    recs = scanned(image)
    for name, src in (("usr/bin/hello", TAMPERED), ("usr/bin/hello.exe", "hello.exe"), ("opt/d/new", "hello")):
        rec = _nameless(recs[f"{image}!/{name}"])
        assert rec.pop("layer").startswith("sha256:")
        assert rec == _loose(payload[src])
    rec = found[-1]
    assert rec[0] == ARCHIVE and rec[2] == fmt and rec[3] is None
    assert verify(f"{image}!/usr/bin/hello").status == "modified"  # the upper layer's tampered copy
    _same(f"{image}!/usr/bin/hello", payload[TAMPERED])
    _same(f"{image}!/usr/bin/hello.exe", payload["hello.exe"])
    assert "no such member" in _error(f"{image}!/usr/bin/gone")  # whited out
    assert "no such member" in _error(f"{image}!/opt/d/old")  # under an opaque directory


def _error(member: str) -> str:
    try:
        read(member)
    except Exception as e:
        return str(e)
    return ""


def test_docker_save_squashed_and_all_layers(payload, tmp_path):
    layers = [_layer(l) for l in _layers(payload)]
    img = tmp_path / "img.tar"
    cfg = docker_save(img, layers)
    found = items(img)
    _image_checks(str(img), found, payload, "docker-image")
    assert found[-1][6]["repo_tags"] == ["example/gobins:1"] and found[-1][6]["config_digest"] == cfg
    assert found[-1][6]["layers"] == [_sha(l) for l in layers]
    gz = tmp_path / "img.tar.gz"  # docker save | gzip
    gz.write_bytes(gzip.compress(img.read_bytes(), 1))
    found_gz = items(gz)
    _image_checks(str(gz), found_gz, payload, "docker-image")
    assert found_gz[-1][7] == ["gzip-compressed image, decompressed to a temporary file first"]
    every = items(img, all_layers=True)
    hellos = [(n.rsplit("!/", 1)[1], layer) for kind, n, _, _, layer, *_ in every if kind == MEMBER]
    assert ("usr/bin/hello", _sha(layers[0])) in hellos and ("usr/bin/hello", _sha(layers[1])) in hellos
    assert ("usr/bin/gone", _sha(layers[0])) in hellos and ("opt/d/old", _sha(layers[0])) in hellos


def test_oci_layout_directory_and_archive(payload, tmp_path):
    layers = [_layer(l) for l in _layers(payload)]
    root = tmp_path / "layout"
    cfg = oci_layout(root, layers)
    found = [(it.kind, it.name, it.format, it.error, it.layer, it.link, dict(it.info), it.notes, it.fd is not None)
             for it in expand_layout(str(root), Limits())]
    _image_checks(str(root), found, payload, "oci-image")
    assert found[-1][6]["config_digest"] == cfg and found[-1][6]["repo_tags"] == ["1.0"]
    proc = run("scan", "--json", "--verify", root)  # a layout directory named on the command line
    recs = {r["file"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert proc.returncode == 1 and recs[str(root)]["format"] == "oci-image"
    assert recs[f"{root}!/usr/bin/hello"]["status"] == "modified"
    assert recs[f"{root}!/usr/bin/hello.exe"]["status"] == "ok"
    archive = tmp_path / "img-oci.tar"
    with tarfile.open(archive, "w") as t:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                t.add(p, str(p.relative_to(root)))
    _image_checks(str(archive), items(archive), payload, "oci-image")


def test_skopeo_converts_what_we_read(payload, tmp_path):
    skopeo = _need("skopeo")
    layers = [_layer(l) for l in _layers(payload)]
    img = tmp_path / "img.tar"
    docker_save(img, layers)
    out = tmp_path / "skopeo-oci.tar"
    _sh(skopeo, "copy", "--quiet", f"docker-archive:{img}", f"oci-archive:{out}:gobins:1")
    _image_checks(str(out), items(out), payload, "oci-image")
    layout = tmp_path / "skopeo-layout"
    _sh(skopeo, "copy", "--quiet", f"docker-archive:{img}", f"oci:{layout}:gobins:1")
    found = [(it.kind, it.name, it.format, it.error, it.layer, it.link, dict(it.info), it.notes, it.fd is not None)
             for it in expand_layout(str(layout), Limits())]
    _image_checks(str(layout), found, payload, "oci-image")


def test_nested_and_depth_limit(payload, tmp_path):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(payload["hello"], "bin/hello")
    mid = tmp_path / "mid.tar.xz"
    with tarfile.open(mid, "w:xz") as t:
        t.add(inner, "inner.zip")
    outer = tmp_path / "outer.tar"
    with tarfile.open(outer, "w") as t:
        t.add(mid, "dist/mid.tar.xz")
    member = f"{outer}!/dist/mid.tar.xz!/inner.zip!/bin/hello"
    names = [n for kind, n, *_ in items(outer) if kind == MEMBER]
    assert names == [member]
    _same(member, payload["hello"])
    shallow = items(outer, limits=Limits(max_depth=2))
    assert not [n for kind, n, *_ in shallow if kind == MEMBER]
    assert [e for kind, n, _, e, *_ in shallow if kind == ARCHIVE and n.endswith("inner.zip")] == \
        ["nesting depth 3 exceeds --max-depth 2"]


def test_cli_member_paths_and_rewrite_refusal(payload, tmp_path):
    z = tmp_path / "rel.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(payload["hello"], "hello")
    before = z.read_bytes()
    member = f"{z}!/hello"
    assert run("read", member).stdout == run("read", payload["hello"]).stdout
    assert run("hash", member).stdout == run("hash", payload["hello"]).stdout
    assert run("verify", member).returncode == 0
    assert run("diff", member, payload["hello"]).returncode == 0  # the same build
    for args in (["rewrite", member], ["rewrite", "--dry-run", member], ["-w", member]):
        proc = run(*args)
        assert proc.returncode != 0
        assert proc.stderr.decode().count("\n") == 1 and "cannot be rewritten" in proc.stderr.decode()
    assert z.read_bytes() == before
    proc = run("read", f"{z}!/missing")
    assert proc.returncode == 2 and b"no such member" in proc.stderr


def test_scan_cli_flags_and_exit_codes(payload, tmp_path):
    d = tmp_path / "dist"
    d.mkdir()
    with tarfile.open(d / "rel.tar.gz", "w:gz") as t:
        t.add(payload["hello"], "bin/hello")
    layers = [_layer(l) for l in _layers(payload)]
    docker_save(d / "img.tar", layers)

    def scan(*args):
        proc = run("scan", "--json", *args)
        return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr.decode()

    code, recs, err = scan("--verify", d)
    names = {r["file"]: r for r in recs}
    assert code == 1  # the image's upper layer holds a tampered copy
    assert names[f"{d}/rel.tar.gz!/bin/hello"]["status"] == "ok"
    assert names[f"{d}/img.tar!/usr/bin/hello"]["status"] == "modified"
    assert names[f"{d}/img.tar"]["repo_tags"] == ["example/gobins:1"]
    assert err.count("\n") == 1 and err.startswith("scanned ")

    code, recs, _ = scan("--no-archives", d)
    assert code == 0 and sorted((r["file"], r["format"]) for r in recs) == [
        (f"{d}/img.tar", "unknown"), (f"{d}/rel.tar.gz", "unknown")]

    code, recs, _ = scan("--all-layers", d / "img.tar")
    hellos = [r["layer"] for r in recs if r["file"] == f"{d}/img.tar!/usr/bin/hello"]
    assert hellos == [_sha(l) for l in layers]

    code, recs, _ = scan("--max-depth", "1", "--max-members", "2", d / "img.tar")
    assert code == 2 and recs[-1]["error"] == "member count exceeds --max-members 2"

    (d / "broken.tar.gz").write_bytes((d / "rel.tar.gz").read_bytes()[:-200])
    code, recs, err = scan(d / "broken.tar.gz")
    assert code == 2 and recs[-1]["file"] == f"{d}/broken.tar.gz" and recs[-1]["error"]
    assert "Traceback" not in err

    (d / "half.tar.gz").write_bytes((d / "rel.tar.gz").read_bytes()[:20000])
    for cmd in ("read", "info", "verify", "hash"):
        proc = run(cmd, f"{d}/half.tar.gz!/bin/hello")
        assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1, (cmd, proc.stderr)
        assert b"truncated" in proc.stderr and b"Traceback" not in proc.stderr

    proc = run("scan", "--max-member-size", "lots", d)
    assert proc.returncode == 2 and b"is not a size" in proc.stderr


def test_lone_compressed_files(payload, tmp_path):
    """A gzip-compressed binary is opened; a compressed man page stays one plain record."""
    (tmp_path / "tool.gz").write_bytes(gzip.compress(payload["hello"].read_bytes(), 1))
    (tmp_path / "tool.1.gz").write_bytes(gzip.compress(b".TH TOOL 1\n" * 100))
    recs = {r["file"]: r for r in (f.to_json() for f in scan_records(tmp_path / "tool.gz", True, True, Limits()))}
    assert recs[f"{tmp_path}/tool.gz"]["format"] == "gzip"
    assert _nameless(recs[f"{tmp_path}/tool.gz!/tool"]) == _loose(payload["hello"])
    recs = [f.to_json() for f in scan_records(tmp_path / "tool.1.gz", True, archives=Limits())]
    assert [(r["file"], r["format"]) for r in recs] == [(f"{tmp_path}/tool.1.gz", "unknown")]


def test_large_inputs_spread_over_workers(payload, tmp_path):
    """Two packages in a row go to two workers (batches are cut by input size and
    an idle worker is fed first), and the records come out as with no workers."""
    from buildidtool.ops.scan import _item_cost, asked_for, scan
    from buildidtool.tree import NO_LINKS, ScanStats, walk
    from buildidtool.workers import ordered

    for name in ("a", "b"):
        with tarfile.open(tmp_path / f"{name}.tar", "w") as t:
            t.add(payload["hello"], "bin/hello")
            t.add(payload[TAMPERED], "bin/tampered")
    (tmp_path / "c.txt").write_text("small\n")
    walked = list(walk([str(tmp_path)], NO_LINKS, ScanStats()))
    paths = [w.path for w in walked]  # what scan hands the workers
    assert all(_item_cost(p) > 1 << 20 for p in paths[:2])
    pids = list(ordered(paths, lambda p: os.getpid(), lambda p, m: m, list, jobs=2, batch_items=4,
                        cost=_item_cost))
    assert len(pids[0]) == len(pids[1]) == 1 and pids[0] != pids[1], pids
    serial = list(scan(walked, 0, asked_for(True, False), archives=Limits()))
    assert list(scan(walked, 2, asked_for(True, False), archives=Limits())) == serial
    assert [r.file for r in serial][:3] == [f"{tmp_path}/a.tar!/bin/hello", f"{tmp_path}/a.tar!/bin/tampered",
                                               f"{tmp_path}/a.tar"]


def test_zip_members_read_in_one_pread_equal_zipfile(payload, tmp_path):
    """A zip member's first 32 KiB is inflated straight from the file (one pread,
    one inflate): its record equals the record of the same bytes loose, stored or
    deflated, smaller or larger than 32 KiB, a binary (spooled in full through
    zipfile) or not; a member whose CRC does not match stops the archive as zipfile does."""
    exe = payload["hello"].read_bytes()
    marker = b"text\n" * 100 + b'\xff Go build ID: "abc/def"\n \xff' + b"more\n" * 100
    members = {"stored.txt": (b"plain text\n" * 50, zipfile.ZIP_STORED),
               "deflated.txt": (b"plain text\n" * 50, zipfile.ZIP_DEFLATED),
               "big.bin": (os.urandom(100_000), zipfile.ZIP_DEFLATED),
               "big-stored.bin": (os.urandom(100_000), zipfile.ZIP_STORED),
               "A.class": (b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(200), zipfile.ZIP_DEFLATED),
               "marker.txt": (marker, zipfile.ZIP_DEFLATED),
               "bin/hello": (exe, zipfile.ZIP_DEFLATED), "empty": (b"", zipfile.ZIP_DEFLATED)}
    z = tmp_path / "a.jar"
    with zipfile.ZipFile(z, "w") as zf:
        for name, (data, method) in members.items():
            zf.writestr(name, data, compress_type=method)
    loose = tmp_path / "loose"
    for name, (data, _) in members.items():
        (loose / name).parent.mkdir(parents=True, exist_ok=True)
        (loose / name).write_bytes(data)
    recs = {r["file"]: r for r in (f.to_json() for f in scan_records(z, archives=Limits()))}
    assert recs.pop(str(z))["error"] is None
    for name in members:
        want = _nameless(scan_records(loose / name)[0].to_json())
        assert _nameless(recs[f"{z}!/{name}"]) == want, name
    assert recs[f"{z}!/bin/hello"]["build_id"] and recs[f"{z}!/marker.txt"]["build_id"] == "abc/def"
    # a flipped byte in the deflated text: zipfile's CRC check, as before
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("deflated.txt")
    data[info.header_offset + 30 + len("deflated.txt") + 2] ^= 0x01
    z.write_bytes(bytes(data))
    top = [r.to_json() for r in scan_records(z, archives=Limits()) if r.file == str(z)][0]
    assert top["error"] == "corrupt archive: Bad CRC-32 for file 'deflated.txt'", top
