"""SQLite persistence for the bot's own records: stories, answers, feedback, LLM calls, subscriptions, claims.

A mixin of SQLiteStore, split off so neither file has to hold everything.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import Answer, Channel, Subscription
from bot.store.base import (
    BriefRecords,
    Membership,
    StoryRecords,
    subscription_row,
)
from bot.store.vectors import VectorRecords


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# a story's span and time of change, after documents joined it
TOUCH_STORY = (
    "UPDATE stories SET updated_at = ?,"
    " first_seen = (SELECT MIN(COALESCE(d.published, d.fetched)) FROM story_documents m"
    "  JOIN documents d ON d.id = m.doc_id WHERE m.story_id = stories.id),"
    " last_seen = (SELECT MAX(COALESCE(d.published, d.fetched)) FROM story_documents m"
    "  JOIN documents d ON d.id = m.doc_id WHERE m.story_id = stories.id)"
    " WHERE id = ?"
)


class SQLiteOpsMixin(BriefRecords, StoryRecords, VectorRecords):
    """Stories, passage vectors, answers, feedback, call log, subscriptions and digest claims."""

    def _conn(self) -> sqlite3.Connection:  # provided by SQLiteStore
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:  # provided by SQLiteStore
        raise NotImplementedError

    # -- stories: the dialect's half of StoryRecords.assign_stories --------------------------
    def _write_members(self, tx: Any, members: list[Membership], story_ids: list[int], at: str) -> int:
        tx.executemany("INSERT OR IGNORE INTO stories (id, first_seen, last_seen, updated_at) VALUES (?,'','',?)",
                       [(s, at) for s in story_ids])
        n = int(tx.executemany("INSERT OR IGNORE INTO story_documents (doc_id, story_id, profile) VALUES (?,?,?)",
                               [(m.doc_id, m.story_id, m.profile) for m in members]).rowcount)
        tx.executemany(TOUCH_STORY, [(at, s) for s in story_ids])
        return n

    # -- passage vectors: the dialect's half of VectorRecords.put_vectors ---------------------
    def _write_vectors(self, tx: Any, model: str, rows: list[tuple[int, bytes]], texts: list[str] | None) -> int:
        # OR REPLACE deletes the passage's old row and inserts a new one, so seq moves on; the SELECT
        # skips passages deleted (or, with texts, changed) since they were read
        sql = ("INSERT OR REPLACE INTO passage_vectors (passage_id, model, vec) SELECT p.id, ?, ? FROM passages p"
               " JOIN documents d ON d.id = p.doc_id WHERE p.id = ?")
        if texts is None:
            args: list[tuple[Any, ...]] = [(model, vec, pid) for pid, vec in rows]
        else:
            sql += ' AND substr(d.text, p.start + 1, p."end" - p.start) = ?'
            args = [(model, vec, pid, text) for (pid, vec), text in zip(rows, texts, strict=True)]
        return sum(tx.execute(sql, a).rowcount for a in args)

    # -- answers and feedback ----------------------------------------------------------------
    def save_answer(self, answer: Answer, channel: Channel | None) -> None:
        """Keep an answer so feedback can point at it."""
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO answers (id, at, platform, channel, user, question, answer, found, backend,"
                " citations, why) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (answer.id, _now().isoformat(), channel.platform if channel else None,
                 channel.channel if channel else None, channel.user if channel else None, answer.question,
                 answer.text, int(answer.found), answer.backend,
                 json.dumps([c.to_json() for c in answer.citations]), answer.why),
            )

    def add_feedback(self, answer_id: str, user: str, helpful: bool) -> bool:
        """Record (or change) a user's vote; False when the answer is unknown."""
        with self._tx() as tx:
            if not tx.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone():
                return False
            tx.execute("INSERT OR REPLACE INTO feedback (answer_id, user, helpful, at) VALUES (?,?,?,?)",
                       (answer_id, user, int(helpful), _now().isoformat()))
        return True

    def feedback_counts(self) -> dict[str, int]:
        """Helpful and not-helpful votes so far."""
        r = self._conn().execute("SELECT COALESCE(SUM(helpful),0), COUNT(*) FROM feedback").fetchone()
        return {"helpful": int(r[0]), "not_helpful": int(r[1]) - int(r[0])}

    # -- LLM call log ------------------------------------------------------------------------
    def log_llm_call(self, rec: dict[str, Any]) -> int:
        """One row per LLM call: prompt name and hash, model, tokens, latency, outcome; returns its id."""
        with self._tx() as tx:
            cur = tx.execute(
                "INSERT INTO llm_calls (at, purpose, prompt_name, prompt_hash, model, tokens_in, tokens_out,"
                " estimated, latency_ms, outcome, error, attempts, server, structured)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (_now().isoformat(), rec.get("purpose"), rec.get("prompt_name"), rec.get("prompt_hash"),
                 rec.get("model"), rec.get("tokens_in"), rec.get("tokens_out"), int(bool(rec.get("estimated"))),
                 rec.get("latency_ms"), rec.get("outcome") or "unknown", rec.get("error"), rec.get("attempts"),
                 rec.get("server"), rec.get("structured")),
            )
            return int(cur.lastrowid or 0)

    def llm_call_outcome(self, call_id: int, result: str, detail: str = "") -> None:
        """What became of a call's reply: verified, partly_dropped, fell_back, timed_out or refused, and why."""
        with self._tx() as tx:
            tx.execute("UPDATE llm_calls SET result = ?, detail = ? WHERE id = ?", (result, detail or None, call_id))

    def llm_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest calls, newest first."""
        rows = self._conn().execute("SELECT * FROM llm_calls ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    def llm_structured(self, server: str) -> str | None:
        """The structured-output mode a server last answered with (what `auto` starts from next run)."""
        r = self._conn().execute("SELECT structured FROM llm_calls WHERE server = ? AND structured IS NOT NULL"
                                 " AND outcome IN ('ok', 'invalid_json', 'empty') ORDER BY id DESC LIMIT 1",
                                 (server,)).fetchone()
        return str(r[0]) if r else None

    def llm_usage(self, since: str) -> list[dict[str, Any]]:
        """Calls, tokens and outcomes per model, purpose and result since an ISO time."""
        rows = self._conn().execute(
            "SELECT model, purpose, COALESCE(result, CASE WHEN outcome = 'ok' THEN 'unchecked' ELSE outcome END)"
            " AS result, COUNT(*) AS calls, COALESCE(SUM(tokens_in),0) AS tokens_in,"
            " COALESCE(SUM(tokens_out),0) AS tokens_out, SUM(outcome = 'ok') AS ok, MAX(estimated) AS estimated,"
            " AVG(latency_ms) AS latency_ms FROM llm_calls WHERE at >= ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC, 3",
            (since,)).fetchall()
        return [dict(r) for r in rows]

    # -- subscriptions -----------------------------------------------------------------------
    def upsert_subscription(self, sub: Subscription) -> Subscription:
        """Create or replace a channel's digest subscription."""
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO subscriptions (platform, channel, time_of_day, timezone, cadence, topic, created_by,"
                " created) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(platform, channel) DO UPDATE SET"
                " time_of_day=excluded.time_of_day, timezone=excluded.timezone, cadence=excluded.cadence,"
                " topic=excluded.topic, created_by=excluded.created_by",
                (sub.platform, sub.channel, sub.time_of_day, sub.timezone, sub.cadence, sub.topic, sub.created_by,
                 _now().isoformat()))
            r = tx.execute("SELECT * FROM subscriptions WHERE platform = ? AND channel = ?",
                           (sub.platform, sub.channel)).fetchone()
        return subscription_row(r)

    def delete_subscriptions(self, platform: str, channel: str) -> int:
        """Remove a channel's subscriptions; returns how many."""
        with self._tx() as tx:
            return tx.execute("DELETE FROM subscriptions WHERE platform = ? AND channel = ?",
                              (platform, channel)).rowcount

    def list_subscriptions(self, platform: str | None = None, channel: str | None = None) -> list[Subscription]:
        """Subscriptions, optionally of one platform or channel."""
        sql, args = "SELECT * FROM subscriptions WHERE 1=1", list[str]()
        if platform:
            sql, args = sql + " AND platform = ?", [*args, platform]
        if channel:
            sql, args = sql + " AND channel = ?", [*args, channel]
        return [subscription_row(r) for r in self._conn().execute(sql + " ORDER BY id", args)]

    def last_digest_at(self, subscription_id: int) -> str | None:
        """When the subscription's last digest was posted (ISO), if ever."""
        r = self._conn().execute("SELECT last_digest_at FROM subscriptions WHERE id = ?", (subscription_id,)).fetchone()
        return r[0] if r else None

    # -- claims: each (subscription, slot) posted once across restarts and replicas ----------
    def claim_slot(self, subscription_id: int, slot: str, owner: str, lease_seconds: int = 300,
                   max_attempts: int = 5) -> bool:
        """Claim a digest slot; True when this owner may post it now.

        A slot already posted is never claimed again; a claim whose lease ran out (its owner
        crashed) is taken over; a failed post is retried up to max_attempts.
        """
        now = _now()
        lease = (now + timedelta(seconds=lease_seconds)).isoformat()
        with self._tx() as tx:
            r = tx.execute("SELECT status, lease_until, attempts FROM digest_claims WHERE subscription_id = ? AND slot = ?",
                           (subscription_id, slot)).fetchone()
            if r is None:
                tx.execute("INSERT INTO digest_claims (subscription_id, slot, owner, status, lease_until, updated)"
                           " VALUES (?,?,?,?,?,?)", (subscription_id, slot, owner, "claimed", lease, now.isoformat()))
                return True
            status, until, attempts = r
            if status == "posted" or attempts >= max_attempts:
                return False
            if status == "claimed" and until > now.isoformat():
                return False
            tx.execute("UPDATE digest_claims SET owner=?, status='claimed', lease_until=?, attempts=attempts+1,"
                       " updated=? WHERE subscription_id=? AND slot=?",
                       (owner, lease, now.isoformat(), subscription_id, slot))
            return True

    def finish_claim(self, subscription_id: int, slot: str, owner: str, message_id: str | None,
                     error: str | None = None, digest_time: str | None = None) -> None:
        """Record a slot's delivery: posted (with the message id) or failed (with the error, retried later)."""
        now = _now().isoformat()
        with self._tx() as tx:
            tx.execute("UPDATE digest_claims SET status=?, message_id=?, error=?, updated=?, lease_until=?"
                       " WHERE subscription_id=? AND slot=? AND owner=?",
                       ("failed" if error else "posted", message_id, error, now, now, subscription_id, slot, owner))
            if not error:
                tx.execute("UPDATE subscriptions SET last_digest_at=? WHERE id=?", (digest_time or now, subscription_id))

    def claims(self, subscription_id: int | None = None) -> list[dict[str, Any]]:
        """Claimed slots and their delivery outcome."""
        sql = "SELECT * FROM digest_claims" + (" WHERE subscription_id = ?" if subscription_id else "")
        return [dict(r) for r in self._conn().execute(sql + " ORDER BY slot",
                                                      (subscription_id,) if subscription_id else ())]

    # -- chat events: each answered by one replica ------------------------------------------
    def first_sight(self, platform: str, event_id: str, owner: str) -> bool:
        """Claim a chat event; True only for the first replica (and delivery) to see it."""
        with self._tx() as tx:
            return tx.execute("INSERT OR IGNORE INTO events_seen (platform, event_id, owner, at) VALUES (?,?,?,?)",
                              (platform, event_id, owner, _now().isoformat())).rowcount == 1

    def prune_events(self, before: str) -> int:
        """Forget events seen before an ISO time (Slack stops retrying after minutes)."""
        with self._tx() as tx:
            return tx.execute("DELETE FROM events_seen WHERE at < ?", (before,)).rowcount

    # -- conversations -----------------------------------------------------------------------
    def add_turn(self, conversation: str, turn: str) -> None:
        """Append one turn (JSON) to a conversation."""
        with self._tx() as tx:
            tx.execute("INSERT INTO conversation_turns (conversation, at, turn) VALUES (?, ?, ?)",
                       (conversation, _now().isoformat(), turn))

    def recent_turns(self, conversation: str, limit: int) -> list[str]:
        """The last `limit` turns of a conversation, oldest first."""
        rows = self._conn().execute("SELECT turn FROM conversation_turns WHERE conversation = ?"
                                    " ORDER BY id DESC LIMIT ?", (conversation, limit)).fetchall()
        return [str(r[0]) for r in reversed(rows)]

    def prune_turns(self, before: str) -> int:
        """Forget conversation turns older than an ISO time."""
        with self._tx() as tx:
            return tx.execute("DELETE FROM conversation_turns WHERE at < ?", (before,)).rowcount

    # -- per-channel source scoping ----------------------------------------------------------
    def set_channel_sources(self, platform: str, channel: str, patterns: list[str]) -> None:
        """Limit a channel's answers and briefs to sources whose location contains one of the patterns."""
        with self._tx() as tx:
            tx.execute("DELETE FROM channel_sources WHERE platform = ? AND channel = ?", (platform, channel))
            tx.executemany("INSERT INTO channel_sources VALUES (?,?,?)", [(platform, channel, p) for p in patterns])

    def channel_sources(self, platform: str, channel: str) -> list[str]:
        """The channel's source patterns ([] means every source)."""
        return [r[0] for r in self._conn().execute(
            "SELECT pattern FROM channel_sources WHERE platform = ? AND channel = ? ORDER BY pattern", (platform, channel))]

