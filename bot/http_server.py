"""The bot's one HTTP server: Slack's Events API in HTTP mode, /healthz, /readyz and /metrics.

Stdlib only. Metrics are read from the database at scrape time, so all replicas agree.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

log = logging.getLogger("briefbot.http")

CHAT_WORKERS = 32  # threads answering chat requests; each mostly waits on a model or the network


class BurstTolerantServer(HTTPServer):
    """The stdlib HTTP server with a real listen backlog and a fixed pool of handler threads.

    The stdlib's default backlog of 5 reset connections in a burst (100 simultaneous slash commands lost 79
    of them in bench/slack_ack.py), and its thread per connection made the accepting thread wait for each
    new thread to start while a hundred others held the GIL. A slow or silent client is cut off after
    `Handler.timeout` seconds, so it cannot hold a pool thread for long.
    """

    request_queue_size = 128
    workers = 16

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="briefbot-http")
        self._accepted = threading.local()

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._serve, request, client_address, time.perf_counter())

    def _serve(self, request: Any, client_address: Any, accepted: float) -> None:
        self._accepted.at = accepted
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def accepted_at(self) -> float:
        """When the connection the calling handler thread serves was accepted (perf_counter)."""
        return float(getattr(self._accepted, "at", time.perf_counter()))

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class QuickHandler(BaseHTTPRequestHandler):
    """A request handler that sends each response in one write with Nagle off, and gives up on a client
    that sends nothing for 10 s."""

    timeout = 10
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: headers and body leave together when the handler finishes


SlackHandler = Callable[[bytes, dict[str, str], str], tuple[int, dict[str, str], bytes]]
MAX_BODY = 1_000_000
SLOW_ACK = 2.5  # seconds; Slack gives up on an ack after 3 s and delivers the request again
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class AckTimes:
    """How long this process took to answer Slack's requests, from accepting the connection to the response
    handed to the socket: a Prometheus histogram, plus every sample for benchmarks when `keep` is set."""

    def __init__(self, keep: bool = False) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.samples: list[float] | None = [] if keep else None
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self.total += seconds
            if self.samples is not None:
                self.samples.append(seconds)

    def exposition(self) -> list[str]:
        name = "briefbot_slack_request_seconds"
        out = [f"# HELP {name} Time this process took to answer a request on /slack/events (Slack waits 3 s).",
               f"# TYPE {name} histogram"]
        with self._lock:
            running = 0
            for bound, n in zip(BUCKETS, self.counts, strict=False):
                running += n
                out.append(f'{name}_bucket{{le="{bound:g}"}} {running}')
            out.append(f'{name}_bucket{{le="+Inf"}} {sum(self.counts)}')
            out.append(f"{name}_sum {self.total:g}")
            out.append(f"{name}_count {sum(self.counts)}")
        return out


def metrics_text(store: Any) -> str:
    """Prometheus text exposition of the bot's counters, from the store's own records."""
    q = store.execute
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            lines.append(f"{name}{labels} {value:g}")

    metric("briefbot_documents", "gauge", "Documents stored.", [("", q("SELECT COUNT(*) FROM documents")[0][0])])
    outcomes = q("SELECT outcome, COUNT(*) FROM ingest_items GROUP BY outcome")
    metric("briefbot_documents_ingested_total", "counter", "Ingested items by outcome.",
           [(f'{{outcome="{o}"}}', n) for o, n in outcomes if o != "skipped"])
    metric("briefbot_ingest_errors_total", "counter", "Ingest items skipped with an error.",
           [("", sum(n for o, n in outcomes if o == "skipped"))])
    answers = q("SELECT backend, found, COUNT(*) FROM answers GROUP BY backend, found")
    metric("briefbot_answers_total", "counter", "Answers given, by backend.",
           [(f'{{backend="{b}"}}', sum(n for b2, _, n in answers if b2 == b)) for b in {a[0] for a in answers}])
    metric("briefbot_answers_not_found_total", "counter", "Questions the stored articles did not answer.",
           [("", sum(n for _, f, n in answers if not f))])
    calls = q("SELECT outcome, COUNT(*), COALESCE(SUM(tokens_in),0), COALESCE(SUM(tokens_out),0),"
              " COALESCE(SUM(latency_ms),0) FROM llm_calls GROUP BY outcome")
    metric("briefbot_llm_calls_total", "counter", "LLM calls by outcome.", [(f'{{outcome="{c[0]}"}}', c[1]) for c in calls])
    metric("briefbot_llm_tokens_total", "counter", "LLM tokens.",
           [('{direction="in"}', sum(c[2] for c in calls)), ('{direction="out"}', sum(c[3] for c in calls))])
    metric("briefbot_llm_latency_seconds_sum", "counter", "Total LLM call latency.",
           [("", sum(c[4] for c in calls) / 1000)])
    metric("briefbot_llm_latency_seconds_count", "counter", "LLM calls timed.", [("", sum(c[1] for c in calls))])
    claims = q("SELECT status, COUNT(*) FROM digest_claims GROUP BY status")
    metric("briefbot_digest_posts_total", "counter", "Digest slots posted.",
           [("", sum(n for s, n in claims if s == "posted"))])
    metric("briefbot_digest_failures_total", "counter", "Digest slots whose last attempt failed.",
           [("", sum(n for s, n in claims if s == "failed"))])
    return "\n".join(lines) + "\n"


class BotHTTPServer:
    """Serves the routes on 127.0.0.1 or 0.0.0.0:port in a background thread."""

    def __init__(self, store: Any, port: int, host: str = "0.0.0.0", slack: SlackHandler | None = None,
                 ready: Callable[[], bool] | None = None, ack_times: AckTimes | None = None) -> None:
        self.store = store
        self.slack = slack
        self.ready = ready or (lambda: True)
        self.ack_times = ack_times or AckTimes()
        outer = self

        class Handler(QuickHandler):
            server_version = "briefbot"

            def log_message(self, format: str, *args: Any) -> None:  # request lines go to debug, never bodies
                log.debug("%s %s", self.command, self.path.split("?")[0])

            def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", (headers or {}).pop("Content-Type", ctype) if headers else ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()  # headers and body in one write

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/healthz":
                    self._send(200, b"ok\n")
                elif path == "/readyz":
                    try:
                        outer.store.count_documents()
                        ok = outer.ready()
                    except Exception as e:  # a database that is down means not ready, with the reason
                        self._send(503, f"not ready: {type(e).__name__}\n".encode())
                        return
                    self._send(200 if ok else 503, b"ready\n" if ok else b"not ready: chat adapters starting\n")
                elif path == "/metrics":
                    try:
                        body = (metrics_text(outer.store) + "\n".join(outer.ack_times.exposition()) + "\n").encode()
                    except Exception:
                        log.exception("metrics failed")
                        self._send(500, b"metrics unavailable\n")
                        return
                    self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
                else:
                    self._send(404, b"not found\n")

            def do_POST(self) -> None:
                path, _, query = self.path.partition("?")
                if path != "/slack/events" or outer.slack is None:
                    self._send(404, b"not found\n")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._send(413, b"request too large\n")
                    return
                body = self.rfile.read(length)
                status, headers, out = outer.slack(body, {k.lower(): v for k, v in self.headers.items()}, query)
                self._send(status, out, headers=dict(headers))
                took = time.perf_counter() - outer.httpd.accepted_at()
                outer.ack_times.observe(took)
                if took > SLOW_ACK:
                    log.warning("a Slack request took %.1f s to answer: Slack retries after 3 s (is the machine "
                                "overloaded, or the database slow?)", took)

        self.httpd = BurstTolerantServer((host, port), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)

    def start(self) -> BotHTTPServer:
        """Serve in the background."""
        self._thread.start()
        log.info("HTTP server on port %d (/healthz, /readyz, /metrics%s)", self.port,
                 ", /slack/events" if self.slack else "")
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()
