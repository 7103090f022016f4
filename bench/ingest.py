"""Ingest the BBC corpus into a fresh database and print articles/s, against a bare FTS5 floor.

    python bench/ingest.py [CORPUS]      (default ../shared/corpus/bbc)

The floor is the time of a bare FTS5 bulk insert of the same passages in one transaction: what
SQLite alone costs, with no reading, cleaning, dedup, passages or quotes.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus" / "bbc"
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        assert isinstance(store, SQLiteStore)
        t0 = time.perf_counter()
        report = Ingester(store, extract_quotes=extract_quotes).ingest([str(corpus)])
        dt = time.perf_counter() - t0
        files = len(report.items)
        c = report.counts
        quotes = store.execute("SELECT COUNT(*) FROM quotes")[0][0]
        passages = [(r[0], r[1]) for r in store.execute(
            'SELECT p.id, substr(d.text, p.start + 1, p."end" - p.start) FROM passages p JOIN documents d'
            " ON d.id = p.doc_id")]
        store.close()

        floor_db = sqlite3.connect(f"{tmp}/floor.db", isolation_level=None)
        floor_db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61')")
        t1 = time.perf_counter()
        floor_db.execute("BEGIN")
        floor_db.executemany("INSERT INTO f (rowid, text) VALUES (?, ?)", passages)
        floor_db.execute("COMMIT")
        floor = time.perf_counter() - t1
        floor_db.close()

    print(f"corpus: {corpus}")
    print(f"{report.summary()}")
    print(f"stored: {c['new']:,} documents, {len(passages):,} passages, {quotes:,} quotes")
    print(f"ingest: {files / dt:,.0f} articles/s ({dt:.2f} s for {files:,} files, with cleaning, dedup, "
          "passages and quotes)")
    print(f"floor (bare FTS5 bulk insert of the same passages, one transaction): {files / floor:,.0f} articles/s "
          f"({floor:.2f} s)")
    print(f"ratio to the floor: {dt / floor:.1f}x slower")
    print(f"target >= 1,000 articles/s: {'met' if files / dt >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
