"""Slack acks while slow and silent clients hold connections: the real SlackBot behind the bot's HTTP server.

    python bench/slow_clients.py [--silent 100] [--slow 100] [--n 100] [--delay 2] [--clients 20]

Starts `BotHTTPServer` (waitress, as `briefbot run` serves it) with the real `SlackBot` in HTTP mode against a
fake Slack Web API (tests.fakes.slack_api.FakeSlack) and a Service whose `ask` sleeps `--delay` seconds. Then
opens `--silent` connections that send nothing and `--slow` ones that drip a header line every second and
never finish their request; any the server closes (its idle timeout and per-request deadline) are reopened,
so that many stay open for the whole run. While they are held, `--n` signed `/ask` slash commands arrive from
`--clients` threads. Printed: acks by status; ack time server-side (route entered to response handed back, as
`briefbot_slack_request_seconds` in /metrics) and client-observed (connect to response read) as p50/p95/max,
against the target of every ack < 1 s; how many held connections the server closed and were reopened; the
process's RSS before and after (clients included: they share the process).
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.slack_ack import SECRET, TOKEN, SlowService, command_body, ms, pct, send  # noqa: E402
from bot.adapters.slack import SlackBot, SlackRunner  # noqa: E402
from bot.http_server import AckTimes, BotHTTPServer  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Holders:
    """Keeps `silent` + `slow` connections open to the port, reopening any the server closes."""

    def __init__(self, port: int, silent: int, slow: int) -> None:
        self.port = port
        self.socks: list[tuple[socket.socket, bool]] = []
        self.reopened = 0
        self.stop = threading.Event()
        for i in range(silent + slow):
            self.socks.append((self._open(i >= silent), i >= silent))
        self._thread = threading.Thread(target=self._tend, name="bench-holders", daemon=True)
        self._thread.start()

    def _open(self, slow: bool) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        if slow:
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n")
        return s

    def _tend(self) -> None:
        while not self.stop.wait(1.0):
            for k, (s, slow) in enumerate(self.socks):
                closed = False
                try:
                    if s.recv(1) == b"":
                        closed = True
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                if not closed and slow:
                    try:
                        s.send(b"X-Drip: 1\r\n")
                    except OSError:
                        closed = True
                if closed and not self.stop.is_set():
                    s.close()
                    try:
                        self.socks[k] = (self._open(slow), slow)
                        self.reopened += 1
                    except OSError:
                        pass

    def close(self) -> None:
        self.stop.set()
        self._thread.join(5)
        for s, _ in self.socks:
            s.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--silent", type=int, default=100, help="connections that send nothing (default 100)")
    ap.add_argument("--slow", type=int, default=100, help="connections that drip a header line a second (default 100)")
    ap.add_argument("--n", type=int, default=100, help="signed /ask commands (default 100)")
    ap.add_argument("--clients", type=int, default=20, help="threads sending them (default 20)")
    ap.add_argument("--delay", type=float, default=2.0, help="seconds the model takes per answer (default 2)")
    ap.add_argument("--hold", type=float, default=3.0, help="seconds the held connections stay before the commands")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")

    fake = FakeSlack().start()
    assert fake._server is not None
    fake._server.socket.listen(1024)
    bot = SlackBot(SlowService(args.delay), bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url)  # type: ignore[arg-type]
    runner = SlackRunner(bot, mode="http")
    times = AckTimes(keep=True)
    server = BotHTTPServer(None, 0, host="127.0.0.1", slack=runner.wsgi, ack_times=times).start()
    before = rss_mb()
    holders = Holders(server.port, args.silent, args.slow)
    time.sleep(args.hold)  # the slow ones have dripped a few lines: they are mid-request when the commands come
    verifier = SignatureVerifier(SECRET)
    bodies = [command_body(fake, i) for i in range(args.n)]
    with ThreadPoolExecutor(args.clients, thread_name_prefix="bench-client") as pool:
        results = list(pool.map(lambda b: _try(send, server.port, b, verifier), bodies))
    after = rss_mb()
    held_at_end = sum(1 for _ in holders.socks)
    holders.close()
    ok = [r for r in results if not isinstance(r, str) and r[0] == 200]
    failed = [r for r in results if isinstance(r, str) or r[0] != 200]
    client = [r[1] for r in ok]
    served = times.samples or []
    print(f"slow-client bench: {args.silent} silent + {args.slow} slow connections held open, {args.n} signed /ask "
          f"from {args.clients} threads; waitress ({server.httpd.adj.threads} threads), python "
          f"{sys.version.split()[0]}")
    print(f"acks: {len(ok)}/{args.n} HTTP 200" + (f", {len(failed)} failed: {sorted(set(map(str, failed)))[:3]}"
                                                   if failed else ""))
    if served:
        print(f"ack server-side:     p50 {ms(statistics.median(served))}  p95 {ms(pct(served, 0.95))}  "
              f"max {ms(max(served))}")
    if client:
        print(f"ack client-observed: p50 {ms(statistics.median(client))}  p95 {ms(pct(client, 0.95))}  "
              f"max {ms(max(client))}  (target: every ack < 1 s: {'met' if max(client) < 1 else 'NOT met'})")
    print(f"held connections: {held_at_end} open at the end; {holders.reopened} closed by the server "
          "(idle timeout / request deadline) and reopened")
    print(f"RSS: {before:.0f} MB before the held connections, {after:.0f} MB after the commands")
    runner.stop(args.delay + 10)
    server.stop()
    fake.stop()
    return 0 if len(ok) == args.n and client and max(client) < 1 else 1


def _try(fn, *a):  # type: ignore[no-untyped-def]
    try:
        return fn(*a)
    except Exception as e:
        return f"{type(e).__name__}: {e}"


if __name__ == "__main__":
    raise SystemExit(main())
