"""A Go program that depends on modules of every shape module recovery must
read, built at test time (tests/test_symbols.py) with the toolchain under test:

  example.com/UpperCase/lib v1.0.0      upper case (the module cache writes !upper!case)
  example.com/multi/v2 v2.3.1           a major-version suffix, code in a subdirectory
  gopkg.in/yaml.v3 v3.0.1            gopkg.in: a dot in the last element (%2e in function names)
  example.net/gen v0.2.0                generic functions, instantiated in main
  example.com/pre v0.3.0-rc.1           a pre-release version
  example.com/inlined v1.1.0            code that is only ever inlined (in the file table, no function)
  example.com/local => ./local          a replace by a directory

served by a file:// GOPROXY into a module cache of an unusual name (so its
prefix must be learned from the paths, not assumed), with the main module
example.com/zoo (main package in cmd/zoo, a package in internal/core).
Variants: plain, -trimpath, vendored (go mod vendor, -mod=vendor) with and
without -trimpath, and -ldflags=-s -w. Everything is kept under
.cache/pclntab/zoo-<key> (the binaries record these paths)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOINLINE = "//go:noinline\n"

MODULES = {  # path: (version, {file: source}) served by the proxy
    "example.com/UpperCase/lib": ("v1.0.0", {
        "lib.go": "package lib\n\n" + NOINLINE + "func Shout(s string) string { return s + \"!\" }\n"}),
    "example.com/multi/v2": ("v2.3.1", {
        "multi.go": "package multi\n\n" + NOINLINE + "func Top() int { return 2 }\n",
        "sub/sub.go": "package sub\n\n" + NOINLINE + "func Deep(n int) int { return n * 3 }\n"}),
    "gopkg.in/yaml.v3": ("v3.0.1", {
        "yaml.go": "package yaml\n\n" + NOINLINE + "func Marshal(v any) []byte { return []byte(\"x\") }\n"}),
    "example.net/gen": ("v0.2.0", {
        "gen.go": "package gen\n\n" + NOINLINE +
                  "func Map[T, U any](xs []T, f func(T) U) []U {\n\tout := make([]U, 0, len(xs))\n"
                  "\tfor _, x := range xs {\n\t\tout = append(out, f(x))\n\t}\n\treturn out\n}\n"}),
    "example.com/pre": ("v0.3.0-rc.1", {
        "pre.go": "package pre\n\n" + NOINLINE + "func Release() string { return \"rc\" }\n"}),
    "example.com/inlined": ("v1.1.0", {
        "inl.go": "package inlined\n\nfunc Twice(n int) int { return 2 * n }\n"}),
}
LOCAL = {"go.mod": "module example.com/local\n\ngo 1.21\n",
         "local.go": "package local\n\n" + NOINLINE + "func Name() string { return \"local\" }\n"}
MAIN = {
    "go.mod": None,  # written from MODULES
    "internal/core/core.go": "package core\n\n" + NOINLINE + "func Sum(a, b int) int { return a + b }\n",
    "cmd/zoo/main.go": (
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"example.com/UpperCase/lib\"\n\t\"example.com/inlined\"\n"
        "\t\"example.com/local\"\n\t\"example.com/multi/v2\"\n\t\"example.com/multi/v2/sub\"\n"
        "\t\"example.com/pre\"\n\t\"example.com/zoo/internal/core\"\n\t\"example.net/gen\"\n"
        "\tyaml \"gopkg.in/yaml.v3\"\n)\n\n"
        "func main() {\n\tfmt.Println(lib.Shout(local.Name()), multi.Top(), sub.Deep(core.Sum(1, 2)),\n"
        "\t\tstring(yaml.Marshal(1)), pre.Release(), inlined.Twice(len(os.Args)),\n"
        "\t\tgen.Map([]int{1, 2}, func(i int) string { return fmt.Sprint(i) }),\n"
        "\t\tgen.Map([]string{\"a\"}, func(s string) int { return len(s) }))\n}\n"),
}
VARIANTS = {  # name: (go build flags, vendored)
    "plain": ([], False),
    "trimpath": (["-trimpath"], False),
    "stripped": (["-ldflags=-s -w"], False),
    "vendor": ([], True),
    "vendor-trimpath": (["-trimpath"], True),
}
STAMP = (2024, 1, 2, 3, 4, 5)


def key(go_version: str) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes() + go_version.encode())
    return h.hexdigest()[:16]


def _env(go: str, work: Path, vendored: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GOENV="off", GOWORK="off", GOSUMDB="off",
               GOPROXY=(work / "proxy").as_uri(), GOMODCACHE=str(work / "zoo-module-cache"),
               GOPATH=str(work / "gopath"), GOFLAGS="-mod=vendor" if vendored else "-mod=mod",
               CGO_ENABLED="0", GOOS="linux", GOARCH="amd64")
    if os.environ.get("GOCACHE"):
        env["GOCACHE"] = os.environ["GOCACHE"]
    return env


def _write_proxy(proxy: Path) -> None:
    for path, (version, files) in MODULES.items():
        escaped = "".join("!" + c.lower() if c.isupper() else c for c in path)
        vdir = proxy.joinpath(*escaped.split("/"), "@v")
        vdir.mkdir(parents=True, exist_ok=True)
        (vdir / "list").write_text(version + "\n")
        (vdir / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-02T03:04:05Z"}))
        mod = f"module {path}\n\ngo 1.21\n"
        (vdir / f"{version}.mod").write_text(mod)
        with zipfile.ZipFile(vdir / f"{version}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in {"go.mod": mod, **files}.items():
                z.writestr(zipfile.ZipInfo(f"{path}@{version}/{name}", date_time=STAMP), text)


def build(go: str, go_version: str) -> dict[str, Path]:
    """{variant: binary}, built once per toolchain and kept."""
    root = (REPO / ".cache" / "pclntab" / f"zoo-{key(go_version)}").resolve()
    done = root / "built.json"
    if done.is_file():
        return {k: Path(v) for k, v in json.loads(done.read_text())["binaries"].items()}
    work = root / "work"
    if work.exists():  # an interrupted build: module cache files are read-only
        subprocess.run(["chmod", "-R", "u+w", str(work)], check=False)
        shutil.rmtree(work)
    app = work / "src" / "zoo"
    _write_proxy(work / "proxy")
    for name, text in LOCAL.items():
        (app / "local" / name).parent.mkdir(parents=True, exist_ok=True)
        (app / "local" / name).write_text(text)
    requires = "".join(f"\t{p} {v}\n" for p, (v, _) in MODULES.items())
    MAIN["go.mod"] = (f"module example.com/zoo\n\ngo 1.21\n\nrequire (\n{requires}\texample.com/local v0.0.0\n)\n\n"
                      "replace example.com/local => ./local\n")
    for name, text in MAIN.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(text)
    out = {}

    def go_run(*args, vendored=False):
        subprocess.run([go, *args], cwd=app, env=_env(go, work, vendored), check=True, capture_output=True,
                       timeout=600)

    go_run("mod", "tidy")
    for name, (flags, vendored) in VARIANTS.items():
        if vendored and not (app / "vendor").exists():
            go_run("mod", "vendor")
        exe = root / f"zoo-{name}"
        go_run("build", "-buildvcs=false", *flags, "-o", str(exe), "./cmd/zoo", vendored=vendored)
        out[name] = exe
    # The paths as the builds recorded them (the cache may be reached through a link that later changes).
    where = {"main_module": str(app), "module_cache": str(work / "zoo-module-cache")}
    done.write_text(json.dumps({"binaries": {k: str(v) for k, v in out.items()}, "paths": where}))
    return out


def paths(go: str, go_version: str) -> dict[str, str]:
    """Where the build ran: the main module's directory and the module cache."""
    root = (REPO / ".cache" / "pclntab" / f"zoo-{key(go_version)}").resolve()
    return json.loads((root / "built.json").read_text())["paths"]
