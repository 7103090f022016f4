"""Answer latency per stage: p50/p95 of analysis, BM25, dense (query embedding + vector search), fusion,
selection and composition, at BBC size and at 100,000 documents, with the embedder and lexical-only.

    .venv/bin/python bench/ask.py [--quick] [--db PATH] [--n100k N] [--db100k PATH] [--reps 3]

--quick      BBC size only (no 100,000-document corpus)
--db PATH    a database already holding seeds + BBC, ingested and embedded (copied to a temporary file first,
             never written); without it seeds + BBC are ingested and embedded from empty (several minutes)
--n100k N    documents in the large corpus (default 100,000)
--db100k P   reuse a large database built by an earlier run (copied first); when P does not exist it is
             built and saved there

Corpus: ../shared/corpus/seeds + ../shared/corpus/bbc in a temporary SQLite database (never in the repository).
The large corpus is that database grown by bench/_synth.py (in its own process, so it is not in this one's
peak RSS): BBC articles recombined into new ones with unique titles, each passage keeping the stored vector of
the same text. Every question is asked `--reps` times with the query-embedding cache emptied before each ask,
so every ask pays its embeddings, as a new question does.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._synth import copy_db  # noqa: E402
from bot import answer as answer_module  # noqa: E402
from bot.answer import Answerer  # noqa: E402
from bot.app import load_embedder  # noqa: E402
from bot.embed import DenseIndex, Embedder, Vectors, embed_pending  # noqa: E402
from bot.ingest.pipeline import Ingester  # noqa: E402
from bot.quotes import extract_quotes  # noqa: E402
from bot.store.sqlite import SQLiteStore  # noqa: E402
from bot.story_index import StoryIndex  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
STAGES = ["analysis", "bm25", "dense", "fusion", "selection", "composition"]
TARGET_DENSE_BBC, TARGET_DENSE_BIG, TARGET_LEXICAL = 300.0, 1000.0, 20.0

# Fixed, written by hand: every style the bot is asked in, over seeds + BBC.
QUESTIONS = [
    # quotes
    "What did Blair say about the election?",
    "what did mourinho say about the referee",
    "What did Michael Howard say about immigration?",
    "What did Navarro say about Modi?",
    # who said
    "Who called it a marriage of convenience?",
    "Who said Britain should not join the euro?",
    "who described the ID cards plan as a waste of money",
    # who is
    "Who is Charles Kennedy?",
    "who is Kim Jong Un",
    "Who is Arsene Wenger?",
    # facts
    "How much did Yukos owe in back taxes?",
    "When will the next Xbox launch?",
    "How many iPods did Apple sell over Christmas?",
    "Which film won best picture at the Oscars?",
    "How did Kim get to Beijing?",
    "What is the forecast for UK economic growth?",
    # why / how
    "Why did the dollar fall against the euro?",
    "why did kenteris and thanou miss the drugs test",
    "How do phishing scams steal bank details?",
    "How would the ID card scheme work?",
    # summaries
    "Give me the gist of the summit",
    "catch me up on the Yukos affair",
    "Summarise the row over the smoking ban",
    # across outlets
    "How do the reports differ on the military parade?",
    "which outlets covered the Beijing parade",
    "What did Xi, Putin and Kim each get out of the summit?",
    # casual, with typos
    "wat did wenger say abt chelsea",
    "whos the new england rugby coach",
    "any news on brodband prices?",
    "tell me bout the tsunami aid",
]
WARM_UP = ["What happened at the parade?", "who is Tony Blair", "news on mobile phones"]


class TimedEmbedder:
    """The embedder, with the time spent in it counted (model inference, wherever a stage calls it)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.ms = 0.0
        self.texts = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]) -> Vectors:
        t = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.ms += (time.perf_counter() - t) * 1000
            self.texts += len(texts)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def p50_p95(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs, dtype=np.float64)
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


class ModelPerStage:
    """Which stage the model's time lands in: Stages.lap wrapped to note the model time since the last lap.

    (A stage's time runs from the previous lap, so work before a lap counts in it: quote ranking, which can
    embed, lands in the stage lapped next.) Only observes; restored on exit.
    """

    def __init__(self, timed: TimedEmbedder | None) -> None:
        self.timed = timed
        self.ms: dict[str, float] = {}
        self._mark = 0.0
        self._orig = answer_module.Stages.lap

    def start(self) -> None:
        self.ms = {}
        self._mark = self.timed.ms if self.timed else 0.0

    def __enter__(self) -> ModelPerStage:
        orig, me = self._orig, self

        def lap(st: answer_module.Stages, name: str) -> None:
            orig(st, name)
            if me.timed is not None:
                me.ms[name] = me.ms.get(name, 0.0) + me.timed.ms - me._mark
                me._mark = me.timed.ms

        answer_module.Stages.lap = lap  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        answer_module.Stages.lap = self._orig  # type: ignore[method-assign]


def measure(store: SQLiteStore, dense: DenseIndex | None, timed: TimedEmbedder | None, reps: int) -> dict[str, Any]:
    """Every question `reps` times: per-stage, total and model-inference milliseconds, and how many were found."""
    with ModelPerStage(timed) as mps:
        return _measure(store, dense, timed, reps, mps)


def _measure(store: SQLiteStore, dense: DenseIndex | None, timed: TimedEmbedder | None, reps: int,
             mps: ModelPerStage) -> dict[str, Any]:
    answerer = Answerer(store, dense=dense)
    t = time.perf_counter()
    answerer.ask(WARM_UP[0])  # the first question builds the name lexicon and frequency caches
    first = (time.perf_counter() - t) * 1000
    for q in WARM_UP[1:]:
        answerer.ask(q)
    per: dict[str, list[float]] = {s: [] for s in STAGES}
    total: list[float] = []
    other: list[float] = []
    model: list[float] = []
    model_per: dict[str, list[float]] = {s: [] for s in STAGES}
    slow: list[tuple[float, str, dict[str, float]]] = []
    found = 0
    for _ in range(reps):
        for q in QUESTIONS:
            if dense is not None:
                with dense._lock:
                    dense._cache.clear()  # as a new question: its embeddings are computed, not cached
            before = timed.ms if timed else 0.0
            mps.start()
            t = time.perf_counter()
            ans = answerer.ask(q)
            ms = (time.perf_counter() - t) * 1000
            stages = answerer.last_stages.ms
            for s in STAGES:
                per[s].append(stages.get(s, 0.0))  # a stage a question skips costs it nothing
            total.append(ms)
            other.append(max(0.0, ms - sum(stages.values())))
            model.append((timed.ms - before) if timed else 0.0)
            for s in STAGES:
                model_per[s].append(mps.ms.get(s, 0.0))
            slow.append((ms, q, dict(stages)))
            found += bool(ans.found)
    unknown = sorted({k for k in answerer.last_stages.ms if k not in STAGES})
    slowest: dict[str, tuple[float, str, dict[str, float]]] = {}
    for ms, q, st in sorted(slow, reverse=True):
        slowest.setdefault(q, (ms, q, st))
    return {"per": per, "total": total, "other": other, "model": model, "model_per": model_per, "found": found,
            "asked": len(total), "first": first, "unknown": unknown, "slowest": list(slowest.values())[:4]}


def report(label: str, r: dict[str, Any], target: float, note: str = "") -> tuple[str, float, float, bool]:
    print(f"\n{label}{note}")
    with_model = any(r["model"])
    print(f"  {'stage':<34}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}"
          + ("   model inference in it: p50 / p95 / mean ms" if with_model else ""))
    rows = [(s, r["per"][s]) for s in STAGES] + [("(outside the stages)", r["other"])]
    for name, xs in rows:
        p50, p95 = p50_p95(xs)
        extra = ""
        if with_model and name in r["model_per"]:
            m = r["model_per"][name]
            m50, m95 = p50_p95(m)
            extra = f"   {m50:7.1f} / {m95:6.1f} / {float(np.mean(m)):6.1f}" if any(m) else ""
        print(f"  {name:<34}{p50:9.1f}{p95:9.1f}{float(np.mean(xs)):9.1f}{extra}")
    if any(r["model"]):
        p50, p95 = p50_p95(r["model"])
        print(f"  {'model inference, all stages':<34}{p50:9.1f}{p95:9.1f}{float(np.mean(r['model'])):9.1f}"
              "   (query, quote and sentence embeddings)")
    p50, p95 = p50_p95(r["total"])
    ok = p95 <= target
    print(f"  {'TOTAL (ask)':<34}{p50:9.1f}{p95:9.1f}{float(np.mean(r['total'])):9.1f}"
          f"   target p95 <= {target:,.0f} ms: {'PASS' if ok else 'MISS'}")
    means = {s: float(np.mean(r["per"][s])) for s in STAGES}
    tot = float(np.mean(r["total"])) or 1.0
    top = sorted(means, key=lambda s: -means[s])[:2]
    print(f"  dominant: {top[0]} {means[top[0]] / tot:.0%} of the mean, then {top[1]} {means[top[1]] / tot:.0%};"
          f" found {r['found']}/{r['asked']}; first question (cold caches) {r['first']:.0f} ms"
          + (f"; unlisted stages {r['unknown']}" if r["unknown"] else ""))
    print("  slowest questions: " + "; ".join(
        f"{q!r} {ms:.0f} ms (" + ", ".join(f"{k} {v:.0f}" for k, v in sorted(st.items(), key=lambda kv: -kv[1])[:2])
        + ")" for ms, q, st in r["slowest"]))
    return label, p50, p95, ok


def build_bbc(path: str) -> None:
    """Seeds + BBC ingested, stories assigned and every passage embedded, from empty."""
    store = SQLiteStore(path)
    t = time.perf_counter()
    rep = Ingester(store, extract_quotes=extract_quotes).ingest([str(CORPUS / "seeds"), str(CORPUS / "bbc")])
    StoryIndex(store).catch_up()
    print(f"ingested seeds + BBC: {rep.summary()} ({time.perf_counter() - t:.0f} s)")
    embedder = load_embedder("auto")
    if embedder is None:
        print("no embedder: passages left unembedded")
    else:
        t = time.perf_counter()
        n = embed_pending(store, embedder)
        s = time.perf_counter() - t
        print(f"embedded {n:,} passages from empty in {s:.0f} s ({n / max(s, 1e-9):.1f} passages/s)")
    store.close()


def run_corpus(name: str, path: str, embedder: TimedEmbedder | None, reps: int, target_dense: float,
               results: list[tuple[str, float, float, bool]]) -> None:
    store = SQLiteStore(path)
    n_docs, n_pass = store.count_documents(), store.count_passages()
    print(f"\n== {name}: {n_docs:,} documents, {n_pass:,} passages ==")
    if embedder is not None:
        dense = DenseIndex(store, embedder)
        t = time.perf_counter()
        dense.refresh(force=True)
        print(f"dense index: {len(dense):,} vectors loaded in {time.perf_counter() - t:.1f} s; "
              f"RSS now {rss_mb():.0f} MB, peak RSS of the process {peak_mb():.0f} MB (model + index loaded)")
        r = measure(store, dense, embedder, reps)
        results.append(report(f"({len(results) + 1}) {name}, with the embedder", r, target_dense,
                              f" — {len(QUESTIONS)} questions x {reps}"))
        del dense
    r = measure(store, None, None, reps)
    results.append(report(f"({len(results) + 1}) {name}, lexical-only (dense=None)", r, TARGET_LEXICAL,
                          f" — {len(QUESTIONS)} questions x {reps}"))
    print(f"peak RSS of the process so far: {peak_mb():.0f} MB; load average {os.getloadavg()[0]:.2f}")
    store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("--quick", action="store_true", help="BBC size only")
    ap.add_argument("--db", help="a seeds + BBC database already ingested and embedded (copied, not written)")
    ap.add_argument("--n100k", type=int, default=100_000, help="documents in the large corpus")
    ap.add_argument("--db100k", help="reuse (or build and keep) the large database here")
    ap.add_argument("--reps", type=int, default=3, help="times each question is asked")
    a = ap.parse_args()

    print(f"start: RSS {rss_mb():.0f} MB; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
          " (other processes share the CPUs: figures rise with the load)")
    t = time.perf_counter()
    inner = load_embedder("auto")
    embedder = TimedEmbedder(inner) if inner is not None else None
    if embedder is None:
        print("NO EMBEDDER could be loaded: only the lexical-only runs are measured")
    else:
        print(f"embedder {embedder.name} loaded in {time.perf_counter() - t:.1f} s; RSS {rss_mb():.0f} MB,"
              f" peak {peak_mb():.0f} MB")
    results: list[tuple[str, float, float, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bbc = f"{tmp}/bbc.db"
        if a.db:
            copy_db(a.db, bbc)
            print(f"seeds + BBC from {a.db} (copied to a temporary file)")
        else:
            build_bbc(bbc)
        run_corpus("seeds + BBC", bbc, embedder, a.reps, TARGET_DENSE_BBC, results)
        if not a.quick:
            big = f"{tmp}/big.db"
            if a.db100k and Path(a.db100k).exists():
                copy_db(a.db100k, big)
                print(f"\nlarge corpus from {a.db100k} (copied to a temporary file)")
            else:
                t = time.perf_counter()
                model = embedder.name if embedder is not None else "all-MiniLM-L6-v2-onnx-int8"
                out = subprocess.run([sys.executable, str(ROOT / "bench" / "_synth.py"), bbc, big,
                                      "--docs", str(a.n100k), "--model", model],
                                     check=True, capture_output=True, text=True)
                print(f"\nlarge corpus built in {time.perf_counter() - t:.0f} s (bench/_synth.py, own process): "
                      f"{out.stdout.strip()}")
                if a.db100k:
                    copy_db(big, a.db100k)
            print("  synthetic articles: halves of two BBC articles each, unique titles, quotes carried; each passage"
                  " has the stored MiniLM vector of the identical BBC passage (real embeddings, not random;"
                  " not re-embedded); no stories assigned to them.\n  Caveat: each BBC passage recurs in ~48 synthetic"
                  " articles, so identical sentences are embedded once per question and duplicates crowd the candidates:"
                  " selection's model time here is lower than on 100,000 distinct articles (take BBC size's)")
            run_corpus(f"{a.n100k:,} documents", big, embedder, a.reps, TARGET_DENSE_BIG, results)

    print("\nSummary (total time per ask; every stage above is a part of it)")
    for label, p50, p95, ok in results:
        print(f"  {label:<60} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {'PASS' if ok else 'MISS'}")
    print(f"targets: p95 <= {TARGET_DENSE_BBC:.0f} ms with the embedder at BBC size, <= {TARGET_DENSE_BIG:,.0f} ms"
          f" at 100k, lexical-only <= {TARGET_LEXICAL:.0f} ms; peak RSS of this process {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
