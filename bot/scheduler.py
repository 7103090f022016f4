"""APScheduler wiring only: one polling job per registered source, refreshed as sources change.

Jobs call plain functions handed in; nothing here knows how to ingest or post.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import MAX_DURATION, human_duration
from bot.store.base import SourceRow

log = logging.getLogger("briefbot.scheduler")


class SourceScheduler:
    """Polls every registered source on its own interval; picks up added and removed sources."""

    def __init__(self, list_sources: Callable[[], list[SourceRow]], poll: Callable[[SourceRow], Any],
                 refresh_seconds: int = 60) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self._list = list_sources
        self._poll = poll
        self._refresh = refresh_seconds
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
        self._known: dict[str, int] = {}
        self._skipped: dict[str, int] = {}  # sources whose stored interval cannot be scheduled, logged once

    def start(self) -> None:
        """Start polling (first polls run at once) and the refresh job."""
        self.sync()
        self.scheduler.add_job(self.sync, "interval", seconds=self._refresh, id="refresh-sources")
        self.scheduler.start()

    def sync(self) -> None:
        """Add jobs for new sources, drop jobs for removed ones, re-time changed intervals."""
        sources = {f"source-{s.id}": s for s in self._list()}
        for job_id in list(self._known):
            if job_id not in sources or self._known[job_id] != sources[job_id].every_seconds:
                self._remove(job_id)
        for job_id, s in sources.items():
            if job_id in self._known:
                continue
            if not 0 < s.every_seconds <= MAX_DURATION:  # stored before intervals were bounded: it would
                # overflow APScheduler's date arithmetic and stop every start; skip it, say how to mend it
                if self._skipped.get(job_id) != s.every_seconds:
                    self._skipped[job_id] = s.every_seconds
                    log.error("source %s (%s) is not polled: its interval, %s, is outside 1s..%s; re-add it with "
                              "`briefbot sources add %s --every 1d` or remove it with `briefbot sources remove %s`",
                              s.id, s.location, human_duration(s.every_seconds) if s.every_seconds > 0 else
                              f"{s.every_seconds}s", human_duration(MAX_DURATION), s.location, s.id)
                continue
            self._skipped.pop(job_id, None)
            self.scheduler.add_job(self._run, "interval", seconds=s.every_seconds, id=job_id, args=[s.id],
                                   next_run_time=datetime.now(UTC) + timedelta(seconds=1),
                                   replace_existing=True)
            self._known[job_id] = s.every_seconds
            log.info("polling %s every %ss", s.location, s.every_seconds)

    def _remove(self, job_id: str) -> None:
        try:
            self.scheduler.remove_job(job_id)
        except Exception:  # already gone: the refresh raced a removal
            pass
        self._known.pop(job_id, None)

    def _run(self, source_id: int) -> None:
        source = next((s for s in self._list() if s.id == source_id), None)
        if source is None:
            return
        try:
            self._poll(source)
        except Exception:  # a failing source is logged and retried next interval, never fatal
            log.exception("polling %s failed", source.location)

    def add_job(self, *args: Any, **kwargs: Any) -> Any:
        """Schedule another job (digests use this) on the same scheduler."""
        return self.scheduler.add_job(*args, **kwargs)

    def shutdown(self) -> None:
        """Stop scheduling and wait for running jobs to finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
