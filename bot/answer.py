"""Question -> Answer, in one direction: read (intent, names) -> candidates (BM25 + vectors, fused) ->
selection (sentences) -> composition (a backend drafts) -> verification -> Answer.

The only place an answer is assembled; the backends only draft, and nothing unverified is returned.
Candidates and sentence selection are bot.selection.Selector's (plain inputs, scored sentences out); quotes,
who-is and not-found replies are here.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import wordnet
from bot.brief_rules import narrates
from bot.citations import Verdict, VerifiedStream, fold, markers, misattributed, renumber, verify
from bot.conversation import MAX_STORED_TEXT, Reading, Turn, read, turn_of
from bot.domain import Answer, Citation, Document
from bot.drafting import Backend, Draft, Evidence, ExtractiveBackend, QuoteEvidence
from bot.question import NameLexicon, Query, analyse, question_parts
from bot.quotes.words import NON_PERSON, TITLES
from bot.search import Retriever, Span
from bot.selection import FIGURE_ANSWERS, NAME_IN_TEXT, DenseSearch, Selector, Stages, dedupe, overlaps
from bot.spans import continuation, shown
from bot.store.base import PassageHit, QuoteRow, Store
from bot.support import Checked, check, support
from bot.text import STOPWORDS, content_terms, sentences_in, stem

log = logging.getLogger("briefbot.answer")

MAX_QUESTION = 500
TELLING_MISSING = 0.3  # a who-said quote without the question's rarest word, when a passage found holds it
MAX_ANSWER_CHARS = 1200  # a chat reply, not an essay
QUOTE_CANDIDATES = 12
QUOTES_EMBEDDED = 6
QUOTE_FIT = 0.45  # a quote answers "what did X say about Y" when it holds that much of Y (words or meaning)
# an English word's ending: a word like that is not taken for a name even when no article uses it ("stevedores")
_ENGLISH_SUFFIX = re.compile(r"(?:s|ing|ed|ly|tion|sion|ment|ness|ity|ous|ive|able|ible|al|er|ist|ism|ful|less|ise|"
                             r"ize|ship|hood|ward|wise|age|ance|ence|ure|ery|ory)$")


# English words a dictionary of nouns, verbs and adjectives leaves out: never a name ("gone without meeting")
_FUNCTION_WORDS = frozenset(["without", "within", "whereas", "although", "though", "upon", "toward", "towards",
                             "despite", "unless", "whether", "among", "amongst", "beside", "besides", "throughout",
                             "onto", "whilst", "amid", "amidst", "till", "unlike", "underneath", "beneath", "since",
                             "whenever", "wherever", "whoever", "whatever", "however", "therefore", "thus", "hence"])


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
# "…, and where would they go?": a second question joined to the first
# where a question's last part starts: "…, and where would they go?", "why was he dropped and how did it end?"
_SECOND_PART = re.compile(r"(?:,|\band)\s+(?:and\s+)?(?P<q>(?:where|when|who|whom|why|how|what|which)\b"
                          r"(?:(?!,|\band\s+(?:where|when|who|whom|why|how|what|which)\b)[^?]){6,})\??\s*$", re.I)


# a question word opening a clause: where the first part starts after a framing clause ("Going by the report, who …",
# "do the reports agree on how many …")
_PART_START = re.compile(r"(?:^|,\s+|\b(?:agree|differ|disagree|say) (?:on|about|over)\s+)(?P<q>(?:where|when|who|whom|why|how|what|which)\b)(?!.*,\s+(?:where|when|who|"
                         r"whom|why|how|what|which)\b)", re.I)


def _edits(a: str, b: str) -> int:
    """Letters inserted, deleted, changed or swapped to turn one short word into another (Damerau-Levenshtein,
    optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


_NOT_NAME_START = frozenset(["the", "a", "an", "in", "on", "at", "but", "and", "as", "when", "while", "after", "before",
                             "president", "leader", "mr", "mrs", "ms", "dr", "north", "south", "east", "west"])
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


class _Gate:
    """Passes a draft's partial text on until closed: after the answer deadline nothing late may show."""

    def __init__(self, show: Callable[[Draft], None] | None) -> None:
        self._show = show
        self._closed = False
        self._lock = threading.Lock()

    def forward(self, draft: Draft) -> None:
        with self._lock:
            if not self._closed and self._show is not None:
                self._show(draft)

    def deliver(self, draft: Draft, box: list[Draft]) -> bool:
        """Hand the finished draft over unless the gate is closed; True when it was handed over."""
        with self._lock:
            if not self._closed:
                box.append(draft)
            return not self._closed

    def close(self) -> None:
        """Close the gate: nothing more shows, and no draft is handed over any more."""
        with self._lock:
            self._closed = True


_PLURAL_WHO = re.compile(r"^(?:who|which|what)\b[^?]*?\b(?:were|are|have)\b", re.I)


_QUOTATION = re.compile(r"[\"“][^\"”]*[\"”]")  # someone's words in quotation marks, which name no one as their speaker


def _stripped(word: str) -> list[str]:
    """The word with one or two English suffixes taken off ("shushers" -> "shusher", "shush"), with and without
    a final "e" put back ("notable" -> "not", "note")."""
    out: list[str] = []
    stem_ = word
    for _ in range(2):
        m = _ENGLISH_SUFFIX.search(stem_)
        if m is None or m.start() < 3:
            break
        stem_ = stem_[:m.start()]
        out += [stem_, stem_ + "e"]
    return out


def _after_role(word: str, text: str) -> bool:
    """Whether a word stands where a name does: after a role, with at most one word between ("nato chief mark
    rutte", "prime minister shigeru ishiba")."""
    return any(m.group(1) in TITLES or m.group(2) in TITLES
               for m in re.finditer(rf"\b([a-z]+)\s+(?:([a-z]+)\s+)?{re.escape(word)}\b", text.casefold()))


def _after_given(word: str, given: set[str], text: str) -> bool:
    """Whether a word comes right after one of these given names ("nick clegg")."""
    return any(m.group(1) in given for m in re.finditer(rf"\b([a-z]+)\s+{re.escape(word)}\b", text.casefold()))


def _ordinary(word: str) -> bool:
    """Whether WordNet (when installed) lists a capitalised word in lower case too: "Labour", "Conservative" are
    ordinary words before they are anyone's surname."""
    wn = wordnet.shared()
    return wn is not None and wn.is_common_word(word.strip("'’"))


def _names_no_person(word: str) -> bool:
    """Whether WordNet (when installed) knows a capitalised word only as the name of something that is not a
    person ("Halloween", "London"; not "Putin", nor a name it does not know)."""
    wn = wordnet.shared()
    w = word.strip("'’")
    return wn is not None and wn.knows(w) and not wn.is_common_word(w) and not wn.names_a_person(w)


def _said_words(q: Query) -> list[str]:
    """The content words of what a who-said question quotes or describes ("a marriage of convenience")."""
    return content_terms(q.topic or "") + [w for p in q.phrases for w in content_terms(p)]


def _proper_adjective(word: str) -> bool:
    """"A little-known Russian company": a nationality, not the start of a person's name."""
    wn = wordnet.shared()
    return wn is not None and wn.is_proper_adjective(word)


def _names_a_person(word: str) -> bool:
    """Whether WordNet (when installed) reads a noun as a kind of person."""
    wn = wordnet.shared()
    return wn is not None and wn.names_a_person(word)


# what a figure measures: "odds" is a ratio, "speed" a rate, "fee" a cost, "majority" a quantity, "margin" a magnitude
MEASURES = ("quantity", "ratio", "magnitude", "cost", "rate", "amount")


def _one_of(word: str, kinds: tuple[str, ...]) -> bool:
    """Whether WordNet (when installed) reads a noun, in its first sense, as one of `kinds` or a kind of one."""
    wn = wordnet.shared()
    return wn is not None and (word.lower() in kinds or any(wn.is_kind_of(word, kind) for kind in kinds))


def _names_a_measure(word: str) -> bool:
    """A measure ("odds", "prices" and the like are among the question forms' own quantities)."""
    return _one_of(word, MEASURES)


def _names_a_material(word: str) -> bool:
    """A substance or a material ("what substance …?" is answered by a word, not a name)."""
    return _one_of(word, ("substance", "material"))


class Answerer:
    """Answers questions from a store with a primary backend and the extractive one as fallback."""

    def __init__(self, store: Store, backend: Backend | None = None, retriever: Retriever | None = None,
                 secrets: tuple[str, ...] = (), dense: DenseSearch | None = None,
                 deadline: float | None = None) -> None:
        self.deadline = deadline  # seconds a model may take before the extractive answer is shown instead
        self.secrets = secrets  # never let one out, whatever a model or a document says
        self.store = store
        self.retriever = retriever or Retriever(store)
        self.dense = dense
        self.extractive = ExtractiveBackend()
        self.backend: Backend = backend or self.extractive
        self._lexicon: NameLexicon | None = None
        self._lexicon_n = -1
        self.selector = Selector(store, self.retriever, dense)
        self.last_stages = Stages()  # the last question's timings (read by bench/ask.py)

    # -- the entry point ---------------------------------------------------------------------
    def ask(self, question: str, sources: list[str] | None = None, since: str | None = None,
            on_partial: Callable[[str], None] | None = None, turns: list[Turn] | None = None) -> Answer:
        """Answer a question (a follow-up when `turns` holds the conversation so far); found=False with what
        was searched when the stored articles don't say. A message asking several things ("who bought it, and how
        much is the deal worth?") is answered part by part, each later part as a follow-up of the ones before."""
        question = (question or "").strip()
        parts = question_parts(question) if len(question) <= MAX_QUESTION else [question]
        if len(parts) < 2:
            return self._ask_one(question, sources, since, on_partial, turns)
        history = list(turns or [])
        answers: list[Answer] = []
        for part in parts:
            ans = self._ask_one(part, sources, since, None, history)
            if ans.unknown and not answers:
                # "when did Google Earth come out, and is it free?": what the message is about is in no article, and
                # its later parts ("it") would be answered about something else: the message is answered whole
                return self._ask_one(question, sources, since, on_partial, turns)
            if ans.found and answers and _repeats(ans, answers) and _names_unshown(part, ans):
                # "… suing Conte for, and what has the IOC done about his claims?": read as a follow-up, the part
                # found again what the part before it showed, which does not name the IOC; asked on its own, it
                # may find what it asks
                alone = self._ask_one(part, sources, since, None, turns)
                if alone.found and not _repeats(alone, answers):
                    ans = alone
            answers.append(ans)
            if ans.turn is not None:
                history.append(Turn.from_json(ans.turn))
        return _combined(question, parts, answers)

    def _ask_one(self, question: str, sources: list[str] | None, since: str | None,
                 on_partial: Callable[[str], None] | None, turns: list[Turn] | None) -> Answer:
        st = self.last_stages = Stages()
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
        q = self._as_known(self._respelled(q), sources)
        st.lap("analysis")
        if q.kind in {"help", "smalltalk"}:
            return self._canned(question, q)
        if n_docs == 0:
            return Answer(question, "No articles are stored yet, so I can't answer. Add sources with "
                          "`briefbot ingest PATH_OR_URL` or `briefbot sources add`.", found=False,
                          why="no documents stored")
        ev = self.gather(q, reading, sources, since, st)
        ev.documents = n_docs
        ev.asked, ev.earlier = question, [t.resolved or t.question for t in (turns or [])]
        if not ev.quotes and not ev.sentences:
            ans = self._not_found(question, ev, reading)
        else:
            draft, backend_name, fallback_why = self._draft(ev, on_partial)
            if not draft.found or not draft.citations:
                ans = self._not_found(question, ev, reading, draft.why)
                ans.outcome = draft.outcome
            else:
                text, cites = renumber(draft.text, draft.citations)
                ans = Answer(question, text, True, cites, why=fallback_why, backend=backend_name, usage=draft.usage,
                             dropped=draft.dropped, outcome=draft.outcome)
                ans.quotes = [(qe.row.quote, c) for qe, c in zip(draft.quotes, cites, strict=False)]
        st.lap("composition")
        turn = turn_of(question, reading, q, [(c.doc_id, c.start, c.end) for c in ans.citations], ans.found,
                       " ".join(c.text for c in ans.citations),
                       answered=self._answered_person(q, ev.lead, ans) if ans.found and not reading.known else None)
        ans.turn = turn.to_json()
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
                       is_common=lambda w: r.doc_freq(w) > max(30, r.passage_count // 200),
                       is_person=_names_a_person, is_ordinary=_ordinary, is_measure=_names_a_measure,
                       is_material=_names_a_material)

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
        outcome = ""
        if self.backend is not self.extractive:
            draft = self._model_draft(ev, on_partial, docs)
            if draft.found:
                checked = self._sentences(draft, docs)
                dropped = [d.to_json() for d in checked.dropped]
                if len(draft.text) > MAX_ANSWER_CHARS:
                    why = f"the answer is {len(draft.text):,} characters, over {MAX_ANSWER_CHARS:,}"
                elif checked.stands(draft.text):
                    outcome = "partly_dropped" if dropped else "verified"
                    if dropped:
                        log.info("dropped %d of the model's sentences: %s", len(dropped),
                                 "; ".join(d["why"] for d in dropped))
                    self._log_outcome(draft, outcome, "; ".join(d["why"] for d in dropped))
                    kept = Draft(checked.text, True, draft.citations, usage=draft.usage, quotes=draft.quotes,
                                 dropped=dropped, outcome=outcome)
                    return kept, self.backend.name, ""
                else:
                    why = "too little of the answer is supported by its sources: " + "; ".join(
                        f"“{d['sentence'][:60]}” {d['why']}" for d in dropped)
                outcome = "fell_back"
            else:
                why = draft.why or "the model found no answer"
                outcome = draft.outcome or "fell_back"
            self._log_outcome(draft, outcome, why)
            log.warning("falling back to the extractive answer: %s", why)
        draft = self.extractive.answer(ev)
        draft.outcome = outcome
        if draft.found:
            verdict = verify(draft.text, draft.citations, docs, secrets=self.secrets)
            if not verdict.ok:  # should never happen: the extractive text is stored text
                log.error("extractive answer failed verification: %s", verdict.problems)
                return Draft("", False, [], why="no verifiable answer", outcome=outcome), "extractive", why
        return draft, "extractive", (f"fell back to the extractive answer: {why}" if why else "")

    def _model_draft(self, ev: Evidence, on_partial: Callable[[str], None] | None,
                     docs: dict[int, Document]) -> Draft:
        """The backend's draft, or, past the answer deadline, a not-found draft (the late one is discarded:
        nothing it streams is shown any more, and its call is logged as timed out)."""
        gate = _Gate(self._verified_only(on_partial, docs) if on_partial else None)
        box: list[Draft] = []
        done = threading.Event()

        def work() -> None:
            try:
                draft = self.backend.answer(ev, gate.forward if on_partial else None)
            except Exception as e:  # a backend bug must not cost the user an answer
                log.exception("backend %s failed", self.backend.name)
                draft = Draft("", False, [], why=f"{type(e).__name__}: {e}")
            if not gate.deliver(draft, box):  # the user was already given the extractive answer
                self._log_outcome(draft, "timed_out", f"answered after the {self.deadline:g} s deadline; discarded")
            done.set()

        if self.deadline is None:
            work()
            return box[0]
        threading.Thread(target=work, name="llm-answer", daemon=True).start()
        done.wait(self.deadline)
        gate.close()
        if box:  # delivered in time (perhaps just now): after close() nothing more can arrive
            return box[0]
        return Draft("", False, [], why=f"no answer from the model within the {self.deadline:g} s deadline",
                     outcome="timed_out")

    def _log_outcome(self, draft: Draft, outcome: str, detail: str) -> None:
        """What became of a model call, written to its row of the call log (so usage reports tell the truth)."""
        call_id = draft.usage.get("call_id")
        note = getattr(self.store, "llm_call_outcome", None)
        if call_id is None or note is None:
            return
        try:
            note(call_id, outcome, detail[:1000])
        except Exception:
            log.exception("could not record the outcome of LLM call %s", call_id)

    def _sentences(self, draft: Draft, docs: dict[int, Document]) -> Checked:
        """Each sentence of a model's draft checked on its own: its citations exist and are the stored words, its
        quotations are verbatim in the passage it cites and given to their speaker, its links are a source's,
        no secret shows, and its names, numbers and most of its words are in what it cites (bot.support)."""
        stored = self._stored_quotes(draft.citations)
        by_n = {c.n: c for c in draft.citations}
        # an outlet may be named ("Reuters reported"), but a headline's words support nothing: a real model
        # gave "Kim Jong Un said ..." to a passage quoting someone else, under a headline naming Kim
        labels = {c.n: c.outlet or "" for c in draft.citations}
        for c in draft.citations:  # who said the words a cited passage holds, though it may say only "he said"
            held = fold(c.text)
            labels[c.n] += " " + " ".join(sp for w, sp in stored if sp and fold(w) in held)

        def judge(sentence: str) -> list[str]:
            cites = [by_n[n] for n in markers(sentence) if n in by_n]
            problems = verify(sentence, cites, docs, secrets=self.secrets).problems
            problems = ["it cites nothing" if p == "the answer cites nothing" else p for p in problems]
            problems += misattributed(sentence, stored, [c.text for c in cites])
            if not problems:
                _, why = support(sentence, [f"{c.text} {labels[c.n]}" for c in cites])
                if why:
                    problems.append(why)
            return problems

        return check(draft.text, judge)

    def _check(self, draft: Draft, docs: dict[int, Document]) -> Verdict:
        """A draft's problems: every sentence that fails the checks of `_sentences`, with why."""
        return Verdict([f"“{d.sentence[:60]}” {d.why}" for d in self._sentences(draft, docs).dropped])

    def _verified_only(self, on_partial: Callable[[str], None], docs: dict[int, Document]) -> Callable[[Draft], None]:
        """A streamed draft shown only as far as every sentence passes the answer's checks (bot.citations)."""
        stream = VerifiedStream(lambda text, cites: self._check(Draft(text, True, cites), docs), on_partial,
                                MAX_ANSWER_CHARS)
        return lambda d: stream(d.text, d.citations)

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
               since: str | None = None, st: Stages | None = None) -> Evidence:
        """Quotes and sentences that could answer the question, best first (the query is not changed)."""
        reading = reading or Reading(q.text)
        st = st or Stages()
        sel = self.selector
        ev = Evidence(query=q)
        # "according to the Gazette": a name that is an outlet or a source location narrows the search
        outlets = [n for n in q.names if n != q.speaker and not self._mentioned(n, sources) and self._is_source(n)]
        if outlets and not sources:
            # ("~": any location that holds the name). A scoped channel keeps its scope as it is: patterns are
            # alternatives, and adding one would widen it
            sources = ["~" + o.casefold() for o in outlets]
        names = [n for n in ([q.speaker] if q.speaker else []) + list(q.names) if n and n not in outlets]
        # "which fellow Yank …": a capitalised dictionary word no article uses is a word the answer lacks, not a name
        # none of them mentions (a speaker, or a name of several words, still is)
        ev.missing = [n for n in dict.fromkeys(names) if not self._mentioned(n, sources)
                      and (n == q.speaker or " " in n.strip() or not _ordinary(n))]
        ev.missing += self._unknown_names(q)
        ev.searched = self._searched(q, sources)
        st.lap("analysis")
        if q.kind == "quote" and q.speaker:
            if ev.missing:  # "what did Putin say in Tianjin?": no article mentions Tianjin, so none answers
                return ev
            quotes = self._speaker_quotes(q, sources)
            st.lap("quotes")
            # reported speech ("X said the days of apologising are over") answers as well as a quotation does
            told = sel.select(q, reading, sources, since, require=[q.speaker.split()[-1]], st=st) \
                if q.topic or not quotes else []
            if quotes and (not told or not q.topic or quotes[0].fit >= QUOTE_FIT):
                ev.quotes = quotes
            else:
                ev.sentences = told
            return ev
        if ev.missing:
            return ev
        if q.kind == "who_said":
            if reading.follow_up and reading.prefer_docs and self._says_there(q, reading.prefer_docs):
                # "who spoke for the government?": a quote, or else a sentence, where the conversation has been
                # (not "who called it a marriage of convenience?" when its articles never say so: that is asked of
                # every article)
                ev.quotes = self._topic_quotes(q, sources, set(reading.prefer_docs))
                if not ev.quotes:
                    ev.sentences = sel.select(q, reading, sources, since, st=st)
                    if ev.sentences and ev.sentences[0].doc_id in reading.prefer_docs:
                        ev.lead = self._person_in(q, ev.sentences[0])
                        return ev
                    ev.sentences = []
            said = _said_words(q)
            hits = self.retriever.passages(q, sources=sources) if said and not ev.quotes else []
            ev.quotes = ev.quotes or self._topic_quotes(q, sources, hits=hits)
            st.lap("quotes")
            if ev.quotes:
                return ev
            # no quote holds those words: sentences that name who did it (reported speech), holding what was said
            # (a quoted phrase says it already: "who worries about 'limited visibility'?")
            telling = self._telling(said, hits) if not q.phrases else None
            if telling:
                ev.sentences = sel.select(q, reading, sources, since, require=[telling], st=st)
                if ev.sentences:
                    ev.lead = self._person_in(q, ev.sentences[0])
                    ev.around = self._said_around(q, ev)
                    return ev
        if q.kind == "who_is" and q.speaker:
            ev.sentences = self._who_is(q, reading, sources, since, st)
            if ev.sentences:
                ev.lead = q.speaker  # shown only when the sentences do not name them ("she now occupies ...")
                return ev
        ev.sentences = sel.select(q, reading, sources, since, st=st)
        if ev.sentences and q.kind in {"fact", "why", "multi"}:
            ev.sentences = self._second_part(q, reading, ev.sentences, sources, since, st)
        if ev.sentences and (q.kind == "who_said" or q.answer_type == "who"):
            ev.lead = self._person_in(q, ev.sentences[0])
            if reading.known and (not ev.lead or ev.lead.split()[-1].casefold() in ev.sentences[0].text.casefold()):
                # "who was he at spy school with?" -> "One of his fellow pupils … was Vladimir Putin": the answer
                # names Putin itself; "his" is the person "he" stood for, who leads it
                ev.lead = self._named_known(q, reading, ev.sentences[:1]) or ev.lead
            ev.around = self._said_around(q, ev)
        elif ev.sentences and reading.known:
            # "how many caps has he got?": "The 36-year-old, who has 54 caps, ..." says who "he" was taken for
            ev.lead = self._named_known(q, reading, ev.sentences[:1])
        return ev

    def _answered_person(self, q: Query, lead: str, ans: Answer) -> str | None:
        """Who a who-question was answered with (the person "he" means next): the lead, else the first full name
        in the first citation that the question did not give; None when it asks for several, or when the question
        was itself about someone "he"/"she" stood for (the conversation stays with them)."""
        if q.answer_type != "who" and q.kind != "who_said" or _PLURAL_WHO.match(q.clean) or q.kind == "who_is":
            return None  # "who were her fellow regulars?" is answered with several; "who is Choe?" is about Choe
        asked = {w.casefold() for n in q.names for w in n.split()}
        qualifiers = asked | {t.casefold() for t in q.terms}
        speakers = self._lexicon.full if self._lexicon is not None else {}  # "Anna Stamp", whose words are words
        text = ans.citations[0].text if ans.citations else ""
        found: list[tuple[bool, str]] = []
        for m in ([None] if lead else []) + list(NAME_IN_TEXT.finditer(text)):
            words = (m.group(0) if m is not None else lead).split()
            club = ""
            if len(words) > 2 and re.search(r"['’]s$", words[0]):
                club, words = re.sub(r"['’]s$", "", words[0]), words[1:]  # "Celtic's Henri Camara" is Henri Camara
            while len(words) > 2 and _ordinary(words[0]):
                words = words[1:]  # "Actor Stephen Fry" is Stephen Fry
            # a person's name: "Robert Jackson", or a speaker the articles quote ("Robbie Stamp": a surname may be a
            # word), not "The Harbour Press", "Labour MPs" nor "Downing Street"
            # "which rangers player got banned?" -> "Celtic's Henri Camara and Nacho Novo of Rangers …": the one
            # whose side the question names (a first name may be a word: "Nacho")
            after = re.match(r"\s+(?:of|from|at)\s+(?:the\s+)?([\w'’-]+)", text[m.end():]) if m is not None else None
            side = bool(({club.casefold()} | ({after.group(1).casefold()} if after else set())) & qualifiers)
            if len(words) >= 2 and not {w.casefold() for w in words} & asked \
                    and words[0].casefold() not in _NOT_NAME_START \
                    and (" ".join(words).casefold() in speakers and words[-1].casefold() not in NON_PERSON
                         or not any(_ordinary(w) for w in words) or side and not _ordinary(words[-1])):
                if m is None:
                    return " ".join(words)
                found.append((side, " ".join(words)))
        return next((n for side, n in found if side), found[0][1] if found else None)

    @staticmethod
    def _named_known(q: Query, reading: Reading, shown: list[Span]) -> str:
        """The person a follow-up's pronoun stood for, as the question names them, when the answer comes from the
        conversation's articles (a sentence of another article that does not name them may be about anyone)."""
        if not shown or shown[0].doc_id not in reading.prefer_docs:
            return ""
        known = [w.casefold() for w in reading.known]
        # shown only when the sentence does not name them (ExtractiveBackend checks the surname)
        return next((n for n in q.names if [w.casefold() for w in n.split()] == known), "")

    def _second_part(self, q: Query, reading: Reading, first: list[Span], sources: list[str] | None,
                     since: str | None, st: Stages) -> list[Span]:
        """"How many Gurkhas is the UK offering, and where would they go?": each part is asked on its own, in the
        first answer's articles, its words read with the whole question's; its best sentence joins the answer
        when the answer does not already hold it. Across outlets, a part may be answered by another article on
        the same people ("why was he thrown out of the crew and how did the feud end?")."""
        m = _SECOND_PART.search(q.clean or q.text)
        if m is None:
            return first
        head = (q.clean or q.text)[:m.start()]
        # "Going by the report, who designed it": the first part is the question after the framing clause
        lead = _PART_START.search(head)
        parts = ([head[lead.start("q"):].strip()] if lead else []) + [m.group("q").strip()]
        docs = list(dict.fromkeys(s.doc_id for s in first))[:2]
        if q.kind == "multi":
            docs = list(dict.fromkeys(docs + [s.doc_id for s in first] + sorted(self.selector.story_docs(docs[0]))))
        named = [n for n in q.names if len(n) > 2]
        picks: list[Span] = []
        for part in parts:
            local = Reading(part, context=list(q.terms), prefer_docs=docs, follow_up=True, note="part of the question")
            q2 = self.analyse(local, self._lexicon_n)  # the question's own count: no lexicon rebuilt for a part
            if q2.kind not in {"fact", "why"} or not q2.answer_type:
                continue
            more = [s for s in self.selector.select(q2, local, sources, since, st=st) if s.doc_id in docs]
            if q.kind == "multi" and named and (not more or any(overlaps(s, more[0]) for s in first)):
                # across outlets, the best answer anywhere, kept when its article is on the same people
                anywhere = Reading(part, context=list(q.terms), note="part of the question")
                more = [s for s in self.selector.select(q2, anywhere, sources, since, st=st)
                        if self._names_all(s, named)] or more
            if more:
                # the answer already holding it, it moves up to its part's place
                picks.append(next((s for s in first if overlaps(s, more[0])), more[0]))
        picks = [p for i, p in enumerate(picks) if not any(overlaps(p, o) for o in picks[:i])]
        if not [p for p in picks if p not in first]:
            return first  # the answer holds every part already, or its articles do not say
        if len(parts) == 1:
            return first[:2] + [p for p in picks if p not in first] + first[2:]
        return picks + [s for s in first if s not in picks]

    def _says_there(self, q: Query, doc_ids: list[int]) -> bool:
        """Whether one of these articles holds every word of what a who-said question quotes or describes
        ("a marriage of convenience": marriage, convenience); True when it names none."""
        words = {stem(w) for w in _said_words(q)}
        if not words:
            return True
        docs = self.store.documents_by_id(list(doc_ids))
        return any(words <= self.selector.stems(d) for d in docs.values())

    def _names_all(self, s: Span, names: list[str]) -> bool:
        """Whether the article of a sentence names each of `names`."""
        text = self.store.document_text(s.doc_id)
        return all(re.search(rf"\b{re.escape(n)}\b", text) for n in names)

    def _said_around(self, q: Query, ev: Evidence) -> str:
        """"Who said …?" answered by words no sentence attributes ("“I think the greatest threat …” A great soundbite,
        …"): the person the passage is about, to be shown as that and no more; '' otherwise."""
        if q.kind != "who_said" or ev.lead or not ev.sentences or self._names_a_person_in(ev.sentences[0].text):
            return ""
        return self._person_before(ev.sentences[0])

    @staticmethod
    def _names_a_person_in(text: str) -> bool:
        """Whether a sentence names someone in full ("Dick Morris", "Mr Blair") outside its quotation marks."""
        bare = _QUOTATION.sub(" ", text)
        # ("a New Yorker" describes someone; it names no one)
        return any(len(m.group(0).split()) > 1 and not _proper_adjective(m.group(0).split()[0])
                   and not re.search(r"\b(?:a|an)\s+$", bare[:m.start()], re.I) for m in NAME_IN_TEXT.finditer(bare))

    def _person_before(self, s: Span) -> str:
        """The person the passage before a sentence is about: the last name of the few sentences before it that
        the article gives in full somewhere ("Morris" -> "Dick Morris"); '' when none."""
        text = self.store.document_text(s.doc_id)
        window = _QUOTATION.sub(" ", text[max(0, s.start - 800): s.start])
        for run in reversed(NAME_IN_TEXT.findall(window)):
            token = run.split()[-1]
            if token.casefold() in STOPWORDS or _ordinary(token) or _names_no_person(token) \
                    or _proper_adjective(token) or token.casefold() in NON_PERSON:
                continue
            full = self._fullest(token, text)
            if full:
                return full
        return ""

    @staticmethod
    def _fullest(token: str, text: str) -> str:
        """The fullest name an article gives a surname ("Morris" -> "Dick Morris"); '' when it gives none longer."""
        wn = wordnet.shared()
        fuller = []
        for m in re.finditer(rf"\b(?:[A-Z][\w'’-]+ ){{0,2}}{re.escape(token)}(?: [A-Z][\w'’-]+){{1,2}}\b|"
                             rf"\b(?:[A-Z][\w'’-]+ ){{1,2}}{re.escape(token)}\b", text):
            words = m.group(0).split()
            before = re.search(r"([A-Z][\w'’-]+) $", text[max(0, m.start() - 40):m.start()])
            if before and wn is not None and len(words) > 2 and wn.senses_of(f"{before.group(1)} {words[0]}"):
                words = words[1:]  # "New Yorker Dick Morris": "New Yorker" says what he is
            if words[0].casefold() not in _NOT_NAME_START:
                fuller.append(" ".join(words))
        return str(max(set(fuller), key=lambda f: (fuller.count(f), len(f)))) if fuller else ""

    def _person_in(self, q: Query, s: Span) -> str:
        """The person a sentence answers a who-question with, by the fullest name its article gives them
        ("Kim, who arrived ..." -> "Kim Jong Un"); '' when the sentence names no one new."""
        asked = {w.casefold() for n in q.names for w in n.split()}
        # "defected to Labour" names no one, nor does "the horror classic Halloween"
        runs = [r for r in NAME_IN_TEXT.findall(s.text) if not {w.casefold() for w in r.split()} & asked
                and (len(r.split()) > 1 or r.casefold() not in STOPWORDS and not _ordinary(r)
                     and not _names_no_person(r) and not _proper_adjective(r))]
        if not runs:
            return ""
        first = runs[0].split()
        if len(first) > 1:
            return ""  # the sentence already names them in full
        return self._fullest(first[0], self.store.document_text(s.doc_id))

    # -- candidates: BM25 and vectors, fused -------------------------------------------------
    def _who_is(self, q: Query, reading: Reading, sources: list[str] | None, since: str | None,
                st: Stages) -> list[Span]:
        assert q.speaker
        last = q.speaker.split()[-1]
        hits, _ = self.selector.candidates(q, reading, sources, since, st=st)
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
        # a sentence cut out of a quotation ("We are against … warning," said Quinlan) is shown whole or not at all
        sents = [b for s in sents[:12] if (b := self.selector.balanced(s)) is not None]
        if reading.exclude:
            # "tell me more about her": what the article goes on to say after what was shown ("She now ...")
            more = [b for s in sents[:6]
                    if (c := continuation(self.store.document_text(s.doc_id), s, reading.exclude)) is not None
                    and (b := self.selector.balanced(c)) is not None]
            sents = dedupe(more + [s for s in sents if not shown(s, reading.exclude)])
            return sents[:2]
        return dedupe(sents[:4])[:2]

    def _unknown_names(self, q: Query) -> list[str]:
        """In a question typed all in lower case, words no article uses and that are no typo of a word they
        use: names the articles never mention ("what did zelensky say"), so the honest answer is not found."""
        if any(c.isupper() for c in q.clean) or q.kind not in {"fact", "why", "quote", "who_is", "summary"}:
            return []
        wn = wordnet.shared()
        if wn is None and "*" in common_words():
            return []  # without a word list, an unknown word may be plain English: say nothing rather than guess
        out = []
        resolved = [w for n in ([q.speaker] if q.speaker else []) + list(q.names) for w in n.split()]
        # a name of one word the store knows ("nick", read as the Nick of "Nick Ross"): the word after it is its
        # surname, a name even when the dictionary lists it ("nick clegg": a clegg is a horsefly)
        given = {n.casefold() for n in q.names if " " not in n.strip()}
        for t in q.terms:
            if len(t) < 4 or not t.isalpha() or self.retriever.doc_freq(t) > 0 or t in _FUNCTION_WORDS:
                continue
            if given and _after_given(t, given, q.clean or q.text):
                out.append(t)
                continue
            if _ENGLISH_SUFFIX.search(t) and (wn is None or wn.knows(t) or any(wn.knows(b) for b in _stripped(t))):
                continue  # an English word or its derivation ("xmas", "shushers"); "hedgehunter" is no "hedgehunt" + "er"
            if wn is not None:
                # the dictionary: an English word the articles happen not to use ("shush"), or chat for one
                # ("eyein"), is a word; a brand or a name is not, though a model's word pieces hold "iphone"
                if wn.is_common_word(t) or (t.endswith("in") and wn.knows(t + "g")):
                    continue
            elif t in common_words():
                continue
            close = self._typo_of(t)
            if close is None:
                return []  # this store cannot tell: say nothing rather than guess
            if any(_edits(t, w.casefold()) <= 2 for w in resolved):
                continue  # the speaker or name it was read as ("navaro" -> Navarro)
            # a word in a name's place after a role ("nato chief mark rutte") is a name no article mentions, whatever
            # word it is a letter off ("Rutto", "rust")
            if not close or _after_role(t, q.clean or q.text):
                out.append(t)
        return out

    def _typo_of(self, word: str) -> list[str] | None:
        """The indexed words (stems) a word is a typo of, nearest first: a letter or two off ("sumit" ->
        summit), not a different short word ("iphon" is not "ipo"); None when the store keeps no vocabulary."""
        vocab = self.store.terms_like(word[:2])
        if vocab is None:
            return None
        return [c for c in difflib.get_close_matches(stem(word), vocab, n=3, cutoff=0.75)
                if _edits(stem(word), c) <= max(1, len(word) // 4)]

    def _is_source(self, name: str) -> bool:
        """True when a name is part of some stored document's location or outlet (not its text)."""
        return len(name) > 3 and self.store.names_a_source(name)

    def _mentioned(self, name: str, sources: list[str] | None = None) -> bool:
        """Whether any article the question may see mentions a name: a proper name as a phrase ("Kim Yo Jong"
        is not mentioned by an article naming Kim Jong Un and saying "yo" elsewhere), each part of a hyphenated
        group or a possessive on its own ("the Xi-Putin-Kim meeting", "Glazer's Man Utd"), a description by all
        its words in one passage ("Russia's president")."""
        if all(w[:1].isupper() for w in re.findall(r"[^\W\d_][\w'’]*", name)):
            phrases = [re.findall(r"[^\W_]+", p.casefold()) for p in re.split(r"-(?=[A-Z])|['’]s?\s+", name)]
            return all(self._matches('"' + " ".join(p) + '"', sources) for p in phrases if p)
        own = re.fullmatch(r"(?P<who>(?:[A-Z][\w-]*\s+)*[A-Z][\w-]*)['’]s?\s+(?P<role>[a-z][\w\s-]*)", name.strip())
        if own is not None:
            # "Arash Sigarchi's lawyer": the person is named somewhere, and their lawyer beside their surname
            # ("Mr Sigarchi's lawyer labelled …"), not necessarily in the passage that gives the full name
            surname = own.group("who").split()[-1]
            return self._mentioned(own.group("who"), sources) and self._mentioned(
                f"{surname.casefold()} {own.group('role')}", sources)
        words = [w for w in re.findall(r"[^\W_]+", name.casefold()) if len(w) > 1]
        return not words or self._matches(" AND ".join(f'"{w}"' for w in words), sources)

    def _respelled(self, q: Query) -> Query:
        """The question with its typos repaired against the articles' own words ("whats the latst on the sumit":
        latest, summit), searched as they are written there. A word is repaired when no article uses it, it is
        no English word, and an indexed word is a letter or two away; names and unknown words stay as typed."""
        wn = wordnet.shared()
        named = {w.casefold() for n in ([q.speaker] if q.speaker else []) + list(q.names) for w in n.split()}
        fixed: list[str] = []
        for t in q.terms:
            if len(t) < 4 or not t.isalpha() or t in named or self.retriever.doc_freq(t) > 0 \
                    or (wn is not None and wn.knows(t)) or _after_role(t, q.clean or q.text):
                fixed.append(t)
                continue
            word = next((w for c in self._typo_of(t) or [] if (w := self._written(c))), None)
            fixed.append(word or t)
        if fixed == list(q.terms):
            return q
        log.info("question words respelled: %s", {a: b for a, b in zip(q.terms, fixed, strict=True) if a != b})
        return replace(q, terms=tuple(fixed))

    def _written(self, indexed: str) -> str | None:
        """A word as the articles write it for an indexed stem ("eurovis" -> "eurovision"): the commonest word
        starting with it in a few passages that hold it; None when none does."""
        words: dict[str, int] = {}
        for h in self.store.search_passages(f'"{indexed}" *', limit=5):
            for w in re.findall(rf"\b{re.escape(indexed)}[^\W\d_]*", h.text, re.I):
                words[w.lower()] = words.get(w.lower(), 0) + 1
        best = max(words, key=lambda w: (words[w], -len(w)), default=None)
        return best if best is not None and self.retriever.doc_freq(best) > 0 else None

    def _as_known(self, q: Query, sources: list[str] | None) -> Query:
        """The question with each name no article mentions replaced by another name for it that one does
        ("how many people live in Myanmar?" is searched as Burma when the articles say Burma): part of reading
        the question, before any search."""
        q = self._split_runs(q, sources)
        wn = wordnet.shared()
        if wn is None:
            return q
        names = [n for n in dict.fromkeys(([q.speaker] if q.speaker else []) + list(q.names)) if n]
        # only a name with one meaning has aliases ("Yank" is a Yankee, a Northerner or a jerk); that look-up
        # is a file read, before the search that asks whether any article mentions the name
        for name in [n for n in names if wn.senses_of(n) == 1 and not self._mentioned(n, sources)]:
            other = self._known_as(wn, name, sources)
            if other is None:
                continue
            log.info("no article mentions %r; searching for %r, another name for it", name, other)
            gone = {w.casefold() for w in name.split()}
            q = replace(q, names=tuple(other if n == name else n for n in q.names),
                        speaker=other if q.speaker == name else q.speaker,
                        terms=tuple(t for t in q.terms if t not in gone) + tuple(content_terms(other)),
                        notes=q.notes + (f"{name} = {other}",))
        return q

    def _split_runs(self, q: Query, sources: list[str] | None) -> Query:
        """A run of capitals no article holds as written, made of two names one passage holds side by side, is
        those two names ("the row over the Lycos Make Love Not Spam screensaver": Lycos, and its campaign)."""
        out: list[str] = []
        for name in q.names:
            words = name.split()
            parts = None
            if len(words) >= 3 and name != q.speaker and not self._mentioned(name, sources):
                for i in range(1, len(words)):
                    left, right = " ".join(words[:i]), " ".join(words[i:])
                    phrases = [" ".join(re.findall(r"[^\W_]+", p.casefold())) for p in (left, right)]
                    if all(phrases) and self._matches(" AND ".join(f'"{p}"' for p in phrases), sources):
                        parts = [left, right]
                        break
            out += parts or [name]
        if out == list(q.names):
            return q
        log.info("question names read as parts: %s -> %s", q.names, out)
        return replace(q, names=tuple(dict.fromkeys(out)))

    def _known_as(self, wn: wordnet.WordNet, name: str, sources: list[str] | None) -> str | None:
        """Another name for the same thing that an article mentions ("the Second World War" is "World War II"
        there; "Burma" is "Myanmar"), from WordNet; None when it has none or none is mentioned."""
        for other in wn.synonyms(name)[:8]:
            if other[:1].isupper() and self._mentioned(other, sources):
                return other
        return None

    def _matches(self, expr: str, sources: list[str] | None) -> bool:
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
            if narrates(row.quote.speaker or "", row.quote.text):
                continue  # the reporter's words ran into it (a closing mark the source left out): no one's quote
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

    def _topic_quotes(self, q: Query, sources: list[str] | None, doc_ids: set[int] | None = None,
                      hits: list[PassageHit] | None = None) -> list[QuoteEvidence]:
        """Quotes holding what a who-said question quotes or describes, in the passages found for it (`hits`, when
        the caller has them already) or in those of `doc_ids`."""
        terms = _said_words(q)
        if not terms:
            return []
        if hits is None:
            hits = self.retriever.passages(q, sources=sources, limit=72 if doc_ids else 24)
        if doc_ids:
            hits = [h for h in hits if h.doc_id in doc_ids]
        keys = {(h.doc_id, h.ordinal) for h in hits}
        # the question's rarest word says what was said ("who complained the poster was tasteless?"): a quote
        # about the poster without it answers another question, when a passage found holds that word
        telling = self._telling(terms, hits)
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
            elif telling is not None and telling not in {stem(w) for w in content_terms(span.text)}:
                cov -= TELLING_MISSING
            if cov >= 0.5:
                out.append(QuoteEvidence(row, span, cov))
        out.sort(key=lambda e: -e.score)
        return out

    def _telling(self, terms: list[str], hits: list[PassageHit]) -> str | None:
        """The stem of the rarest of three or more question words, when a passage found holds it."""
        known = [t for t in terms if self.retriever.doc_freq(t) > 0]
        if len(known) < 3:
            return None
        telling = stem(max(known, key=self.retriever.idf))
        return telling if any(telling in {stem(w) for w in content_terms(h.text)} for h in hits) else None

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
        return self.selector.balanced(span) or span  # a cited span that opens or closes a quotation halfway reads wrong

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
        elif q.answer_type in FIGURE_ANSWERS and not q.counted:
            asked = {"money": "amount", "age": "age"}.get(q.answer_type, "figure")
            lines.append(f"None of the passages I found gives the {asked} you asked for.")
        lines.append(f"I searched {ev.searched}.")
        lines.append("Try asking more broadly" + (f", e.g. “What happened with {q.topic}?”" if q.topic else
                                                  " or with other words") + ".")
        return Answer(question, " ".join(lines), found=False, why=extra or ev.searched, unknown=list(ev.missing))


# a not-found answer's reason, as a part of a longer answer says it ("None of them mentions Tianjin.")
_NOT_FOUND_REASON = re.compile(r"(?:None of them mentions|No stored article quotes|Nothing I found answers|"
                               r"None of the passages I found)[^.]*\.")
_CITED_PIECE = re.compile(r".*?\[\d+(?:,\s*\d+)*\]", re.S)


def _pieces(text: str) -> list[str]:
    """An answer cut after each citation marker (what follows the last one, a source note, goes with it)."""
    pieces = _CITED_PIECE.findall(text)
    rest = text[sum(len(p) for p in pieces):]
    if pieces and rest.strip():
        pieces[-1] += rest
    return pieces or [text]


def _shifted(text: str, offset: int) -> str:
    return re.sub(r"\[(\d+(?:,\s*\d+)*)\]", lambda m: "[" + ", ".join(
        str(int(n) + offset) for n in m.group(1).split(",")) + "]", text)


def _new_pieces(ans: Answer, cites: list[Citation]) -> list[str]:
    """A part's answer cut into cited pieces numbered after `cites` (which gets its citations), leaving out the
    pieces whose sentences an earlier part's answer shows already."""
    offset = len(cites)
    shown = list(cites)
    by_n = {c.n + offset: replace(c, n=c.n + offset) for c in ans.citations}
    cites.extend(by_n.values())
    out = []
    for piece in _pieces(_shifted(ans.text, offset)):
        if not _all_shown([by_n[n] for n in markers(piece) if n in by_n], shown):
            out.append(piece)
    return out


def _all_shown(cited: list[Citation], shown: list[Citation]) -> bool:
    """Whether every cited span overlaps one already shown (in the same article)."""
    return bool(cited) and all(any(o.doc_id == c.doc_id and o.start < c.end and c.start < o.end for o in shown)
                               for c in cited)


def _repeats(ans: Answer, earlier: list[Answer]) -> bool:
    """Whether every sentence an answer cites, an earlier answer cites already."""
    return _all_shown(ans.citations, [c for a in earlier for c in a.citations])


_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


def _names_unshown(part: str, ans: Answer) -> bool:
    """Whether a part names someone or something (after its first word) that no sentence of its answer mentions."""
    shown = " ".join(c.text for c in ans.citations).casefold()
    return any(m.group(0).casefold() not in shown for m in _CAPITALISED.finditer(part) if m.start() > 0)


def _combined(question: str, parts: list[str], answers: list[Answer]) -> Answer:
    """One reply from the answers to each part of a message: each part's answer on a line of its own (a part not
    found says so, and why), the citations numbered across the whole reply, within a chat reply's length (a part's
    later sentences give way first; every part keeps its first)."""
    lines: list[list[str]] = []
    cites: list[Citation] = []
    for part, ans in zip(parts, answers, strict=True):
        if not ans.found:
            reason = _NOT_FOUND_REASON.search(ans.text)
            lines.append([f"For “{part.strip()[:100]}”, I found no answer in the stored articles"
                          + (f": {reason.group(0)}" if reason else ".")])
            continue
        pieces = _new_pieces(ans, cites)
        if pieces:
            lines.append(pieces)

    def size() -> int:
        return sum(len("".join(x).strip()) + 1 for x in lines)

    while size() > MAX_ANSWER_CHARS - 20:
        longest = max((x for x in lines if len(x) > 1), key=lambda x: len("".join(x)), default=None)
        if longest is None:
            break
        longest.pop()
    while size() > MAX_ANSWER_CHARS and len(lines) > 1:
        lines.pop()  # every part's first sentence together is still too long: the last parts give way
    text, numbered = renumber("\n".join("".join(x).strip() for x in lines), cites)
    found = [a for a in answers if a.found]
    if not found:
        return Answer(question, "\n".join("".join(x).strip() for x in lines)[:MAX_ANSWER_CHARS], False,
                      why="; ".join(a.why for a in answers if a.why))
    first = found[0]
    by_span = {(c.doc_id, c.start, c.end): c for c in numbered}
    quotes = [(quote, by_span[key]) for a in found for quote, c in a.quotes
              if (key := (c.doc_id, c.start, c.end)) in by_span]
    out = Answer(question, text, True, numbered, why="; ".join(a.why for a in answers if a.why),
                 backend=first.backend, usage=first.usage, quotes=quotes,
                 dropped=[d for a in answers for d in a.dropped], outcome=first.outcome)
    out.turn = _merged_turn(question, answers)
    return out


def _merged_turn(question: str, answers: list[Answer]) -> dict[str, Any] | None:
    """What a follow-up needs from a message of several parts: the last part answered (whom "he" means next),
    with every part's cited articles."""
    pairs = [(Turn.from_json(a.turn), a.found) for a in answers if a.turn is not None]
    if not pairs:
        return None
    turns = [t for t, _ in pairs]
    found = [t for t, ok in pairs if ok] or turns
    merged = replace(found[-1], question=question[:MAX_STORED_TEXT],
                     names=list(dict.fromkeys(n for t in turns for n in t.names))[:8],
                     doc_ids=list(dict.fromkeys(d for t in found for d in t.doc_ids))[:12],
                     shown=[s for t in found for s in t.shown][:12],
                     found=any(ok for _, ok in pairs))
    return merged.to_json()
