"""Selection: candidate passages (BM25 and vectors, fused) -> scored sentences -> the ones that answer.

Reads the store, the retriever and the dense index it is given; knows nothing of backends or wording.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bot import wordnet
from bot.brief import closing_commentary
from bot.brief_rules import leads_with_reference
from bot.citations import quotation_spans
from bot.conversation import Reading
from bot.differences import headline_and_lead, lead_sentence
from bot.domain import Document
from bot.question import Query
from bot.quotes.words import NON_PERSON
from bot.search import Retriever, Span, answers_type, counts, figures, fts_expression, type_bonus
from bot.spans import (
    balanced,
    gives_reason,
    is_balanced,
    reason_after,
    shown,
    typed_near,
    with_neighbour,
    with_next,
    with_previous,
)
from bot.store.base import PassageHit, Store, in_scope
from bot.text import YEAR, content_terms, sentences_in, stem
from bot.text import stems as stems_of

log = logging.getLogger("briefbot.selection")

KIND_CHECKED = 30  # best sentences checked for naming a kind of what "which NOUN …?" asks
KIND_BONUS = 0.4  # 0.25 and 0.4 tie on our sets
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al.): ranks, not raw scores, are fused
CANDIDATES = 30  # passages fused from each retriever
DENSE_WEIGHT = 1.0  # a sentence's cosine against its words' weighted coverage (tried 0.45-1.2 on our questions)
ANSWER_BUDGET = 880  # characters of cited text in a fact answer (the extractive composer's ceiling is 900)
FOLLOW_UP_EVIDENCE = 0.6  # share of the usual evidence a follow-up needs inside the conversation's articles
FOLLOW_UP_MARGIN = 0.25  # how much better another article must answer a follow-up than the conversation's own
KNOWN_WEIGHT = 0.4  # a follow-up's name that stood for "he"/"she", against the words it asks with (1, 0.6, 0.25 measured)
BOTH_SUBJECTS_PENALTY = 0.3  # an ellipsis follow-up's sentence that also names the subject it replaced
INSTEAD_MISSING_PENALTY = 1.0  # "And Tokyo?": a sentence not about Tokyo answers nothing asked (0.6 and 1.5 measured)
ASKED_MISSING_PENALTY = 1.0  # "who did he thank?": a sentence about him without "thank" answers the turn before
# a one-article summary point: the weight, against its match with the question (1 at best), of the article's
# repeated words it holds, of giving a figure and of being at or near the lead (on our 43 summary questions, with
# or without the nearness to the lead: 22 as before, each way one gained and one lost)
ARTICLE_SHARE_WEIGHT = 1.0  # on a 0..1 scale: the sentence holding most of what the article repeats
FIGURE_BONUS = 0.05
COVERED_WEIGHT = 0.5  # a repeated word's weight in a summary's next point once a point holds it
TYPED_ELSEWHERE = 0.75  # of the best score: a figure in another shown article's sentence that close answers too
TYPED_SHARE = 0.6  # of its article's best score: across outlets, a sentence giving the figure asked for answers
LEAD_BONUS = 0.3  # for the lead, less for each sentence after it, none from the LEAD_SENTENCES-th on
LEAD_SENTENCES = 6
FIGURE_ANSWERS = {"money", "age", "number"}  # a question whose answer is a figure of this kind is not answered without one
TYPED_FOLLOW_UP = {"age", "money", "when", "number", "outlets", "ordinal"}  # answers of a form a sentence shows
ASKED_RARE_SHARE = 0.02  # ... counting only words in at most this share of passages ("way", "run" say little)
NAMED_READ_WHOLE = 5  # articles naming what is asked about read whole when no more name it
NAMED_KEPT = 256  # questions' named articles kept (a question asks several times; repeated questions too)
STORY_READ_WHOLE = 8  # up to this many articles, a restricted search reads every passage
DOC_WEIGHT = 0.3  # an article's coverage of the whole question (0.3 and 0.6 tied on our questions)
DOC_STEMS_KEPT = 4096  # articles whose stems are kept between questions (~10 KB each)
NAMESAKE_PENALTY = 0.5  # a sentence naming another person of the asked person's surname, and not them
ROLE_SEARCHED = 30  # candidates searched for the role a who-question asks about
SENTENCES_EMBEDDED = 6  # best sentences embedded at question time (~10 ms each on one core), and half as many by meaning
# "Found" thresholds, calibrated on our own questions (bench/heldout, tests/test_answer.py) over seeds + BBC:
# a sentence answers when it holds enough of the question's weighted words, or when it means the same
# (cosine) and shares at least some of them.
# the earlier turns' words weigh at most half a follow-up's own (0.3, 0.5, 1.0 and none tried on our conversations)
CONTEXT_SHARE = 0.5
SHORT_POINT = 80  # characters: a shorter summary point is widened by the sentence after it
FOUND_LEXICAL = 0.45
RESTATES = 0.6  # a sentence holding this share of the question's weighted words restates it (0.0-0.6 tied on our sets)
COMPARED_SHARE = 0.8  # of the best score: the sentences whose articles a comparison is asked of
STORY_VOTERS = 60  # a summary request's best sentences whose stories are weighed against each other
FOUND_DENSE = 0.42  # 0.50 -> 0.42 on our 150 held-out questions: +5 paraphrases found, none of the 17 absent ones
FOUND_DENSE_MIN_LEXICAL = 0.12
TYPED_FOUND_LEXICAL = 0.3
NAME_IN_TEXT = re.compile(r"\b[A-Z][a-z][\w'’-]*(?: (?:[A-Z][\w'’-]+|(?:de|van|von|bin|al)\b(?= [A-Z])))*")
_ATTRIBUTION = re.compile(r"\b(?:reported|reports|according to|told|said|says|wrote|writes|cited|quoted|"
                          r"commented|correspondent|agency|newspaper)\b", re.I)


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


class Selector:
    """Finds and chooses the sentences that answer: the analysed question, the conversation's reading and the
    channel's scope in, scored sentences out (best first; [] when none answers with enough confidence).

    Holds only what outlives a question: the store, the retriever, the dense index, and the story of each
    document (reread when the store grows). Each call is timed into the Stages it is given.
    """

    def __init__(self, store: Store, retriever: Retriever, dense: DenseSearch | None = None) -> None:
        self.store = store
        self.retriever = retriever
        self.dense = dense
        self._story_of: dict[int, int] = {}
        self._doc_stems: OrderedDict[tuple[int, str], frozenset[str]] = OrderedDict()  # by (id, content hash)
        self._stems_lock = threading.Lock()  # (also guards _named and _tails)
        self._tails: OrderedDict[tuple[int, str], int] = OrderedDict()  # where each article stops reporting
        self._named: dict[tuple[object, ...], set[int]] = {}  # _named_articles, by question names, scope and store size
        self._stories_n = -1

    def candidates(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None,
                   doc_ids: set[int] | None = None, st: Stages | None = None
                   ) -> tuple[list[PassageHit], dict[tuple[int, int], float]]:
        """Passages by reciprocal rank fusion of BM25 and dense search, with each one's cosine (when known)."""
        st = st or Stages()
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
        whole = doc_ids if doc_ids and len(doc_ids) <= STORY_READ_WHOLE else None
        if not doc_ids:
            whole = self._named_articles(q, sources, since)
        if whole:
            # a handful of articles (a story, a conversation, the few that name what is asked about) is read whole:
            # what the question asks may share neither words nor meaning with it ("which outlets do they cite?")
            have = {(h.doc_id, h.ordinal) for h in out}
            for doc in self.store.documents_by_id(sorted(whole)).values():
                for p in doc.passages[:200]:
                    if (doc.id, p.ordinal) not in have:
                        extra_hit = _hit(doc, p.ordinal, sources, since)
                        if extra_hit is not None:
                            out.append(extra_hit)
        st.lap("fusion")
        return out, cos

    def _named_articles(self, q: Query, sources: list[str] | None, since: str | None) -> set[int]:
        """The articles that mention the question's rarest name, when they are few: "how long did last year's
        Glastonbury passes take to run out?" is answered in a paragraph of the Glastonbury article that never
        repeats the name ("all 112,000 tickets sold out in 24 hours")."""
        # one question scores several times (the whole store, its parts, its story): looked up once for all of them
        key = (q.names, tuple(sources or ()), since, self.retriever.passage_count)
        with self._stems_lock:
            if key in self._named:
                return self._named[key]
        best: set[int] = set()
        for name in q.names:
            if self.retriever.doc_freq(name) > NAMED_READ_WHOLE * 10:  # passages: more than a few articles' worth
                continue
            docs = {h.doc_id for h in self.store.search_passages(fts_expression([name]), limit=NAMED_READ_WHOLE * 10,
                                                                 sources=sources, since=since)}
            if docs and len(docs) <= NAMED_READ_WHOLE and (not best or len(docs) < len(best)):
                best = docs
        with self._stems_lock:
            if len(self._named) >= NAMED_KEPT:
                self._named.clear()
            self._named[key] = best
        return best

    # -- selection ---------------------------------------------------------------------------

    def select(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None,
               require: list[str] | None = None, st: Stages | None = None) -> list[Span]:
        """The sentences that answer, best first; [] when none answers with enough confidence."""
        st = st or Stages()
        prefer = set(reading.prefer_docs)
        sents = self._score(q, reading, sources, since, require, None, st)
        if q.kind in {"summary", "multi"} and sents and self._confident(q, sents[0]):
            # "the summit articles": the story of the best match; its articles are the ones to sum up or compare
            if q.kind == "summary":
                lead = self._story_lead(q, sents)
                story = self.story_docs(lead.doc_id)
            else:
                story = self._compared(q, sents)
            if q.kind == "summary" and len(story) < 2:
                # one article: its gist is what it says most (the product, the figures, who objected), not only
                # the sentences that repeat the question's words
                whole = self._score(q, reading, sources, since, require, {lead.doc_id}, st)
                if whole:
                    return self._finish(q, reading, self._salient(whole))
            if len(story) >= 2:
                # across outlets, compare on what sets the articles apart; a summary keeps the whole question
                asked = self._within_story(q, story) if q.kind == "multi" else q
                within = self._score(asked, reading, sources, since, require, story, st)
                if within:
                    return self._finish(q, reading, within, self._each(q, reading, sources, since, story, st))
        if reading.follow_up and prefer:
            # a follow-up is answered where the conversation has been, unless another article answers clearly
            # better; there, less evidence is needed (the conversation already chose those articles)
            local = self._score(q, reading, sources, since, require, prefer, st)
            if reading.near and q.answer_type in TYPED_FOLLOW_UP:
                # "how much did they pay?" right after the sale was shown: the figure shown with it answers, not
                # another figure of those articles that shares the word "pay"
                # (at the first thing shown first: the answer before the passages cited beside it)
                at = sorted((x for x in local if _at_shown(x, reading.near) and type_bonus(q.answer_type, x.text)),
                            key=lambda x: min(i for i, n in enumerate(reading.near) if _at_shown(x, [n])))
                local = at + [x for x in local if x not in at]
            # "and 2005?" after Singapore's growth in 2004: the conversation's article gives 2005 too; another
            # article's "Thailand's economy is expected to grow by 5.7% in 2005" is about someone else
            swapped_here = bool(reading.instead) and any(
                x.doc_id in prefer and {stem(w) for w in reading.instead} <= {stem(w) for w in content_terms(x.text)}
                for x in local[:20])
            if local and (self._confident(q, local[0], in_context=True) or reading.anchored) and (
                    reading.more or reading.anchored or swapped_here or not sents
                    or local[0].score >= sents[0].score - FOLLOW_UP_MARGIN):
                return self._finish(q, reading, local)
        if q.years and sents:
            # "… in 2024": the best sentences with that year near them come first
            holding = [x for x in sents[:30] if self._constraints_hold(q, x)]
            sents = holding + [x for x in sents if x not in holding]
        if not sents or not self._confident(q, sents[0]):
            return []
        return self._shows_figure(q, self._finish(q, reading, sents))

    def _story_lead(self, q: Query, sents: list[Span]) -> Span:
        """"Give me the gist of the summit": the best sentence of the story with the most articles holding every
        word of the request (five reports of the Beijing summit, not the one article whose best sentence says "A G8
        summit is set to take place"); the best sentence when no other story has more."""
        terms = {stem(t) for t in q.terms}
        if not terms:
            return sents[0]
        firsts: dict[frozenset[int], Span] = {}
        for s in sents[:STORY_VOTERS]:
            firsts.setdefault(frozenset(self.story_docs(s.doc_id)) or frozenset([s.doc_id]), s)
        docs = self.store.documents_by_id(sorted({d for story in firsts for d in story}))

        def leads_with(doc: Document) -> bool:
            return terms <= {stem(w) for w in content_terms(headline_and_lead(doc))}

        # an article whose headline or lead holds the words is about them (twice an article that mentions them):
        # "ipod sales" is the iPod family's sales story, not two Mac mini reports that mention iPod sales
        holding = {story: sum((terms <= self.stems(docs[d])) + 2 * leads_with(docs[d]) for d in story if d in docs)
                   for story in firsts}
        best = max(firsts, key=lambda story: (holding[story], firsts[story].score))
        first = next(iter(firsts))  # the story of the best sentence
        return firsts[best] if holding[best] > max(1, holding[first]) else sents[0]

    def _compared(self, q: Query, sents: list[Span]) -> set[int]:
        """"Do the reports agree on …?" asks of two articles or more: the story of the best sentence that belongs to
        a story of several articles, among those close to the best; when none does, the articles of the sentences
        close to the best ("how many copies do the reports say Dan Brown's novel has sold?": four articles that
        each give a figure, on a film, a bishop and a bestseller list, are no story, and the story of Band Aid's
        sales further down is not what was asked); of those, the articles that name whom the question names."""
        close = [s for s in sents[:STORY_VOTERS] if s.score >= COMPARED_SHARE * sents[0].score]
        lead = next((s for s in close if len(self.story_docs(s.doc_id)) >= 2), None)
        if lead is not None:
            return self.story_docs(lead.doc_id)
        docs = set(list(dict.fromkeys(s.doc_id for s in close))[:STORY_READ_WHOLE])
        naming = self._naming(q, docs)
        return naming if len(naming) >= 2 else docs

    def _naming(self, q: Query, doc_ids: set[int]) -> set[int]:
        """The articles that name everyone the question names (by a word of each name: "Quill's book", "Trump"
        for "Trump's America"), read in one go; all of them when the question names no one."""
        if not q.names:
            return set(doc_ids)
        words = [re.sub(r"['’]s\b", "", n).split() for n in q.names]
        docs = self.store.documents_by_id(sorted(doc_ids))
        return {d for d, doc in docs.items()
                if all(any(re.search(rf"\b{re.escape(w)}\b", doc.text, re.I) for w in name) for name in words)}

    @staticmethod
    def _shows_figure(q: Query, keep: list[Span]) -> list[Span]:
        """"What price did they agree?" is answered by a price: sentences about the deal that give none (the
        article's nearest figure included) answer nothing asked."""
        if q.answer_type in FIGURE_ANSWERS and not q.counted and keep \
                and not any(type_bonus(q.answer_type, s.text) for s in keep):
            return []
        return keep

    def _salient(self, sents: list[Span]) -> list[Span]:
        """Sentences of one article reordered by how much of the article they say: the weight of the words other
        sentences of the article repeat (against the sentence holding the most), a figure, nearness to the lead
        (news tells the most in its first sentences), on top of its match with the question."""
        doc_text = self.store.document_text(sents[0].doc_id)
        spans = sentences_in(doc_text, 0, len(doc_text))
        order = {a: i for i, (a, _) in enumerate(spans)}
        per_sentence = [stems_of(doc_text[a:b]) for a, b in spans]
        tf = Counter(t for st in per_sentence for t in st)
        weight = {t: float(c - 1) for t, c in tf.items() if c >= 2}
        top = max((sum(weight.get(t, 0.0) for t in st) for st in per_sentence), default=0.0) or 1.0
        best = max((s.score for s in sents), default=1.0) or 1.0
        cands = []
        for s in sents:
            if s.text.lstrip()[:1] in "\"“" and leads_with_reference(s.text.lstrip("\"“ ")):
                continue  # "“This is the biggest investment …”": a quotation about what it does not say
            fig = FIGURE_BONUS if type_bonus("number", s.text) else 0.0  # an amount: a sum of money too
            idx = order.get(s.start, min((i for a, i in order.items() if a >= s.start), default=len(order)))
            lead = LEAD_BONUS * max(0.0, 1.0 - idx / LEAD_SENTENCES)
            cands.append((s.score / best + fig + lead, set(stems_of(s.text)), s))
        out: list[Span] = []
        while cands:
            # what a sentence says that the ones before it have not (SumBasic, Nenkova & Vanderwende 2005): the
            # words of each one taken weigh less in the next, so the points cover the article, not its first theme
            i = max(range(len(cands)), key=lambda j: cands[j][0] + ARTICLE_SHARE_WEIGHT
                    * sum(weight.get(t, 0.0) for t in cands[j][1]) / top)
            _, taken, s = cands.pop(i)
            for t in taken:
                if t in weight:
                    weight[t] *= COVERED_WEIGHT
            out.append(s)
        for i, s in enumerate(out):
            s.score = 1.0 - 0.001 * i  # all of the article is on topic: the order is what counts
        return out

    def _each(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None, story: set[int],
              st: Stages) -> list[Span]:
        """"What Xi, Putin and Kim each got out of it": the question asked of each listed name on its own (the
        whole question rewards sentences naming all three at once), the best point about each; [] unless the
        question lists two or more names."""
        listed = _listed(q.text, q.names) if q.kind == "summary" and len(q.names) >= 2 else []
        if len(listed) < 2:
            return []
        listed_words = {w.casefold() for n in listed for w in n.split()}
        rest = tuple(t for t in q.terms if t not in listed_words)
        picks: list[list[Span]] = []  # per name, its candidate points, best first
        openers: list[dict[int, Span]] = []  # per name, the best sentence of each article that opens with them
        for name in listed[:4]:
            one = replace(q, names=(name,), terms=tuple(w.casefold() for w in name.split()) + rest)
            last = name.split()[-1]
            others = [n.split()[-1] for n in listed if n != name]
            scored = self._score(one, reading, sources, since, None, story, st)
            alone = [s for s in scored if re.search(rf"\b{re.escape(last)}\b", s.text, re.I)
                     and not any(re.search(rf"\b{re.escape(o)}\b", s.text, re.I) for o in others)]
            # one that opens with them ("For Putin, the win in Beijing was immediate.") before one naming them in
            # passing
            opens = [s for s in alone if re.search(rf"\b{re.escape(last)}\b", s.text[:30], re.I)]
            top = {(s.doc_id, s.start) for s in scored[:30]}
            picks.append([s for s in opens + alone if (s.doc_id, s.start) in top])
            firsts: dict[int, Span] = {}
            for s in opens:
                firsts.setdefault(s.doc_id, s)
            openers.append(firsts)
        # an article that takes each of them in turn ("For Putin, …", "Kim Jong Un, meanwhile, …") answers "what
        # did each get": its point about each, even one sharing no other word with the question, comes first
        count = Counter(d for firsts in openers for d in firsts)
        turn_by_turn = [d for d, c in count.most_common() if c >= max(2, len(openers) - 1)][:1]
        out: list[Span] = []
        for cands, firsts in zip(picks, openers, strict=True):
            ordered = [firsts[d] for d in turn_by_turn if d in firsts] + cands
            chosen = next((s for s in ordered if s not in out), None)
            if chosen is not None:
                out.append(chosen)
        return out

    def _within_story(self, q: Query, story: set[int]) -> Query:
        """The question inside one story: the story's subject, words every article holds and one opens with
        ("summit"), tells nothing there; a word each holds further down is what is asked ("Tamagotchi" in two
        reports of a list of gadgets)."""
        docs = self.store.documents_by_id(sorted(story))
        stems = [self.stems(d) for d in docs.values()]
        leads = {stem(w) for d in docs.values() for w in content_terms(headline_and_lead(d))}
        telling = tuple(t for t in q.terms if stem(t) not in leads or sum(stem(t) in x for x in stems) < len(stems))
        return replace(q, terms=telling)

    def _text(self, s: Span) -> str:
        return self.store.document_text(s.doc_id)

    def balanced(self, s: Span) -> Span | None:
        """`s` whole (spans.balanced), reading its article only when it cuts a quotation: most sentences do
        not, and an article read is a query."""
        return s if is_balanced(s.text) else balanced(self._text(s), s)

    def story_docs(self, doc_id: int) -> set[int]:
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
               require: list[str] | None, doc_ids: set[int] | None, st: Stages) -> list[Span]:
        hits, cos = self.candidates(q, reading, sources, since, doc_ids, st)
        if not hits:
            return []
        # "that think tank": the words of the turns it points back to count as much as its own
        weights = self.retriever.weights(q, context_weight=1.0 if reading.pointing else 0.4,
                                         context_share=None if reading.pointing else CONTEXT_SHARE)
        for w in reading.known:
            # "where was he born?": the person is who the conversation is about, "born" is what it asks
            if stem(w) in weights:
                weights[stem(w)] *= KNOWN_WEIGHT
        sents = self.retriever.sentences(q, hits, require=require, weights=weights)
        if reading.exclude:
            sents = [s for s in sents if not shown(s, reading.exclude)]
        top = max((h.score for h in hits), default=1.0) or 1.0
        fused = {(h.doc_id, h.ordinal): h.score / top for h in hits}
        cos = self._passage_cosines(q, hits, cos)
        docs = self.store.documents_by_id(sorted({s.doc_id for s in sents})) if sents else {}
        # readers' comments (or a team line-up) closing an article report nothing: "As an employer of staff in
        # several shops the last rise in the minimum wage cost my company …" answers no question about the rise
        sents = [s for s in sents if s.doc_id not in docs or s.start < self._reporting_end(docs[s.doc_id])]
        doc_cover = self._doc_cover(weights, docs)
        asked = {w.casefold() for n in q.names for w in n.split()}
        namesakes = _namesakes(q)
        for s in sents:
            s.dense = 0.9 * cos.get((s.doc_id, s.passage or 0), 0.0)
            if any(_namesake_in(other, s.text) and not full.search(s.text) for full, other in namesakes):
                # "why is Tam Rusk quitting?": "correspondent Ann Rusk said …" is about someone else of that name
                s.lexical -= NAMESAKE_PENALTY
            # a sentence in an article about the whole question beats one that shares words by chance
            s.lexical += DOC_WEIGHT * doc_cover.get(s.doc_id, 0.0)
            if q.answer_type == "who" and _names_someone_else(s.text, asked):
                s.lexical += 0.2  # "who plays Mary Poppins?" is answered by a sentence naming another person
            if q.answer_type == "event" and (s.passage or 0) <= 2:
                s.lexical += 0.2  # "what happened to …?": news says it first (the lead)
        self._kind_bonus(q, sents)
        # a follow-up asking an age, a figure, a date or an outlet: the sentences that show one
        showing = {(s.doc_id, s.start) for s in sents if type_bonus(q.answer_type, s.text) > 0} \
            if q.answer_type in TYPED_FOLLOW_UP and reading.follow_up else set()
        lacking = self._lacking_asked(q, reading, sents, docs, showing) | _lacking_role(q, sents)
        for s in sents:
            # "how old is he?": "Mr Osk, 21," in the conversation's article answers, whatever words it shares
            if s.doc_id in reading.prefer_docs and (s.doc_id, s.start) in showing:
                s.own = max(s.own, FOUND_LEXICAL)
        self._rescore(sents, fused, reading, lacking)
        # the best by the words-and-passage score, and the best by passage meaning alone (a paraphrase shares
        # no words with its answer), get a sentence-level cosine
        by_meaning = sorted(sents[SENTENCES_EMBEDDED:], key=lambda s: -s.dense)[:SENTENCES_EMBEDDED // 2]
        if self._embed_sentences(q, sents[:SENTENCES_EMBEDDED] + by_meaning):
            self._rescore(sents, fused, reading, lacking)
        st.lap("selection")
        return sents

    @staticmethod
    def _kind_bonus(q: Query, sents: list[Span]) -> None:
        """"Which relative did he have executed?": a sentence naming a kind of relative ("his uncle") answers
        what is asked; one about the execution alone does not (the best sentences by words are checked)."""
        wn = wordnet.shared()
        if not q.kind_asked or wn is None:
            return
        asked = {stem(t) for t in q.terms}
        for s in sents[:KIND_CHECKED]:
            if any(wn.is_kind_of(w, q.kind_asked) for w in dict.fromkeys(content_terms(s.text))
                   if w.isalpha() and stem(w) not in asked):
                s.lexical += KIND_BONUS

    def _lacking_asked(self, q: Query, reading: Reading, sents: list[Span], docs: dict[int, Document],
                       showing: set[tuple[int, int]]) -> set[tuple[int, int]]:
        """In a follow-up, the sentences holding none of the words it newly asks with ("thank" in "who did he
        thank for it?", not the person "he" stood for nor the earlier turns' words) and, for a figure, an age
        or a date, none that looks like one ("how old is he?"), when a sentence of the
        conversation's articles holds one: those tell about the subject, not what is asked. Empty when the
        follow-up asks with no telling new word ("why?", "more detail", "which way would it run?") or its articles
        hold none (they say it in other words). With a person "he"/"she" stood for, also the sentences of other
        articles that do not name them."""
        if not reading.follow_up or reading.instead:
            return set()
        elsewhere: set[tuple[int, int]] = set()
        if reading.known and reading.prefer_docs:
            # "how old is he?": in another article that does not name him in full, a sentence is about someone else
            # ("BBC correspondent Carole Walker said" is no answer about Dougie Walker)
            full = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in reading.known) + r"\b", re.I)
            others = {s.doc_id for s in sents if s.doc_id not in reading.prefer_docs}
            strangers = {d for d in others if d in docs and not full.search(docs[d].text)}
            elsewhere = {(s.doc_id, s.start) for s in sents if s.doc_id in strangers}
        carried = {stem(w) for w in reading.known + reading.context}
        carried |= {stem(w.casefold()) for n in q.names for w in n.split()}
        n = max(1, self.retriever.passage_count)
        rare = max(ASKED_RARE_SHARE * n, 2)
        asked = set() if reading.near else {  # "which paper said that?" asks with words of no weight
            stem(t) for t in q.terms if 0 < self.retriever.doc_freq(t) <= rare} - carried
        if not asked and not showing:
            return elsewhere
        holding = showing | {(s.doc_id, s.start) for s in sents if asked & stems_of(s.text)}
        if not any(d in reading.prefer_docs for d, _ in holding):
            return elsewhere  # the conversation's articles say it in other words ("which way would it run?")
        return elsewhere | {(s.doc_id, s.start) for s in sents if (s.doc_id, s.start) not in holding}

    @staticmethod
    def _rescore(sents: list[Span], fused: dict[tuple[int, int], float], reading: Reading,
                 lacking: set[tuple[int, int]] | None = None) -> None:
        for s in sents:
            s.score = s.lexical + DENSE_WEIGHT * s.dense + 0.1 * fused.get((s.doc_id, s.passage or 0), 0.0)
            if lacking and (s.doc_id, s.start) in lacking:
                s.score -= ASKED_MISSING_PENALTY
            if reading.avoid and not reading.instead and any(re.search(rf"\b{re.escape(w)}\b", s.text, re.I)
                                                             for w in reading.avoid):
                s.score -= 0.5  # "who else ...?": someone other than the one the last answer was about
            names_old = reading.instead and any(re.search(rf"\b{re.escape(w)}", s.text, re.I) for w in reading.avoid)
            missing = 0.0
            if reading.instead:
                held = {stem(x) for x in content_terms(s.text)}
                missing = sum(stem(t) not in held for t in reading.instead) / len(reading.instead)
            if missing == 1:
                # "And Europeans?" is about the Europeans; a sentence about the Britons answered the last question
                s.score -= INSTEAD_MISSING_PENALTY + (0.3 if names_old else 0.0)
            elif missing:
                s.score -= INSTEAD_MISSING_PENALTY * missing  # "best british film" is not any British film
            elif names_old:
                # "and Tokyo?" after Seoul: "a warning to Washington, Tokyo, and Seoul" names both in passing;
                # a sentence about Tokyo alone says how Tokyo reacted
                s.score -= BOTH_SUBJECTS_PENALTY
            if reading.near and _at_shown(s, reading.near):
                # "which agency reported that?": the answer is at what was shown, where it names its source
                s.score += 0.3 + (0.15 if _ATTRIBUTION.search(s.text) else 0.0)
                s.own = max(s.own, FOUND_LEXICAL)
        sents.sort(key=lambda s: -s.score)

    def _doc_cover(self, weights: dict[str, float], docs: dict[int, Document]) -> dict[int, float]:
        """Each article's weighted share of the question's words, in its title and text."""
        total = sum(weights.values()) or 1.0
        out = {}
        for d, doc in docs.items():
            stems = self.stems(doc)
            out[d] = sum(w for s, w in weights.items() if s in stems) / total
        return out

    def stems(self, doc: Document) -> frozenset[str]:
        """The stems of an article's title and text (its first 20,000 characters), kept for the next questions:
        the same articles come back question after question, and reading one costs a millisecond. Keyed by the
        text's hash too, so a document replaced by its next version is read again."""
        key = (doc.id, doc.content_hash)
        with self._stems_lock:  # worker threads answer at once
            got = self._doc_stems.get(key)
            if got is not None:
                self._doc_stems.move_to_end(key)
                return got
        got = frozenset(stems_of(doc.title + "\n" + doc.text[:20_000]))
        with self._stems_lock:
            self._doc_stems[key] = got
            while len(self._doc_stems) > DOC_STEMS_KEPT:
                self._doc_stems.popitem(last=False)
        return got

    def _reporting_end(self, doc: Document) -> int:
        """Where the readers' comments closing an article begin (bot.brief.closing_commentary), kept per article."""
        key = (doc.id, doc.content_hash)
        with self._stems_lock:
            end = self._tails.get(key)
        if end is None:
            end = closing_commentary(doc)
            with self._stems_lock:
                self._tails[key] = end
                while len(self._tails) > DOC_STEMS_KEPT:
                    self._tails.popitem(last=False)
        return end

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
        if q.counted and counts(q.counted, best.text) and best.own >= TYPED_FOUND_LEXICAL * scale:
            # "how long will the strike last?" -> "… began a 48-hour strike": the count asked for, of the thing
            # asked about, is evidence that less of the question's wording is needed
            return self._constraints_hold(q, best)
        return False

    def _constraints_hold(self, q: Query, best: Span) -> bool:
        """A year or number the question names must be in the answering article, near the answer."""
        if not q.years:
            return True
        text = self.store.document_text(best.doc_id)
        window = text[max(0, best.start - 600): best.end + 600]
        return all(y in window for y in q.years)

    def _finish(self, q: Query, reading: Reading, sents: list[Span], firsts: list[Span] | None = None) -> list[Span]:
        """The chosen sentences, each widened by its neighbour when that carries the answer, in answer order
        (`firsts`: points a summary must open with, one about each name it lists)."""
        sents = [b for s in sents[:40] if (b := self.balanced(s)) is not None] or sents[:1]
        best = sents[0].score
        if q.kind in {"summary", "multi"} or reading.more:
            if q.kind == "summary":
                # a key point says what happened: someone's words alone, without who said them, do not
                sents = [s for s in sents if not _bare_quotation(s.text)] or sents
            firsts = [b for s in firsts or [] if (b := self.balanced(s)) is not None]
            one_article = q.kind == "summary" and len({s.doc_id for s in sents}) == 1
            if one_article:
                # the gist of one article reads as the article does: its lead first (news says it there), then
                # its salient points in their order, up to two from a long paragraph
                firsts = [lead] if (lead := self._lead_of(sents)) is not None else firsts
            if q.kind == "multi":
                sents = _typed_first(q, sents)
                # across outlets about someone: the articles that name them ("the reports on Mara Quill's novel"
                # are not a choir's single that sold copies too)
                naming = self._naming(q, {s.doc_id for s in sents}) if q.names else set()
                sents = [s for s in sents if s.doc_id in naming] or sents
            keep = self._diverse(q, sents, per_doc=(q.kind == "multi"), firsts=firsts,
                                 per_passage=2 if one_article else 1, in_order=one_article)
            if one_article:
                keep.sort(key=lambda s: s.start)
        else:
            # a reason or a means is often told apart from the sentence that restates the question
            share = 0.7 if q.answer_type in {"why", "how"} else 0.8
            # up to three sentences close to the best: when the evidence does not single one out, the reader sees
            # the close candidates (within ANSWER_BUDGET) rather than the one the scores happened to put first
            keep = dedupe(s for s in sents[:6] if s.score >= share * best)[:3]
            # someone's words alone, without who said them, do not open an answer when another candidate can
            keep.sort(key=lambda s: _bare_quotation(s.text))  # (stable: the others keep their order)
            if q.answer_type == "how":
                # "how did she travel?": sentences that name the means answer; one that restates the trip does not
                means = dedupe(s for s in sents[:12] if type_bonus("how", s.text) and s.score >= 0.6 * best)
                keep = dedupe(means + keep)[:3]
            if q.answer_type == "why" and keep and not any(gives_reason(self._text(s), s) for s in keep):
                # "why did Kim visit a missile lab?": the best match restates the visit; the article gives the
                # reason in what follows ("… was no coincidence. It sends a layered message: …")
                close = [s for s in sents[1:6] if s.score >= share * best and s not in keep
                         and gives_reason(self._text(s), s)]
                reason = close[0] if close else reason_after(self._text(keep[0]), keep[0])
                if reason is not None:
                    keep = dedupe([keep[0], reason] + keep[1:])[:3]
                elif keep[0].own >= RESTATES and (joined := with_next(self._text(keep[0]), keep[0])) is not None \
                        and (joined := self.balanced(joined)) is not None:
                    # "why has the quarter-final been moved?" -> "… has been switched to Real Sociedad's stadium."
                    # restates it; news explains in the next sentence, cue or none ("Real's ground holds 32,000
                    # whereas …"): a why-answer that only restates the question tells nothing
                    keep = dedupe([joined] + keep[1:])[:3]
            # "when is she going to be back?": the latest year the article gives ("not … sooner than 2006"), not the
            # date of what has happened ("sidelined since June 2004"), even when the answer so far gives that one
            later = _latest_year if q.answer_type == "when" and _FUTURE.search(q.clean or q.text) else None
            have = max(_latest_year(s.text) for s in keep) if later is not None and keep else 0

            def holds(t: str) -> bool:
                return answers_type(q, t) and (later is None or _latest_year(t) > have)

            # (a figure in another article's sentence, "a bill of more than $27bn" for Yukos, answers nothing about
            # the best one's "bill")
            if keep and q.answer_type in {"when", "number", "money", "age", "ordinal", "named"} and (
                    later is not None or not any(answers_type(q, s.text) for s in keep if s.doc_id == keep[0].doc_id)):
                # "when is it opening?": the date is often in another sentence of the same article
                typed = [s for s in sents[:40] if s.doc_id == keep[0].doc_id and holds(s.text)
                         and s.score >= 0.5 * best and len(dedupe([keep[0], s])) == 2]
                if later is not None:
                    typed.sort(key=lambda s: -later(s.text))
                if not typed:
                    # "how long did Iran jail the blogger?": the best match says he is in prison; another article the
                    # answer shows says "jailed for 14 years" in a sentence nearly as close to the question
                    shown_docs = {s.doc_id for s in keep}
                    typed = [s for s in sents[:40] if s.doc_id in shown_docs and s.doc_id != keep[0].doc_id
                             and holds(s.text) and s.score >= TYPED_ELSEWHERE * best]
                if not typed:
                    # the figure may be in a passage that shares no word with the question ("the size of the bill"
                    # -> "A demand for unpaid taxes and fines of $600,000"): the nearest in the article
                    near = typed_near(self._text(keep[0]), keep[0], holds, prefer=later)
                    typed = [near] if near is not None else []
                keep = dedupe(keep[:1] + typed[:1] + keep[1:])[:3]
            if keep and q.answer_type in {"who", "when", "number", "money", "age", "outlets", "names", "named"} \
                    and not self._carries(q, keep[0].text):
                # "who will run the bank?" -> "Israel has asked a US banker ..." / "Stanley Fischer has agreed ...":
                # news often gives the name (the date, the figure) in the next paragraph's first sentence
                joined = with_next(self._text(keep[0]), keep[0])
                joined = self.balanced(joined) if joined is not None else None
                if joined is not None and self._carries(q, joined.text[len(keep[0].text):]):
                    keep = dedupe([joined] + keep[1:])  # the next sentence may be the one the answer had already
        if q.kind not in {"summary", "multi"}:
            # neighbours only while the reply stays short: every chosen sentence comes first
            room = ANSWER_BUDGET - sum(len(s.text) + 6 for s in keep)
            widened: list[Span] = []
            for i, s in enumerate(keep):
                # whole quotations only: a neighbour that opens one is shown to its closing mark, or not at all
                w = self.balanced(with_neighbour(self._text(s), s)) or s
                # and never a neighbour another chosen sentence shows already
                clash = any(overlaps(o, w) for o in widened + keep[i + 1:])
                if len(w.text) - len(s.text) <= room and not clash:
                    room -= len(w.text) - len(s.text)
                    s = w
                widened.append(s)
            keep = widened
        return keep

    @staticmethod
    def _carries(q: Query, text: str) -> bool:
        """Whether a text holds the kind of answer asked for (for "who": a full name that neither the question
        nor the conversation before it gave: after "Lord Dubs' bill", "who spoke for the government?" is not
        answered by Lord Dubs)."""
        if q.answer_type == "who":
            asked = {w.casefold() for n in q.names for w in n.split()} | set(q.context)
            words = [[re.sub(r"['’]s?$", "", w.casefold()) for w in m.group(0).split()] for m in _name_runs(text)]
            # a person: "the International Monetary Fund" is no answer to who will run the bank
            return any(len(w) >= 2 and w[-1] not in asked and not set(w) <= asked and not set(w) & NON_PERSON
                       for w in words)
        return answers_type(q, text)

    def _lead_of(self, sents: list[Span]) -> Span | None:
        """The candidate that is its article's lead (differences.lead_sentence, as briefs take it), if any is."""
        doc = self.store.documents_by_id([sents[0].doc_id]).get(sents[0].doc_id)
        lead = lead_sentence(doc) if doc is not None else None
        return next((s for s in sents if lead is not None and s.start == lead[0]), None)

    def _standalone(self, s: Span, chosen: list[Span], in_order: bool, chained: bool = True) -> Span | None:
        """A point as a reader can take it alone: one too short to say anything ("For Xi Jinping, the gains were
        immense.") with the sentence after it; one that leans on the sentence before it ("Quinlan disputed that
        account.") with that sentence, unless the points are read in the article's order and that sentence is
        one of them already; None when it has none to take, or when the sentence it would take cannot be taken
        alone either (`chained`: that is checked, one sentence further back)."""
        if len(s.text) < SHORT_POINT and (n := with_next(self._text(s), s)) is not None \
                and (w := self.balanced(n)) is not None:
            s = w
        if not leads_with_reference(s.text):
            return s
        text = self._text(s)
        before = [a for a, _ in sentences_in(text, max(0, s.start - 600), s.start) if text[a:s.start].strip()]
        if in_order and before and any(o.doc_id == s.doc_id and o.start <= before[-1] < o.end for o in chosen):
            return s  # "The prime minister was commenting on …" right after "Tony Blair has apologised …"
        p = with_previous(text, s)
        p = self.balanced(p) if p is not None else None
        if p is None or chained and self._standalone(
                replace(p, end=s.start, text=text[p.start:s.start].rstrip()), chosen, in_order, chained=False) is None:
            return None  # (that sentence leans on another it cannot take: "Quinlan disputed that account.")
        return p

    def _diverse(self, q: Query, sents: list[Span], per_doc: bool, firsts: list[Span] | None = None,
                 per_passage: int = 1, in_order: bool = False) -> list[Span]:
        """Up to five points that each stand alone (`_standalone`), from different passages (different articles
        for 'across outlets'), on topic; the `firsts` (one about each name the question lists) lead; `in_order`:
        the points are shown in their article's order. A candidate that cannot stand alone, or that would say
        what a point already says, gives its place to the next."""
        firsts = firsts or []
        best = sents[0].score
        out: list[Span] = []
        seen_docs: set[int] = set()
        seen_passages: Counter[tuple[int, int]] = Counter()
        words: list[set[str]] = []
        for s in firsts + [s for s in sents if s not in firsts]:
            off_topic = s.own < 0.3 and s.dense < 0.45 and not type_bonus(q.answer_type, s.text)
            if s not in firsts and (len(out) >= 5 or s.score < 0.45 * best):
                break
            if s not in firsts and per_doc and off_topic:
                continue
            key = (s.doc_id, s.passage or 0)
            if seen_passages[key] >= per_passage or (per_doc and s.doc_id in seen_docs) \
                    or (len(s.text) < 40 and s not in firsts):
                continue  # (a short first point is widened by the sentence after it)
            if not s.text.lstrip("\"“‘' ")[:1].isupper() and not s.text.lstrip()[:1].isdigit():
                continue  # ", who outlasted American Kevin Kim …": a piece of a sentence is no point
            whole = self._standalone(s, out, in_order)
            if whole is None or any(overlaps(o, whole) or o.text.strip() == whole.text.strip() for o in out):
                continue
            w = set(content_terms(whole.text))
            if any(len(w & x) > 0.6 * max(1, min(len(w), len(x))) and not (per_doc and _figures_differ(whole.text, o.text))
                   for x, o in zip(words, out, strict=True)):
                # says what an earlier point said (across outlets, the same words with another figure are where
                # they differ: "Mr Brown's ninth" / "Mr Brown's eighth")
                continue
            out.append(whole)
            seen_docs.add(s.doc_id)
            seen_passages[key] += 1
            words.append(w)
        return out


def _typed_first(q: Query, sents: list[Span]) -> list[Span]:
    """"How long have they been working on the chip? The stories don't agree": across outlets, each article's
    point is its best sentence giving the kind of answer asked for (a length of time, a figure, a date), when
    one close to its best does; the order of the articles is kept."""
    if q.answer_type not in TYPED_FOLLOW_UP - {"outlets"} and not q.counted:
        return sents
    best: dict[int, float] = {}
    typed: dict[int, Span] = {}
    for s in sents:
        best.setdefault(s.doc_id, s.score)
        if s.doc_id not in typed and s.score >= TYPED_SHARE * best[s.doc_id] and answers_type(q, s.text):
            typed[s.doc_id] = s
    out: list[Span] = []
    for s in sents:
        t = typed.get(s.doc_id)
        if t is not None and t not in out:
            out.append(t)
        if s not in out:
            out.append(s)
    return out


def _figures_differ(a: str, b: str) -> bool:
    """Whether two sentences give different figures (amounts, ordinals)."""
    fa, fb = figures(a), figures(b)
    return bool(fa and fb and fa != fb)


_NAME_RUN = r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*"
_LISTED = re.compile(rf"{_NAME_RUN}(?:, {_NAME_RUN})*,? (?:and|&) {_NAME_RUN}")


_ROLE_ASKED = re.compile(r"^(?:and |so |but )?who(?:'s| is| was| will be| would be| has been)? (?:the|their|its|his|her) "
                         r"(?P<role>(?:[a-z][\w-]* ){0,2}[a-z][\w-]*) (?:of|for|at|in|on|behind)\b")


def _lacking_role(q: Query, sents: list[Span]) -> set[tuple[int, int]]:
    """"Who is the executive producer of the film?": the role is what is asked; when some candidate names it, the
    sentences that do not (the film's star, named with every other word of the question) answer something else."""
    if q.kind != "fact" or q.answer_type != "who":
        return set()
    m = _ROLE_ASKED.match((q.clean or q.text).lower().replace("’", "'"))
    if m is None:
        return set()
    role = {stem(w) for w in content_terms(m.group("role"))}
    if not role:
        return set()
    holds = {(s.doc_id, s.start) for s in sents[:ROLE_SEARCHED] if role <= {stem(w) for w in content_terms(s.text)}}
    if not holds:
        return set()
    return {(s.doc_id, s.start) for s in sents if (s.doc_id, s.start) not in holds}


# a question about what is still to come: "when will it open?", "when is she gonna be back?"
_FUTURE = re.compile(r"\b(?:will|won't|'ll|gonna|going to|due|expected|next|upcoming|planned|plans?|set to)\b", re.I)


_TITLES = frozenset(["mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady", "prof", "professor", "president",
                     "minister", "chancellor", "secretary", "senator", "governor", "mayor", "king", "queen", "prince",
                     "princess", "general", "captain", "coach", "judge", "justice", "father", "brother", "sister"])


def _namesakes(q: Query) -> list[tuple[re.Pattern[str], re.Pattern[str]]]:
    """For each person the question names in full ("Tam Rusk"): a pattern of that name, and one of another first
    name before the same surname ("Ann Rusk"; not "Mr Rusk" nor "President Rusk")."""
    out = []
    for n in q.names:
        words = n.split()
        # a person's name: "Tam Rusk", not "Tory MP" nor "Labour Party"
        if len(words) < 2 or not all(w[:1].isupper() and w[1:].islower() and w.casefold() not in NON_PERSON
                                     for w in words):
            continue
        first, last = "|".join(re.escape(w) for w in words[:-1]), re.escape(words[-1])  # "Bnei Sakhnin" is Hapoel's
        full = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b")
        titles = "|".join(sorted(_TITLES))
        other = re.compile(rf"\b(?!(?:{first})\b)(?!(?i:{titles})\b)([A-Z][a-z]+)\s+{last}\b")
        out.append((full, other))
    return out


def _namesake_in(other: re.Pattern[str], text: str) -> bool:
    """Whether a text names another person of the surname: a first name before it, not an English word opening
    the sentence ("Former Rusk aide …")."""
    wn = wordnet.shared()
    return any(wn is None or not wn.is_common_word(m.group(1)) for m in other.finditer(text))


def _latest_year(text: str) -> float:
    """The latest year a text names (0 when it names none)."""
    return max((int(y) for y in YEAR.findall(text)), default=0)


def _listed(text: str, names: tuple[str, ...]) -> list[str]:
    """The names a question lists together ("what Xi, Putin and Kim each got out of the Beijing event": Xi, Putin
    and Kim, not Beijing, which is where); all of them when it lists none."""
    for m in _LISTED.finditer(text):
        inside = [n for n in names if n in m.group(0)]
        if len(inside) >= 2:
            return inside
    return list(names)


def _name_runs(text: str) -> list[re.Match[str]]:
    """Runs of capitalised words that may name a person: not a title or an institution, which English gives an
    article ("the play The Harbour Monologues", "at the Quay Theatre")."""
    return [m for m in NAME_IN_TEXT.finditer(text)
            if not m.group(0).startswith("The ") and not re.search(r"\bthe\s+$", text[max(0, m.start() - 5):m.start()],
                                                                    re.I)]


def _names_someone_else(text: str, asked: set[str]) -> bool:
    """Whether a sentence names a person (two or more capitalised words, not at its start) not asked about."""
    for m in _name_runs(text):
        words = m.group(0).split()
        if m.start() > 0 and len(words) >= 2 and not {w.casefold() for w in words} & asked:
            return True
    return False


def _bare_quotation(text: str) -> bool:
    """Whether a sentence is someone's words and nothing else ("“If the port wants our trust, …”"): a quotation
    taking most of it, and no word outside it saying who spoke."""
    spans = quotation_spans(text)
    quoted = sum(q.end - q.start for q in spans)
    if not spans or quoted < 0.7 * len(text.strip()):
        return False
    outside = "".join(text[a:b] for a, b in zip([0] + [q.end for q in spans], [q.start for q in spans] + [len(text)],
                                                strict=True))
    return not _ATTRIBUTION.search(outside)


def _at_shown(s: Span, near: list[tuple[int, int, int]]) -> bool:
    """Whether a sentence is at, or just around, a span the last answer showed."""
    return any(d == s.doc_id and a - 400 <= s.start <= b + 200 for d, a, b in near)


def overlaps(a: Span, b: Span) -> bool:
    """Whether two spans share characters of one article."""
    return a.doc_id == b.doc_id and not (a.end <= b.start or a.start >= b.end)


def dedupe(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if any(overlaps(o, s) for o in out):
            continue
        if any(s.text.strip() == o.text.strip() for o in out):
            continue
        out.append(s)
    return out


def _hit(doc: Document | None, ordinal: int, sources: list[str] | None, since: str | None) -> PassageHit | None:
    """A passage of a loaded document as a search hit, if the channel's scope and the time window allow it."""
    if doc is None:
        return None
    if not in_scope(doc.location, sources):
        return None
    if since and (doc.published or doc.fetched or "") < since:
        return None
    p = next((p for p in doc.passages if p.ordinal == ordinal), None)
    if p is None:
        return None
    return PassageHit(doc_id=doc.id, ordinal=p.ordinal, start=p.start, end=p.end, text=p.text, score=0.0,
                      location=doc.location, title=doc.title, url=doc.url, outlet=doc.outlet, published=doc.published)
