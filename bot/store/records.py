"""Stories, sources and ingest runs: the SQL written once for every dialect (the roles Stories and Sources).

Imports no driver; the dialect supplies connections, placeholders and locks.
"""

from __future__ import annotations

from typing import Any

from bot.store.base import Conflict, Membership, SourceRow, StoryRow
from bot.store.dialect import Queries, now
from bot.store.documents import _id_ref
from bot.store.scope import scope_clause

# pg_advisory_xact_lock key for story assignment: b"stories!" as a big-endian int64.
STORY_LOCK = int.from_bytes(b"stories!", "big")

UNASSIGNED_SQL = ("SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM story_documents m WHERE m.doc_id = d.id)"
                  " ORDER BY id")
STORIES_SQL = ("SELECT s.id, s.first_seen, s.last_seen, s.updated_at, m.doc_id FROM stories s"
               " JOIN story_documents m ON m.story_id = s.id JOIN documents d ON d.id = m.doc_id"
               " WHERE {where} ORDER BY s.id, COALESCE(d.published, d.fetched), d.id")
MEMBERSHIPS_SQL = ("SELECT m.doc_id, m.story_id, m.profile, COALESCE(d.published, d.fetched) AS seen"
                   " FROM story_documents m JOIN documents d ON d.id = m.doc_id WHERE {where} ORDER BY m.doc_id")
# a story's span and time of change, after documents joined it
TOUCH_STORY = ("UPDATE stories SET updated_at = ?,"
               " first_seen = (SELECT MIN(COALESCE(d.published, d.fetched)) FROM story_documents m"
               "  JOIN documents d ON d.id = m.doc_id WHERE m.story_id = stories.id),"
               " last_seen = (SELECT MAX(COALESCE(d.published, d.fetched)) FROM story_documents m"
               "  JOIN documents d ON d.id = m.doc_id WHERE m.story_id = stories.id)"
               " WHERE id = ?")
SOURCE_FIELDS = {"etag", "last_modified", "last_polled", "last_error"}  # what a poll may update


class StoriesSQL(Queries):
    """The Stories role over a dialect: each document joins one story, for good."""

    def assign_stories(self, members: list[Membership], at: str) -> int:
        """Put documents into stories in one transaction, starting the stories they name; returns how many.

        A document already in a story never moves: if any of `members` is (another process won the
        race), nothing is written and Conflict is raised, so the caller recomputes from what is stored.
        """
        if not members:
            return 0
        story_ids = sorted({m.story_id for m in members})
        with self.db.tx() as tx:
            # one assigner at a time: the loser of a race finds its documents taken rather than deadlocking
            self.db.lock(tx, STORY_LOCK)
            self.db.many(tx, "INSERT INTO stories (id, first_seen, last_seen, updated_at) VALUES (?,'','',?)"
                             " ON CONFLICT DO NOTHING", [(s, at) for s in story_ids])
            n = self.db.many(tx, "INSERT INTO story_documents (doc_id, story_id, profile) VALUES (?,?,?)"
                                 " ON CONFLICT DO NOTHING", [(m.doc_id, m.story_id, m.profile) for m in members])
            if n != len(members):
                # (before the stories are touched: a story whose documents were all taken would get no dates, which
                # its NOT NULL columns refuse with an error that is no Conflict, and the assigner would not retry)
                raise Conflict(f"{len(members) - n} of {len(members)} documents were put into stories meanwhile")
            self.db.many(tx, TOUCH_STORY, [(at, s) for s in story_ids])
        return n

    def unassigned_documents(self) -> list[int]:
        """Ids of the stored documents in no story yet."""
        return [r["id"] for r in self.db.conn().execute(UNASSIGNED_SQL)]

    def stories(self, sources: list[str] | None = None) -> list[StoryRow]:
        """Every story with its documents in scope `sources` (all when None), grouped by story id."""
        where, args = scope_clause("d.location", sources)
        out: dict[int, StoryRow] = {}
        for r in self.db.conn().execute(self.db.sql(STORIES_SQL.format(where=where)), args):
            s = out.get(r["id"])
            if s is None:
                s = out[r["id"]] = StoryRow(r["id"], r["first_seen"], r["last_seen"], r["updated_at"])
            s.doc_ids.append(r["doc_id"])
        return list(out.values())

    def memberships(self, sources: list[str] | None = None) -> list[Membership]:
        """Every assigned document's story and profile (those in scope `sources`)."""
        where, args = scope_clause("d.location", sources)
        return [Membership(r["doc_id"], r["story_id"], r["profile"], r["seen"] or "")
                for r in self.db.conn().execute(self.db.sql(MEMBERSHIPS_SQL.format(where=where)), args)]


class SourcesSQL(Queries):
    """The Sources role over a dialect: sources polled on a schedule, and the ingest-run log."""

    def add_source(self, kind: str, location: str, every_seconds: int, outlet: str | None = None) -> SourceRow:
        """Register a source (or change its kind, interval and, when given, its outlet name)."""
        with self.db.tx() as tx:
            r = tx.execute(self.db.sql(
                "INSERT INTO sources (kind, location, every_seconds, added, outlet) VALUES (?,?,?,?,?)"
                " ON CONFLICT (location) DO UPDATE SET every_seconds = excluded.every_seconds, kind = excluded.kind,"
                " outlet = COALESCE(excluded.outlet, sources.outlet) RETURNING *"),
                (kind, location, every_seconds, now(), outlet)).fetchone()
        return SourceRow(**dict(r))

    def list_sources(self) -> list[SourceRow]:
        """Every registered source, oldest first."""
        return [SourceRow(**dict(r)) for r in self.db.conn().execute("SELECT * FROM sources ORDER BY id")]

    def remove_source(self, ref: str) -> SourceRow | None:
        """Forget a source (by id or location); its documents stay stored."""
        source_id = _id_ref(ref)
        with self.db.tx() as tx:
            r = tx.execute(self.db.sql("DELETE FROM sources WHERE id = ? OR location = ? RETURNING *"),
                           (-1 if source_id is None else source_id, ref)).fetchone()
        return SourceRow(**dict(r)) if r else None

    def update_source(self, source_id: int, **fields: str | None) -> None:
        """Record a poll's outcome: etag, last_modified, last_polled, last_error."""
        bad = set(fields) - SOURCE_FIELDS
        if bad:
            raise ValueError(f"cannot update source fields {sorted(bad)}")
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)  # names from SOURCE_FIELDS only
        with self.db.tx() as tx:
            tx.execute(self.db.sql(f"UPDATE sources SET {sets} WHERE id = ?"), (*fields.values(), source_id))

    def begin_run(self, trigger: str, inputs: list[str]) -> int:
        """Start an ingest run's record; returns its id."""
        with self.db.tx() as tx:
            return self.db.insert(tx, "INSERT INTO ingest_runs (trigger, inputs, started) VALUES (?,?,?)",
                                  (trigger, "\n".join(inputs), now()))

    def record_item(self, run_id: int, location: str, outcome: str, reason: str = "",
                    doc_id: int | None = None) -> None:
        """Record one input's outcome in a run."""
        with self.db.write() as tx:
            tx.execute(self.db.sql("INSERT INTO ingest_items (run_id, location, outcome, reason, doc_id, at)"
                                   " VALUES (?,?,?,?,?,?)"), (run_id, location, outcome, reason, doc_id, now()))

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        """Close a run's record with its counts (near-duplicates count as duplicates)."""
        with self.db.tx() as tx:
            tx.execute(self.db.sql(
                "UPDATE ingest_runs SET finished=?, new=?, updated=?, unchanged=?, duplicates=?, skipped=? WHERE id=?"),
                (now(), counts.get("new", 0), counts.get("updated", 0), counts.get("unchanged", 0),
                 counts.get("duplicates", 0) + counts.get("near_duplicates", 0), counts.get("skipped", 0), run_id))

    def run_items(self, run_id: int) -> list[dict[str, Any]]:
        """The per-item outcomes of one ingest run, in the order recorded."""
        return [dict(r) for r in self.db.conn().execute(self.db.sql(
            "SELECT location, outcome, reason, doc_id FROM ingest_items WHERE run_id = ?"
            f" ORDER BY {self.db.item_order}"), (run_id,))]
