"""The answering seam: evidence in, a draft answer with [n] markers out; every backend implements it.

Imports only the domain and retrieval types; never a network library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Citation
from bot.question import Query
from bot.search import Span
from bot.store.base import QuoteRow


@dataclass
class QuoteEvidence:
    """A stored quote with the citable span (its sentence) around it."""

    row: QuoteRow
    span: Span
    score: float
    fit: float = 1.0  # how well it is on the question's topic (share of its words, or cosine)


@dataclass
class Evidence:
    """What retrieval found for a question, ready to be numbered and cited."""

    query: Query
    quotes: list[QuoteEvidence] = field(default_factory=list)
    sentences: list[Span] = field(default_factory=list)
    searched: str = ""  # human description of what was searched, for not-found replies
    missing: list[str] = field(default_factory=list)  # names the corpus never mentions
    documents: int = 0
    lead: str = ""  # for a who-question: the person the best sentence names, as fully as its article does
    asked: str = ""  # the message as typed ("and Putin?"), when it is a follow-up read as query.text
    earlier: list[str] = field(default_factory=list)  # the conversation's earlier questions, oldest first


@dataclass
class Draft:
    """A backend's answer before verification."""

    text: str
    found: bool
    citations: list[Citation]
    why: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    quotes: list[QuoteEvidence] = field(default_factory=list)
    # set by bot.answer once checked: the sentences taken out ({"sentence", "why"}) and what became of the draft
    dropped: list[dict[str, str]] = field(default_factory=list)
    outcome: str = ""


class Backend(Protocol):
    """One method per backend: answer from evidence."""

    name: str

    def answer(self, evidence: Evidence, on_partial: Callable[[Draft], None] | None = None) -> Draft:
        """A draft answer whose claims carry [n] markers into its citations; `on_partial` gets the draft so far
        while it is written (unverified: bot.answer decides what of it a user may see)."""
        ...


def citation_for(n: int, span: Span) -> Citation:
    """A numbered citation of a span."""
    return Citation(n=n, source=span.location, text=span.text, doc_id=span.doc_id, start=span.start, end=span.end,
                    title=span.title, url=span.url, outlet=span.outlet, passage=span.passage)
