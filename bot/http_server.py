"""The bot's one HTTP server: Slack's Events API in HTTP mode, /healthz, /readyz, /metrics and the citation and
brief pages (bot.web), served by waitress.

Owns the socket, the limits and the routes; imports no Slack code (Slack's route is a WSGI app handed in).
Metrics are read from the database at scrape time, so all replicas agree.

Why waitress (bench/http_servers.py, 100 silent + 100 slow connections held open, 100 signed requests):
waitress, uvicorn and aiohttp.web all acked in ~4 ms p50, but only waitress answered a 2 MB Content-Length
with 413 without waiting for the body (uvicorn and aiohttp waited for it), refused a 100 kB header with 431,
logged no traceback for malformed requests (aiohttp did) and had the smallest RSS (18 MB against 28 and 36).
It buffers each whole request in its event loop before a worker thread sees it, so a slow or silent client
never holds a thread; and it is WSGI, the shape of Bolt's synchronous App (slack_bolt.adapter.wsgi).
"""

from __future__ import annotations

import bisect
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

if TYPE_CHECKING:
    from bot.web.pages import Pages

log = logging.getLogger("briefbot.http")
# waitress warns "Task queue depth is N" for every request that waits for a thread, even for 1 ms: a burst of
# Slack requests would fill the log. The ack histogram in /metrics says the same, usefully.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

CHAT_WORKERS = 32  # threads answering chat requests; each mostly waits on a model or the network

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # bytes; Slack's payloads are far smaller
MAX_HEADER = 16_384  # bytes of request line and headers together
REQUEST_DEADLINE = 10.0  # seconds from a request's first byte to its last: a drip-feeding client is cut off
IDLE_TIMEOUT = 10  # seconds a connection may stay silent between requests
CONNECTION_LIMIT = 1000  # open connections before the server stops accepting more
THREADS = 16  # threads running the routes; a request reaches one only once it has fully arrived
BACKLOG = 1024  # listen queue: a burst of connections waits here rather than being reset
SLOW_ACK = 2.5  # seconds; Slack gives up on an ack after 3 s and delivers the request again
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class AckTimes:
    """How long this process took to answer Slack's requests, from the route receiving the whole request to the
    response handed back: a Prometheus histogram, plus every sample for benchmarks when `keep` is set."""

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

    def count(self) -> int:
        """Requests observed so far."""
        with self._lock:
            return sum(self.counts)

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


def plain(start_response: StartResponse, status: int, text: str,
          ctype: str = "text/plain; charset=utf-8") -> list[bytes]:
    """Answer a WSGI request with a short text body."""
    body = text.encode()
    start_response(f"{status} {_REASONS.get(status, 'Error')}",
                   [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}


# ---- waitress, with a deadline per request ------------------------------------------------------------------

class _Channel(HTTPChannel):  # type: ignore[misc]
    """A connection that remembers when its unfinished request started, so maintenance can cut it off."""

    began: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.began = time.time()
        ok = bool(super().received(data))
        if self.request is None:  # nothing half-received: the clock stops
            self.began = None
        return ok


class _Server(TcpWSGIServer):  # type: ignore[misc]
    """waitress's TCP server, also closing a connection whose request has not fully arrived `deadline` seconds
    after its first byte (waitress's own timeout is on silence only; a byte every few seconds would pass it)."""

    channel_class = _Channel
    deadline = REQUEST_DEADLINE

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            began = getattr(channel, "began", None)
            if began is not None and not channel.requests and now - began > self.deadline:
                channel.will_close = True


# Listening sockets and their connections must not outlive this process in a forked child (an ingest worker):
# the child closes its copies right after fork, so a killed parent frees the port at once.
_SERVERS: weakref.WeakSet[BotHTTPServer] = weakref.WeakSet()


def _close_inherited() -> None:
    for server in list(_SERVERS):
        for fd in list(server._map):
            try:
                os.close(fd)
            except OSError:
                pass
        server._map.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited)


class BotHTTPServer:
    """Serves /healthz, /readyz, /metrics and (given `slack`, a WSGI app) POST /slack/events on host:port in a
    background thread. Port 0 picks a free port (`port` says which)."""

    def __init__(self, store: Any, port: int, host: str = "0.0.0.0", slack: WSGIApp | None = None,
                 ready: Callable[[], bool] | None = None, ack_times: AckTimes | None = None, *,
                 threads: int = THREADS, deadline: float = REQUEST_DEADLINE, idle_timeout: int = IDLE_TIMEOUT,
                 max_body: int = MAX_BODY, pages: Pages | None = None) -> None:
        self.store = store
        self.pages = pages
        self.slack = slack
        self.ready = ready or (lambda: True)
        self.ack_times = ack_times or AckTimes()
        try:
            sock = socket.create_server((host, port), backlog=BACKLOG, reuse_port=False)
        except OSError as e:
            raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror} "
                                   "(another briefbot still running? set BRIEFBOT_HTTP_PORT)") from e
        sock.set_inheritable(False)
        self.port: int = sock.getsockname()[1]
        self.server_address: tuple[str, int] = (host, self.port)
        adj = Adjustments(sockets=[sock], threads=threads, backlog=BACKLOG, connection_limit=CONNECTION_LIMIT,
                          channel_timeout=idle_timeout, cleanup_interval=1, max_request_body_size=max_body,
                          max_request_header_size=MAX_HEADER, asyncore_use_poll=True, expose_tracebacks=False,
                          ident="briefbot", clear_untrusted_proxy_headers=True)
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(threads)
        self._map: dict[int, Any] = {}
        self.httpd = _Server(self._route, self._map, True, sock, dispatcher=dispatcher, adj=adj,
                             bind_socket=False, sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))
        self.httpd.deadline = deadline
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)
        _SERVERS.add(self)

    def _serve(self) -> None:
        from waitress import wasyncore

        while not self._stopping.is_set():
            wasyncore.loop(timeout=1.0, map=self._map, use_poll=True, count=1)
        self.httpd.task_dispatcher.shutdown(timeout=5)
        wasyncore.close_all(self._map)

    def start(self) -> BotHTTPServer:
        """Serve in the background."""
        self._thread.start()
        log.info("HTTP server on port %d (/healthz, /readyz, /metrics%s%s)", self.port,
                 ", /slack/events" if self.slack else "", ", pages" if self.pages else "")
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._stopping.set()
        if self._thread.is_alive():
            try:
                self.httpd.pull_trigger()  # wake the loop now rather than at its next one-second timeout
            except OSError:
                pass  # the loop saw the flag first and closed its trigger on the way out: nothing left to wake
            self._thread.join(10)
        else:
            from waitress import wasyncore

            wasyncore.close_all(self._map)
        _SERVERS.discard(self)

    # ---- routes ---------------------------------------------------------------------------------------------

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        try:
            if path == EVENTS_PATH and self.slack is not None:
                if method != "POST":
                    return plain(start_response, 405, "POST only\n")
                return self._slack(environ, start_response)
            if method not in {"GET", "HEAD"}:
                return plain(start_response, 404, "not found\n")
            if path == "/healthz":
                return plain(start_response, 200, "ok\n")
            if path == "/readyz":
                return self._readyz(start_response)
            if path == "/metrics":
                return self._metrics(start_response)
            if self.pages is not None and self.pages.handles(path):
                return self._page(path, method, start_response)
            return plain(start_response, 404, "not found\n")
        except Exception:  # a route's bug: one line with the path, never the request's body
            log.exception("HTTP %s %s failed", method, path)
            return plain(start_response, 500, "internal error\n")

    def _slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert self.slack is not None
        began = time.perf_counter()
        out = b"".join(self.slack(environ, start_response))
        took = time.perf_counter() - began
        self.ack_times.observe(took)
        if took > SLOW_ACK:
            log.warning("a Slack request took %.1f s to answer: Slack retries after 3 s (is the machine "
                        "overloaded, or the database slow?)", took)
        return [out]

    def _page(self, path: str, method: str, start_response: StartResponse) -> Iterable[bytes]:
        assert self.pages is not None
        res = self.pages(path)
        start_response(f"{res.status} {_REASONS.get(res.status, 'Error')}",
                       [*res.headers.items(), ("Content-Length", str(len(res.body)))])
        return [] if method == "HEAD" else [res.body]

    def _readyz(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            self.store.count_documents()
            ok = self.ready()
        except Exception as e:  # a database that is down means not ready, with the reason
            return plain(start_response, 503, f"not ready: {type(e).__name__}\n")
        return plain(start_response, 200 if ok else 503, "ready\n" if ok else "not ready: chat adapters starting\n")

    def _metrics(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            text = metrics_text(self.store) + "\n".join(self.ack_times.exposition()) + "\n"
        except Exception as e:
            log.warning("metrics unavailable: %s: %s", type(e).__name__, e)
            return plain(start_response, 500, "metrics unavailable\n")
        return plain(start_response, 200, text, "text/plain; version=0.0.4; charset=utf-8")
