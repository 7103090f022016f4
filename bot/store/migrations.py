"""The schema as named steps: each backend has one list of functions (bot.store.sqlite.STEPS,
bot.store.postgres.STEPS), applied in order, each in its own transaction, and recorded by name in `migrations`.

A step named `mNNN_...` with NNN up to NUMBERED was numbered migration NNN before steps had names: a database whose
`schema_migrations` table records that number already has it, so it is recorded, never run again. The steps here
are the ones both backends share, written once with the dialect's DDL words ({ID}, {SEQ}, {KEY}, {BLOB}, {REAL}).
Imports no driver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bot.store.dialect import Connection, Dialect, now

NUMBERED = 10  # m001..m010 were numbered migrations 1..10, recorded in schema_migrations
# pg_advisory_xact_lock key for migrations: b"briefbot" as a big-endian int64, so replicas starting together queue
# on it and only the first applies each step
MIGRATE_LOCK = int.from_bytes(b"briefbot", "big")


class Migration:
    """What a step is given: its transaction and the dialect's DDL words."""

    def __init__(self, db: Dialect, tx: Connection) -> None:
        self.db, self.tx = db, tx

    def run(self, ddl: str) -> None:
        """Run each statement of `ddl`, its {WORDS} replaced by the dialect's."""
        for stmt in ddl.format(**self.db.types).split(";"):
            if stmt.strip():
                self.tx.execute(stmt.strip())

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run shared `sql` once for each of `rows`."""
        return self.db.many(self.tx, sql, rows)


Step = Callable[[Migration], None]


def _number(name: str) -> int | None:
    m = re.match(r"m(\d{3})_", name)
    return int(m.group(1)) if m and int(m.group(1)) <= NUMBERED else None


def _recorded(db: Dialect, tx: Connection | None = None) -> set[str]:
    """The steps this database has: those recorded by name, and those recorded by number before names."""
    c = db.conn() if tx is None else tx
    names: set[str] = set()
    if tx is None or db.has_table(tx, "migrations"):
        try:
            names = {r["name"] for r in c.execute("SELECT name FROM migrations")}
        except db.Error:  # no table yet (read outside a transaction, so nothing is spoiled)
            names = set()
    numbers: set[int] = set()
    if tx is None or db.has_table(tx, "schema_migrations"):
        try:
            numbers = {int(r["version"]) for r in c.execute("SELECT version FROM schema_migrations")}
        except db.Error:
            numbers = set()
    return names | {f"#{n}" for n in numbers}


def _has(recorded: set[str], name: str) -> bool:
    return name in recorded or f"#{_number(name)}" in recorded


def pending(db: Dialect, steps: list[Step]) -> list[str]:
    """The names of the steps this database lacks (one read, no lock)."""
    recorded = _recorded(db)
    return [s.__name__ for s in steps if not _has(recorded, s.__name__)]


def migrate(db: Dialect, steps: list[Step]) -> int:
    """Apply the steps this database lacks; returns how many steps the schema has.

    A current schema is seen with one read and no write lock, so opening the store for a question does not wait
    for (or fail behind) an ingest holding the lock.
    """
    if not pending(db, steps):
        return len(steps)
    step = "creating the migrations table"
    try:
        with db.tx() as tx:
            db.lock(tx, MIGRATE_LOCK)
            tx.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
        for fn in steps:
            step = fn.__name__
            with db.tx() as tx:
                db.lock(tx, MIGRATE_LOCK)
                recorded = _recorded(db, tx)
                if step in recorded:
                    continue
                if not _has(recorded, step):  # else numbered before: the schema has it, only the name is new
                    fn(Migration(db, tx))
                tx.execute(db.sql("INSERT INTO migrations (name, applied) VALUES (?, ?)"), (step, now()))
    except db.Error as e:
        raise db.migration_failed(e, step) from e
    return len(steps)


# -- the steps both backends share -------------------------------------------------------------
# m001's tables both backends have alike (each adds its passages, their full-text index and ingest_items)
CORE_TABLES = """
    CREATE TABLE sources (
        id {ID},
        kind TEXT NOT NULL,
        location TEXT NOT NULL UNIQUE,
        every_seconds INTEGER NOT NULL,
        etag TEXT, last_modified TEXT, last_polled TEXT, last_error TEXT,
        added TEXT NOT NULL
    );
    CREATE TABLE documents (
        id {ID},
        source_id {KEY} REFERENCES sources(id) ON DELETE SET NULL,
        location TEXT NOT NULL UNIQUE,
        url TEXT, title TEXT NOT NULL, outlet TEXT, author TEXT, published TEXT,
        fetched TEXT NOT NULL,
        content_hash TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE sketches (
        doc_id {KEY} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        value {KEY} NOT NULL
    );
    CREATE INDEX sketches_value ON sketches(value);
    CREATE INDEX sketches_doc ON sketches(doc_id);
    CREATE TABLE quotes (
        id {ID},
        doc_id {KEY} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        passage INTEGER,
        start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
        speaker TEXT, speaker_key TEXT, speaker_start INTEGER, speaker_end INTEGER,
        description TEXT, role TEXT, cue TEXT, kind TEXT NOT NULL
    );
    CREATE INDEX quotes_doc ON quotes(doc_id);
    CREATE INDEX quotes_speaker ON quotes(speaker_key);
    CREATE TABLE ingest_runs (
        id {ID},
        trigger TEXT NOT NULL, inputs TEXT NOT NULL,
        started TEXT NOT NULL, finished TEXT,
        new INTEGER, updated INTEGER, unchanged INTEGER, duplicates INTEGER, skipped INTEGER
    )
"""


def m002_answers_and_digests(m: Migration) -> None:
    """Answers and feedback, the LLM call log, digest subscriptions and their claimed slots, channel scoping."""
    m.run("""
    CREATE TABLE answers (
        id TEXT PRIMARY KEY, at TEXT NOT NULL, platform TEXT, channel TEXT, "user" TEXT,
        question TEXT NOT NULL, answer TEXT NOT NULL, found INTEGER NOT NULL, backend TEXT NOT NULL,
        citations TEXT NOT NULL, why TEXT
    );
    CREATE TABLE feedback (
        answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        "user" TEXT NOT NULL DEFAULT '', helpful INTEGER NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (answer_id, "user")
    );
    CREATE TABLE llm_calls (
        id {ID}, at TEXT NOT NULL, purpose TEXT, prompt_name TEXT, prompt_hash TEXT,
        model TEXT, tokens_in INTEGER, tokens_out INTEGER, estimated INTEGER NOT NULL DEFAULT 0,
        latency_ms {REAL}, outcome TEXT NOT NULL, error TEXT, attempts INTEGER
    );
    CREATE INDEX llm_calls_at ON llm_calls(at);
    CREATE TABLE subscriptions (
        id {ID}, platform TEXT NOT NULL, channel TEXT NOT NULL,
        time_of_day TEXT NOT NULL, timezone TEXT NOT NULL, cadence TEXT NOT NULL DEFAULT 'daily',
        topic TEXT, created_by TEXT, created TEXT NOT NULL, last_digest_at TEXT,
        UNIQUE (platform, channel)
    );
    CREATE TABLE digest_claims (
        subscription_id {KEY} NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        slot TEXT NOT NULL, owner TEXT NOT NULL, status TEXT NOT NULL, lease_until TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1, message_id TEXT, error TEXT, updated TEXT NOT NULL,
        PRIMARY KEY (subscription_id, slot)
    );
    CREATE TABLE channel_sources (
        platform TEXT NOT NULL, channel TEXT NOT NULL, pattern TEXT NOT NULL,
        PRIMARY KEY (platform, channel, pattern)
    )""")


def m004_events_seen(m: Migration) -> None:
    """Chat events already taken by some replica (Slack redelivers; Socket Mode spreads connections)."""
    m.run("""
    CREATE TABLE events_seen (
        platform TEXT NOT NULL, event_id TEXT NOT NULL, owner TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (platform, event_id)
    );
    CREATE INDEX events_seen_at ON events_seen(at)""")


def m005_stories(m: Migration) -> None:
    """Persisted stories: a story's id is its first document's id, and a document joins one story for good (it
    keeps its id across versions, so its membership does too; deleting it deletes the membership)."""
    m.run("""
    CREATE TABLE stories (
        id {KEY} PRIMARY KEY,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE story_documents (
        doc_id {KEY} PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        story_id {KEY} NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        profile TEXT NOT NULL
    );
    CREATE INDEX story_documents_story ON story_documents(story_id)""")


def m006_passage_vectors(m: Migration) -> None:
    """One embedding vector a passage, gone with its passage; seq grows with every write, so (count, max seq)
    tells a dense index that it is stale."""
    m.run("""
    CREATE TABLE passage_vectors (
        seq {SEQ},
        passage_id {KEY} NOT NULL UNIQUE REFERENCES passages(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        vec {BLOB} NOT NULL
    );
    CREATE INDEX passage_vectors_model ON passage_vectors(model, passage_id)""")


def m007_conversation_turns(m: Migration) -> None:
    """Conversation turns (a thread, a DM, a CLI chat), so follow-ups survive a restart and reach another replica;
    ids order them, so two replicas answering in one thread both append."""
    m.run("""
    CREATE TABLE conversation_turns (
        id {SEQ},
        conversation TEXT NOT NULL, at TEXT NOT NULL, turn TEXT NOT NULL
    );
    CREATE INDEX conversation_turns_conv ON conversation_turns(conversation, id)""")


def m008_briefs(m: Migration) -> None:
    """Briefs and digests as posted, for their pages (bot/web) and a channel's digest archive."""
    m.run("""
    CREATE TABLE briefs (
        id TEXT PRIMARY KEY, platform TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
        topic TEXT, created TEXT NOT NULL, body TEXT NOT NULL
    );
    CREATE INDEX briefs_channel ON briefs(platform, channel, kind, created)""")


def m009_llm_call_results(m: Migration) -> None:
    """What became of each LLM call (verified, partly dropped, fell back and why, timed out, refused), the server
    it went to and the structured-output mode that server took."""
    m.run("""
    ALTER TABLE llm_calls ADD COLUMN result TEXT;
    ALTER TABLE llm_calls ADD COLUMN detail TEXT;
    ALTER TABLE llm_calls ADD COLUMN server TEXT;
    ALTER TABLE llm_calls ADD COLUMN structured TEXT""")


def m010_source_outlet(m: Migration) -> None:
    """The name the operator gives a source's outlet (`sources add --outlet`), set on what its polls store."""
    m.run("ALTER TABLE sources ADD COLUMN outlet TEXT")


def m011_paused_at(m: Migration) -> None:
    """A paused digest keeps its own row (its last digest time and its claimed slots) and says when it was paused.

    Before, a paused digest was a copy of the subscription under the platform "paused:<platform>", made when it was
    paused (its `created`). Such a copy becomes its channel's subscription again, paused since then; where the
    channel also has a running one (a pause or resume that failed half-way), the running one is what was posting
    and stays, and the stale copy goes.
    """
    m.run("""
    ALTER TABLE subscriptions ADD COLUMN paused_at TEXT;
    DELETE FROM subscriptions WHERE substr(platform, 1, 7) = 'paused:' AND EXISTS (
        SELECT 1 FROM subscriptions r WHERE r.platform = substr(subscriptions.platform, 8)
        AND r.channel = subscriptions.channel);
    UPDATE subscriptions SET platform = substr(platform, 8), paused_at = created
        WHERE substr(platform, 1, 7) = 'paused:'""")
