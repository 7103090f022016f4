"""Where the reports of one story differ: the same quantity of the same thing given as different figures,
and how each outlet frames the story in its lead.

Pure functions over documents; citations are made by the caller's `cite` (numbering comes later).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.brief_rules import leads_with_reference, outlet_key, outlet_name
from bot.domain import Citation, Difference, Document, KeyPoint
from bot.quotes.words import _words
from bot.text import STOPWORDS, content_terms, sentences_in, stem, tokens

Cite = Callable[[Document, int, int], Citation]

# "14 vessels", "2.4 million barrels", "40 million euros"
_NUMBER_NOUN = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s+(?:(million|billion|bn|thousand)\s+)?([a-z]{3,})\b")
# "put the number of waiting vessels at 11"
_NOUN_NUMBER = re.compile(r"\b(?:number|count|total|tally) of (?:([a-z]+) )?([a-z]{3,}) (?:at|to|as) "
                          r"(\d[\d,]*(?:\.\d+)?)(?:\s+(million|billion|bn|thousand))?\b")
_SCALE = {None: 1.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "bn": 1e9}
# units of time, order and comparison: "74 minutes" in two match reports is two matches, not a dispute
_NOT_A_QUANTITY = _words(
    "year years month months week weeks day days hour hours minute minutes second seconds time times percent"
    " per cent points point goals goal games game matches match yards metres meters miles km kilometres"
    " old aged and or to of in on at for from with the a an by than more less over under")
WINDOW = 60  # characters either side of a figure that say what it counts
MAX_RATIO = 3.0  # 11 against 14 is a dispute; 793,000 against 2.4 million is two different quantities


@dataclass
class Figure:
    """A number and the thing it counts, in one sentence of one document."""

    doc: Document
    start: int  # the sentence
    end: int
    value: float
    shown: str  # "14", "2.4 million"
    noun: str  # singular-ish: "vessel"
    context: frozenset[str]  # the words near the figure: what it is a figure of
    names: frozenset[str]  # the names near it: whom it is about


def _singular(noun: str) -> str:
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def _context(text: str, at: int, end: int, noun: str) -> frozenset[str]:
    near = text[max(0, at - WINDOW):end + WINDOW].lower()
    near_words = {_singular(w) for w in tokens(near, numbers=False) if len(w) > 2 and w not in STOPWORDS}
    return frozenset(near_words - {_singular(noun), "said", "says", "number", "figure", "total", "about", "around"})


def figures(doc: Document, sentences: list[tuple[int, int]]) -> list[Figure]:
    """Every counted figure of a document's sentences."""
    out = []
    text = doc.text
    for a, b in sentences:
        if leads_with_reference(text[a:b]):
            continue  # "he's won 24 titles": whose figure it is lies in another sentence
        found = [(m.group(1), m.group(2), m.group(3), m.start(), m.end()) for m in _NUMBER_NOUN.finditer(text, a, b)]
        found += [(m.group(3), m.group(4), m.group(2), m.start(), m.end()) for m in _NOUN_NUMBER.finditer(text, a, b)]
        for value, scale, noun, s, e in found:
            if noun in _NOT_A_QUANTITY:
                continue
            raw = value.replace(",", "")
            if re.fullmatch(r"(1[89]|20)\d\d", raw):
                continue  # a year
            try:
                v = float(raw) * _SCALE[scale]
            except ValueError:
                continue
            out.append(Figure(doc, a, b, v, value + (f" {scale}" if scale else ""), _singular(noun),
                              _context(text, s, e, noun), _names(text, max(a, s - WINDOW), min(b, e + WINDOW), a)))
    return out


_NAME = re.compile(r"(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def _names(text: str, a: int, b: int, sentence_start: int) -> frozenset[str]:
    return frozenset(m.group(0) for m in _NAME.finditer(text, a, b) if m.start() != sentence_start)


def figure_differences(docs: list[Document], sentences: Callable[[Document], list[tuple[int, int]]],
                       cite: Cite, names: dict[str, str] | None = None, limit: int = 2) -> list[Difference]:
    """Figures two outlets give for the same quantity of the same thing: same noun, close enough in size to
    be the same quantity, and at least two other words of their surroundings in common."""
    figs = [f for d in docs for f in figures(d, sentences(d))]
    best: dict[str, tuple[int, Figure, Figure]] = {}
    for i, f in enumerate(figs):
        for g in figs[i + 1:]:
            if f.noun != g.noun or outlet_key(f.doc) == outlet_key(g.doc) or f.value == g.value:
                continue
            lo, hi = sorted((f.value, g.value))
            if lo <= 0 or hi / lo > MAX_RATIO:
                continue
            if f.names and g.names and not f.names & g.names:
                continue  # The Aviator's 14 nominations and Vera Drake's 11: two subjects
            shared = len(f.context & g.context)
            if shared >= 2 and shared > best.get(f.noun, (0,))[0]:
                best[f.noun] = (shared, f, g)
    out = []
    for _, f, g in sorted(best.values(), key=lambda x: -x[0])[:limit]:
        noun = _plural(f.doc.text, f.noun)
        nf, ng = outlet_name(f.doc, names), outlet_name(g.doc, names)
        topic = f"The reports give different figures for {noun}: {f.shown} ({nf}) and {g.shown} ({ng})."
        sides = [KeyPoint(text=f"{outlet_name(x.doc, names)}: {x.doc.text[x.start:x.end]}",
                          citations=[cite(x.doc, x.start, x.end)]) for x in (f, g)]
        out.append(Difference(topic=topic, sides=sides))
    return out


def _plural(text: str, noun: str) -> str:
    return noun + "s" if re.search(rf"\b{re.escape(noun)}s\b", text) else noun


def framing(docs: list[Document], lead: Callable[[Document], tuple[int, int] | None], cite: Cite,
            names: dict[str, str] | None = None, limit: int = 4, central: Document | None = None
            ) -> Difference | None:
    """How each outlet tells the story: its lead sentence, one per outlet (at least two outlets). A document of no
    known outlet (a file) is shown only when its lead reports what the central article's lead reports: one outlet's
    saga leads each article with another turn of it, which is no framing of this one."""
    sides: list[KeyPoint] = []
    seen: set[str] = set()
    shown: list[set[str]] = []
    first = central or (docs[0] if docs else None)
    span0 = lead(first) if first is not None else None
    anchor = lead_stems(first.text[span0[0]:span0[1]]) if first is not None and span0 else set()
    for d in ([first] if first is not None else []) + [d for d in docs if d is not first]:
        key = outlet_key(d)
        span = lead(d)
        if key in seen or span is None:
            continue
        text = d.text[span[0]:span[1]]
        if d is not first and key.startswith("doc:") and not leads_alike(anchor, lead_stems(text)):
            continue  # a file of no known outlet may be the same outlet's report of another turn of the saga
        stems = lead_stems(text)
        if any(_same_lead(stems, other) for other in shown):
            continue  # a later version of a report ("has said he wants" / "said he wanted") frames nothing anew
        shown.append(stems)
        seen.add(key)
        sides.append(KeyPoint(text=f"{outlet_name(d, names)}: {text}", citations=[cite(d, span[0], span[1])]))
        if len(sides) >= limit:
            break
    return Difference(topic="how each outlet leads", sides=sides) if len(sides) >= 2 else None


LEADS_ALIKE = 0.25  # share of the shorter lead's content words the other holds. Measured: the seeds' five reports
# of one event share 0.46 and more with the first; the two sample outlets' strike leads, worded apart, 0.28;
# the Yukos saga's articles, each leading with its own turn (the US bankruptcy filing, the sale, a back-tax claim),
# 0.07-0.46 with its first, a third under 0.25


def lead_stems(text: str) -> set[str]:
    """A lead sentence's content words, stemmed (what `leads_alike` compares)."""
    return {stem(w) for w in content_terms(text)}


def leads_alike(a: set[str], b: set[str]) -> bool:
    """Whether two leads (as content stems) report one event: enough of the shorter one is in the other."""
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= LEADS_ALIKE


SAME_LEAD = 0.8  # share of the shorter lead's content words the other holds: the same lead, reworded at most


def _same_lead(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= SAME_LEAD


def headline_and_lead(d: Document) -> str:
    """A document's headline and first sentence of body text (its first 300 characters when it has no passages):
    where an article says what it is about."""
    lead = lead_sentence(d)
    return d.title + " " + (d.text[lead[0]:lead[1]] if lead else d.text[:300])


def lead_sentence(d: Document) -> tuple[int, int] | None:
    """A document's first sentence of body text (the headline line skipped)."""
    title = (d.title or "").strip()
    for p in d.passages or []:
        for a, b in sentences_in(d.text, p.start, p.end):
            s = d.text[a:b].strip()
            if len(s) < 40 or s.endswith("…") or s == title or s.rstrip("…").strip() in title or (title and title.startswith(s)):
                continue
            return a, b
    return None
