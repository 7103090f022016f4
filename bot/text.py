"""Words, stems and sentences: one tokenizer for question analysis, search, selection, stories and briefs.

Pure text functions (no store, no network); imports nothing of the bot.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your", "yours", "yourself", "say", "said", "says", "saying", "tell", "told", "think", "thought", "happen", "happened", "know", "get", "got", "make", "made", "mr", "mrs", "ms", "dr", "new", "news", "article", "articles", "story", "stories", "anything", "something", "there's", "what's", "who's", "please", "give", "me", "us", "show", "find", "explain", "describe", "describes", "described", "react", "reacted", "respond", "responded", "comment", "commented", "view", "views", "stance", "position", "opinion", "much", "many", "even", "really", "actually", "supposed", "gonna", "going", "want", "wanna", "let", "else", "coverage", "detail", "details", "quick", "bit", "thing", "things", "kind", "sort", "guys", "anyone", "someone", "somebody", "ever", "still", "one", "ones", "versus", "vs"])
# words that carry tone, not content, when they open a question or stand alone
FILLERS = frozenset(["lol", "lmao", "rofl", "yo", "hey", "wait", "ok", "okay", "so", "um", "uhm", "uh", "hmm",
                     "btw", "please", "ah", "oh", "hi", "hello", "quick", "question", "q", "guys", "folks",
                     "honestly", "seriously", "like", "just", "also", "ugh", "idk", "tbh", "fyi", "anyway",
                     "anyways", "alright", "right", "well"])

# a year as news writes one ("1961", "2005")
YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
# a word: a letter or digit, then letters, digits, hyphens and apostrophes ("Moscow-Beijing", "Xi's", "2005-06")
WORD = re.compile(r"[\w][\w\-’']*")
# a sentence ends at . ! ? … (and any closing quotes or brackets) before white space and a capital or digit
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def tokens(text: str, numbers: bool = True) -> list[str]:
    """The words of a text as written (case and apostrophes kept), in order. numbers=False reads each from its
    first letter and leaves out those with none: "25-year-old" is "year-old", "2005" is no word."""
    found: list[str] = WORD.findall(text)
    if numbers:
        return found
    out = []
    for w in found:
        if not w[0].isalpha():
            w = w[next((i for i, c in enumerate(w) if c.isalpha()), len(w)):]
        if w:
            out.append(w)
    return out


@lru_cache(maxsize=65536)
def _content_terms(text: str) -> tuple[str, ...]:
    out: dict[str, None] = {}  # ordered, and a look-up in it is not a scan (an article has a thousand words)
    for word in WORD.findall(text.replace("’", "'")):
        word = word.lower().strip("'-")
        if word.endswith("'s"):
            word = word[:-2]
        for w in word.split("-") if "-" in word else (word,):  # "Moscow-Beijing" is two names, as FTS reads it
            if len(w) > 1 and w not in out and w not in STOPWORDS and w not in FILLERS:
                out[w] = None
    return tuple(out)


def content_terms(text: str) -> list[str]:
    """Lower-case content words of a text, stopwords dropped, order kept, no repeats (cached: the same
    sentences come back question after question)."""
    return list(_content_terms(text))


_STEMMER = snowballstemmer.stemmer("english")


# British and American spellings of one word meet: defence/defense, organise/organize, labour/labor,
# centre/center, analyse/analyze (applied to questions and sentences alike, so only the spelling matters)
_SPELLING = [(re.compile(r"(?<=[a-z]{3})isation"), "ization"), (re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing)$"), r"iz\1"),
             (re.compile(r"(?<=[a-z]{2})our(s|ed|ing|ite|ites|able)?$"), r"or\1"),
             (re.compile(r"(?<=[a-z]{3})ence$"), "ense"), (re.compile(r"(?<=[a-z]{3})tre(s)?$"), r"ter\1"),
             (re.compile(r"(?<=[a-z]{3})yse(s|d)?$"), r"yze\1"), (re.compile(r"(?<=[a-z]{3})ogue(s)?$"), r"og\1")]


def american(word: str) -> str:
    """One spelling for British and American forms of a word (the stemmer's input)."""
    for pat, rep in _SPELLING:
        word = pat.sub(rep, word)
    return word


def spellings(word: str) -> list[str]:
    """The word and its other spelling, for a search index that stores words as written."""
    a = american(word)
    if a != word:
        return [word, a]
    brit = re.sub(r"ization", "isation", word)
    brit = re.sub(r"(?<=[a-z]{3})iz(e|ed|es|ing)$", r"is\1", brit)
    brit = re.sub(r"(?<=[a-z]{3})ense$", "ence", brit)
    brit = re.sub(r"(?<=[a-z]{3})ter(s)?$", r"tre\1", brit) if word.endswith(("center", "centers", "theater")) else brit
    brit = re.sub(r"(?<=[a-z]{2})or$", "our", brit) if word.endswith(("labor", "color", "favor", "honor", "neighbor",
                                                                         "behavior", "harbor", "rumor", "humor")) else brit
    return [word] if brit == word else [word, brit]


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a word, the same on questions and sentences (British or American)."""
    return str(_STEMMER.stemWord(american(word.lower())))


@lru_cache(maxsize=1)
def _irregular() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Irregular verb forms and their verbs, from WordNet's exception list ("wrote" -> "write", "sold" -> "sell"),
    as (form -> verb, verb -> forms); only the pairs the stemmer does not already join. Empty without WordNet."""
    from bot import wordnet  # (a leaf module: no cycle)

    wn = wordnet.shared()
    if wn is None:
        return {}, {}
    verb_of: dict[str, str] = {}
    forms: dict[str, list[str]] = {}
    for form, bases in wn.verb_exceptions().items():
        if not form.isalpha() or len(form) < 3 or form in STOPWORDS:
            continue
        for base in bases:
            if base.isalpha() and stem(base) != stem(form):
                verb_of.setdefault(form, base)
                forms.setdefault(base, []).append(form)
    return verb_of, {b: tuple(f) for b, f in forms.items()}


def verb_forms(word: str) -> list[str]:
    """The irregular forms of a verb, and the verb of an irregular form ("write" -> wrote, written; "sold" ->
    sell), as the search index stores them (to weigh a verb the articles only use in another form); [] for any
    other word."""
    verb_of, forms = _irregular()
    w = word.lower()
    base = verb_of.get(w, w)
    return [x for x in (base, *forms.get(base, ())) if x != w] if base != w or base in forms else []


def stems(text: str) -> set[str]:
    """The stems of a text's content words, with the verb's stem beside each irregular form ("co-wrote" holds
    "write" too, so "who did he co-write it with" meets it; "wound" stays "wound" as well)."""
    verb_of, _ = _irregular()
    out = set()
    for w in _content_terms(text):
        out.add(stem(w))
        if w in verb_of:
            out.add(stem(verb_of[w]))
    return out


def sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within [start, end) of text."""
    out = []
    s = start
    for m in SENTENCE_END.finditer(text, start, end):
        cut = m.start() + len(m.group(0).rstrip())
        out.append((s, cut))
        s = m.end()
    if s < end:
        out.append((s, end))
    return [(a, b) for a, b in out if b > a]
