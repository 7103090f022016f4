"""Digests: which subscription slot is due, claimed once in the database, built, posted, recorded.

A slot is (subscription, local date and time). Claims with a lease make it post once across
restarts, missed runs (within a grace window) and replicas; a crashed or failed claim is retried.
A digest holds the stories a document joined (by the store's clock) since the channel's last digest.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain import Brief, BriefRow, Channel, Subscription
from bot.store.base import Channels

log = logging.getLogger("briefbot.digest")

GRACE = timedelta(hours=6)  # a slot missed while the bot was down is still posted within this window
BRIEF_RETENTION = timedelta(days=90)  # posted briefs and digests are kept this long (BRIEFBOT_BRIEF_RETENTION_DAYS)
PRUNE_EVERY = timedelta(days=1)
RESUMED_BY = "resume"  # the owner of the claim that settles a slot missed while a digest was paused
LOOKBACK = {"daily": timedelta(days=1), "weekdays": timedelta(days=3), "weekly": timedelta(days=7)}


class Poster(Protocol):
    """A chat platform's way of posting a brief to a channel; returns the message id."""

    def post_brief(self, channel_id: str, brief: Brief) -> str: ...


def keep_brief(store: Channels, brief: Brief, channel: Channel, kind: str, topic: str | None) -> None:
    """Store a brief as posted to `channel` (for its page and the channel's archive) and set its id; a store
    failure is logged, never raised: the brief still goes out, without a page link."""
    brief_id = uuid.uuid4().hex[:16]
    row = BriefRow(brief_id, channel.platform, channel.channel, kind, topic,
                   datetime.now(UTC).isoformat(timespec="seconds"), json.dumps(brief.to_json()))
    try:
        store.save_brief(row)
    except Exception:
        log.exception("could not store a %s for %s %s", kind, channel.platform, channel.channel)
        return
    brief.id = brief_id


@dataclass
class Slot:
    """One scheduled digest of one subscription."""

    key: str  # "2026-11-23 08:00 Europe/Berlin"
    at: datetime  # the scheduled moment, UTC


def latest_slot(sub: Subscription, now: datetime) -> Slot | None:
    """The most recent scheduled moment of a subscription at or before `now` (None if none in a week)."""
    tz = ZoneInfo(sub.timezone)
    local_now = now.astimezone(tz)
    hh, mm = (int(x) for x in sub.time_of_day.split(":"))
    for back in range(0, 8):
        day = (local_now - timedelta(days=back)).date()
        at = datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz)
        if at > local_now:
            continue
        if sub.cadence == "weekdays" and at.weekday() >= 5:
            continue
        if sub.cadence == "weekly" and back > 0 and at.weekday() != _weekly_day(sub):
            continue
        if sub.cadence == "weekly" and back == 0 and at.weekday() != _weekly_day(sub):
            continue
        return Slot(key=f"{day.isoformat()} {sub.time_of_day} {sub.timezone}", at=at.astimezone(UTC))
    return None


def _weekly_day(sub: Subscription) -> int:
    return 0  # weekly digests go out on Mondays


def skip_missed_slot(store: Channels, sub: Subscription, now: datetime) -> Slot | None:
    """Mark the slot a paused digest missed (still within the grace window) as done, so resuming does not post it
    late; the next digest covers the news since that slot. Call it before the pause is lifted, so no runner sees
    the slot due in between. Returns the slot settled, if any."""
    slot = latest_slot(sub, now)
    if slot is None or now - slot.at > GRACE:
        return None
    if not store.claim_slot(sub.id, slot.key, RESUMED_BY):
        return None  # posted (or being posted) before the pause
    store.finish_claim(sub.id, slot.key, RESUMED_BY, None, digest_time=slot.at.isoformat(timespec="seconds"))
    return slot


class DigestRunner:
    """Posts every due digest slot once; call `run_due` from a scheduler tick."""

    def __init__(self, store: Channels, build: Callable[[str | None, list[str] | None, str | None], Brief],
                 posters: dict[str, Poster], owner: str, clock: Callable[[], datetime] | None = None,
                 skip_empty: bool = False, lease_seconds: int = 300,
                 brief_retention: timedelta = BRIEF_RETENTION) -> None:
        self.store = store
        self.build = build
        self.posters = posters
        self.owner = owner
        self.clock = clock or (lambda: datetime.now(UTC))
        self.skip_empty = skip_empty
        self.lease_seconds = lease_seconds
        self.brief_retention = brief_retention
        self._pruned: datetime | None = None  # when this runner last pruned old briefs

    def preview(self, sub: Subscription) -> Brief:
        """What the subscription's next digest would hold right now."""
        since = self._since(sub, self.clock())
        sources = self.store.channel_sources(sub.platform, sub.channel) or None
        return self.build(sub.topic, sources, since)

    def _since(self, sub: Subscription, now: datetime) -> str:
        last = self.store.last_digest_at(sub.id)
        return last or (now - LOOKBACK.get(sub.cadence, timedelta(days=1))).isoformat(timespec="seconds")

    def run_due(self) -> list[tuple[Subscription, Slot, str]]:
        """Claim and post every due slot; returns (subscription, slot, outcome) for what this run did."""
        now = self.clock()
        self._prune_briefs(now)
        due = []
        for sub in self.store.list_subscriptions():
            poster = self.posters.get(sub.platform)
            slot = latest_slot(sub, now)
            if sub.paused_at is None and poster is not None and slot is not None and now - slot.at <= GRACE:
                due.append((sub, slot, poster))
        if due:
            self._catch_up()
            now = self.clock()
        done = []
        for sub, slot, poster in due:
            if not self.store.claim_slot(sub.id, slot.key, self.owner, self.lease_seconds):
                continue
            done.append((sub, slot, self._post(sub, slot, poster, now)))
        return done

    def _prune_briefs(self, now: datetime) -> None:
        """Once a day, forget briefs older than the retention (each replica does it; the second finds none)."""
        if self._pruned is not None and now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        try:
            gone = self.store.prune_briefs((now - self.brief_retention).astimezone(UTC).isoformat(timespec="seconds"))
        except Exception as e:  # a digest still goes out; the next day tries again
            log.warning("pruning old briefs failed: %s", e)
            return
        if gone:
            log.info("pruned %d briefs older than %d days", gone, self.brief_retention.days)

    def _catch_up(self) -> None:
        """Put new documents into stories before the clock is read for the digests' time.

        A digest shows the stories a document joined after the last digest's time and records its own
        time; a document assigned during the build would carry a later time and show again next time.
        """
        catch_up = getattr(self.build, "catch_up", None)
        if catch_up is None:
            return
        try:
            catch_up()
        except Exception as e:  # the build assigns too, and a failure there is recorded with the slot
            log.warning("assigning new documents to stories before the digests failed: %s", e)

    def _post(self, sub: Subscription, slot: Slot, poster: Poster, now: datetime) -> str:
        try:
            brief = self.preview(sub)
            if not brief.stories:
                brief.note = brief.note or "nothing new since the last digest"
                if self.skip_empty:
                    self.store.finish_claim(sub.id, slot.key, self.owner, None,
                                            digest_time=now.isoformat(timespec="seconds"))
                    return "skipped (nothing new)"
            if brief.stories:
                keep_brief(self.store, brief, Channel(sub.platform, sub.channel), "digest", sub.topic)
            message_id = poster.post_brief(sub.channel, brief)
        except Exception as e:  # recorded and retried on a later tick, up to the attempt limit
            log.warning("digest for %s %s (%s) failed: %s", sub.platform, sub.channel, slot.key, e)
            self.store.finish_claim(sub.id, slot.key, self.owner, None, error=f"{type(e).__name__}: {e}")
            return f"failed: {e}"
        self.store.finish_claim(sub.id, slot.key, self.owner, message_id,
                                digest_time=now.isoformat(timespec="seconds"))
        log.info("posted digest to %s %s (%s): %d stories, message %s", sub.platform, sub.channel, slot.key,
                 len(brief.stories), message_id)
        return f"posted {message_id}"
