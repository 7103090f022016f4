"""Postgres store: the SQLite store's interface and semantics on psycopg 3, for shared or replicated deployments.

One connection per thread; writes in explicit transactions (SAVEPOINTs inside a batch); full-text
search on a generated tsvector with BM25 scored from ts_rank_cd term frequencies. Imports no settings.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row, tuple_row

from bot.domain import Document, Passage
from bot.quotes import speaker_key
from bot.store.base import (
    Conflict,
    DocumentRow,
    NewDocument,
    PassageHit,
    QuoteRow,
    StoreError,
    quote_row,
    scope_clause,
)
from bot.store.postgres_ops import MIGRATIONS, PostgresOpsMixin
from bot.store.sqlite import now

PgConn = psycopg.Connection[DictRow]

# pg_advisory_xact_lock key for migrations: b"briefbot" as a big-endian int64, so replicas starting
# together queue on it and only the first applies each migration.
MIGRATE_LOCK = int.from_bytes(b"briefbot", "big")
TS_CONFIG = "english"
# ts_rank_cd weights {D, C, B, A}: passage text is A, the title (on passage 0) is B; as bm25(1.0, 0.3).
_WEIGHTS = "'{0, 0, 0.3, 1.0}'::float4[]"
_K1, _B = 1.2, 0.75  # BM25 constants, FTS5's defaults


def describe_url(url: str) -> str:
    """'host:port/db as user' for messages: enough to find the server, never the password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unparsable postgresql:// URL"
    where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}/{info.get('dbname') or '?'}"
    return where + (f" as {info['user']}" if info.get("user") else "")


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://, postgres:// -> postgresql:// (libpq's own spelling)."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


# -- the MATCH grammar callers send (bot.search.fts_expression, bot.answer._mentioned) -----------
_TOKEN = re.compile(r'"((?:[^"]|"")*)"|(\S+)')


def parse_match(match: str) -> list[list[str]]:
    """An FTS5-style expression -> OR-groups of AND-ed terms: '"a" AND "b" OR "c"' -> [[a, b], [c]].

    Quoted strings are terms (a doubled quote is a quote); bare AND/OR are operators (AND binds
    tighter, as in FTS5); any other bare word is a term too. Nothing else is syntax, and every
    term reaches SQL as a parameter.
    """
    groups: list[list[str]] = [[]]
    for m in _TOKEN.finditer(match):
        quoted, bare = m.group(1), m.group(2)
        if quoted is None and bare == "OR":
            groups.append([])
        elif quoted is None and bare == "AND":
            continue
        else:
            term = (quoted.replace('""', '"') if quoted is not None else bare).strip()
            if term:
                groups[-1].append(term)
    return [g for g in groups if g]


class _TsQuery:
    """A parsed MATCH expression as SQL: one named parameter per distinct term."""

    def __init__(self, match: str) -> None:
        self.groups = parse_match(match)
        self.terms: list[str] = list(dict.fromkeys(t for g in self.groups for t in g))
        self.params: dict[str, Any] = {f"t{i}": t for i, t in enumerate(self.terms)}

    def term(self, i: int) -> str:
        """The i-th term's tsquery (a phrase when the term has several words)."""
        return f"phraseto_tsquery('{TS_CONFIG}', %(t{i})s)"

    def expr(self) -> str:
        """The whole expression: && within a group, || between groups."""
        index = {t: i for i, t in enumerate(self.terms)}
        ors = ["(" + " && ".join(self.term(index[t]) for t in g) + ")" for g in self.groups]
        return "(" + " || ".join(ors) + ")"


class PostgresStore(PostgresOpsMixin):
    """The shared store: a Postgres database (or a schema of one, via options=-csearch_path=...)."""

    def __init__(self, url: str) -> None:
        self.url = _libpq_url(url)
        self.where = describe_url(self.url)
        self._local = threading.local()
        self._all: list[tuple[int, PgConn]] = []  # (owning process, connection)
        self._lock = threading.Lock()
        self.migrate()

    # -- connections and transactions --------------------------------------------------------
    def _conn(self) -> PgConn:
        conn: PgConn | None = getattr(self._local, "conn", None)
        # a forked child never uses (or closes) its parent's socket: it opens its own
        if conn is None or conn.closed or conn.broken or self._local.pid != os.getpid():
            try:
                # autocommit: a lone read is its own statement and leaves no session idle in a
                # transaction (holding locks and a snapshot); every write opens one explicitly.
                conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)
            except psycopg.Error as e:
                raise StoreError(f"cannot connect to Postgres at {self.where}: {_reason(e, self.url)}") from None
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._all.append((os.getpid(), conn))
        return conn

    @contextmanager
    def _tx(self) -> Iterator[PgConn]:
        """BEGIN ... COMMIT, or a SAVEPOINT inside a batch: all of it or none of it lands."""
        c = self._conn()
        with c.transaction():
            yield c

    @contextmanager
    def _guard(self) -> Iterator[PgConn]:
        """A read that may fail: inside a transaction it gets a savepoint, so it cannot poison the batch."""
        c = self._conn()
        if c.info.transaction_status == TransactionStatus.IDLE:
            yield c
        else:
            with c.transaction():
                yield c

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes in one transaction (each document still all-or-nothing)."""
        with self._tx():
            yield

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        with self._lock:
            for pid, c in self._all:
                try:
                    if pid == os.getpid():
                        c.close()
                except psycopg.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    def migrate(self) -> int:
        """Apply the migrations this database lacks, under an advisory lock; returns the schema version."""
        for version in range(0, len(MIGRATIONS) + 1):
            try:
                with self._tx() as tx:
                    tx.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                    if version == 0:
                        tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations"
                                   " (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
                        continue
                    if tx.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version,)).fetchone():
                        continue
                    tx.execute(MIGRATIONS[version - 1])
                    tx.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (version, now()))
            except psycopg.Error as e:
                step = f"migration {version}" if version else "creating schema_migrations"
                raise StoreError(f"cannot prepare the Postgres database at {self.where} ({step}):"
                                 f" {_reason(e, self.url)}; check the URL's database, user and search_path") from e
        return len(MIGRATIONS)

    def integrity_check(self) -> str:
        """'ok' when passages and quotes lie within their documents and every migration is recorded."""
        c = self._conn()
        problems: list[str] = []
        checks = {
            "passages outside their document's text":
                'SELECT count(*) FROM passages p JOIN documents d ON d.id = p.doc_id WHERE p.start < 0'
                ' OR p."end" < p.start OR p."end" > char_length(d.text)',
            "passages whose text differs from their document's span":
                'SELECT count(*) FROM passages p JOIN documents d ON d.id = p.doc_id'
                ' WHERE p.text <> substr(d.text, p.start + 1, p."end" - p.start)',
            "quotes outside their document's text":
                'SELECT count(*) FROM quotes q JOIN documents d ON d.id = q.doc_id WHERE q.start < 0'
                ' OR q."end" < q.start OR q."end" > char_length(d.text)',
        }
        for what, query in checks.items():
            n = _scalar(c.execute(query).fetchone())
            if n:
                problems.append(f"{n} {what}")
        applied = _scalar(c.execute("SELECT count(*) FROM schema_migrations").fetchone())
        if applied != len(MIGRATIONS):
            problems.append(f"{applied} of {len(MIGRATIONS)} migrations recorded")
        return "; ".join(problems) or "ok"

    # -- documents ---------------------------------------------------------------------------
    def find_location(self, location: str) -> DocumentRow | None:
        """The stored document at a location, if any."""
        r = self._conn().execute(
            "SELECT id, location, content_hash, version FROM documents WHERE location = %s", (location,)).fetchone()
        return DocumentRow(r["id"], r["location"], r["content_hash"], r["version"]) if r else None

    def find_hash(self, content_hash: str) -> DocumentRow | None:
        """The stored document with this exact content, if any."""
        r = self._conn().execute(
            "SELECT id, location, content_hash, version FROM documents WHERE content_hash = %s",
            (content_hash,)).fetchone()
        return DocumentRow(r["id"], r["location"], r["content_hash"], r["version"]) if r else None

    def near_candidates(self, sketch: list[int], min_shared: int) -> list[tuple[int, str, str]]:
        """Documents sharing at least `min_shared` sketch values: (id, location, text)."""
        if not sketch:
            return []
        rows = self._conn().execute(
            "SELECT d.id, d.location, d.text FROM documents d JOIN ("
            " SELECT doc_id, count(*) AS shared FROM sketches WHERE value = ANY(%s::bigint[]) GROUP BY doc_id"
            " HAVING count(*) >= %s ORDER BY shared DESC, doc_id LIMIT 20"
            ") s ON s.doc_id = d.id ORDER BY s.shared DESC, d.id",
            (list(dict.fromkeys(sketch)), min_shared),
        ).fetchall()
        return [(r["id"], r["location"], r["text"]) for r in rows]

    def put_document(self, doc: NewDocument, replace: DocumentRow | None = None) -> int:
        """Store a document with its passages, quotes and sketch in one transaction.

        With `replace`, the stored document becomes the next version of itself: its passages,
        quotes and sketch are swapped for the new ones atomically.
        """
        try:
            with self._tx() as tx:
                if replace is None:
                    r = tx.execute(
                        "WITH d AS (INSERT INTO documents (source_id, location, url, title, outlet, author, published,"
                        " fetched, content_hash, text, version) VALUES (%(source_id)s, %(location)s, %(url)s,"
                        " %(title)s, %(outlet)s, %(author)s, %(published)s, %(fetched)s, %(content_hash)s, %(text)s, 1)"
                        " RETURNING id)," + _INSERT_PARTS,
                        {**_parts(doc), "source_id": doc.source_id, "location": doc.location, "url": doc.url,
                         "title": doc.title, "outlet": doc.outlet, "author": doc.author, "published": doc.published,
                         "fetched": doc.fetched or now(), "content_hash": doc.content_hash, "text": doc.text},
                    ).fetchone()
                    return int(_scalar(r))
                # the UPDATE's row lock comes first: a second replica replacing the same document waits
                # here, then deletes the passages the first one wrote
                updated = tx.execute(
                    "UPDATE documents SET url=%s, title=%s, outlet=%s, author=%s, published=%s, fetched=%s,"
                    " content_hash=%s, text=%s, version=version+1,"
                    " source_id=COALESCE(%s, source_id) WHERE id = %s RETURNING id",
                    (doc.url, doc.title, doc.outlet, doc.author, doc.published, doc.fetched or now(),
                     doc.content_hash, doc.text, doc.source_id, replace.id),
                ).fetchone()
                if updated is None:
                    raise Conflict(f"{doc.location}: document {replace.id} was removed meanwhile")
                tx.execute("WITH p AS (DELETE FROM passages WHERE doc_id = %(id)s),"
                           " q AS (DELETE FROM quotes WHERE doc_id = %(id)s)"
                           " DELETE FROM sketches WHERE doc_id = %(id)s", {"id": replace.id})
                tx.execute("WITH d AS (SELECT %(doc)s::bigint AS id)," + _INSERT_PARTS,
                           {**_parts(doc), "doc": replace.id})
                return replace.id
        except psycopg.errors.IntegrityError as e:
            raise Conflict(f"{doc.location}: already stored ({e.diag.message_primary or e})") from e

    def _document(self, r: DictRow, with_passages: bool) -> Document:
        d = Document(
            id=r["id"], location=r["location"], title=r["title"], text=r["text"], content_hash=r["content_hash"],
            version=r["version"], url=r["url"], outlet=r["outlet"], author=r["author"],
            published=r["published"], fetched=r["fetched"], source_id=r["source_id"],
        )
        if with_passages:
            d.passages = [
                Passage(ordinal=p["ordinal"], start=p["start"], end=p["end"], text=d.text[p["start"]:p["end"]])
                for p in self._conn().execute(
                    'SELECT ordinal, start, "end" FROM passages WHERE doc_id = %s ORDER BY ordinal', (d.id,))
            ]
        return d

    def get_document(self, ref: str) -> Document | None:
        """A document by id, by its exact location, or by a unique location suffix (a file name)."""
        c = self._conn()
        r = None
        if ref.isascii() and ref.isdigit() and int(ref) < 2**63:
            r = c.execute("SELECT * FROM documents WHERE id = %s", (int(ref),)).fetchone()
        if r is None:
            r = c.execute("SELECT * FROM documents WHERE location = %s", (ref,)).fetchone()
        if r is None:
            rows = c.execute("SELECT * FROM documents WHERE location LIKE %s ESCAPE '\\' LIMIT 2",
                             ("%" + _like(ref),)).fetchall()
            r = rows[0] if len(rows) == 1 else None
        return self._document(r, True) if r else None

    def list_documents(self, source: str | None = None, limit: int | None = None) -> list[Document]:
        """Stored documents (without passages), optionally those whose location contains `source`."""
        query = "SELECT * FROM documents"
        args: list[Any] = []
        if source:
            query += " WHERE location LIKE %s ESCAPE '\\'"
            args.append("%" + _like(source) + "%")
        query += " ORDER BY id"
        if limit:
            query += " LIMIT %s"
            args.append(limit)
        return [self._document(r, False) for r in self._conn().execute(query, args)]

    def documents_by_id(self, ids: list[int]) -> dict[int, Document]:
        """Documents (with passages) by id."""
        if not ids:
            return {}
        c = self._conn()
        docs = {r["id"]: self._document(r, False)
                for r in c.execute("SELECT * FROM documents WHERE id = ANY(%s::bigint[])", (list(ids),))}
        # every document's passages in one query, not one query each
        for p in c.execute('SELECT doc_id, ordinal, start, "end" FROM passages WHERE doc_id = ANY(%s::bigint[])'
                           " ORDER BY doc_id, ordinal", (list(ids),)):
            d = docs[p["doc_id"]]
            d.passages.append(Passage(ordinal=p["ordinal"], start=p["start"], end=p["end"],
                                      text=d.text[p["start"]:p["end"]]))
        return docs

    def count_documents(self, sources: list[str] | None = None) -> int:
        """Stored documents, or those in scope `sources` (each counted once)."""
        if not sources:
            return int(_scalar(self._conn().execute("SELECT count(*) FROM documents").fetchone()))
        where, args = scope_clause("location", sources, "%s")
        return int(_scalar(self._conn().execute(f"SELECT count(*) FROM documents WHERE {where}", args).fetchone()))

    def terms_like(self, prefix: str, limit: int = 2000) -> list[str] | None:
        """The articles' vocabulary by prefix: not kept on Postgres (ts_stat reads every document), so unknown."""
        return None

    def speaker_names(self, limit: int = 50_000) -> list[str]:
        """Distinct speaker names in the quote index (the names questions are read against)."""
        rows = self._conn().execute("SELECT DISTINCT speaker FROM quotes WHERE speaker IS NOT NULL LIMIT %s",
                                    (limit,)).fetchall()
        return [str(r["speaker"]) for r in rows]

    def names_a_source(self, name: str) -> bool:
        """True when some document's location or outlet contains `name` (case-insensitive)."""
        pat = "%" + _like(name) + "%"
        return self._conn().execute(
            "SELECT 1 FROM documents WHERE location ILIKE %s OR outlet ILIKE %s LIMIT 1", (pat, pat)
        ).fetchone() is not None

    def count_passages(self) -> int:
        """Number of stored passages (the IDF denominator)."""
        return int(_scalar(self._conn().execute("SELECT count(*) FROM passages").fetchone()))

    def count_matches(self, match: str) -> int:
        """Number of passages an FTS5-style expression matches."""
        q = _TsQuery(match)
        if not q.terms:
            return 0
        try:
            with self._guard() as c:
                return int(_scalar(c.execute(f"SELECT count(*) FROM passages WHERE tsv @@ {q.expr()}",
                                             q.params).fetchone()))
        except psycopg.DataError:
            return 0

    def document_text(self, doc_id: int) -> str:
        """A document's clean text ('' when gone)."""
        r = self._conn().execute("SELECT text FROM documents WHERE id = %s", (doc_id,)).fetchone()
        return str(r["text"]) if r else ""

    # -- search ------------------------------------------------------------------------------
    def search_passages(self, match: str, limit: int = 20, sources: list[str] | None = None,
                        since: str | None = None) -> list[PassageHit]:
        """BM25 over passages for an FTS5-style expression (quoted terms, AND, OR); best first."""
        q = _TsQuery(match)
        if not q.terms:
            return []
        try:
            with self._guard() as c:
                idf = self._idf(c, q)
                query, args = _search_sql(q, idf, sources, since, limit)
                rows = c.execute(query, args).fetchall()
        except psycopg.Error as e:
            raise StoreError(f"search {match!r} failed: {e}") from e
        return [
            PassageHit(doc_id=r["doc_id"], ordinal=r["ordinal"], start=r["start"], end=r["end"], text=r["span"],
                       score=float(r["score"]), location=r["location"], title=r["title"], url=r["url"],
                       outlet=r["outlet"], published=r["published"])
            for r in rows
        ]

    @staticmethod
    def _idf(c: PgConn, q: _TsQuery) -> tuple[list[float], float]:
        """Each term's inverse document frequency over passages (FTS5's formula) and the mean passage length."""
        dfs = ", ".join(f"count(*) FILTER (WHERE tsv @@ {q.term(i)}) AS df{i}" for i in range(len(q.terms)))
        r = c.execute(
            f"SELECT (SELECT count(*) FROM passages) AS n,"
            f' (SELECT COALESCE(avg(p."end" - p.start), 1) FROM passages p) AS avglen, {dfs}'
            f" FROM passages WHERE tsv @@ {q.expr()}", q.params).fetchone()
        assert r is not None
        n = int(r["n"])
        idf = [max(1e-6, math.log((n - int(r[f"df{i}"]) + 0.5) / (int(r[f"df{i}"]) + 0.5)))
               for i in range(len(q.terms))]
        return idf, max(1.0, float(r["avglen"]))

    def quotes(self, speaker_like: str | None = None, source: str | None = None,
               limit: int | None = None, about: list[str] | None = None,
               role_like: str | None = None, doc_ids: list[int] | None = None) -> list[QuoteRow]:
        """Stored quotes, optionally those whose speaker contains every word given, from a source,
        whose words contain one of `about`, or whose speaker's role or description contains
        `role_like`, or in the documents `doc_ids` (newest documents first when limited)."""
        query = ("SELECT q.*, d.location, d.title, d.url, d.outlet, d.published FROM quotes q"
                 " JOIN documents d ON d.id = q.doc_id WHERE true")
        args: list[Any] = []
        if speaker_like:
            for tok in speaker_key(speaker_like).split():
                query += " AND (' ' || q.speaker_key || ' ') LIKE %s ESCAPE '\\'"
                args.append("% " + _like(tok) + " %")
        if source:
            query += " AND d.location LIKE %s ESCAPE '\\'"
            args.append("%" + _like(source) + "%")
        if about:
            query += " AND (" + " OR ".join("q.text ILIKE %s ESCAPE '\\'" for _ in about) + ")"
            args.extend("%" + _like(w) + "%" for w in about)
        if doc_ids is not None:
            query += " AND q.doc_id IN (" + ",".join("%s" for _ in doc_ids) + ")" if doc_ids else " AND false"
            args.extend(doc_ids)
        if role_like:
            query += " AND (q.role ILIKE %s ESCAPE '\\' OR q.description ILIKE %s ESCAPE '\\')"
            args.extend(["%" + _like(role_like) + "%"] * 2)
        query += " ORDER BY d.id DESC, q.start, q.id" if limit else " ORDER BY d.id, q.start, q.id"
        if limit:
            query += " LIMIT %s"
            args.append(limit)
        return [quote_row(r) for r in self._conn().execute(query, args)]

    def execute(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read-only escape hatch for tests and benchmarks (psycopg %s placeholders; rows as tuples)."""
        c = self._conn()
        with c.cursor(row_factory=tuple_row) as cur:
            if c.info.transaction_status != TransactionStatus.IDLE:
                return cur.execute(query, args).fetchall()
            with c.transaction():
                cur.execute("SET TRANSACTION READ ONLY")
                return cur.execute(query, args).fetchall()


# The passages, sketch values and quotes of the document `d` (a preceding CTE) in one statement, one round trip.
_INSERT_PARTS = (
    ' p AS (INSERT INTO passages (doc_id, ordinal, start, "end", text, title)'
    " SELECT d.id, u.* FROM d, unnest(%(p_ord)s::int[], %(p_start)s::int[], %(p_end)s::int[], %(p_text)s::text[],"
    " %(p_title)s::text[]) AS u),"
    " s AS (INSERT INTO sketches (doc_id, value) SELECT d.id, u.v FROM d, unnest(%(sketch)s::bigint[]) AS u(v)),"
    ' q AS (INSERT INTO quotes (doc_id, passage, start, "end", text, speaker, speaker_key, speaker_start, speaker_end,'
    " description, role, cue, kind) SELECT d.id, u.* FROM d, unnest(%(q_passage)s::int[], %(q_start)s::int[],"
    " %(q_end)s::int[], %(q_text)s::text[], %(q_speaker)s::text[], %(q_key)s::text[], %(q_sstart)s::int[],"
    " %(q_send)s::int[], %(q_desc)s::text[], %(q_role)s::text[], %(q_cue)s::text[], %(q_kind)s::text[]) AS u)"
    " SELECT id FROM d"
)


def _parts(doc: NewDocument) -> dict[str, Any]:
    """_INSERT_PARTS's parameters: one array per column."""
    ps, qs = doc.passages, doc.quotes
    return {
        "p_ord": [p.ordinal for p in ps], "p_start": [p.start for p in ps], "p_end": [p.end for p in ps],
        # the stored text is the document's span by construction, so search returns it as citation text
        "p_text": [doc.text[p.start:p.end] for p in ps],
        "p_title": [doc.title if p.ordinal == 0 else "" for p in ps],
        "sketch": list(dict.fromkeys(doc.sketch)),
        "q_passage": [q.passage for q in qs], "q_start": [q.start for q in qs], "q_end": [q.end for q in qs],
        "q_text": [q.text for q in qs], "q_speaker": [q.speaker for q in qs],
        "q_key": [speaker_key(q.speaker) if q.speaker else None for q in qs],
        "q_sstart": [q.speaker_start for q in qs], "q_send": [q.speaker_end for q in qs],
        "q_desc": [q.description for q in qs], "q_role": [q.role for q in qs], "q_cue": [q.cue for q in qs],
        "q_kind": [q.kind for q in qs],
    }


def _search_sql(q: _TsQuery, idf: tuple[list[float], float], sources: list[str] | None, since: str | None,
                limit: int) -> tuple[str, dict[str, Any]]:
    """The ranked search: BM25 where each term's (weighted) frequency is ts_rank_cd of that term alone."""
    weights, avglen = idf
    args: dict[str, Any] = dict(q.params)
    tfs = ", ".join(f"ts_rank_cd({_WEIGHTS}, p.tsv, {q.term(i)}, 0) AS tf{i}" for i in range(len(q.terms)))
    norm = f'{_K1} * (1 - {_B} + {_B} * (p."end" - p.start) / %(avglen)s::float8)'
    score = " + ".join(f"%(idf{i})s::float8 * tf.tf{i} * {_K1 + 1} / (tf.tf{i} + {norm})" for i in range(len(q.terms)))
    args.update({f"idf{i}": w for i, w in enumerate(weights)}, avglen=avglen)
    where = f"p.tsv @@ {q.expr()}"
    if sources:
        clause, likes = scope_clause("d.location", sources, "%s")
        parts = clause.split("%s")  # the clause's placeholders, named for this query's parameter dict
        where += " AND " + "".join(part + (f"%(src{i})s" if i < len(likes) else "") for i, part in enumerate(parts))
        args.update({f"src{i}": like for i, like in enumerate(likes)})
    if since:
        where += " AND COALESCE(d.published, d.fetched) >= %(since)s"
        args["since"] = since
    args["limit"] = limit
    # OFFSET 0 keeps the lateral subquery whole, so each term's ts_rank_cd runs once per matching row
    query = (
        f'SELECT p.doc_id, p.ordinal, p.start, p."end", p.text AS span, ({score}) AS score,'
        " d.location, d.title, d.url, d.outlet, d.published"
        f" FROM passages p JOIN documents d ON d.id = p.doc_id CROSS JOIN LATERAL (SELECT {tfs} OFFSET 0) tf"
        f" WHERE {where} ORDER BY score DESC, p.id LIMIT %(limit)s"
    )
    return query, args


def _reason(e: psycopg.Error, url: str) -> str:
    """The first line of a driver error, with any password in it masked."""
    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    reason = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", reason)
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    return reason.replace(str(password), "***") if password else reason


def _scalar(row: DictRow | None) -> Any:
    """The first column of a one-row result."""
    if row is None:
        raise StoreError("a query that always returns a row returned none")
    return next(iter(row.values()))


def _like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
