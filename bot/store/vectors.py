"""Stored passage vectors (the Vectors role), written once for every dialect: which passages still need one,
writing a batch, reading them in chunks.

Vectors are opaque bytes here (bot.embed owns their encoding). Imports no driver.
"""

from __future__ import annotations

from bot.store.dialect import Queries

# {text} is the dialect's passage text over `passages p`, {join} what it needs joined
_PENDING = ("SELECT p.id, {text} AS text FROM passages p{join} WHERE p.id > ? AND NOT EXISTS"
            " (SELECT 1 FROM passage_vectors v WHERE v.passage_id = p.id AND v.model = ?) ORDER BY p.id LIMIT ?")
_COUNT_PENDING = ("SELECT count(*) AS n FROM passages p WHERE NOT EXISTS"
                  " (SELECT 1 FROM passage_vectors v WHERE v.passage_id = p.id AND v.model = ?)")
_VECTORS = ("SELECT v.seq, v.passage_id, p.doc_id, p.ordinal, v.vec FROM passage_vectors v"
            " JOIN passages p ON p.id = v.passage_id WHERE v.model = ? AND v.seq > ? ORDER BY v.seq LIMIT ?")
_SEQS = "SELECT seq FROM passage_vectors WHERE model = ? ORDER BY seq"
_STATE = "SELECT count(*) AS n, COALESCE(max(seq), 0) AS last FROM passage_vectors WHERE model = ?"
# the SELECT skips a passage deleted (or, with its text given, changed) since it was read; a replica that wrote the
# same passage meanwhile wins (same passage, same text)
_PUT = ("INSERT INTO passage_vectors (passage_id, model, vec) SELECT p.id, ?, ? FROM passages p{join}"
        " WHERE p.id = ? AND (CAST(? AS TEXT) IS NULL OR {text} = ?) ON CONFLICT (passage_id) DO NOTHING")


class VectorsSQL(Queries):
    """Passage vectors per model: one vector a passage (a new model's vector replaces another model's).

    A passage's vector goes when the passage does (ON DELETE CASCADE), so a new version of a document
    has its new passages pending. Every write gets a new `seq`, so (count, max seq) changes with any change.
    """

    def _sql(self, template: str) -> str:
        return template.format(text=self.db.passage_text, join=self.db.text_join)

    def unembedded_passages(self, model: str, limit: int, after: int = 0) -> list[tuple[int, str]]:
        """Up to `limit` passages without a `model` vector, by id, after passage id `after`: (passage id, text)."""
        return [(int(r["id"]), str(r["text"])) for r in self._all(self._sql(_PENDING), (after, model, limit))]

    def count_unembedded(self, model: str) -> int:
        """Passages without a `model` vector."""
        return int(self._all(_COUNT_PENDING, (model,))[0]["n"])

    def passage_vectors(self, model: str, after: int = 0,
                        limit: int = 10_000) -> list[tuple[int, int, int, int, bytes]]:
        """One chunk of `model`'s vectors written after write number `after`, in write order:
        (seq, passage id, doc id, ordinal, vector bytes).

        Callers page with `after` = the last seq seen, so a large index is read without holding every row
        twice, and a loaded index catches up by reading only what was written since.
        """
        return [(int(r["seq"]), int(r["passage_id"]), int(r["doc_id"]), int(r["ordinal"]), bytes(r["vec"]))
                for r in self._all(_VECTORS, (model, after, limit))]

    def vectors_for(self, model: str, passage_ids: list[int]) -> list[tuple[int, int, int, bytes]]:
        """`model`'s vectors of these passages (those that have one): (passage id, doc id, ordinal, vector bytes)."""
        out: list[tuple[int, int, int, bytes]] = []
        step = self.db.max_params // 2
        for i in range(0, len(passage_ids), step):
            where, args = self.db.ints_in("v.passage_id", list(passage_ids[i:i + step]))
            rows = self._all("SELECT v.passage_id, p.doc_id, p.ordinal, v.vec FROM passage_vectors v JOIN passages p"
                             f" ON p.id = v.passage_id WHERE v.model = ? AND {where}", (model, *args))
            out.extend((int(r["passage_id"]), int(r["doc_id"]), int(r["ordinal"]), bytes(r["vec"])) for r in rows)
        return out

    def lead_vectors(self, doc_ids: list[int], passages: int) -> list[tuple[int, str, bytes]]:
        """Every model's vectors of the first `passages` passages of these documents: (doc id, model, vector bytes)."""
        out: list[tuple[int, str, bytes]] = []
        step = self.db.max_params // 2
        for i in range(0, len(doc_ids), step):
            where, args = self.db.ints_in("p.doc_id", list(doc_ids[i:i + step]))
            rows = self._all("SELECT p.doc_id, v.model, v.vec FROM passage_vectors v JOIN passages p"
                             f" ON p.id = v.passage_id WHERE p.ordinal < ? AND {where}", (passages, *args))
            out.extend((int(r["doc_id"]), str(r["model"]), bytes(r["vec"])) for r in rows)
        return out

    def vector_seqs(self, model: str) -> list[int]:
        """The write numbers of every stored `model` vector (to tell which loaded ones were deleted since)."""
        return [int(r["seq"]) for r in self._all(_SEQS, (model,))]

    def vector_state(self, model: str) -> tuple[int, int]:
        """(vectors stored, last write's seq) for `model`: a signature that changes with every write or delete."""
        r = self._all(_STATE, (model,))[0]
        return int(r["n"]), int(r["last"])

    def put_vectors(self, model: str, rows: list[tuple[int, bytes]], texts: list[str] | None = None) -> int:
        """Store a batch of vectors in one transaction; returns how many were written.

        A passage deleted meanwhile is skipped; with `texts` (the text each vector was computed from),
        so is one whose text changed meanwhile (a new version re-used its id): it stays pending.
        """
        if not rows:
            return 0
        if texts is not None and len(texts) != len(rows):
            raise ValueError(f"put_vectors: {len(rows)} vectors but {len(texts)} texts")
        given = texts if texts is not None else [None] * len(rows)
        with self.db.tx() as tx:
            # delete, then insert: the passage's vector gets a new seq, so a loaded index sees the change
            step = self.db.max_params
            for i in range(0, len(rows), step):
                where, args = self.db.ints_in("passage_id", [pid for pid, _ in rows[i:i + step]])
                tx.execute(self.db.sql(f"DELETE FROM passage_vectors WHERE {where}"), args)
            return self.db.many(tx, self._sql(_PUT),
                                [(model, vec, pid, text, text) for (pid, vec), text in zip(rows, given, strict=True)])
