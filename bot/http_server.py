"""The bot's one HTTP server: Slack's Events API in HTTP mode, /healthz, /readyz and /metrics.

Stdlib only. Metrics are read from the database at scrape time, so all replicas agree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("briefbot.http")

CHAT_WORKERS = 32  # threads answering chat requests; each mostly waits on a model or the network


class BurstTolerantServer(ThreadingHTTPServer):
    """The stdlib server with a real listen backlog: its default of 5 resets connections in a burst
    (100 simultaneous slash commands lost 79 of them in bench/slack_ack.py)."""

    daemon_threads = True
    request_queue_size = 128


SlackHandler = Callable[[bytes, dict[str, str], str], tuple[int, dict[str, str], bytes]]
MAX_BODY = 1_000_000


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
                 ready: Callable[[], bool] | None = None) -> None:
        self.store = store
        self.slack = slack
        self.ready = ready or (lambda: True)
        outer = self

        class Handler(BaseHTTPRequestHandler):
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
                        body = metrics_text(outer.store).encode()
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
