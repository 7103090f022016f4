"""Support checking: does each sentence of a drafted answer or brief point rest on the passages it cites?

Splits a draft into sentences with their [n] markers, and judges one sentence against its cited text: the
names and numbers it states must be there exactly, and most of its other content words (stemmed) too.
Pure text in, reasons out; imports only bot.citations and bot.question (no network, no store).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from bot.citations import fold, markers, quotation_spans, strip_markers
from bot.text import STOPWORDS, stem

MIN_SUPPORT = 0.6  # share of a sentence's content words that its cited passages must hold
MIN_KEPT_SHARE = 0.5  # an answer stands when at least this much of it (by characters) survives the checks

# words that say who reported what, not what happened: a paraphrase may use them with no source word to match
_ATTRIBUTION = frozenset(["according", "report", "reports", "reported", "reporting", "said", "says", "say", "told", "tell", "tells", "added", "adds", "add", "noted", "notes", "note", "stated", "states", "state", "wrote", "writes", "write", "describe", "describes", "described", "describing", "called", "calls", "call", "explained", "explains", "explain", "source", "sources", "article", "articles", "outlet", "outlets", "sentence", "passage"])
# capitalised words that are not names: sentence openers, pronouns, days of the week are names (kept out of here)
_NOT_NAMES = frozenset(["the", "a", "an", "he", "she", "they", "it", "we", "i", "you", "his", "her", "their", "its", "this", "that", "these", "those", "but", "and", "also", "then", "later", "earlier", "yet", "so", "in", "on", "at", "as", "after", "before", "when", "while", "however", "meanwhile", "mr", "mrs", "ms", "dr", "according", "both", "there", "here", "what", "who", "which", "where", "why", "how", "some", "many", "most", "several", "all", "no", "not", "one", "if"])
_ABBREV = frozenset(["mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "prof", "jr", "sr", "inc", "co", "ltd", "vs", "no", "lt", "col", "sgt", "capt", "corp"])
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# a sentence's end: punctuation, closing marks, the markers that cite it, then white space
_END = re.compile(r"[.!?…][”\"’')\]]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s|$)|(?<=\])(?=\s*\n)|\n+")


@dataclass
class Dropped:
    """A sentence taken out of a draft, and why."""

    sentence: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"sentence": self.sentence, "why": self.why}


@dataclass
class Checked:
    """A draft after its sentence-by-sentence check: what stays, what went and why."""

    kept: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.kept)

    def stands(self, original: str) -> bool:
        """Whether enough survived to show: some sentence, and at least MIN_KEPT_SHARE of the draft."""
        kept = sum(len(strip_markers(s)) for s in self.kept)
        total = kept + sum(len(strip_markers(d.sentence)) for d in self.dropped)
        return bool(self.kept) and kept >= MIN_KEPT_SHARE * max(1, total)


def sentences(text: str) -> list[str]:
    """A draft cut into sentences, each with the [n] markers that follow it; never inside a quotation."""
    inside = [(q.o, q.c if q.closed else q.end) for q in quotation_spans(text)]
    out: list[str] = []
    start = 0
    for m in _END.finditer(text):
        cut = m.end()
        if any(a < m.start() and m.end() <= b for a, b in inside):  # ends inside a quotation
            continue
        if text[m.start()] == "." and _abbreviation(text, m.start()):
            continue
        piece = text[start:cut].strip()
        if piece:
            out.append(piece)
        start = cut
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    # markers left alone at the start of a piece ("... here. [2] Next ...") belong to the sentence before
    merged: list[str] = []
    for piece in out:
        lead = re.match(r"(?:\[\d+(?:\s*,\s*\d+)*\]\s*)+", piece)
        if lead and merged and lead.end() < len(piece):
            merged[-1] += " " + lead.group().strip()
            piece = piece[lead.end():].strip()
        merged.append(piece)
    return merged


def _abbreviation(text: str, dot: int) -> bool:
    """"Mr." or "U.S." followed by more of the same sentence, not a sentence end."""
    word = re.search(r"([\w.]+)$", text[:dot])
    w = word.group(1).lower() if word else ""
    nxt = text[dot + 1:dot + 3].strip()[:1]
    return (w in _ABBREV or (len(w) <= 3 and "." in w) or (len(w) == 1 and w.isalpha())) and not nxt.isdigit()


@lru_cache(maxsize=4096)
def _vocabulary(passage: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """A passage's numbers, lower-cased words and their stems."""
    t = fold(passage)
    nums = frozenset(_number(n) for n in _NUMBER.findall(t))
    words = frozenset(w.replace("’", "'") for w in _WORD.findall(t))
    words = words | {w[:-2] for w in words if w.endswith("'s")}
    return nums, words, frozenset(stem(w) for w in words)


def _number(n: str) -> str:
    n = n.replace(",", "")
    return n.rstrip("0").rstrip(".") if "." in n else n


def _named(name: str, words: set[str]) -> bool:
    """A name in a text, or its adjective: "Russia" in "Russian", "China" in "Chinese", "Japan" in "Japanese"."""
    if name in words:
        return True
    stems = [name] if len(name) < 5 else [name, name[:-1]]
    return len(name) >= 4 and any(w.startswith(st) for w in words for st in stems)


def claims(sentence: str) -> tuple[list[str], list[str], list[str]]:
    """The numbers, names and other content words (lower case) a sentence states, markers left out."""
    text = strip_markers(sentence)
    nums = [_number(n) for n in _NUMBER.findall(text)]
    names: list[str] = []
    terms: list[str] = []
    for i, m in enumerate(_WORD.finditer(text)):
        raw = m.group().replace("’", "'")
        if raw.lower().endswith("'s"):
            raw = raw[:-2]
        low = raw.lower()
        if low in STOPWORDS or low in _ATTRIBUTION or len(low) < 2:
            continue
        first = i == 0 or bool(re.search(r"[.!?:“\"‘«]\s*$", text[:m.start()]))
        if raw[:1].isupper() and not first and low not in _NOT_NAMES:
            names.append(low)
        elif low not in _NOT_NAMES:
            terms.append(low)
    return nums, list(dict.fromkeys(names)), list(dict.fromkeys(terms))


def support(sentence: str, cited: list[str]) -> tuple[float, str | None]:
    """How much of a sentence its cited texts hold (0..1), and the reason it is not supported (None when it is):
    every number and name exactly (or as its adjective: "China" in "Chinese"), and at least
    MIN_SUPPORT of all its content words by stem."""
    nums, names, terms = claims(sentence)
    if not nums and not names and not terms:
        return 0.0, "says nothing a source could support" if strip_markers(sentence).strip(" .,;:!?-") \
            else "is only citation markers"
    p_nums: set[str] = set()
    p_words: set[str] = set()
    p_stems: set[str] = set()
    for c in cited:
        a, b, s = _vocabulary(c)
        p_nums |= a
        p_words |= b
        p_stems |= s
    missing_nums = [n for n in nums if n not in p_nums]
    missing_names = [n for n in names if not _named(n, p_words)]
    held = len(nums) - len(missing_nums) + len(names) - len(missing_names)
    held += sum(1 for t in terms if t in p_words or stem(t) in p_stems)
    share = held / (len(nums) + len(names) + len(terms))
    if missing_nums:
        return share, f"states {', '.join(missing_nums[:3])}, not in the cited text"
    if missing_names:
        return share, f"names {', '.join(missing_names[:3])}, not in the cited text"
    if share < MIN_SUPPORT:
        unheld = [t for t in terms if t not in p_words and stem(t) not in p_stems]
        return share, (f"only {share:.0%} of its content words are in the cited text "
                       f"(not: {', '.join(unheld[:4])})")
    return share, None


_TRAILING = re.compile(r"(\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)*)([.!?…]*[”\"’')]*)\s*$")


def carry_markers(pieces: list[str]) -> list[str]:
    """Sentences without markers given those of the next sentence that has some ("A. B. [1]" is read, as a
    reader reads it, as both resting on [1]); written out, so each still shows its citation if the other goes."""
    out = list(pieces)
    for i, s in enumerate(out):
        if markers(s) or not strip_markers(s).strip(" .,;:!?-"):
            continue
        nxt = next((markers(t) for t in out[i + 1:] if markers(t)), [])
        if nxt:
            m = _TRAILING.search(s)
            stop, end = (m.start(), m.group(2)) if m else (len(s), "")
            tag = f"[{', '.join(map(str, nxt))}]"
            # after a closing quote mark, never inside it: the quotation must stay the source's words
            out[i] = f"{s.rstrip()} {tag}" if any(q in end for q in "”\"’')") else f"{s[:stop]} {tag}{end}"
    return out


def check(text: str, judge: Callable[[str], list[str]]) -> Checked:
    """Each sentence of a draft judged on its own (`judge` returns its problems); failing ones dropped."""
    out = Checked()
    for s in carry_markers(sentences(text)):
        problems = judge(s)
        if problems:
            out.dropped.append(Dropped(s, "; ".join(problems)))
        else:
            out.kept.append(s)
    return out

