"""Name lexicon built from one article: full names, their roles, genders and where they occur.

Used by `bot.quotes` to turn "Navarro" into "Peter Navarro" and "Mr Blair" into "Tony Blair".
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from bot.quotes.words import (
    FEMALE,
    HONORIFICS,
    MALE,
    NON_PERSON,
    NOT_A_SPEAKER,
    SAY_VERBS,
    STOP_CAPS,
    TITLE_ABBREVS,
    TITLES,
)

# A word: letters/digits with inner apostrophes, dots or hyphens ("O'Brien", "U.S", "Jong-un").
# Each alternative is anchored on a distinct first character, so matching stays linear.
TOKEN = re.compile(r"\x01+|\w+(?:[’'.\-]\w+)*[’']?|[^\w\s]")

PARTICLES = frozenset(
    ["de", "da", "di", "van", "von", "der", "bin", "al", "le", "la", "du", "del", "dos", "das", "ibn"]
)

# A run of capitalised TOKENs on one line, possibly joined by name particles ("Ludwig van Beethoven"):
# what the per-token loop over TOKEN would collect, found by the regex engine instead of in Python, so
# only the capitalised words of an article cost Python time. A token starts where TOKEN would start
# one (not inside a word, nor after a word's inner ’ ' . -); tokens are separated by spaces, never a
# line break or anything TOKEN would make a token of its own.
_UPPER = "".join(re.escape(c) for c in map(chr, range(0x10000)) if c.isupper() and c.isalnum())
_CAP_TOKEN = rf"(?<!\w)(?<!\w[’'.\-])[{_UPPER}]\w*(?:[’'.\-]\w+)*[’']?"
_GAP = r"[^\S\n]+"
CAP_RUN = re.compile(rf"{_CAP_TOKEN}(?:{_GAP}(?:(?:{'|'.join(sorted(PARTICLES))}){_GAP})*{_CAP_TOKEN})*")


def is_cap(tok: str) -> bool:
    """True for a capitalised word token."""
    return tok[:1].isupper()


def bare(tok: str) -> str:
    """The token without a possessive ending, casefolded."""
    t = tok.casefold()
    if t[-1:] == "s" and t[-2:-1] in ("’", "'"):
        return t[:-2]
    if t[-1:] in ("’", "'"):
        return t[:-1]
    return t


def is_possessive(tok: str) -> bool:
    """True for "Kim’s", "Kishida's", "players’"."""
    return tok.endswith(("’s", "'s", "’", "'")) and len(tok) > 2


def valid_speaker(name: str) -> bool:
    """A speaker is a name, an organisation or a resolved description: never a bare title or role word
    ("Mr", "Sen", "spokeswoman"), a stray capitalised word ("United"), a possessive ("president’s") or a
    shouted headline ("CONGRESS HAS ACTED")."""
    words = name.split()
    if not words or not any(w[:1].isupper() for w in words):
        return False
    if len(words) == 1:
        b = bare(words[0]).rstrip(".")
        return not (
            b in TITLES or b in TITLE_ABBREVS or b in HONORIFICS or b in NOT_A_SPEAKER or is_possessive(words[0])
        )
    return not (len(words) > 2 and all(w.isupper() for w in words))


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

    def __init__(self, masked: str, text: str) -> None:
        self.text = text
        self.names: dict[tuple[str, ...], Person] = {}
        self.by_token: dict[str, list[Person]] = {}
        for m in CAP_RUN.finditer(masked):
            text = m.group()
            if " " not in text and "\t" not in text:  # most runs are one word: no tokenising needed
                if bare(text) not in STOP_CAPS:  # most lone words are "The", "He"
                    self._add([(text, m.start())])
                continue
            run: list[tuple[str, int]] = []
            for t in TOKEN.finditer(masked, m.start(), m.end()):
                tok = t.group()
                if not run and not is_cap(tok):
                    continue  # a particle after "Blair’s" starts no name
                run.append((tok, t.start()))
                if is_possessive(tok) and is_cap(tok):  # "Kim’s" ends a name
                    self._add(run)
                    run = []
            if run:
                self._add(run)

    def _add(self, run: list[tuple[str, int]]) -> None:
        seen = _analyse(tuple(w for w, _ in run))
        if seen is None:
            return
        at, key, shown, role, gender, person = seen
        p = self.names.get(key)
        if p is None:
            if "." in self.text[run[0][1] : run[-1][1] + len(run[-1][0])]:
                shown = self._as_written(run, at, key, shown)
            p = Person(shown, key)
            self.names[key] = p
            for k in set(key):
                self.by_token.setdefault(k, []).append(p)
        p.positions.append(run[at][1])
        if p.role is None:
            p.role = role
        if p.gender is None:
            p.gender = gender
        if person:
            p.person = True

    def _as_written(self, run: list[tuple[str, int]], at: int, key: tuple[str, ...], shown: str) -> str:
        """The name with the full stops the attribution text dropped ("Anna B. Cole", "Sen. Lee")."""
        first = at - 1 if shown.count(" ") >= len(key) else at  # "Mr Smith": the honorific is shown too
        last = run[at + len(key) - 1]
        written = " ".join(self.text[run[first][1] : last[1] + len(last[0])].split())
        return written if written.replace(".", "") == shown.replace(".", "") else shown

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


# sentence adverbs a capitalised run may start with ("Again Roddick …")
_LEAD_ADVERBS = frozenset(["again", "still", "yet", "then", "there", "here", "so", "thus", "hence", "once", "twice"])


def _not_a_name_start(word: str) -> bool:
    """A word before a name that is not part of it: "Again Roddick", a plural of a place or group word
    ("Americans Andy Roddick and Andre Agassi"), a hyphenated description ("Top-seeded Andy Roddick")."""
    b = bare(word)
    if b in _LEAD_ADVERBS:
        return True
    if len(b) > 4 and b.endswith("s") and b[:-1] in NON_PERSON:
        return True
    parts = word.split("-")
    return len(parts) > 1 and not parts[-1][:1].isupper()


@functools.lru_cache(maxsize=1 << 15)
def _analyse(words: tuple[str, ...]) -> tuple[int, tuple[str, ...], str, str | None, str | None, bool] | None:
    """What a capitalised run says of a name, the same in every article (so cached): the index of the name's
    first word in the run, its key, its fullest shown form, the role and gender its title gives, and
    whether it looks like a person; None when the run names no one."""
    lo, hi = 0, len(words)
    while hi > lo and words[hi - 1].lower() in PARTICLES:
        hi -= 1
    while lo < hi and (bare(words[lo]) in STOP_CAPS or bare(words[lo]) in SAY_VERBS):  # "Said Ellis"
        lo += 1
    while lo < hi - 1 and _not_a_name_start(words[lo]):
        lo += 1
    if lo == hi:
        return None
    title, name = split_title(list(words[lo:hi]))
    if not name:
        return None
    key = tuple(bare(w) for w in name)
    if len(key) > 5:
        return None
    lowered = [bare(t).rstrip(".") for t in title]
    shown = " ".join(name)
    if is_possessive(name[-1]):
        shown = shown[:-2] if shown.endswith(("’s", "'s")) else shown[:-1]
    if len(key) == 1 and lowered and lowered[-1] in HONORIFICS:
        shown = f"{title[-1]} {shown}"  # "Lord Rennard", "Mr Smith": the fullest form given
    gender = None
    if lowered and lowered[-1] in MALE:
        gender = "m"
    elif lowered and lowered[-1] in FEMALE:
        gender = "f"
    person = (
        not any(k in NON_PERSON for k in key)
        and len(key[0]) > 1
        and len(key[-1]) > 1  # a middle initial is fine ("Anna B. Cole")
        and (len(key) >= 2 or bool(title))
    )
    return lo + len(title), key, shown, role_text(title) if title else None, gender, person


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
