"""Question -> Answer, in one direction: read (intent, names) -> candidates (BM25 + vectors, fused) ->
selection (sentences) -> composition (a backend drafts) -> verification -> Answer.

The only place an answer is assembled; the backends only draft, and nothing unverified is returned.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from bot.citations import fold, misattributed, renumber, verify
from bot.conversation import Reading, Turn, read, turn_of
from bot.domain import Answer, Citation, Document
from bot.llm.base import Backend, Draft, Evidence, QuoteEvidence
from bot.llm.extractive import ExtractiveBackend
from bot.question import NameLexicon, Query, analyse, content_terms, stem
from bot.search import Retriever, Span, sentences_in, type_bonus
from bot.store.base import PassageHit, QuoteRow, Store

log = logging.getLogger("briefbot.answer")

MAX_QUESTION = 500
MAX_ANSWER_CHARS = 1200  # a chat reply, not an essay
QUOTE_CANDIDATES = 12
QUOTES_EMBEDDED = 6
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al.): ranks, not raw scores, are fused
CANDIDATES = 30  # passages fused from each retriever
DENSE_WEIGHT = 1.0  # a sentence's cosine against its words' weighted coverage (tried 0.45-1.2 on our questions)
ANSWER_BUDGET = 880  # characters of cited text in a fact answer (the extractive composer's ceiling is 900)
QUOTE_FIT = 0.45  # a quote answers "what did X say about Y" when it holds that much of Y (words or meaning)
FOLLOW_UP_EVIDENCE = 0.6  # share of the usual evidence a follow-up needs inside the conversation's articles
FOLLOW_UP_MARGIN = 0.25  # how much better another article must answer a follow-up than the conversation's own
STORY_READ_WHOLE = 8  # up to this many articles, a restricted search reads every passage
DOC_WEIGHT = 0.3  # an article's coverage of the whole question (0.3 and 0.6 tied on our questions)
SENTENCES_EMBEDDED = 6  # best sentences embedded at question time (~10 ms each on one core), and half as many by meaning
# "Found" thresholds, calibrated on our own questions (bench/heldout, tests/test_answer.py) over seeds + BBC:
# a sentence answers when it holds enough of the question's weighted words, or when it means the same
# (cosine) and shares at least some of them.
FOUND_LEXICAL = 0.45
FOUND_DENSE = 0.50
FOUND_DENSE_MIN_LEXICAL = 0.12
# an English word's ending: a word like that is not taken for a name even when no article uses it ("stevedores")
_ENGLISH_SUFFIX = re.compile(r"(?:s|ing|ed|ly|tion|sion|ment|ness|ity|ous|ive|able|ible|al|er|ist|ism|ful|less|ise|"
                             r"ize|ship|hood|ward|wise|age|ance|ence|ure|ery|ory)$")


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Whole English words of the embedding model's word-piece vocabulary (30,000 pieces, shipped in the package):
    a word there is a word, not a name, even when no stored article uses it ("price" in a three-article store)."""
    path = Path(__file__).parent / "assets" / "minilm" / "tokenizer.json"
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("no word list at %s: lower-case words no article uses are not taken for names", path)
        return frozenset(["*"])
    return frozenset(w for w in vocab if w.isalpha() and w.islower() and len(w) > 3)
_QUOTE_MARKS = re.compile(r"[\"“”]")
_NAME_IN_TEXT = re.compile(r"\b[A-Z][a-z][\w'’-]*(?: (?:[A-Z][\w'’-]+|de|van|von|bin|al))*")
_NOT_NAME_START = frozenset(["the", "a", "an", "in", "on", "at", "but", "and", "as", "when", "while", "after", "before",
                             "president", "leader", "mr", "mrs", "ms", "dr", "north", "south", "east", "west"])
_ATTRIBUTION = re.compile(r"\b(?:reported|reports|according to|told|said|says|wrote|writes|cited|quoted|"
                          r"commented|correspondent|agency|newspaper)\b", re.I)
_ROLE_HINT = re.compile(r"\b(?:minister|president|leader|director|secretary|chief|head|analyst|expert|professor|"
                        r"advis[oe]r|spokes\w+|ambassador|general|chairman|ceo|founder|editor|official|member|"
                        r"senator|governor|mayor|councillor|manager|coach|captain|player|singer|actor|author|"
                        r"fellow|researcher|correspondent|economist|lawyer|chair|deputy|boss)\b", re.I)

HELP_TEXT = ("I answer questions about the articles this bot watches, citing the passage behind every claim. "
             "Try: “What did Navarro say about Modi?”, “Who called it a marriage of convenience?”, “Give me the gist "
             "of the summit”, “How do the reports differ on the pipeline?” — then ask follow-ups in the same "
             "thread (“Who is he?”, “And Russia?”, “More detail”). Commands: /ask, /brief [topic], /digest.")
SMALLTALK_TEXT = {
    "thanks": "You're welcome! Ask me anything else about the stored articles.",
    "hello": "Hi! Ask me about the news I watch — e.g. “What's the story with the pipeline deal?” Say “help” for more.",
    "bye": "Bye! I'll be here when you need a brief.",
    "other": "Ask me a question about the stored articles, or say “help”.",
}


class DenseSearch(Protocol):
    """The dense half of hybrid retrieval (bot.embed.DenseIndex implements it)."""

    def search(self, query: str, k: int = 50, doc_ids: set[int] | None = None) -> list[tuple[int, int, float]]: ...

    def embed_texts(self, texts: list[str]) -> Any: ...


@dataclass
class Stages:
    """Per-stage timings of one question (milliseconds), for bench/ask.py and the logs."""

    ms: dict[str, float] = field(default_factory=dict)
    _t: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.ms[name] = self.ms.get(name, 0.0) + (now - self._t) * 1000
        self._t = now


class Answerer:
    """Answers questions from a store with a primary backend and the extractive one as fallback."""

    def __init__(self, store: Store, backend: Backend | None = None, retriever: Retriever | None = None,
                 secrets: tuple[str, ...] = (), dense: DenseSearch | None = None) -> None:
        self.secrets = secrets  # never let one out, whatever a model or a document says
        self.store = store
        self.retriever = retriever or Retriever(store)
        self.dense = dense
        self.extractive = ExtractiveBackend()
        self.backend: Backend = backend or self.extractive
        self._lexicon: NameLexicon | None = None
        self._lexicon_n = -1
        self.last_stages = Stages()
        self.last_turn: Turn | None = None
        self._story_of: dict[int, int] = {}
        self._stories_n = -1

    # -- the entry point ---------------------------------------------------------------------
    def ask(self, question: str, sources: list[str] | None = None, since: str | None = None,
            on_partial: Callable[[str], None] | None = None, turns: list[Turn] | None = None) -> Answer:
        """Answer a question (a follow-up when `turns` holds the conversation so far); found=False with what
        was searched when the stored articles don't say."""
        st = self.last_stages = Stages()
        self.last_turn = None
        question = (question or "").strip()
        if not question:
            return Answer(question, "Ask me a question about the stored articles, e.g. “What did Navarro say "
                          "about Modi?”", found=False, why="empty question")
        if len(question) > MAX_QUESTION:
            return Answer(question[:80], f"That question is {len(question):,} characters long; please ask in under "
                          f"{MAX_QUESTION} characters.", found=False, why="question too long")
        n_docs = self.store.count_documents()
        self.retriever.refresh(n_docs)  # one count per question, shared with retrieval
        reading = read(question, turns or [], self._most_similar if self.dense is not None else None)
        q = self.analyse(reading, n_docs)
        st.lap("analysis")
        if q.kind in {"help", "smalltalk"}:
            return self._canned(question, q)
        if n_docs == 0:
            return Answer(question, "No articles are stored yet, so I can't answer. Add sources with "
                          "`briefbot ingest PATH_OR_URL` or `briefbot sources add`.", found=False,
                          why="no documents stored")
        ev = self.gather(q, reading, sources, since)
        ev.documents = n_docs
        if not ev.quotes and not ev.sentences:
            ans = self._not_found(question, ev, reading)
        else:
            draft, backend_name, fallback_why = self._draft(ev, on_partial)
            if not draft.found or not draft.citations:
                ans = self._not_found(question, ev, reading, draft.why)
            else:
                text, cites = renumber(draft.text, draft.citations)
                ans = Answer(question, text, True, cites, why=fallback_why, backend=backend_name, usage=draft.usage)
                ans.quotes = [(qe.row.quote, c) for qe, c in zip(draft.quotes, cites, strict=False)]
        st.lap("composition")
        turn = turn_of(question, reading, q, [(c.doc_id, c.start, c.end) for c in ans.citations], ans.found,
                       " ".join(c.text for c in ans.citations))
        ans.turn = turn.to_json()
        self.last_turn = turn
        log.debug("question read as %s (%s): %s; stages %s", q.kind, reading.note or "standalone", reading.question,
                  {k: round(v, 1) for k, v in st.ms.items()})
        return ans

    def _most_similar(self, text: str, words: list[str]) -> int:
        """Which of `words` means most like `text` (by the embedding model)."""
        assert self.dense is not None
        try:
            vecs = self.dense.embed_texts([text] + words)
        except Exception:
            log.exception("word similarity failed; taking the first word")
            return 0
        return max(range(len(words)), key=lambda i: float(vecs[i + 1] @ vecs[0]))

    def analyse(self, reading: Reading, n_docs: int) -> Query:
        """The question read against what the store knows: its names, and which words its articles use."""
        r = self.retriever
        return analyse(reading.question, self.lexicon(n_docs), context=[t for t in reading.context if len(t) > 2],
                       is_word=lambda w: r.doc_freq(w) > 0,
                       is_common=lambda w: r.doc_freq(w) > max(30, r.passage_count // 200))

    def lexicon(self, n_docs: int) -> NameLexicon:
        """The speaker names the store knows (rebuilt when the number of documents changes)."""
        if self._lexicon is None or n_docs != self._lexicon_n:
            try:
                names = self.store.speaker_names()
            except Exception:  # a store without the index answers with capitalised names only
                log.exception("could not read the speaker names")
                names = []
            self._lexicon, self._lexicon_n = NameLexicon(names), n_docs
        return self._lexicon

    def _canned(self, question: str, q: Query) -> Answer:
        if q.kind == "help":
            if not any(c.isalnum() for c in q.clean) and q.clean.strip(" ?"):
                return Answer(question, "I couldn't read a question in that message. " + HELP_TEXT, found=False,
                              why="no words in the message", backend="none")
            return Answer(question, HELP_TEXT, found=False, why="help", backend="none")
        low = q.clean.lower()
        key = ("thanks" if re.search(r"thank|cheers|appreciate|ty\b|no worries", low) else
               "bye" if re.search(r"\bbye|goodbye|night\b", low) else
               "hello" if re.search(r"\b(?:hi|hello|hey|yo|hiya|howdy|morning|gm|sup|up)\b", low) else "other")
        return Answer(question, SMALLTALK_TEXT[key], found=False, why="small talk", backend="none")

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
                verdict.problems += misattributed(draft.text, self._stored_quotes(draft.citations))
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

    def _stored_quotes(self, citations: list[Citation]) -> list[tuple[str, str]]:
        """(words, speaker) of every stored quote in the cited articles, for checking who an answer quotes."""
        ids = sorted({c.doc_id for c in citations})
        if not ids:
            return []
        try:
            return [(r.quote.text, r.quote.speaker or "") for r in self.store.quotes(doc_ids=ids)]
        except Exception:
            log.exception("could not read the cited articles' quotes")
            return []

    # -- evidence ----------------------------------------------------------------------------
    def gather(self, q: Query, reading: Reading | None = None, sources: list[str] | None = None,
               since: str | None = None) -> Evidence:
        """Quotes and sentences that could answer the question, best first (the query is not changed)."""
        reading = reading or Reading(q.text)
        ev = Evidence(query=q)
        # "according to the Gazette": a name that is an outlet or a source location narrows the search
        outlets = [n for n in q.names if n != q.speaker and not self._mentioned(n, sources) and self._is_source(n)]
        if outlets:
            sources = (sources or []) + [o.casefold() for o in outlets]
        names = [n for n in ([q.speaker] if q.speaker else []) + list(q.names) if n and n not in outlets]
        ev.missing = [n for n in dict.fromkeys(names) if not self._mentioned(n, sources)]
        ev.missing += self._unknown_names(q)
        ev.searched = self._searched(q, sources)
        self.last_stages.lap("analysis")
        if q.kind == "quote" and q.speaker:
            if q.speaker in ev.missing:
                return ev
            quotes = self._speaker_quotes(q, sources)
            self.last_stages.lap("quotes")
            # reported speech ("X said the days of apologising are over") answers as well as a quotation does
            told = self._select(q, reading, sources, since, require=[q.speaker.split()[-1]]) \
                if q.topic or not quotes else []
            if quotes and (not told or not q.topic or quotes[0].fit >= QUOTE_FIT):
                ev.quotes = quotes
            else:
                ev.sentences = told
            return ev
        if ev.missing:
            return ev
        if q.kind == "who_said":
            if reading.follow_up and reading.prefer_docs:
                # "who spoke for the government?": a quote, or else a sentence, where the conversation has been
                ev.quotes = self._topic_quotes(q, sources, set(reading.prefer_docs))
                if not ev.quotes:
                    ev.sentences = self._select(q, reading, sources, since)
                    if ev.sentences and ev.sentences[0].doc_id in reading.prefer_docs:
                        ev.lead = self._person_in(q, ev.sentences[0])
                        return ev
                    ev.sentences = []
            ev.quotes = ev.quotes or self._topic_quotes(q, sources)
            self.last_stages.lap("quotes")
            if ev.quotes:
                return ev
            # no quote holds those words: sentences that name who did it (reported speech)
        if q.kind == "who_is" and q.speaker:
            ev.sentences = self._who_is(q, reading, sources, since)
            if ev.sentences:
                ev.lead = q.speaker  # shown only when the sentences do not name them ("she now occupies ...")
                return ev
        ev.sentences = self._select(q, reading, sources, since)
        if ev.sentences and (q.kind == "who_said" or q.answer_type == "who"):
            ev.lead = self._person_in(q, ev.sentences[0])
        return ev

    def _person_in(self, q: Query, s: Span) -> str:
        """The person a sentence answers a who-question with, by the fullest name its article gives them
        ("Kim, who arrived ..." -> "Kim Jong Un"); '' when the sentence names no one new."""
        asked = {w.casefold() for n in q.names for w in n.split()}
        runs = [r for r in _NAME_IN_TEXT.findall(s.text) if not {w.casefold() for w in r.split()} & asked]
        if not runs:
            return ""
        first = runs[0].split()
        if len(first) > 1:
            return ""  # the sentence already names them in full
        text = self.store.document_text(s.doc_id)
        token = first[0]
        fuller = re.findall(rf"\b(?:[A-Z][\w'’-]+ ){{0,2}}{re.escape(token)}(?: [A-Z][\w'’-]+){{1,2}}\b|"
                            rf"\b(?:[A-Z][\w'’-]+ ){{1,2}}{re.escape(token)}\b", text)
        fuller = [f for f in fuller if f.split()[0].casefold() not in _NOT_NAME_START]
        if not fuller:
            return ""
        return str(max(set(fuller), key=lambda f: (fuller.count(f), len(f))))

    # -- candidates: BM25 and vectors, fused -------------------------------------------------
    def candidates(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None,
                   doc_ids: set[int] | None = None) -> tuple[list[PassageHit], dict[tuple[int, int], float]]:
        """Passages by reciprocal rank fusion of BM25 and dense search, with each one's cosine (when known)."""
        st = self.last_stages
        extra = [t for t in reading.context if len(t) > 2][:6]
        bm25 = self.retriever.passages(q, limit=CANDIDATES * (3 if doc_ids else 1), sources=sources, since=since,
                                       extra=extra)
        if doc_ids:
            bm25 = [h for h in bm25 if h.doc_id in doc_ids]
        st.lap("bm25")
        cos: dict[tuple[int, int], float] = {}
        dense: list[tuple[int, int, float]] = []
        if self.dense is not None:
            try:
                dense = self.dense.search(q.clean or q.text, k=CANDIDATES * (3 if sources or since else 1),
                                          doc_ids=doc_ids)
            except Exception:  # the model failing must not cost the user an answer: BM25 still stands
                log.exception("dense search failed; answering from BM25 alone")
                dense = []
            cos = {(d, o): c for d, o, c in dense}
        st.lap("dense")
        fused: dict[tuple[int, int], float] = {}
        hits: dict[tuple[int, int], PassageHit] = {}
        for rank, h in enumerate(bm25):
            key = (h.doc_id, h.ordinal)
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
            hits[key] = h
        dense_keys = [(d, o) for d, o, _ in dense]
        missing = sorted({d for d, o in dense_keys if (d, o) not in hits})
        docs = self.store.documents_by_id(missing) if missing else {}
        rank = 0
        for key in dense_keys:
            if key not in hits:
                found = _hit(docs.get(key[0]), key[1], sources, since)
                if found is None:
                    continue
                hits[key] = found
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
            rank += 1
        order = sorted(fused, key=lambda k: -fused[k])[:CANDIDATES]
        out = []
        for key in order:
            h = hits[key]
            h.score = fused[key]
            out.append(h)
        if doc_ids and len(doc_ids) <= STORY_READ_WHOLE:
            # a handful of articles (a story, a conversation) is read whole: what the question asks may share
            # neither words nor meaning with it ("which outlets do they cite?")
            have = {(h.doc_id, h.ordinal) for h in out}
            for doc in self.store.documents_by_id(sorted(doc_ids)).values():
                for p in doc.passages[:200]:
                    if (doc.id, p.ordinal) not in have:
                        extra_hit = _hit(doc, p.ordinal, sources, since)
                        if extra_hit is not None:
                            out.append(extra_hit)
        st.lap("fusion")
        return out, cos

    # -- selection ---------------------------------------------------------------------------
    def _select(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None,
                require: list[str] | None = None) -> list[Span]:
        """The sentences that answer, best first; [] when none answers with enough confidence."""
        prefer = set(reading.prefer_docs)
        sents = self._score(q, reading, sources, since, require, None)
        if q.kind in {"summary", "multi"} and sents and self._confident(q, sents[0]):
            # "the summit articles": the story of the best match; its articles are the ones to sum up or compare
            story = self._story_docs(sents[0].doc_id)
            if len(story) >= 2:
                # across outlets, compare on what sets the articles apart; a summary keeps the whole question
                asked = self._within_story(q, story) if q.kind == "multi" else q
                within = self._score(asked, reading, sources, since, require, story)
                if within:
                    return self._finish(q, reading, within)
        if reading.follow_up and prefer:
            # a follow-up is answered where the conversation has been, unless another article answers clearly
            # better; there, less evidence is needed (the conversation already chose those articles)
            local = self._score(q, reading, sources, since, require, prefer)
            if local and self._confident(q, local[0], in_context=True) and (
                    reading.more or not sents or local[0].score >= sents[0].score - FOLLOW_UP_MARGIN):
                return self._finish(q, reading, local)
        if q.years and sents:
            # "… in 2024": the best sentences with that year near them come first
            holding = [x for x in sents[:30] if self._constraints_hold(q, x)]
            sents = holding + [x for x in sents if x not in holding]
        if not sents or not self._confident(q, sents[0]):
            return []
        return self._finish(q, reading, sents)

    def _within_story(self, q: Query, story: set[int]) -> Query:
        """The question inside one story: words every article of the story holds ("summit") tell nothing there."""
        docs = self.store.documents_by_id(sorted(story))
        stems = [{stem(w) for w in content_terms(d.title + "\n" + d.text[:20_000])} for d in docs.values()]
        telling = tuple(t for t in q.terms if sum(stem(t) in x for x in stems) < len(stems))
        return replace(q, terms=telling)

    def _story_docs(self, doc_id: int) -> set[int]:
        """The articles of the story a document belongs to (empty when stories are not assigned yet)."""
        n = self.retriever.passage_count
        if self._stories_n != n:
            try:
                members = self.store.memberships()
            except Exception:
                log.exception("could not read stories")
                members = []
            self._story_of = {m.doc_id: m.story_id for m in members}
            self._stories_n = n
        story = self._story_of.get(doc_id)
        return {d for d, s in self._story_of.items() if s == story} if story is not None else set()

    def _score(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None,
               require: list[str] | None, doc_ids: set[int] | None) -> list[Span]:
        hits, cos = self.candidates(q, reading, sources, since, doc_ids)
        if not hits:
            return []
        # "that think tank": the words of the turns it points back to count as much as its own
        weights = self.retriever.weights(q, context_weight=1.0 if reading.pointing else 0.4)
        sents = self.retriever.sentences(q, hits, require=require, weights=weights)
        if reading.exclude:
            sents = [s for s in sents if not _shown(s, reading.exclude)]
        top = max((h.score for h in hits), default=1.0) or 1.0
        fused = {(h.doc_id, h.ordinal): h.score / top for h in hits}
        cos = self._passage_cosines(q, hits, cos)
        doc_cover = self._doc_cover(weights, {s.doc_id for s in sents})
        asked = {w.casefold() for n in q.names for w in n.split()}
        for s in sents:
            s.dense = 0.9 * cos.get((s.doc_id, s.passage or 0), 0.0)
            # a sentence in an article about the whole question beats one that shares words by chance
            s.lexical += DOC_WEIGHT * doc_cover.get(s.doc_id, 0.0)
            if q.answer_type == "who" and _names_someone_else(s.text, asked):
                s.lexical += 0.2  # "who plays Mary Poppins?" is answered by a sentence naming another person
            if q.answer_type == "event" and (s.passage or 0) <= 2:
                s.lexical += 0.2  # "what happened to …?": news says it first (the lead)
        self._rescore(sents, fused, reading)
        # the best by the words-and-passage score, and the best by passage meaning alone (a paraphrase shares
        # no words with its answer), get a sentence-level cosine
        by_meaning = sorted(sents[SENTENCES_EMBEDDED:], key=lambda s: -s.dense)[:SENTENCES_EMBEDDED // 2]
        if self._embed_sentences(q, sents[:SENTENCES_EMBEDDED] + by_meaning):
            self._rescore(sents, fused, reading)
        self.last_stages.lap("selection")
        return sents

    @staticmethod
    def _rescore(sents: list[Span], fused: dict[tuple[int, int], float], reading: Reading) -> None:
        for s in sents:
            s.score = s.lexical + DENSE_WEIGHT * s.dense + 0.1 * fused.get((s.doc_id, s.passage or 0), 0.0)
            if reading.avoid and not reading.instead and any(re.search(rf"\b{re.escape(w)}\b", s.text, re.I)
                                                             for w in reading.avoid):
                s.score -= 0.5  # "who else ...?": someone other than the one the last answer was about
            if reading.instead and not any(stem(t) in {stem(x) for x in content_terms(s.text)} for t in reading.instead):
                # "And Europeans?" is about the Europeans; a sentence about the Britons answered the last question
                s.score -= 0.6 + (0.3 if any(re.search(rf"\b{re.escape(w)}", s.text, re.I) for w in reading.avoid) else 0)
            if reading.near and any(d == s.doc_id and a - 400 <= s.start <= b + 200 for d, a, b in reading.near):
                # "which agency reported that?": the answer is at what was shown, where it names its source
                s.score += 0.3 + (0.15 if _ATTRIBUTION.search(s.text) else 0.0)
                s.own = max(s.own, FOUND_LEXICAL)
        sents.sort(key=lambda s: -s.score)

    def _doc_cover(self, weights: dict[str, float], doc_ids: set[int]) -> dict[int, float]:
        """Each article's weighted share of the question's words, in its title and text."""
        total = sum(weights.values()) or 1.0
        docs = self.store.documents_by_id(sorted(doc_ids)) if doc_ids else {}
        out = {}
        for d, doc in docs.items():
            stems = {stem(w) for w in content_terms(doc.title + "\n" + doc.text[:20_000])}
            out[d] = sum(w for s, w in weights.items() if s in stems) / total
        return out

    def _passage_cosines(self, q: Query, hits: list[PassageHit], cos: dict[tuple[int, int], float]
                         ) -> dict[tuple[int, int], float]:
        """Every candidate passage's stored-vector cosine to the question (BM25-only hits included)."""
        if self.dense is None:
            return cos
        want = {h.doc_id for h in hits if (h.doc_id, h.ordinal) not in cos}
        if not want:
            return cos
        try:
            more = self.dense.search(q.clean or q.text, k=4 * len(hits) + 50, doc_ids=want)
        except Exception:
            log.exception("dense scoring failed; using words alone")
            return cos
        return {**{(d, o): c for d, o, c in more}, **cos}

    def _embed_sentences(self, q: Query, pick: list[Span]) -> bool:
        """Sentence-level cosine for the best few sentences (a passage's cosine is an average of its sentences)."""
        if self.dense is None or not pick:
            return False
        try:
            vecs = self.dense.embed_texts([q.clean or q.text] + [s.text[:600] for s in pick])
        except Exception:
            log.exception("sentence embedding failed; using passage similarity")
            return False
        qv = vecs[0]
        for s, v in zip(pick, vecs[1:], strict=False):
            s.dense = max(s.dense, float(v @ qv))
        return True

    def _confident(self, q: Query, best: Span, in_context: bool = False) -> bool:
        """Whether the best sentence answers: enough of the question's words, or the same meaning (less of
        either inside the articles a conversation is about)."""
        scale = FOLLOW_UP_EVIDENCE if in_context else 1.0
        if best.own >= FOUND_LEXICAL * scale or best.cover >= (FOUND_LEXICAL + 0.1) * scale:
            return self._constraints_hold(q, best)
        if self.dense is not None and best.dense >= FOUND_DENSE * scale and best.cover >= FOUND_DENSE_MIN_LEXICAL:
            return self._constraints_hold(q, best)
        return False

    def _constraints_hold(self, q: Query, best: Span) -> bool:
        """A year or number the question names must be in the answering article, near the answer."""
        if not q.years:
            return True
        text = self.store.document_text(best.doc_id)
        window = text[max(0, best.start - 600): best.end + 600]
        return all(y in window for y in q.years)

    def _finish(self, q: Query, reading: Reading, sents: list[Span]) -> list[Span]:
        """The chosen sentences, each widened by its neighbour when that carries the answer, in answer order."""
        sents = [b for s in sents[:40] if (b := self._balanced(s)) is not None] or sents[:1]
        best = sents[0].score
        if q.kind in {"summary", "multi"} or reading.more:
            keep = self._diverse(q, sents, per_doc=(q.kind == "multi"))
        else:
            # a reason or a means is often told apart from the sentence that restates the question
            share = 0.7 if q.answer_type in {"why", "how"} else 0.8
            keep = [s for s in sents[:6] if s.score >= share * best][:3]
            keep = _dedupe(keep)[:2]
            if q.answer_type == "how":
                # "how did she travel?": sentences that name the means answer; one that restates the trip does not
                means = _dedupe(s for s in sents[:12] if type_bonus("how", s.text) and s.score >= 0.6 * best)
                keep = _dedupe(means + keep)[:2]
            if q.answer_type in {"when", "number", "money"} and not any(type_bonus(q.answer_type, s.text) for s in keep):
                # "when is it opening?": the date is often in another sentence of the same article
                typed = [s for s in sents[:40] if s.doc_id == keep[0].doc_id and type_bonus(q.answer_type, s.text)
                         and s.score >= 0.5 * best and len(_dedupe([keep[0], s])) == 2]
                keep = _dedupe(keep[:1] + typed[:1] + keep[1:])[:2]
        if q.kind not in {"summary", "multi"}:
            # neighbours only while the reply stays short: every chosen sentence comes first
            room = ANSWER_BUDGET - sum(len(s.text) + 6 for s in keep)
            widened = []
            for s in keep:
                w = self._with_neighbour(q, s)
                if len(w.text) - len(s.text) <= room:
                    room -= len(w.text) - len(s.text)
                    s = w
                widened.append(s)
            keep = widened
        return keep

    def _balanced(self, s: Span) -> Span | None:
        """A sentence cut inside a quotation, widened to the whole quotation (None when that is too long): a
        lone quote mark would pair with one in the next sentence of the answer and misquote someone."""
        if _QUOTE_MARKS.findall(s.text).__len__() % 2 == 0 and s.text.count("“") == s.text.count("”"):
            return s
        text = self.store.document_text(s.doc_id)
        p_start = text.rfind("\n", 0, s.start) + 1
        p_end = text.find("\n", s.end)
        p_end = len(text) if p_end < 0 else p_end
        spans = sentences_in(text, p_start, p_end)
        first = next((i for i, (a, b) in enumerate(spans) if a <= s.start < b), None)
        last = next((i for i, (a, b) in enumerate(spans) if a < s.end <= b), first)
        if first is None or last is None:
            return None
        for lo in range(first, max(-1, first - 4), -1):
            for hi in range(max(first, last), min(len(spans), last + 4)):
                a, b = spans[lo][0], spans[hi][1]
                t = text[a:b]
                if b - a <= 700 and len(_QUOTE_MARKS.findall(t)) % 2 == 0 and t.count("“") == t.count("”"):
                    return Span(s.doc_id, a, b, t, s.score, s.location, s.title, s.url, s.outlet, s.passage, s.cover,
                                s.own, s.dense, s.lexical)
        return None

    def _diverse(self, q: Query, sents: list[Span], per_doc: bool) -> list[Span]:
        """Up to five points from different passages (different articles for 'across outlets'), on topic."""
        best = sents[0].score
        out: list[Span] = []
        seen_docs: set[int] = set()
        seen_passages: set[tuple[int, int]] = set()
        words: list[set[str]] = []
        # "what Xi, Putin and Kim each got": the best point about each name first, then the best of the rest
        firsts = []
        if len(q.names) >= 2 and not per_doc:
            lasts = [n.split()[-1] for n in q.names[:4]]
            for last in lasts:
                def about(s: Span, w: str) -> bool:
                    return re.search(rf"\b{re.escape(w)}\b", s.text, re.I) is not None
                fit = [s for s in sents[:60] if about(s, last) and s.score >= 0.45 * best and s not in firsts]
                # a point about this one rather than all of them together, when there is one
                alone = [s for s in fit if not any(about(s, o) for o in lasts if o != last)]
                if alone or fit:
                    firsts.append((alone or fit)[0])
        for s in firsts + [s for s in sents if s not in firsts]:
            off_topic = s.own < 0.3 and s.dense < 0.45 and not type_bonus(q.answer_type, s.text)
            if len(out) >= 5 or s.score < 0.45 * best or (per_doc and off_topic):
                if s in firsts:
                    continue
                if len(out) >= 5 or s.score < 0.45 * best:
                    break
                continue
            key = (s.doc_id, s.passage or 0)
            if key in seen_passages or (per_doc and s.doc_id in seen_docs) or len(s.text) < 40:
                continue
            w = set(content_terms(s.text))
            if any(len(w & x) > 0.6 * max(1, min(len(w), len(x))) for x in words):
                continue  # says what an earlier point said
            out.append(s)
            seen_docs.add(s.doc_id)
            seen_passages.add(key)
            words.append(w)
        return out

    def _with_neighbour(self, q: Query, s: Span) -> Span:
        """A sentence with the next (or previous) one in its paragraph when it is short or leans on it."""
        text = self.store.document_text(s.doc_id)
        p_start = text.rfind("\n", 0, s.start) + 1
        p_end = text.find("\n", s.end)
        p_end = len(text) if p_end < 0 else p_end
        spans = sentences_in(text, p_start, p_end)
        idx = next((i for i, (a, _) in enumerate(spans) if a == s.start), None)
        if idx is None:
            return s
        a, b = s.start, s.end
        nxt = spans[idx + 1] if idx + 1 < len(spans) else None
        prev = spans[idx - 1] if idx > 0 else None
        starts_with_ref = re.match(r"\s*(?:he|she|they|it|this|that|these|those|his|her|their|but|and|so|also|"
                                   r"however|yet|still)\b", s.text, re.I)
        if prev and starts_with_ref and (b - prev[0]) <= 600:
            a = prev[0]
        if nxt and (b - a) < 260 and (nxt[1] - a) <= 600:
            b = nxt[1]
        if (a, b) == (s.start, s.end):
            return s
        return Span(s.doc_id, a, b, text[a:b], s.score, s.location, s.title, s.url, s.outlet, s.passage, s.cover,
                    s.own, s.dense, s.lexical)

    def _who_is(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None) -> list[Span]:
        assert q.speaker
        last = q.speaker.split()[-1]
        hits, _ = self.candidates(q, reading, sources, since)
        sents = self.retriever.sentences(q, hits, require=[last])
        for s in sents:
            if _ROLE_HINT.search(s.text):
                s.score += 0.3
            idx = s.text.find(q.speaker)
            if idx >= 0 and re.match(r"\s*(?:,|is\b|was\b|\()", s.text[idx + len(q.speaker):]):
                s.score += 0.2  # "X, the ...", "X is ..."
            if idx > 0 and re.search(r"[a-z]\w*\s+$", s.text[:idx]) and _ROLE_HINT.search(s.text[max(0, idx - 60):idx]):
                s.score += 0.15  # "trade adviser Peter Navarro"
        sents.sort(key=lambda s: -s.score)
        if reading.exclude:
            # "tell me more about her": what the article goes on to say after what was shown ("She now ...")
            more = [c for s in sents[:6] if (c := self._continuation(s, reading.exclude)) is not None]
            sents = _dedupe(more + [s for s in sents if not _shown(s, reading.exclude)])
            return sents[:2]
        return _dedupe(sents[:4])[:2]

    def _continuation(self, s: Span, shown: list[tuple[int, int, int]]) -> Span | None:
        """The sentence after `s` in its paragraph (or after the shown span holding it), if not shown yet."""
        text = self.store.document_text(s.doc_id)
        end = max([b for d, a, b in shown if d == s.doc_id and a <= s.start < b] + [s.end])
        p_end = text.find("\n", end)
        p_end = len(text) if p_end < 0 else p_end
        nxt = sentences_in(text, end, p_end)
        nxt = [(a, b) for a, b in nxt if text[a:b].strip()]
        if not nxt:
            return None
        a = nxt[0][0] + (len(text[nxt[0][0]:nxt[0][1]]) - len(text[nxt[0][0]:nxt[0][1]].lstrip()))
        b = nxt[min(1, len(nxt) - 1)][1] if nxt[0][1] - a < 200 else nxt[0][1]
        span = Span(s.doc_id, a, b, text[a:b], s.score, s.location, s.title, s.url, s.outlet, s.passage)
        return None if _shown(span, shown) else span

    def _unknown_names(self, q: Query) -> list[str]:
        """In a question typed all in lower case, words no article uses and that are no typo of a word they
        use: names the articles never mention ("what did zelensky say"), so the honest answer is not found."""
        if any(c.isupper() for c in q.clean) or q.kind not in {"fact", "why", "quote", "who_is", "summary"}:
            return []
        if "*" in common_words():
            return []  # without a word list, an unknown word may be plain English: say nothing rather than guess
        out = []
        for t in q.terms:
            if len(t) < 4 or not t.isalpha() or self.retriever.doc_freq(t) > 0 or _ENGLISH_SUFFIX.search(t) \
                    or t in common_words():
                continue
            vocab = self.store.terms_like(t[:2])
            if vocab is None:
                return []  # this store cannot tell: say nothing rather than guess
            if not difflib.get_close_matches(stem(t), vocab, n=1, cutoff=0.75):
                out.append(t)
        return out

    def _is_source(self, name: str) -> bool:
        """True when a name is part of some stored document's location or outlet (not its text)."""
        return len(name) > 3 and self.store.names_a_source(name)

    def _mentioned(self, name: str, sources: list[str] | None = None) -> bool:
        """Whether any article the question may see mentions every word of a name."""
        toks = [w for t in content_terms(name) for w in re.findall(r"\w+", t) if len(w) > 1]
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
        ranked = sorted(rows, key=first_pass, reverse=True)
        seen_words: set[str] = set()
        unique = []
        for row in ranked:  # the same words syndicated in two articles are one quote
            key = " ".join(row.quote.text.casefold().split())
            if key not in seen_words:
                seen_words.add(key)
                unique.append(row)
        ranked = unique[:QUOTE_CANDIDATES]
        out = []
        for row in ranked:
            span = self._quote_span(row)
            score = first_pass(row) + (self.retriever.coverage(span.text, topic) if topic else 0.0)
            out.append(QuoteEvidence(row, span, score, fit=self.retriever.coverage(span.text, topic) if topic else 1.0))
        if topic and self.dense is not None and out:
            try:
                # the quote's own words (not its whole paragraph), and only the best few: each costs ~10 ms
                head = out[:QUOTES_EMBEDDED]
                vecs = self.dense.embed_texts([q.topic or ""] + [e.row.quote.text[:400] for e in head])
                for e, v in zip(head, vecs[1:], strict=False):
                    cos = float(v @ vecs[0])
                    e.score += 0.8 * cos
                    e.fit = max(e.fit, cos)
            except Exception:
                log.exception("quote embedding failed; ranking by words")
        out.sort(key=lambda e: -e.score)
        return out

    def _topic_quotes(self, q: Query, sources: list[str] | None, doc_ids: set[int] | None = None
                      ) -> list[QuoteEvidence]:
        terms = content_terms(q.topic or "") + [w for p in q.phrases for w in content_terms(p)]
        if not terms:
            return []
        hits = self.retriever.passages(q, sources=sources, limit=72 if doc_ids else 24)
        if doc_ids:
            hits = [h for h in hits if h.doc_id in doc_ids]
        keys = {(h.doc_id, h.ordinal) for h in hits}
        out = []
        # only quotes in the passages found can answer: read those documents' quotes, not every quote
        for row in self.store.quotes(doc_ids=sorted({h.doc_id for h in hits})):
            if not row.quote.speaker or (row.doc_id, row.quote.passage) not in keys:
                continue
            span = self._quote_span(row)
            cov = max(self.retriever.coverage(row.quote.text, terms), self.retriever.coverage(span.text, terms) * 0.9)
            has_phrase = any(fold(p).strip(" .,") in fold(row.quote.text) for p in q.phrases)
            if q.phrases and not has_phrase:
                continue  # "who called it 'X'?" is answered by whoever said X, or by the sentence that says it
            if has_phrase:
                cov += 0.5
            if cov >= 0.5:
                out.append(QuoteEvidence(row, span, cov))
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
        span = Span(row.doc_id, a, b, text[a:b], 0.0, row.location, row.title, row.url, row.outlet, q.passage)
        return self._balanced(span) or span  # a cited span that opens or closes a quotation halfway reads wrong

    # -- not found ---------------------------------------------------------------------------
    def _searched(self, q: Query, sources: list[str] | None) -> str:
        what = ", ".join(q.terms[:8]) or q.text[:120]
        scope = f" in sources matching {', '.join(sources)}" if sources else ""
        if q.kind == "quote" and q.speaker:
            return f"quotes by {q.speaker}" + (f" about {q.topic}" if q.topic else "") + f" and passages with: {what}{scope}"
        return f"passages with: {what}{scope}" + (" and passages with the same meaning" if self.dense else "")

    def _not_found(self, question: str, ev: Evidence, reading: Reading, extra: str = "") -> Answer:
        q = ev.query
        n = ev.documents
        lines = [f"I couldn't find an answer in the {n:,} stored article{'s' if n != 1 else ''}."]
        if reading.follow_up and reading.question != question:
            lines.append(f"I read your question as “{reading.question[:200]}”.")
        if ev.missing:
            lines.append("None of them mentions " + " or ".join(ev.missing) + ".")
        elif q.kind == "quote" and q.speaker:
            lines.append(f"No stored article quotes {q.speaker}" + (f" about {q.topic}." if q.topic else "."))
        elif q.years:
            lines.append("Nothing I found answers it for " + " and ".join(q.years) + ".")
        lines.append(f"I searched {ev.searched}.")
        lines.append("Try asking more broadly" + (f", e.g. “What happened with {q.topic}?”" if q.topic else
                                                  " or with other words") + ".")
        return Answer(question, " ".join(lines), found=False, why=extra or ev.searched)


def _names_someone_else(text: str, asked: set[str]) -> bool:
    """Whether a sentence names a person (two or more capitalised words, not at its start) not asked about."""
    for m in _NAME_IN_TEXT.finditer(text):
        words = m.group(0).split()
        if m.start() > 0 and len(words) >= 2 and not {w.casefold() for w in words} & asked:
            return True
    return False


def _shown(s: Span, shown: list[tuple[int, int, int]]) -> bool:
    """Whether a sentence lies inside a span an earlier answer already cited."""
    return any(d == s.doc_id and a <= s.start and s.end <= b for d, a, b in shown)


def _dedupe(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if any(o.doc_id == s.doc_id and not (s.end <= o.start or s.start >= o.end) for o in out):
            continue
        if any(s.text.strip() == o.text.strip() for o in out):
            continue
        out.append(s)
    return out


def _hit(doc: Document | None, ordinal: int, sources: list[str] | None, since: str | None) -> PassageHit | None:
    """A passage of a loaded document as a search hit, if the channel's scope and the time window allow it."""
    if doc is None:
        return None
    if sources and not any(s.casefold() in doc.location.casefold() for s in sources):
        return None
    if since and (doc.published or doc.fetched or "") < since:
        return None
    p = next((p for p in doc.passages if p.ordinal == ordinal), None)
    if p is None:
        return None
    return PassageHit(doc_id=doc.id, ordinal=p.ordinal, start=p.start, end=p.end, text=p.text, score=0.0,
                      location=doc.location, title=doc.title, url=doc.url, outlet=doc.outlet, published=doc.published)
