"""The HTTP client under every remote input: the standard library's
http.client, one kept-alive connection per host, byte ranges, redirects,
retries with backoff, timeouts, size caps, TLS verified against the system's
certificate authorities.

Why http.client and not urllib3 or httpx: measured in
benchmarks/http_clients.py (the figures are in docs/architecture.md). Our
reads are one request at a time, each decided by what the previous one held
(a parser follows offsets), or one long stream per blob, so HTTP/2's
multiplexing has nothing to overlap; connection reuse is what matters, and
http.client gives it. It costs no dependency and a few milliseconds of import.

Errors are RemoteError with a one-line message; the caller names the input."""
from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
from urllib.parse import urljoin, urlsplit

from ..errors import UnreadableFile

TIMEOUT = float(os.environ.get("BUILDID_HTTP_TIMEOUT") or 30)  # seconds, per connect and per read
RETRIES = 3          # attempts after the first, for failures that may pass
BACKOFF = 0.25       # seconds before the first retry, doubled each time
MAX_REDIRECTS = 5
USER_AGENT = "buildid (buildidtool)"
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def retrying(attempt):
    """attempt() again after a Transient failure, with backoff; the last
    failure becomes a RemoteError. For a body cut off mid-stream, which the
    request-level retries of Client.request cannot see."""
    delay = BACKOFF
    for n in range(RETRIES + 1):
        try:
            return attempt()
        except Transient as e:
            if n == RETRIES:
                raise RemoteError(str(e)) from None
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


class RemoteError(UnreadableFile):
    """A remote input could not be read: refused, unknown host, an HTTP
    status, a body that lies about its size or digest. `status` is the HTTP
    status when there was one."""

    def __init__(self, path, message=None, status: int | None = None):
        super().__init__(path, message)
        self.status = status


class Transient(Exception):
    """A failure worth another try (a reset connection, a 503, a cut-off body)."""


def _reason(e: BaseException) -> str:
    if isinstance(e, socket.gaierror):
        return "unknown host" if e.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)) else \
            f"host lookup failed: {e.strerror or e}"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {e.verify_message or e}"
    if isinstance(e, ssl.SSLError):
        return f"TLS error: {e.reason or e}"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return f"timed out after {TIMEOUT:g} s"
    if isinstance(e, http.client.IncompleteRead):
        return f"truncated response: {len(e.partial)} bytes, then the connection ended"
    if isinstance(e, OSError):
        return e.strerror or str(e) or type(e).__name__
    return str(e) or type(e).__name__


class Response:
    """A response whose body is read by the caller (`read`, `read_all`,
    `chunks`) and then released, so the connection serves the next request."""

    def __init__(self, client: "Client", key, raw: http.client.HTTPResponse, url: str, conn, kept: bool):
        self.client, self.key, self.raw, self.url = client, key, raw, url
        self.conn, self.kept = conn, kept
        self.status = raw.status
        self.headers = raw.headers
        self.received = 0

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def length(self) -> int | None:
        v = self.headers.get("Content-Length")
        try:
            return int(v) if v is not None else None
        except ValueError:
            return None

    def read(self, n: int) -> bytes:
        """Up to n bytes; b"" at the end. A body shorter than its Content-Length raises Transient."""
        if self.raw is None:
            return b""
        try:
            data = self.raw.read(n)
        except http.client.IncompleteRead as e:
            self.close(reuse=False)
            raise Transient(_reason(e)) from None
        except (socket.timeout, TimeoutError) as e:  # a server that stalls is not waited for twice
            self.close(reuse=False)
            raise RemoteError(_reason(e)) from None
        except (OSError, http.client.HTTPException) as e:
            self.close(reuse=False)
            raise Transient(_reason(e)) from None
        self.received += len(data)
        self.client.fetched += len(data)
        if not data:
            length = self.length
            if length is not None and self.received < length:
                self.close(reuse=False)
                raise Transient(f"truncated response: {self.received} of {length} bytes, then the connection ended")
            self.close()
        return data

    def body(self, limit: int, what: str = "response") -> bytes:
        """read_all, a cut-off body being an error (for small documents: manifests, tokens)."""
        try:
            return self.read_all(limit, what)
        except Transient as e:
            raise RemoteError(f"{what}: {e}") from None

    def read_all(self, limit: int, what: str = "response") -> bytes:
        """The whole body, at most `limit` bytes (a larger one is refused before it is
        read); a cut-off body raises Transient."""
        length = self.length
        if length is not None and length > limit:
            self.close(reuse=False)
            raise RemoteError(f"{what} is {length} bytes, more than the {limit} allowed")
        parts, total = [], 0
        while chunk := self.read(min(1 << 20, limit + 1 - total)):
            parts.append(chunk)
            total += len(chunk)
            if total > limit:
                self.close(reuse=False)
                raise RemoteError(f"{what} is more than the {limit} bytes allowed")
        return b"".join(parts)

    def close(self, reuse: bool = True) -> None:
        raw, self.raw = self.raw, None
        if raw is None:
            return
        reuse = reuse and raw.isclosed()  # the whole body read: the connection can serve again
        if not reuse:
            raw.close()
        self.client._finish(self.key, self.conn, self.kept, reuse)


class Client:
    """Kept-alive connections by (scheme, host:port); not shared between
    processes (each scan worker makes its own after the fork)."""

    def __init__(self, insecure=None, timeout: float = TIMEOUT):
        self.timeout = timeout
        # hosts (host:port) where TLS is not verified and plain HTTP is allowed
        self.insecure = insecure if insecure is not None else _insecure_from_env()
        self._conns: dict = {}
        self._busy: set = set()
        # layers are fetched by threads (blobs.py): the pool is shared under a lock
        self._lock = threading.Lock()
        self._contexts: dict = {}
        self.fetched = 0      # body bytes received
        self.requests = 0

    def _context(self, verify: bool) -> ssl.SSLContext:
        ctx = self._contexts.get(verify)
        if ctx is None:
            # The system's trust store (OpenSSL's default paths; SSL_CERT_FILE
            # and SSL_CERT_DIR override it, as for curl and git).
            ctx = ssl.create_default_context()
            if not verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._contexts[verify] = ctx
        return ctx

    def allows_plain(self, hostport: str) -> bool:
        from .refs import is_loopback
        return is_loopback(hostport) or self.is_insecure(hostport)

    def is_insecure(self, hostport: str) -> bool:
        return "*" in self.insecure or hostport in self.insecure or hostport.rsplit(":", 1)[0] in self.insecure

    def _connection(self, key):
        with self._lock:
            return self._connection_locked(key)

    def _connection_locked(self, key):
        """(connection, reused, kept): the kept-alive one when it is free, else a new one
        (kept for next time when none is)."""
        conn = self._conns.get(key)
        if conn is not None and key not in self._busy:
            self._busy.add(key)
            return conn, True, True
        scheme, netloc = key
        if scheme == "https":
            conn = http.client.HTTPSConnection(netloc, timeout=self.timeout,
                                               context=self._context(not self.is_insecure(netloc)))
        else:
            conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
        if key in self._busy:  # another request holds the kept one: this one is not kept
            return conn, False, False
        self._conns[key] = conn
        self._busy.add(key)
        return conn, False, True

    def _finish(self, key, conn, kept: bool, reuse: bool) -> None:
        """A request on `conn` is over: free the kept connection (or drop it), close another."""
        if not kept:
            conn.close()
        elif reuse:
            self._release(key)
        else:
            self._drop(key)

    def _release(self, key) -> None:
        with self._lock:
            self._busy.discard(key)

    def _drop(self, key) -> None:
        with self._lock:
            conn = self._conns.pop(key, None)
            self._busy.discard(key)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for key in list(self._conns):
            self._drop(key)

    def request(self, url: str, headers: dict | None = None, method: str = "GET",
                ok=(200, 206), auth=None) -> Response:
        """One request, retried with backoff when the failure may pass, redirects
        followed (an Authorization header is not carried to another host).
        `auth(response)` is asked once on a 401 for the header to retry with
        (None: give up). A status not in `ok` is a RemoteError."""
        delay = BACKOFF
        attempt = 0
        tried_auth = False
        hdrs = dict(headers or {})
        origin = urlsplit(url).netloc
        redirects = 0
        while True:
            try:
                resp = self._once(method, url, hdrs)
            except Transient as e:
                if attempt >= RETRIES:
                    raise RemoteError(str(e)) from None
                attempt += 1
                time.sleep(delay)
                delay *= 2
                continue
            if resp.status in _REDIRECTS and redirects < MAX_REDIRECTS and resp.header("Location"):
                location = urljoin(url, resp.header("Location"))
                _drain(resp)
                if urlsplit(location).netloc != origin:
                    hdrs.pop("Authorization", None)
                url, redirects = location, redirects + 1
                continue
            if resp.status == 401 and auth is not None and not tried_auth:
                tried_auth = True
                value = auth(resp)
                if value is not None:
                    _drain(resp)
                    hdrs["Authorization"] = value
                    continue
                raise RemoteError(f"401 Unauthorized{_detail(resp)} (no credentials for {origin}: "
                                  "docker login, or an auths entry in DOCKER_CONFIG/config.json)", status=401)
            if resp.status in _TRANSIENT_STATUS and attempt < RETRIES:
                _drain(resp)
                attempt += 1
                time.sleep(_retry_after(resp, delay))
                delay *= 2
                continue
            if resp.status not in ok:
                text = _error_text(resp)
                raise RemoteError(f"{resp.status} {http.client.responses.get(resp.status, '')}".rstrip()
                                  + (f": {text}" if text else ""), status=resp.status)
            return resp

    def _once(self, method: str, url: str, headers: dict) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RemoteError(f"not an http(s) URL: {url}")
        key = (parts.scheme, parts.netloc)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        hdrs = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
        for fresh in (False, True):
            conn, reused, kept = self._connection(key)
            try:
                conn.request(method, target, headers=hdrs)
                raw = conn.getresponse()
            except (ConnectionRefusedError, socket.gaierror, ssl.SSLError, socket.timeout, TimeoutError) as e:
                self._finish(key, conn, kept, False)
                err = RemoteError(_reason(e))
                # a TLS handshake a plain-HTTP server could not answer (not a certificate refused)
                err.tls = isinstance(e, ssl.SSLError) and not isinstance(e, ssl.SSLCertVerificationError)
                raise err from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self._finish(key, conn, kept, False)
                if reused and not fresh:
                    continue  # the server closed a kept-alive connection: a new one, not a retry
                raise Transient(_reason(e)) from None
            except (OSError, http.client.HTTPException) as e:
                self._finish(key, conn, kept, False)
                raise Transient(_reason(e)) from None
            self.requests += 1
            if method == "HEAD":
                raw.read()
            return Response(self, key, raw, url, conn, kept)
        raise Transient("connection closed")


def _drain(resp: Response) -> None:
    try:
        resp.read_all(1 << 16, "response")
    except (RemoteError, Transient):
        resp.close(reuse=False)


def _retry_after(resp: Response, delay: float) -> float:
    try:
        return min(max(float(resp.header("Retry-After") or 0), delay), 10.0)
    except ValueError:
        return delay


def _error_text(resp: Response) -> str:
    """The gist of an error body: a distribution API error's code and message, else its first line."""
    try:
        body = resp.read_all(1 << 16, "error body")
    except (RemoteError, Transient):
        return ""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        import json
        try:
            errors = json.loads(text).get("errors") or []
            return "; ".join(f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors
                             if isinstance(e, dict))[:300]
        except (ValueError, AttributeError):
            pass
    if text.lstrip().startswith("<"):  # an HTML error page says nothing the status does not
        return ""
    return " ".join(text.split())[:200]


def _detail(resp: Response) -> str:
    text = _error_text(resp)
    return f": {text}" if text else ""


def _insecure_from_env() -> frozenset:
    raw = os.environ.get("BUILDID_INSECURE_REGISTRY", "")
    return frozenset(h.strip() for h in raw.split(",") if h.strip())


_shared: Client | None = None
_shared_pid = 0


def client() -> Client:
    """This process's client (a forked worker makes its own: a socket is not shared across a fork)."""
    global _shared, _shared_pid
    if _shared is None or _shared_pid != os.getpid():
        _shared, _shared_pid = Client(), os.getpid()
    return _shared
