"""info: build info equal to `go version -m -json` on every sample Go reads,
wasm and Plan 9 too, per slice for universal files, signatures checked."""
from __future__ import annotations

import json
import os
import subprocess

from helpers import fat_slices, flip_byte, run


def go_version_m(samples, path, *flags):
    r = subprocess.run([samples.go, "version", "-m", *flags, str(path)], capture_output=True,
                       env={**os.environ, "GOTOOLCHAIN": "local", "GOTELEMETRY": "off"})
    return r


def info_json(*paths):
    r = run("info", "--json", *paths)
    return r, [json.loads(l) for l in r.stdout.splitlines()]


def test_build_info_equals_go_version_m_json(samples):
    paths = [samples.path(e["name"]) for e in samples.entries]
    r, rows = info_json(*paths)
    assert r.returncode == 0, r.stderr
    compared = 0
    for path, row in zip(paths, rows):
        go = go_version_m(samples, path, "-json")
        if go.returncode != 0 or not go.stdout.strip():
            continue
        # Go reads the first slice of a universal file; we give every slice its own.
        ours = row["slices"][0]["build_info"] if row["slices"] else row["build_info"]
        assert ours == json.loads(go.stdout), path.name
        compared += 1
    assert compared >= 20  # 24 with gcc; the cgo samples need it


def test_text_lines_equal_go_version_m(samples):
    for name in ("modapp-linux-amd64", "hello-windows-amd64", "hello-linux-amd64-trimpath"):
        path = samples.path(name)
        go = go_version_m(samples, path).stdout.decode().splitlines()
        ours = run("info", path).stdout.decode().splitlines()
        start = ours.index(go[0])
        assert ours[start:start + len(go)] == go


def test_wasm_and_plan9_have_build_info(samples):
    version = subprocess.run([samples.go, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    linux = info_json(samples.path("modapp-linux-amd64"))[1][0]["build_info"]
    for name in ("modapp-wasip1-wasm", "modapp-plan9-amd64", "hello-js-wasm", "hello-plan9-amd64"):
        row = info_json(samples.path(name))[1][0]
        bi = row["build_info"]
        assert bi is not None and bi["GoVersion"] == version, name
        if name.startswith("modapp"):
            assert bi["Path"] == "example.com/modapp"
            assert bi["Main"] == linux["Main"] and bi["Deps"] == linux["Deps"]


def test_universal_slices_each_have_build_info(samples, tmp_path):
    path = samples.path("hello-darwin-universal")
    row = info_json(path)[1][0]
    assert [s["arch"] for s in row["slices"]] == ["amd64", "arm64"]
    data = path.read_bytes()
    for s, (off, size) in zip(row["slices"], fat_slices(data)):
        alone = tmp_path / s["arch"]
        alone.write_bytes(data[off:off + size])
        assert s["build_info"] == json.loads(go_version_m(samples, alone, "-json").stdout)
        assert s["host_build_id"]["status"] == "derived"


def test_code_signature_page_check(tmp_copy):
    f = tmp_copy("hello-darwin-arm64")
    sig = info_json(f)[1][0]["code_signature"]
    assert sig["go_made"] and sig["pages_match"] and sig["pages"] > 100
    flip_byte(f)
    assert info_json(f)[1][0]["code_signature"]["pages_match"] is False
    assert b"DO NOT match" in run("info", f).stdout


def test_files_without_build_info(samples, tmp_path):
    r, rows = info_json(samples.path("lib"), samples.path("libgccgo"))
    assert r.returncode == 0 and [x["build_info"] for x in rows] == [None, None]
    r = run("info", tmp_path / "missing")
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1


def test_broken_build_info_is_reported_not_fatal(tmp_copy):
    f = tmp_copy("modapp-linux-amd64")
    data = bytearray(f.read_bytes())
    i = data.find(b"\xff Go buildinf:")
    assert i > 0
    # the inline layout's first varint (the version length) now claims far more than the blob has
    data[i + 32:i + 37] = b"\xff\xff\xff\xff\x0f"
    f.write_bytes(bytes(data))
    r, rows = info_json(f)
    assert r.returncode == 0
    assert rows[0]["build_info"] is None and rows[0]["build_info_error"]
    assert rows[0]["build_id"]
