"""Databases left by the numbered migrations (before steps had names) open with the named steps: what they hold
survives, the steps they have are recorded and never run again, the steps they lack run. On SQLite and Postgres.

The old schema is frozen in tests/fixtures/store/*_numbered.sql (the numbered migrations, 1-10); the rows are
written the way that code wrote them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Answer, Channel, Passage, Subscription
from bot.store.base import NewDocument
from bot.store.migrations import pending
from bot.store.sqlite import SQLiteStore
from tests.test_store_backends import empty_database, open_any

FIXTURES = Path(__file__).parent / "fixtures" / "store"
TEXT = 'Dockworkers stayed out. "We will stay out," said Marta Quinlan, the union\'s secretary.'
QUOTE = (24, 50, '"We will stay out,"')


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request.param, tmp_path, prefix="bb_legacy_")


def legacy_migrations(url: str) -> list[str]:
    """The old numbered migrations of the URL's backend, in order (index 0 is migration 1)."""
    name = "sqlite_numbered.sql" if url.startswith("sqlite:") else "postgres_numbered.sql"
    return [m.strip() for m in re.split(r"^-- migration \d+$", (FIXTURES / name).read_text(), flags=re.M)[1:]]


class Old:
    """A plain connection to a database, run the way the old stores ran it."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite:")
        if self.sqlite:
            self.c: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        else:
            import psycopg

            self.c = psycopg.connect(url, autocommit=True)

    def run(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        if self.sqlite:
            return self.c.execute(sql, args)
        return self.c.execute(sql.replace("?", "%s"), args)

    def script(self, sql: str) -> None:
        for stmt in sql.split(";"):
            if stmt.strip():
                self.run(stmt)


def build_legacy(url: str, upto: int) -> None:
    """A database as the old code left it after migration `upto`, holding one source, one document with a passage
    and a quote, a subscription with a posted slot, an answer with a vote and a logged LLM call."""
    old = Old(url)
    old.run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
    for version, sql in enumerate(legacy_migrations(url)[:upto], start=1):
        old.script(sql)
        old.run("INSERT INTO schema_migrations VALUES (?, ?)", (version, "2026-01-01T00:00:00+00:00"))
    at = "2026-01-02T00:00:00+00:00"
    old.run("INSERT INTO sources (id, kind, location, every_seconds, added) VALUES (7, 'feed', 'https://x.test/rss',"
            " 600, ?)", (at,))
    old.run("INSERT INTO documents (id, source_id, location, title, fetched, content_hash, text) VALUES"
            " (3, 7, '/corpus/strike.txt', 'Strike', ?, 'h-strike', ?)", (at, TEXT))
    start, end, quote = QUOTE
    if old.sqlite:  # derived passage and quote ids, the FTS5 row, the speaker words (from migration 3)
        old.run('INSERT INTO passages (id, doc_id, ordinal, start, "end") VALUES (3000000, 3, 0, 0, ?)', (len(TEXT),))
        old.run("INSERT INTO passages_fts (rowid, text, title) VALUES (3000000, ?, 'Strike')", (TEXT,))
    else:
        old.run('INSERT INTO passages (doc_id, ordinal, start, "end", text, title) VALUES (3, 0, 0, ?, ?, ?)',
                (len(TEXT), TEXT, "Strike"))
    old.run('INSERT INTO quotes (id, doc_id, passage, start, "end", text, speaker, speaker_key, kind) VALUES'
            " (3000000, 3, 0, ?, ?, ?, 'Marta Quinlan', 'marta quinlan', 'direct')", (start, end, quote))
    if old.sqlite and upto >= 3:
        old.run("INSERT INTO speaker_tokens (token, quote_id) VALUES ('marta', 3000000), ('quinlan', 3000000)")
    old.run("INSERT INTO sketches (doc_id, value) VALUES (3, 11), (3, 12)")
    old.run("INSERT INTO subscriptions (id, platform, channel, time_of_day, timezone, created) VALUES"
            " (5, 'slack', 'C1', '08:00', 'UTC', ?)", (at,))
    old.run("INSERT INTO digest_claims (subscription_id, slot, owner, status, lease_until, updated) VALUES"
            " (5, 'slot-1', 'a', 'posted', ?, ?)", (at, at))
    user = "user" if old.sqlite else '"user"'
    old.run(f"INSERT INTO answers (id, at, {user}, question, answer, found, backend, citations) VALUES"
            " ('ans1', ?, 'U1', ?, 'a.', 1, 'extractive', '[]')", (at, "q?"))
    old.run(f"INSERT INTO feedback (answer_id, {user}, helpful, at) VALUES ('ans1', 'U1', 1, ?)", (at,))
    old.run("INSERT INTO llm_calls (at, purpose, model, outcome) VALUES (?, 'answer', 'm', 'ok')", (at,))
    old.c.close()


def test_a_database_the_numbered_migrations_left_opens_with_its_data_and_reruns_nothing(url: str) -> None:
    build_legacy(url, upto=10)
    store = open_any(url)
    try:
        # the steps it had are recorded by their old numbers and not run again (their CREATE TABLEs would fail); the
        # steps named after the numbers (m011 on) ran
        assert pending(store.db, store.steps) == [] and store.migrate() == len(store.steps)
        assert [r[0] for r in store.execute("SELECT version FROM schema_migrations ORDER BY version")] == \
            list(range(1, 11))
        assert [r[0] for r in store.execute("SELECT name FROM migrations ORDER BY name")] == \
            [step.__name__ for step in store.steps]
        assert store.integrity_check() == "ok"
        # what the old code stored reads back through every role
        doc = store.get_document("strike.txt")
        assert doc is not None and (doc.id, doc.source_id, doc.version) == (3, 7, 1)
        assert [p.text for p in doc.passages] == [TEXT]
        assert [h.doc_id for h in store.search_passages('"dockworkers"')] == [3]
        (q,) = store.quotes(speaker_like="quinlan")
        assert (q.quote.speaker, q.quote.text, q.location) == ("Marta Quinlan", QUOTE[2], "/corpus/strike.txt")
        assert [c[0] for c in store.near_candidates([11, 12], 2)] == [3]
        assert [s.location for s in store.list_sources()] == ["https://x.test/rss"]
        assert [s.channel for s in store.list_subscriptions()] == ["C1"]
        assert store.claim_slot(5, "slot-1", "b") is False  # posted before the upgrade: never again
        assert store.feedback_counts() == {"helpful": 1, "not_helpful": 0}
        assert store.llm_calls()[0]["model"] == "m"
        # and the old rows take new writes: a new version of the document swaps its parts
        new = TEXT.replace("stayed out", "walked out")
        store.put_document(NewDocument(location="/corpus/strike.txt", title="Strike", text=new, content_hash="h2",
                                       passages=[Passage(0, 0, len(new), new)]),
                           replace=store.find_location(doc.location))
        assert store.search_passages('"dockworkers"')[0].text == new and store.quotes(speaker_like="quinlan") == []
        assert store.add_feedback("ans1", "U2", False) and store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_database_behind_the_numbered_migrations_runs_only_the_steps_it_lacks(url: str) -> None:
    build_legacy(url, upto=8)  # before the LLM call log had result, detail, server and structured
    store = open_any(url)
    try:  # m009 and m010 ran; the eight before them are recorded by name, not run again (their CREATE TABLEs would fail)
        assert [r[0] for r in store.execute("SELECT name FROM migrations ORDER BY name")] == \
            [step.__name__ for step in store.steps]
        assert [r[0] for r in store.execute("SELECT version FROM schema_migrations ORDER BY version")] == \
            list(range(1, 9))
        call = store.log_llm_call({"purpose": "answer", "model": "m", "outcome": "ok", "server": "http://s/v1",
                                   "structured": "json_schema"})
        store.llm_call_outcome(call, "verified")
        assert store.llm_structured("http://s/v1") == "json_schema"
        assert [u["result"] for u in store.llm_usage("")] == ["unchecked", "verified"]
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_sqlite_speaker_index_is_built_for_quotes_stored_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"
    build_legacy(url, upto=2)  # quotes stored, no speaker_tokens table yet
    store = open_any(url)
    try:
        (q,) = store.quotes(speaker_like="marta quinlan")
        assert q.quote.text == QUOTE[2]
        assert sorted(r[0] for r in store.execute("SELECT token FROM speaker_tokens")) == ["marta", "quinlan"]
    finally:
        store.close()


def _columns(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's columns (name, type, not null, default), indexes aside, bookkeeping tables left out."""
    old = Old(url)
    if old.sqlite:
        tables = [r[0] for r in old.run("SELECT name FROM sqlite_master WHERE type = 'table'"
                                        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'passages_fts%'")]
        out = {t: [tuple(r[1:6]) for r in old.run(f'PRAGMA table_info("{t}")')] for t in tables}
    else:
        rows = old.run("SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity"
                       " FROM information_schema.columns WHERE table_schema = current_schema()"
                       " ORDER BY table_name, ordinal_position").fetchall()
        out = {}
        for r in rows:
            out.setdefault(r[0], []).append(tuple(r[1:]))
    old.c.close()
    return {t: cols for t, cols in out.items() if t not in ("migrations", "schema_migrations")}


def test_the_named_steps_build_the_schema_the_numbered_migrations_and_later_steps_built(url: str, tmp_path: Path) -> None:
    fresh = open_any(url)
    fresh.close()
    new = _columns(url)
    (tmp_path / "legacy").mkdir()
    other = empty_database("sqlite" if url.startswith("sqlite:") else "postgres", tmp_path / "legacy", "bb_legacy_")
    try:
        legacy_url = next(other)
        build_legacy(legacy_url, upto=10)
        open_any(legacy_url).close()  # the steps named after the numbered migrations (m011 on) run
        assert new == _columns(legacy_url)
    finally:
        other.close()  # drops the Postgres schema


def test_a_new_subscription_and_claim_on_an_upgraded_database(url: str) -> None:
    build_legacy(url, upto=9)  # before sources had an outlet: m010 runs
    store = open_any(url)
    try:  # ids drawn after the old rows' explicit ones
        sub = store.upsert_subscription(Subscription(id=0, platform="discord", channel="D1", time_of_day="07:00",
                                                     timezone="UTC"))
        assert sub.id != 5 and store.claim_slot(sub.id, "slot-1", "a") is True
        store.save_answer(Answer("q2?", "b.", True, id="ans2"), Channel("slack", "C1", "U1"))
        assert store.add_feedback("ans2", "U1", True)
        assert store.add_source("feed", "https://x.test/rss", 600, outlet="X Times").outlet == "X Times"
    finally:
        store.close()


def test_a_current_sqlite_database_opens_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"
    build_legacy(url, upto=10)
    open_any(url).close()  # m011 runs, once
    writer = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # an ingest mid-batch
    try:  # opening reads that nothing is pending and writes nothing, so it does not wait for the lock
        reader = SQLiteStore(str(tmp_path / "bot.db"), busy_timeout=0.05)
        assert [s.channel for s in reader.list_subscriptions()] == ["C1"]
        reader.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_digests_paused_the_old_way_become_paused_subscriptions(url: str) -> None:
    build_legacy(url, upto=10)
    old = Old(url)
    paused_on, added = "2026-01-05T09:00:00+00:00", "2026-01-03T00:00:00+00:00"
    # C2 paused: a copy under "paused:slack", made when it was paused, with its own claimed slot
    old.run("INSERT INTO subscriptions (id, platform, channel, time_of_day, timezone, cadence, topic, created_by,"
            " created) VALUES (6, 'paused:slack', 'C2', '07:30', 'Europe/Berlin', 'weekdays', 'tram', 'U2', ?)",
            (paused_on,))
    old.run("INSERT INTO digest_claims (subscription_id, slot, owner, status, lease_until, updated) VALUES"
            " (6, 'slot-r', 'resume', 'posted', ?, ?)", (paused_on, paused_on))
    # D1 half-paused: a pause that failed between writing the copy and removing the running digest
    old.run("INSERT INTO subscriptions (id, platform, channel, time_of_day, timezone, created) VALUES"
            " (8, 'discord', 'D1', '06:00', 'UTC', ?), (9, 'paused:discord', 'D1', '06:00', 'UTC', ?)",
            (added, paused_on))
    old.c.close()
    store = open_any(url)
    try:
        subs = {(s.platform, s.channel): s for s in store.list_subscriptions()}
        assert sorted(subs) == [("discord", "D1"), ("slack", "C1"), ("slack", "C2")]
        assert subs["slack", "C1"].paused_at is None and subs["discord", "D1"].paused_at is None
        assert subs["discord", "D1"].id == 8  # the running one stays; the stale copy is gone
        c2 = subs["slack", "C2"]
        assert (c2.id, c2.time_of_day, c2.timezone, c2.cadence, c2.topic, c2.created_by, c2.paused_at) == \
            (6, "07:30", "Europe/Berlin", "weekdays", "tram", "U2", paused_on)
        assert [c["slot"] for c in store.claims(6)] == ["slot-r"]
        assert store.claim_slot(5, "slot-1", "b") is False  # the running digest's posted slot is still posted
        resumed = store.set_paused(6, None)
        assert resumed is not None and resumed.paused_at is None and resumed.id == 6
        assert store.set_paused(404, None) is None
    finally:
        store.close()
