"""Slash-command ack latency while the model is slow: the real SlackBot over HTTP against a fake Slack.

    python bench/slack_ack.py [--n 100] [--delay 10] [--workers N] [--backlog N] [--thread-listeners]
                              [--client-process] [--warm] [--reference]

Starts the real `SlackBot` in HTTP mode behind the bot's own HTTP server (`BotHTTPServer`, as `briefbot run`
serves /slack/events) on a port-0 loopback port, with a
fake Slack Web API (tests.fakes.slack_api.FakeSlack) and a Service whose `ask` sleeps `--delay` seconds,
then sends `--n` signed `/ask` slash commands at once from a thread pool, form-encoded the way Slack
sends them, each with its own response_url on the fake's recorder. Each HTTP response is the ack
(Slack wants it within 3 s; the target here is p95 <= 50 ms server-side). Two figures: server-side, what
the server itself measured from the connection's thread starting (just after accept) to the response
written (`briefbot_slack_request_seconds` in /metrics); and client-observed, from before connect() to the
response read, which adds the loopback TCP handshake, the time a connection waits in the listen queue
for the busy process to accept it, and the client process's own scheduling of its hundred threads;
`--reference` sends the same burst to a handler that answers at once, to show that floor. Then waits for every answer to arrive at
the response_url recorder and prints how many did and when.

`--workers` sizes the adapter's answer pool (default: one per request); `--workers 0` uses the
adapter's own default pool. `--backlog N` re-listens the server socket with a listen backlog of N
(BotHTTPServer's is 1024; the stdlib default of 5 reset most of a burst). `--warm` sends
one command first, so first-request costs are not in the burst. The fake Slack's own socket always
gets a backlog of 1024, so the fake (standing in for Slack's edge) is never the bottleneck.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import math
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.adapters.slack import EVENTS_PATH, SlackBot, SlackRunner  # noqa: E402
from bot.domain import Answer, Brief, Channel, Citation, Subscription  # noqa: E402
from bot.http_server import BACKLOG, AckTimes, BotHTTPServer  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
QUESTION = "what happened at the harbour?"


class SlowService:
    """bot.service.Service whose ask() takes `delay` seconds, like a slow model call (I/O, not CPU)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0  # most ask() calls in flight at once

    def document_count(self, channel: Channel | None = None) -> int:
        return 42

    def ask(self, question: str, channel: Channel | None = None,
            on_partial: Callable[[str], None] | None = None) -> Answer:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.delay)
        finally:
            with self._lock:
                self.running -= 1
        cite = Citation(n=1, source="/data/harbour-strike-gazette.txt", text="Dock workers walked out at dawn.",
                        doc_id=1, start=0, end=32, title="Harbour strike", url="https://news.example/strike",
                        outlet="Gazette")
        return Answer(question=question, text="Dock workers walked out at dawn [1].", found=True,
                      citations=[cite], id="ans-bench")

    def brief(self, topic: str | None = None, channel: Channel | None = None, since: str | None = None) -> Brief:
        return Brief(stories=[], generated_at="2024-05-01T08:00:00Z")

    def subscribe(self, channel: Channel, time_of_day: str, timezone: str, topic: str | None = None,
                  cadence: str = "daily") -> Subscription:
        raise ValueError("digests are not part of this bench")

    def unsubscribe(self, channel: Channel) -> int:
        return 0

    def subscriptions(self, channel: Channel) -> list[Subscription]:
        return []

    def feedback(self, answer_id: str, channel: Channel, helpful: bool) -> None:
        pass


def command_body(fake: FakeSlack, i: int) -> str:
    """An /ask slash command, form-encoded like Slack's, with a response_url of its own."""
    return urlencode({"token": "legacy", "team_id": "T1", "team_domain": "fake", "channel_id": f"C{i % 7 + 1}",
                      "channel_name": "news", "user_id": f"U{i}", "user_name": f"user{i}", "command": "/ask",
                      "text": QUESTION, "api_app_id": "A1", "is_enterprise_install": "false",
                      "response_url": fake.response_url(f"ask-{i}"), "trigger_id": f"{i}.1.bench"})


def send(port: int, body: str, verifier: SignatureVerifier) -> tuple[int, float, float]:
    """POST one signed command on a fresh connection (as Slack does); (status, seconds, start)."""
    data = body.encode()
    stamp = str(int(time.time()))
    headers = {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": stamp,
               "x-slack-signature": verifier.generate_signature(timestamp=stamp, body=body),
               "content-length": str(len(data))}
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", EVENTS_PATH, body=data, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - start, start
    finally:
        conn.close()


def burst_of_commands(port: int, bodies: list[str], secret: str) -> list[tuple[int, float, float] | str]:
    """POST every body at once (one thread each, released together); per request (status, seconds, start)
    or the error's repr."""
    verifier = SignatureVerifier(secret)
    gate = threading.Barrier(len(bodies))

    def one(body: str) -> tuple[int, float, float]:
        gate.wait()
        return send(port, body, verifier)

    out: list[tuple[int, float, float] | str] = []
    with ThreadPoolExecutor(max_workers=len(bodies), thread_name_prefix="bench-client") as clients:
        for f in [clients.submit(one, b) for b in bodies]:
            try:
                out.append(f.result())
            except Exception as e:  # a reset or timed-out connection is a failed ack
                out.append(repr(e))
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, math.ceil(p * len(xs)) - 1)]


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def replies(fake: FakeSlack) -> tuple[dict[str, float], dict[str, float], int]:
    """First placeholder and first final answer per response_url (arrival times), and how many finals in all."""
    placeholders: dict[str, float] = {}
    finals: dict[str, float] = {}
    total = 0
    for c in fake.of("response_url"):
        if c.body.get("replace_original") in (True, "true"):
            total += 1
            finals.setdefault(c.path, c.at)
        else:
            placeholders.setdefault(c.path, c.at)
    return placeholders, finals, total


def default_pool_size(fake: FakeSlack) -> int | None:
    """The adapter's own worker count when no executor is passed (read off a throwaway bot)."""
    probe = SlackBot(SlowService(0), bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url)
    try:
        return getattr(probe._executor, "_max_workers", None)
    finally:
        probe.close(1)


def _noop(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="concurrent /ask commands (default 100)")
    ap.add_argument("--delay", type=float, default=10.0, help="seconds the model takes per answer (default 10)")
    ap.add_argument("--workers", type=int, default=None,
                    help="answer pool size passed to SlackBot (default: --n); 0 = the adapter's default pool")
    ap.add_argument("--backlog", type=int, default=0,
                    help="listen backlog for the adapter's server socket (default 0: leave serve_http's as is)")
    ap.add_argument("--thread-listeners", action="store_true",
                    help="SlackBot(process_before_response=False): Bolt runs each listener on its own thread and "
                         "polls for the ack (the adapter's default runs them inline)")
    ap.add_argument("--client-process", action="store_true",
                    help="run the client thread pool in a separate process (keeps it off the server's GIL)")
    ap.add_argument("--warm", action="store_true", help="send one command before the burst")
    ap.add_argument("--reference", action="store_true",
                    help="also send the same burst to the same server with a handler that answers at once: the "
                         "client's own and loopback's share of the client-observed latency")
    ap.add_argument("--timeout", type=float, default=None, help="seconds to wait for answers (default: projected + 60)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    fake = FakeSlack().start()
    assert fake._server is not None
    fake._server.socket.listen(1024)  # Linux: listen() again resizes the accept queue
    default_workers = default_pool_size(fake)
    workers = args.n if args.workers is None else args.workers
    pool = None if workers == 0 else ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-answers")
    effective = workers or default_workers or 1
    service = SlowService(args.delay)
    bot = SlackBot(service, bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url, executor=pool,
                   process_before_response=not args.thread_listeners)
    runner = SlackRunner(bot, mode="http")
    times = AckTimes(keep=True)
    server = BotHTTPServer(None, 0, host="127.0.0.1", slack=runner.wsgi, ack_times=times).start()
    port = server.port
    if args.backlog:
        server.httpd.socket.listen(args.backlog)
    backlog = args.backlog or BACKLOG
    verifier = SignatureVerifier(SECRET)

    print(f"slack /ask ack bench: n={args.n}, model delay={args.delay:g} s, "
          f"answer pool={effective} workers ({'adapter default' if workers == 0 else 'bench executor'}; "
          f"adapter default is {default_workers}), listen backlog {backlog}"
          f"{' (BotHTTPServer default)' if not args.backlog else ''}, "
          f"listeners {'on threads (process_before_response=False)' if args.thread_listeners else 'inline'}, "
          f"clients in {'a separate process' if args.client_process else 'this process'}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")

    if args.warm:
        status, took, _ = send(port, command_body(fake, -1), verifier)
        print(f"warm-up command: HTTP {status} in {ms(took)}")
        deadline = time.monotonic() + args.delay + 30
        while "/response/ask--1" not in replies(fake)[1] and time.monotonic() < deadline:
            time.sleep(0.05)

    bodies = [command_body(fake, i) for i in range(args.n)]

    def burst(to_port: int) -> list[tuple[int, float, float] | str]:
        if args.client_process:  # the client threads in their own interpreter: they do not take this one's GIL
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as proc:
                proc.submit(int, 0).result()  # start the interpreter before the clock matters
                return proc.submit(burst_of_commands, to_port, bodies, SECRET).result()
        return burst_of_commands(to_port, bodies, SECRET)

    if args.reference:
        noop = BotHTTPServer(None, 0, host="127.0.0.1", slack=_noop).start()
        ref = [o[1] for o in burst(noop.port) if not isinstance(o, str)]
        noop.stop()
        print(f"reference, the same burst to a handler that answers at once: client-observed "
              f"p50 {ms(statistics.median(ref))}  p95 {ms(pct(ref, 0.95))}")
    outcomes = burst(port)
    results = [o for o in outcomes if not isinstance(o, str)]
    errors = len(outcomes) - len(results)
    for o in sorted({o for o in outcomes if isinstance(o, str)}):
        print(f"request failed: {o} (x{outcomes.count(o)})")
    burst = min(r[2] for r in results) if results else time.monotonic()
    acks = [r[1] for r in results]
    ok = sum(1 for r in results if r[0] == 200)
    print(f"acks: {ok}/{args.n} HTTP 200" + (f", {errors} failed" if errors else "")
          + (f", other statuses {sorted({r[0] for r in results if r[0] != 200})}" if ok != len(results) else ""))
    served = (times.samples or [])[1 if args.warm else 0:]
    if served:
        print(f"ack latency, server-side: p50 {ms(statistics.median(served))}  p95 {ms(pct(served, 0.95))}  "
              f"max {ms(max(served))}  (target p95 <= 50 ms: {'met' if pct(served, 0.95) <= 0.050 else 'NOT met'})")
    if acks:
        print(f"ack latency, client-observed: p50 {ms(statistics.median(acks))}  p95 {ms(pct(acks, 0.95))}  "
              f"max {ms(max(acks))}")

    waves = math.ceil(args.n / effective)
    projected = waves * args.delay
    timeout = args.timeout if args.timeout is not None else projected + 60
    print(f"waiting for {args.n} answers at the response_url recorder "
          f"(expected ~{projected:g} s: {waves} wave(s) of {args.delay:g} s; timeout {timeout:g} s)…")
    wanted = {f"/response/ask-{i}" for i in range(args.n)}
    deadline = time.monotonic() + timeout
    while True:
        placeholders, finals, total = replies(fake)
        if wanted <= finals.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    got = [finals[p] - burst for p in wanted if p in finals]
    shown = [placeholders[p] - burst for p in wanted if p in placeholders]
    cited = sum(1 for c in fake.of("response_url") if c.path in wanted and c.body.get("replace_original") in
                (True, "true") and "news.example/strike" in str(c.body.get("blocks")))
    lost = len(wanted - finals.keys())
    print(f"answers arrived: {len(got)}/{args.n} ({lost} lost, {cited} with the citation, "
          f"{total - len(finals)} duplicates), "
          f"peak model calls in flight {service.peak}")
    if got:
        print(f"answer arrival after the burst: first {min(got):.2f} s  p50 {statistics.median(got):.2f} s  "
              f"p95 {pct(got, 0.95):.2f} s  last {max(got):.2f} s")
    if shown:
        print(f"'Searching…' placeholder after the burst: p50 {statistics.median(shown):.2f} s  "
              f"p95 {pct(shown, 0.95):.2f} s  last {max(shown):.2f} s ({len(shown)}/{args.n} shown)")
    if workers != 0 and default_workers:
        dw = math.ceil(args.n / default_workers)
        print(f"with the adapter's default pool ({default_workers} workers) the same burst would take "
              f"{dw} waves x {args.delay:g} s = ~{dw * args.delay:g} s for the last answer "
              f"(placeholder for the last user after ~{(dw - 1) * args.delay:g} s)")

    server.stop()
    runner.stop(5)
    if pool is not None:
        pool.shutdown(wait=False)
    fake.stop()
    return 0 if lost == 0 and ok == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
