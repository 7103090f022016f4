"""Both stores, one contract: every test runs on SQLite and on Postgres (a fresh schema per test).

The Postgres half is skipped when no server answers on 127.0.0.1:5432/test, unless
BRIEFBOT_TEST_POSTGRES=1 says it must run (then an unreachable server fails the test).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Passage, RawDocument, Subscription
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.search import fts_expression
from bot.store.base import Conflict, NewDocument, StoreError
from bot.store.sqlite import SQLiteStore
from tests.conftest import SEEDS, need

PG_BASE = "postgresql://127.0.0.1:5432/test"
NAVARRO_DOC = "000_4acb8d4b237bf1ea.txt"

ARTICLE = """Harbour strike enters second day

Dockworkers stayed off the job on Wednesday as talks remained stalled.

"We will stay out until the port puts its numbers on the table," said Marta Quinlan, the union's general secretary.

The port authority said eleven ships were waiting to berth.
"""


def _pg_admin() -> Any:
    """A connection to the test database for creating and dropping schemas, or a skip/fail."""
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3)
    except psycopg.Error as e:
        if os.environ.get("BRIEFBOT_TEST_POSTGRES") == "1":
            pytest.fail(f"BRIEFBOT_TEST_POSTGRES=1 but Postgres at {PG_BASE} is unreachable: {e}")
        pytest.skip(f"no Postgres at {PG_BASE} ({str(e).strip().splitlines()[0]}); set BRIEFBOT_TEST_POSTGRES=1 "
                    "to make this a failure")


def fresh_pg_schema(prefix: str) -> Iterator[str]:
    """A URL naming a new, empty Postgres schema, dropped afterwards (or a skip/fail)."""
    admin = _pg_admin()
    schema = prefix + uuid.uuid4().hex[:12]
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def empty_database(kind: str, tmp_path: Path, prefix: str = "bb_test_") -> Iterator[str]:
    """A URL naming an empty database: a SQLite file in tmp_path, or a fresh Postgres schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/bot.db"
        return
    yield from fresh_pg_schema(prefix)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL naming an empty database: a SQLite file in tmp_path, or a fresh Postgres schema."""
    yield from empty_database(request.param, tmp_path)


def open_any(url: str) -> Any:
    """The store a test URL names (open_store does not know postgresql:// yet)."""
    if url.startswith("sqlite:"):
        return SQLiteStore(url.removeprefix("sqlite:///"))
    from bot.store.postgres import PostgresStore

    return PostgresStore(url)


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    s = open_any(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def seeded(store: Any) -> Any:
    rep = Ingester(store, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    assert rep.counts["new"] == 5, rep.summary()
    return store


def outcomes(report: Any) -> dict[str, str]:
    return {Path(i.location).name: i.outcome for i in report.items}


def new_doc(location: str, text: str, content_hash: str | None = None) -> NewDocument:
    return NewDocument(location=location, title="T", text=text, content_hash=content_hash or location,
                       passages=[Passage(0, 0, len(text), text)], sketch=[2**62 + 1, -(2**62) - 7, 5])


# -- documents and ingest ------------------------------------------------------------------
def test_seeds_stored_once_and_rerun_stores_nothing(seeded: Any) -> None:
    again = Ingester(seeded, extract_quotes=extract_quotes).ingest([str(SEEDS)])
    c = again.counts
    assert (c["items"], c["new"], c["updated"], c["unchanged"]) == (5, 0, 0, 5)
    assert seeded.count_documents() == 5
    assert len(seeded.run_items(again.run_id)) == 5
    assert seeded.integrity_check() == "ok"
    doc = seeded.get_document(NAVARRO_DOC)
    assert doc is not None and doc.passages and all(p.text == doc.text[p.start:p.end] for p in doc.passages)
    assert seeded.get_document(str(doc.id)).location == doc.location
    assert seeded.get_document(".txt") is None  # not a unique suffix
    assert seeded.get_document("9" * 30) is None  # digits, but no 64-bit id: a location that is not stored
    assert [d.id for d in seeded.list_documents(source="000_")] == [doc.id]
    assert set(seeded.documents_by_id([doc.id])) == {doc.id}


def test_new_version_replaces_passages(store: Any, tmp_path: Path) -> None:
    f = tmp_path / "in" / "strike.txt"
    f.parent.mkdir()
    f.write_text(ARTICLE, encoding="utf-8")
    ing = Ingester(store, extract_quotes=extract_quotes)
    ing.ingest([str(f)])
    assert store.count_matches(fts_expression(["eleven"])) == 1
    f.write_text(ARTICLE.replace("eleven ships", "fourteen ships"), encoding="utf-8")
    assert outcomes(ing.ingest([str(f)])) == {"strike.txt": "updated"}
    doc = store.get_document("strike.txt")
    assert doc is not None and doc.version == 2
    assert [h.doc_id for h in store.search_passages(fts_expression(["fourteen"]))] == [doc.id]
    assert store.search_passages(fts_expression(["eleven"])) == []
    assert store.count_matches(fts_expression(["eleven"])) == 0
    assert len(store.quotes(speaker_like="quinlan")) == 1  # quotes swapped too, not doubled
    assert store.integrity_check() == "ok"


def test_exact_and_near_duplicates(seeded: Any, tmp_path: Path) -> None:
    src = (SEEDS / NAVARRO_DOC).read_text(encoding="utf-8")
    (tmp_path / "copy.txt").write_text(src, encoding="utf-8")
    (tmp_path / "near.txt").write_text(src.replace("historic", "remarkable", 1) + "\nEditing by A. Reporter.\n",
                                       encoding="utf-8")
    rep = Ingester(seeded, extract_quotes=extract_quotes).ingest([str(tmp_path / "copy.txt"),
                                                                  str(tmp_path / "near.txt")])
    assert outcomes(rep) == {"copy.txt": "duplicate", "near.txt": "near-duplicate"}
    assert seeded.count_documents() == 5
    # the run's record counts both kinds of duplicate, on either backend
    assert seeded.execute("SELECT duplicates FROM ingest_runs ORDER BY id DESC LIMIT 1")[0][0] == 2


def test_put_document_conflicts_and_batches_are_all_or_nothing(store: Any) -> None:
    first = store.put_document(new_doc("a.txt", "alpha words here"))
    with pytest.raises(Conflict):
        store.put_document(new_doc("a.txt", "other text", "h2"))
    with pytest.raises(Conflict):
        store.put_document(new_doc("b.txt", "other text", "a.txt"))  # same content hash
    with store.batch():  # a conflict inside a batch loses only that document
        store.put_document(new_doc("c.txt", "gamma words"))
        with pytest.raises(Conflict):
            store.put_document(new_doc("a.txt", "again", "h3"))
        store.put_document(new_doc("d.txt", "delta words"))
    assert sorted(d.location for d in store.list_documents()) == ["a.txt", "c.txt", "d.txt"]
    with pytest.raises(RuntimeError), store.batch():
        store.put_document(new_doc("e.txt", "epsilon words"))
        raise RuntimeError("crash mid-batch")
    assert store.find_location("e.txt") is None
    # sketch values are 64-bit
    assert [c[1] for c in store.near_candidates([2**62 + 1, -(2**62) - 7], 2)] == ["a.txt", "c.txt", "d.txt"]
    assert store.find_hash("a.txt").id == first


def test_migrations_recorded_and_idempotent(store: Any, store_url: str) -> None:
    v = store.migrate()
    names = [r[0] for r in store.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == [step.__name__ for step in store.steps] and len(names) == v  # each step once, by name
    other = open_any(store_url)
    assert other.migrate() == v
    other.close()


def test_sources_and_runs(store: Any) -> None:
    s = store.add_source("feed", "https://example.org/rss", 600)
    assert store.add_source("page", "https://example.org/rss", 60).id == s.id
    store.update_source(s.id, etag='"abc"', last_error=None)
    (row,) = store.list_sources()
    assert (row.kind, row.every_seconds, row.etag) == ("page", 60, '"abc"')
    with pytest.raises(ValueError):
        store.update_source(s.id, location="x")
    assert store.remove_source(str(s.id)).location == "https://example.org/rss"
    assert store.remove_source("nope") is None and store.list_sources() == []


def test_a_source_keeps_the_outlet_name_it_was_given(store: Any) -> None:
    assert store.add_source("folder", "/news/gazette", 600).outlet is None
    assert store.add_source("folder", "/news/gazette", 600, "Kelby Gazette").outlet == "Kelby Gazette"
    assert store.add_source("folder", "/news/gazette", 60).outlet == "Kelby Gazette"  # a new interval only
    assert store.add_source("folder", "/news/gazette", 60, "The Gazette").outlet == "The Gazette"
    assert [(s.location, s.outlet) for s in store.list_sources()] == [("/news/gazette", "The Gazette")]


# -- search and quotes ---------------------------------------------------------------------
@pytest.mark.parametrize(("terms", "expected"), [
    (["navarro", "modi"], NAVARRO_DOC),
    (["bulwark", "hegemonism"], "002_2ba99003375d46c4.txt"),
    (["armored", "green", "train", "border"], "004_f4417fe3006ddb38.txt"),
    (["theater", "state", "protocol"], "001_6585c4720699a5e9.txt"),
])
def test_search_ranks_the_expected_document_first(seeded: Any, terms: list[str], expected: str) -> None:
    hits = seeded.search_passages(fts_expression(terms), limit=5)
    assert hits and hits[0].location.endswith(expected)
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))  # higher is better
    assert hits[0].text == seeded.document_text(hits[0].doc_id)[hits[0].start:hits[0].end]
    assert seeded.search_passages(fts_expression(terms), sources=["no-such-source"]) == []


def test_match_grammar_and_and_or(seeded: Any) -> None:
    both = seeded.count_matches('"navarro" AND "modi"')
    either = seeded.count_matches('"navarro" OR "modi"')
    assert 0 < both <= seeded.count_matches('"navarro"') <= either
    assert seeded.count_matches('"zzzqqq"') == 0
    assert seeded.count_matches('"a "" quote" OR "\'; DROP TABLE passages; --"') >= 0
    assert seeded.count_passages() > 0 and seeded.search_passages("   ") == []


def test_quotes_by_speaker(seeded: Any) -> None:
    rows = seeded.quotes(speaker_like="navarro")
    assert rows and all("Navarro" in (r.quote.speaker or "") for r in rows)
    assert any("Modi" in r.quote.text for r in rows)
    assert all(r.location.endswith(NAVARRO_DOC) for r in rows)
    assert seeded.quotes(speaker_like="peter navarro", limit=1) == rows[:1]


def test_answer_cites_navarro(seeded: Any) -> None:
    from bot.answer import Answerer

    ans = Answerer(seeded).ask("What did Navarro say about Modi?")
    assert ans.found, ans.text
    assert any(c.source.endswith(NAVARRO_DOC) for c in ans.citations)
    assert "Modi" in ans.text


# -- the bot's own records -----------------------------------------------------------------
def test_subscriptions_upsert_list_delete(store: Any) -> None:
    sub = Subscription(id=0, platform="slack", channel="C1", time_of_day="08:00", timezone="UTC")
    a = store.upsert_subscription(sub)
    b = store.upsert_subscription(Subscription(id=0, platform="slack", channel="C1", time_of_day="09:30",
                                               timezone="Europe/Berlin", cadence="weekdays", topic="ports"))
    assert a.id == b.id and (b.time_of_day, b.timezone, b.cadence, b.topic) == ("09:30", "Europe/Berlin",
                                                                                 "weekdays", "ports")
    store.upsert_subscription(Subscription(id=0, platform="discord", channel="D1", time_of_day="07:00",
                                           timezone="UTC"))
    assert [s.channel for s in store.list_subscriptions()] == ["C1", "D1"]
    assert [s.channel for s in store.list_subscriptions(platform="slack")] == ["C1"]
    assert store.last_digest_at(a.id) is None
    assert store.delete_subscriptions("slack", "C1") == 1
    assert store.delete_subscriptions("slack", "C1") == 0
    assert [s.channel for s in store.list_subscriptions()] == ["D1"]


def test_claim_slot_lease_and_posted(store: Any) -> None:
    sub = store.upsert_subscription(Subscription(id=0, platform="slack", channel="C", time_of_day="08:00",
                                                 timezone="UTC"))
    assert store.claim_slot(sub.id, "s1", "a") is True
    assert store.claim_slot(sub.id, "s1", "b") is False  # lease still held
    assert store.claim_slot(sub.id, "s2", "a", lease_seconds=0) is True
    assert store.claim_slot(sub.id, "s2", "b") is True  # lease ran out: taken over
    store.finish_claim(sub.id, "s2", "b", "m1", digest_time="2026-01-01T08:00:00+00:00")
    assert store.claim_slot(sub.id, "s2", "c", lease_seconds=0) is False  # posted: never again
    assert store.last_digest_at(sub.id) == "2026-01-01T08:00:00+00:00"
    store.finish_claim(sub.id, "s1", "a", None, error="boom")
    assert store.claim_slot(sub.id, "s1", "c") is True  # failed: retried
    by_slot = {c["slot"]: c for c in store.claims(sub.id)}
    assert (by_slot["s1"]["attempts"], by_slot["s2"]["status"], by_slot["s2"]["message_id"]) == (2, "posted", "m1")
    assert store.claim_slot(sub.id, "s3", "a", lease_seconds=0, max_attempts=1) is True
    assert store.claim_slot(sub.id, "s3", "b", max_attempts=1) is False  # out of attempts


def _claim_worker(url: str, sub_id: int, owner: str, barrier: Any, out: Any) -> None:
    s = open_any(url)
    try:
        barrier.wait(timeout=60)
        out.put((owner, [slot for slot in (f"slot-{i:02d}" for i in range(20)) if s.claim_slot(sub_id, slot, owner)]))
    finally:
        s.close()


def test_claims_race_across_processes(store: Any, store_url: str) -> None:
    sub = store.upsert_subscription(Subscription(id=0, platform="slack", channel="C", time_of_day="08:00",
                                                 timezone="UTC"))
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(5), ctx.Queue()
    procs = [ctx.Process(target=_claim_worker, args=(store_url, sub.id, f"w{i}", barrier, out)) for i in range(5)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    won = [slot for _, slots in results for slot in slots]
    assert sorted(won) == [f"slot-{i:02d}" for i in range(20)]  # each slot exactly once
    claims = store.claims(sub.id)
    assert len(claims) == 20 and all(c["attempts"] == 1 for c in claims)
    assert {c["slot"]: c["owner"] for c in claims} == {slot: o for o, slots in results for slot in slots}


def test_answers_feedback_llm_log_and_channel_scope(store: Any) -> None:
    from bot.domain import Answer, Channel

    ch = Channel("slack", "C1", "U1")
    store.save_answer(Answer("q?", "a.", True, id="ans1"), ch)
    store.save_answer(Answer("q?", "a, again.", True, id="ans1"), ch)
    assert store.add_feedback("ans1", "U1", True) and store.add_feedback("ans1", "U1", False)
    assert store.add_feedback("ans1", "U2", True) and not store.add_feedback("nope", "U1", True)
    assert store.feedback_counts() == {"helpful": 1, "not_helpful": 1}
    store.save_answer(Answer("q?", "a, third.", True, id="ans1"), ch)  # saved again: the votes stay
    assert store.feedback_counts() == {"helpful": 1, "not_helpful": 1}
    first = store.log_llm_call({"purpose": "answer", "model": "m", "tokens_in": 10, "tokens_out": 5, "outcome": "ok",
                                "latency_ms": 12.5, "server": "http://127.0.0.1:1/v1", "structured": "json_object"})
    store.log_llm_call({"purpose": "answer", "model": "m", "tokens_in": 1, "outcome": "timeout"})
    store.log_llm_call({"purpose": "answer", "model": "m", "tokens_in": 3, "outcome": "ok"})
    store.llm_call_outcome(first, "partly_dropped", "a sentence names Japan")
    by = {u["result"]: u for u in store.llm_usage("")}
    assert {r: (u["calls"], u["tokens_in"], u["tokens_out"], u["ok"]) for r, u in by.items()} == {
        "partly_dropped": (1, 10, 5, 1), "timeout": (1, 1, 0, 0), "unchecked": (1, 3, 0, 1)}
    assert store.llm_calls(limit=3)[-1]["detail"] == "a sentence names Japan"
    assert store.llm_structured("http://127.0.0.1:1/v1") == "json_object" and store.llm_structured("x") is None
    store.set_channel_sources("slack", "C1", ["gazette", "courier"])
    store.set_channel_sources("slack", "C1", ["gazette", "gazette"])  # a pattern given twice is kept once
    assert store.channel_sources("slack", "C1") == ["gazette"] and store.channel_sources("slack", "C2") == []


# -- Postgres only -------------------------------------------------------------------------
def test_postgres_unreachable_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    from bot.store.postgres import PostgresStore

    with pytest.raises(StoreError) as e:
        PostgresStore("postgresql://bot:s3cret-pw@127.0.0.1:1/newsdb")
    assert "127.0.0.1:1/newsdb" in str(e.value) and "s3cret-pw" not in str(e.value)
    with pytest.raises(StoreError) as e:
        PostgresStore("postgresql://bot:s3cret-pw@[::1/newsdb")  # malformed: the driver quotes the URL back
    assert "s3cret-pw" not in str(e.value)


def test_postgres_missing_database_or_schema_is_named() -> None:
    _pg_admin().close()
    from bot.store.postgres import PostgresStore

    with pytest.raises(StoreError, match="no_such_db_for_briefbot"):
        PostgresStore("postgresql://127.0.0.1:5432/no_such_db_for_briefbot")
    with pytest.raises(StoreError, match="cannot prepare the Postgres database at 127.0.0.1:5432/test"):
        PostgresStore(f"{PG_BASE}?options=-csearch_path%3Dno_such_schema_for_briefbot")


def test_postgres_replicas_migrate_once(store_url: str) -> None:
    if not store_url.startswith("postgresql:"):
        pytest.skip("Postgres only: SQLite serialises on its file lock")
    from bot.store.postgres import PostgresStore

    errors: list[BaseException] = []
    stores: list[PostgresStore] = []

    def start() -> None:
        try:
            stores.append(PostgresStore(store_url))
        except BaseException as e:  # collected and asserted on below
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = stores[0].execute("SELECT name FROM migrations ORDER BY name")
    assert [r[0] for r in rows] == [step.__name__ for step in stores[0].steps] and len(rows) == stores[0].migrate()
    for s in stores:
        s.close()


def test_store_raw_through_pipeline_with_fetched_clock(store: Any) -> None:
    ing = Ingester(store, clock=lambda: "2026-01-02T03:04:05+00:00")
    res = ing.store_raw(RawDocument(location="mem://strike", text=ARTICLE))
    assert res.outcome == "new"
    assert store.get_document("mem://strike").fetched == "2026-01-02T03:04:05+00:00"
    assert store.search_passages(fts_expression(["dockworkers"]), since="2026-01-01")[0].doc_id == res.doc_id
    assert store.search_passages(fts_expression(["dockworkers"]), since="2027-01-01") == []


def _forked_claim(store: Any, sub_id: int, out: Any) -> None:
    out.put(store.claim_slot(sub_id, "forked", "child"))
    store.close()


def test_postgres_store_survives_fork(store: Any, store_url: str) -> None:
    if not store_url.startswith("postgresql:"):
        pytest.skip("Postgres only: a SQLite connection must not cross a fork either, but SQLiteStore does not check")
    sub = store.upsert_subscription(Subscription(id=0, platform="slack", channel="C", time_of_day="08:00",
                                                 timezone="UTC"))
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    p = ctx.Process(target=_forked_claim, args=(store, sub.id, out))
    p.start()
    assert out.get(timeout=60) is True
    p.join(timeout=60)
    assert p.exitcode == 0
    # the parent's own connection was neither used nor closed by the child
    assert store.claim_slot(sub.id, "forked", "parent") is False and store.count_documents() == 0


def test_names_a_source_matches_location_and_outlet(store: Any) -> None:
    from bot.domain import RawDocument
    from bot.ingest.pipeline import Ingester

    Ingester(store).store_raw(RawDocument(location="https://news.example.test/gazette/strike", outlet="Aldmere Gazette",
                                          text="Strike day two\n\nDockworkers stayed out for a second day on Wednesday."))
    assert store.names_a_source("gazette") and store.names_a_source("Aldmere Gazette")
    assert not store.names_a_source("Courier")


def test_quotes_of_some_documents(seeded: Any) -> None:
    by_doc: dict[int, int] = {}
    for r in seeded.quotes():
        by_doc[r.doc_id] = by_doc.get(r.doc_id, 0) + 1
    two = sorted(by_doc)[:2]
    rows = seeded.quotes(doc_ids=two)
    assert {r.doc_id for r in rows} == set(two) and len(rows) == sum(by_doc[d] for d in two)
    assert seeded.quotes(doc_ids=[]) == []


def test_documents_by_id_brings_each_documents_own_passages_for_any_number_of_ids(seeded: Any) -> None:
    docs = seeded.list_documents()
    ids = [d.id for d in docs]
    # more ids than SQLite takes in one statement's parameters, most of them stored nowhere
    asked = list(range(10**6, 10**6 + 40_000)) + ids
    got = seeded.documents_by_id(asked)
    assert sorted(got) == sorted(ids)
    for d in got.values():
        one = seeded.get_document(str(d.id))
        assert [(p.ordinal, p.start, p.end, p.text) for p in d.passages] == \
               [(p.ordinal, p.start, p.end, p.text) for p in one.passages]
        assert d.passages and all(d.text[p.start:p.end] == p.text for p in d.passages)


def test_conversation_turns_in_order_bounded_and_pruned(store: Any) -> None:
    for i in range(12):
        store.add_turn("slack:C1:1.0", f'{{"question": "q{i}"}}')
    store.add_turn("slack:C2:9.9", '{"question": "elsewhere"}')
    last = store.recent_turns("slack:C1:1.0", 8)
    assert last == [f'{{"question": "q{i}"}}' for i in range(4, 12)]  # the newest 8, oldest first
    assert store.recent_turns("slack:nowhere", 8) == []
    assert store.prune_turns("9999-01-01") == 13 and store.recent_turns("slack:C2:9.9", 8) == []


def test_speaker_names_and_vocabulary(seeded: Any) -> None:
    names = seeded.speaker_names()
    assert any("Navarro" in n for n in names)
    vocab = seeded.terms_like("nav")
    # SQLite reads FTS5's vocabulary; Postgres keeps none and says so with None
    assert vocab is None or any(t.startswith("navarro") for t in vocab)


# -- scope: a source's identity, never any text containing the pattern ----------------------
SCOPED = [
    ("/srv/corpus/bbc/business/001.txt", {"corpus/bbc", "bbc", "001.txt", "/srv/corpus/bbc", "business", "/srv/corpus"}),
    ("/srv/corpus/bbc-extra/002.txt", {"bbc-extra", "/srv/corpus"}),
    ("https://evil.example/page?x=corpus/bbc", {"evil.example", "https://evil.example/page?x=corpus/bbc"}),
    ("https://news.example.com/feed/item-1", {"example.com", "news.example.com", "https://news.example.com/feed"}),
    ("https://example.com.evil.test/corpus/bbc/x", {"evil.test"}),
    ("https://mirror.test/corpus/bbc/y", {"mirror.test"}),  # a web page's path is not a folder of files
    ("elsewhere/follow-up.txt", {"elsewhere", "follow-up.txt", "follow-up"}),  # a relative location
]
PATTERNS = ["corpus/bbc", "bbc", "001.txt", "/srv/corpus/bbc", "business", "bbc-extra", "/srv/corpus",
            "evil.example", "example.com", "news.example.com", "https://news.example.com/feed", "evil.test",
            "https://news.example.com/fee", "corpus/bb", "harbour", "mirror.test", "elsewhere", "follow-up.txt",
            "follow-up", "follow"]


def test_scope_patterns_name_sources_not_substrings(store: Any) -> None:
    from bot.store.base import in_scope

    for i, (location, _) in enumerate(SCOPED):
        store.put_document(new_doc(location, f"Document number {i} about the harbour."))
    for pattern in PATTERNS:
        want = {loc for loc, names in SCOPED if pattern in names}
        assert {loc for loc, _ in SCOPED if in_scope(loc, [pattern])} == want, pattern
        assert store.count_documents([pattern]) == len(want), pattern  # the SQL agrees with the Python
        hits = store.search_passages('"harbour"', limit=10, sources=[pattern])
        assert {h.location for h in hits} == want, pattern


def test_posted_briefs_are_kept_per_channel_newest_first(store: Any) -> None:
    from bot.domain import BriefRow

    for i, (channel, kind) in enumerate([("C1", "digest"), ("C1", "brief"), ("C2", "digest"), ("C1", "digest")]):
        store.save_brief(BriefRow(f"b{i}", "slack", channel, kind, "topic" if i else None,
                                  f"2026-11-2{i}T08:00:00+00:00", '{"stories": []}'))
    assert store.get_brief("b1") == BriefRow("b1", "slack", "C1", "brief", "topic", "2026-11-21T08:00:00+00:00",
                                             '{"stories": []}')
    assert store.get_brief("nope") is None
    assert [r.id for r in store.list_briefs("slack", "C1")] == ["b3", "b1", "b0"]
    assert [r.id for r in store.list_briefs("slack", "C1", kind="digest", limit=1)] == ["b3"]
    assert store.list_briefs("discord", "C1") == []


def test_counters_and_the_metrics_they_expose(store: Any, tmp_path: Path) -> None:
    from bot.domain import Answer
    from bot.http_server import metrics_text

    f = tmp_path / "strike.txt"
    f.write_text(ARTICLE, encoding="utf-8")
    Ingester(store).ingest([str(f), str(tmp_path / "missing.txt")])
    store.save_answer(Answer("q?", "a.", True, backend="extractive", id="a1"), None)
    store.save_answer(Answer("q?", "", False, backend="extractive", id="a2"), None)
    store.save_answer(Answer("q?", "b.", True, backend="llm", id="a3"), None)
    store.log_llm_call({"outcome": "ok", "tokens_in": 10, "tokens_out": 4, "latency_ms": 1500.0})
    store.log_llm_call({"outcome": "ok", "tokens_in": 5, "tokens_out": 1, "latency_ms": 500.0})
    store.log_llm_call({"outcome": "timeout", "tokens_in": 7})
    sub = store.upsert_subscription(Subscription(id=0, platform="slack", channel="C", time_of_day="08:00",
                                                 timezone="UTC"))
    for slot in ("s1", "s2", "s3"):
        store.claim_slot(sub.id, slot, "a")
    store.finish_claim(sub.id, "s1", "a", "m1")
    store.finish_claim(sub.id, "s2", "a", None, error="boom")
    c = store.counters()
    assert (c.documents, c.ingested) == (1, {"new": 1, "skipped": 1})
    assert c.answers == {("extractive", True): 1, ("extractive", False): 1, ("llm", True): 1}
    assert {o: (t.calls, t.tokens_in, t.tokens_out, t.latency_ms) for o, t in c.calls.items()} == \
        {"ok": (2, 15, 5, 2000.0), "timeout": (1, 7, 0, 0.0)}
    assert c.claims == {"claimed": 1, "failed": 1, "posted": 1}
    lines = metrics_text(store).splitlines()
    for want in ["briefbot_documents 1", 'briefbot_documents_ingested_total{outcome="new"} 1',
                 "briefbot_ingest_errors_total 1", 'briefbot_answers_total{backend="extractive"} 2',
                 'briefbot_answers_total{backend="llm"} 1', "briefbot_answers_not_found_total 1",
                 'briefbot_llm_calls_total{outcome="ok"} 2', 'briefbot_llm_calls_total{outcome="timeout"} 1',
                 'briefbot_llm_tokens_total{direction="in"} 22', 'briefbot_llm_tokens_total{direction="out"} 5',
                 "briefbot_llm_latency_seconds_sum 2", "briefbot_llm_latency_seconds_count 3",
                 "briefbot_digest_posts_total 1", "briefbot_digest_failures_total 1"]:
        assert want in lines, want
    assert not any("skipped" in line for line in lines if line.startswith("briefbot_documents_ingested"))


def test_briefs_posted_before_a_time_are_pruned(store: Any) -> None:
    from bot.domain import BriefRow

    for brief_id, created in [("old", "2026-08-01T08:00:00+00:00"), ("edge", "2026-09-01T08:00:00+00:00"),
                              ("new", "2026-11-20T08:00:00+00:00")]:
        store.save_brief(BriefRow(brief_id, "slack", "C1", "digest", None, created, '{"stories": []}'))
    assert store.prune_briefs("2026-09-01T08:00:00+00:00") == 1  # strictly before
    assert [r.id for r in store.list_briefs("slack", "C1")] == ["new", "edge"] and store.get_brief("old") is None
    assert store.prune_briefs("2026-09-01T08:00:00+00:00") == 0
