"""Plain dataclasses shared by every layer: documents, passages, quotes, citations, answers.

Imports nothing from the project and no third-party library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A span of a document's clean text: a paragraph or part of a long one."""

    ordinal: int
    start: int
    end: int
    text: str


@dataclass
class RawDocument:
    """What a fetcher hands to the pipeline before cleaning: text plus what is known about it."""

    location: str  # the source as ingested: a file path or the page URL
    text: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: str | None = None  # ISO 8601 when known
    html: bool = False  # text is HTML still to be extracted


@dataclass
class Document:
    """A stored article: one clean text, split into citable passages."""

    id: int
    location: str
    title: str
    text: str
    content_hash: str
    version: int = 1
    url: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: str | None = None
    fetched: str | None = None
    source_id: int | None = None
    passages: list[Passage] = field(default_factory=list)

    def to_json(self, with_text: bool = True) -> dict[str, Any]:
        d = {
            "id": self.id,
            "source": self.location,
            "title": self.title,
            "url": self.url,
            "outlet": self.outlet,
            "author": self.author,
            "published": self.published,
            "fetched": self.fetched,
            "version": self.version,
            "content_hash": self.content_hash,
        }
        if with_text:
            d["text"] = self.text
            d["passages"] = [asdict(p) for p in self.passages]
        return d


@dataclass
class Quote:
    """A quotation found in a text: the exact quoted words and who said them (if anyone)."""

    text: str  # the words inside the quote marks, exactly as in the source text
    start: int  # offsets of `text` in the document's clean text
    end: int
    speaker: str | None = None  # fullest name the article gives, or an organisation
    speaker_start: int | None = None  # offsets of the speaker mention that attributes it
    speaker_end: int | None = None
    description: str | None = None  # "a Trump trade advisor"
    role: str | None = None  # "President"
    cue: str | None = None  # "said", "warned", "described … as", "according to"
    kind: str = "direct"  # direct | partial | mixed | unattributed
    passage: int | None = None  # ordinal of the passage the quote lies in

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    """A numbered pointer to a verbatim span of a stored document."""

    n: int
    source: str
    text: str
    doc_id: int
    start: int
    end: int
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    passage: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The reply to a question, with the citations behind every claim."""

    question: str
    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    why: str = ""  # on not-found or fallback: what was searched, what went wrong
    backend: str = "extractive"
    usage: dict[str, Any] = field(default_factory=dict)
    id: str = ""  # set when stored, so feedback can point at it
    quotes: list[tuple[Quote, Citation]] = field(default_factory=list)  # speakers' words used in the answer
    turn: dict[str, Any] | None = None  # what a follow-up needs from this answer (bot.conversation.Turn as JSON)
    # a model's sentences that failed the checks and were left out: [{"sentence": ..., "why": ...}]
    dropped: list[dict[str, str]] = field(default_factory=list)
    # what became of the model's draft: verified, partly_dropped, fell_back, timed_out, refused ("" without a model)
    outcome: str = ""
    unknown: list[str] = field(default_factory=list)  # names the question asks about that no stored article mentions

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "citations": [c.to_json() for c in self.citations],
            "why": self.why,
            "backend": self.backend,
            "usage": self.usage,
            "outcome": self.outcome,
            "dropped": self.dropped,
        }


@dataclass
class KeyPoint:
    """One point of a brief, with the passages it rests on."""

    text: str
    citations: list[Citation] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "citations": [c.to_json() for c in self.citations]}


@dataclass
class BriefQuote:
    """A notable quote in a brief: verbatim words, who said them, where."""

    speaker: str
    text: str
    citation: Citation
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "description": self.description, "text": self.text,
                "citation": self.citation.to_json()}


@dataclass
class Difference:
    """Where outlets frame or report a story differently; each side cited."""

    topic: str
    sides: list[KeyPoint] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "sides": [s.to_json() for s in self.sides]}


@dataclass
class StoryBrief:
    """The brief of one story, however many outlets carried it."""

    story_id: int
    headline: str
    summary: str
    key_points: list[KeyPoint] = field(default_factory=list)
    quotes: list[BriefQuote] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)  # source, title, outlet, url, published

    def to_json(self) -> dict[str, Any]:
        return {"id": self.story_id, "headline": self.headline, "summary": self.summary,
                "key_points": [k.to_json() for k in self.key_points],
                "quotes": [q.to_json() for q in self.quotes],
                "differences": [d.to_json() for d in self.differences],
                "entities": self.entities, "sources": self.sources}


@dataclass
class Brief:
    """A digest or on-demand brief: one entry per story."""

    stories: list[StoryBrief]
    generated_at: str
    backend: str = "extractive"
    usage: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # e.g. "nothing new since the last digest"
    id: str = ""  # set when stored for a channel, so its page can be linked

    def to_json(self) -> dict[str, Any]:
        return {"stories": [s.to_json() for s in self.stories], "generated_at": self.generated_at,
                "backend": self.backend, "usage": self.usage, "note": self.note}


@dataclass
class BriefRow:
    """A brief or digest as it was posted to a channel (its JSON, so its page shows what the channel saw)."""

    id: str
    platform: str
    channel: str
    kind: str  # brief | digest
    topic: str | None
    created: str
    body: str  # bot.domain.Brief.to_json() as JSON


@dataclass
class Subscription:
    """A channel's digest: when, where, how often, about what."""

    id: int
    platform: str  # slack | discord
    channel: str
    time_of_day: str  # "08:00"
    timezone: str  # "Europe/Berlin"
    cadence: str = "daily"  # daily | weekdays | weekly
    topic: str | None = None
    created_by: str | None = None
    paused_at: str | None = None  # when it was paused (ISO, UTC); None while it runs

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Channel:
    """Where a request came from: platform and channel id (scoping and subscriptions key on it)."""

    platform: str  # slack | discord | cli
    channel: str
    user: str | None = None
