"""Stories: documents about the same event grouped across outlets, by TF-IDF similarity of their terms.

Pure functions over documents; a story's id is its earliest document's id, so it stays stable as
new articles join it.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bot.domain import Document
from bot.question import STOPWORDS

_WORD = re.compile(r"[A-Za-z][\w\-’']+")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b|\b[A-Z]{2,}\b")
_CAPS = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
TOP_TERMS = 200
JOIN_SIMILARITY = 0.3  # blend of term cosine and shared names above which a document joins a story
NAMES_PER_DOC = 12
MAX_POSTINGS = 300
MAX_CANDIDATES = 30  # cosine only against the earlier documents sharing the most names  # a very common name ("Mr Blair") only links to its most recent documents


@dataclass
class Story:
    """Documents about one event, with when it was first and last seen."""

    id: int
    documents: list[Document] = field(default_factory=list)
    vector: dict[str, float] = field(default_factory=dict)

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(d.outlet or _site(d.location) for d in self.documents))

    @property
    def first_seen(self) -> str:
        return min(_when(d) for d in self.documents)

    @property
    def last_seen(self) -> str:
        return max(_when(d) for d in self.documents)


def _when(d: Document) -> str:
    return d.published or d.fetched or ""


def _site(location: str) -> str:
    if "://" in location:
        return location.split("://", 1)[1].split("/", 1)[0]
    return location.rsplit("/", 2)[-2] if "/" in location else location


def terms(text: str) -> Counter[str]:
    """Content-word counts of a text (lower case, stopwords and short words dropped)."""
    words = (w.lower().replace("’", "'").removesuffix("'s") for w in _WORD.findall(text))
    return Counter(w for w in words if len(w) > 2 and w not in STOPWORDS)


def names(doc: Document, limit: int = NAMES_PER_DOC) -> set[str]:
    """The names a document mentions most: who and where identify an event better than words."""
    c = Counter(m.group(0) for m in _CAPS.finditer(doc.text) if m.group(0).split()[0].lower() not in STOPWORDS)
    return {n for n, _ in c.most_common(limit)}


def vectors(docs: list[Document]) -> dict[int, dict[str, float]]:
    """Unit-length TF-IDF vectors of each document's top terms (title words count double)."""
    tfs = {d.id: terms(d.text) + terms(d.title) + terms(d.title) for d in docs}
    df: Counter[str] = Counter()
    for tf in tfs.values():
        df.update(tf.keys())
    n = len(docs)
    out = {}
    for doc_id, tf in tfs.items():
        w = {t: (1 + math.log(c)) * (math.log((n + 1) / (df[t] + 1)) + 1) for t, c in tf.items()}
        top = dict(sorted(w.items(), key=lambda kv: -kv[1])[:TOP_TERMS])
        norm = math.sqrt(sum(v * v for v in top.values())) or 1.0
        out[doc_id] = {t: v / norm for t, v in top.items()}
    return out


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Dot product of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def similarity(va: dict[str, float], vb: dict[str, float], na: set[str], nb: set[str]) -> float:
    """Half term cosine, half share of the smaller name set the two documents have in common."""
    shared = len(na & nb) / max(1, min(len(na), len(nb)))
    return 0.5 * cosine(va, vb) + 0.5 * shared


def group(docs: list[Document], threshold: float = JOIN_SIMILARITY) -> list[Story]:
    """Stories of documents, oldest first: each joins the story of its most similar earlier document."""
    docs = sorted(docs, key=lambda d: (_when(d), d.id))
    vecs = vectors(docs)
    nms = {d.id: names(d) for d in docs}
    stories: list[Story] = []
    story_of: dict[int, int] = {}
    postings: dict[str, list[int]] = defaultdict(list)  # name -> earlier documents mentioning it
    for d in docs:
        shared: Counter[int] = Counter(i for n in nms[d.id] for i in postings.get(n, ())[-MAX_POSTINGS:])
        best, best_sim = None, threshold
        for other, _ in shared.most_common(MAX_CANDIDATES):
            sim = similarity(vecs[d.id], vecs[other], nms[d.id], nms[other])
            if sim >= best_sim:
                best, best_sim = story_of[other], sim
        if best is None:
            stories.append(Story(id=d.id))
            best = len(stories) - 1
        stories[best].documents.append(d)
        story_of[d.id] = best
        for n in nms[d.id]:
            postings[n].append(d.id)
    for s in stories:
        total: Counter[str] = Counter()
        for d in s.documents:
            total.update(vecs[d.id])
        norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
        s.vector = {t: v / norm for t, v in total.items()}
    return stories


def entities(docs: list[Document], limit: int = 8) -> list[str]:
    """The names most documents of a story mention."""
    c: Counter[str] = Counter()
    for d in docs:
        c.update(set(m.group(0) for m in _NAME.finditer(d.text)))
    names = [n for n, k in c.most_common(limit * 3) if n.split()[0].lower() not in STOPWORDS]
    # keep "Kim Jong Un" and drop its parts when both appear
    keep: list[str] = []
    for n in names:
        if not any(n in k for k in keep):
            keep.append(n)
    return keep[:limit]
