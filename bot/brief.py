"""Briefs: per story, a headline, summary, cited key points, attributed quotes, where outlets differ.

The extractive summarizer (default, offline): every point is a verbatim sentence with its citation.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from bot.domain import Brief, BriefQuote, Citation, Difference, Document, KeyPoint, StoryBrief
from bot.search import sentences_in
from bot.store.base import QuoteRow
from bot.stories import Story, cosine, entities, terms
from bot.story_index import StoryIndex

MAX_POINTS = 5
Candidate = tuple[float, Document, int, int, dict[str, float]]  # score, document, start, end, term vector
MAX_QUOTES = 5
_NUMBER_NOUN = re.compile(r"\b(\d[\d,.]*)\s+(?:million\s+|billion\s+)?([a-z]{3,})\b")
# "put the number of waiting vessels at 11"
_NOUN_NUMBER = re.compile(r"\b(?:number|count|total|tally) of (?:[a-z]+ )?([a-z]{3,}) (?:at|to|as) (\d[\d,.]*)\b")
_FRAMING = re.compile(r"\b(?:described|calls?|called|as an?|is an?|was an?|amounts? to|marks?|signals?|remains?|"
                      r"more than|rather than|nothing more than|not\s+\w+\s+but|record(?:ed)? as|opening act)\b",
                      re.I)


def cite(n: int, doc: Document, a: int, b: int) -> Citation:
    """A citation of doc.text[a:b]."""
    return Citation(n=n, source=doc.location, text=doc.text[a:b], doc_id=doc.id, start=a, end=b, title=doc.title,
                    url=doc.url, outlet=doc.outlet)


def _sentences(doc: Document) -> list[tuple[int, int]]:
    out = []
    for p in doc.passages or []:
        out.extend(sentences_in(doc.text, p.start, p.end))
    return [(a, b) for a, b in out if 40 <= b - a <= 400]


def _unit(tf: dict[str, int] | dict[str, float]) -> dict[str, float]:
    norm = sum(v * v for v in tf.values()) ** 0.5 or 1.0
    return {t: v / norm for t, v in tf.items()}


class ExtractiveSummarizer:
    """Builds a StoryBrief from a story's documents and their stored quotes."""

    name = "extractive"

    def story_brief(self, story: Story, quotes: list[QuoteRow]) -> StoryBrief:
        docs = story.documents
        n = 0

        def next_n() -> int:
            nonlocal n
            n += 1
            return n

        central, lead, cands = self.ranked(story)
        summary = central.text[lead[0]:lead[1]] if lead else central.title
        chosen: list[Candidate] = []
        for c in cands[:300]:
            if len(chosen) >= MAX_POINTS:
                break
            if lead and c[1] is central and c[2] == lead[0]:
                continue  # already the summary
            if any(cosine(c[4], o[4]) > 0.3 for o in chosen):
                continue
            chosen.append(c)
        points = [KeyPoint(text=d.text[a:b], citations=[cite(next_n(), d, a, b)]) for _, d, a, b, _ in chosen]
        return StoryBrief(
            story_id=story.id, headline=central.title, summary=summary, key_points=points,
            quotes=self._quotes(quotes, next_n, story.vector), differences=self._differences(docs, next_n),
            entities=entities(docs), sources=[_source(d) for d in docs])

    def ranked(self, story: Story) -> tuple[Document, tuple[int, int] | None, list[Candidate]]:
        """The story's central document, its lead sentence, and every sentence ranked as a key point.

        A sentence ranks high when it states what several outlets report: its words are weighted by
        story-local IDF, so the names every article repeats count little.
        """
        docs = story.documents
        central = max(docs, key=lambda d: cosine(_unit(dict(terms(d.text))), story.vector))
        first = _sentences(central)[:1]
        doc_terms = {d.id: set(terms(d.text)) for d in docs}
        df: dict[str, int] = defaultdict(int)
        for ts in doc_terms.values():
            for t in ts:
                df[t] += 1
        n_docs = len(docs)

        def local(text: str) -> dict[str, float]:
            tf = terms(text)
            return _unit({t: c * math.log((n_docs + 1) / (df.get(t, 0) + 0.5)) for t, c in tf.items()})

        cands: list[Candidate] = []
        for d in docs:
            for i, (a, b) in enumerate(_sentences(d)):
                text = d.text[a:b]
                if sum(text.count(m) for m in "“”\"") >= 2 and n_docs > 1:
                    continue  # quotes have their own section
                ts = set(terms(text))
                # words this sentence shares with other outlets (not with all: those are the names)
                support = sum(math.log((n_docs + 1) / df[t]) for t in ts if df[t] >= 2) / math.sqrt(max(1, len(ts)))
                rel = support + 0.3 * cosine(_unit(dict(terms(text))), story.vector) + (0.1 if i < 3 else 0.0)
                cands.append((rel, d, a, b, local(text)))
        cands.sort(key=lambda c: -c[0])
        return central, (first[0] if first else None), cands

    def _quotes(self, rows: list[QuoteRow], next_n: object, centre: dict[str, float]) -> list[BriefQuote]:
        """One quote per speaker: whole sentences someone said, about what the story is about."""
        def weight(r: QuoteRow) -> float:
            q = r.quote
            return (cosine(_unit(dict(terms(q.text))), centre) + (0.1 if q.kind == "direct" else 0.0)
                    + (0.05 if q.description else 0.0) + min(len(q.text), 200) / 2000)

        per_speaker: dict[str, QuoteRow] = {}
        for r in rows:
            q = r.quote
            if not q.speaker or q.kind == "unattributed" or len(q.text) < 25:
                continue
            cur = per_speaker.get(q.speaker)
            if cur is None or weight(r) > weight(cur):
                per_speaker[q.speaker] = r
        best = sorted(per_speaker.values(), key=lambda r: -weight(r))
        out = []
        for r in best[:MAX_QUOTES]:
            q = r.quote
            text = q.text.strip().rstrip(",;: ")
            c = Citation(n=next_n(), source=r.location, text=text, doc_id=r.doc_id,  # type: ignore[operator]
                         start=q.start, end=q.start + len(text), title=r.title, url=r.url, outlet=r.outlet)
            out.append(BriefQuote(speaker=q.speaker or "", description=q.description, text=text, citation=c))
        return out

    def _differences(self, docs: list[Document], next_n: object) -> list[Difference]:
        """Figures the outlets report differently, and each outlet's own framing sentence."""
        if len({d.outlet or d.location for d in docs}) < 2:
            return []
        out: list[Difference] = []
        figures: dict[str, dict[int, tuple[str, int, int]]] = defaultdict(dict)
        for d in docs:
            for a, b in _sentences(d):
                found = [(m.group(2), m.group(1)) for m in _NUMBER_NOUN.finditer(d.text, a, b)]
                found += [(m.group(1), m.group(2)) for m in _NOUN_NUMBER.finditer(d.text, a, b)]
                for noun, value in found:
                    figures[noun.rstrip("s")].setdefault(d.id, (value.rstrip(".,"), a, b))
        by_id = {d.id: d for d in docs}
        for noun, per_doc in figures.items():
            values = {v[0] for v in per_doc.values()}
            if len(per_doc) >= 2 and len(values) >= 2 and noun not in {"year", "percent", "time", "day"}:
                sides = [KeyPoint(text=f"{_name(by_id[i])}: {v[0]}",
                                  citations=[cite(next_n(), by_id[i], v[1], v[2])])  # type: ignore[operator]
                         for i, v in per_doc.items()]
                out.append(Difference(topic=f"figures for “{noun}s”", sides=sides))
        framing = []
        centre = _unit({t: 1 for d in docs for t in terms(d.title)})
        for d in docs[:4]:
            cue = [(a, b) for a, b in _sentences(d) if _FRAMING.search(d.text[a:b]) and "“" not in d.text[a:b]]
            best = max(cue, key=lambda ab: cosine(_unit(dict(terms(d.text[ab[0]:ab[1]]))), centre), default=None)
            if best:
                framing.append(KeyPoint(text=f"{_name(d)}: {d.text[best[0]:best[1]]}",
                                        citations=[cite(next_n(), d, best[0], best[1])]))  # type: ignore[operator]
        if len(framing) >= 2:
            out.append(Difference(topic="how each outlet frames it", sides=framing))
        return out[:3]


def _name(d: Document) -> str:
    return d.outlet or PurePath(d.location).name


def _source(d: Document) -> dict[str, str | None]:
    return {"source": d.location, "title": d.title, "outlet": d.outlet, "url": d.url, "published": d.published}


class BriefBuilder:
    """Stories of the stored documents (in scope, updated since a time, about a topic) -> Brief."""

    def __init__(self, store: object, summarizer: Any = None, max_stories: int = 10,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.summarizer = summarizer or ExtractiveSummarizer()
        self.max_stories = max_stories
        self.index = StoryIndex(store, clock)

    def catch_up(self) -> int:
        """Put every newly stored document into its story now; returns how many."""
        return self.index.catch_up()

    def stories(self, sources: list[str] | None = None) -> list[Story]:
        """All stories of the documents a scope may see, with their documents and term vectors."""
        stories = self.index.load(self.index.rows(sources))
        self.index.add_vectors(stories, sources)
        return stories

    def __call__(self, topic: str | None = None, sources: list[str] | None = None, since: str | None = None,
                 story_id: int | None = None) -> Brief:
        """The brief of the largest stories; with `since`, only those a document joined after that time."""
        rows = self.index.rows(sources)
        if story_id is not None:
            rows = [r for r in rows if r.id == story_id]
        if since:
            rows = [r for r in rows if r.updated_at > since]
        rows.sort(key=lambda r: (-len(r.doc_ids), r.id))
        if not topic:
            rows = rows[: self.max_stories]  # only these need their documents read
        stories = self.index.load(rows)
        if topic:
            words = [w for w in terms(topic)]
            stories = [s for s in stories if all(any(w in terms(d.text + " " + d.title) for d in s.documents)
                                                 for w in words)]
        stories = stories[: self.max_stories]
        self.index.add_vectors(stories, sources)
        before = dict(getattr(self.summarizer, "usage", {}))
        briefs = []
        for s in stories:
            quotes = self.store.quotes(doc_ids=[d.id for d in s.documents])  # type: ignore[attr-defined]
            briefs.append(self.summarizer.story_brief(s, quotes))
        note = "" if briefs else ("nothing new" + (f" about {topic}" if topic else "") +
                                  (f" since {since}" if since else ""))
        after = getattr(self.summarizer, "usage", {})
        usage = {k: v - before.get(k, 0) for k, v in after.items() if isinstance(v, int | float)}
        return Brief(stories=briefs, generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                     backend=self.summarizer.name, note=note, usage=usage)
