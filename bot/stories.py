"""Stories: documents about the same event grouped across outlets, by the names and rare terms they share,
their dates and, once their passages are embedded, what their leads mean.

Pure functions over documents and their profiles (no store access): `assign` places new documents
into existing stories or starts new ones; `group` is the same from nothing. A story's id is its
first document's id, so it stays stable as new articles join it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from bot.domain import Document
from bot.text import STOPWORDS, tokens

_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b|\b[A-Z]{2,}\b")
_CAPS = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
TOP_TERMS = 200
JOIN_SIMILARITY = 0.3  # blend of term cosine and shared names above which a document joins a story
NAMES_PER_DOC = 12
MAX_POSTINGS = 300  # a very common name ("Mr Blair") only links to its most recent documents
MAX_CANDIDATES = 30  # cosine only against the earlier documents sharing the most names
MAX_SPAN_DAYS = 14  # dated articles further apart than this report different events
COHESION = 0.32  # a document joins a story when it is like the better half of its recent articles ...
COHESION_SAMPLE = 8  # ... of this many: a chain of look-alikes does not grow one topic-wide story
# What a document's lead means (its first passages' embedding), when `briefbot embed` has run. Measured over
# BBC: leads of unrelated articles have cosine 0.09 on average (99th percentile 0.43); the seeds' five
# reports of one event 0.56 and above; articles sharing names but reporting another event of the same
# topic (a rugby preview and the match report, Gazprom's tax claim and Yukos' bankruptcy) mostly below 0.4.
# Leads alike do not make one event: a topic's articles are alike too (rewarding leads above 0.75 joined
# the days of one trial and two months' US jobs figures, and no two outlets' reports of one event).
# A story of many articles reports a saga's subject ("Yukos", "Kenteris and Thanou") in all of them: what makes
# one event of it is what an article shares with another beyond that subject (the Houston court, the auction).
# Measured over BBC with the subject's words and names (those of most of the story's articles) left out: articles
# on one event of a saga 0.29-0.42, on its other events 0.11-0.24.
EVENT_SUBJECT = 0.6  # a word or name in this share of a story's articles (and at least three) is its subject
EVENT_PARTNER = 0.25  # ... beyond which a new article must be this like one of them to join
EVENT_MIN_DOCS = 4  # (a smaller story has no subject to tell apart from its event)
LEAD_PASSAGES = 2
MEANING_APART = 0.4  # leads less alike than this report different events, whatever names they share

LeadVector = npt.NDArray[np.float32]
# document ids -> the unit lead vectors of those that have one
Meaning = Callable[[list[int]], Mapping[int, LeadVector]]


@dataclass
class Story:
    """Documents about one event, with when it was first and last seen and when a document last joined."""

    id: int
    documents: list[Document] = field(default_factory=list)
    vector: dict[str, float] = field(default_factory=dict)
    updated_at: str = ""

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(d.outlet or _site(d.location) for d in self.documents))

    @property
    def first_seen(self) -> str:
        return min(_when(d) for d in self.documents)

    @property
    def last_seen(self) -> str:
        return max(_when(d) for d in self.documents)


@dataclass
class Profile:
    """What assignment needs of a document, computed once and stored with its membership."""

    doc_id: int
    when: str  # published, else fetched: documents are assigned in this order
    tf: dict[str, int]  # term counts, title words counted three times
    names: set[str]
    published: str | None = None  # the date the article gives, when it gives one

    def dumps(self) -> str:
        """The stored form (JSON of terms, names and the publication date)."""
        return json.dumps({"terms": self.tf, "names": sorted(self.names), "published": self.published},
                          separators=(",", ":"))

    @classmethod
    def loads(cls, doc_id: int, when: str, text: str) -> Profile:
        """A profile from its stored form (profiles stored before dates were kept have none)."""
        d = json.loads(text)
        return cls(doc_id=doc_id, when=when, tf=d["terms"], names=set(d["names"]), published=d.get("published"))


def _when(d: Document) -> str:
    return d.published or d.fetched or ""


def _site(location: str) -> str:
    if "://" in location:
        return location.split("://", 1)[1].split("/", 1)[0]
    return location.rsplit("/", 2)[-2] if "/" in location else location


def terms(text: str) -> Counter[str]:
    """Content-word counts of a text (lower case, stopwords and short words dropped)."""
    low = (w.lower().replace("’", "'").removesuffix("'s") for w in tokens(text, numbers=False))
    return Counter(w for w in low if len(w) > 2 and w not in STOPWORDS)


def names(doc: Document, limit: int = NAMES_PER_DOC) -> set[str]:
    """The names a document mentions most: who and where identify an event better than words."""
    c = Counter(m.group(0) for m in _CAPS.finditer(doc.text) if m.group(0).split()[0].lower() not in STOPWORDS)
    return {n for n, _ in c.most_common(limit)}


def profile(doc: Document) -> Profile:
    """A document's term counts (title words count double on top of the text's) and names."""
    tf = terms(doc.text) + terms(doc.title) + terms(doc.title)
    return Profile(doc_id=doc.id, when=_when(doc), tf=dict(tf), names=names(doc), published=doc.published)


class Vectors:
    """Unit-length TF-IDF vectors of each profile's top terms, IDF over a fixed set; computed on demand."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        for p in profiles:
            self.df.update(p.tf.keys())
            self.n += 1
        self._cache: dict[int, dict[str, float]] = {}

    def __call__(self, p: Profile) -> dict[str, float]:
        v = self._cache.get(p.doc_id)
        if v is None:
            n, df = self.n, self.df
            w = {t: (1 + math.log(c)) * (math.log((n + 1) / (df[t] + 1)) + 1) for t, c in p.tf.items()}
            top = dict(sorted(w.items(), key=lambda kv: -kv[1])[:TOP_TERMS])
            norm = math.sqrt(sum(x * x for x in top.values())) or 1.0
            v = self._cache[p.doc_id] = {t: x / norm for t, x in top.items()}
        return v


def centroid(vectors: Iterable[dict[str, float]]) -> dict[str, float]:
    """The unit-length sum of some vectors: what a story is about."""
    total: Counter[str] = Counter()
    for v in vectors:
        total.update(v)
    norm = math.sqrt(sum(x * x for x in total.values())) or 1.0
    return {t: x / norm for t, x in total.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Dot product of two unit vectors."""
    return sum(a[t] * b[t] for t in a.keys() & b.keys())  # the shared terms are few: intersect first


def similarity(va: dict[str, float], vb: dict[str, float], na: set[str], nb: set[str]) -> float:
    """Half term cosine, half share of the smaller name set the two documents have in common."""
    shared = len(na & nb) / max(1, min(len(na), len(nb)))
    return 0.5 * cosine(va, vb) + 0.5 * shared


def with_meaning(sim: float, lead_cosine: float) -> float:
    """A similarity of words and names, unless two leads are too far apart in meaning to report one event."""
    return 0.0 if lead_cosine < MEANING_APART else sim


class _Similar:
    """How alike two profiles are: words and names, and what their leads mean when both have a vector
    (fetched through `meaning` once per document, only for a document that has one itself)."""

    def __init__(self, vec: Vectors, meaning: Meaning | None) -> None:
        self.vec = vec
        self.meaning = meaning
        self.leads: dict[int, LeadVector | None] = {}

    def fetch(self, ids: Iterable[int]) -> None:
        """Look up the lead vectors of these documents not looked up before (one call for all of them)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.leads]
        if self.meaning is None or not missing:
            return
        got = self.meaning(missing)
        for i in missing:
            self.leads[i] = got.get(i)

    def __call__(self, a: Profile, b: Profile) -> float:
        sim = similarity(self.vec(a), self.vec(b), a.names, b.names)
        la, lb = self.leads.get(a.doc_id), self.leads.get(b.doc_id)
        if la is None or lb is None:
            return sim
        return with_meaning(sim, float(la @ lb))


def _order(p: Profile) -> tuple[str, int]:
    return p.when, p.doc_id


def assign(existing: list[tuple[Profile, int]], new: list[Profile], threshold: float = JOIN_SIMILARITY,
           vec: Vectors | None = None, meaning: Meaning | None = None) -> dict[int, int]:
    """The story id of each new document: the story of its most similar document, or a new story of its own.

    `existing` pairs each assigned document's profile with its story id. New documents are taken
    oldest first and may join each other; an existing document never moves. IDF is over both sets
    (or what `vec` was built over). With `meaning`, documents whose leads are embedded are also
    compared by what their leads mean.
    """
    vec = vec or Vectors([p for p, _ in existing] + new)
    alike = _Similar(vec, meaning)
    story_of = {p.doc_id: s for p, s in existing}
    by_id = {p.doc_id: p for p, _ in existing}
    postings: dict[str, list[int]] = defaultdict(list)  # name -> documents mentioning it, in assignment order

    def post(p: Profile) -> None:
        by_id[p.doc_id] = p
        for n in p.names:
            postings[n].append(p.doc_id)

    members: dict[int, list[int]] = defaultdict(list)  # story id -> its documents, in assignment order
    for p, sid in sorted(existing, key=lambda ps: _order(ps[0])):
        post(p)
        members[sid].append(p.doc_id)
    out: dict[int, int] = {}
    for p in sorted(new, key=_order):
        # sorted names: ties among candidates fall the same way in every process
        shared: Counter[int] = Counter(i for n in sorted(p.names) for i in postings.get(n, ())[-MAX_POSTINGS:])
        candidates = [other for other, _ in shared.most_common(MAX_CANDIDATES)]
        alike.fetch([p.doc_id])
        if alike.leads.get(p.doc_id) is not None:  # only then can the others' leads count
            alike.fetch(candidates + [i for c in candidates for i in members[story_of[c]][-COHESION_SAMPLE:]])
        scored: dict[int, float] = {}
        for other in candidates:
            sim = alike(p, by_id[other])
            if sim >= threshold and sim > scored.get(story_of[other], 0.0):
                scored[story_of[other]] = sim
        best = p.doc_id
        for sid, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0])):
            if _fits(p, [by_id[i] for i in members[sid]], alike):
                best = sid
                break
        story_of[p.doc_id] = out[p.doc_id] = best
        members[best].append(p.doc_id)
        post(p)
    return out


def _days(a: str, b: str) -> float:
    try:
        da, db = (datetime.fromisoformat(x[:10]) for x in (a, b))
    except ValueError:
        return 0.0
    return abs((da - db).days)


def _fits(p: Profile, story: list[Profile], alike: _Similar) -> bool:
    """Whether a document reports the event a story is about, not only its topic: close in time to
    every dated article of it (when dates are known) and like most of its recent articles, not one."""
    if p.published:
        dated = [o.published for o in story if o.published]
        if any(_days(p.published, d) > MAX_SPAN_DAYS for d in dated):
            return False  # a story that would span months is two events
    if not p.published and len(story) >= EVENT_MIN_DOCS and not _event_partner(p, story, alike.vec):
        return False  # another event of the saga the story is about (undated: nothing else tells them apart)
    recent = story[-COHESION_SAMPLE:]
    if len(recent) < 2:
        return True
    sims = sorted((alike(p, o) for o in recent), reverse=True)
    return sum(sims[: max(2, (len(sims) + 1) // 2)]) / max(2, (len(sims) + 1) // 2) >= COHESION


def _event_partner(p: Profile, story: list[Profile], vec: Vectors) -> bool:
    """Whether a document shares more than the story's subject (the words and names most of its articles hold)
    with the better half of its recent articles: like one of them is a chain that grows a saga."""
    need = max(3.0, EVENT_SUBJECT * len(story))
    terms_in = Counter(t for o in story for t in vec(o))
    names_in = Counter(n for o in story for n in o.names)
    subject = {t for t, c in terms_in.items() if c >= need}
    subject_names = {n for n, c in names_in.items() if c >= need}

    def beyond(v: dict[str, float]) -> dict[str, float]:
        kept = {t: x for t, x in v.items() if t not in subject}
        norm = math.sqrt(sum(x * x for x in kept.values())) or 1.0
        return {t: x / norm for t, x in kept.items()}

    mine, my_names = beyond(vec(p)), p.names - subject_names
    sims = []
    for o in story[-COHESION_SAMPLE:]:
        theirs = o.names - subject_names
        shared = len(my_names & theirs) / max(1, min(len(my_names), len(theirs)))
        sims.append(0.5 * cosine(mine, beyond(vec(o))) + 0.5 * shared)
    sims.sort(reverse=True)
    half = sims[: max(2, (len(sims) + 1) // 2)]
    return sum(half) / len(half) >= EVENT_PARTNER


def group(docs: list[Document], threshold: float = JOIN_SIMILARITY,
          meaning: Meaning | None = None) -> list[Story]:
    """Stories of documents, oldest first: `assign` of all of them to no existing story."""
    profiles = sorted((profile(d) for d in docs), key=_order)
    vec = Vectors(profiles)
    story_of = assign([], profiles, threshold, vec, meaning)
    by_id = {d.id: d for d in docs}
    stories: dict[int, Story] = {}
    members: dict[int, list[Profile]] = defaultdict(list)
    for p in profiles:
        sid = story_of[p.doc_id]
        stories.setdefault(sid, Story(id=sid)).documents.append(by_id[p.doc_id])
        members[sid].append(p)
    for story in stories.values():
        story.vector = centroid(vec(p) for p in members[story.id])
    return list(stories.values())


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
