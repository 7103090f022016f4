"""Question analysis: what kind of question, which speaker and topic, which words and names matter.

Pure text functions; no store, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "say", "said", "says", "saying", "tell", "told", "think", "thought", "happen", "happened", "know", "get", "got", "make", "made", "mr", "mrs", "ms", "dr", "new", "news", "article", "articles", "story", "stories", "anything", "something", "there's", "what's", "who's", "please", "give", "me", "us", "show", "find", "explain", "describe", "describes", "described", "react", "reacted", "respond", "responded", "comment", "commented", "view", "views", "stance", "position", "opinion", "much", "many"])

# "what did X say about Y", "what has X said on Y", "how did X describe Y", "how did X react to Y"
_QUOTE_PATTERNS = [
    re.compile(r"^(?:what|which)\s+(?:did|does|has|have|had|do)\s+(?P<who>.+?)\s+"
               r"(?:say|said|tell|told|think|thought|write|wrote|claim|claimed|argue|argued|warn|warned|"
               r"mean|declare|declared|state|stated|note|noted)"
               r"(?:\s+(?:about|of|on|regarding|concerning|to|in|at)\s+(?P<topic>.+?))?\s*\??$", re.I),
    re.compile(r"^how\s+(?:did|does|has|have|do)\s+(?P<who>.+?)\s+"
               r"(?:describe|characterize|characterise|see|view|call|react|reacted|respond|responded|feel)"
               r"(?:\s+(?:to|about|on|at)?\s*(?P<topic>.+?))?\s*\??$", re.I),
    re.compile(r"^(?:what\s+(?:is|was|are|were)\s+)?(?P<who>.+?)['’]s?\s+"
               r"(?:comments?|remarks?|words?|statements?|reaction|response|view|quotes?)"
               r"(?:\s+(?:about|on|to|regarding)\s+(?P<topic>.+?))?\s*\??$", re.I),
    re.compile(r"^(?:quotes?|statements?)\s+(?:from|by)\s+(?P<who>.+?)"
               r"(?:\s+(?:about|on|regarding)\s+(?P<topic>.+?))?\s*\??$", re.I),
]
_WHO_IS = re.compile(r"^who\s+(?:is|was|are|were)\s+(?P<who>.+?)\s*\??$", re.I)
_WHO_SAID = re.compile(r"^who\s+(?:said|says|called|described|warned|claimed|declared|stated)\s+(?P<topic>.+?)\s*\??$",
                       re.I)
_WHEN = re.compile(r"^(?:when|what\s+(?:year|date|day|month|time))\b", re.I)
_HOW_MANY = re.compile(r"^(?:how\s+(?:many|much|long|far|big|large|often|old)|what\s+(?:percentage|share|number|"
                       r"amount|price|cost))\b", re.I)
_WHERE = re.compile(r"^where\b", re.I)
_MONEY_WORDS = re.compile(r"\b(?:cost|costs|price|pay|paid|spend|spent|worth|budget|fund|funding|charge|fee|fine|"
                          r"salary|sell|sold|buy|bought|raise|raised|invest|invested)\b", re.I)
_NAME = re.compile(r"\b[A-Z][\w’'\-]*(?:\s+(?:[A-Z][\w’'\-]*|(?:de|van|von|bin|al)\b))*")
_WORD = re.compile(r"[\w][\w\-’']*")
_QUOTED = re.compile(r"(?:(?<=\s)|^)[\"“‘']([^\"”’']{2,120})[\"”’'](?=\W|$)")
_LEADING_ROLE = re.compile(
    r"^(?:the\s+)?(?:(?:us|u\.s\.|uk|former|chinese|russian|american|british|french|japanese|korean|north korean|"
    r"south korean|indian)\s+)?(?:president|prime minister|premier|chancellor|minister|foreign minister|"
    r"secretary|leader|chairman|chief|ceo|director|general|senator|governor|mayor|king|queen|pope|"
    r"mr|mrs|ms|dr|lord|lady|sir)\.?\s+", re.I)


# Words a news sentence uses for what a question asks with another word ("how did X travel" is
# answered by "arrived aboard a train"). Small and general on purpose: event verbs, not topics.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "travel": ("arrive", "arrival", "arrived", "journey", "trip", "aboard", "flew", "fly", "drove", "train",
               "plane", "crossed", "visit"),
    "go": ("went", "travel", "arrive", "visit"),
    "come": ("came", "arrive", "arrived"),
    "die": ("died", "death", "dead", "killed"),
    "kill": ("killed", "dead", "death"),
    "win": ("won", "victory", "beat", "winner"),
    "lose": ("lost", "defeat", "defeated"),
    "buy": ("bought", "acquire", "acquired", "acquisition", "purchase", "takeover"),
    "sell": ("sold", "sale"),
    "pay": ("paid", "cost", "fee", "price"),
    "cost": ("price", "paid", "worth", "budget"),
    "start": ("began", "begin", "launch", "launched", "opened"),
    "end": ("ended", "finish", "finished", "concluded", "last"),
    "react": ("reaction", "response", "responded", "said", "urged", "warned", "criticised", "criticized"),
    "respond": ("response", "reacted", "reaction", "said"),
    "sign": ("signed", "agreement", "deal", "pact"),
    "agree": ("agreed", "agreement", "deal", "pact"),
    "meet": ("met", "meeting", "talks", "summit"),
    "earn": ("earned", "profit", "revenue", "income"),
    "grow": ("grew", "growth", "rose", "increase"),
    "fall": ("fell", "drop", "dropped", "decline"),
    "rise": ("rose", "increase", "jump", "jumped"),
    "hire": ("hired", "appointed", "named"),
    "resign": ("resigned", "quit", "stepped"),
    "attend": ("attended", "present", "joined"),
}


@dataclass
class Query:
    """What a question asks for."""

    text: str
    kind: str  # quote | who_is | who_said | fact
    speaker: str | None = None
    topic: str | None = None
    answer_type: str | None = None  # when | number | where | None
    terms: list[str] = field(default_factory=list)  # content words, lower case, in order
    names: list[str] = field(default_factory=list)  # capitalised names in the question
    phrases: list[str] = field(default_factory=list)  # quoted phrases in the question

    @property
    def expansions(self) -> dict[str, tuple[str, ...]]:
        """For each question word with known alternatives, the words that may stand for it."""
        out = {}
        for t in self.terms:
            alt = EXPANSIONS.get(t) or EXPANSIONS.get(stem(t))
            if alt:
                out[t] = alt
        return out

    @property
    def topic_terms(self) -> list[str]:
        return content_terms(self.topic) if self.topic else []


@lru_cache(maxsize=65536)
def _content_terms(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for w in _WORD.findall(text.replace("’", "'")):
        w = w.lower().strip("'-")
        if w.endswith("'s"):
            w = w[:-2]
        if len(w) > 1 and w not in STOPWORDS and w not in out:
            out.append(w)
    return tuple(out)


def content_terms(text: str) -> list[str]:
    """Lower-case content words of a text, stopwords dropped, order kept, no repeats (cached: the same
    sentences come back question after question)."""
    return list(_content_terms(text))


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a word, the same on questions and sentences: "crossed" and
    "cross", "places" and "place", "travelled" and "travel" meet."""
    return str(_STEMMER.stemWord(word.lower()))


def _strip_role(name: str) -> str:
    prev = None
    while prev != name:
        prev = name
        name = _LEADING_ROLE.sub("", name).strip()
    return name


_TAIL_NAME = re.compile(r"(?:^|\s)[a-z][\w’'\-]*\s+((?:[A-Z][\w’'\-]*\s+)*[A-Z][\w’'\-]*)$")


def _clean_speaker(who: str) -> str:
    who = who.strip(" ?.,!\"“”")
    who = re.sub(r"^(?:the\s+)", "", who, flags=re.I)
    # "the union's general secretary Marta Quinlan": the name is the capitalised tail
    m = _TAIL_NAME.search(who)
    if m and len(m.group(1).split()) >= 1 and not who.endswith(("'s", "’s")):
        return m.group(1)
    return _strip_role(who) or who


def analyse(question: str) -> Query:
    """Classify a question and pull out its speaker, topic, names and content words."""
    q = re.sub(r"\s+", " ", question.strip().replace("’", "'"))
    names = [re.sub(r"'s?$", "", m.group(0).strip()) for m in _NAME.finditer(q)]
    names = [n for n in names if n.lower() not in STOPWORDS]
    names = [_strip_role(n) for n in names]
    names = [n for n in names if n and n.split()[0].lower() not in STOPWORDS]
    phrases = [m.group(1) for m in _QUOTED.finditer(question)]
    query = Query(text=question, kind="fact", terms=content_terms(q), names=names, phrases=phrases)
    if _WHEN.search(q):
        query.answer_type = "when"
    elif _HOW_MANY.search(q):
        query.answer_type = "money" if _MONEY_WORDS.search(q) else "number"
    elif _WHERE.search(q):
        query.answer_type = "where"
    m = _WHO_IS.match(q)
    if m:
        query.kind, query.speaker = "who_is", _clean_speaker(m.group("who"))
        return query
    m = _WHO_SAID.match(q)
    if m:
        query.kind, query.topic = "who_said", m.group("topic").strip(" ?\"“”")
        return query
    for pat in _QUOTE_PATTERNS:
        m = pat.match(q)
        if m:
            who = _clean_speaker(m.group("who"))
            # "what did the summit agree" is not a speaker question: the subject must look like a name/org
            if who and (who[0].isupper() or re.search(r"\b(?:government|ministry|office|officials?|spokes\w+)\b",
                                                      who, re.I)):
                query.kind, query.speaker = "quote", who
                query.topic = (m.group("topic") or "").strip(" ?") or None
                return query
    return query
