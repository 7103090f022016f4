"""The bot's own records of its chats, written once for every dialect: answers, feedback, chat events and
conversation turns (the Conversations role); a channel's source scope, digest subscriptions and claims, and
posted briefs (the Channels role).

Claims are race-safe across processes on both dialects: an INSERT ... ON CONFLICT DO NOTHING, then an UPDATE
whose WHERE re-checks the claim on the row it locks. Imports no driver.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import Answer, BriefRow, Channel, Subscription
from bot.store.dialect import Queries, Row, now

BRIEF_COLUMNS = "id, platform, channel, kind, topic, created, body"


def _brief_row(r: Row) -> BriefRow:
    return BriefRow(*(r[name.strip()] for name in BRIEF_COLUMNS.split(",")))


def _subscription(r: Row) -> Subscription:
    return Subscription(id=r["id"], platform=r["platform"], channel=r["channel"], time_of_day=r["time_of_day"],
                        timezone=r["timezone"], cadence=r["cadence"], topic=r["topic"], created_by=r["created_by"],
                        paused_at=r["paused_at"])


class ConversationsSQL(Queries):
    """The Conversations role over a dialect."""

    def save_answer(self, answer: Answer, channel: Channel | None) -> None:
        """Keep an answer so feedback can point at it (a second save of one id replaces the first)."""
        self._run(
            'INSERT INTO answers (id, at, platform, channel, "user", question, answer, found, backend, citations, why)'
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET at=excluded.at,"
            ' platform=excluded.platform, channel=excluded.channel, "user"=excluded."user",'
            " question=excluded.question, answer=excluded.answer, found=excluded.found, backend=excluded.backend,"
            " citations=excluded.citations, why=excluded.why",
            (answer.id, now(), channel.platform if channel else None, channel.channel if channel else None,
             channel.user if channel else None, answer.question, answer.text, int(answer.found), answer.backend,
             json.dumps([c.to_json() for c in answer.citations]), answer.why))

    def add_feedback(self, answer_id: str, user: str, helpful: bool) -> bool:
        """Record (or change) a user's vote; False when the answer is unknown."""
        with self.db.tx() as tx:
            if not tx.execute(self.db.sql(f"SELECT 1 AS known FROM answers WHERE id = ?{self.db.key_share}"),
                              (answer_id,)).fetchone():
                return False
            tx.execute(self.db.sql('INSERT INTO feedback (answer_id, "user", helpful, at) VALUES (?,?,?,?)'
                                   ' ON CONFLICT (answer_id, "user") DO UPDATE SET helpful=excluded.helpful,'
                                   " at=excluded.at"), (answer_id, user, int(helpful), now()))
        return True

    def first_sight(self, platform: str, event_id: str, owner: str) -> bool:
        """Claim a chat event; True only for the first replica (and delivery) to see it."""
        return self._run("INSERT INTO events_seen (platform, event_id, owner, at) VALUES (?,?,?,?)"
                         " ON CONFLICT DO NOTHING", (platform, event_id, owner, now())) == 1

    def prune_events(self, before: str) -> int:
        """Forget events seen before an ISO time (Slack stops retrying after minutes)."""
        return self._run("DELETE FROM events_seen WHERE at < ?", (before,))

    def add_turn(self, conversation: str, turn: str) -> None:
        """Append one turn (JSON) to a conversation."""
        self._run("INSERT INTO conversation_turns (conversation, at, turn) VALUES (?,?,?)", (conversation, now(), turn))

    def recent_turns(self, conversation: str, limit: int) -> list[str]:
        """The last `limit` turns of a conversation, oldest first."""
        rows = self._all("SELECT turn FROM conversation_turns WHERE conversation = ? ORDER BY id DESC LIMIT ?",
                         (conversation, limit))
        return [str(r["turn"]) for r in reversed(rows)]

    def prune_turns(self, before: str) -> int:
        """Forget conversation turns older than an ISO time."""
        return self._run("DELETE FROM conversation_turns WHERE at < ?", (before,))


class ChannelsSQL(Queries):
    """The Channels role over a dialect."""

    def set_channel_sources(self, platform: str, channel: str, patterns: list[str]) -> None:
        """Limit a channel's answers and briefs to sources whose location contains one of the patterns."""
        with self.db.tx() as tx:
            tx.execute(self.db.sql("DELETE FROM channel_sources WHERE platform = ? AND channel = ?"),
                       (platform, channel))
            self.db.many(tx, "INSERT INTO channel_sources (platform, channel, pattern) VALUES (?,?,?)"
                             " ON CONFLICT DO NOTHING", [(platform, channel, p) for p in patterns])

    def channel_sources(self, platform: str, channel: str) -> list[str]:
        """The channel's source patterns ([] means every source)."""
        return [r["pattern"] for r in self._all("SELECT pattern FROM channel_sources WHERE platform = ?"
                                                " AND channel = ? ORDER BY pattern", (platform, channel))]

    def upsert_subscription(self, sub: Subscription) -> Subscription:
        """Create or replace a channel's digest subscription, paused or running as `sub.paused_at` says; a replaced
        one keeps its id, so its last digest time and claimed slots stay."""
        with self.db.tx() as tx:
            r = tx.execute(self.db.sql(
                "INSERT INTO subscriptions (platform, channel, time_of_day, timezone, cadence, topic, created_by,"
                " created, paused_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (platform, channel) DO UPDATE SET"
                " time_of_day=excluded.time_of_day, timezone=excluded.timezone, cadence=excluded.cadence,"
                " topic=excluded.topic, created_by=excluded.created_by, paused_at=excluded.paused_at RETURNING *"),
                (sub.platform, sub.channel, sub.time_of_day, sub.timezone, sub.cadence, sub.topic, sub.created_by,
                 now(), sub.paused_at)).fetchone()
        return _subscription(r)

    def set_paused(self, subscription_id: int, paused_at: str | None,
                   forget_before: str | None = None) -> Subscription | None:
        """Pause a subscription as of an ISO time, or resume it (None), forgetting a last digest time before
        `forget_before`; the subscription, None when it is gone."""
        with self.db.tx() as tx:
            r = tx.execute(self.db.sql(
                "UPDATE subscriptions SET paused_at = ?, last_digest_at = CASE WHEN last_digest_at < ? THEN NULL"
                " ELSE last_digest_at END WHERE id = ? RETURNING *"),
                (paused_at, forget_before or "", subscription_id)).fetchone()
        return _subscription(r) if r else None

    def delete_subscriptions(self, platform: str, channel: str) -> int:
        """Remove a channel's subscriptions; returns how many."""
        return self._run("DELETE FROM subscriptions WHERE platform = ? AND channel = ?", (platform, channel))

    def list_subscriptions(self, platform: str | None = None, channel: str | None = None) -> list[Subscription]:
        """Subscriptions, optionally of one platform or channel."""
        sql, args = "SELECT * FROM subscriptions WHERE 1=1", list[str]()
        if platform:
            sql, args = sql + " AND platform = ?", [*args, platform]
        if channel:
            sql, args = sql + " AND channel = ?", [*args, channel]
        return [_subscription(r) for r in self._all(sql + " ORDER BY id", args)]

    def last_digest_at(self, subscription_id: int) -> str | None:
        """When the subscription's last digest was posted (ISO), if ever."""
        rows = self._all("SELECT last_digest_at FROM subscriptions WHERE id = ?", (subscription_id,))
        return rows[0]["last_digest_at"] if rows else None

    def claim_slot(self, subscription_id: int, slot: str, owner: str, lease_seconds: int = 300,
                   max_attempts: int = 5) -> bool:
        """Claim a digest slot; True when this owner may post it now.

        A slot already posted is never claimed again; a claim whose lease ran out (its owner
        crashed) is taken over; a failed post is retried up to max_attempts. Both steps are single
        statements, so two replicas racing for a slot cannot both win: the insert waits on the
        other's uncommitted row, and the takeover re-checks its condition on the row it locks.
        """
        at = datetime.now(UTC).replace(microsecond=0)
        lease, stamp = (at + timedelta(seconds=lease_seconds)).isoformat(), at.isoformat()
        q = self.db.sql
        with self.db.tx() as tx:
            if tx.execute(q("INSERT INTO digest_claims (subscription_id, slot, owner, status, lease_until, updated)"
                            " VALUES (?,?,?,'claimed',?,?) ON CONFLICT (subscription_id, slot) DO NOTHING"),
                          (subscription_id, slot, owner, lease, stamp)).rowcount == 1:
                return True
            return tx.execute(q(
                "UPDATE digest_claims SET owner=?, status='claimed', lease_until=?, attempts=attempts+1, updated=?"
                " WHERE subscription_id=? AND slot=? AND status <> 'posted' AND attempts < ?"
                " AND (status <> 'claimed' OR lease_until <= ?)"),
                (owner, lease, stamp, subscription_id, slot, max_attempts, stamp)).rowcount == 1

    def finish_claim(self, subscription_id: int, slot: str, owner: str, message_id: str | None,
                     error: str | None = None, digest_time: str | None = None) -> None:
        """Record a slot's delivery: posted (with the message id) or failed (with the error, retried later)."""
        stamp = now()
        with self.db.tx() as tx:
            tx.execute(self.db.sql("UPDATE digest_claims SET status=?, message_id=?, error=?, updated=?, lease_until=?"
                                   " WHERE subscription_id=? AND slot=? AND owner=?"),
                       ("failed" if error else "posted", message_id, error, stamp, stamp, subscription_id, slot, owner))
            if not error:
                tx.execute(self.db.sql("UPDATE subscriptions SET last_digest_at=? WHERE id=?"),
                           (digest_time or stamp, subscription_id))

    def claims(self, subscription_id: int | None = None) -> list[dict[str, Any]]:
        """Claimed slots and their delivery outcome."""
        sql = "SELECT * FROM digest_claims" + (" WHERE subscription_id = ?" if subscription_id else "")
        return [dict(r) for r in self._all(sql + " ORDER BY slot, subscription_id",
                                           (subscription_id,) if subscription_id else ())]

    def save_brief(self, row: BriefRow) -> None:
        """Keep a posted brief for its page and the channel's archive."""
        self._run(f"INSERT INTO briefs ({BRIEF_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                  (row.id, row.platform, row.channel, row.kind, row.topic, row.created, row.body))

    def prune_briefs(self, before: str) -> int:
        """Forget briefs and digests posted before an ISO time (their page links then say they expired)."""
        return self._run("DELETE FROM briefs WHERE created < ?", (before,))

    def get_brief(self, brief_id: str) -> BriefRow | None:
        """A stored brief by id."""
        rows = self._all(f"SELECT {BRIEF_COLUMNS} FROM briefs WHERE id = ?", (brief_id,))
        return _brief_row(rows[0]) if rows else None

    def list_briefs(self, platform: str, channel: str, kind: str | None = None, limit: int = 50) -> list[BriefRow]:
        """A channel's stored briefs (of `kind`, when given), newest first."""
        sql, args = f"SELECT {BRIEF_COLUMNS} FROM briefs WHERE platform = ? AND channel = ?", [platform, channel]
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        return [_brief_row(r) for r in self._all(sql + f" ORDER BY created DESC, id LIMIT {int(limit)}", args)]
