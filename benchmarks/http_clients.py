#!/usr/bin/env python3
"""Which HTTP client remote inputs use, by measurement: the standard library's
http.client against urllib3 and httpx (HTTP/1.1, and HTTP/2 over TLS), each
against nginx on loopback, in a fresh interpreter per run:

- import: what `import CLIENT` adds to a bare interpreter (every remote run pays it);
- ranges: 300 range requests of 64 KiB at scattered offsets, one after the
  other on one kept-alive connection (what `read`/`info` of a URL do: each
  read is decided by the bytes of the one before, so nothing overlaps);
- stream: one 256 MiB body read in 1 MiB pieces (a layer blob, `verify` of a URL).

urllib3 and httpx (with h2) are installed with pip into .cache/bench/http-clients
for this measurement only. Alternating rounds, medians.

Usage: python benchmarks/http_clients.py [--rounds N]"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from benchenv import CACHE  # noqa: E402

CLIENTS = CACHE / "http-clients"
BIG = 256 << 20
RANGES = 300

WORKER = r'''
import os, sys, time
client, url, mode, cafile = sys.argv[1:5]
t0 = time.perf_counter()
if client == "http.client":
    import http.client, ssl
    from urllib.parse import urlsplit
    u = urlsplit(url)
    conn = (http.client.HTTPSConnection(u.netloc, context=ssl.create_default_context(cafile=cafile))
            if u.scheme == "https" else http.client.HTTPConnection(u.netloc))
    def get(headers):
        conn.request("GET", u.path, headers=headers)
        r = conn.getresponse()
        return r
    def body(r, n=None):
        return r.read(n) if n else r.read()
elif client == "urllib3":
    import urllib3
    pool = urllib3.PoolManager(ca_certs=cafile)
    def get(headers):
        return pool.request("GET", url, headers=headers, preload_content=False)
    def body(r, n=None):
        if n:
            return r.read(n)
        data = r.read()
        r.release_conn()
        return data
else:
    import httpx
    c = httpx.Client(http2=client.endswith("h2"), verify=cafile)
    def get(headers):
        return c.send(c.build_request("GET", url, headers=headers), stream=True)
    def body(r, n=None):
        if n:
            return next(r.iter_bytes(n), b"")
        data = r.read()
        r.close()
        return data
t_import = time.perf_counter() - t0
size = int(sys.argv[5])
if mode == "ranges":
    t0 = time.perf_counter()
    off = 0
    for i in range(300):
        off = (off * 1103515245 + 12345 + i * 7919 * 65536) % (size - 65536)
        r = get({"Range": f"bytes={off}-{off + 65535}"})
        assert r.status_code == 206 if hasattr(r, "status_code") else r.status == 206
        assert len(body(r)) == 65536
    print(t_import, time.perf_counter() - t0)
else:
    t0 = time.perf_counter()
    r = get({})
    total = 0
    if hasattr(r, "iter_bytes"):
        for chunk in r.iter_bytes(1 << 20):
            total += len(chunk)
    else:
        while chunk := (r.read(1 << 20)):
            total += len(chunk)
    assert total == size, total
    print(t_import, time.perf_counter() - t0)
'''


def install() -> None:
    if (CLIENTS / "httpx").is_dir() and (CLIENTS / "urllib3").is_dir() and (CLIENTS / "h2").is_dir():
        return
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(CLIENTS), "urllib3",
                    "httpx[http2]"], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    install()
    from servers import Nginx  # tests/servers.py: the same nginx the tests start
    work = CACHE / "http-bench"
    www = work / "www"
    www.mkdir(parents=True, exist_ok=True)
    big = www / "big"
    if not big.exists() or big.stat().st_size != BIG:
        with open(big, "wb") as f:
            for _ in range(BIG >> 20):
                f.write(os.urandom(1 << 20))
    key, cert = work / "key.pem", work / "cert.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "3650", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    plain = Nginx(www, work / "plain")
    tls = Nginx(www, work / "tls", tls=(cert, key))
    try:
        cases = [("http.client", plain.base), ("urllib3", plain.base), ("httpx", plain.base),
                 ("http.client", tls.base), ("urllib3", tls.base), ("httpx", tls.base), ("httpx-h2", tls.base)]
        env = {**os.environ, "PYTHONPATH": str(CLIENTS)}
        results: dict = {}
        bare = []
        for _ in range(a.rounds):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            bare.append(time.perf_counter() - t)
            for client, base in cases:
                for mode in ("ranges", "stream"):
                    out = subprocess.run([sys.executable, "-c", WORKER, client, f"{base}/big", mode, str(cert),
                                          str(BIG)], capture_output=True, text=True, env=env, check=True).stdout
                    imp, secs = map(float, out.split())
                    results.setdefault((client, base, mode), []).append((imp, secs))
        print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, nproc {os.cpu_count()}, "
              f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}, {a.rounds} rounds, medians")
        print("| client | scheme | import ms | 300 ranged GETs of 64 KiB, ms (per request) | 256 MiB stream, MiB/s |")
        print("|---|---|---:|---:|---:|")
        for client, base in cases:
            r = results[(client, base, "ranges")]
            s = results[(client, base, "stream")]
            imp = statistics.median(x[0] for x in r + s) * 1000
            ranges = statistics.median(x[1] for x in r) * 1000
            stream = (BIG >> 20) / statistics.median(x[1] for x in s)
            scheme = "https, HTTP/2" if client.endswith("h2") else base.split(":")[0] + ", HTTP/1.1"
            print(f"| {client.removesuffix('-h2')} | {scheme} | {imp:.1f} | {ranges:.0f} ({ranges / RANGES * 1000:.0f} µs) "
                  f"| {stream:.0f} |")
    finally:
        plain.stop()
        tls.stop()


if __name__ == "__main__":
    main()
