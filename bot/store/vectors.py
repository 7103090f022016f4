"""Stored passage vectors on both stores: which passages still need one, writing a batch, reading them in chunks.

Vectors are opaque bytes here (bot.embed owns their encoding); a mixin of each store, like StoryRecords.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

# SQL both dialects share; {text} is the dialect's passage text, {mark} its placeholder.
_PENDING = ("SELECT p.id, {text} AS text FROM passages p{join} WHERE p.id > {mark} AND NOT EXISTS"
            " (SELECT 1 FROM passage_vectors v WHERE v.passage_id = p.id AND v.model = {mark}) ORDER BY p.id LIMIT {mark}")
_COUNT_PENDING = ("SELECT count(*) AS n FROM passages p WHERE NOT EXISTS"
                  " (SELECT 1 FROM passage_vectors v WHERE v.passage_id = p.id AND v.model = {mark})")
_VECTORS = ("SELECT v.seq, v.passage_id, p.doc_id, p.ordinal, v.vec FROM passage_vectors v"
            " JOIN passages p ON p.id = v.passage_id WHERE v.model = {mark} AND v.seq > {mark} ORDER BY v.seq LIMIT {mark}")
_SEQS = "SELECT seq FROM passage_vectors WHERE model = {mark} ORDER BY seq"
_STATE = "SELECT count(*) AS n, COALESCE(max(seq), 0) AS last FROM passage_vectors WHERE model = {mark}"


class VectorRecords:
    """Passage vectors per model: one vector a passage (a new model's vector replaces another model's).

    A passage's vector goes when the passage does (ON DELETE CASCADE), so a new version of a document
    has its new passages pending. Every write gets a new `seq`, so (count, max seq) changes with any change.
    """

    MARK = "?"
    PASSAGE_TEXT = 'substr(d.text, p.start + 1, p."end" - p.start)'  # SQLite keeps passage text in the document
    TEXT_JOIN = " JOIN documents d ON d.id = p.doc_id"

    def _conn(self) -> Any:
        raise NotImplementedError  # provided by the store

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError  # provided by the store

    def _q(self, template: str) -> str:
        return template.format(mark=self.MARK, text=self.PASSAGE_TEXT, join=self.TEXT_JOIN)

    def unembedded_passages(self, model: str, limit: int, after: int = 0) -> list[tuple[int, str]]:
        """Up to `limit` passages without a `model` vector, by id, after passage id `after`: (passage id, text)."""
        rows = self._conn().execute(self._q(_PENDING), (after, model, limit)).fetchall()
        return [(int(r[0]), str(r[1])) for r in map(_tuple, rows)]

    def count_unembedded(self, model: str) -> int:
        """Passages without a `model` vector."""
        return int(_tuple(self._conn().execute(self._q(_COUNT_PENDING), (model,)).fetchone())[0])

    def passage_vectors(self, model: str, after: int = 0,
                        limit: int = 10_000) -> list[tuple[int, int, int, int, bytes]]:
        """One chunk of `model`'s vectors written after write number `after`, in write order:
        (seq, passage id, doc id, ordinal, vector bytes).

        Callers page with `after` = the last seq seen, so a large index is read without holding every row
        twice, and a loaded index catches up by reading only what was written since.
        """
        rows = self._conn().execute(self._q(_VECTORS), (model, after, limit)).fetchall()
        return [(int(r[0]), int(r[1]), int(r[2]), int(r[3]), bytes(r[4])) for r in map(_tuple, rows)]

    def vectors_for(self, model: str, passage_ids: list[int]) -> list[tuple[int, int, int, bytes]]:
        """`model`'s vectors of these passages (those that have one): (passage id, doc id, ordinal, vector bytes)."""
        out: list[tuple[int, int, int, bytes]] = []
        for i in range(0, len(passage_ids), 5_000):  # SQLite allows 32,766 parameters a statement
            chunk = list(passage_ids[i:i + 5_000])
            rows = self._conn().execute(
                "SELECT v.passage_id, p.doc_id, p.ordinal, v.vec FROM passage_vectors v JOIN passages p"
                f" ON p.id = v.passage_id WHERE v.model = {self.MARK} AND v.passage_id IN ({self._marks(len(chunk))})",
                (model, *chunk)).fetchall()
            out.extend((int(r[0]), int(r[1]), int(r[2]), bytes(r[3])) for r in map(_tuple, rows))
        return out

    def lead_vectors(self, doc_ids: list[int], passages: int) -> list[tuple[int, str, bytes]]:
        """Every model's vectors of the first `passages` passages of these documents: (doc id, model, vector bytes)."""
        out: list[tuple[int, str, bytes]] = []
        for i in range(0, len(doc_ids), 5_000):
            chunk = list(doc_ids[i:i + 5_000])
            rows = self._conn().execute(
                "SELECT p.doc_id, v.model, v.vec FROM passage_vectors v JOIN passages p ON p.id = v.passage_id"
                f" WHERE p.ordinal < {self.MARK} AND p.doc_id IN ({self._marks(len(chunk))})",
                (passages, *chunk)).fetchall()
            out.extend((int(r[0]), str(r[1]), bytes(r[2])) for r in map(_tuple, rows))
        return out

    def _marks(self, n: int) -> str:
        return ",".join([self.MARK] * n)

    def vector_seqs(self, model: str) -> list[int]:
        """The write numbers of every stored `model` vector (to tell which loaded ones were deleted since)."""
        return [int(_tuple(r)[0]) for r in self._conn().execute(self._q(_SEQS), (model,)).fetchall()]

    def vector_state(self, model: str) -> tuple[int, int]:
        """(vectors stored, last write's seq) for `model`: a signature that changes with every write or delete."""
        r = _tuple(self._conn().execute(self._q(_STATE), (model,)).fetchone())
        return int(r[0]), int(r[1])

    def put_vectors(self, model: str, rows: list[tuple[int, bytes]], texts: list[str] | None = None) -> int:
        """Store a batch of vectors in one transaction; returns how many were written.

        A passage deleted meanwhile is skipped; with `texts` (the text each vector was computed from),
        so is one whose text changed meanwhile (a new version re-used its id): it stays pending.
        """
        if not rows:
            return 0
        if texts is not None and len(texts) != len(rows):
            raise ValueError(f"put_vectors: {len(rows)} vectors but {len(texts)} texts")
        with self._tx() as tx:
            return self._write_vectors(tx, model, rows, texts)

    def _write_vectors(self, tx: Any, model: str, rows: list[tuple[int, bytes]], texts: list[str] | None) -> int:
        """The dialect's replace-or-insert of a batch; how many rows were written."""
        raise NotImplementedError  # provided by the store


def _tuple(r: Any) -> tuple[Any, ...]:
    """A row as a tuple (sqlite3.Row and psycopg's dict rows alike)."""
    if r is None:
        raise ValueError("a query that always returns a row returned none")
    return tuple(r.values()) if isinstance(r, dict) else tuple(r)
