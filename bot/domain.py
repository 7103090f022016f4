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

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "citations": [c.to_json() for c in self.citations],
            "why": self.why,
            "backend": self.backend,
            "usage": self.usage,
        }
