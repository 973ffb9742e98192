"""Registry credentials from the docker configuration, as docker and syft read
it: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; an `auths`
entry (`auth`: base64 of `user:password`, or `username` and `password`), or a
credential helper (`credHelpers` for the host, else `credsStore`), run as
`docker-credential-NAME get` with the host on its standard input."""
from __future__ import annotations

import base64
import json
import os
import subprocess

HELPER_TIMEOUT = 20  # seconds: a helper may ask a keyring
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


def config_path() -> str:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def _config() -> dict:
    try:
        with open(config_path(), "rb") as f:
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _key(k: str) -> str:
    """`https://host:5000/v1/` -> `host:5000`."""
    k = k.strip()
    for scheme in ("https://", "http://"):
        if k.startswith(scheme):
            k = k[len(scheme):]
    return k.split("/", 1)[0].lower()


def lookup(host: str) -> tuple[str, str] | None:
    """(user, password) for a registry host (host:port), or None."""
    cfg = _config()
    names = {host.lower()}
    if host in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        names |= {_key(k) for k in _HUB_KEYS}
    helpers = cfg.get("credHelpers") if isinstance(cfg.get("credHelpers"), dict) else {}
    for k, helper in helpers.items():
        if _key(k) in names and isinstance(helper, str):
            return _helper(helper, k)
    auths = cfg.get("auths") if isinstance(cfg.get("auths"), dict) else {}
    for k, entry in auths.items():
        if _key(k) not in names or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
            return user, password
        if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
            return entry["username"], entry["password"]
    store = cfg.get("credsStore")
    if isinstance(store, str) and store:
        for k in ([host] + (list(_HUB_KEYS) if names != {host.lower()} else [])):
            got = _helper(store, k)
            if got:
                return got
    return None


def _helper(name: str, server: str) -> tuple[str, str] | None:
    try:
        proc = subprocess.run([f"docker-credential-{name}", "get"], input=server.encode(), capture_output=True,
                              timeout=HELPER_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    try:
        out = json.loads(proc.stdout)
        return out["Username"], out["Secret"]
    except (ValueError, KeyError, TypeError):
        return None
