"""Persisted stories: the seeds form one, new documents join (or start) stories and never move, on both stores.

Every store test runs on SQLite and on Postgres (a fresh schema per test; skipped without a server
unless BRIEFBOT_TEST_POSTGRES=1).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.brief import BriefBuilder
from bot.digest import DigestRunner
from bot.domain import Brief, Passage, Subscription
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store.base import Conflict, Membership, NewDocument
from bot.stories import assign, group, profile
from bot.story_index import StoryIndex
from tests.conftest import ROOT, SEEDS, need
from tests.test_store_backends import empty_database, open_any

SAMPLES = ROOT / "bot" / "samples"
T0 = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)

FOLLOW_UP = """Kim Jong Un heads home from Beijing by armored train

North Korean leader Kim Jong Un left Beijing on Thursday aboard his armored train, two days after standing
beside Xi Jinping and Vladimir Putin at the parade marking the end of World War Two.

State media in Pyongyang said Kim and Xi agreed that North Korea and China would deepen their ties, and that
Kim had thanked Putin for Russia's support. Analysts in Washington said the three leaders wanted to show the
West a united front over Ukraine.
"""

UNRELATED = """Lisbon bakers win a prize for their custard tarts

A family bakery in the Belem district of Lisbon won the national pastry prize on Sunday for its custard tarts,
beating 140 other entries from across Portugal.

"We use my grandmother's recipe and we bake every tray at dawn," said Ines Carvalho, who runs the shop with
her two sons. The judges praised the crisp pastry and the burnt sugar on top.
"""


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def iso(self) -> str:
        return self.at.isoformat(timespec="seconds")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request.param, tmp_path, "bb_story_")


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    s = open_any(store_url)
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    try:
        yield s
    finally:
        s.close()


def article(location: str, text: str, published: str | None = None) -> NewDocument:
    """A document as the ingester would store it: title line, text, one passage per paragraph."""
    title = text.split("\n", 1)[0]
    passages, start = [], 0
    for i, para in enumerate(p for p in text.split("\n\n") if p.strip()):
        start = text.index(para, start)
        passages.append(Passage(i, start, start + len(para), para))
        start += len(para)
    return NewDocument(location=location, title=title, text=text, content_hash=location, passages=passages,
                       published=published)


def story_of(store: Any) -> dict[int, int]:
    """Each assigned document's story id."""
    return {m.doc_id: m.story_id for m in store.memberships()}


# -- the seeds, assignment, persistence ---------------------------------------------------------
def test_seeds_are_one_story_of_five_sources(store: Any) -> None:
    clock = Clock(T0)
    assert StoryIndex(store, clock).catch_up() == 5
    (row,) = store.stories()
    assert row.id in row.doc_ids  # named after its first document
    assert sorted(row.doc_ids) == sorted(d.id for d in store.list_documents())
    assert row.updated_at == clock.iso() and row.first_seen <= row.last_seen
    (story,) = BriefBuilder(store, clock=clock).stories()
    assert len(story.documents) == 5 and story.vector
    assert len(BriefBuilder(store, clock=clock)().stories[0].sources) == 5


def test_new_documents_join_or_start_stories_and_never_move(store: Any) -> None:
    clock = Clock(T0)
    index = StoryIndex(store, clock)
    index.catch_up()
    (seeds,) = store.stories()
    before = story_of(store)
    clock.at = T0 + timedelta(hours=5)
    follow = store.put_document(article("later/follow-up.txt", FOLLOW_UP, published="2025-09-05"))
    other = store.put_document(article("later/tarts.txt", UNRELATED))
    assert store.unassigned_documents() == [follow, other]
    assert index.catch_up() == 2
    after = story_of(store)
    assert after[follow] == seeds.id  # joined the seeds' story
    assert after[other] == other  # started its own, named after itself
    assert {d: after[d] for d in before} == before  # nobody moved
    rows = {r.id: r for r in store.stories()}
    assert set(rows) == {seeds.id, other}
    assert rows[seeds.id].updated_at == clock.iso() > seeds.updated_at  # bumped by the join
    assert follow in rows[seeds.id].doc_ids
    assert rows[seeds.id].first_seen == "2025-09-05" and rows[seeds.id].last_seen == seeds.last_seen
    assert rows[other].updated_at == clock.iso()
    # nothing new: nothing assigned, nothing changed
    clock.at += timedelta(hours=1)
    assert index.catch_up() == 0
    assert story_of(store) == after and {r.id: r for r in store.stories()} == rows


def test_membership_survives_restart_and_new_versions(store: Any, store_url: str) -> None:
    StoryIndex(store).catch_up()
    doc = store.put_document(article("later/follow-up.txt", FOLLOW_UP))
    StoryIndex(store).catch_up()
    rows, members = store.stories(), story_of(store)
    store.close()
    again = open_any(store_url)
    try:
        assert again.stories() == rows and story_of(again) == members
        assert StoryIndex(again).catch_up() == 0
        # a new version keeps its document id, so it keeps its story; no second membership appears
        old = again.find_location("later/follow-up.txt")
        new = article("later/follow-up.txt", FOLLOW_UP.replace("Thursday", "Friday"))
        new.content_hash = "v2"
        assert again.put_document(new, replace=old) == doc
        assert again.unassigned_documents() == [] and story_of(again) == members
        assert len(again.memberships()) == again.count_documents()
    finally:
        again.close()


def test_stories_are_scoped_by_source(store: Any) -> None:
    store.put_document(article("elsewhere/follow-up.txt", FOLLOW_UP))
    StoryIndex(store).catch_up()
    (full,) = store.stories()
    (scoped,) = store.stories(["seeds"])
    assert scoped.id == full.id and len(scoped.doc_ids) == 5 and len(full.doc_ids) == 6
    assert store.stories(["no-such-place"]) == []
    assert len(store.memberships(["elsewhere/"])) == 1


def test_assignment_is_all_or_nothing_and_never_moves_a_document(store: Any) -> None:
    StoryIndex(store).catch_up()
    (seeds,) = store.stories()
    taken = seeds.doc_ids[0]
    new = store.put_document(article("later/tarts.txt", UNRELATED))
    at = T0.isoformat()
    with pytest.raises(Conflict):
        store.assign_stories([Membership(new, new, "{}"), Membership(taken, new, "{}")], at)
    assert store.unassigned_documents() == [new]  # the whole call was rolled back
    assert story_of(store)[taken] == seeds.id and [r.id for r in store.stories()] == [seeds.id]
    assert store.assign_stories([], at) == 0


def _assign_in_thread(url: str, barrier: threading.Barrier, out: list[int], errors: list[BaseException]) -> None:
    s = open_any(url)
    try:
        index = StoryIndex(s)
        barrier.wait(timeout=60)
        out.append(index.catch_up())
    except BaseException as e:  # a thread's failure is the test's: it must not pass as a thread that stored nothing
        errors.append(e)
    finally:
        s.close()


def test_concurrent_assigners_put_each_document_in_one_story(store: Any, store_url: str) -> None:
    Ingester(store, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    for i in range(12):
        store.put_document(article(f"later/{i:02d}.txt", (FOLLOW_UP if i % 2 else UNRELATED) + f"\nNote {i}.\n"))
    n = store.count_documents()
    barrier, out, errors = threading.Barrier(4), list[int](), list[BaseException]()
    threads = [threading.Thread(target=_assign_in_thread, args=(store_url, barrier, out, errors)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(out) == 4, errors  # every assigner finished: a lost race is a Conflict it retries
    assert sorted(out)[-1] == n and sum(out) == n  # one assigner stored them all; the others found nothing left
    members = store.memberships()
    assert sorted(m.doc_id for m in members) == sorted(d.id for d in store.list_documents())
    rows = store.stories()
    assert all(r.id in r.doc_ids for r in rows)  # every story holds the document it is named after
    assert {r.id for r in rows} == {m.story_id for m in members}
    assert len(store.execute("SELECT id FROM stories")) == len(rows)  # no story without documents


# -- the pure functions -------------------------------------------------------------------------
def test_incremental_assignment_matches_grouping_all_at_once(tmp_path: Path) -> None:
    s = open_any(f"sqlite:///{tmp_path}/pure.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS)), str(SAMPLES)])
    docs = s.list_documents()
    s.close()
    whole = {d.id: st.id for st in group(docs) for d in st.documents}
    profiles = sorted((profile(d) for d in docs), key=lambda p: (p.when, p.doc_id))
    first = assign([], profiles[:4])
    rest = assign([(p, first[p.doc_id]) for p in profiles[:4]], profiles[4:])
    assert {**first, **rest} == whole
    assert sorted(len([d for d in whole if whole[d] == s]) for s in set(whole.values())) == [1, 2, 5]


# -- digests: what joined since the last one ----------------------------------------------------
class RecordingPoster:
    def __init__(self) -> None:
        self.posts: list[Brief] = []

    def post_brief(self, channel_id: str, brief: Brief) -> str:
        self.posts.append(brief)
        return f"m{len(self.posts)}"


def test_digest_holds_stories_a_document_joined_since_the_last_one(tmp_path: Path) -> None:
    s = open_any(f"sqlite:///{tmp_path}/digest.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    clock = Clock(T0 + timedelta(minutes=5))  # a Monday, just after the 08:00 slot
    s.upsert_subscription(Subscription(0, "slack", "C1", "08:00", "UTC"))
    poster = RecordingPoster()
    runner = DigestRunner(s, BriefBuilder(s, clock=clock), {"slack": poster}, owner="a", clock=clock)
    runner.run_due()
    assert [len(b.stories) for b in poster.posts] == [1]
    # the next day: an article published years ago but stored now joins the seeds' story, another starts one
    clock.at += timedelta(hours=20)
    s.put_document(article("late/follow-up.txt", FOLLOW_UP, published="2025-09-05T00:00:00+00:00"))
    s.put_document(article("late/tarts.txt", UNRELATED, published="2019-01-01T00:00:00+00:00"))
    clock.at += timedelta(hours=4)
    runner.run_due()
    assert len(poster.posts) == 2
    assert sorted(len(st.sources) for st in poster.posts[1].stories) == [1, 6]
    # the day after: nothing joined since, so nothing is repeated
    clock.at += timedelta(days=1)
    runner.run_due()
    assert poster.posts[2].stories == [] and "nothing new" in poster.posts[2].note
    # `brief --since` means the same: stories a document joined after that time
    b = BriefBuilder(s, clock=clock)
    assert len(b(since=(T0 + timedelta(hours=1)).isoformat()).stories) == 2
    assert b(since=(T0 + timedelta(days=1, hours=1)).isoformat()).stories == []
    s.close()
