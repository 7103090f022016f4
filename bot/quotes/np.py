"""Noun phrases over word tokens: subjects, speakers after verbs, capitalised runs.

Helpers for `bot.quotes.attr`; every function looks only at a bounded list of tokens.
"""

from __future__ import annotations

import re

from bot import wordnet
from bot.quotes.marks import QSpan
from bot.quotes.names import PARTICLES, bare, is_cap, is_possessive
from bot.quotes.words import (
    AUX,
    CUE_VERBS,
    GENERIC,
    ORG_HEADS,
    PERSON_PRONOUNS,
    STOP_CAPS,
    TITLES,
    _words,
)

Tok = tuple[str, int, int]
INTRO = _words(
    """in on at for during after before with under despite since while although though when as by from unlike
    like beyond following speaking asked earlier later last this according if because once until amid over
    through within without among across behind to addressing writing interviewed"""
)
LEAD_SKIP = _words("but and however meanwhile still yet so instead indeed now also then , thus")
# Nouns that may stand between a capitalised word and a name ("Ulster man Humphreys"), unlike verbs
# ("Hollis attacked Ortiz").
PERSON_NOUNS = _words(
    """man woman boy girl star fan singer actor actress player veteran native resident teenager mother father
    son daughter wife husband brother sister widow nurse doctor teacher pastor priest activist lawyer rival
    host anchor presenter correspondent reporter columnist writer commentator author chef"""
)
DETS = _words("the a an his her its their our this that these those")


def is_word(t: str) -> bool:
    """True for a word token (not punctuation or a blanked quotation)."""
    return t[:1].isalnum()


def np_back(toks: list[Tok], j: int) -> tuple[int, int] | None:
    """The noun phrase ending at token j: a capitalised run, a pronoun, or an organisation phrase."""
    if j < 0 or not is_word(toks[j][0]):
        return None
    t = toks[j][0]
    if t.casefold() in PERSON_PRONOUNS or bare(t) in GENERIC:
        return (j, j)
    end = j
    if is_cap(t):
        while j >= 0 and (
            (is_cap(toks[j][0]) and is_word(toks[j][0])) or (joiner(toks[j][0]) and j > 0 and is_cap(toks[j - 1][0]))
        ):
            j -= 1
        return (j + 1, end)
    if not is_cap(t) and describes_a_person(t):
        # "the 28-year-old", "the striker", "the legal assistant", "the former Labour minister"
        for k in range(j - 1, max(-1, j - 4), -1):
            if bare(toks[k][0]) == "the":
                return (k, j)
            if not _MODIFIER.match(toks[k][0]) or toks[k][0].casefold() in STOP_CAPS | CUE_VERBS | AUX:
                break
    if bare(t) in ORG_HEADS:
        k, n = j - 1, 0
        while k >= 0 and n < 6:
            tk = toks[k][0]
            if not is_word(tk):
                break
            lk = tk.casefold()
            if is_cap(tk) or is_possessive(tk):
                pass
            elif lk in DETS:
                k -= 1
                break
            elif lk in STOP_CAPS or lk in CUE_VERBS or lk in AUX or n >= 3:
                break
            k -= 1
            n += 1
        return (k + 1, end)
    return None


_AGE = re.compile(r"\d+-year-old$", re.I)
_MODIFIER = re.compile(r"^(?:[a-z][a-z-]+|\d+-year-old)$")  # a word qualifying a description ("legal", "former")


def describes_a_person(word: str) -> bool:
    """Whether a word after "the" describes a person without naming them: an age ("28-year-old"), a role a
    dictionary files under person ("striker", "veteran"), or, capitalised, a nationality or party it writes
    capitalised too ("American", "Scot", "Republican"; not "The Guardian" or "The Observer", which are papers
    named with ordinary words)."""
    w = bare(word)
    if _AGE.search(w):
        return True
    if not w.isalpha() or len(w) < 3 or w in ORG_HEADS or w in GENERIC:
        return False
    wn = wordnet.shared()
    if wn is None or not wn.names_a_person(w):
        return False
    if not is_cap(word) and w.endswith("s") and not w.endswith("ss") and wn.names_a_person(w[:-1]):
        return False  # "the judges", "the artists": several people, not one named before
    return not is_cap(word) or not wn.is_common_word(w)


def describes(toks: list[Tok], np: tuple[int, int]) -> bool:
    """Whether a noun phrase is "the" and a word describing a person ("the American", "The Scot",
    "the 28-year-old"), maybe after a few words qualifying it ("the legal assistant"), which stands for someone
    named before."""
    a, b = np
    if b == a + 1 and bare(toks[a][0]) == "the":
        return describes_a_person(toks[b][0])
    if a + 1 < b <= a + 3 and bare(toks[a][0]) == "the" and not is_cap(toks[b][0]):
        return describes_a_person(toks[b][0]) and all(_MODIFIER.match(t[0]) for t in toks[a + 1 : b])
    return a == b and a > 0 and toks[a - 1][0] == "the" and is_cap(toks[a][0]) and describes_a_person(toks[a][0])


def joiner(t: str) -> bool:
    """Lower-case words that may sit inside a capitalised name ("Bank of England", "Ernst and Young")."""
    return t.casefold() in PARTICLES or t.casefold() in ("of", "for", "and", "&")


def np_forward(toks: list[Tok], i: int) -> tuple[int, int] | None:
    """The noun phrase starting at token i (after a verb, or at a sentence start)."""
    n = len(toks)
    if i >= n or not is_word(toks[i][0]):
        return None
    start = i
    if toks[i][0].casefold() in PERSON_PRONOUNS:
        return (i, i)
    if toks[i][0].casefold() in DETS:
        i += 1
        if bare(toks[start][0]) == "the":
            # "said the former world champion": a description that ends the clause
            for k in range(i, min(n, i + 3)):
                if not _MODIFIER.match(toks[k][0]):
                    break
                if (k + 1 == n or not is_word(toks[k + 1][0])) and describes(toks, (start, k)):
                    return (start, k)
    j = cap_run_end(toks, i)
    if j < n and j > i and is_possessive(toks[j - 1][0]) and not is_cap(toks[j][0]):
        pass  # "South Korea's foreign ministry": the head follows in lower case
    # lower-case words up to an organisation head ("foreign ministry") or a name ("man Humphreys")
    k = j
    while k < n and k - j < 4 and is_word(toks[k][0]) and not is_cap(toks[k][0]):
        lk = toks[k][0].casefold()
        if bare(toks[k][0]) in ORG_HEADS:
            while k + 1 < n and bare(toks[k + 1][0]) in ORG_HEADS and not is_cap(toks[k + 1][0]):
                k += 1  # "chief economist"
            end = cap_run_end(toks, k + 1)
            if end > k + 1 and not is_possessive(toks[end - 1][0]):
                return (start, end - 1)  # "spokesman Alex Folkes"
            return (start, k)
        if lk in CUE_VERBS or lk in AUX or lk in STOP_CAPS or lk in INTRO or k - j >= 2:
            break
        k += 1
        if k < n and is_cap(toks[k][0]) and is_word(toks[k][0]) and j > i and (lk in PERSON_NOUNS or lk in TITLES):
            end = cap_run_end(toks, k)
            return (start, end - 1)  # "Ulster man Humphreys"
        if j > i and (k >= n or not is_word(toks[k][0])):
            return (start, k - 1)  # "the Tottenham striker": a description, not a name
    if j > i:
        return (start, j - 1)
    return None


def cap_run_end(toks: list[Tok], i: int) -> int:
    """Index just past the capitalised run starting at i (a possessive ends it unless a name follows)."""
    n = len(toks)
    j = i
    while (
        j < n
        and is_word(toks[j][0])
        and (is_cap(toks[j][0]) or (joiner(toks[j][0]) and j > i and j + 1 < n and is_cap(toks[j + 1][0])))
    ):
        if is_possessive(toks[j][0]) and not (j + 1 < n and is_cap(toks[j + 1][0])):
            return j + 1
        j += 1
    return j


def subject(toks: list[Tok], a: int, b: int) -> tuple[int, int] | None:
    """The subject noun phrase of the sentence whose tokens are toks[a:b]."""
    i = a
    while i < b and toks[i][0].casefold() in LEAD_SKIP:
        i += 1
    if i < b and toks[i][0].casefold() in INTRO:
        k = i
        while k < b and toks[k][0] != "," and k - i < 25:
            k += 1
        if k >= b or toks[k][0] != ",":
            return None
        i = k + 1
    if i >= b:
        return None
    np = np_forward(toks, i)
    if np is None or np[1] >= b:
        return None
    return np


def clause_start(toks: list[Tok], idx: int) -> int:
    """Where the clause holding token idx begins: after "while", "but", ";" ... or at the sentence start."""
    for k in range(idx - 1, -1, -1):
        w = toks[k][0].casefold()
        if w in ("while", "whereas", "but", "although", "though", ";") or (
            w == "and" and k > 0 and toks[k - 1][0] == ","
        ):
            return k + 1
    return 0


def nearest_cap(toks: list[Tok], idx: int) -> tuple[int, int] | None:
    """The closest capitalised, non-possessive run before token idx in the same clause."""
    j = idx - 1
    while j >= 0 and toks[j][0] not in (",", ";") and toks[j][0][0] != "\x01":
        if is_cap(toks[j][0]) and not is_possessive(toks[j][0]):
            return np_back(toks, j)
        j -= 1
    return None


def cap_runs(toks: list[Tok]) -> list[tuple[int, int]]:
    """Index ranges of the capitalised runs in toks."""
    runs: list[tuple[int, int]] = []
    a = -1
    for k, t in enumerate(toks):
        if is_cap(t[0]) and is_word(t[0]):
            if a < 0:
                a = k
        else:
            if a >= 0:
                runs.append((a, k - 1))
            a = -1
    if a >= 0:
        runs.append((a, len(toks) - 1))
    return runs


def desc_ok(d: str) -> bool:
    """An appositive that describes a person ("a Trump trade advisor"), not a clause ("seated beside Xi")."""
    first = d.split(" ", 1)[0]
    return (
        first in ("a", "an", "the", "his", "her", "its", "their") or bare(first) in TITLES or bare(first) in ORG_HEADS
    )


def speechlike(text: str, q: QSpan) -> bool:
    """A quotation that reads as someone's words: starts like a sentence and has a few words."""
    head = text[q.start : q.start + 1]
    if not (head.isupper() or head.isdigit() or head in "…[(.'‘\"“"):
        return False
    return text.count(" ", q.start, q.end) >= 3
