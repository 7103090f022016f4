"""Span arithmetic over an article's text: a chosen sentence widened to the one before or after it, to its
paragraph neighbour, to the whole quotation it is cut from, or to the reason the article gives next.

Pure functions of a document's text and a Span (no store, no scoring): what an answer shows must read on its own
and never cut a quotation in half.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.search import Span
from bot.text import sentences_in

_QUOTE_MARKS = re.compile(r"[\"“”]")
REASON_LOOKAHEAD = 3  # sentences after a why-answer's best match searched for the reason it gives

# what states a reason outright (the answer-type cue also takes weaker hints: "after", "amid", "given")
_REASON = re.compile(r"\b(?:because|owing to|as a result|so that|in order to|the reason|reasons?|why|"
                     # "delayed due to injury", not the play "due to open" nor what "is due to be" done
                     r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )(?<!\bbe )(?<!, )due to|"
                     r"no coincidence|message|aims? to|aimed at|in a bid to|led to|to avoid|to prevent|to ensure|"
                     r"motiv\w+|(?:expressed|raised|voiced|over) (?:concerns?|worr(?:y|ies)|fears?)|"
                     # purpose and response: "is an attempt by the games giant to protect its dominance", "a response
                     # to the unveiling of the PSP", "which is forcing banks to look for alternatives"
                     r"(?:attempts?|efforts?|bids?) (?:by [\w'’ -]{1,40}? )?to|(?:in )?response to|"
                     r"forc(?:es|ed|ing) [\w'’ -]{1,30}? to|prompt(?:ed|ing)|feared|"
                     # the cause of an absence: "has pulled out with a bruised knee", "forced to pull out after his groin injury"
                     r"(?:out|off|sidelined) (?:with|after) (?:a|an|his|her|their|\w+ (?:injury|illness|problem|strain))|"
                     # "… would not be put on as it promoted …": "as"/"since" before a clause in the past
                     r"(?:as|since) (?:it|they|he|she|this|that) (?:had|was|were|would|could|\w+ed))\b", re.I)


def _widened(s: Span, text: str, a: int, b: int, score: float | None = None) -> Span:
    """`s` over [a, b) of its article's text, keeping its scores."""
    return Span(s.doc_id, a, b, text[a:b], s.score if score is None else score, s.location, s.title, s.url,
                s.outlet, s.passage, s.cover, s.own, s.dense, s.lexical)


def is_balanced(t: str) -> bool:
    """Whether a text opens and closes its quotations (an even count of straight marks, as many “ as ”)."""
    return len(_QUOTE_MARKS.findall(t)) % 2 == 0 and t.count("“") == t.count("”")


def shown(s: Span, shown: list[tuple[int, int, int]]) -> bool:
    """Whether a sentence lies inside a span an earlier answer already cited."""
    return any(d == s.doc_id and a <= s.start and s.end <= b for d, a, b in shown)


def with_next(text: str, s: Span) -> Span | None:
    """A sentence with the one after it, across a paragraph break (None at the end of the article)."""
    stop = min(len(text), s.end + 600)
    after = [(a, b) for a, b in sentences_in(text, s.end, stop) if text[a:b].strip()]
    if not after or (after[0][1] >= stop and stop < len(text)) or after[0][1] - s.start > 900:
        return None  # no next sentence, or one too long to add
    b = after[0][1]
    return _widened(s, text, s.start, b)


def with_previous(text: str, s: Span) -> Span | None:
    """A sentence with the one before it, across a paragraph break (None at the start of the article, or
    when the two would be too long a point)."""
    start = max(0, s.start - 600)
    before = [(a, b) for a, b in sentences_in(text, start, s.start) if text[a:b].strip()]
    if not before or (before[-1][0] == start and start > 0) or s.end - before[-1][0] > 700:
        return None
    a = before[-1][0] + (len(text[before[-1][0]:s.start]) - len(text[before[-1][0]:s.start].lstrip()))
    para = text[text.rfind("\n", 0, a) + 1:a]
    if para.count('"') % 2 or para.count("“") > para.count("”"):
        return None  # that sentence is the end of a quotation begun before it
    return _widened(s, text, a, s.end)


def reason_after(text: str, s: Span) -> Span | None:
    """The first of the next few sentences of its article that gives a reason (None when none does)."""
    stop = min(len(text), s.end + 900)
    for a, b in [(a, b) for a, b in sentences_in(text, s.end, stop) if text[a:b].strip()][:REASON_LOOKAHEAD]:
        if b >= stop and stop < len(text):
            break  # cut by the window
        a += len(text[a:b]) - len(text[a:b].lstrip())
        if _REASON.search(text[a:b]):
            return _widened(s, text, a, b, s.score * 0.99)
    return None


def gives_reason(text: str, s: Span) -> bool:
    """Whether a sentence, or the one after it in its paragraph (which the answer may add), states a reason."""
    if _REASON.search(s.text):
        return True
    nxt = with_next(text, s)
    return nxt is not None and "\n" not in nxt.text[len(s.text):] and bool(
        _REASON.search(nxt.text[len(s.text):]))


def balanced(text: str, s: Span) -> Span | None:
    """A sentence cut inside a quotation, widened to the whole quotation (None when that is too long): a
    lone quote mark would pair with one in the next sentence of the answer and misquote someone."""
    if is_balanced(s.text):
        return s
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
            if b - a <= 700 and is_balanced(text[a:b]):
                return _widened(s, text, a, b)
    return None


_TURNS = re.compile(r"\s*(?:but|however|yet|still|nevertheless|even so)\b", re.I)


def with_neighbour(text: str, s: Span) -> Span:
    """A sentence with the next (or previous) one in its paragraph when it is short or leans on it."""
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
    turn = next(((x, y) for x, y in spans if x >= b), None)
    if turn and _TURNS.match(text[turn[0]:turn[1]]) and (turn[1] - a) <= 600:
        # "… may not be catastrophic for China's economy. But it would add unwanted volatility …": a sentence
        # whose next one turns it around says only half of what the article says
        b = turn[1]
    if (a, b) == (s.start, s.end):
        return s
    return _widened(s, text, a, b)


def continuation(text: str, s: Span, seen: list[tuple[int, int, int]]) -> Span | None:
    """The sentence after `s` in its paragraph (or after the shown span holding it), if not shown yet."""
    end = max([b for d, a, b in seen if d == s.doc_id and a <= s.start < b] + [s.end])
    p_end = text.find("\n", end)
    p_end = len(text) if p_end < 0 else p_end
    nxt = sentences_in(text, end, p_end)
    nxt = [(a, b) for a, b in nxt if text[a:b].strip()]
    if not nxt:
        return None
    a = nxt[0][0] + (len(text[nxt[0][0]:nxt[0][1]]) - len(text[nxt[0][0]:nxt[0][1]].lstrip()))
    b = nxt[min(1, len(nxt) - 1)][1] if nxt[0][1] - a < 200 else nxt[0][1]
    span = Span(s.doc_id, a, b, text[a:b], s.score, s.location, s.title, s.url, s.outlet, s.passage)
    return None if shown(span, seen) else span


def typed_near(text: str, s: Span, holds: Callable[[str], bool], reach: int = 1200,
               prefer: Callable[[str], float] | None = None) -> Span | None:
    """The sentence nearest to `s` (within `reach` characters either side) that `holds` the kind of answer asked
    for (a date, a figure); with `prefer`, the one it rates highest (the nearest of those); None when none does."""
    lo, hi = max(0, s.start - reach), min(len(text), s.end + reach)
    cands = [(a, b) for a, b in sentences_in(text, lo, hi) if text[a:b].strip() and not (a < s.end and b > s.start)]
    cands = [(a, b) for a, b in cands if (a > lo or lo == 0) and (b < hi or hi == len(text))]  # whole sentences only
    held = []
    for a, b in sorted(cands, key=lambda ab: min(abs(ab[0] - s.end), abs(s.start - ab[1]))):
        a += len(text[a:b]) - len(text[a:b].lstrip())
        if holds(text[a:b]):
            held.append((a, b))
    if not held:
        return None
    a, b = max(held, key=lambda ab: prefer(text[ab[0]:ab[1]])) if prefer is not None else held[0]
    return _widened(s, text, a, b, s.score * 0.98)
