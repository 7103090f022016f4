"""Question -> Answer: analyse, gather evidence, draft with a backend, verify, fall back, never invent.

The only place an answer is assembled; the backends only draft, and nothing unverified is returned.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from bot.citations import renumber, verify
from bot.domain import Answer
from bot.llm.base import Backend, Draft, Evidence, QuoteEvidence
from bot.llm.extractive import ExtractiveBackend
from bot.question import Query, analyse, content_terms
from bot.search import Retriever, Span, sentences_in
from bot.store.base import QuoteRow, Store

log = logging.getLogger("briefbot.answer")

MAX_QUESTION = 500
MAX_ANSWER_CHARS = 1200  # a chat reply, not an essay
QUOTE_CANDIDATES = 12
FOUND_COVERAGE = 0.45  # share of the question's (IDF-weighted) words the best sentence must hold
_ROLE_HINT = re.compile(r"\b(?:minister|president|leader|director|secretary|chief|head|analyst|expert|professor|"
                        r"advis[oe]r|spokes\w+|ambassador|general|chairman|ceo|founder|editor|official|member|"
                        r"senator|governor|mayor|councillor|manager|coach|captain|player|singer|actor|author)\b", re.I)


class Answerer:
    """Answers questions from a store with a primary backend and the extractive one as fallback."""

    def __init__(self, store: Store, backend: Backend | None = None,
                 retriever: Retriever | None = None, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets  # never let one out, whatever a model or a document says
        self.store = store
        self.retriever = retriever or Retriever(store)
        self.extractive = ExtractiveBackend()
        self.backend: Backend = backend or self.extractive

    # -- the entry point ---------------------------------------------------------------------
    def ask(self, question: str, sources: list[str] | None = None, since: str | None = None,
            on_partial: Callable[[str], None] | None = None) -> Answer:
        """Answer a question; found=False (with what was searched) when the stored articles don't say."""
        question = (question or "").strip()
        if not question:
            return Answer(question, "Ask me a question about the stored articles, e.g. “What did Navarro say "
                          "about Modi?”", found=False, why="empty question")
        if len(question) > MAX_QUESTION:
            return Answer(question[:80], f"That question is {len(question):,} characters long; please ask in under "
                          f"{MAX_QUESTION} characters.", found=False, why="question too long")
        n_docs = self.store.count_documents()
        self.retriever.refresh(n_docs)  # one count per question, shared with retrieval
        if n_docs == 0:
            return Answer(question, "No articles are stored yet, so I can't answer. Add sources with "
                          "`briefbot ingest PATH_OR_URL` or `briefbot sources add`.", found=False,
                          why="no documents stored")
        ev = self.gather(analyse(question), sources, since)
        ev.documents = n_docs
        if not ev.quotes and not ev.sentences:
            return self._not_found(question, ev)
        draft, backend_name, fallback_why = self._draft(ev, on_partial)
        if not draft.found or not draft.citations:
            return self._not_found(question, ev, draft.why)
        text, cites = renumber(draft.text, draft.citations)
        ans = Answer(question, text, True, cites, why=fallback_why, backend=backend_name, usage=draft.usage)
        ans.quotes = [(qe.row.quote, c) for qe, c in zip(draft.quotes, cites, strict=False)]
        return ans

    def _draft(self, ev: Evidence, on_partial: Callable[[str], None] | None) -> tuple[Draft, str, str]:
        docs = self.store.documents_by_id(sorted({s.doc_id for s in ev.sentences} | {q.span.doc_id for q in ev.quotes}))
        why = ""
        if self.backend is not self.extractive:
            try:
                draft = self.backend.answer(ev, on_partial)
            except Exception as e:  # a backend bug must not cost the user an answer
                log.exception("backend %s failed", self.backend.name)
                draft = Draft("", False, [], why=f"{type(e).__name__}: {e}")
            if draft.found:
                verdict = verify(draft.text, draft.citations, docs, secrets=self.secrets)
                if len(draft.text) > MAX_ANSWER_CHARS:
                    verdict.problems.append(f"the answer is {len(draft.text):,} characters, over {MAX_ANSWER_CHARS:,}")
                if verdict.ok:
                    return draft, self.backend.name, ""
                why = "; ".join(verdict.problems)
            else:
                why = draft.why or "the model found no answer"
            log.warning("falling back to the extractive answer: %s", why)
        draft = self.extractive.answer(ev)
        if draft.found:
            verdict = verify(draft.text, draft.citations, docs, secrets=self.secrets)
            if not verdict.ok:  # should never happen: the extractive text is stored text
                log.error("extractive answer failed verification: %s", verdict.problems)
                return Draft("", False, [], why="no verifiable answer"), "extractive", why
        return draft, "extractive", (f"fell back to the extractive answer: {why}" if why else "")

    # -- evidence ----------------------------------------------------------------------------
    def gather(self, q: Query, sources: list[str] | None = None, since: str | None = None) -> Evidence:
        """Quotes and sentences that could answer the question, best first."""
        r = self.retriever
        ev = Evidence(query=q)
        # "according to the Gazette": a name that is an outlet or a source location narrows the search
        outlets = [n for n in q.names if n != q.speaker and not self._mentioned(n, sources) and self._is_source(n)]
        if outlets:
            sources = (sources or []) + [o.casefold() for o in outlets]
            q.names = [n for n in q.names if n not in outlets]
            q.terms = [t for t in q.terms if t not in {w for o in outlets for w in content_terms(o)}]
        names = [n for n in ([q.speaker] if q.speaker else []) + q.names if n]
        ev.missing = [n for n in dict.fromkeys(names) if not self._mentioned(n, sources)]
        ev.searched = self._searched(q, sources)
        if q.kind == "quote" and q.speaker:
            if q.speaker in ev.missing:
                return ev
            ev.quotes = self._speaker_quotes(q, sources)
            if not ev.quotes:  # reported speech: sentences naming the speaker
                last = q.speaker.split()[-1]
                hits = r.passages(q, sources=sources, since=since)
                ev.sentences = self._confident(q, r.sentences(q, hits, require=[last]))
            return ev
        if q.kind == "who_said":
            ev.quotes = self._topic_quotes(q, sources)
            return ev
        if ev.missing:
            return ev
        hits = r.passages(q, sources=sources, since=since)
        if q.kind == "who_is" and q.speaker:
            sents = r.sentences(q, hits, require=[q.speaker])
            for s in sents:
                if _ROLE_HINT.search(s.text):
                    s.score += 0.3
                idx = s.text.find(q.speaker)
                if idx >= 0 and re.match(r"\s*(?:,|is\b|was\b)", s.text[idx + len(q.speaker):]):
                    s.score += 0.2  # "X, the ...", "X is ..."
            ev.sentences = sorted(sents, key=lambda s: -s.score)
            return ev
        ev.sentences = self._confident(q, r.sentences(q, hits))
        return ev

    def _confident(self, q: Query, sents: list[Span]) -> list[Span]:
        """Sentences only when the best of them covers enough of the question."""
        if not sents:
            return []
        return sents if max(s.cover for s in sents[:3]) >= FOUND_COVERAGE else []

    def _is_source(self, name: str) -> bool:
        """True when a name is part of some stored document's location or outlet (not its text)."""
        return len(name) > 3 and self.store.names_a_source(name)

    def _mentioned(self, name: str, sources: list[str] | None = None) -> bool:
        """Whether any article the question may see mentions every word of a name."""
        toks = content_terms(name)
        if not toks:
            return True
        expr = " AND ".join('"' + t.replace('"', '""') + '"' for t in toks)
        if sources:  # a scoped channel must not learn what out-of-scope articles mention
            return bool(self.store.search_passages(expr, limit=1, sources=sources))
        return self.store.count_matches(expr) > 0

    def _speaker_quotes(self, q: Query, sources: list[str] | None) -> list[QuoteEvidence]:
        assert q.speaker
        topic = q.topic_terms
        rows = self.retriever.speaker_quotes(q.speaker, sources, about=[t[:4] for t in topic if len(t) > 2])

        prefixes = tuple(t[:4].casefold() for t in topic)

        def first_pass(row: QuoteRow) -> float:
            score = len(row.quote.text) / 2000 + (0.1 if row.quote.kind == "direct" else 0.0)
            low = row.quote.text.casefold()
            # full coverage only for quotes that could be on topic: a prolific speaker has thousands
            if topic and any(p in low for p in prefixes):
                score += 2 * self.retriever.coverage(row.quote.text, topic)
            return score

        # a prolific speaker has hundreds of quotes: rank on their words, then look at the best few in context
        ranked = sorted(rows, key=first_pass, reverse=True)[:QUOTE_CANDIDATES]
        out = []
        for row in ranked:
            span = self._quote_span(row)
            score = first_pass(row) + (self.retriever.coverage(span.text, topic) if topic else 0.0)
            out.append(QuoteEvidence(row, span, score))
        out.sort(key=lambda e: -e.score)
        return out

    def _topic_quotes(self, q: Query, sources: list[str] | None) -> list[QuoteEvidence]:
        terms = content_terms(q.topic or "") + [w for p in q.phrases for w in content_terms(p)]
        if not terms:
            return []
        hits = self.retriever.passages(q, sources=sources)
        keys = {(h.doc_id, h.ordinal) for h in hits}
        out = []
        # only quotes in the passages found can answer: read those documents' quotes, not every quote
        for row in self.store.quotes(doc_ids=sorted({h.doc_id for h in hits})):
            if not row.quote.speaker or (row.doc_id, row.quote.passage) not in keys:
                continue
            cov = self.retriever.coverage(row.quote.text, terms)
            if cov >= 0.5:
                out.append(QuoteEvidence(row, self._quote_span(row), cov))
        out.sort(key=lambda e: -e.score)
        return out

    def _quote_span(self, row: QuoteRow) -> Span:
        """The sentences holding a quote and its attribution: the span to cite."""
        text = self.store.document_text(row.doc_id)
        q = row.quote
        lo = min(q.start, q.speaker_start if q.speaker_start is not None else q.start)
        hi = max(q.end, q.speaker_end if q.speaker_end is not None else q.end)
        p_start = text.rfind("\n", 0, lo) + 1
        p_end = text.find("\n", hi)
        p_end = len(text) if p_end < 0 else p_end
        sents = [(a, b) for a, b in sentences_in(text, p_start, p_end) if b > lo and a < hi]
        a, b = (sents[0][0], sents[-1][1]) if sents else (lo, hi)
        if b - a > 1200:  # a run-on paragraph: cite just the quote's surroundings
            a, b = max(p_start, lo - 100), min(p_end, hi + 100)
            while a > p_start and not text[a - 1].isspace():
                a -= 1
            while b < p_end and not text[b].isspace():
                b += 1
        return Span(row.doc_id, a, b, text[a:b], 0.0, row.location, row.title, row.url, row.outlet, q.passage)

    # -- not found ---------------------------------------------------------------------------
    def _searched(self, q: Query, sources: list[str] | None) -> str:
        what = ", ".join(q.terms[:8]) or q.text
        scope = f" in sources matching {', '.join(sources)}" if sources else ""
        if q.kind == "quote" and q.speaker:
            return f"quotes by {q.speaker}" + (f" about {q.topic}" if q.topic else "") + f" and passages with: {what}{scope}"
        return f"passages with: {what}{scope}"

    def _not_found(self, question: str, ev: Evidence, extra: str = "") -> Answer:
        q = ev.query
        n = ev.documents
        lines = [f"I couldn't find an answer in the {n:,} stored article{'s' if n != 1 else ''}."]
        if ev.missing:
            lines.append("None of them mentions " + " or ".join(ev.missing) + ".")
        elif q.kind == "quote" and q.speaker:
            lines.append(f"No stored article quotes {q.speaker}" + (f" about {q.topic}." if q.topic else "."))
        lines.append(f"I searched {ev.searched}.")
        lines.append("Try asking more broadly" + (f", e.g. “What happened with {q.topic}?”" if q.topic else
                                                  " or with other words") + ".")
        return Answer(question, " ".join(lines), found=False, why=extra or ev.searched)
