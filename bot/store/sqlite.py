"""SQLite store: versioned migrations, one transaction per document, FTS5 over passages.

One connection per thread (the scheduler and chat adapters call in from their own threads).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain import Document, Passage
from bot.quotes import speaker_key
from bot.store.base import (
    Conflict,
    DocumentRow,
    NewDocument,
    PassageHit,
    QuoteRow,
    SourceRow,
    StoreError,
    quote_row,
    scope_clause,
)
from bot.store.sqlite_ops import SQLiteOpsMixin


def path_from_url(url: str) -> str:
    """sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db; sqlite:///:memory: -> :memory:."""
    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        raise StoreError(f"database URL {url!r}: expected sqlite:///relative.db or sqlite:////absolute.db")
    return rest[3:] or "data/briefbot.db"


def now() -> str:
    """UTC now as ISO 8601 (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


NEAR_CANDIDATES = 20  # templated articles share sketch values with many others: compare the closest few
PASSAGE_ID_STRIDE = 1_000_000  # passage id = doc id * stride + ordinal (a 10 MB text has < 20,000 passages)

# Migrations are applied in order, each in its own transaction; the list only ever grows.
MAX_VARIABLES = 10_000  # parameters in one statement (SQLite allows 32,766)

MIGRATIONS: list[str] = [
    # 1: sources, documents, passages (+FTS5), near-duplicate sketches, quotes, ingest runs
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        location TEXT NOT NULL UNIQUE,
        every_seconds INTEGER NOT NULL,
        etag TEXT, last_modified TEXT, last_polled TEXT, last_error TEXT,
        added TEXT NOT NULL
    );
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
        location TEXT NOT NULL UNIQUE,
        url TEXT, title TEXT NOT NULL, outlet TEXT, author TEXT, published TEXT,
        fetched TEXT NOT NULL,
        content_hash TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        UNIQUE (doc_id, ordinal)
    );
    CREATE VIRTUAL TABLE passages_fts USING fts5(text, title, tokenize = 'porter unicode61');
    CREATE TABLE sketches (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        value INTEGER NOT NULL
    );
    CREATE INDEX sketches_value ON sketches(value);
    CREATE INDEX sketches_doc ON sketches(doc_id);
    CREATE TABLE quotes (
        id INTEGER PRIMARY KEY,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        passage INTEGER,
        start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
        speaker TEXT, speaker_key TEXT, speaker_start INTEGER, speaker_end INTEGER,
        description TEXT, role TEXT, cue TEXT, kind TEXT NOT NULL
    );
    CREATE INDEX quotes_doc ON quotes(doc_id);
    CREATE INDEX quotes_speaker ON quotes(speaker_key);
    CREATE TABLE ingest_runs (
        id INTEGER PRIMARY KEY,
        trigger TEXT NOT NULL, inputs TEXT NOT NULL,
        started TEXT NOT NULL, finished TEXT,
        new INTEGER, updated INTEGER, unchanged INTEGER, duplicates INTEGER, skipped INTEGER
    );
    CREATE TABLE ingest_items (
        run_id INTEGER NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,
        location TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
        doc_id INTEGER, at TEXT NOT NULL
    );
    CREATE INDEX ingest_items_run ON ingest_items(run_id);
    """,
    # 2: answers and feedback, the LLM call log, digest subscriptions and their claimed slots,
    #    per-channel source scoping
    """
    CREATE TABLE answers (
        id TEXT PRIMARY KEY, at TEXT NOT NULL, platform TEXT, channel TEXT, user TEXT,
        question TEXT NOT NULL, answer TEXT NOT NULL, found INTEGER NOT NULL, backend TEXT NOT NULL,
        citations TEXT NOT NULL, why TEXT
    );
    CREATE TABLE feedback (
        answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        user TEXT NOT NULL DEFAULT '', helpful INTEGER NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (answer_id, user)
    );
    CREATE TABLE llm_calls (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, purpose TEXT, prompt_name TEXT, prompt_hash TEXT,
        model TEXT, tokens_in INTEGER, tokens_out INTEGER, estimated INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL, outcome TEXT NOT NULL, error TEXT, attempts INTEGER
    );
    CREATE INDEX llm_calls_at ON llm_calls(at);
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY, platform TEXT NOT NULL, channel TEXT NOT NULL,
        time_of_day TEXT NOT NULL, timezone TEXT NOT NULL, cadence TEXT NOT NULL DEFAULT 'daily',
        topic TEXT, created_by TEXT, created TEXT NOT NULL, last_digest_at TEXT,
        UNIQUE (platform, channel)
    );
    CREATE TABLE digest_claims (
        subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        slot TEXT NOT NULL, owner TEXT NOT NULL, status TEXT NOT NULL, lease_until TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1, message_id TEXT, error TEXT, updated TEXT NOT NULL,
        PRIMARY KEY (subscription_id, slot)
    );
    CREATE TABLE channel_sources (
        platform TEXT NOT NULL, channel TEXT NOT NULL, pattern TEXT NOT NULL,
        PRIMARY KEY (platform, channel, pattern)
    );
    """,
    # 3: an index of speaker name tokens, so "Navarro" finds "Peter Navarro" without a scan
    """
    CREATE TABLE speaker_tokens (
        token TEXT NOT NULL,
        quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE
    );
    CREATE INDEX speaker_tokens_token ON speaker_tokens(token);
    CREATE INDEX speaker_tokens_quote ON speaker_tokens(quote_id);
    """,
    # 4: chat events already taken by some replica (Slack redelivers; Socket Mode spreads connections)
    """
    CREATE TABLE events_seen (
        platform TEXT NOT NULL, event_id TEXT NOT NULL, owner TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (platform, event_id)
    );
    CREATE INDEX events_seen_at ON events_seen(at);
    """,
    # 5: persisted stories; a story's id is its first document's id, and a document joins one story for good
    #    (it keeps its id across versions, so its membership does too; deleting it deletes the membership)
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE story_documents (
        doc_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        profile TEXT NOT NULL
    );
    CREATE INDEX story_documents_story ON story_documents(story_id);
    """,
    # 6: one embedding vector a passage (bot.embed's bytes), gone with its passage; seq grows with every write,
    #    so (count, max seq) tells a dense index that it is stale
    """
    CREATE TABLE passage_vectors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        passage_id INTEGER NOT NULL UNIQUE REFERENCES passages(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        vec BLOB NOT NULL
    );
    CREATE INDEX passage_vectors_model ON passage_vectors(model, passage_id);
    """,
    # 7: conversation turns (a Slack or Discord thread, a DM, a CLI chat), so follow-ups survive a restart and
    #    reach another replica; ids order them, so two replicas answering in one thread both append
    """
    CREATE TABLE conversation_turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation TEXT NOT NULL, at TEXT NOT NULL, turn TEXT NOT NULL
    );
    CREATE INDEX conversation_turns_conv ON conversation_turns(conversation, id);
    """,
    # 8: briefs and digests as posted, for their pages (bot/web) and a channel's digest archive
    """
    CREATE TABLE briefs (
        id TEXT PRIMARY KEY, platform TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
        topic TEXT, created TEXT NOT NULL, body TEXT NOT NULL
    );
    CREATE INDEX briefs_channel ON briefs(platform, channel, kind, created);
    """,
    # 9: the LLM call log tells what became of each call (verified, partly dropped, fell back and why, timed out,
    #    refused), which server it went to and which structured-output mode that server took
    """
    ALTER TABLE llm_calls ADD COLUMN result TEXT;
    ALTER TABLE llm_calls ADD COLUMN detail TEXT;
    ALTER TABLE llm_calls ADD COLUMN server TEXT;
    ALTER TABLE llm_calls ADD COLUMN structured TEXT;
    """,
    # 10: the name the operator gives a source's outlet (`sources add --outlet`), set on what its polls store
    "ALTER TABLE sources ADD COLUMN outlet TEXT",
]


class SQLiteStore(SQLiteOpsMixin):
    """The default store: a single SQLite file in WAL mode."""

    def __init__(self, path: str, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.migrate()

    # -- connections and transactions --------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
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
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or a SAVEPOINT inside a batch: all of it or none of it lands.

        The write lock is taken up front, so check-then-insert is safe across processes.
        """
        c = self._conn()
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """For one statement: inside a batch it is atomic by itself; outside, its own transaction."""
        if getattr(self._local, "depth", 0):
            yield self._conn()
        else:
            with self._tx() as tx:
                yield tx

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes in one transaction (each still all-or-nothing): bulk ingest speed.

        A crash loses at most the open batch, never part of a document; a re-run redoes it.
        """
        with self._tx():
            yield

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

    def migrate(self) -> int:
        """Apply the migrations this database lacks; returns the schema version.

        A current schema is seen with one read and no write lock, so opening the store for a question does not
        wait for (or fail behind) an ingest holding the lock."""
        c = self._conn()
        try:
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
        except sqlite3.DatabaseError:  # no table yet, or not a database: the path below says which
            done = set()
        if done >= set(range(1, len(MIGRATIONS) + 1)):
            return len(MIGRATIONS)
        try:
            c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"database {self.path!r} is not a usable SQLite database: {e}") from e
        for version, sql in enumerate(MIGRATIONS, start=1):
            with self._tx() as tx:
                if tx.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                    continue
                for stmt in _statements(sql):
                    tx.execute(stmt)
                if version == 3:  # index the speakers of quotes stored before the index existed
                    rows = tx.execute("SELECT id, speaker_key FROM quotes WHERE speaker_key IS NOT NULL").fetchall()
                    tx.executemany("INSERT INTO speaker_tokens (token, quote_id) VALUES (?,?)",
                                   [(t, r[0]) for r in rows for t in set(r[1].split())])
                tx.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, now()))
        return len(MIGRATIONS)

    def integrity_check(self) -> str:
        """SQLite's own consistency check ('ok' when sound)."""
        return str(self._conn().execute("PRAGMA integrity_check").fetchone()[0])

    # -- documents ---------------------------------------------------------------------------
    def find_location(self, location: str) -> DocumentRow | None:
        r = self._conn().execute(
            "SELECT id, location, content_hash, version FROM documents WHERE location = ?", (location,)
        ).fetchone()
        return DocumentRow(*r) if r else None

    def find_hash(self, content_hash: str) -> DocumentRow | None:
        r = self._conn().execute(
            "SELECT id, location, content_hash, version FROM documents WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return DocumentRow(*r) if r else None

    def near_candidates(self, sketch: list[int], min_shared: int) -> list[tuple[int, str, str]]:
        """Documents sharing at least `min_shared` sketch values: (id, location, text)."""
        if not sketch:
            return []
        marks = ",".join("?" * len(sketch))
        rows = self._conn().execute(
            f"SELECT d.id, d.location, d.text FROM documents d JOIN ("
            f" SELECT doc_id, COUNT(*) AS shared FROM sketches WHERE value IN ({marks}) GROUP BY doc_id"
            f" HAVING COUNT(*) >= ? ORDER BY shared DESC LIMIT {NEAR_CANDIDATES}"
            f") s ON s.doc_id = d.id ORDER BY s.shared DESC, d.id",
            (*sketch, min_shared),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def put_document(self, doc: NewDocument, replace: DocumentRow | None = None) -> int:
        """Store a document with its passages, quotes and sketch in one transaction.

        With `replace`, the stored document becomes the next version of itself: its passages
        and quotes are swapped for the new ones atomically.
        """
        # Inside a batch, no savepoint: FTS5 flushes its pending index at every savepoint release,
        # which would cost more than the whole insert. The documents row goes first, so a lost
        # race (unique location or hash) leaves nothing behind; any later error aborts the batch.
        in_batch = bool(getattr(self._local, "depth", 0))
        try:
            with self._write() if in_batch else self._tx() as tx:
                if replace is None:
                    cur = tx.execute(
                        "INSERT INTO documents (source_id, location, url, title, outlet, author, published,"
                        " fetched, content_hash, text, version) VALUES (?,?,?,?,?,?,?,?,?,?,1)",
                        (doc.source_id, doc.location, doc.url, doc.title, doc.outlet, doc.author,
                         doc.published, doc.fetched or now(), doc.content_hash, doc.text),
                    )
                    doc_id = int(cur.lastrowid or 0)
                else:
                    doc_id = replace.id
                    tx.execute(
                        "UPDATE documents SET url=?, title=?, outlet=?, author=?, published=?, fetched=?,"
                        " content_hash=?, text=?, version=version+1,"
                        " source_id=COALESCE(?, source_id) WHERE id = ?",
                        (doc.url, doc.title, doc.outlet, doc.author, doc.published, doc.fetched or now(),
                         doc.content_hash, doc.text, doc.source_id, doc_id),
                    )
                    old = [r[0] for r in tx.execute("SELECT id FROM passages WHERE doc_id = ?", (doc_id,))]
                    tx.executemany("DELETE FROM passages_fts WHERE rowid = ?", [(i,) for i in old])
                    tx.execute("DELETE FROM speaker_tokens WHERE quote_id IN (SELECT id FROM quotes WHERE doc_id = ?)",
                               (doc_id,))
                    for table in ("passages", "quotes", "sketches"):
                        tx.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
                self._insert_parts(tx, doc_id, doc)
                return doc_id
        except sqlite3.IntegrityError as e:
            raise Conflict(f"{doc.location}: already stored ({e})") from e

    @staticmethod
    def _insert_parts(tx: sqlite3.Connection, doc_id: int, doc: NewDocument) -> None:
        # passage ids are derived, not drawn: both inserts become one executemany each
        rows = [(doc_id * PASSAGE_ID_STRIDE + p.ordinal, doc_id, p.ordinal, p.start, p.end) for p in doc.passages]
        tx.executemany('INSERT INTO passages (id, doc_id, ordinal, start, "end") VALUES (?,?,?,?,?)', rows)
        tx.executemany("INSERT INTO passages_fts (rowid, text, title) VALUES (?,?,?)",
                       [(r[0], p.text, doc.title if p.ordinal == 0 else "") for r, p in zip(rows, doc.passages,
                                                                                            strict=True)])
        tx.executemany("INSERT INTO sketches (doc_id, value) VALUES (?,?)", [(doc_id, v) for v in doc.sketch])
        # quote ids are derived too (doc id * stride + position), so quotes and their speaker tokens go
        # in with one executemany each
        qrows: list[tuple[Any, ...]] = []
        tokens: list[tuple[str, int]] = []
        for i, q in enumerate(doc.quotes[:PASSAGE_ID_STRIDE]):
            key = speaker_key(q.speaker) if q.speaker else None
            qid = doc_id * PASSAGE_ID_STRIDE + i
            qrows.append((qid, doc_id, q.passage, q.start, q.end, q.text, q.speaker, key, q.speaker_start,
                          q.speaker_end, q.description, q.role, q.cue, q.kind))
            if key:
                tokens.extend((t, qid) for t in set(key.split()))
        tx.executemany(
            'INSERT INTO quotes (id, doc_id, passage, start, "end", text, speaker, speaker_key, speaker_start,'
            " speaker_end, description, role, cue, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", qrows)
        tx.executemany("INSERT INTO speaker_tokens (token, quote_id) VALUES (?,?)", tokens)

    def _document(self, r: sqlite3.Row, with_passages: bool) -> Document:
        d = Document(
            id=r["id"], location=r["location"], title=r["title"], text=r["text"], content_hash=r["content_hash"],
            version=r["version"], url=r["url"], outlet=r["outlet"], author=r["author"],
            published=r["published"], fetched=r["fetched"], source_id=r["source_id"],
        )
        if with_passages:
            d.passages = [
                Passage(ordinal=p[0], start=p[1], end=p[2], text=d.text[p[1]:p[2]])
                for p in self._conn().execute(
                    'SELECT ordinal, start, "end" FROM passages WHERE doc_id = ? ORDER BY ordinal', (d.id,)
                )
            ]
        return d

    def get_document(self, ref: str) -> Document | None:
        """A document by id, by its exact location, or by a unique location suffix (a file name)."""
        c = self._conn()
        r = None
        if ref.isdigit():
            r = c.execute("SELECT * FROM documents WHERE id = ?", (int(ref),)).fetchone()
        if r is None:
            r = c.execute("SELECT * FROM documents WHERE location = ?", (ref,)).fetchone()
        if r is None:
            rows = c.execute(
                "SELECT * FROM documents WHERE location LIKE ? ESCAPE '\\' LIMIT 2", ("%" + _like(ref),)
            ).fetchall()
            r = rows[0] if len(rows) == 1 else None
        return self._document(r, True) if r else None

    def list_documents(self, source: str | None = None, limit: int | None = None) -> list[Document]:
        sql = "SELECT * FROM documents"
        args: list[Any] = []
        if source:
            sql += " WHERE location LIKE ? ESCAPE '\\'"
            args.append("%" + _like(source) + "%")
        sql += " ORDER BY id"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        return [self._document(r, False) for r in self._conn().execute(sql, args)]

    def documents_by_id(self, ids: list[int]) -> dict[int, Document]:
        """Documents (with passages) by id."""
        if not ids:
            return {}
        c = self._conn()
        docs: dict[int, Document] = {}
        for i in range(0, len(ids), MAX_VARIABLES):  # SQLite takes at most 32,766 parameters a statement
            chunk = list(ids[i:i + MAX_VARIABLES])
            marks = ",".join("?" * len(chunk))
            docs.update((r["id"], self._document(r, False))
                        for r in c.execute(f"SELECT * FROM documents WHERE id IN ({marks})", chunk))
            # the chunk's passages in one query, not one query a document
            for doc_id, o, a, b in c.execute('SELECT doc_id, ordinal, start, "end" FROM passages'
                                             f" WHERE doc_id IN ({marks}) ORDER BY doc_id, ordinal", chunk):
                d = docs[doc_id]
                d.passages.append(Passage(ordinal=o, start=a, end=b, text=d.text[a:b]))
        return docs

    def count_documents(self, sources: list[str] | None = None) -> int:
        """Stored documents, or those in scope `sources` (each counted once)."""
        if not sources:
            return int(self._conn().execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        where, args = scope_clause("location", sources, "?")
        return int(self._conn().execute(f"SELECT COUNT(*) FROM documents WHERE {where}", args).fetchone()[0])

    def terms_like(self, prefix: str, limit: int = 2000) -> list[str] | None:
        """Indexed words (Porter stems) starting with `prefix`: the articles' vocabulary, for telling a typo
        from a word they never use."""
        conn = self._conn()
        try:
            conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.passages_vocab USING fts5vocab(main, passages_fts, row)")
            rows = conn.execute("SELECT term FROM temp.passages_vocab WHERE term >= ? AND term < ? LIMIT ?",
                                (prefix, prefix + "\uffff", limit)).fetchall()
        except sqlite3.Error:
            return None
        return [str(r[0]) for r in rows]

    def speaker_names(self, limit: int = 50_000) -> list[str]:
        """Distinct speaker names in the quote index (the names questions are read against)."""
        rows = self._conn().execute("SELECT DISTINCT speaker FROM quotes WHERE speaker IS NOT NULL LIMIT ?",
                                    (limit,)).fetchall()
        return [str(r[0]) for r in rows]

    def names_a_source(self, name: str) -> bool:
        """True when some document's location or outlet contains `name` (case-insensitive)."""
        pat = "%" + _like(name) + "%"
        return self._conn().execute("SELECT 1 FROM documents WHERE location LIKE ? ESCAPE '\\' OR outlet LIKE ?"
                                    " ESCAPE '\\' LIMIT 1", (pat, pat)).fetchone() is not None

    def count_passages(self) -> int:
        """Number of stored passages (the IDF denominator)."""
        return int(self._conn().execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    def count_matches(self, match: str) -> int:
        """Number of passages an FTS5 expression matches."""
        try:
            return int(self._conn().execute(
                "SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?", (match,)).fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def document_text(self, doc_id: int) -> str:
        """A document's clean text ('' when gone)."""
        r = self._conn().execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return str(r[0]) if r else ""

    # -- search ------------------------------------------------------------------------------
    def search_passages(self, match: str, limit: int = 20, sources: list[str] | None = None,
                        since: str | None = None) -> list[PassageHit]:
        """BM25 over passages for an FTS5 MATCH expression; best first."""
        if not match.strip():
            return []
        # Rank inside FTS5 first and join only the winners: joining every match to its document
        # (and its text) before the sort costs more than the ranking. Filters need the join, so
        # they rank a wider window and filter it.
        filtered = bool(sources or since)
        window = limit * 20 if filtered else limit
        sql = (
            "SELECT p.doc_id, p.ordinal, p.start, p.\"end\", substr(d.text, p.start + 1, p.\"end\" - p.start),"
            " hit.rank, d.location, d.title, d.url, d.outlet, d.published FROM ("
            "  SELECT rowid, bm25(passages_fts, 1.0, 0.3) AS rank FROM passages_fts WHERE passages_fts MATCH ?"
            "  ORDER BY rank LIMIT ?"
            ") hit JOIN passages p ON p.id = hit.rowid JOIN documents d ON d.id = p.doc_id WHERE 1=1"
        )
        args: list[Any] = [match, window]
        if sources:
            where, scope_args = scope_clause("d.location", sources, "?")
            sql += " AND " + where
            args.extend(scope_args)
        if since:
            sql += " AND COALESCE(d.published, d.fetched) >= ?"
            args.append(since)
        sql += " ORDER BY hit.rank LIMIT ?"
        args.append(limit)
        try:
            rows = self._conn().execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            raise StoreError(f"search {match!r} failed: {e}") from e
        return [
            PassageHit(doc_id=r[0], ordinal=r[1], start=r[2], end=r[3], text=r[4], score=-r[5],
                       location=r[6], title=r[7], url=r[8], outlet=r[9], published=r[10])
            for r in rows
        ]

    def quotes(self, speaker_like: str | None = None, source: str | None = None,
               limit: int | None = None, about: list[str] | None = None,
               role_like: str | None = None, doc_ids: list[int] | None = None) -> list[QuoteRow]:
        """Stored quotes, optionally those whose speaker contains every word given, from a source,
        whose words contain one of `about`, or whose speaker's role or description contains
        `role_like`, or in the documents `doc_ids` (newest documents first when limited)."""
        sql = (
            'SELECT q.*, d.location, d.title, d.url, d.outlet, d.published FROM quotes q'
            " JOIN documents d ON d.id = q.doc_id WHERE 1=1"
        )
        args: list[Any] = []
        if speaker_like:
            for tok in speaker_key(speaker_like).split():
                sql += " AND q.id IN (SELECT quote_id FROM speaker_tokens WHERE token = ?)"
                args.append(tok)
        if source:
            sql += " AND d.location LIKE ? ESCAPE '\\'"
            args.append("%" + _like(source) + "%")
        if about:
            sql += " AND (" + " OR ".join("q.text LIKE ? ESCAPE '\\'" for _ in about) + ")"
            args.extend("%" + _like(w) + "%" for w in about)
        if doc_ids is not None:
            sql += " AND q.doc_id IN (" + ",".join("?" for _ in doc_ids) + ")" if doc_ids else " AND false"
            args.extend(doc_ids)
        if role_like:
            sql += " AND (q.role LIKE ? ESCAPE '\\' OR q.description LIKE ? ESCAPE '\\')"
            args.extend(["%" + _like(role_like) + "%"] * 2)
        sql += " ORDER BY d.id DESC, q.start" if limit else " ORDER BY d.id, q.start"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        return [quote_row(r) for r in self._conn().execute(sql, args)]

    # -- sources -----------------------------------------------------------------------------
    def add_source(self, kind: str, location: str, every_seconds: int, outlet: str | None = None) -> SourceRow:
        """Register a source (or change its kind, interval and, when given, its outlet name)."""
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO sources (kind, location, every_seconds, added, outlet) VALUES (?,?,?,?,?)"
                " ON CONFLICT(location) DO UPDATE SET every_seconds = excluded.every_seconds, kind = excluded.kind,"
                " outlet = COALESCE(excluded.outlet, sources.outlet)",
                (kind, location, every_seconds, now(), outlet),
            )
            r = tx.execute("SELECT * FROM sources WHERE location = ?", (location,)).fetchone()
        return SourceRow(**dict(r))

    def list_sources(self) -> list[SourceRow]:
        return [SourceRow(**dict(r)) for r in self._conn().execute("SELECT * FROM sources ORDER BY id")]

    def remove_source(self, ref: str) -> SourceRow | None:
        """Forget a source (by id or location); its documents stay stored."""
        with self._tx() as tx:
            r = tx.execute("SELECT * FROM sources WHERE id = ? OR location = ?",
                           (int(ref) if ref.isdigit() else -1, ref)).fetchone()
            if r is None:
                return None
            tx.execute("DELETE FROM sources WHERE id = ?", (r["id"],))
        return SourceRow(**dict(r))

    def update_source(self, source_id: int, **fields: Any) -> None:
        allowed = {"etag", "last_modified", "last_polled", "last_error"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update source fields {sorted(bad)}")
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as tx:
            tx.execute(f"UPDATE sources SET {sets} WHERE id = ?", (*fields.values(), source_id))

    # -- ingest runs -------------------------------------------------------------------------
    def begin_run(self, trigger: str, inputs: list[str]) -> int:
        with self._tx() as tx:
            cur = tx.execute("INSERT INTO ingest_runs (trigger, inputs, started) VALUES (?,?,?)",
                             (trigger, "\n".join(inputs), now()))
            return int(cur.lastrowid or 0)

    def record_item(self, run_id: int, location: str, outcome: str, reason: str = "",
                    doc_id: int | None = None) -> None:
        with self._write() as tx:
            tx.execute("INSERT INTO ingest_items (run_id, location, outcome, reason, doc_id, at) VALUES (?,?,?,?,?,?)",
                       (run_id, location, outcome, reason, doc_id, now()))

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        with self._tx() as tx:
            tx.execute(
                "UPDATE ingest_runs SET finished=?, new=?, updated=?, unchanged=?, duplicates=?, skipped=? WHERE id=?",
                (now(), counts.get("new", 0), counts.get("updated", 0), counts.get("unchanged", 0),
                 counts.get("duplicates", 0) + counts.get("near_duplicates", 0), counts.get("skipped", 0), run_id),
            )

    def run_items(self, run_id: int) -> list[dict[str, Any]]:
        """The per-item outcomes of one ingest run."""
        return [dict(r) for r in self._conn().execute(
            "SELECT location, outcome, reason, doc_id FROM ingest_items WHERE run_id = ? ORDER BY rowid", (run_id,))]

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Read-only escape hatch for tests and benchmarks."""
        return self._conn().execute(sql, args).fetchall()


def _like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]

