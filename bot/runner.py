"""`briefbot run`: the long-running process — source polling, digests, the chat adapters and the HTTP server,
each built by bot.app.App; this module only starts them, runs the loops and stops them.

Stops cleanly on SIGTERM/SIGINT: running jobs finish, the store is closed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import App
from bot.core import CHAT_SOURCE_KIND
from bot.digest import Poster
from bot.http_server import WSGIApp
from bot.ingest.pipeline import RunReport, SourceState
from bot.service import Service
from bot.store.base import SourceRow

log = logging.getLogger("briefbot.run")


def poll_source(app: App, source: SourceRow) -> RunReport:
    """Ingest one registered source, carrying its conditional-GET state, and record the outcome."""
    state = SourceState(source.etag, source.last_modified, untrusted=source.kind == CHAT_SOURCE_KIND)
    report = app.ingester().ingest([source.location], trigger=f"source:{source.id}", source_id=source.id,
                                   state=state, outlet=source.outlet)
    errors = [i for i in report.items if i.outcome == "skipped"]
    last_error = f"{errors[0].location}: {errors[0].reason}" if errors and len(errors) == len(report.items) else None
    app.store.update_source(source.id, etag=state.etag, last_modified=state.last_modified,
                            last_polled=datetime.now(UTC).replace(microsecond=0).isoformat(),
                            last_error=last_error)
    log.info("polled %s: %s", source.location, report.summary())
    c = report.counts
    if (c["new"] or c["updated"]) and app.settings.embedder == "none":
        # into stories now, so the next /brief or digest does not wait for it; with an embedder the embedding
        # job does it once their leads have vectors (what they mean groups them), and a brief or digest that
        # comes first assigns them itself
        _assign_stories(app)
    for i in errors:
        log.warning("skipped %s: %s", i.location, i.reason)
    return report


def setup_logging(level: str, as_json: bool) -> None:
    """Plain or JSON log lines on stderr."""
    import json

    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            d: dict[str, Any] = {"time": self.formatTime(record), "level": record.levelname,
                                 "logger": record.name, "message": record.getMessage()}
            if record.exc_info:
                d["exc"] = self.formatException(record.exc_info)
            return json.dumps(d, ensure_ascii=False)

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if as_json else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run(app: App, once: bool = False, stop: threading.Event | None = None) -> int:
    """Poll sources and post digests on schedule, with the chat adapters whose tokens are set,
    until SIGTERM/SIGINT (or `stop` is set)."""
    from bot.scheduler import SourceScheduler

    setup_logging(app.settings.log_level, app.settings.log_json)
    if once:
        for s in app.store.list_sources():
            poll_source(app, s)
        app.close()
        return 0
    stop = stop or threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    adapters = start_adapters(app, app.core(), owner)
    posters = {name: a.poster for name, a in adapters.items()}
    slack = adapters.get("slack")
    try:
        http = app.http_server(slack.wsgi if slack is not None else None)
    except OSError as e:  # the port is taken: one line saying which, then everything started is stopped
        log.error("%s", e.strerror or e)
        _stop_adapters(adapters)
        app.close()
        return 1
    http.start()
    digests = app.digest_runner(posters, owner)
    sched = SourceScheduler(app.store.list_sources, lambda s: poll_source(app, s))
    sched.start()
    sched.add_job(_safe(digests.run_due, "digest tick"), "interval", seconds=DIGEST_TICK_SECONDS, id="digests",
                  next_run_time=datetime.now(UTC))
    sched.add_job(_safe(lambda: app.store.prune_events((datetime.now(UTC) - timedelta(days=2)).isoformat()),
                        "event pruning"), "interval", hours=6, id="prune-events")
    # a thread quiet for a month starts afresh: its turns are forgotten
    sched.add_job(_safe(lambda: app.store.prune_turns((datetime.now(UTC) - timedelta(days=CONVERSATION_DAYS))
                                                      .isoformat()), "conversation pruning"),
                  "interval", hours=6, id="prune-turns")
    # polls never wait for the model: what they store is embedded here, a batch at a time, stopping with us
    sched.add_job(_safe(lambda: embed_stored(app, stop), "embedding"), "interval", seconds=EMBED_TICK_SECONDS,
                  id="embed", next_run_time=datetime.now(UTC) + timedelta(seconds=2))
    n = len(app.store.list_sources())
    log.info("briefbot running: %d source(s), chat: %s, database %s", n, ", ".join(adapters) or "none",
             _safe_url(app.settings.database_url))
    if n == 0:
        log.info("no sources yet: add one with `briefbot sources add PATH|URL --every 30m`")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        http.stop()
        sched.shutdown()
        _stop_adapters(adapters)
        app.close()
        log.info("stopped")
    return 0


DIGEST_TICK_SECONDS = 60
EMBED_TICK_SECONDS = 30
CONVERSATION_DAYS = 30  # turns older than this are forgotten


def embed_stored(app: App, stop: threading.Event | None = None) -> int:
    """Embed the passages without a vector (the model loads on the first call), then put new documents into
    stories; how many passages were embedded."""
    from bot.embed import EmbedError, embed_pending

    embedder = app.embedder()
    n = 0
    if embedder is not None:
        try:
            n = embed_pending(app.store, embedder, stop=stop)
        except EmbedError as e:  # a server down: one line, tried again on the next tick
            log.warning("embedding stopped (retried in %d s): %s", EMBED_TICK_SECONDS, e)
        if n:
            log.info("embedded %d passage(s) with %s", n, embedder.name)
    if stop is None or not stop.is_set():
        _assign_stories(app)  # documents left unassigned (none: one query), with the vectors there are
    return n


def _assign_stories(app: App) -> None:
    try:
        app.brief_builder("extractive").catch_up()  # stories only: no LLM summarizer built every tick
    except Exception as e:  # retried on the next tick, and before the next brief or digest reads stories
        log.warning("assigning new documents to stories failed: %s", e)


def _stop_adapters(adapters: dict[str, RunningAdapter]) -> None:
    for name, a in adapters.items():
        try:
            a.stop()
        except Exception:
            log.exception("stopping %s failed", name)


def _safe(fn: Any, what: str) -> Any:
    def wrapped() -> None:
        try:
            fn()
        except Exception:  # a failing tick is logged and retried on the next one
            log.exception("%s failed", what)
    return wrapped


def start_adapters(app: App, core: Service, owner: str = "local", slack_retry: float = 5.0) -> dict[str, RunningAdapter]:
    """Start the chat adapters the settings configure; one failing to connect does not stop the rest."""
    out: dict[str, RunningAdapter] = {}
    slack = app.slack(core, owner, retry=slack_retry)
    if slack is not None:
        if slack.start() and slack.runner is not None:
            log.info("slack started in %s mode", slack.runner.mode)
        if slack.error is None:  # up, or still trying
            out["slack"] = RunningAdapter(poster=slack, stop=slack.stop, handle_http=slack.handle_http,
                                          wsgi=slack.wsgi)
    discord = app.discord(core)
    if discord is not None:
        discord.start()
        if discord.wait_until_ready(30):
            log.info("discord connected")
        elif discord.error is None:
            log.warning("discord not connected after 30 s: still trying in the background")
        else:
            log.error("discord did not connect: %s", discord.error)
        out["discord"] = RunningAdapter(poster=discord.poster, stop=discord.stop)
    return out


@dataclass
class RunningAdapter:
    """A started chat adapter: how to post digests through it, stop it, and route HTTP to it."""

    poster: Poster
    stop: Callable[[], None]
    handle_http: Callable[[bytes, dict[str, str], str], tuple[int, dict[str, str], bytes]] | None = None
    wsgi: WSGIApp | None = None  # POST /slack/events for the HTTP server


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
