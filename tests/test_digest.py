"""Digests as a channel sees them: posted when the local clock reaches the slot (not before, not a day late),
on the cadence asked for, holding only what the channel's scope may see and only what is new since the last one.

A real SQLite store in tmp_path and the real BriefBuilder; the chat edge records posts; time is an injected clock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.brief import BriefBuilder
from bot.digest import DigestRunner, latest_slot
from bot.domain import Brief, Subscription
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from tests.conftest import ROOT

SAMPLES = ROOT / "bot" / "samples"  # two outlets on a harbour strike, one on a tram line: two stories
MONDAY = datetime(2031, 3, 3, tzinfo=UTC)  # 3 March 2031 is a Monday


class Clock:
    """An injected clock the test moves by hand; `tick` seconds pass at every reading."""

    def __init__(self, at: datetime, tick: float = 0) -> None:
        self.at = at
        self.tick = timedelta(seconds=tick)

    def __call__(self) -> datetime:
        now = self.at
        self.at += self.tick
        return now


class RecordingPoster:
    """The chat edge: what would be posted, to which channel."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Brief]] = []

    def post_brief(self, channel_id: str, brief: Brief) -> str:
        self.posts.append((channel_id, brief))
        return f"m{len(self.posts)}"

    def to(self, channel: str) -> list[Brief]:
        return [b for c, b in self.posts if c == channel]


def sub(time_of_day: str = "08:00", tz: str = "UTC", cadence: str = "daily", channel: str = "C1") -> Subscription:
    return Subscription(0, "slack", channel, time_of_day, tz, cadence=cadence)


def headlines(brief: Brief) -> list[str]:
    return [s.headline for s in brief.stories]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = open_store(f"sqlite:///{tmp_path}/digest.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    yield s
    s.close()


def runner(store: Any, clock: Clock, poster: RecordingPoster, **kw: Any) -> DigestRunner:
    return DigestRunner(store, BriefBuilder(store, clock=clock), {"slack": poster}, owner="a", clock=clock, **kw)


# -- when a slot is due: the subscriber's local clock, across midnight and time zones -------------


def test_just_after_midnight_the_due_slot_is_yesterdays_not_todays() -> None:
    # 00:05 on Tuesday in Berlin (23:05 UTC on Monday): today's 08:00 is eight hours away
    now = datetime(2031, 3, 3, 23, 5, tzinfo=UTC)
    slot = latest_slot(sub(tz="Europe/Berlin"), now)
    assert slot is not None and slot.key == "2031-03-03 08:00 Europe/Berlin"
    assert slot.at == datetime(2031, 3, 3, 7, 0, tzinfo=UTC)
    # one minute before the slot: still yesterday's; at the minute itself: today's
    before = latest_slot(sub(tz="Europe/Berlin"), datetime(2031, 3, 4, 6, 59, tzinfo=UTC))
    assert before is not None and before.key == "2031-03-03 08:00 Europe/Berlin"
    at = latest_slot(sub(tz="Europe/Berlin"), datetime(2031, 3, 4, 7, 0, tzinfo=UTC))
    assert at is not None and at.key == "2031-03-04 08:00 Europe/Berlin"


def test_a_slot_east_of_utc_falls_on_the_previous_utc_day() -> None:
    # 08:00 in Tokyo is 23:00 UTC the day before; at 23:30 UTC on Sunday it is Monday 08:30 there
    now = datetime(2031, 3, 2, 23, 30, tzinfo=UTC)
    slot = latest_slot(sub("08:00", "Asia/Tokyo"), now)
    assert slot is not None and slot.key == "2031-03-03 08:00 Asia/Tokyo"
    assert slot.at == datetime(2031, 3, 2, 23, 0, tzinfo=UTC)
    # and 17:30 in New York on a winter day is 22:30 UTC
    ny = latest_slot(sub("17:30", "America/New_York"), datetime(2031, 1, 14, 22, 31, tzinfo=UTC))
    assert ny is not None and ny.key == "2031-01-14 17:30 America/New_York"
    assert ny.at == datetime(2031, 1, 14, 22, 30, tzinfo=UTC)


def test_weekly_digests_go_out_on_mondays_only() -> None:
    weekly = sub(cadence="weekly")
    for day in range(7):  # every moment of the week after Monday 08:00 belongs to that Monday's slot
        for hour in (9, 23):
            slot = latest_slot(weekly, MONDAY + timedelta(days=day, hours=hour))
            assert slot is not None and slot.key == "2031-03-03 08:00 UTC", (day, hour)
    # on the next Monday before 08:00 it is still the last Monday's; from 08:00 the new one
    before = latest_slot(weekly, MONDAY + timedelta(days=7, hours=7, minutes=59))
    assert before is not None and before.key == "2031-03-03 08:00 UTC"
    after = latest_slot(weekly, MONDAY + timedelta(days=7, hours=8))
    assert after is not None and after.key == "2031-03-10 08:00 UTC"
    # daily and weekday subscriptions post every day (every working day) of that week
    daily = [latest_slot(sub(), MONDAY + timedelta(days=d, hours=9)) for d in range(7)]
    assert [s.key[:10] for s in daily if s] == [f"2031-03-{d:02d}" for d in range(3, 10)]
    weekdays = [latest_slot(sub(cadence="weekdays"), MONDAY + timedelta(days=d, hours=9)) for d in range(7)]
    assert [s.key[:10] for s in weekdays if s] == ["2031-03-03", "2031-03-04", "2031-03-05", "2031-03-06",
                                                  "2031-03-07", "2031-03-07", "2031-03-07"]


def test_a_digest_is_posted_when_its_slot_comes_not_after_midnight(store: Any) -> None:
    store.upsert_subscription(sub("08:00", "Europe/Berlin"))
    poster = RecordingPoster()
    clock = Clock(datetime(2031, 3, 3, 23, 5, tzinfo=UTC))  # 00:05 in Berlin: Monday's slot is 16 hours old
    r = runner(store, clock, poster)
    assert r.run_due() == [] and poster.posts == [] and store.claims() == []
    clock.at = datetime(2031, 3, 4, 6, 59, tzinfo=UTC)  # 07:59 in Berlin
    assert r.run_due() == [] and poster.posts == []
    clock.at = datetime(2031, 3, 4, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    out = r.run_due()
    assert [(s.channel, slot.key, outcome) for s, slot, outcome in out] == [
        ("C1", "2031-03-04 08:00 Europe/Berlin", "posted m1")]
    assert len(poster.posts) == 1
    clock.at += timedelta(hours=6)  # the same slot is not posted twice
    assert r.run_due() == [] and len(poster.posts) == 1


def test_a_missed_slot_is_posted_within_the_grace_window_only(store: Any) -> None:
    store.upsert_subscription(sub("06:00"))
    poster = RecordingPoster()
    clock = Clock(MONDAY + timedelta(hours=12, minutes=1))  # six hours and a minute late: the bot was down
    assert runner(store, clock, poster).run_due() == [] and poster.posts == []
    clock.at = MONDAY + timedelta(days=1, hours=12)  # exactly six hours late: still posted
    assert len(runner(store, clock, poster).run_due()) == 1 and len(poster.posts) == 1


def test_a_weekly_digest_posts_once_a_week_and_looks_back_a_week(store: Any) -> None:
    BriefBuilder(store, clock=Clock(MONDAY - timedelta(days=3))).catch_up()  # the stories formed on Friday
    store.upsert_subscription(sub("08:00", cadence="weekly", channel="CW"))
    store.upsert_subscription(sub("08:00", cadence="daily", channel="CD"))
    poster = RecordingPoster()
    clock = Clock(MONDAY + timedelta(hours=8, minutes=1))
    r = runner(store, clock, poster)
    for _ in range(7):
        r.run_due()
        clock.at += timedelta(days=1)
    weekly, daily = poster.to("CW"), poster.to("CD")
    assert len(weekly) == 1 and len(daily) == 7
    # the first weekly digest covers the last seven days; the first daily one only the last day
    assert len(weekly[0].stories) == 2
    assert daily[0].stories == [] and "nothing new" in daily[0].note


# -- what a digest holds ----------------------------------------------------------------------------


def test_a_scoped_channels_digest_holds_only_its_sources(store: Any) -> None:
    store.upsert_subscription(sub(channel="CALL"))
    store.upsert_subscription(sub(channel="CTRAM"))
    store.set_channel_sources("slack", "CTRAM", ["riverside-tram.txt"])
    poster = RecordingPoster()
    runner(store, Clock(MONDAY + timedelta(hours=8)), poster).run_due()
    (everything,), (tram,) = poster.to("CALL"), poster.to("CTRAM")
    assert len(everything.stories) == 2
    assert headlines(tram) == ["Council approves Riverside tram line after six-year debate"]
    assert all("riverside-tram" in s["source"] for st in tram.stories for s in st.sources)


def test_new_documents_join_stories_before_the_digest_so_they_are_not_repeated(store: Any) -> None:
    # a real clock moves while the digest is built: a document put into a story during the build would carry
    # a time after the digest's own and show again in the next one
    store.upsert_subscription(sub())
    poster = RecordingPoster()
    clock = Clock(MONDAY + timedelta(hours=8), tick=1)
    r = runner(store, clock, poster)
    r.run_due()
    assert len(poster.posts[0][1].stories) == 2
    assert store.unassigned_documents() == []
    clock.at += timedelta(days=1)
    r.run_due()
    assert len(poster.posts) == 2
    assert poster.posts[1][1].stories == [] and "nothing new" in poster.posts[1][1].note


def test_a_failure_assigning_stories_before_the_digests_does_not_stop_them(store: Any, caplog: Any) -> None:
    store.upsert_subscription(sub())
    poster = RecordingPoster()
    clock = Clock(MONDAY + timedelta(hours=8))
    builder = BriefBuilder(store, clock=clock)

    class FailingCatchUp:
        """The build with a catch-up step that fails once (a database hiccup): the build assigns again."""

        def __call__(self, *a: Any) -> Brief:
            return builder(*a)

        def catch_up(self) -> int:
            raise RuntimeError("database is locked")

    with caplog.at_level(logging.WARNING, logger="briefbot.digest"):
        out = DigestRunner(store, FailingCatchUp(), {"slack": poster}, owner="a", clock=clock).run_due()
    assert [o for _, _, o in out] == ["posted m1"] and len(poster.posts[0][1].stories) == 2
    assert "database is locked" in caplog.text
    # a build without the step (a plain function) posts too, and warns of nothing
    caplog.clear()
    clock.at += timedelta(days=1)
    with caplog.at_level(logging.WARNING, logger="briefbot.digest"):
        out = DigestRunner(store, lambda *a: builder(*a), {"slack": poster}, owner="a", clock=clock).run_due()
    assert [o for _, _, o in out] == ["posted m2"] and caplog.text == ""


def test_an_empty_digest_is_skipped_when_asked_and_the_next_starts_from_it(store: Any) -> None:
    store.upsert_subscription(sub())
    poster = RecordingPoster()
    clock = Clock(MONDAY + timedelta(hours=8))
    BriefBuilder(store, clock=Clock(MONDAY - timedelta(days=2))).catch_up()  # nothing joined in the last day
    r = runner(store, clock, poster, skip_empty=True)
    assert [o for _, _, o in r.run_due()] == ["skipped (nothing new)"] and poster.posts == []
    (claim,) = store.claims()
    assert claim["status"] == "posted" and claim["message_id"] is None
    assert store.last_digest_at(claim["subscription_id"]) == "2031-03-03T08:00:00+00:00"
    # without skip_empty the channel is told there is nothing new
    clock.at += timedelta(days=1)
    assert [o for _, _, o in runner(store, clock, poster).run_due()] == ["posted m1"]
    assert poster.posts[0][1].stories == [] and poster.posts[0][1].note.startswith("nothing new")


def test_an_empty_digest_from_any_build_says_nothing_is_new(store: Any) -> None:
    store.upsert_subscription(sub())
    poster = RecordingPoster()
    asked: list[tuple[str | None, list[str] | None, str | None]] = []

    def build(topic: str | None, sources: list[str] | None, since: str | None) -> Brief:
        asked.append((topic, sources, since))
        return Brief(stories=[], generated_at="2031-03-03T08:00:00+00:00")  # a build that leaves the note empty

    DigestRunner(store, build, {"slack": poster}, owner="a", clock=Clock(MONDAY + timedelta(hours=8))).run_due()
    assert poster.posts[0][1].note == "nothing new since the last digest"
    assert asked == [(None, None, "2031-03-02T08:00:00+00:00")]  # the first digest looks back one day


def test_a_subscription_with_a_cadence_this_version_does_not_know_is_daily(store: Any) -> None:
    # a row written by a newer version (or by hand): posted every day, looking back one day, never skipped
    store.upsert_subscription(sub(cadence="fortnightly"))
    poster = RecordingPoster()
    since: list[str | None] = []
    clock = Clock(MONDAY + timedelta(days=2, hours=8))  # a Wednesday
    builder = BriefBuilder(store, clock=clock)

    def build(topic: str | None, sources: list[str] | None, s: str | None) -> Brief:
        since.append(s)
        return builder(topic, sources, s)

    DigestRunner(store, build, {"slack": poster}, owner="a", clock=clock).run_due()
    assert len(poster.posts) == 1 and since == ["2031-03-04T08:00:00+00:00"]


def test_a_brief_the_store_cannot_keep_is_posted_without_a_page_link(store: Any, tmp_path: Path,
                                                                    caplog: Any) -> None:
    # the briefs table breaks under the bot: the digest still goes out, and it links to no page that does not exist
    import sqlite3

    store.upsert_subscription(sub("08:00"))
    with sqlite3.connect(tmp_path / "digest.db") as db:
        db.execute("ALTER TABLE briefs RENAME TO gone")
    poster = RecordingPoster()
    with caplog.at_level(logging.ERROR):
        out = runner(store, Clock(datetime(2031, 3, 4, 8, 0, tzinfo=UTC)), poster).run_due()
    assert [outcome for _, _, outcome in out] == ["posted m1"]
    assert poster.posts[0][1].id == ""
    assert "could not store a digest for slack C1" in caplog.text


def test_a_resume_settles_only_a_missed_slot_still_in_its_grace_window(store: Any) -> None:
    from bot.digest import GRACE, skip_missed_slot

    s = store.upsert_subscription(sub("08:00"))
    poster = RecordingPoster()
    clock = Clock(datetime(2031, 3, 4, 8, 0, tzinfo=UTC))
    runner(store, clock, poster).run_due()  # 08:00 posted before the pause
    assert skip_missed_slot(store, s, datetime(2031, 3, 4, 8, 30, tzinfo=UTC)) is None  # nothing was missed
    assert [(c["owner"], c["message_id"]) for c in store.claims(s.id)] == [("a", "m1")]
    # the next slot passes while paused: within its grace window it is settled, so resuming does not post it late
    late = datetime(2031, 3, 5, 8, 0, tzinfo=UTC) + GRACE / 2
    assert skip_missed_slot(store, s, late) is not None
    # one that passed longer ago than the grace window is left alone (the runner would not post it anyway)
    old = datetime(2031, 3, 6, 8, 0, tzinfo=UTC) + GRACE + timedelta(minutes=1)
    assert skip_missed_slot(store, s, old) is None
    assert sorted(c["slot"] for c in store.claims(s.id)) == ["2031-03-04 08:00 UTC", "2031-03-05 08:00 UTC"]
