"""A large corpus for the benches: stored articles recombined into new ones, with their passage vectors.

    .venv/bin/python bench/_synth.py SRC.db DST.db [--docs 100000] [--model NAME]

DST becomes a copy of SRC grown to `--docs` documents. Each new article is the first half of one stored
article's passages followed by the second half of another's, under a unique title: real text, so BM25,
quotes and sentences behave as on news (quotes are carried with their passage). Every passage of a new
article is word for word a stored passage, so its vector is that passage's stored vector (the embedding of
the same text, not a random one): the dense index is searched over real vectors without re-embedding
~500,000 passages. New articles get no story (stories are assigned by ingest; left unassigned here).

Run as its own process by bench/ask.py so building it does not count in the bench's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain import Passage, Quote  # noqa: E402
from bot.store.base import NewDocument  # noqa: E402
from bot.store.sqlite import PASSAGE_ID_STRIDE, SQLiteStore  # noqa: E402

BATCH = 2_000  # documents a transaction


def copy_db(src: str, dst: str) -> None:
    """A consistent copy of a SQLite database (its WAL included), via the backup API."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


Unit = tuple[str, list[Quote], bytes | None]  # a passage's text, its quotes (offsets from its start), its vector


def units_of(store: SQLiteStore, model: str) -> list[tuple[str, str | None, str | None, list[Unit]]]:
    """Every stored document as (title, outlet, published, its passages with their quotes and vectors)."""
    vec: dict[int, bytes] = {}
    after = 0
    while True:
        page = store.passage_vectors(model, after=after, limit=20_000)
        if not page:
            break
        vec.update((pid, blob) for _, pid, _, _, blob in page)
        after = page[-1][0]
    quotes: dict[int, list[Quote]] = {}
    for r in store.quotes():
        quotes.setdefault(r.doc_id, []).append(r.quote)
    docs = store.documents_by_id([d.id for d in store.list_documents()])
    out = []
    for d in docs.values():
        units: list[Unit] = []
        for p in d.passages:
            qs = []
            for q in quotes.get(d.id, []):
                if not (p.start <= q.start and q.end <= p.end):
                    continue
                sp_in = q.speaker_start is not None and q.speaker_end is not None and \
                    p.start <= q.speaker_start and q.speaker_end <= p.end
                qs.append(replace(q, start=q.start - p.start, end=q.end - p.start,
                                  speaker_start=q.speaker_start - p.start if sp_in and q.speaker_start is not None else None,
                                  speaker_end=q.speaker_end - p.start if sp_in and q.speaker_end is not None else None))
            units.append((d.text[p.start:p.end], qs, vec.get(d.id * PASSAGE_ID_STRIDE + p.ordinal)))
        if units:
            out.append((d.title, d.outlet, d.published, units))
    return out


def grow(src: str, dst: str, docs: int, model: str, seed: int = 11, log: bool = True) -> dict[str, float]:
    """Copy src to dst and add recombined articles until dst holds `docs` documents; figures of the build."""
    t0 = time.perf_counter()
    copy_db(src, dst)
    store = SQLiteStore(dst)
    base = units_of(store, model)
    titles = {d.title for d in store.list_documents()}
    have = store.count_documents()
    rng = random.Random(seed)
    k, added, vectors, missing = 0, 0, 0, 0
    while have + added < docs:
        vec_rows: list[tuple[int, bytes]] = []
        with store.batch():
            for _ in range(min(BATCH, docs - have - added)):
                k += 1
                ta, outlet, published, ua = base[k % len(base)]
                tb, _, _, ub = base[rng.randrange(len(base))]
                parts = ua[:(len(ua) + 1) // 2] + ub[len(ub) // 2:]
                title = f"{ta}: {tb.lower()}"
                while title in titles:
                    title = f"{ta}: {tb.lower()} ({rng.randrange(10**6)})"
                titles.add(title)
                text, passages, quotes, blobs = "", [], [], []
                for i, (ptext, pquotes, blob) in enumerate(parts):
                    if text:
                        text += "\n\n"
                    start = len(text)
                    text += ptext
                    passages.append(Passage(i, start, len(text), ptext))
                    quotes += [replace(q, start=q.start + start, end=q.end + start, passage=i,
                                       speaker_start=None if q.speaker_start is None else q.speaker_start + start,
                                       speaker_end=None if q.speaker_end is None else q.speaker_end + start)
                               for q in pquotes]
                    blobs.append(blob)
                doc_id = store.put_document(NewDocument(
                    location=f"synthetic://bench/{k}", title=title, text=text, outlet=outlet, published=published,
                    content_hash=hashlib.sha256(f"{k}\n{title}\n{text}".encode()).hexdigest(),
                    passages=passages, quotes=quotes))
                for p, blob in zip(passages, blobs, strict=True):
                    if blob is None:
                        missing += 1
                    else:
                        vec_rows.append((doc_id * PASSAGE_ID_STRIDE + p.ordinal, blob))
                added += 1
        vectors += store.put_vectors(model, vec_rows)
        if log:
            print(f"  synthetic: {have + added:,}/{docs:,} documents ({time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr, flush=True)
    figures = {"documents": float(store.count_documents()), "passages": float(store.count_passages()),
               "added": float(added), "vectors_added": float(vectors), "without_vector": float(missing),
               "seconds": time.perf_counter() - t0}
    store.close()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--model", default="all-MiniLM-L6-v2-onnx-int8")
    a = ap.parse_args()
    f = grow(a.src, a.dst, a.docs, a.model)
    print(" ".join(f"{k}={v:.0f}" for k, v in f.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
