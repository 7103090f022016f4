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


class SyntheticStore:
    """vector_state/passage_vectors/vector_seqs over random normalised vectors, made a page at a time."""

    def __init__(self, n: int, dim: int, per_doc: float, seed: int = 7) -> None:
        self.n, self.dim, self.per_doc, self.seed = n, dim, per_doc, seed

    def vector_state(self, model: str) -> tuple[int, int]:
        return self.n, self.n

    def vector_seqs(self, model: str) -> list[int]:
        return list(range(1, self.n + 1))

    def passage_vectors(self, model: str, after: int = 0, limit: int = 10_000) -> list[tuple[int, int, int, int, bytes]]:
        stop = min(self.n, after + limit)
        if after >= stop:
            return []
        rng = np.random.default_rng(self.seed + after)
        blobs = encode_vectors(normalise(rng.standard_normal((stop - after, self.dim)).astype(np.float32)))
        return [(s, s, int((s - 1) / self.per_doc) + 1, 0, b) for s, b in zip(range(after + 1, stop + 1), blobs,
                                                                             strict=True)]


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

    n = int(a.docs * per_doc)
    big = DenseIndex(SyntheticStore(n, model.dim, per_doc), model, refresh_seconds=3600)  # type: ignore[arg-type]
    before = rss_mb()
    t = time.perf_counter()
    big.refresh(force=True)
    print(f"{a.docs:,} synthetic documents ({per_doc:.1f} passages each as in the corpus): {len(big):,} vectors"
          f" loaded in {time.perf_counter() - t:.1f} s, +{rss_mb() - before:.0f} MB; RSS {rss_mb():.0f} MB")
    vecs = model.embed(qs[:30])
    lat = time_calls(lambda v: big.search_vector(v, 50), list(vecs))
    print(f"{a.docs:,}-document search (top 50): p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms")
    few = set(range(1, 2001))
    lat = time_calls(lambda v: big.search_vector(v, 50, doc_ids=few), list(vecs))
    print(f"{a.docs:,}-document search in 2,000 documents: p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms")
    print(f"peak RSS of the whole run: {peak_mb():.0f} MB (model + BBC + the {a.docs:,}-document index);"
          f" median of the figures above: {statistics.median(lat):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
