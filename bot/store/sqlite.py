"""The SQLite dialect (the default store): one file in WAL mode, one connection per thread, FTS5 over passages,
BEGIN IMMEDIATE transactions (so writes serialise and need no row locks), and its migration steps.

The scheduler and chat adapters call in from their own threads, so each thread opens its own connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.quotes import speaker_key
from bot.store import migrations as shared
from bot.store.base import NewDocument, PassageHit, StoreError
from bot.store.dialect import Connection, Dialect
from bot.store.migrations import CORE_TABLES, Migration, Step
from bot.store.scope import scope_clause
from bot.store.sql import SQLStore

PASSAGE_ID_STRIDE = 1_000_000  # passage id = doc id * stride + ordinal (a 10 MB text has < 20,000 passages)


def path_from_url(url: str) -> str:
    """sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db; sqlite:///:memory: -> :memory:."""
    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        raise StoreError(f"database URL {url!r}: expected sqlite:///relative.db or sqlite:////absolute.db")
    return rest[3:] or "data/briefbot.db"


def m001_documents(m: Migration) -> None:
    """Sources, documents, passages (+ FTS5), near-duplicate sketches, quotes, ingest runs."""
    m.run(CORE_TABLES + """;
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        UNIQUE (doc_id, ordinal)
    );
    CREATE VIRTUAL TABLE passages_fts USING fts5(text, title, tokenize = 'porter unicode61');
    CREATE TABLE ingest_items (
        run_id INTEGER NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,
        location TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
        doc_id INTEGER, at TEXT NOT NULL
    );
    CREATE INDEX ingest_items_run ON ingest_items(run_id)""")


def m003_speaker_tokens(m: Migration) -> None:
    """An index of speaker name words, so "Navarro" finds "Peter Navarro" without a scan (with the speakers of
    quotes stored before it existed)."""
    m.run("""
    CREATE TABLE speaker_tokens (
        token TEXT NOT NULL,
        quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE
    );
    CREATE INDEX speaker_tokens_token ON speaker_tokens(token);
    CREATE INDEX speaker_tokens_quote ON speaker_tokens(quote_id)""")
    rows = m.tx.execute("SELECT id, speaker_key FROM quotes WHERE speaker_key IS NOT NULL").fetchall()
    m.many("INSERT INTO speaker_tokens (token, quote_id) VALUES (?,?)",
           [(t, r["id"]) for r in rows for t in set(r["speaker_key"].split())])


STEPS: list[Step] = [m001_documents, shared.m002_answers_and_digests, m003_speaker_tokens, shared.m004_events_seen,
                     shared.m005_stories, shared.m006_passage_vectors, shared.m007_conversation_turns,
                     shared.m008_briefs, shared.m009_llm_call_results, shared.m010_source_outlet,
                     shared.m011_paused_at]


class SQLiteDialect(Dialect):
    """SQLite: the placeholder is the shared SQL's own, LIKE is already case-insensitive, writes serialise."""

    name, mark = "sqlite", "?"
    passage_text = 'substr(d.text, p.start + 1, p."end" - p.start)'  # SQLite keeps passage text in the document
    text_join = " JOIN documents d ON d.id = p.doc_id"
    item_order = "rowid"
    types = {"ID": "INTEGER PRIMARY KEY", "SEQ": "INTEGER PRIMARY KEY AUTOINCREMENT", "KEY": "INTEGER",
             "BLOB": "BLOB", "REAL": "REAL"}
    Error = sqlite3.Error
    IntegrityError = sqlite3.IntegrityError

    def __init__(self, path: str, busy_timeout: float = 30.0) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise StoreError(f"SQLite {sqlite3.sqlite_version} is too old: briefbot needs 3.35 or later")
        self.path, self.busy_timeout = path, busy_timeout
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (WAL, foreign keys on), opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
            except sqlite3.Error as e:
                raise StoreError(f"cannot open database {self.path!r}: {e}") from e
            conn.row_factory = sqlite3.Row
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.DatabaseError as e:
                conn.close()
                raise StoreError(f"database {self.path!r} is not a usable SQLite database: {e}") from e
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or a SAVEPOINT inside a batch: all of it or none of it lands.

        The write lock is taken up front, so check-then-insert is safe across processes.
        """
        c = self.conn()
        depth = getattr(self._local, "depth", 0)
        c.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
        self._local.depth = depth + 1
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK" if depth == 0 else f"ROLLBACK TO sp{depth}")
            if depth:
                c.execute(f"RELEASE sp{depth}")
            raise
        else:
            c.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")
        finally:
            self._local.depth = depth

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Inside a batch, the batch's own transaction: no savepoint, because FTS5 flushes its pending index at
        every savepoint release, which costs more than a whole document's insert. Outside, its own transaction."""
        if getattr(self._local, "depth", 0):
            yield self.conn()
        else:
            with self.tx() as tx:
                yield tx

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    def many(self, tx: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run `sql` once for each of `rows` in this thread's transaction; how many rows it changed."""
        return int(self.conn().executemany(sql, rows).rowcount)

    def insert(self, tx: Connection, sql: str, args: Sequence[Any]) -> int:
        """The row's id from the cursor: RETURNING costs SQLite's Python driver more than the insert itself."""
        return int(self.conn().execute(sql, args).lastrowid or 0)

    def has_table(self, tx: Connection, name: str) -> bool:
        """Whether the database has a table called `name`."""
        found = tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return found is not None

    # -- documents and search ----------------------------------------------------------------
    def insert_parts(self, tx: Connection, doc_id: int, doc: NewDocument) -> None:
        """Passages (and their FTS5 rows), sketch, quotes and speaker words, one executemany each: passage and
        quote ids are derived (doc id * stride + position), not drawn."""
        rows = [(doc_id * PASSAGE_ID_STRIDE + p.ordinal, doc_id, p.ordinal, p.start, p.end) for p in doc.passages]
        self.many(tx, 'INSERT INTO passages (id, doc_id, ordinal, start, "end") VALUES (?,?,?,?,?)', rows)
        self.many(tx, "INSERT INTO passages_fts (rowid, text, title) VALUES (?,?,?)",
                  [(r[0], p.text, doc.title if p.ordinal == 0 else "")
                   for r, p in zip(rows, doc.passages, strict=True)])
        self.many(tx, "INSERT INTO sketches (doc_id, value) VALUES (?,?)", [(doc_id, v) for v in doc.sketch])
        qrows: list[tuple[Any, ...]] = []
        tokens: list[tuple[str, int]] = []
        for i, q in enumerate(doc.quotes[:PASSAGE_ID_STRIDE]):
            key = speaker_key(q.speaker) if q.speaker else None
            qid = doc_id * PASSAGE_ID_STRIDE + i
            qrows.append((qid, doc_id, q.passage, q.start, q.end, q.text, q.speaker, key, q.speaker_start,
                          q.speaker_end, q.description, q.role, q.cue, q.kind))
            if key:
                tokens.extend((t, qid) for t in set(key.split()))
        self.many(tx, 'INSERT INTO quotes (id, doc_id, passage, start, "end", text, speaker, speaker_key,'
                      " speaker_start, speaker_end, description, role, cue, kind)"
                      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", qrows)
        self.many(tx, "INSERT INTO speaker_tokens (token, quote_id) VALUES (?,?)", tokens)

    def delete_parts(self, tx: Connection, doc_id: int) -> None:
        """A document's FTS5 rows and speaker words first (nothing cascades to them), then its parts."""
        old = [r["id"] for r in tx.execute("SELECT id FROM passages WHERE doc_id = ?", (doc_id,))]
        self.many(tx, "DELETE FROM passages_fts WHERE rowid = ?", [(i,) for i in old])
        tx.execute("DELETE FROM speaker_tokens WHERE quote_id IN (SELECT id FROM quotes WHERE doc_id = ?)", (doc_id,))
        for table in ("passages", "quotes", "sketches"):
            tx.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))

    def speaker_clause(self, token: str) -> tuple[str, str]:
        """Quote `q`'s speaker has the word `token`: through the speaker-word index."""
        return "q.id IN (SELECT quote_id FROM speaker_tokens WHERE token = ?)", token

    def search(self, match: str, limit: int, sources: list[str] | None, since: str | None) -> list[PassageHit]:
        """FTS5's bm25 over passages (the title, on passage 0, weighs 0.3); best first."""
        # Rank inside FTS5 first and join only the winners: joining every match to its document
        # (and its text) before the sort costs more than the ranking. Filters need the join, so
        # they rank a wider window and filter it.
        sql = (
            'SELECT p.doc_id, p.ordinal, p.start, p."end", substr(d.text, p.start + 1, p."end" - p.start) AS span,'
            " hit.rank, d.location, d.title, d.url, d.outlet, d.published FROM ("
            "  SELECT rowid, bm25(passages_fts, 1.0, 0.3) AS rank FROM passages_fts WHERE passages_fts MATCH ?"
            "  ORDER BY rank LIMIT ?"
            ") hit JOIN passages p ON p.id = hit.rowid JOIN documents d ON d.id = p.doc_id WHERE 1=1"
        )
        args: list[Any] = [match, limit * 20 if sources or since else limit]
        if sources:
            where, scope_args = scope_clause("d.location", sources)
            sql += " AND " + where
            args.extend(scope_args)
        if since:
            sql += " AND COALESCE(d.published, d.fetched) >= ?"
            args.append(since)
        sql += " ORDER BY hit.rank LIMIT ?"
        args.append(limit)
        try:
            rows = self.conn().execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            raise StoreError(f"search {match!r} failed: {e}") from e
        return [PassageHit(doc_id=r["doc_id"], ordinal=r["ordinal"], start=r["start"], end=r["end"], text=r["span"],
                           score=-r["rank"], location=r["location"], title=r["title"], url=r["url"],
                           outlet=r["outlet"], published=r["published"]) for r in rows]

    def count_matches(self, match: str) -> int:
        """Passages an FTS5 expression matches (0 for one FTS5 cannot parse)."""
        try:
            return int(self.conn().execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                           (match,)).fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def terms_like(self, prefix: str, limit: int) -> list[str] | None:
        """FTS5's vocabulary (Porter stems) by prefix."""
        conn = self.conn()
        try:
            conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.passages_vocab USING fts5vocab(main, passages_fts,"
                         " row)")
            rows = conn.execute("SELECT term FROM temp.passages_vocab WHERE term >= ? AND term < ? LIMIT ?",
                                (prefix, prefix + "\uffff", limit)).fetchall()
        except sqlite3.Error:
            return None
        return [str(r[0]) for r in rows]

    # -- maintenance -------------------------------------------------------------------------
    def integrity_check(self) -> str:
        """SQLite's own consistency check ('ok' when sound)."""
        return str(self.conn().execute("PRAGMA integrity_check").fetchone()[0])

    def migration_failed(self, error: Exception, step: str) -> Exception:
        """A file that is no database names itself; a busy or full database stays the driver's error, which the
        CLI explains."""
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
            return StoreError(f"database {self.path!r} is not a usable SQLite database ({step}): {error}")
        return error

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Read-only escape hatch for tests and benchmarks (rows index by position and by name)."""
        return self.conn().execute(sql, args).fetchall()


class SQLiteStore(SQLStore):
    """The default store: a single SQLite file."""

    def __init__(self, path: str, busy_timeout: float = 30.0) -> None:
        self.path = path
        super().__init__(SQLiteDialect(path, busy_timeout), STEPS)
