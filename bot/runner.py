"""`briefbot run`: the long-running process — source polling now, chat adapters and HTTP later.

Stops cleanly on SIGTERM/SIGINT: running jobs finish, the store is closed.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone
from typing import Any

from bot.app import App
from bot.ingest.pipeline import RunReport, SourceState
from bot.store.base import SourceRow

log = logging.getLogger("briefbot.run")


def poll_source(app: App, source: SourceRow) -> RunReport:
    """Ingest one registered source, carrying its conditional-GET state, and record the outcome."""
    state = SourceState(source.etag, source.last_modified)
    report = app.ingester().ingest([source.location], trigger=f"source:{source.id}", source_id=source.id,
                                   state=state)
    errors = [i for i in report.items if i.outcome == "skipped"]
    last_error = f"{errors[0].location}: {errors[0].reason}" if errors and len(errors) == len(report.items) else None
    app.store.update_source(source.id, etag=state.etag, last_modified=state.last_modified,
                            last_polled=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                            last_error=last_error)
    log.info("polled %s: %s", source.location, report.summary())
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
    """Poll sources on their schedules until SIGTERM/SIGINT (or `stop` is set)."""
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
    sched = SourceScheduler(app.store.list_sources, lambda s: poll_source(app, s))
    sched.start()
    n = len(app.store.list_sources())
    log.info("briefbot running: %d source(s), database %s", n, _safe_url(app.settings.database_url))
    if n == 0:
        log.info("no sources yet: add one with `briefbot sources add PATH|URL --every 30m`")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sched.shutdown()
        app.close()
        log.info("stopped")
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
