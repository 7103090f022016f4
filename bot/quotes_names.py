"""Name lexicon built from one article: full names, their roles, genders and where they occur.

Used by `bot.quotes` to turn "Navarro" into "Peter Navarro" and "Mr Blair" into "Tony Blair".
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from bot.quotes_words import FEMALE, HONORIFICS, MALE, NON_PERSON, STOP_CAPS, TITLES

# A word: letters/digits with inner apostrophes, dots or hyphens ("O'Brien", "U.S", "Jong-un").
# Each alternative is anchored on a distinct first character, so matching stays linear.
TOKEN = re.compile(r"\x01+|\w+(?:[’'.\-]\w+)*[’']?|[^\w\s]")

PARTICLES = frozenset(
    ["de", "da", "di", "van", "von", "der", "bin", "al", "le", "la", "du", "del", "dos", "das", "ibn"]
)


def is_cap(tok: str) -> bool:
    """True for a capitalised word token."""
    return tok[:1].isupper()


def bare(tok: str) -> str:
    """The token without a possessive ending, casefolded."""
    t = tok.casefold()
    for suf in ("’s", "'s", "’", "'"):
        if t.endswith(suf):
            return t[: -len(suf)]
    return t


def is_possessive(tok: str) -> bool:
    """True for "Kim’s", "Kishida's", "players’"."""
    return tok.endswith(("’s", "'s", "’", "'")) and len(tok) > 2


@dataclass
class Person:
    """A name seen in the article, with what the article says about it."""

    name: str
    key: tuple[str, ...]
    positions: list[int] = field(default_factory=list)
    role: str | None = None
    gender: str | None = None  # "m", "f" or None
    person: bool = False  # looks like a person (not a place or an organisation)


def split_title(words: list[str]) -> tuple[list[str], list[str]]:
    """Split leading title words ("Russian President") from a capitalised run; returns (title, name).

    title + name == words; a stray leading acronym ("LA Amelie Mauresmo") goes with the title.
    """
    last = -1
    for i, w in enumerate(words[:-1]):
        if bare(w).rstrip(".") in TITLES:
            last = i
    while last + 1 < len(words) - 1 and "-" in words[last + 1] and not words[last + 1].split("-")[-1][:1].isupper():
        last += 1  # "Fifteen-year-old Donald Young", "Beijing-based Zhao Tong"
    title, name = words[: last + 1], words[last + 1 :]
    if len(name) >= 3 and name[0].isupper() and len(name[0]) <= 3:
        title, name = title + name[:1], name[1:]
    return title, name


def role_text(title: list[str]) -> str | None:
    """The role in a title ("Russian President"), without honorifics or stray acronyms."""
    kept = [t for t in title if bare(t).rstrip(".") not in HONORIFICS and not (t.isupper() and len(t) <= 3)]
    while kept and bare(kept[0]) in STOP_CAPS:
        kept = kept[1:]
    return " ".join(kept) or None


class Lexicon:
    """Every capitalised run in an article, indexed by token, to expand short mentions to full names."""

    def __init__(self, masked: str) -> None:
        self.names: dict[tuple[str, ...], Person] = {}
        self.by_token: dict[str, list[Person]] = {}
        run: list[tuple[str, int]] = []
        last_end = 0
        for m in TOKEN.finditer(masked):
            tok = m.group()
            if run and "\n" in masked[last_end : m.start()]:
                self._add(run)  # names never run across a line break (a headline above, a byline)
                run = []
            last_end = m.end()
            if is_cap(tok) and tok[0] != "\x01":
                run.append((tok, m.start()))
                if is_possessive(tok):
                    self._add(run)
                    run = []
            elif run and tok.lower() in PARTICLES:
                run.append((tok, m.start()))
            elif run:  # most words end no name: skip the call (this loop runs once per word)
                self._add(run)
                run = []
        if run:
            self._add(run)

    def _add(self, run: list[tuple[str, int]]) -> None:
        while run and run[-1][0].lower() in PARTICLES:
            run = run[:-1]
        while run and bare(run[0][0]) in STOP_CAPS:
            run = run[1:]
        if not run:
            return
        words = [w for w, _ in run]
        title, name = split_title(words)
        if not name:
            return
        name_pos = run[len(title)][1]
        key = tuple(bare(w) for w in name)
        if len(key) > 5:
            return
        lowered = [bare(t).rstrip(".") for t in title]
        p = self.names.get(key)
        if p is None:
            shown = " ".join(name)
            if is_possessive(name[-1]):
                shown = shown[:-2] if shown.endswith(("’s", "'s")) else shown[:-1]
            if len(key) == 1 and lowered and lowered[-1] in HONORIFICS:
                shown = f"{title[-1]} {shown}"  # "Lord Rennard", "Mr Smith": the fullest form given
            p = Person(shown, key)
            self.names[key] = p
            for k in set(key):
                self.by_token.setdefault(k, []).append(p)
        p.positions.append(name_pos)
        if title and p.role is None:
            p.role = role_text(title)
        if p.gender is None and lowered:
            if lowered[-1] in MALE:
                p.gender = "m"
            elif lowered[-1] in FEMALE:
                p.gender = "f"
        if not any(k in NON_PERSON for k in key) and all(len(k) > 1 for k in key) and (len(key) >= 2 or title):
            p.person = True

    def person_like(self, key: tuple[str, ...]) -> bool:
        """True when these name tokens belong to a person the article names."""
        p = self.names.get(key)
        if p is not None and p.person:
            return True
        if len(key) == 1:
            return any(q.person and len(q.key) >= 2 for q in self.by_token.get(key[0], []))
        return False

    def expand(self, key: tuple[str, ...], pos: int) -> Person | None:
        """The fullest name containing these tokens in order, preferring the latest mention before pos."""
        if not key:
            return None
        cands = [
            p
            for p in self.by_token.get(key[0], [])
            if len(p.key) > len(key) and _subseq(key, p.key) and (p.person or len(key) > 1)
        ]
        if len(key) == 1:
            # "Kim" names a family (first) or given-last-name position, never a middle token.
            cands = [p for p in cands if p.key[0] == key[0] or p.key[-1] == key[0]]
        if not cands:
            return self.names.get(key)
        best: Person | None = None
        best_rank: tuple[int, int, int] = (-1, -1, -1)
        for p in cands:
            i = bisect.bisect_left(p.positions, pos)
            before = p.positions[i - 1] if i > 0 else -1
            # recency before the mention first, then any mention at all, then length
            rank = (1 if before >= 0 else 0, before if before >= 0 else -p.positions[0], len(p.key))
            if rank > best_rank:
                best, best_rank = p, rank
        return best


def _subseq(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    it = iter(long)
    return all(any(s == x for x in it) for s in short)


# ---------------------------------------------------------------- speaker keys


_TITLE_KEYS = frozenset(
    ("mr", "mrs", "ms", "miss", "dr", "sir", "lord", "lady", "dame", "prof", "professor", "president")
)


def _key_tokens(name: str) -> list[str]:
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold().replace("’", "'").replace("‘", "'").replace(".", "")
    toks = re.findall(r"[\w']+", s.replace("-", " "))
    out = []
    for t in toks:
        t = t.strip("'")
        if t.endswith("'s"):
            t = t[:-2]
        if t:
            out.append(t)
    while out and out[0] in ("the", "a", "an"):
        out = out[1:]
    while len(out) > 1 and out[0] in _TITLE_KEYS:
        out = out[1:]
    return out


def speaker_key(name: str) -> str:
    """Normalised key for indexing a speaker: casefolded, no accents, titles or leading "the"."""
    return " ".join(_key_tokens(name))


def speaker_matches(query: str, speaker: str) -> bool:
    """True when the query names this speaker: all its name tokens appear in the speaker's, in order."""
    q, s = _key_tokens(query), _key_tokens(speaker)
    if not q or not s:
        return False
    it = iter(s)
    return all(any(t == x for x in it) for t in q)
