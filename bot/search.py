"""Retrieval over passages (FTS5 BM25) and the quote index, down to scored sentences.

Reads the store; knows nothing of answers' wording or of any LLM.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.question import Query
from bot.store.base import PassageHit, QuoteRow, Store, in_scope
from bot.text import STOPWORDS, YEAR, content_terms, sentences_in, spellings, stem, verb_forms
from bot.text import stems as stems_of

_DATE = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
                   r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
# an amount: a number that is not a year, or a number word ("one" is more often a pronoun: "One property …")
_AMOUNT = re.compile(r"\b(?!(?:1[5-9]|20)\d\d\b)\d[\d,.]*|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|"
                     r"twelve|twenty|thirty|forty|fifty|dozen|hundred|thousand|million|billion|trillion)\b", re.I)


@dataclass
class Span:
    """A scored, citable span of a stored document (a sentence, or a quote's sentence)."""

    doc_id: int
    start: int
    end: int
    text: str
    score: float
    location: str
    title: str
    url: str | None
    outlet: str | None
    passage: int | None = None
    cover: float = 0.0  # share of the question's weighted words the sentence (in its article) holds
    own: float = 0.0  # the same share in the sentence's own words
    dense: float = 0.0  # cosine to the question (0 when no embedder)
    lexical: float = 0.0  # the word-based part of the score


# the weight of the question's words the sentence before holds (and this one lacks): on our sets 0.15 gained three
# read items and lost one unread, 0.3 gained five and lost two
PREVIOUS_WEIGHT = 0.15
# a sentence about someone the sentence before named: "He", "But now she", "And he" within its first words
_HE_SHE = re.compile(r"^\W*(?:(?:but|and|now|yet|so|then|still|however|meanwhile),?\s+){0,2}(?:he|she)\b", re.I)


def fts_expression(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression: any of the terms (each quoted, so no syntax leaks in)."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in terms if t]
    return " OR ".join(quoted)


COMMON_SHARE = 0.2
POSTINGS_BUDGET = 20_000
SMALL_STORE_PASSAGES = 500  # below this many passages, no word is too common to search
SPEAKER_QUOTES_LIMIT = 400


class Retriever:
    """Finds passages, sentences and quotes for a question; caches document frequencies."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._df: dict[str, int] = {}
        self._n = -1
        self._passages = 1

    def refresh(self, n_documents: int | None = None) -> None:
        """Forget cached frequencies when the number of documents changed (counted here if not given)."""
        n = self.store.count_documents() if n_documents is None else n_documents
        if n != self._n:
            self._n, self._df = n, {}
            self._passages = max(1, self.store.count_passages())

    @property
    def passage_count(self) -> int:
        """Passages stored (as of the last refresh)."""
        return self._passages

    def doc_freq(self, term: str) -> int:
        """How many passages contain a term (FTS5's own tokenizer and stemmer)."""
        if term not in self._df:
            self._df[term] = self.store.count_matches(fts_expression([term]))
        return self._df[term]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over passages."""
        if self._n < 0:
            self.refresh()
        return math.log((self._passages + 1) / (self.doc_freq(term) + 0.5))

    def passages(self, query: Query, limit: int = 24, sources: list[str] | None = None,
                 since: str | None = None, extra: list[str] | None = None) -> list[PassageHit]:
        """BM25 passages for the question's content words (words no passage holds are left out)."""
        if self._n < 0:  # the Answerer refreshes once per question; a bare Retriever does it here
            self.refresh()
        terms = list(query.terms) + [w for p in query.phrases for w in content_terms(p)] + list(extra or [])
        terms = [v for t in terms for v in spellings(t)]  # "defence" finds "defense" too
        terms = [t for t in dict.fromkeys(terms) if self.doc_freq(t) > 0]
        terms.sort(key=self.doc_freq)
        # The OR query costs what its posting lists hold, and BM25 ranks by the rare words anyway:
        # take the rarest words up to a postings budget (always two), never one in a fifth of passages.
        chosen: list[str] = []
        postings = 0
        for t in terms:
            df = self.doc_freq(t)
            # (a handful of articles holds few postings: there a word in two of ten passages still counts)
            common = df > COMMON_SHARE * self._passages and self._passages >= SMALL_STORE_PASSAGES
            if chosen and (common or (len(chosen) >= 2 and postings + df > POSTINGS_BUDGET)):
                break
            chosen.append(t)
            postings += df
        expr = fts_expression(chosen)
        hits = self.store.search_passages(expr, limit=limit, sources=sources, since=since) if expr else []
        if query.phrases:
            # "who said 'sport should be above it all'?": the passages holding the quoted words as written come
            # first, whatever their other words
            exact = self.store.search_passages(fts_expression(query.phrases), limit=limit, sources=sources,
                                               since=since)
            have = {(h.doc_id, h.ordinal) for h in exact}
            hits = (exact + [h for h in hits if (h.doc_id, h.ordinal) not in have])[:limit]
        return hits

    def weights(self, query: Query, context_weight: float = 0.4,
                context_share: float | None = None) -> dict[str, float]:
        """IDF weight of each question stem (context words from earlier turns count less; unknown words nothing)."""
        out: dict[str, float] = {}
        for t in list(query.terms) + [w for p in query.phrases for w in content_terms(p)]:
            if self.doc_freq(t) > 0:
                out[stem(t)] = max(out.get(stem(t), 0.0), self.idf(t))
            elif used := [f for f in verb_forms(t) if self.doc_freq(f) > 0]:
                # "what did the museum buy?" where the articles only say "bought": the verb is asked all the same
                out[stem(t)] = max(out.get(stem(t), 0.0), max(self.idf(f) for f in used))
        own = sum(out.values())
        context: dict[str, float] = {}
        for t in query.context:
            if self.doc_freq(t) > 0 and stem(t) not in out:
                context[stem(t)] = context_weight * self.idf(t)
        total = sum(context.values())
        if context_share is not None and own > 0 and total > context_share * own:
            # "who was her agent?" after a dozen names: the follow-up's own words say what it asks, the earlier
            # turns' words only say where; together they weigh at most this share of its own
            context = {k: w * context_share * own / total for k, w in context.items()}
        return out | context

    def sentences(self, query: Query, hits: list[PassageHit], require: list[str] | None = None,
                  weights: dict[str, float] | None = None) -> list[Span]:
        """Sentences of the hit passages, scored by IDF-weighted coverage of the question's words."""
        weights = weights if weights is not None else self.weights(query)
        total = sum(weights.values()) or 1.0
        need = [n.casefold() for n in (require or [])]
        named = {stem(w) for n in query.names for w in n.split() if len(w) > 2} & set(weights)
        spans: list[Span] = []
        texts: dict[int, str] = {}  # an article read once for all its hit passages
        for rank, h in enumerate(hits):
            doc_text = texts.get(h.doc_id)
            if doc_text is None:
                doc_text = texts[h.doc_id] = self.store.document_text(h.doc_id)
            title_stems = stems_of(h.title)
            prev: set[str] = set()
            for a, b in sentences_in(doc_text, h.start, h.end):
                sent = doc_text[a:b]
                low = sent.casefold()
                before, prev = prev, stems_of(sent)
                if need and not all(n in low for n in need):
                    continue
                stems = prev
                if named and _HE_SHE.match(sent) and (carried := (named & before) - stems):
                    # "Terry … would have been a certain starter. But now he has pulled out with a bruised knee.":
                    # the person the sentence before names is who "he" is
                    stems = stems | carried
                own = sum(w for s, w in weights.items() if s in stems) / total
                # the headline is context for every sentence of its article ("the Riverside tram line")
                cover = sum(w for s, w in weights.items() if s in stems or s in title_stems) / total
                bonus = type_bonus(query.answer_type, sent) if query.answer_type != "named" else \
                    NAMED_BONUS * names_new(query, sent)
                if query.counted:
                    # "how many films?" is answered by "nine of the popular Carry On films", not by "in 1963"
                    # (in proportion to how much of the question the sentence holds: "140,000 people" in an article
                    # about something else counts nothing asked)
                    # (the answer-type cue already leaves years out)
                    bonus += COUNT_BONUS * min(1.0, own / 0.4) if counts(query.counted, sent) else 0.0
                # what the sentence before says is its context ("BMW sold more than 100 of the iconic models" after
                # "… sales of Rolls-Royces"): the question's words there count a little
                around = sum(w for s, w in weights.items() if s in before and s not in stems) / total
                score = own + 0.1 * cover + PREVIOUS_WEIGHT * around + 0.02 / (1 + rank) + bonus
                score += 0.3 * sum(1 for p in query.phrases if p.casefold() in low)
                if len(sent) < 40:
                    score -= 0.15  # headings and fragments answer little
                spans.append(Span(h.doc_id, a, b, sent, score, h.location, h.title, h.url, h.outlet, h.ordinal,
                                  cover, own, 0.0, score))
        spans.sort(key=lambda s: -s.score)
        return spans

    def coverage(self, text: str, terms: list[str]) -> float:
        """IDF-weighted share of `terms` that `text` contains (stemmed)."""
        weights = {stem(t): self.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        stems = stems_of(text)
        return sum(w for s, w in weights.items() if s in stems) / total

    def speaker_quotes(self, speaker: str, sources: list[str] | None = None,
                       about: list[str] | None = None) -> list[QuoteRow]:
        """Attributed quotes whose speaker the query names ("Navarro" -> "Peter Navarro").

        For a prolific speaker only a bounded set is read: quotes holding one of the `about` words,
        and the newest others.
        """
        from bot.quotes import speaker_matches

        toks = [t for t in content_terms(speaker) if len(t) > 1]
        if not toks:
            return []
        tok = max(toks, key=len)  # one indexed look-up on the most distinctive token
        rows = self.store.quotes(speaker_like=tok, limit=SPEAKER_QUOTES_LIMIT)
        if about:
            rows += self.store.quotes(speaker_like=tok, about=about, limit=SPEAKER_QUOTES_LIMIT)
        seen: set[tuple[int, int]] = set()
        names: dict[str, bool] = {}  # each distinct speaker name is matched once
        exact = []
        for r in rows:
            key = (r.doc_id, r.quote.start)
            sp = r.quote.speaker
            if key in seen or not sp:
                continue
            seen.add(key)
            if sp not in names:
                names[sp] = speaker_matches(speaker, sp)
            if names[sp]:
                exact.append(r)
        if not exact:
            # organisations: "Japan's government" names "the Japanese government"
            exact = [r for r in self._org_matches(toks)]
        if not exact:
            # a role for a name: "Russia's president" is the speaker the article calls "Russian President"
            exact = self._role_matches(toks)
        if sources:
            exact = [r for r in exact if in_scope(r.location, sources)]
        return exact

    def _role_matches(self, toks: list[str]) -> list[QuoteRow]:
        """Quotes whose speaker's role or description holds every query word (by prefix)."""
        if len(toks) < 2:
            return []  # "president" alone names no one in particular
        out = []
        for r in self.store.quotes(role_like=max(toks, key=len), limit=SPEAKER_QUOTES_LIMIT):
            words = content_terms(" ".join(x for x in (r.quote.role, r.quote.description) if x))
            if r.quote.speaker and all(any(w.startswith(t[:5]) or t.startswith(w[:5]) for w in words) for t in toks):
                out.append(r)
        return out

    def _org_matches(self, toks: list[str]) -> list[QuoteRow]:
        """Speakers whose every word starts like one of the query's ("japan" ~ "japanese"), found
        through the speaker index on the query's own words, longest first."""
        if len(toks) < 2:
            return []
        for tok in sorted(toks, key=len, reverse=True):
            out = []
            for r in self.store.quotes(speaker_like=tok, limit=SPEAKER_QUOTES_LIMIT):
                sp = content_terms(r.quote.speaker or "")
                if sp and all(any(w.startswith(t[:5]) or t.startswith(w[:5]) for w in sp) for t in toks):
                    out.append(r)
            if out:
                return out
        return []


# how old someone is: "Hingis, 24, said", "the 17-year-old", "aged 71", "at the age of 71"
_AGE = re.compile(r"(?:[A-Z][\w'’-]+|\b(?:he|she)), \d{1,3},|\b\d{1,3}-year-old\b|\baged? \d{1,3}\b|\bage of \d{1,3}\b|"
                  r"\b\d{1,3} years? old\b|\bturn(?:s|ed)? \d{1,3}\b")
_MONEY = re.compile(r"[£$€¥]\s?\d|\d[\d,.]*\s?(?:m|bn|k)\b|\b\d[\d,.]*\s+(?:million|billion|trillion)?\s*"
                    r"(?:euros?|dollars?|pounds?|yen|yuan|rupees?|francs?)\b", re.I)


_CAUSE = re.compile(r"\b(?:because|since|due to|owing to|as a result|so that|in order to|aims? to|aimed at|"
                    r"reason|why|after|amid|led to|leading to|caus\w+|fears?|concerns?|worr\w+|to avoid|to prevent|"
                    r"to ensure|so as to|thanks to|given|means|help\w*|no coincidence|message|motiv\w*|"
                    r"in a bid to)\b", re.I)
_PERSON = re.compile(r"(?<=[a-z,] )(?:(?:Mr|Mrs|Ms|Dr|Lord|Lady|Sir)\.? )?[A-Z][a-z]+(?: [A-Z][a-z'\-]+)+")
_MEANS = re.compile(r"\b(?:via|aboard|on board|on foot|by (?:train|plane|air|car|road|rail|sea|boat|bus|ship|helicopter|"
                    r"jet|land|means of|way of)|using|through|thanks to|(?:in|inside|on) (?:a|an|his|her|their|the) "
                    r"(?:\w+ ){0,2}(?:train|plane|car|jet|boat|ship|bus|helicopter|convoy|motorcade)|(?:train|rail|"
                    r"flight|plane|car|road|boat|ship|bus|helicopter|motorcade|convoy) (?:journey|ride|trip|travel))\b",
                    re.I)


COUNT_BONUS = 0.25  # on top of the number's own bonus
_COUNT = re.compile(r"\b(?:\d[\d,.]*(?:\s?(?:m|bn|k|million|billion|thousand|hundred)\b)?|one|two|three|four|five|six|"
                    r"seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
                    r"nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|a hundred|a dozen|dozens|"
                    r"hundreds|thousands|millions|several|a few|a couple of|half an?|an?)\b", re.I)


_SINCE_YEAR = re.compile(r"\b(?:since|for the first time in|first [a-z-]+ in) (?:(?:early|late|mid-?)\s?)?(?:1[5-9]|20)\d\d\b")


_AMOUNT_BEFORE = re.compile(r"(?:\d|\b(?:million|billion|bn|m|euros?|dollars?|pounds?|yen|yuan|pence|cents?|"
                            r"percent|tonnes?|barrels?|people|workers|visitors|copies|units))\s*$", re.I)


# a count of time that places an event rather than measuring one: "one day after", "three years earlier"
_TIME_POINT = re.compile(r"\s*(?:seconds?|minutes?|hours?|days?|weeks?|fortnights?|months?|years?|decades?)\s+"
                         r"(?:after|before|later|earlier|ago|into)\b", re.I)


_UNIT_OF = re.compile(r"\s*(?:day|week|month|year|night|hour)\s+of\b", re.I)


def counts(counted: tuple[str, ...], sent: str) -> bool:
    """Whether a sentence gives a count of what the question counts: a number with the counted word among the
    few words after it ("nine of the popular Carry On films", "in 24 hours", "12.4 million visitors a year");
    a year is no count ("in 1963"), but a time since one is a length of time ("the first time since 2019")."""
    if "year" in counted and _SINCE_YEAR.search(sent):
        return True  # "how long had they gone without meeting?" -> "… face-to-face since 2019"
    people = bool(_PEOPLE & set(counted))
    for m in _COUNT.finditer(sent):
        if re.fullmatch(r"(?:1[5-9]|20)\d\d", m.group(0)):
            continue
        if m.group(0).lower() in ("a", "an") and _AMOUNT_BEFORE.search(sent[:m.start()]):
            continue  # "40 million euros a day", "$5 an hour": a rate, not one day or hour
        window = sent[m.end(): m.end() + 50]
        if _TIME_POINT.match(window) or m.group(0).lower() in ("a", "an") and _UNIT_OF.match(window):
            continue  # "sentenced one day after a campaign", "two weeks ago", "a day of action": not how long
        after = content_terms(window)[:4]
        # "40 million euros a day" is a rate, not a length of days
        if any(stem(w) in counted and not re.search(rf"\b(?:a|an|per|each|every)\s+{re.escape(w)}\b", window, re.I)
               for w in after):
            return True
        if people and after and _names_people(after[0]):
            return True  # "how many people live there?" -> "the 8,000 residents of Engerwitzdorf"
    return False


_PEOPLE = frozenset(["peopl", "person", "folk"])


@lru_cache(maxsize=4096)
def _names_people(word: str) -> bool:
    """Whether a plural noun counts people ("residents", "voters", "Gurkhas"), by WordNet; False without it."""
    from bot import wordnet

    wn = wordnet.shared()
    return wn is not None and word.isalpha() and word.endswith("s") and wn.names_a_person(word)


def figures(text: str) -> set[str]:
    """The amounts and ordinals a text gives ("2,850 jobs", "Mr Brown's ninth"), as written, lower case."""
    return {m.group(0).lower() for rx in (_AMOUNT, _ORDINAL) for m in rx.finditer(text)}


def answers_type(query: Query, text: str) -> bool:
    """Whether a text holds the kind of answer the question asks for (a count of what it counts, a date, a name
    the question does not give, …)."""
    if query.counted:
        return counts(query.counted, text)
    if query.answer_type == "named":
        return names_new(query, text)
    return bool(type_bonus(query.answer_type, text))


NAMED_BONUS = 0.1  # as much as a person's name for "who"


def names_new(query: Query, text: str) -> bool:
    """Whether a text gives a name (a run of capitalised words, not opening a sentence) of which no word is in the
    question: "which studio is closing?" -> "The Hit Factory, which opened …" does, "The New York
    studio where John Lennon spent his final hours …" does not."""
    asked = {w.casefold() for n in query.names for w in n.split()} | {t.casefold() for t in query.terms}
    for m in _NAMED.finditer(text):
        words = [re.sub(r"['’]s?$", "", w).casefold() for w in m.group(0).split()]
        if not any(w in asked or stem(w) in asked for w in words) and not all(w in STOPWORDS for w in words):
            return True
    return False


def type_bonus(answer_type: str | None, sent: str) -> float:
    """How much a sentence looks like the kind of answer asked for (a date, an amount, a reason)."""
    cue = _TYPE_CUES.get(answer_type or "")
    return cue[0] if cue is not None and cue[1](sent) else 0.0


# a news organisation credited in a sentence ("according to Reuters", "the New York Times reported")
_OUTLET = re.compile(r"\b(?:(?:[A-Z][\w.’']*\s){0,3}(?:News|Times|Post|Agency|Journal|Herald|Telegraph|Guardian|Press|"
                     r"Tribune|Gazette|Sinmun|Daily|Broadcasting|Television|Radio|Courier|Mail|Mirror|Observer|"
                     r"Independent|Chronicle|Standard|Express|Examiner|Inquirer|Dispatch|Globe|Monitor|Bulletin|"
                     r"Register|Magazine|Weekly)\b|(?:newspaper|paper|magazine|broadcaster|news agency|website) (?:the )?"
                     r"[A-Z][\w’']+|Reuters|Bloomberg|Xinhua|TASS|KCNA|Yonhap|AFP|BBC|CNN|NHK|Interfax|Kyodo)")
_CREDIT = re.compile(r"\b(?:according to|reported|reports|reporting|told|said|cited|citing|quoted|quoting|"
                     r"confirmed|wrote|published)\b", re.I)

# a name someone spoke to or wrote in: "Speaking to Le Matin, …", "she told Good Morning Wales", "writing in Die Zeit"
_TOLD_OUTLET = re.compile(r"\b(?:[Ss]peaking to|[Tt]alking to|[Ii]n an interview with|[Ii]nterviewed by|[Ww]riting in|"
                          r"wrote in|told)\s+(?:the\s+)?(?:[A-Z][\w’'-]+\s+){0,3}[A-Z][\w’'-]+")

# a place: "in East Sussex", "at home in Beirut", "outside Aldmere town hall" (a capitalised name after a preposition
# of place, not "in January" or "in 2004")
_PLACE = re.compile(r"\b(?:in|at|near|outside|inside|from|to)\s+(?:the\s+)?(?!(?:January|February|March|April|May|"
                    r"June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|"
                    r"Saturday|Sunday)\b)[A-Z][a-z]{2,}")

# an ordinal: "the 2,277th star", "the Russian's 12th world record", "her ninth"; not "first found fame"
_ORDINAL = re.compile(r"\b\d[\d,]*(?:st|nd|rd|th)\b|\b(?:the|his|her|its|their|our|[\w’']+['’]s) (?:first|second|third|fourth|"
                      r"fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|"
                      r"sixteenth|seventeenth|eighteenth|nineteenth|twentieth)\b", re.I)

# answer type -> (bonus, whether a sentence looks like that kind of answer)
_TYPE_CUES: dict[str, tuple[float, Callable[[str], bool]]] = {
    "outlets": (0.6, lambda t: bool(_OUTLET.search(t) and _CREDIT.search(t) or _TOLD_OUTLET.search(t))),
    "why": (0.12, lambda t: bool(_CAUSE.search(t))), "how": (0.3, lambda t: bool(_MEANS.search(t))),
    "who": (0.1, lambda t: bool(_PERSON.search(t))), "money": (0.35, lambda t: bool(_MONEY.search(t))),
    "when": (0.25, lambda t: bool(YEAR.search(t) or _DATE.search(t))),
    # "how much land …?" is not answered by "since 1920": a year is a date, not an amount
    "number": (0.2, lambda t: bool(_AMOUNT.search(t))), "age": (0.3, lambda t: bool(_AGE.search(t))),
    "where": (0.2, lambda t: bool(_PLACE.search(t))),
    "names": (0.05, lambda t: lists_names(t)),
    "ordinal": (0.3, lambda t: bool(_ORDINAL.search(t))),
}


_NAMED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")


def lists_names(text: str) -> bool:
    """Whether a sentence lists three or more names ("The Bahamas, East Timor, Madagascar and Swaziland are among
    …", "Dallas in the US, Bordeaux in France and Oporto in Portugal")."""
    return ", " in text and bool(re.search(r"\b(?:and|or)\s+(?:the\s+)?[A-Z]", text)) \
        and len(_NAMED.findall(text)) >= 3
