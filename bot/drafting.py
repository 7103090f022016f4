"""The answering seam: evidence in, a draft answer with [n] markers out; the offline extractive drafter.

Every drafter (this one, bot.answer_llm's) implements `Backend`; bot.answer verifies what they write.
Imports only domain and retrieval types: no network library, no LLM transport.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.brief_rules import web_site
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
    around: str = ""  # for a who-said question whose sentence names no one: the person the passage before is about
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


MAX_CHARS = 900  # chat replies stay short; the referee's ceiling is 1,200
MAX_CHARS_LONG = 1150  # a brief or an across-outlets answer may use the whole reply


def _site(span: Span) -> str:
    """The outlet, else the web site, of a cited article; '' for a local file (its name is no outlet's)."""
    return span.outlet or web_site(span.url, span.location)


def _where(span: Span) -> str:
    name = _site(span)
    # no quote marks around titles: the verifier treats quoted words as someone's exact words
    return span.title + (f" — {name}" if name and name not in span.title else "")


def _quote_sentence(q: QuoteEvidence, n: int, first: bool) -> str:
    quote = q.row.quote
    speaker = quote.speaker or "Someone"
    words = quote.text.strip().rstrip(",;: ")  # the comma before "he said" is not part of the words
    if first:
        who = speaker + (f", {quote.description}," if quote.description else "")
        return f"{who} said: “{words}” [{n}]"
    # the whole name again: the short form is not always the last word ("Xi Jinping" is Xi, not Jinping)
    return f"{speaker} also said: “{words}” [{n}]"


class ExtractiveBackend:
    """Builds answers from stored words only."""

    name = "extractive"

    def answer(self, evidence: Evidence, on_partial: Callable[[Draft], None] | None = None) -> Draft:
        q = evidence.query
        if q.kind in {"quote", "who_said"} and evidence.quotes:
            return self._from_quotes(evidence)
        if evidence.sentences and q.kind == "summary":
            return self._points(evidence, headline=True)
        if evidence.sentences and q.kind == "multi":
            return self._points(evidence, headline=False)
        if evidence.sentences:
            return self._from_sentences(evidence)
        return Draft(text="", found=False, citations=[], why=evidence.searched)

    def _from_quotes(self, ev: Evidence) -> Draft:
        parts: list[str] = []
        cites: list[Citation] = []
        used_docs: list[Span] = []
        for i, qe in enumerate(ev.quotes[:2]):
            if i and len(qe.row.quote.text.split()) < 4:
                break  # a second quote only when it says something ("dear friend" does not)
            n = len(cites) + 1
            sent = _quote_sentence(qe, n, first=(i == 0))
            if sum(len(p) for p in parts) + len(sent) > MAX_CHARS and parts:
                break
            parts.append(sent)
            cites.append(citation_for(n, qe.span))
            used_docs.append(qe.span)
        where = "; ".join(dict.fromkeys(_where(s) for s in used_docs))
        text = " ".join(parts)
        if len(text) + len(where) < MAX_CHARS:
            text += f" (Source: {where}.)"
        return Draft(text=text, found=True, citations=cites, quotes=ev.quotes[: len(cites)])

    def _from_sentences(self, ev: Evidence) -> Draft:
        parts: list[str] = []
        cites: list[Citation] = []
        for s in ev.sentences[:4]:
            if any(s.text in p or p.split(" [")[0] in s.text for p in parts):
                continue
            if sum(len(p) + 1 for p in parts) + len(s.text) + 5 > MAX_CHARS and parts:
                break
            n = len(cites) + 1
            parts.append(f"{_one_line(s.text)} [{n}]")
            cites.append(citation_for(n, s))
        # the person the answer is about, unless its first sentence names them ("Capriati is a two-time champion")
        named = bool(parts and ev.lead) and re.search(rf"\b{re.escape(ev.lead.split()[-1])}\b", parts[0]) is not None
        lead = f"{ev.lead}: " if ev.lead and ev.lead not in " ".join(parts) and not named else ""
        if not lead and ev.around:
            # the words are there but not who said them: say so, and whom the passage is about
            lead = f"The article does not name the speaker beside these words; the passage is about {ev.around}: "
        return Draft(text=lead + " ".join(parts), found=True, citations=cites)

    def _points(self, ev: Evidence, headline: bool) -> Draft:
        """A short brief (headline, then cited points) or, across outlets, one point per article by outlet."""
        lines: list[str] = []
        cites: list[Citation] = []
        if headline:
            lines.append(f"{ev.sentences[0].title.strip()[:140]}:")
        size = sum(len(x) + 1 for x in lines)
        for s in ev.sentences[:5]:
            n = len(cites) + 1
            line = f"• {_one_line(s.text)} [{n}]" if headline else f"• {_outlet(s)}: {_one_line(s.text)} [{n}]"
            if size + len(line) + 1 > MAX_CHARS_LONG:
                continue  # a point is whole or absent: a cut sentence could cut a quotation
            lines.append(line)
            size += len(line) + 1
            cites.append(citation_for(n, s))
        if not cites:
            return Draft(text="", found=False, citations=[], why="every point was too long for a chat reply")
        return Draft(text="\n".join(lines), found=True, citations=cites)


def _one_line(text: str) -> str:
    """A cited span as a reply shows it: a sentence and the next one across a paragraph break read as one point
    (the citation keeps the article's words and breaks; checks compare them with spacing folded)."""
    return re.sub(r"\s+", " ", text).strip()


def _outlet(span: Span) -> str:
    """How an answer names an article's outlet: its outlet or web site, else its headline (never a file name)."""
    name = _site(span)
    title = span.title.strip()[:80]
    return f"{title} ({name})" if name and name not in title else title or name or "an untitled article"
