"""Documents, their passages and quotes, and search over them: the SQL written once for every dialect.

The dialect (bot.store.dialect) supplies the connection, the full-text index and how a document's parts are
written; this module imports no driver.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Document, Passage, Quote
from bot.quotes import speaker_key
from bot.store.base import Conflict, DocumentRow, NewDocument, PassageHit, QuoteRow
from bot.store.dialect import Queries, Row, now
from bot.store.scope import escape_like, scope_clause

NEAR_CANDIDATES = 20  # templated articles share sketch values with many others: compare the closest few


def _document(r: Row) -> Document:
    return Document(id=r["id"], location=r["location"], title=r["title"], text=r["text"],
                    content_hash=r["content_hash"], version=r["version"], url=r["url"], outlet=r["outlet"],
                    author=r["author"], published=r["published"], fetched=r["fetched"], source_id=r["source_id"])


def _doc_row(r: Row | None) -> DocumentRow | None:
    return DocumentRow(r["id"], r["location"], r["content_hash"], r["version"]) if r else None


def quote_row(r: Row) -> QuoteRow:
    """A stored quote from a row of the quotes columns and its document's."""
    q = Quote(text=r["text"], start=r["start"], end=r["end"], speaker=r["speaker"],
              speaker_start=r["speaker_start"], speaker_end=r["speaker_end"], description=r["description"],
              role=r["role"], cue=r["cue"], kind=r["kind"], passage=r["passage"])
    return QuoteRow(quote=q, doc_id=r["doc_id"], location=r["location"], title=r["title"], url=r["url"],
                    outlet=r["outlet"], published=r["published"])


def _id_ref(ref: str) -> int | None:
    """`ref` as a document or source id, when it is one (a 64-bit integer written in ASCII digits)."""
    return int(ref) if ref.isascii() and ref.isdigit() and int(ref) < 2**63 else None


class DocumentsSQL(Queries):
    """The Documents role (bot.store.base) over a dialect."""

    def find_location(self, location: str) -> DocumentRow | None:
        """The stored document at exactly this location."""
        return _doc_row(self._one("SELECT id, location, content_hash, version FROM documents WHERE location = ?",
                                  (location,)))

    def find_hash(self, content_hash: str) -> DocumentRow | None:
        """The stored document with exactly this content."""
        return _doc_row(self._one("SELECT id, location, content_hash, version FROM documents"
                                  " WHERE content_hash = ?", (content_hash,)))

    def near_candidates(self, sketch: list[int], min_shared: int) -> list[tuple[int, str, str]]:
        """Documents sharing at least `min_shared` sketch values, most shared first: (id, location, text)."""
        if not sketch:
            return []
        values, args = self.db.ints_in("value", list(dict.fromkeys(sketch)))
        rows = self._all(
            "SELECT d.id, d.location, d.text FROM documents d JOIN ("
            f" SELECT doc_id, COUNT(*) AS shared FROM sketches WHERE {values} GROUP BY doc_id"
            f" HAVING COUNT(*) >= ? ORDER BY shared DESC, doc_id LIMIT {NEAR_CANDIDATES}"
            ") s ON s.doc_id = d.id ORDER BY s.shared DESC, d.id", [*args, min_shared])
        return [(r["id"], r["location"], r["text"]) for r in rows]

    def put_document(self, doc: NewDocument, replace: DocumentRow | None = None) -> int:
        """Store a document with its passages, quotes and sketch in one transaction.

        With `replace`, the stored document becomes the next version of itself: its passages, quotes and
        sketch are swapped for the new ones atomically. The documents row goes first, so a lost race (a unique
        location or hash) leaves nothing behind.
        """
        q = self.db.sql
        try:
            with self.db.write() as tx:
                if replace is None:
                    doc_id = self.db.insert(tx, "INSERT INTO documents (source_id, location, url, title, outlet,"
                                            " author, published, fetched, content_hash, text, version)"
                                            " VALUES (?,?,?,?,?,?,?,?,?,?,1)",
                                            (doc.source_id, doc.location, doc.url, doc.title, doc.outlet, doc.author,
                                             doc.published, doc.fetched or now(), doc.content_hash, doc.text))
                else:
                    # the UPDATE's row lock comes first: a second replica replacing the same document waits
                    # here, then deletes the parts the first one wrote
                    updated = tx.execute(q(
                        "UPDATE documents SET url=?, title=?, outlet=?, author=?, published=?, fetched=?,"
                        " content_hash=?, text=?, version=version+1, source_id=COALESCE(?, source_id) WHERE id = ?"),
                        (doc.url, doc.title, doc.outlet, doc.author, doc.published, doc.fetched or now(),
                         doc.content_hash, doc.text, doc.source_id, replace.id)).rowcount
                    if updated != 1:
                        raise Conflict(f"{doc.location}: document {replace.id} was removed meanwhile")
                    doc_id = replace.id
                    self.db.delete_parts(tx, doc_id)
                self.db.insert_parts(tx, doc_id, doc)
                return doc_id
        except self.db.IntegrityError as e:
            raise Conflict(f"{doc.location}: already stored ({self.db.reason(e)})") from e

    def get_document(self, ref: str) -> Document | None:
        """A document by id, by its exact location, or by a unique location suffix (a file name)."""
        r, doc_id = None, _id_ref(ref)
        if doc_id is not None:
            r = self._one("SELECT * FROM documents WHERE id = ?", (doc_id,))
        if r is None:
            r = self._one("SELECT * FROM documents WHERE location = ?", (ref,))
        if r is None:
            rows = self._all("SELECT * FROM documents WHERE location LIKE ? ESCAPE '\\' LIMIT 2",
                             ("%" + escape_like(ref),))
            r = rows[0] if len(rows) == 1 else None
        if r is None:
            return None
        d = _document(r)
        d.passages = [Passage(ordinal=p["ordinal"], start=p["start"], end=p["end"], text=d.text[p["start"]:p["end"]])
                      for p in self._all('SELECT ordinal, start, "end" FROM passages WHERE doc_id = ?'
                                         " ORDER BY ordinal", (d.id,))]
        return d

    def list_documents(self, source: str | None = None, limit: int | None = None) -> list[Document]:
        """Stored documents (without passages), optionally those whose location contains `source`."""
        sql, args = "SELECT * FROM documents", list[Any]()
        if source:
            sql += " WHERE location LIKE ? ESCAPE '\\'"
            args.append("%" + escape_like(source) + "%")
        sql += " ORDER BY id"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        return [_document(r) for r in self._all(sql, args)]

    def documents_by_id(self, ids: list[int]) -> dict[int, Document]:
        """Documents (with passages) by id."""
        docs: dict[int, Document] = {}
        for i in range(0, len(ids), self.db.max_params):
            chunk = list(ids[i:i + self.db.max_params])
            where, args = self.db.ints_in("id", chunk)
            docs.update((r["id"], _document(r)) for r in self._all(f"SELECT * FROM documents WHERE {where}", args))
            # the chunk's passages in one query, not one query a document
            where, args = self.db.ints_in("doc_id", chunk)
            for p in self._all(f'SELECT doc_id, ordinal, start, "end" FROM passages WHERE {where}'
                               " ORDER BY doc_id, ordinal", args):
                d = docs[p["doc_id"]]
                d.passages.append(Passage(ordinal=p["ordinal"], start=p["start"], end=p["end"],
                                          text=d.text[p["start"]:p["end"]]))
        return docs

    def count_documents(self, sources: list[str] | None = None) -> int:
        """Stored documents, or those in scope `sources` (each counted once)."""
        where, args = scope_clause("location", sources)
        return int(self._one(f"SELECT COUNT(*) AS n FROM documents WHERE {where}", args)["n"])

    def count_passages(self) -> int:
        """Number of stored passages (the IDF denominator)."""
        return int(self._one("SELECT COUNT(*) AS n FROM passages")["n"])

    def document_text(self, doc_id: int) -> str:
        """A document's clean text ('' when gone)."""
        r = self._one("SELECT text FROM documents WHERE id = ?", (doc_id,))
        return str(r["text"]) if r else ""

    def names_a_source(self, name: str) -> bool:
        """True when some document's location or outlet contains `name` (case-insensitive)."""
        pat, like = "%" + escape_like(name) + "%", self.db.ci_like
        return self._one(f"SELECT 1 AS found FROM documents WHERE location {like} ? ESCAPE '\\'"
                         f" OR outlet {like} ? ESCAPE '\\' LIMIT 1", (pat, pat)) is not None

    def speaker_names(self, limit: int = 50_000) -> list[str]:
        """Distinct speaker names in the quote index (the names questions are read against)."""
        return [str(r["speaker"]) for r in self._all("SELECT DISTINCT speaker FROM quotes WHERE speaker IS NOT NULL"
                                                     " LIMIT ?", (limit,))]

    def terms_like(self, prefix: str, limit: int = 2000) -> list[str] | None:
        """Indexed words (stems) starting with `prefix`: the articles' vocabulary, for telling a typo from a word
        they never use; None when the dialect keeps none."""
        return self.db.terms_like(prefix, limit)

    def count_matches(self, match: str) -> int:
        """Number of passages an FTS5-style expression matches."""
        return self.db.count_matches(match)

    def search_passages(self, match: str, limit: int = 20, sources: list[str] | None = None,
                        since: str | None = None) -> list[PassageHit]:
        """BM25 over passages for an FTS5-style expression (quoted terms, AND, OR); best first."""
        return self.db.search(match, limit, sources, since) if match.strip() else []

    def quotes(self, speaker_like: str | None = None, source: str | None = None,
               limit: int | None = None, about: list[str] | None = None,
               role_like: str | None = None, doc_ids: list[int] | None = None) -> list[QuoteRow]:
        """Stored quotes, optionally those whose speaker contains every word given, from a source,
        whose words contain one of `about`, or whose speaker's role or description contains
        `role_like`, or in the documents `doc_ids` (newest documents first when limited)."""
        sql = ("SELECT q.*, d.location, d.title, d.url, d.outlet, d.published FROM quotes q"
               " JOIN documents d ON d.id = q.doc_id WHERE 1=1")
        args: list[Any] = []
        like = self.db.ci_like
        for tok in speaker_key(speaker_like).split() if speaker_like else []:
            clause, arg = self.db.speaker_clause(tok)
            sql += " AND " + clause
            args.append(arg)
        if source:
            sql += " AND d.location LIKE ? ESCAPE '\\'"
            args.append("%" + escape_like(source) + "%")
        if about:
            sql += " AND (" + " OR ".join(f"q.text {like} ? ESCAPE '\\'" for _ in about) + ")"
            args.extend("%" + escape_like(w) + "%" for w in about)
        if doc_ids is not None:
            sql += " AND q.doc_id IN (" + ",".join("?" for _ in doc_ids) + ")" if doc_ids else " AND 1=0"
            args.extend(doc_ids)
        if role_like:
            sql += f" AND (q.role {like} ? ESCAPE '\\' OR q.description {like} ? ESCAPE '\\')"
            args.extend(["%" + escape_like(role_like) + "%"] * 2)
        sql += " ORDER BY d.id DESC, q.start, q.id" if limit else " ORDER BY d.id, q.start, q.id"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        return [quote_row(r) for r in self._all(sql, args)]
