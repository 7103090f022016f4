"""Briefs (stories across outlets, cited verbatim points and quotes) and digests posted exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answerer
from bot.brief import BriefBuilder
from bot.config import ConfigError, Settings
from bot.core import Core, parse_time_of_day, parse_timezone
from bot.digest import DigestRunner, latest_slot
from bot.domain import Brief, BriefRow, Channel, Subscription
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.sqlite import SQLiteStore
from tests.conftest import ROOT, SEEDS, need

SAMPLES = ROOT / "bot" / "samples"


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = open_store(f"sqlite:///{tmp_path}/b.db")
    assert isinstance(s, SQLiteStore)
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS)), str(SAMPLES)])
    return s


def all_citations(brief: Brief) -> list[Any]:
    out = []
    for st in brief.stories:
        out += [c for k in st.key_points for c in k.citations]
        out += [q.citation for q in st.quotes]
        out += [c for d in st.differences for s in d.sides for c in s.citations]
    return out


def test_seeds_are_one_story_and_samples_split_by_event(store: SQLiteStore) -> None:
    stories = BriefBuilder(store).stories()
    by_size = sorted((len(s.documents) for s in stories), reverse=True)
    assert by_size == [5, 2, 1]
    seeds = next(s for s in stories if len(s.documents) == 5)
    assert all("seeds" in d.location for d in seeds.documents)


def test_brief_points_and_quotes_are_verbatim_and_attributed(store: SQLiteStore) -> None:
    brief = BriefBuilder(store)()
    assert [len(s.sources) for s in brief.stories] == [5, 2, 1]
    for st in brief.stories:
        assert st.headline and st.summary
        assert 1 <= len(st.key_points) <= 7
    cites = all_citations(brief)
    assert cites
    for c in cites:
        doc = store.get_document(str(c.doc_id))
        assert doc is not None and doc.text[c.start:c.end] == c.text, c
    strike = brief.stories[1]
    speakers = {q.speaker for q in strike.quotes}
    assert {"Marta Quinlan", "Henrik Vale"} <= speakers
    for q in strike.quotes:
        doc = store.get_document(str(q.citation.doc_id))
        assert doc is not None and q.text in doc.text
    # the two outlets disagree on the number of waiting ships: 14 against 11
    figures = [d for d in strike.differences if "vessel" in d.topic]
    assert figures and "11" in figures[0].topic and "14" in figures[0].topic
    assert sorted("14 vessels" in s.citations[0].text for s in figures[0].sides) == [False, True]
    assert all(".txt" not in d.topic + s.text for d in strike.differences for s in d.sides)  # outlets by name
    assert brief.to_json()["stories"][0]["key_points"][0]["citations"][0]["source"]


def test_brief_topic_and_since_filters(store: SQLiteStore) -> None:
    b = BriefBuilder(store)
    assert [s.headline for s in b(topic="tram").stories] == ["Council approves Riverside tram line after six-year debate"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    empty = b(since=future)
    assert empty.stories == [] and "nothing new" in empty.note


def test_time_and_timezone_parsing() -> None:
    assert parse_time_of_day("8:00") == "08:00" and parse_time_of_day("17.30") == "17:30"
    with pytest.raises(ValueError, match="25:00"):
        parse_time_of_day("25:00")
    assert parse_timezone("Europe/Berlin") == "Europe/Berlin" and parse_timezone("utc") == "UTC"
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_timezone("Mars/Olympus")


def test_latest_slot_follows_the_local_clock_and_cadence() -> None:
    sub = Subscription(1, "slack", "C1", "08:00", "Europe/Berlin")
    now = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 08:30 in Berlin
    slot = latest_slot(sub, now)
    assert slot is not None and slot.key == "2026-11-23 08:00 Europe/Berlin"
    assert slot.at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    sat = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    wk = latest_slot(Subscription(2, "slack", "C2", "08:00", "UTC", cadence="weekdays"), sat)
    assert wk is not None and wk.key.startswith("2026-11-27")  # Friday's


class RecordingPoster:
    """The chat edge: records what would be posted; can fail on demand."""

    def __init__(self, fail: int = 0) -> None:
        self.posts: list[tuple[str, Brief]] = []
        self.fail = fail

    def post_brief(self, channel_id: str, brief: Brief) -> str:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("chat API said: ratelimited")
        self.posts.append((channel_id, brief))
        return f"m{len(self.posts)}"


def test_digest_posts_each_slot_once_across_replicas_and_restarts(store: SQLiteStore) -> None:
    core = Core(store, Answerer(store), BriefBuilder(store))
    # the slot falls after the documents were fetched, as it would in real life
    t0 = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=5, second=0, microsecond=0)
    core.subscribe(Channel("slack", "C1", "U1"), f"{t0.hour:02d}:00", "UTC")
    now = [t0]
    poster = RecordingPoster()
    replicas = [DigestRunner(store, BriefBuilder(store), {"slack": poster}, owner=f"r{i}", clock=lambda: now[0])
                for i in range(3)]
    for _ in range(3):
        for r in replicas:
            r.run_due()
    assert len(poster.posts) == 1 and poster.posts[0][0] == "C1"
    assert len(poster.posts[0][1].stories) == 3
    claims = store.claims()
    assert [(c["status"], c["message_id"]) for c in claims] == [("posted", "m1")]
    # the next day: only what is new since the last digest -> "nothing new", said honestly
    now[0] += timedelta(days=1)
    replicas[1].run_due()
    assert len(poster.posts) == 2 and poster.posts[1][1].stories == [] and "nothing new" in poster.posts[1][1].note


def test_failed_post_is_retried_and_missed_slot_posted_within_grace(store: SQLiteStore) -> None:
    Core(store, Answerer(store), BriefBuilder(store)).subscribe(Channel("slack", "C9"), "06:00", "UTC", "strike")
    poster = RecordingPoster(fail=1)
    t = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # three hours late: the bot was down at 06:00
    r = DigestRunner(store, BriefBuilder(store), {"slack": poster}, owner="a", clock=lambda: t)
    out = r.run_due()
    assert "failed" in out[0][2] and poster.posts == []
    assert store.claims()[0]["status"] == "failed" and "ratelimited" in store.claims()[0]["error"]
    r.run_due()  # the next tick retries
    assert len(poster.posts) == 1 and "Aldmere" in poster.posts[0][1].stories[0].headline
    r.run_due()
    assert len(poster.posts) == 1
    late = DigestRunner(store, BriefBuilder(store), {"slack": poster}, owner="b",
                        clock=lambda: t + timedelta(days=1, hours=4))  # 07:00+1d+4h = past the grace window
    assert late.run_due() == []


def test_crashed_claim_is_taken_over_after_its_lease(store: SQLiteStore) -> None:
    sub = Core(store, Answerer(store), BriefBuilder(store)).subscribe(Channel("discord", "42"), "08:00", "UTC")
    assert store.claim_slot(sub.id, "s1", "crashed-replica", lease_seconds=300)
    assert not store.claim_slot(sub.id, "s1", "other", lease_seconds=300)  # lease still held
    store.execute("SELECT 1")
    with store.db.tx() as tx:  # the lease runs out (the owner died)
        tx.execute("UPDATE digest_claims SET lease_until = '2000-01-01T00:00:00+00:00'")
    assert store.claim_slot(sub.id, "s1", "other", lease_seconds=300)
    store.finish_claim(sub.id, "s1", "other", "m7")
    assert not store.claim_slot(sub.id, "s1", "third")


def test_seed_brief_covers_what_an_analyst_would(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path}/seeds.db")
    assert isinstance(s, SQLiteStore)
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    brief = BriefBuilder(s)()
    assert len(brief.stories) == 1
    st = brief.stories[0]
    assert len(st.sources) == 5
    points = " ".join(k.text for k in st.key_points)
    assert "pipeline" in points and "armored train" in points
    assert all(k.citations for k in st.key_points)
    assert len({k.text for k in st.key_points}) == len(st.key_points)
    navarro = [q for q in st.quotes if q.speaker == "Peter Navarro"]
    assert navarro and "shame to see Modi" in navarro[0].text
    for q in st.quotes:
        doc = s.get_document(str(q.citation.doc_id))
        assert doc is not None and doc.text[q.citation.start:q.citation.end] == q.text
    # how each outlet tells it: its lead, one side per outlet
    leads = next(d for d in st.differences if "lead" in d.topic)
    assert len(leads.sides) >= 3 and len({s.citations[0].doc_id for s in leads.sides}) == len(leads.sides)
    assert any("Beijing — Chinese president Xi Jinping convened" in s.text for s in leads.sides)
    assert len(st.quotes) >= 3 and 3 <= len(st.key_points) <= 7


def test_slots_across_daylight_saving_changes() -> None:
    sub = Subscription(1, "slack", "C1", "08:00", "Europe/Berlin")
    before = latest_slot(sub, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))  # CET, UTC+1
    after = latest_slot(sub, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))  # CEST from 29 March, UTC+2
    assert before is not None and after is not None
    assert before.at.hour == 7 and after.at.hour == 6  # 08:00 local both days
    assert before.key != after.key
    # a time that does not exist on the spring-forward night still gives exactly one slot that day
    night = Subscription(2, "slack", "C2", "02:30", "Europe/Berlin")
    slot = latest_slot(night, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert slot is not None and slot.key == "2026-03-29 02:30 Europe/Berlin"
    # and one that happens twice on the fall-back night is posted once (one key per local date)
    twice = Subscription(3, "slack", "C3", "02:30", "Europe/Berlin")
    a = latest_slot(twice, datetime(2026, 10, 25, 0, 45, tzinfo=UTC))  # first 02:30 (CEST)
    b = latest_slot(twice, datetime(2026, 10, 25, 1, 45, tzinfo=UTC))  # second 02:30 (CET)
    assert a is not None and b is not None and a.key == b.key


def test_empty_digest_skipped_when_configured(store: SQLiteStore) -> None:
    Core(store, Answerer(store), BriefBuilder(store)).subscribe(Channel("slack", "C5"), "06:00", "UTC", "no-such-topic")
    poster = RecordingPoster()
    t = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    out = DigestRunner(store, BriefBuilder(store), {"slack": poster}, owner="a", clock=lambda: t,
                       skip_empty=True).run_due()
    assert poster.posts == [] and "skipped" in out[0][2]
    assert store.claims()[0]["status"] == "posted"  # done for that slot: not retried, not posted later


def test_the_digest_runner_prunes_briefs_past_their_retention_once_a_day(store: SQLiteStore) -> None:
    def posted(brief_id: str, at: datetime) -> None:
        store.save_brief(BriefRow(brief_id, "slack", "C1", "digest", None, at.isoformat(timespec="seconds"),
                                  '{"stories": []}'))

    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    clock = [now]
    runner = DigestRunner(store, BriefBuilder(store), {}, owner="a", clock=lambda: clock[0],
                          brief_retention=timedelta(days=30))
    posted("old", now - timedelta(days=31))
    posted("recent", now - timedelta(days=28))
    assert runner.run_due() == []  # no subscriptions: pruning does not wait for a digest
    assert [r.id for r in store.list_briefs("slack", "C1")] == ["recent"]
    clock[0] = now + timedelta(hours=23)  # the same day: no second pruning
    posted("older", now - timedelta(days=40))
    runner.run_due()
    assert store.get_brief("older") is not None
    clock[0] = now + timedelta(days=1, minutes=1)
    runner.run_due()
    assert [r.id for r in store.list_briefs("slack", "C1")] == ["recent"]


@pytest.mark.parametrize("value", ["0", "many", "-3"])
def test_a_bad_brief_retention_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="BRIEFBOT_BRIEF_RETENTION_DAYS"):
        Settings.from_env({"BRIEFBOT_BRIEF_RETENTION_DAYS": value})
    assert Settings.from_env({}).brief_retention_days == 90
    assert Settings.from_env({"BRIEFBOT_BRIEF_RETENTION_DAYS": "365"}).brief_retention_days == 365
