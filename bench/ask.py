"""Answer latency with the default backend: p50/p95 over 200 questions, at BBC size and ~100,000 docs.

    python bench/ask.py [--big N_COPIES]      (default 48 copies: about 100,000 documents)

Also prints, for the same questions: bm25s and rank_bm25 retrieval time over the same passages (what
other RAG stacks use), prompt tokens per answer with the openai backend, and `briefbot --help` start.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.answer import Answerer
from bot.ingest.pipeline import Ingester
from bot.llm.openai_backend import OpenAIBackend
from bot.llm.tokens import count_tokens
from bot.question import analyse, content_terms
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.base import NewDocument
from bot.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "corpus" / "bbc"


def questions(store: SQLiteStore, n: int = 200) -> list[str]:
    """Half speaker questions from the quote index, half fact questions from headlines; fixed seed."""
    rng = random.Random(42)
    rows = [r for r in store.quotes() if r.quote.speaker and len(r.quote.speaker.split()) >= 2]
    out = []
    for r in rng.sample(rows, n // 2):
        words = [w for w in content_terms(r.quote.text) if len(w) > 4]
        about = f" about {rng.choice(words)}" if words else ""
        out.append(f"What did {r.quote.speaker.split()[-1]} say{about}?")
    docs = store.list_documents()
    for d in rng.sample(docs, n - len(out)):
        title = re.sub(r"['\"]", "", d.title)
        out.append(rng.choice(["What happened: {}?", "Why {}?", "Tell me about {}"]).format(title.lower()))
    return out


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[int(0.95 * (len(xs) - 1))]


def time_answers(store: SQLiteStore, qs: list[str]) -> tuple[float, float, int]:
    a = Answerer(store)
    for q in qs[:10]:
        a.ask(q)  # warm caches, as a running bot would be
    times, found = [], 0
    for q in qs:
        t = time.perf_counter()
        ans = a.ask(q)
        times.append((time.perf_counter() - t) * 1000)
        found += ans.found
    p50, p95 = percentiles(times)
    return p50, p95, found


def bm25_references(store: SQLiteStore, qs: list[str]) -> None:
    texts = [r[0] for r in store.execute('SELECT substr(d.text, p.start + 1, p."end" - p.start) FROM passages p'
                                         " JOIN documents d ON d.id = p.doc_id")]
    toks = [content_terms(t) for t in texts]
    qtoks = [analyse(q).terms or content_terms(q) for q in qs]
    try:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(toks, show_progress=False)
        times = []
        for qt in qtoks:
            t = time.perf_counter()
            retriever.retrieve([qt], k=10, show_progress=False)
            times.append((time.perf_counter() - t) * 1000)
        p50, p95 = percentiles(times)
        print(f"  bm25s retrieval only:      p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({len(texts):,} passages)")
    except Exception as e:  # a reference, not the product: report and go on
        print(f"  bm25s: not measured ({type(e).__name__}: {e})")
    try:
        from rank_bm25 import BM25Okapi

        bm = BM25Okapi(toks)
        times = []
        for qt in qtoks[:50]:
            t = time.perf_counter()
            bm.get_top_n(qt, texts, n=10)
            times.append((time.perf_counter() - t) * 1000)
        p50, p95 = percentiles(times)
        print(f"  rank_bm25 retrieval only:  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  (50 questions)")
    except Exception as e:
        print(f"  rank_bm25: not measured ({type(e).__name__}: {e})")


def prompt_tokens(store: SQLiteStore, qs: list[str]) -> None:
    from bot.llm.openai_compat import load_prompt

    prompt = load_prompt("answer")

    class Offline:
        model = "gpt-4o-mini"

    backend = OpenAIBackend(Offline(), prompt.text)  # type: ignore[arg-type]
    a = Answerer(store)
    counts = []
    for q in qs:
        ev = a.gather(analyse(q))
        srcs = backend.numbered(ev)
        if not srcs:
            continue
        lines = "\n".join(f"[{n}] {t}" for n, (_, t) in enumerate(srcs, start=1))
        counts.append(count_tokens(prompt.text + f"Question: {q}\n\nSources:\n{lines}", "gpt-4o-mini"))
    p50, p95 = percentiles([float(c) for c in counts])
    print(f"  openai backend prompt tokens per answer: p50 {p50:.0f}, p95 {p95:.0f}, max {max(counts)} "
          f"(target <= 1,500; {len(counts)} questions with evidence)")


def grow(store: SQLiteStore, copies: int) -> int:
    """Repeat every stored document `copies` times (distinct locations and hashes) without re-analysis."""
    base = store.documents_by_id([d.id for d in store.list_documents()])
    quotes: dict[int, list] = {}
    for r in store.quotes():
        quotes.setdefault(r.doc_id, []).append(r.quote)
    n = 0
    for k in range(1, copies + 1):
        with store.batch():
            for d in base.values():
                store.put_document(NewDocument(
                    location=f"{d.location}#copy{k}", title=d.title, text=d.text,
                    content_hash=f"{d.content_hash}-{k}", passages=d.passages, quotes=quotes.get(d.id, [])))
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=48, help="copies of the BBC corpus for the large run (0: skip)")
    a = ap.parse_args()
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True)
    runs = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, check=True)
        runs.append((time.perf_counter() - t) * 1000)
    base = subprocess.run([sys.executable, "-c", "pass"], capture_output=True)
    runs_py = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        runs_py.append((time.perf_counter() - t) * 1000)
    print(f"`briefbot --help`: median {statistics.median(runs):.0f} ms (bare python start {statistics.median(runs_py):.0f} ms;"
          f" target <= 300 ms)")
    del p, base
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/ask.db")
        assert isinstance(store, SQLiteStore)
        Ingester(store, extract_quotes=extract_quotes).ingest([str(BBC)])
        qs = questions(store)
        p50, p95, found = time_answers(store, qs)
        print(f"BBC ({store.count_documents():,} documents): answer p50 {p50:.1f} ms, p95 {p95:.1f} ms "
              f"(target p95 <= 10 ms); found {found}/{len(qs)}")
        bm25_references(store, qs)
        prompt_tokens(store, qs)
        if a.big:
            t = time.perf_counter()
            grow(store, a.big)
            print(f"grew to {store.count_documents():,} documents in {time.perf_counter() - t:.0f} s")
            p50, p95, found = time_answers(store, qs)
            print(f"large ({store.count_documents():,} documents): answer p50 {p50:.1f} ms, p95 {p95:.1f} ms "
                  f"(target p95 <= 50 ms); found {found}/{len(qs)}")


if __name__ == "__main__":
    main()
