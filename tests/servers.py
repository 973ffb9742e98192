"""Real servers on loopback for the remote-input tests: Debian's
docker-registry (the distribution project's registry), nginx, and skopeo to
fill the registry. Each binds 127.0.0.1 on a free port, runs from a config
written into a temporary directory, and is stopped by a finalizer however the
test ends (its process group killed, so nothing is left behind). A tool that
is missing is installed with apt-get when we are root, else the test is
skipped with the reason."""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

_APT_TRIED: dict[str, bool] = {}


def need(tool: str, package: str) -> str:
    """The path of `tool`, installing Debian's `package` once if it is missing and we may."""
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if path:
        return path
    if package not in _APT_TRIED and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        proc = subprocess.run(["apt-get", "install", "-y", "-q", package], capture_output=True, env=env,
                              timeout=600)
        _APT_TRIED[package] = proc.returncode == 0
        path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
        if path:
            return path
    pytest.skip(f"{tool} is not installed and could not be (Debian package {package}; .ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process in its own process group, up once its port accepts."""

    def __init__(self, argv: list[str], port: int, log: Path, cwd: Path | None = None, env=None):
        self.port = port
        self.log = log
        self.out = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{argv[0]} exited at start: {log.read_text()[-1500:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{argv[0]} did not listen on {port}: {log.read_text()[-1500:]}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        else:  # the leader is gone: make sure no child of its group lives on
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.out.close()


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd line (the registry accepts bcrypt only)."""
    try:
        import bcrypt
        return f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode()}\n"
    except ImportError:
        tool = need("htpasswd", "apache2-utils")
        return subprocess.run([tool, "-nbB", user, password], capture_output=True, text=True,
                              check=True).stdout.strip() + "\n"


class Registry:
    """docker-registry serving `root` on 127.0.0.1:port (with Basic auth when `users`)."""

    def __init__(self, root: Path, users: dict[str, str] | None = None, token: "TokenServer | None" = None):
        binary = need("docker-registry", "docker-registry")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.users = users
        auth = ""
        if users:
            (root / "htpasswd").write_text("".join(htpasswd_line(u, p) for u, p in users.items()))
            auth = f"auth:\n  htpasswd:\n    realm: buildid-test\n    path: {root / 'htpasswd'}\n"
        if token:
            auth = (f"auth:\n  token:\n    realm: {token.realm}\n    service: {token.service}\n"
                    f"    issuer: {token.issuer}\n    rootcertbundle: {token.cert}\n")
        (root / "config.yml").write_text(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root / 'storage'}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:{self.port}
{auth}""")
        self.server = Server([binary, "serve", str(root / "config.yml")], self.port, root / "registry.log")

    def push(self, source: str, dest: str, all_platforms: bool = False) -> None:
        """skopeo copy SOURCE docker://HOST/DEST (an oci:DIR or docker-archive:TAR source)."""
        skopeo = need("skopeo", "skopeo")
        argv = [skopeo, "copy", "--quiet", "--dest-tls-verify=false", "--retry-times", "2"]
        if all_platforms:
            argv.append("--all")
        if self.users:
            user, password = next(iter(self.users.items()))
            argv += ["--dest-creds", f"{user}:{password}"]
        argv += [source, f"docker://{self.host}/{dest}"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"skopeo copy failed: {proc.stderr[-2000:]}"

    def blob_path(self, digest: str) -> Path:
        alg, hexpart = digest.split(":")
        return self.root / "storage" / "docker" / "registry" / "v2" / "blobs" / alg / hexpart[:2] / hexpart / "data"

    def stop(self) -> None:
        self.server.stop()


def docker_config(dir: Path, host: str, user: str, password: str) -> Path:
    """A docker config.json with an `auths` entry (base64 user:password), as docker login writes it."""
    dir.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (dir / "config.json").write_text('{"auths": {"%s": {"auth": "%s"}}}' % (host, auth))
    return dir


class Nginx:
    """nginx serving `root` on 127.0.0.1:port; `ranges=False` sets max_ranges 0
    (a server that answers every ranged request with the whole file); `gzip`
    compresses JSON files for clients that accept it (the vulnerability
    database's layout). The access log records each request's range and the
    body bytes sent."""

    def __init__(self, root: Path, work: Path, ranges: bool = True, tls: tuple[Path, Path] | None = None,
                 gzip: bool = False):
        binary = need("nginx", "nginx-light")
        work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        listen = f"127.0.0.1:{self.port}" + (" ssl http2" if tls else "")
        certs = f"ssl_certificate {tls[0]};\n    ssl_certificate_key {tls[1]};" if tls else ""
        self.access = work / "access.log"
        self.access.write_text("")
        temp = work / "temp"
        temp.mkdir(exist_ok=True)
        conf = work / "nginx.conf"
        conf.write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {work / 'nginx.pid'};
error_log {work / 'error.log'} warn;
events {{ worker_connections 64; }}
http {{
  log_format sent '$request_method $uri $status $body_bytes_sent "$http_range"';
  access_log {self.access} sent;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  default_type application/octet-stream;
  {'types { application/json json; } gzip on; gzip_types application/json; gzip_min_length 64;' if gzip else ''}
  sendfile on;
  keepalive_requests 10000;
  server {{
    listen {listen};
    {certs}
    root {root};
    {'' if ranges else 'max_ranges 0;'}
  }}
}}
""")
        self.server = Server([binary, "-c", str(conf), "-p", str(work)], self.port, work / "stdout.log")

    def requests(self, at_least: int = 0, settle: float = 0.0) -> list[tuple[str, str, int, int, str]]:
        """(method, uri, status, body bytes sent, range header) of each request logged.
        nginx logs a request after its response is sent, so a client can be done
        before the line is written: wait (up to 5 s) for `at_least` lines, then
        with `settle` until no line came for that many seconds."""
        deadline = time.monotonic() + 5
        count = lambda: len(self.access.read_text().splitlines())  # noqa: E731
        while count() < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
        if settle:
            n, quiet = count(), time.monotonic()
            while time.monotonic() - quiet < settle and time.monotonic() < deadline:
                time.sleep(0.02)
                if count() != n:
                    n, quiet = count(), time.monotonic()
        out = []
        for line in self.access.read_text().splitlines():
            method, uri, status, sent, rng = line.split(" ", 4)
            out.append((method, uri, int(status), int(sent), rng.strip('"')))
        return out

    def stop(self) -> None:
        self.server.stop()


class TokenServer:
    """A token service for the registry's `token` auth, as Docker Hub and most
    registries run one: GET /token?service=S&scope=repository:NAME:pull with
    Basic credentials gives {"token": JWT}, an RS256 JWT that the registry
    checks against `cert` (its `kid` the libtrust key ID of the public key, as
    the distribution registry looks keys up). Signed with the openssl CLI."""

    service, issuer = "buildid-test-registry", "buildid-test-issuer"

    def __init__(self, work: Path, users: dict[str, str]):
        import http.server
        import threading
        openssl = need("openssl", "openssl")
        work.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = work / "token-key.pem", work / "token-cert.pem"
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out",
                        self.cert, "-days", "2", "-subj", "/CN=token"], capture_output=True, check=True)
        pub = subprocess.run(f"{openssl} x509 -in {self.cert} -pubkey -noout | {openssl} pkey -pubin -outform DER",
                             shell=True, capture_output=True, check=True).stdout
        import hashlib
        b32 = base64.b32encode(hashlib.sha256(pub).digest()[:30]).decode().rstrip("=")
        self.kid = ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))
        self.users, self.openssl, self.issued = users, openssl, []
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                from urllib.parse import parse_qs, urlsplit
                q = parse_qs(urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                ok = auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode() in \
                    {f"{u}:{p}" for u, p in owner.users.items()}
                if not ok or q.get("service") != [owner.service]:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                scope = q.get("scope", [""])[0]
                owner.issued.append(scope)
                body = json.dumps({"token": owner.token(scope)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def token(self, scope: str) -> str:
        def b64(b: bytes) -> str:
            return base64.urlsafe_b64encode(b).decode().rstrip("=")
        kind, name, actions = (scope.split(":") + ["", "", ""])[:3]
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": next(iter(self.users)), "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(now),
                  "access": [{"type": kind, "name": name, "actions": actions.split(",")}]}
        signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        sig = subprocess.run([self.openssl, "dgst", "-sha256", "-sign", str(self.key)], input=signing.encode(),
                             capture_output=True, check=True).stdout
        return f"{signing}.{b64(sig)}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
