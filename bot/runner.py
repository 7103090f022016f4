"""`briefbot run`: the long-running process — source polling now, chat adapters and HTTP later.

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
from bot.http_server import WSGIApp
from bot.ingest.pipeline import RunReport, SourceState
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
    if c["new"] or c["updated"]:  # into stories now, so the next /brief or digest does not wait for it
        try:
            app.brief_builder().catch_up()
        except Exception as e:  # retried before the next brief or digest reads stories
            log.warning("assigning new documents to stories failed: %s", e)
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
    from bot.digest import DigestRunner
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
    from bot.http_server import BotHTTPServer

    core = app.core()
    owner = f"{socket.gethostname()}:{os.getpid()}"
    adapters = start_adapters(app, core, owner)
    posters = {name: a.poster for name, a in adapters.items()}
    slack = adapters.get("slack")
    try:
        http = BotHTTPServer(app.store, app.settings.http_port,
                             slack=slack.wsgi if slack is not None and app.settings.slack_mode == "http" else None,
                             host=app.settings.http_host, pages=app.pages())
    except OSError as e:  # the port is taken: one line saying which, then everything started is stopped
        log.error("%s", e.strerror or e)
        _stop_adapters(adapters)
        app.close()
        return 1
    http.start()
    digests = DigestRunner(app.store, app.brief_builder(), posters, owner=owner,
                           skip_empty=app.settings.digest_skip_empty)
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
    """Embed the passages without a vector (the model loads on the first call); how many were embedded."""
    from bot.embed import EmbedError, embed_pending

    embedder = app.embedder()
    if embedder is None:
        return 0
    try:
        n = embed_pending(app.store, embedder, stop=stop)
    except EmbedError as e:  # a server down: one line, tried again on the next tick
        log.warning("embedding stopped (retried in %d s): %s", EMBED_TICK_SECONDS, e)
        return 0
    if n:
        log.info("embedded %d passage(s) with %s", n, embedder.name)
    return n


def _stop_adapters(adapters: dict[str, Any]) -> None:
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


def start_adapters(app: App, core: Any, owner: str = "local", slack_retry: float = 5.0) -> dict[str, Any]:
    """Start the chat adapters whose tokens are set; one failing to connect does not stop the rest."""
    s = app.settings
    out: dict[str, Any] = {}
    linker = app.linker()
    if s.slack_bot_token:
        from bot.adapters.slack import SlackBot, SlackPoster, SlackRunner, SlackStarter, make_client

        store = app.store
        token = s.slack_bot_token.reveal()
        secret = s.slack_signing_secret.reveal() if s.slack_signing_secret else None
        app_token = s.slack_app_token.reveal() if s.slack_app_token else None

        def build() -> tuple[SlackRunner, SlackPoster]:
            SlackRunner.check(s.slack_mode, app_token, secret)  # a missing setting, before any network call
            client = make_client(token, s.slack_api_url)
            client.auth_test()  # a refused token or an unreachable Slack, told apart before Bolt wraps them
            bot = SlackBot(core, bot_token=token, signing_secret=secret, api_url=s.slack_api_url, client=client,
                           linker=linker,
                           # a redelivered event, or one another replica took, is answered once
                           dedupe=lambda event_id: not store.first_sight("slack", event_id, owner))
            slack = SlackRunner(bot, mode=s.slack_mode, app_token=app_token)
            try:
                slack.start()
            except BaseException:
                bot.close(0)
                raise
            return slack, SlackPoster(bot.client, linker)

        starter = SlackStarter(build, retry_first=slack_retry)
        if starter.start():
            log.info("slack started in %s mode", s.slack_mode)
        if starter.error is None:  # up, or still trying
            out["slack"] = RunningAdapter(poster=starter, stop=starter.stop, handle_http=starter.handle_http,
                                          wsgi=starter.wsgi)
    if s.discord_token:
        from bot.adapters.discord_bot import run_discord

        runner = run_discord(core, s.discord_token.reveal(), s.discord_guild_id, linker=linker,
                             message_content=s.discord_message_content)
        if runner.wait_until_ready(30):
            log.info("discord connected")
        elif runner.error is None:
            log.warning("discord not connected after 30 s: still trying in the background")
        else:
            log.error("discord did not connect: %s", runner.error)
        out["discord"] = RunningAdapter(poster=runner.poster, stop=runner.stop)
    return out


@dataclass
class RunningAdapter:
    """A started chat adapter: how to post digests through it, stop it, and route HTTP to it."""

    poster: Any
    stop: Callable[[], None]
    handle_http: Callable[[bytes, dict[str, str], str], tuple[int, dict[str, str], bytes]] | None = None
    wsgi: WSGIApp | None = None  # POST /slack/events for the HTTP server


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
