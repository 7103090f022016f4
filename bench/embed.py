"""Embedding figures: passages/s and the time to embed BBC from empty, query-embedding latency, DenseIndex search
latency at BBC size and at 100,000 synthetic documents, and the process's RSS.

    .venv/bin/python bench/embed.py [--corpus ../shared/corpus/bbc] [--limit N] [--docs 100000]

The corpus is ingested into a temporary SQLite database (never into the repository).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.embed import DenseIndex, OnnxMiniLM, embed_pending, encode_vectors, normalise  # noqa: E402
from bot.ingest.pipeline import Ingester  # noqa: E402
from bot.quotes import extract_quotes  # noqa: E402
from bot.store.sqlite import SQLiteStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How did Kim get to Beijing?", "who called it a marriage of convenience", "what's the story with the summit",
    "Why did the club sack its manager?", "any news on broadband prices", "how much did the film make",
    "which outlets covered the election", "what did the chancellor say about tax", "catch me up on the strike",
    "When will the new console launch?", "who won the award for best actor", "is the economy slowing down",
]


def rss_mb() -> float:
    """The current resident set size, MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def synthetic_store(path: str, docs: int, per_doc: float, model: str, dim: int, seed: int = 7) -> SQLiteStore:
    """A SQLite store of `docs` documents with random normalised vectors for their passages (no text, no FTS)."""
    import sqlite3

    SQLiteStore(path).close()  # the schema
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    rng = np.random.default_rng(seed)
    con.execute("BEGIN")
    con.executemany("INSERT INTO documents (id, location, title, fetched, content_hash, text) VALUES (?,?,?,?,?,'')",
                    [(d, f"/synthetic/{d}", f"doc {d}", "2026-01-01", f"h{d}") for d in range(1, docs + 1)])
    total = int(docs * per_doc)
    for start in range(0, total, 20_000):
        n = min(20_000, total - start)
        ids = [(int(i / per_doc) + 1) * 1_000_000 + i % 1000 for i in range(start, start + n)]
        con.executemany('INSERT INTO passages (id, doc_id, ordinal, start, "end") VALUES (?,?,?,0,0)',
                        [(pid, pid // 1_000_000, pid % 1_000_000) for pid in ids])
        blobs = encode_vectors(normalise(rng.standard_normal((n, dim)).astype(np.float32)))
        con.executemany("INSERT INTO passage_vectors (passage_id, model, vec) VALUES (?,?,?)",
                        [(pid, model, b) for pid, b in zip(ids, blobs, strict=True)])
    con.execute("COMMIT")
    con.close()
    return SQLiteStore(path)


def time_calls(fn: Any, args: list[Any]) -> list[float]:
    out = []
    for a in args:
        t = time.perf_counter()
        fn(a)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "bbc"))
    ap.add_argument("--limit", type=int, help="embed at most this many passages (a quick run)")
    ap.add_argument("--docs", type=int, default=100_000, help="synthetic documents for the large index")
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()

    print(f"start: RSS {rss_mb():.0f} MB")
    t = time.perf_counter()
    model = OnnxMiniLM()
    print(f"model loaded in {time.perf_counter() - t:.2f} s (sha256 checked), RSS {rss_mb():.0f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(f"{tmp}/bench.db")
        t = time.perf_counter()
        rep = Ingester(store, extract_quotes=extract_quotes).ingest([a.corpus])
        n_docs, n_pass = store.count_documents(), store.count_passages()
        print(f"ingested {Path(a.corpus).name}: {rep.summary()} -> {n_docs:,} documents, {n_pass:,} passages"
              f" ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        done = embed_pending(store, model, batch=a.batch, limit=a.limit)
        secs = time.perf_counter() - t
        print(f"embedded {done:,} passages from empty in {secs:.1f} s: {done / secs:.1f} passages/s"
              f" (batch {a.batch}, 1 intra-op thread); RSS {rss_mb():.0f} MB, peak {peak_mb():.0f} MB")
        if a.limit:
            print(f"  (a --limit run: all {n_pass:,} would take ~{n_pass / (done / secs) / 60:.1f} min at this rate)")

        # query embedding: each question once (uncached), with a variation so none repeats
        qs = [f"{q} {i}" if i else q for i in range(5) for q in QUESTIONS]
        lat = time_calls(lambda q: model.embed([q]), qs)
        print(f"query embedding: p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms ({len(lat)} questions)")

        index = DenseIndex(store, model, refresh_seconds=3600)
        t = time.perf_counter()
        index.refresh(force=True)
        print(f"BBC index: {len(index):,} vectors loaded in {(time.perf_counter() - t) * 1000:.0f} ms")
        vecs = model.embed(qs)
        lat = time_calls(lambda v: index.search_vector(v, 50), list(vecs))
        print(f"BBC search (top 50, vector given): p50 {pct(lat, 50):.2f} ms, p95 {pct(lat, 95):.2f} ms")
        docs = {d.id for d in store.list_documents(limit=200)}
        lat = time_calls(lambda v: index.search_vector(v, 50, doc_ids=docs), list(vecs))
        print(f"BBC search in 200 documents: p50 {pct(lat, 50):.2f} ms, p95 {pct(lat, 95):.2f} ms")
        lat = time_calls(lambda q: index.search(q, 50), [q + " ?" for q in qs])
        print(f"BBC search with query embedding (uncached): p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms")
        per_doc = n_pass / max(1, n_docs)
        store.close()

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        big_store = synthetic_store(f"{tmp}/big.db", a.docs, per_doc, model.name, model.dim)
        print(f"{a.docs:,} synthetic documents ({per_doc:.1f} passages each, as in the corpus) written in"
              f" {time.perf_counter() - t:.0f} s; RSS {rss_mb():.0f} MB")
        big = DenseIndex(big_store, model, refresh_seconds=3600)
        before = rss_mb()
        t = time.perf_counter()
        big.refresh(force=True)
        print(f"  {len(big):,} vectors loaded in {time.perf_counter() - t:.1f} s, +{rss_mb() - before:.0f} MB;"
              f" RSS {rss_mb():.0f} MB")
        vecs = model.embed(qs[:30])
        lat = time_calls(lambda v: big.search_vector(v, 50), list(vecs))
        print(f"  search (top 50 of {max(big.candidates, len(big) // 100):,} candidates): p50 {pct(lat, 50):.0f} ms,"
              f" p95 {pct(lat, 95):.0f} ms")
        few = set(range(1, 2001))
        lat = time_calls(lambda v: big.search_vector(v, 50, doc_ids=few), list(vecs))
        print(f"  search in 2,000 documents: p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms")
        lat = time_calls(lambda q: big.search(q, 50), [q + " !" for q in qs])
        print(f"  search with query embedding (uncached): p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms;"
              f" RSS {rss_mb():.0f} MB")
        big_store.close()
    print(f"peak RSS of the whole run: {peak_mb():.0f} MB (model, BBC ingest and index, the {a.docs:,}-document"
          " index); " + f"median of the last figures: {statistics.median(lat):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
