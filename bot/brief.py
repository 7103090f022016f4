"""Briefs: per story, a headline, summary, cited key points, attributed quotes, where outlets differ.

The extractive summarizer (default, offline): every point is a verbatim sentence with its citation. Another
`Summarizer` may write the briefs instead (bot.brief_llm's through a model); this module imports no LLM code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.brief_rules import (
    leads_with_reference,
    names_someone,
    narrates,
    number_by_document,
    outlet_name,
    person_words_from_an_organisation,
    reported,
    speaker_name,
)
from bot.differences import figure_differences, framing, headline_and_lead, lead_sentence
from bot.domain import Brief, BriefQuote, Citation, Document, KeyPoint, StoryBrief
from bot.quotes.marks import find_quotations
from bot.store.base import QuoteRow
from bot.stories import Story, cosine, entities, terms
from bot.story_index import StoryIndex, StoryStore
from bot.text import content_terms, sentences_in, stem

MAX_POINTS = 5
MAX_QUOTES = 5
MAX_POINT_CHARS = 480  # a point and the sentence it leans on, together
SAME_POINT = 0.3  # story-local cosine above which two sentences say the same thing
SAME_QUOTE = 0.8  # share of the shorter quote's words another quote has: the same words said
HEADLINE_MAX = 110  # a longer title is a first sentence a page gave for want of a headline


@dataclass
class Candidate:
    """A sentence of a story ranked as a key point; `before` is the sentence just before it."""

    score: float
    doc: Document
    start: int
    end: int
    vector: dict[str, float]
    before: tuple[int, int] | None = None

    @property
    def text(self) -> str:
        return self.doc.text[self.start:self.end]


def cite(n: int, doc: Document, a: int, b: int) -> Citation:
    """A citation of doc.text[a:b]."""
    return Citation(n=n, source=doc.location, text=doc.text[a:b], doc_id=doc.id, start=a, end=b, title=doc.title,
                    url=doc.url, outlet=doc.outlet)


def _cite(doc: Document, a: int, b: int) -> Citation:
    return cite(0, doc, a, b)  # numbered per document once the brief is complete


def all_sentences(doc: Document) -> list[tuple[int, int]]:
    """Every sentence of a document, passage by passage, as (start, end) offsets."""
    out = []
    for p in doc.passages or []:
        out.extend(sentences_in(doc.text, p.start, p.end))
    return out


def quotation_spans(doc: Document) -> list[tuple[int, int]]:
    """Where the document's quotations lie, marks included (a quotation left open: to the end of its text)."""
    return [(q.o, q.c + 1 if q.closed else q.end) for q in find_quotations(doc.text)[1]]


def _in_quotation(a: int, b: int, quoted: list[tuple[int, int]]) -> bool:
    return any(s < b and a < e for s, e in quoted)


def commentary_from(doc: Document, quoted: list[tuple[int, int]]) -> tuple[int, list[tuple[int, int]]]:
    """Where a document stops reporting: the passages holding a sentence that reports nothing (a reader's comment in
    the first person, an exclamation, a team line-up), and the offset past the text's middle from which every
    passage is such a tail (readers' comments and line-ups close an article)."""
    skipped: list[tuple[int, int]] = []
    # a sentence is judged without the `quoted` spans it is part of: a quotation running over several sentences
    # ("We have looked at the comments. … That is the end of it.") is someone's words, not a reader's "we"
    for p in doc.passages or []:
        if not all(reported(_unquoted(doc.text, a, b, quoted)) for a, b in sentences_in(doc.text, p.start, p.end)):
            if p.start > len(doc.text) // 2:
                return p.start, skipped
            skipped.append((p.start, p.end))
    return len(doc.text), skipped


def closing_commentary(doc: Document, least: int = 2) -> int:
    """Where the run of passages that report nothing and close an article begins (readers' comments, a team
    line-up), when it holds at least `least` passages and starts past the text's middle; else the text's length.
    Stricter than `commentary_from`: a passage in the first person among reported ones ends no article."""
    quoted = quotation_spans(doc)
    start = len(doc.text)
    run = 0
    for p in reversed(doc.passages or []):
        if all(reported(_unquoted(doc.text, a, b, quoted)) for a, b in sentences_in(doc.text, p.start, p.end)):
            break
        start, run = p.start, run + 1
    return start if run >= least and start > len(doc.text) // 2 else len(doc.text)


def _unquoted(text: str, a: int, b: int, quoted: list[tuple[int, int]]) -> str:
    """text[a:b] without the parts inside the quotations `quoted` (start, end) that overlap it."""
    parts: list[str] = []
    pos = a
    for s, e in quoted:
        if e <= pos or s >= b:
            continue
        parts.append(text[pos:max(pos, s)])
        pos = min(max(pos, e), b)
    parts.append(text[pos:b])
    return " ".join(p for p in parts if p.strip())


def _sentences(doc: Document) -> list[tuple[int, int]]:
    return [(a, b) for a, b in all_sentences(doc) if 40 <= b - a <= 400]


def _unit(tf: dict[str, int] | dict[str, float]) -> dict[str, float]:
    norm = sum(v * v for v in tf.values()) ** 0.5 or 1.0
    return {t: v / norm for t, v in tf.items()}


def _quoted(text: str) -> bool:
    return sum(text.count(m) for m in "“”\"") >= 2


class Summarizer(Protocol):
    """What writes one story's brief: this module's extractive summarizer, or bot.brief_llm's."""

    name: str

    def story_brief(self, story: Story, quotes: list[QuoteRow]) -> StoryBrief:
        """The story's brief; its quotes come from the stored quote index."""
        ...


class ExtractiveSummarizer:
    """Builds a StoryBrief from a story's documents and their stored quotes.

    `outlet_names` maps a source location prefix to the name the operator gave it.
    """

    name = "extractive"

    def __init__(self, outlet_names: dict[str, str] | None = None) -> None:
        self.outlet_names = outlet_names or {}

    def story_brief(self, story: Story, quotes: list[QuoteRow]) -> StoryBrief:
        docs = story.documents
        central, lead, cands = self.ranked(story)
        summary = central.text[lead[0]:lead[1]] if lead else central.title
        taken = [_unit(dict(terms(summary)))] if lead else []
        points = self.points(cands, taken, skip={(central.id, lead[0])} if lead else set())
        diffs = figure_differences(docs, _sentences, _cite, self.outlet_names)
        frame = framing(docs, lead_sentence, _cite, self.outlet_names, central=central)
        if frame:
            diffs.append(frame)
        return number_by_document(StoryBrief(
            story_id=story.id, headline=headline_of(central, docs), summary=summary, key_points=points,
            quotes=self._quotes(quotes, story.vector), differences=diffs,
            entities=entities(docs), sources=[self._source(d) for d in docs]))

    def points(self, cands: list[Candidate], taken: list[dict[str, float]],
               skip: set[tuple[int, int]] | None = None, limit: int = MAX_POINTS) -> list[KeyPoint]:
        """The best sentences that stand alone (or with the sentence before them cited too), no two alike."""
        out: list[KeyPoint] = []
        used = set(skip or ())
        for c in cands[:300]:
            if len(out) >= limit:
                break
            if (c.doc.id, c.start) in used:
                continue
            spans = [(c.start, c.end)]
            if leads_with_reference(c.text):
                b = c.before
                if b is None or (c.doc.id, b[0]) in used or c.end - b[0] > MAX_POINT_CHARS:
                    continue
                before = c.doc.text[b[0]:b[1]]
                if leads_with_reference(before) or _quoted(before) or not names_someone(before):
                    continue  # "the trio" is not resolved by a sentence that names nobody
                spans.insert(0, b)
            text = " ".join(c.doc.text[a:b] for a, b in spans)
            vec = _unit(dict(terms(text)))
            if any(cosine(vec, o) > SAME_POINT for o in taken):
                continue
            taken.append(vec)
            used.update((c.doc.id, a) for a, _ in spans)
            out.append(KeyPoint(text=text, citations=[_cite(c.doc, a, b) for a, b in spans]))
        return out

    def ranked(self, story: Story) -> tuple[Document, tuple[int, int] | None, list[Candidate]]:
        """The story's central document, its lead sentence, and every sentence ranked as a key point.

        A sentence ranks high when it states what several outlets report: its words are weighted by
        story-local IDF, so the names every article repeats count little.
        """
        docs = story.documents
        central = max(docs, key=lambda d: cosine(_unit(dict(terms(d.text))), story.vector))
        lead = lead_sentence(central)
        if lead and leads_with_reference(central.text[lead[0]:lead[1]]):
            lead = None
        doc_terms = {d.id: set(terms(d.text)) for d in docs}
        df: dict[str, int] = defaultdict(int)
        for ts in doc_terms.values():
            for t in ts:
                df[t] += 1
        n_docs = len(docs)

        def local(tf: dict[str, int]) -> dict[str, float]:
            return _unit({t: c * math.log((n_docs + 1) / (df.get(t, 0) + 0.5)) for t, c in tf.items()})

        cands: list[Candidate] = []
        for d in docs:
            every = all_sentences(d)
            quoted = quotation_spans(d)
            tail, skipped = commentary_from(d, quoted)
            for i, (a, b) in enumerate(every):
                if not 40 <= b - a <= 400 or a >= tail or any(s <= a < e for s, e in skipped):
                    continue
                if _in_quotation(a, b, quoted):
                    continue  # a sentence of someone's quotation, running over several sentences, is theirs: a quote
                text = d.text[a:b]
                if _quoted(text) or text.count("“") != text.count("”") or text.count('"') % 2 or not text[0].isupper():
                    continue  # quotes have their own section; a sentence cut inside a quote is no point
                tf = terms(text)
                ts = set(tf)
                # words this sentence shares with other outlets (not with all: those are the names)
                support = sum(math.log((n_docs + 1) / df[t]) for t in ts if df[t] >= 2) / math.sqrt(max(1, len(ts)))
                rel = support + 0.3 * cosine(_unit(dict(tf)), story.vector) + (0.1 if i < 4 else 0.0)
                # the sentence before, which a point leaning on it shows too, must not be someone's words either
                before = every[i - 1] if i and not _in_quotation(*every[i - 1], quoted) else None
                cands.append(Candidate(rel, d, a, b, local(tf), before))
        cands.sort(key=lambda c: -c.score)
        return central, lead, cands

    def _quotes(self, rows: list[QuoteRow], centre: dict[str, float]) -> list[BriefQuote]:
        """One quote per named speaker: whole sentences someone said, about what the story is about, each said
        once (two articles giving one quote to two people show it once)."""
        def weight(r: QuoteRow) -> float:
            q = r.quote
            return (cosine(_unit(dict(terms(q.text))), centre) + (0.1 if q.kind == "direct" else 0.0)
                    + (0.05 if q.description else 0.0) + min(len(q.text), 200) / 2000)

        per_speaker: dict[str, QuoteRow] = {}
        for r in rows:
            q = r.quote
            who = speaker_name(q.speaker)
            if who is None or q.kind == "unattributed" or len(q.text) < 25:
                continue
            if not q.text.lstrip("“\"'‘…. ([")[:1].isupper() or person_words_from_an_organisation(who, q.text) \
                    or narrates(who, q.text):
                continue  # a fragment ("higher taxes, soft crime laws"), a person's words given to a body, or the
                # reporter's words run into a quote whose closing mark the source left out
            cur = per_speaker.get(who)
            if cur is None or weight(r) > weight(cur):
                per_speaker[who] = r
        best = sorted(per_speaker.items(), key=lambda kv: -weight(kv[1]))
        out: list[BriefQuote] = []
        said: list[set[str]] = []
        for who, r in best:
            if len(out) >= MAX_QUOTES:
                break
            q = r.quote
            words = set(terms(q.text))
            if any(len(words & s) >= SAME_QUOTE * min(len(words), len(s)) for s in said):
                continue
            said.append(words)
            text = q.text.strip().rstrip(",;: ")
            c = Citation(n=0, source=r.location, text=text, doc_id=r.doc_id, start=q.start, end=q.start + len(text),
                         title=r.title, url=r.url, outlet=r.outlet)
            out.append(BriefQuote(speaker=who, description=q.description, text=text, citation=c))
        return out

    def _source(self, d: Document) -> dict[str, str | None]:
        return {"source": d.location, "title": d.title, "outlet": d.outlet, "url": d.url, "published": d.published,
                "name": outlet_name(d, self.outlet_names)}


def headline_of(central: Document, docs: list[Document]) -> str:
    """The story's headline: its central article's title, unless that is a cut first sentence ("On September 2,
    North Korean leader Kim Jong Un crossed the border …", as a page without a headline gives): then the first
    article's title that reads as a headline."""
    for d in [central] + [d for d in docs if d is not central]:
        if _headline_like(d.title):
            return d.title
    return central.title


def _headline_like(title: str) -> bool:
    """A title that is a headline: not cut off with an ellipsis, not a long sentence."""
    t = title.strip()
    return bool(t) and not t.endswith(("…", "...")) and len(t) <= HEADLINE_MAX


def about(story: Story, topic: str) -> bool:
    """A story is about a topic when the topic's words are in the headline or lead of at least a third of its
    articles (at least one): a word one article mentions in passing does not make the story about it. Words
    meet by their stems, as a question's do ("strikes" and "strike", "defence" and "defense")."""
    words = {stem(w) for w in content_terms(topic)}
    if not words:
        return True
    hits = 0
    for d in story.documents:
        head = headline_and_lead(d)
        if words <= {stem(w) for w in content_terms(head)}:
            hits += 1
    if hits >= max(1, len(story.documents) / 3):
        return True
    if not hits or len(story.documents) < 3:
        return False
    # or one headline or lead says it and most of the story's articles speak of it (five reports of the Beijing
    # summit, one headline naming it): their whole texts are read only then
    mentions = sum(words <= {stem(w) for w in content_terms(d.text)} for d in story.documents)
    return mentions >= max(3, len(story.documents) / 2)


def topic_share(story: Story, topic: str) -> float:
    """How much a story's articles speak of a topic: the share of their content words that are its words."""
    words = {stem(w) for w in content_terms(topic)}
    said = [stem(w) for d in story.documents for w in content_terms(d.title + "\n" + d.text[:20_000])]
    return sum(w in words for w in said) / max(1, len(said))


class BriefBuilder:
    """Stories of the stored documents (in scope, updated since a time, about a topic) -> Brief."""

    def __init__(self, store: StoryStore, summarizer: Summarizer | None = None, max_stories: int = 10,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.summarizer: Summarizer = summarizer or ExtractiveSummarizer()
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
            # the largest first; of those the same size, the ones that speak of the topic most (not "a court halts
            # the album of a singer signed by a footballer" before a match report)
            stories = sorted((s for s in stories if about(s, topic)),
                             key=lambda s: (-len(s.documents), -topic_share(s, topic)))
        stories = stories[: self.max_stories]
        self.index.add_vectors(stories, sources)
        before = dict(getattr(self.summarizer, "usage", {}))
        briefs = []
        for s in stories:
            quotes = self.store.quotes(doc_ids=[d.id for d in s.documents])
            briefs.append(self.summarizer.story_brief(s, quotes))
        note = "" if briefs else ("nothing new" + (f" about {topic}" if topic else "") +
                                  (f" since {since}" if since else ""))
        after = getattr(self.summarizer, "usage", {})
        usage = {k: v - before.get(k, 0) for k, v in after.items() if isinstance(v, int | float)}
        return Brief(stories=briefs, generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                     backend=self.summarizer.name, note=note, usage=usage)
