"""Which HTTP server library should face Slack: the same signed-request app behind each candidate, attacked alike.

    python bench/http_servers.py [--servers waitress,uvicorn,aiohttp] [--silent 100] [--slow 100] [--n 100]

Each candidate serves one route in its own process on a port-0 loopback socket: POST /slack/events checks the
Slack signature (HMAC-SHA256 over the raw body) and answers 200. While `--silent` connections send nothing and
`--slow` connections send a header line a second (never finishing), `--n` signed requests arrive from 10 client
threads; printed: ack p50/p95/max (client-observed), how many failed, the server's RSS, and what it answered to
malformed framing (`Content-Length: -1`, `abc`, a 2 MB length with no body, a 100 kB header line) and how fast.
The figures behind the choice of waitress in bot/http_server.py (see its docstring).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SECRET = b"bench-secret"
MAX_BODY = 1_000_000

SERVE = r'''
import hashlib, hmac, socket, sys, time
SECRET, MAX_BODY = b"bench-secret", 1_000_000
kind = sys.argv[1]
sock = socket.socket(); sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0)); sock.listen(1024)

def ok(body, ts, sig):
    want = "v0=" + hmac.new(SECRET, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, sig or "")

print(sock.getsockname()[1], flush=True)
if kind == "waitress":
    from waitress.server import create_server
    def app(environ, start_response):
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n)
        good = ok(body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""), environ.get("HTTP_X_SLACK_SIGNATURE"))
        start_response("200 OK" if good else "401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    create_server(app, sockets=[sock], threads=8, connection_limit=1000, channel_timeout=10, cleanup_interval=1,
                  max_request_body_size=MAX_BODY, max_request_header_size=16384, asyncore_use_poll=True).run()
elif kind == "uvicorn":
    import uvicorn
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            m = await receive(); body += m.get("body", b"")
            if len(body) > MAX_BODY:
                await send({"type": "http.response.start", "status": 413, "headers": []})
                await send({"type": "http.response.body", "body": b""}); return
            if not m.get("more_body"):
                break
        h = dict(scope["headers"])
        good = ok(body, h.get(b"x-slack-request-timestamp", b"").decode(), h.get(b"x-slack-signature", b"").decode())
        await send({"type": "http.response.start", "status": 200 if good else 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    uvicorn.Server(uvicorn.Config(app, log_level="warning", http="h11", lifespan="off",
                                  h11_max_incomplete_event_size=16384)).run(sockets=[sock])
elif kind == "aiohttp":
    from aiohttp import web
    async def handle(request):
        body = await request.read()
        good = ok(body, request.headers.get("x-slack-request-timestamp", ""), request.headers.get("x-slack-signature"))
        return web.Response(status=200 if good else 401)
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/slack/events", handle)
    web.run_app(app, sock=sock, print=None, handler_args={"max_field_size": 16384})
'''


def sign(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}


def signed(port: int, i: int) -> tuple[int, float]:
    body = f"command=%2Fask&text=question+{i}&response_url=http%3A%2F%2F127.0.0.1%2Fr".encode()
    t = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/slack/events", body=body, headers=sign(body))
        status = c.getresponse().status
    finally:
        c.close()
    return status, time.perf_counter() - t


def raw(port: int, head: bytes, timeout: float = 5.0) -> tuple[str, float]:
    """Send bytes, return the status line (or what happened) and how long it took."""
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        try:
            line = s.recv(200).split(b"\r\n")[0].decode("latin-1") or "closed"
        except TimeoutError:
            line = f"no answer in {timeout:g} s"
    return line, time.perf_counter() - t


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def trial(kind: str, silent: int, slow: int, n: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVE, kind], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    time.sleep(0.5)  # the server's loop starts after it printed the port
    stop = threading.Event()
    held: list[socket.socket] = []
    try:
        before = rss_mb(proc.pid)
        held += [socket.create_connection(("127.0.0.1", port)) for _ in range(silent)]
        slow_socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(slow)]
        held += slow_socks
        for s in slow_socks:
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")

        def drip() -> None:
            while not stop.wait(1.0):
                for s in slow_socks:
                    try:
                        s.sendall(b"X-Drip: 1\r\n")
                    except OSError:
                        pass
        threading.Thread(target=drip, daemon=True).start()
        time.sleep(1.0)
        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(lambda i: _safe(signed, port, i), range(n)))
        took = [r[1] for r in results if isinstance(r, tuple) and r[0] == 200]
        failed = n - len(took)
        probes = {
            "CL -1": raw(port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
            "CL abc": raw(port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
            "CL 2MB, no body": raw(port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"),
            "100kB header": raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"),
        }
        after = rss_mb(proc.pid)
        print(f"{kind:9s} ack p50 {statistics.median(took) * 1000:6.1f} ms  p95 {pct(took, 0.95) * 1000:6.1f} ms  "
              f"max {max(took) * 1000:6.1f} ms  failed {failed}/{n}  RSS {before:.0f} -> {after:.0f} MB"
              if took else f"{kind:9s} every signed request failed: {results[:3]}")
        for name, (line, secs) in probes.items():
            print(f"{'':9s} {name:16s} -> {line!r} in {secs * 1000:.0f} ms")
    finally:
        stop.set()
        for s in held:
            s.close()
        proc.terminate()
        proc.wait(10)


def _safe(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", default="waitress,uvicorn,aiohttp")
    ap.add_argument("--silent", type=int, default=100)
    ap.add_argument("--slow", type=int, default=100)
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args(argv)
    print(f"{args.silent} silent + {args.slow} slow connections held open, {args.n} signed requests from 10 threads; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for kind in args.servers.split(","):
        trial(kind, args.silent, args.slow, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
