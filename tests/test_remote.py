"""Remote inputs against real servers on loopback: Debian's docker-registry
(filled by skopeo copy, with and without htpasswd auth) and nginx (byte ranges
on and off). Every record of an image scanned from the registry must equal
the record of the same image scanned from its local OCI layout or docker-save
copy (modulo names), and every read/info/verify/hash of a URL that of the same
file read locally. Hostile inputs (refused, unknown host, 401/404, a blob
that does not match its digest, a manifest that lies about sizes, a cut-off
stream, no image for the platform) give one line, exit 2, and leave the other
inputs of a scan alone."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import urllib.request
from pathlib import Path

import pytest

from buildidtool.archives.limits import Limits
from buildidtool.archives.platforms import host as host_platform
from buildidtool.ops.hash import hash_file
from buildidtool.ops.info import inspect
from buildidtool.ops.read import read
from buildidtool.ops.verify import verify
from buildidtool.remote.refs import BadReference, is_reference, parse_image
from helpers import run, scan_records
from servers import Nginx, Registry, TokenServer, docker_config, free_port, need
from test_archives import TAMPERED, _layer, _layers, _nameless, docker_save, oci_layout, payload  # noqa: F401

pytestmark = pytest.mark.skipif(host_platform().arch != "amd64", reason="the images' default platform is linux/amd64")


def _sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _strip(d: dict) -> dict:
    d = dict(d)
    d.pop("file", None)
    d["slices"] = [{k: v for k, v in s.items() if k != "file"} for s in d.get("slices", [])]
    return d


def _by_member(recs) -> dict[str, dict]:
    """Records by member name (what follows the first `!/`), the image's own under ''."""
    out = {}
    for r in recs:
        r = r.to_json() if hasattr(r, "to_json") else r
        out[r["file"].split("!/", 1)[1] if "!/" in r["file"] else ""] = r
    return out


def multi_layout(root: Path, per_platform: dict[str, bytes], ref="multi") -> dict[str, str]:
    """An OCI layout whose index.json points at an image index of one image per
    platform (as `docker buildx` writes it); platform -> manifest digest."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(b: bytes) -> str:
        (blobs / _sha(b).split(":")[1]).write_bytes(b)
        return _sha(b)
    entries, digests = [], {}
    for plat, layer in per_platform.items():
        os_, arch = plat.split("/")[:2]
        gz = gzip.compress(layer, 1)
        config = json.dumps({"architecture": arch, "os": os_,
                             "rootfs": {"type": "layers", "diff_ids": [_sha(layer)]}}).encode()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config),
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(gz),
                        "size": len(gz)}]}).encode()
        digests[plat] = put(manifest)
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digests[plat],
                        "size": len(manifest), "platform": {"architecture": arch, "os": os_}})
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": entries}).encode()
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(index), "size": len(index),
         "annotations": {"org.opencontainers.image.ref.name": ref}}]}))
    digests["index"] = _sha(index)
    return digests


def zstd_layout(root: Path, layers: list[bytes]) -> None:
    """The OCI layout of oci_layout with zstd-compressed layers (tar+zstd)."""
    import zstandard
    oci_layout(root, layers)
    index = json.loads((root / "index.json").read_text())
    blobs = root / "blobs" / "sha256"
    manifest = json.loads((blobs / index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    for desc, layer in zip(manifest["layers"], layers):
        z = zstandard.ZstdCompressor(level=3).compress(layer)
        (blobs / _sha(z).split(":")[1]).write_bytes(z)
        desc.update(mediaType="application/vnd.oci.image.layer.v1.tar+zstd", digest=_sha(z), size=len(z))
    body = json.dumps(manifest).encode()
    (blobs / _sha(body).split(":")[1]).write_bytes(body)
    index["manifests"][0].update(digest=_sha(body), size=len(body))
    (root / "index.json").write_text(json.dumps(index))


# --- servers, once per module ------------------------------------------------------------

@pytest.fixture(scope="module")
def images(payload, samples, tmp_path_factory):  # noqa: F811
    """Local copies of the test images: an OCI layout, a docker-save tar, a two-platform layout."""
    d = tmp_path_factory.mktemp("images")
    layers = [_layer(l) for l in _layers(payload)]
    oci_layout(d / "layout", layers)
    docker_save(d / "img.tar", layers)
    multi = multi_layout(d / "multi", {
        "linux/amd64": _layer({"usr/": None, "usr/bin/": None,
                               "usr/bin/tool": samples.path("hello-linux-amd64").read_bytes()}),
        "linux/arm64": _layer({"usr/": None, "usr/bin/": None,
                               "usr/bin/tool": samples.path("hello-linux-arm64").read_bytes()})})
    zstd_layout(d / "zstd", layers)
    return {"dir": d, "layout": d / "layout", "tar": d / "img.tar", "multi": d / "multi", "multi_digests": multi,
            "zstd": d / "zstd"}


@pytest.fixture(scope="module")
def registry(images, tmp_path_factory, request):
    reg = Registry(tmp_path_factory.mktemp("registry"))
    request.addfinalizer(reg.stop)
    reg.push(f"oci:{images['layout']}:1.0", "gobins:1")
    reg.push(f"docker-archive:{images['tar']}", "gobins:docker")
    reg.push(f"oci:{images['multi']}:multi", "multi:1", all_platforms=True)
    reg.push(f"oci:{images['zstd']}:1.0", "gobins:zstd")
    return reg


@pytest.fixture(scope="module")
def auth_registry(images, tmp_path_factory, request):
    reg = Registry(tmp_path_factory.mktemp("auth-registry"), users={"tester": "s3cret-pass"})
    request.addfinalizer(reg.stop)
    reg.push(f"oci:{images['layout']}:1.0", "gobins:1")
    return reg


@pytest.fixture(scope="module")
def files(payload, images, samples, tmp_path_factory):  # noqa: F811
    """What nginx serves: the samples, a tar.gz of one, the docker-save image,
    and a 52 MB file (a real binary followed by zeros)."""
    root = tmp_path_factory.mktemp("www")
    for name in ("hello-linux-amd64", "hello-darwin-universal", "hello-windows-amd64.exe", "modapp-linux-amd64"):
        shutil.copyfile(samples.path(name), root / name)
    shutil.copyfile(payload[TAMPERED], root / TAMPERED)
    with tarfile.open(root / "rel.tar.gz", "w:gz") as t:
        t.add(samples.path("hello-linux-amd64"), "bin/hello")
    shutil.copyfile(images["tar"], root / "img.tar")
    big = root / "big"
    shutil.copyfile(samples.path("hello-linux-amd64"), big)
    with open(big, "r+b") as f:
        f.truncate(52 << 20)
    return root


@pytest.fixture(scope="module")
def nginx(files, tmp_path_factory, request):
    ng = Nginx(files, tmp_path_factory.mktemp("nginx"))
    request.addfinalizer(ng.stop)
    return ng


@pytest.fixture(scope="module")
def nginx_no_ranges(files, tmp_path_factory, request):
    ng = Nginx(files, tmp_path_factory.mktemp("nginx-noranges"), ranges=False)
    request.addfinalizer(ng.stop)
    return ng


NO_RANGES = "the server does not serve byte ranges: the whole file was downloaded once"


def _scan_json(*args, env=None):
    proc = subprocess.run([*__import__("helpers").BUILDID, "scan", "--json", *map(str, args)], capture_output=True,
                          timeout=300, env=env)
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr.decode()


# --- references ---------------------------------------------------------------------------

def test_reference_grammar(tmp_path, monkeypatch):
    r = parse_image("registry:127.0.0.1:5000/team/app:v1.2")
    assert (r.host, r.repo, r.tag, r.digest) == ("127.0.0.1:5000", "team/app", "v1.2", None)
    d = "sha256:" + "ab" * 32
    r = parse_image(f"registry:localhost/app:1@{d}")
    assert (r.host, r.repo, r.tag, r.digest, r.wanted) == ("localhost", "app", "1", d, d)
    assert r.pinned("sha256:" + "cd" * 32) == "registry:localhost/app:1@sha256:" + "cd" * 32
    r = parse_image("registry:alpine")  # Docker Hub, as docker and syft read it
    assert (r.host, r.api_host, r.repo, r.tag) == ("docker.io", "registry-1.docker.io", "library/alpine", "latest")
    for bad in ("registry:", "registry:Host.example/UPPER", "registry:h.example/app:bad tag", "registry:a@sha256:12"):
        with pytest.raises(BadReference):
            parse_image(bad)
    assert is_reference("registry:h.example/app") and is_reference("https://h.example/x")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "registry:app").write_bytes(b"local")
    assert not is_reference("registry:app")  # a file of that name is the file, as for ARCHIVE!/MEMBER
    proc = run("read", "registry:nonexistent.invalid/app:1")
    assert proc.returncode == 2 and b"is an image: name a file in it" in proc.stderr


# --- registries ---------------------------------------------------------------------------

def test_registry_scan_equals_local_oci_layout(registry, images):
    ref = f"registry:{registry.host}/gobins:1"
    remote = scan_records(ref, True, True, Limits())
    local = scan_records(images["layout"], True, True, Limits())
    rem, loc = _by_member(remote), _by_member(local)
    assert set(rem) == set(loc) == {"", "usr/bin/hello", "usr/bin/hello.exe", "opt/d/new"}
    for name in ("usr/bin/hello", "usr/bin/hello.exe", "opt/d/new"):
        assert _strip(rem[name]) == _strip(loc[name]), name
    assert rem["usr/bin/hello"]["status"] == "modified"  # the upper layer's tampered copy, as locally
    img, limg = rem[""], loc[""]
    head = urllib.request.urlopen(urllib.request.Request(
        f"http://{registry.host}/v2/gobins/manifests/1", method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}))
    digest = head.headers["Docker-Content-Digest"]
    assert img["file"] == f"{ref}@{digest}" and img["digest"] == digest
    assert all(r.file.startswith(f"{ref}@{digest}!/") for r in remote[:-1])
    for key in ("format", "config_digest", "layers", "members", "error"):
        assert img[key] == limg[key], key
    assert img["repo_tags"] == [f"{registry.host}/gobins:1"]
    # the pinned name reads the same member again
    pinned = rem["usr/bin/hello.exe"]["file"]
    assert _strip(read(pinned).to_json()) == _strip(read(str(images["dir"] / "layout")
                                                           + "!/usr/bin/hello.exe").to_json())
    code, recs, err = _scan_json(ref)
    assert code == 0 and len(recs) == 4 and "0 errors" in err
    proc = run("scan", "--format", "cyclonedx-json", ref)  # an SBOM of an image by reference
    names = {c["name"] for c in json.loads(proc.stdout)["components"]}
    assert proc.returncode == 0 and {"hello", "hello.exe", "new"} <= {n.rsplit("/", 1)[-1] for n in names}


def test_registry_zstd_layers_equal_local(registry, images):
    ref = f"registry:{registry.host}/gobins:zstd"
    rem = _by_member(scan_records(ref, True, True, Limits()))
    loc = _by_member(scan_records(images["zstd"], True, True, Limits()))
    assert set(rem) == set(loc) == {"", "usr/bin/hello", "usr/bin/hello.exe", "opt/d/new"}
    for name in ("usr/bin/hello", "usr/bin/hello.exe", "opt/d/new"):
        assert _strip(rem[name]) == _strip(loc[name]), name
    assert rem[""]["layers"] == loc[""]["layers"] and rem[""]["error"] is None


def test_registry_docker_schema2_equals_docker_save(registry, images):
    ref = f"registry:{registry.host}/gobins:docker"
    rem = _by_member(scan_records(ref, True, True, Limits()))
    loc = _by_member(scan_records(images["tar"], True, True, Limits()))
    assert rem[""]["format"] == "docker-image" and rem[""]["config_digest"] == loc[""]["config_digest"]
    for name in ("usr/bin/hello", "usr/bin/hello.exe", "opt/d/new"):
        # skopeo compresses the layers it pushes: the layer digest is the blob's, not the tar's
        a, b = _strip(rem[name]), _strip(loc[name])
        a.pop("layer"), b.pop("layer")
        assert a == b, name


def test_registry_member_paths_for_every_command(registry, payload, images):  # noqa: F811
    ref = f"registry:{registry.host}/gobins:1"
    for member, local in (("usr/bin/hello.exe", payload["hello.exe"]), ("usr/bin/hello", payload[TAMPERED])):
        path = f"{ref}!/{member}"
        assert _strip(read(path).to_json()) == _strip(read(str(local)).to_json())
        assert _strip(inspect(path).to_json()) == _strip(inspect(str(local)).to_json())
        assert _strip(verify(path).to_json()) == _strip(verify(str(local)).to_json())
        assert [_strip(h.to_json()) for h in hash_file(path)] == [_strip(h.to_json()) for h in hash_file(str(local))]
    exe = f"{ref}!/usr/bin/hello.exe"
    assert run("read", exe).stdout == run("read", payload["hello.exe"]).stdout
    assert run("hash", exe).stdout == run("hash", payload["hello.exe"]).stdout
    assert run("verify", exe).returncode == 0
    assert run("diff", exe, payload["hello.exe"]).returncode == 0
    for args in (["rewrite", exe], ["rewrite", "--dry-run", exe], ["-w", exe]):
        proc = run(*args)
        assert proc.returncode != 0 and proc.stderr.count(b"\n") == 1
        assert b"is a remote input and cannot be rewritten" in proc.stderr
    proc = run("read", f"{ref}!/usr/bin/gone")  # whited out in the upper layer
    assert proc.returncode == 2 and b"no such member" in proc.stderr and proc.stderr.count(b"\n") == 1


def test_registry_platforms(registry, images, samples):
    ref = f"registry:{registry.host}/multi:1"
    digests = images["multi_digests"]
    amd = samples.path("hello-linux-amd64")
    arm = samples.path("hello-linux-arm64")
    loose = {p: _strip(scan_records(f, True, True)[0].to_json()) for p, f in (("amd64", amd), ("arm64", arm))}

    def tools(platform):
        recs = scan_records(ref, True, True, Limits(platform=platform))
        return {r.file: r.to_json() for r in recs}

    got = tools(None)  # the machine's own: linux/amd64 here
    (name,) = [n for n in got if n.endswith("!/usr/bin/tool")]
    assert name == f"{ref}@{digests['linux/amd64']}!/usr/bin/tool"
    rec = _strip(got[name])
    assert rec.pop("layer").startswith("sha256:") and rec == loose["amd64"]
    img = got[f"{ref}@{digests['linux/amd64']}"]
    assert (img["platform"], img["index"]) == ("linux/amd64", digests["index"])
    got = tools("linux/arm64")
    assert _strip(got[f"{ref}@{digests['linux/arm64']}!/usr/bin/tool"])["arch"] == "arm64"
    got = tools("all")
    assert {n for n in got if n.endswith("/tool")} == {f"{ref}@{digests[p]}!/usr/bin/tool"
                                                       for p in ("linux/amd64", "linux/arm64")}
    # the same choice on the local layout
    local = {r.file: r.to_json() for r in scan_records(images["multi"], True, True, Limits())}
    layout = str(images["multi"])
    assert _strip(local[f"{layout}!/usr/bin/tool"]) == _strip(got[f"{ref}@{digests['linux/amd64']}!/usr/bin/tool"])
    assert "linux/amd64 was read" in " ".join(local[layout]["notes"])
    local = {r.file: r.to_json() for r in scan_records(images["multi"], True, True, Limits(platform="all"))}
    pinned = f"{layout}@{digests['linux/arm64']}!/usr/bin/tool"
    assert local[pinned]["arch"] == "arm64"
    assert run("read", pinned).stdout == run("read", arm).stdout  # a pinned local name opens too
    # no image for the platform: one error record, exit 2, the other input read
    code, recs, err = _scan_json("--platform", "linux/s390x", ref, amd)
    assert code == 2 and [r["file"] for r in recs] == [ref, str(amd)]
    assert "no image for platform linux/s390x" in recs[0]["error"] and "linux/amd64, linux/arm64" in recs[0]["error"]
    assert recs[1]["error"] is None and recs[1]["build_id"]
    proc = run("scan", "--platform", "nonsense", ref)
    assert proc.returncode == 2 and b"not a platform" in proc.stderr


def test_registry_basic_auth_with_docker_config(auth_registry, payload, tmp_path):  # noqa: F811
    ref = f"registry:{auth_registry.host}/gobins:1"
    member = f"{ref}!/usr/bin/hello.exe"
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONFIG"}
    env["HOME"] = str(tmp_path)  # no ~/.docker/config.json of the machine's
    proc = subprocess.run([*__import__("helpers").BUILDID, "read", member], capture_output=True, env=env)
    assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1
    assert proc.stderr.startswith(f"buildid: {member}: 401 Unauthorized".encode()), proc.stderr
    env["DOCKER_CONFIG"] = str(docker_config(tmp_path / "good", auth_registry.host, "tester", "s3cret-pass"))
    proc = subprocess.run([*__import__("helpers").BUILDID, "read", member], capture_output=True, env=env)
    assert proc.returncode == 0 and proc.stdout == run("read", payload["hello.exe"]).stdout
    code, recs, _ = _scan_json(ref, env=env)
    assert code == 0 and len(recs) == 4
    env["DOCKER_CONFIG"] = str(docker_config(tmp_path / "bad", auth_registry.host, "tester", "wrong"))
    code, recs, _ = _scan_json(ref, env=env)
    assert code == 2 and len(recs) == 1 and recs[0]["error"].startswith("401 Unauthorized")


def test_registry_bearer_token_auth(images, payload, tmp_path):  # noqa: F811
    """A registry whose 401 names a token realm: the token is fetched with the
    docker config's credentials, for the scope the challenge asks."""
    users = {"tester": "t0ken-pass"}
    tokens = TokenServer(tmp_path / "token", users)
    reg = None
    try:
        reg = Registry(tmp_path / "reg", token=tokens)
        # skopeo pushes through the same token service
        reg.users = users
        reg.push(f"oci:{images['layout']}:1.0", "gobins:1")
        ref = f"registry:{reg.host}/gobins:1"
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONFIG"}
        env["HOME"] = str(tmp_path)
        code, recs, _ = _scan_json(ref, env=env)
        assert code == 2 and "401 Unauthorized" in recs[0]["error"] and len(recs) == 1
        env["DOCKER_CONFIG"] = str(docker_config(tmp_path / "cfg", reg.host, "tester", "t0ken-pass"))
        before = len(tokens.issued)
        code, recs, _ = _scan_json(ref, env=env)
        assert code == 0 and len(recs) == 4 and recs[-1]["error"] is None
        assert tokens.issued[before:] == ["repository:gobins:pull"]  # one token for the whole image
        proc = subprocess.run([*__import__("helpers").BUILDID, "read", f"{ref}!/usr/bin/hello.exe"],
                              capture_output=True, env=env)
        assert proc.returncode == 0 and proc.stdout == run("read", payload["hello.exe"]).stdout
    finally:
        if reg is not None:
            reg.stop()
        tokens.stop()


def test_registry_hostile_inputs(registry, images, samples, tmp_path):
    good = samples.path("hello-linux-amd64")
    dead = free_port()
    refs = {
        f"registry:127.0.0.1:{dead}/gobins:1": "connection refused",
        "registry:nonexistent.invalid:5000/gobins:1": "unknown host",
        f"registry:{registry.host}/gobins:nope": "404 Not Found: MANIFEST_UNKNOWN",
        f"registry:{registry.host}/nothing/here:1": "404 Not Found",
    }
    code, recs, err = _scan_json(*refs, good)
    assert code == 2 and [r["file"] for r in recs] == [*refs, str(good)]
    for r, want in zip(recs, refs.values()):
        assert want in r["error"] and "\n" not in r["error"], (r["file"], r["error"])
    assert recs[-1]["error"] is None and "Traceback" not in err
    for ref, want in refs.items():
        for cmd in ("read", "info", "verify", "hash"):
            proc = run(cmd, f"{ref}!/usr/bin/hello")
            assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1, (cmd, proc.stderr)
            assert proc.stderr.decode().startswith(f"buildid: {ref}!/usr/bin/hello: {want}")


def test_registry_blob_that_does_not_match_its_digest(images, tmp_path, samples):
    reg = Registry(tmp_path / "reg")
    try:
        reg.push(f"oci:{images['layout']}:1.0", "gobins:1")
        ref = f"registry:{reg.host}/gobins:1"
        recs = _by_member(scan_records(ref, True, True, Limits()))
        top = recs["usr/bin/hello.exe"]["layer"]  # the upper layer: corrupt it in the registry's storage
        blob = reg.blob_path(top)
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF
        blob.write_bytes(bytes(data))
        code, got, err = _scan_json(ref, samples.path("hello-linux-amd64"))
        assert code == 2 and len(got) == 2, got  # no record from the corrupt layer nor below it
        assert f"blob {top} does not match its digest" in got[0]["error"]
        assert got[1]["error"] is None
        proc = run("read", f"{ref}!/usr/bin/hello.exe")
        assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1 and b"does not match its digest" in proc.stderr
    finally:
        reg.stop()


def _put_manifest(host: str, repo: str, tag: str, manifest: dict) -> None:
    body = json.dumps(manifest).encode()
    req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", data=body, method="PUT",
                                 headers={"Content-Type": manifest["mediaType"]})
    assert urllib.request.urlopen(req).status == 201


def test_registry_manifest_that_lies_about_sizes(registry):
    manifest = json.loads(urllib.request.urlopen(urllib.request.Request(
        f"http://{registry.host}/v2/gobins/manifests/1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})).read())
    lie = json.loads(json.dumps(manifest))
    lie["layers"][-1]["size"] += 1000
    _put_manifest(registry.host, "gobins", "lies", lie)
    short = json.loads(json.dumps(manifest))
    short["layers"][-1]["size"] -= 1000
    _put_manifest(registry.host, "gobins", "short", short)
    for tag in ("lies", "short"):
        ref = f"registry:{registry.host}/gobins:{tag}"
        code, recs, _ = _scan_json(ref)
        assert code == 2 and len(recs) == 1, recs
        assert "the manifest says" in recs[0]["error"], recs[0]["error"]


class _Cutting(http.server.BaseHTTPRequestHandler):
    """A proxy to the registry that cuts every blob's body in half (its
    Content-Length still the whole), and serves /v2/huge/manifests/1 as a
    64 MiB manifest: a truncated stream and an unbounded one."""

    upstream = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/v2/huge/manifests/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(64 << 20))
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b" " * (1 << 20))
            except OSError:
                pass
            return
        with urllib.request.urlopen(urllib.request.Request(self.upstream + self.path, headers=dict(self.headers))) as r:
            body = r.read()
            self.send_response(r.status)
            for k, v in r.headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
        cut = "/blobs/" in self.path and len(body) > 10000
        self.send_header("Content-Length", str(len(body)))
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if cut else body)
        if cut:
            self.close_connection = True


def test_registry_truncated_stream_and_huge_manifest(registry, monkeypatch):
    port = free_port()
    handler = type("H", (_Cutting,), {"upstream": f"http://{registry.host}"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        code, recs, _ = _scan_json(f"registry:127.0.0.1:{port}/gobins:1")
        assert code == 2 and len(recs) == 1 and "truncated" in recs[0]["error"], recs
        code, recs, _ = _scan_json(f"registry:127.0.0.1:{port}/huge:1")
        assert code == 2 and "more than the 4194304" in recs[0]["error"], recs
    finally:
        server.shutdown()
        server.server_close()


# --- URLs -------------------------------------------------------------------------------------

def test_url_reads_equal_local_reads(nginx, files):
    for name in ("hello-linux-amd64", "hello-darwin-universal", "hello-windows-amd64.exe", TAMPERED):
        url, local = f"{nginx.base}/{name}", str(files / name)
        assert _strip(read(url).to_json()) == _strip(read(local).to_json()), name
        assert _strip(inspect(url).to_json()) == _strip(inspect(local).to_json()), name
        assert _strip(verify(url).to_json()) == _strip(verify(local).to_json()), name
        assert [_strip(h.to_json()) for h in hash_file(url)] == [_strip(h.to_json()) for h in hash_file(local)]
        assert _strip(scan_records(url, True, True)[0].to_json()) == _strip(scan_records(local, True, True)[0].to_json())
        assert _strip(scan_records(url)[0].to_json()) == _strip(scan_records(local)[0].to_json())
    url = f"{nginx.base}/hello-linux-amd64"
    assert run(url).stdout == run(files / "hello-linux-amd64").stdout  # the Go-compatible form too
    assert run("diff", url, files / "hello-linux-amd64").returncode == 0
    assert run("diff", f"{nginx.base}/{TAMPERED}", url).returncode == 1
    proc = run("-w", url)
    assert proc.returncode == 1 and b"is a remote input and cannot be rewritten" in proc.stderr


def test_url_read_and_info_fetch_a_few_blocks_of_a_large_file(nginx, files):
    size = (files / "big").stat().st_size
    for cmd in ("read", "info"):
        before = len(nginx.requests())
        proc = run(cmd, "--json", f"{nginx.base}/big")
        assert proc.returncode == 0 and json.loads(proc.stdout)["build_id"]
        sent = sum(r[3] for r in nginx.requests(before + 1, settle=0.3)[before:])
        assert sent < size // 100, (cmd, sent)  # under 1% of the file
        assert all(r[2] == 206 for r in nginx.requests()[before:])
    for cmd in ("verify", "hash"):  # these hash every byte: the file streamed once, in one request
        before = len(nginx.requests())
        assert run(cmd, f"{nginx.base}/big").returncode in (1, 0)
        assert [(r[2], r[3], r[4]) for r in nginx.requests(before + 1, settle=0.3)[before:]] == [(200, size, "-")]


def test_url_without_ranges_is_read_once_with_a_note(nginx_no_ranges, files):
    url = f"{nginx_no_ranges.base}/hello-linux-amd64"
    before = len(nginx_no_ranges.requests())
    got = read(url).to_json()
    assert got.pop("notes") == ["the server does not serve byte ranges: the whole file was downloaded once"]
    assert _strip(got) == _strip(read(str(files / "hello-linux-amd64")).to_json())
    reqs = nginx_no_ranges.requests(before + 1, settle=0.3)[before:]
    assert [(r[2], r[3]) for r in reqs] == [(200, (files / "hello-linux-amd64").stat().st_size)]
    proc = run("info", url)
    assert proc.returncode == 0 and b"note: the server does not serve byte ranges" in proc.stderr


def test_url_archives_and_images(nginx, files, payload, images):  # noqa: F811
    url = f"{nginx.base}/rel.tar.gz"
    assert run("read", f"{url}!/bin/hello").stdout == run("read", payload["hello"]).stdout
    remote = _by_member(scan_records(url, True, True, Limits()))
    local = _by_member(scan_records(files / "rel.tar.gz", True, True, Limits()))
    assert {k: _strip(v) for k, v in remote.items()} == {k: _strip(v) for k, v in local.items()}
    remote = _by_member(scan_records(f"{nginx.base}/img.tar", True, True, Limits()))
    local = _by_member(scan_records(images["tar"], True, True, Limits()))
    assert {k: _strip(v) for k, v in remote.items()} == {k: _strip(v) for k, v in local.items()}


def test_url_hostile_inputs(nginx, samples):
    good = samples.path("hello-linux-amd64")
    urls = {f"{nginx.base}/missing": "404 Not Found",
            f"http://127.0.0.1:{free_port()}/x": "connection refused",
            "http://nonexistent.invalid/x": "unknown host"}
    for url, want in urls.items():
        for cmd in ("read", "info", "verify", "hash"):
            proc = run(cmd, url)
            assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1, (cmd, proc.stderr)
            assert proc.stderr.decode().startswith(f"buildid: {url}: {want}"), proc.stderr
        proc = run("diff", url, good)
        assert proc.returncode == 2 and proc.stderr.decode().startswith(f"buildid: {url}: {want}")
    code, recs, err = _scan_json(*urls, good)
    assert code == 2 and [r["error"].split(":")[0] if r["error"] else None for r in recs] == \
        [w.split(":")[0] for w in urls.values()] + [None]


def test_vulns_of_remote_inputs(registry, nginx, nginx_no_ranges, files, tmp_path):
    """`vulns` reads a URL (by ranges), a file in an archive at a URL and a file
    in a registry image as it reads the local file; `scan --vulns` of the image
    finds what it finds in the local layout; a bare image or a server that
    refuses is one line, exit 2."""
    from test_vulns import DATA, _release
    app = _release("vulnapp-go1.24.3-linux-amd64-sw")  # stripped, with symbol-level findings
    shutil.copyfile(app, files / "vulnapp")
    with tarfile.open(files / "vulnapp.tar.gz", "w:gz") as t:
        t.add(app, "bin/vulnapp")
    oci_layout(tmp_path / "layout", [_layer({"usr/": None, "usr/bin/": None, "usr/bin/vulnapp": app.read_bytes()})])
    registry.push(f"oci:{tmp_path / 'layout'}:1.0", "vulnapp:1")
    ref = f"registry:{registry.host}/vulnapp:1"

    def vulns(path):
        proc = run("vulns", "--json", "--db", DATA, path)
        return proc.returncode, _strip(json.loads(proc.stdout)), proc.stderr

    want = vulns(app)
    assert want[0] == 1 and want[1]["vulns"]["counts"]["symbol"] > 0 and want[2] == b""
    for path in (f"{nginx.base}/vulnapp", f"{nginx.base}/vulnapp.tar.gz!/bin/vulnapp", f"{ref}!/usr/bin/vulnapp"):
        assert vulns(path) == want, path
    whole = f"{nginx_no_ranges.base}/vulnapp"  # a server without ranges: read once, and said so
    code, got, _ = vulns(whole)
    assert code == 1 and got.pop("notes") == [NO_RANGES] and got == want[1]
    proc = run("vulns", "--db", DATA, whole)
    assert proc.returncode == 1 and proc.stderr.decode() == f"buildid: {whole}: note: {NO_RANGES}\n"
    code, recs, _ = _scan_json("--vulns", "--db", DATA, ref)
    _, local, _ = _scan_json("--vulns", "--db", DATA, tmp_path / "layout")
    assert code == 0 and _by_member(recs)["usr/bin/vulnapp"]["vulns"] == want[1]["vulns"]
    assert _by_member(local)["usr/bin/vulnapp"]["vulns"] == want[1]["vulns"]
    for path, message in ((ref, "is an image: name a file in it"),
                          (f"http://127.0.0.1:{free_port()}/vulnapp", "connection refused")):
        proc = run("vulns", "--db", DATA, path)
        assert proc.returncode == 2 and proc.stdout == b"" and proc.stderr.count(b"\n") == 1, proc.stderr
        assert proc.stderr.decode().startswith(f"buildid: {path}: {message}")


def test_https_uses_the_system_trust_store(files, tmp_path):
    openssl = need("openssl", "openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   capture_output=True, check=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    port = free_port()

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(files), **kw)

        def log_message(self, *a):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Files)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{port}/hello-linux-amd64"
        proc = run("read", url)
        assert proc.returncode == 2 and b"TLS certificate not trusted" in proc.stderr
        env = {**os.environ, "SSL_CERT_FILE": str(cert)}  # as the system store is overridden for curl and git
        proc = subprocess.run([*__import__("helpers").BUILDID, "read", url], capture_output=True, env=env)
        assert proc.returncode == 0 and proc.stdout == run("read", files / "hello-linux-amd64").stdout
    finally:
        server.shutdown()
        server.server_close()


def test_servers_leave_no_process_behind(files, tmp_path):
    """What the fixtures' finalizers do: a server's whole process group is gone after stop()."""
    ng = Nginx(files, tmp_path / "ng")
    reg = Registry(tmp_path / "reg")
    groups = [ng.server.proc.pid, reg.server.proc.pid]
    assert urllib.request.urlopen(f"{ng.base}/hello-linux-amd64").status == 200
    ng.stop()
    reg.stop()
    for pgid in groups:
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", ng.port), timeout=2)


def test_layer_inflate_with_either_zlib(tmp_path):
    """Layers are inflated by zlib-ng where it is installed, else by the
    standard library: both give the tar gzip -d gives, concatenated members
    and trailing padding included, and charge every byte to the budget."""
    import zlib

    from buildidtool.archives.limits import Budget, LimitExceeded
    from buildidtool.remote.blobs import inflate
    data = os.urandom(3 << 20) + bytes(9 << 20)
    blob = gzip.compress(data[:5 << 20], 1) + gzip.compress(data[5 << 20:], 6) + bytes(512)
    modules = [zlib]
    try:
        from zlib_ng import zlib_ng
        modules.append(zlib_ng)
    except ImportError:
        pass
    for module in modules:
        src = os.memfd_create("blob")
        os.write(src, blob)
        budget = Budget(Limits(), len(blob))
        out = inflate(src, budget, module)
        assert os.pread(out, len(data) + 1, 0) == data and budget.produced == len(data), module
        with pytest.raises(LimitExceeded):
            inflate(src, Budget(Limits(max_total_size=1 << 20), len(blob)), module)
        os.close(out)
        os.close(src)
    plain = os.memfd_create("plain")
    os.write(plain, data[:4096])
    assert inflate(plain, None) is None  # not gzip: read as it is (a zstd or plain layer)


def test_a_server_that_never_answers_times_out(samples):
    """Accepted by the kernel, never answered: one line after the timeout, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        env = {**os.environ, "BUILDID_HTTP_TIMEOUT": "1"}
        for arg in (f"http://127.0.0.1:{port}/x", f"registry:127.0.0.1:{port}/app:1!/bin/x"):
            proc = subprocess.run([*__import__("helpers").BUILDID, "read", arg], capture_output=True, env=env,
                                  timeout=60)
            assert proc.returncode == 2 and proc.stderr.count(b"\n") == 1, proc.stderr
            assert b"timed out after 1 s" in proc.stderr


def test_plain_http_only_for_loopback_or_when_allowed():
    from buildidtool.remote.http import Client
    from buildidtool.remote.refs import is_loopback
    assert all(is_loopback(h) for h in ("127.0.0.1:5000", "localhost", "[::1]:5000", "127.9.9.9"))
    assert not any(is_loopback(h) for h in ("registry.example:5000", "10.0.0.1", "[2001:db8::1]"))
    assert not Client(insecure=frozenset()).allows_plain("registry.example:5000")
    assert Client(insecure=frozenset({"registry.example:5000"})).allows_plain("registry.example:5000")
    assert Client(insecure=frozenset({"*"})).allows_plain("registry.example")
    proc = run("scan", "--insecure-registry", "--json", "registry:nonexistent.invalid/app:1")
    assert proc.returncode == 2 and b"unknown host" in proc.stdout
