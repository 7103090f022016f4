"""Citations: numbering spans, parsing [n] markers, and verifying every cited and quoted word.

Where bugs hide: nothing reaches a user unless `verify` finds it word for word in a stored document.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain import Citation, Document
from bot.quotes.marks import QSpan, find_quotations
from bot.quotes.words import _words

log = logging.getLogger("briefbot.citations")

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SPACED_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# a link in an answer: a URL, "www." name, or a bare domain ("evil-login.example/verify"): labels, a dot, a
# letters-only top-level name (so "U.S.", "e.g." and "3.5bn" are not domains), then any path
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"“”`|]+"
                  r"|(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])"
                  r"(?:[/:?#][^\s<>()\[\]\"“”`|]*)?", re.I)
_FOLD = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u2011": "-", "\u2010": "-", "\u2013": "-",
         "\u2014": "-", "…": "...", "\u00a0": " ", "\u202f": " "}
_FOLD_TABLE = str.maketrans(_FOLD)


def fold(text: str) -> str:
    """Text folded for verbatim comparison: quote styles, dashes, ellipses and spacing made uniform."""
    t = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    return re.sub(r"\s+", " ", t).strip().lower()


def _num(digits: str) -> int:
    """A marker's number; a marker of absurd length is one number that no citation has (never an error)."""
    digits = digits.strip()
    return int(digits) if len(digits) <= 18 else 10**18


def markers(text: str) -> list[int]:
    """Citation numbers used in a text, in order of first use: "[1]", "[2, 3]", "[1082]" (any length)."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for n in m.group(1).split(","):
            v = _num(n)
            if v not in out:
                out.append(v)
    return out


def strip_markers(text: str, keep: set[int] | None = None) -> str:
    """Remove [n] markers (all, or those not in `keep`)."""
    def repl(m: re.Match[str]) -> str:
        ns = [] if keep is None else [n.strip() for n in m.group(1).split(",") if _num(n) in keep]
        return f" [{', '.join(ns)}]" if ns else ""
    # only the space a removed marker leaves behind goes: quoted words keep their own spacing
    return _SPACED_MARKER.sub(repl, text).strip()


def quotation_spans(text: str) -> list[QSpan]:
    """Every quotation in a text, in any quote-mark style bot.quotes knows (“”, "", ‘’, '', „“, «», 「」, 『』)."""
    return find_quotations(text)[1]


def quotations(text: str) -> list[str]:
    """Quoted passages inside a text (what a reader takes as someone's exact words), without [n] markers."""
    return [w for q in quotation_spans(text) if len(w := strip_markers(text[q.start:q.end]).strip()) >= 2]


def link_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every link-like run in a text: URLs, "www." names and bare domains with their paths."""
    return [(m.start(), m.start() + len(m.group().rstrip(".,;:!?'’"))) for m in _URL.finditer(text)]


def links(text: str) -> list[str]:
    """The link-like runs of a text (what a chat client might make clickable)."""
    return [text[a:b] for a, b in link_spans(text)]


_PIECE = 12  # characters of a secret that, shown alone, still leak it


def _random_looking(piece: str) -> bool:
    """A run of a secret that no article would contain by chance: it has a digit or mixes letter cases."""
    return any(c.isdigit() for c in piece) or (any(c.islower() for c in piece) and any(c.isupper() for c in piece))


def leaks_secret(text: str, secrets: tuple[str, ...]) -> bool:
    """True when a text holds a secret, or a 12-character random-looking run of one (a key cut short still
    leaks; a placeholder key such as "sk-no-key-required" does not make the word "required" a leak)."""
    for secret in secrets:
        if not secret:
            continue
        if secret in text:
            return True
        if any(_random_looking(piece := secret[i:i + _PIECE]) and piece in text
               for i in range(len(secret) - _PIECE + 1)):
            return True
    return False


_NAME_RUN = r"((?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’-]+)"
_SPEECH = (r"(?:said|says|told|added|warned|stated|declared|wrote|noted|argued|insisted|replied|explained|"
           r"recalled|claimed|admitted|continued|called\s+it|described\s+it\s+as)")
# "X said: “…”", "X, the minister, told reporters “…”", "according to X: “…”"
_SAID_BY = re.compile(_NAME_RUN + r"(?:,[^,“”]{0,80},)?\s+(?:also\s+)?" + _SPEECH + r"\b[^“”\"]{0,60}$"
                      r"|according\s+to\s+" + _NAME_RUN + r"\W{0,3}$")
# "“…,” X said", "“…,” said X", "“…”, according to X"
_SAID_AFTER = re.compile(r"^[\s,.;:!?—–-]*(?:" + _NAME_RUN + r"(?:,[^,“”]{0,80},)?\s+(?:also\s+)?" + _SPEECH +
                         r"|" + _SPEECH + r"\s+" + _NAME_RUN + r"|according\s+to\s+" + _NAME_RUN + r")\b")
# capitalised words that are not a person's name: sentence openers, pronouns, titles and roles
_NOT_NAMES = _words("""the a an he she they it we i you his her their its this that these those but and also
then later earlier yet so in on at as after before when while however meanwhile mr mrs ms miss dr sir dame lord
lady prof professor prime minister president chancellor secretary chief executive mayor governor senator sen rep
general gen judge justice king queen prince princess pope officer director leader spokesman spokeswoman
spokesperson deputy foreign home health defence defense finance trade union council government""")


def _named(run: str | None) -> set[str]:
    return {w for w in re.findall(r"[A-Z][\w'’-]+", run or "") if w.casefold() not in _NOT_NAMES}


def misattributed(text: str, stored: list[tuple[str, str]], passages: list[str] | None = None) -> list[str]:
    """Quotations the text gives to someone other than their speaker. `stored` holds (quote words, speaker) of
    the cited articles: "Vale said: “There was a slideshow”" fails when the article's speaker of those words is
    Quinlan. Words with no stored speaker must be given to someone the passages holding them name. A quotation
    named to no one ("The union disputed it: “…”") passes; so does one too short to tell whose it is."""
    problems = []
    text = strip_markers(text)
    spans = quotation_spans(text)
    for i, q in enumerate(spans):
        quoted = text[q.start:q.end]
        words = fold(quoted).strip(" .,;:")
        if len(words) < 8:
            continue
        # who the text names just before the quotation (back to the previous quotation or sentence end) or after
        before = text[spans[i - 1].c + 1 if i else 0:q.o]
        cut = max(before.rfind(". "), before.rfind("? "), before.rfind("! "), before.rfind("\n"))
        said = _SAID_BY.search(before[cut + 1:])
        named = _named(next((g for g in said.groups() if g), None)) if said else set()
        if not named:
            after = text[q.c + 1 if q.closed else q.end:spans[i + 1].o if i + 1 < len(spans) else len(text)]
            m = _SAID_AFTER.match(after)
            named = _named(next((g for g in m.groups() if g), None)) if m else set()
        if not named:
            continue
        owners = {sp for w, sp in stored if sp and words in fold(w)}
        if owners:
            if not any(w in sp.split() for sp in owners for w in named):
                problems.append(f"quotation “{quoted[:50]}” is given to {', '.join(sorted(named))}, but the "
                                f"article's speaker is {', '.join(sorted(owners))}")
        elif passages is not None:
            holding = [p for p in passages if words in fold(p)]
            if holding and not any(re.search(rf"\b{re.escape(w)}\b", p) for p in holding for w in named):
                problems.append(f"quotation “{quoted[:50]}” is given to {', '.join(sorted(named))}, whom the "
                                f"cited passage does not name")
    return problems


def renumber(text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Number citations 1..k in order of first use; drop unused ones; rewrite the markers."""
    used = [n for n in markers(text) if any(c.n == n for c in citations)]
    mapping = {old: new for new, old in enumerate(used, start=1)}

    def repl(m: re.Match[str]) -> str:
        ns = [mapping[_num(n)] for n in m.group(1).split(",") if _num(n) in mapping]
        return "[" + ", ".join(str(n) for n in dict.fromkeys(ns)) + "]" if ns else ""

    new_text = _MARKER.sub(repl, text)
    by_n = {c.n: c for c in citations}
    out = []
    for old, new in mapping.items():
        c = by_n[old]
        out.append(Citation(n=new, source=c.source, text=c.text, doc_id=c.doc_id, start=c.start, end=c.end,
                            title=c.title, url=c.url, outlet=c.outlet, passage=c.passage))
    return new_text, out


@dataclass
class Verdict:
    """The outcome of verification: what is wrong, if anything."""

    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# a sentence's end with the markers that cite it ("… protected. [2]"), or a line break
_SENTENCE_CLOSE = re.compile(r"[.!?…][”\"’')\]]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s|$)|\n")
_LEADING_MARKERS = re.compile(r"\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)*")


def _quote_markers(text: str, q: QSpan) -> set[int]:
    """The citation numbers of the sentence a quotation sits in: the nearest markers after it, else before it."""
    end = q.c + 1 if q.closed else q.end
    if q.closed and text[q.start:q.end].rstrip()[-1:] in ".!?…":
        lead = _LEADING_MARKERS.match(text, end)  # the quotation ends its sentence: only markers right after it
        stop = lead.end() if lead else end
    else:
        m = _SENTENCE_CLOSE.search(text, end)
        stop = m.end() if m else len(text)
    after = markers(text[end:stop])
    if after:
        return set(after)
    cut = max((m.end() for m in _SENTENCE_CLOSE.finditer(text, 0, q.o)), default=0)
    return set(markers(text[cut:q.o]))


def verify(text: str, citations: list[Citation], docs: dict[int, Document], *, require_citation: bool = True,
           secrets: tuple[str, ...] = ()) -> Verdict:
    """Every [n] exists; every cited span is the document's own words at its offsets; every quotation (any
    quote-mark style) is word for word in the passage its sentence cites; every link (URL or bare domain) is in a
    cited passage or names a cited source; no secret, or piece of one, appears."""
    v = Verdict()
    by_n = {c.n: c for c in citations}
    used = markers(text)
    if require_citation and not used:
        v.problems.append("the answer cites nothing")
    for n in used:
        if n not in by_n:
            v.problems.append(f"citation [{n}] does not exist")
    for c in citations:
        doc = docs.get(c.doc_id)
        if doc is None:
            v.problems.append(f"citation [{c.n}] points at a document that is not stored")
            continue
        if not (0 <= c.start < c.end <= len(doc.text)) or doc.text[c.start:c.end] != c.text:
            v.problems.append(f"citation [{c.n}] text is not the document's words at {c.start}-{c.end}")
    passages = {c.n: fold(c.text) for c in citations if c.n in used and c.doc_id in docs}
    # a cited article's headline may be shown (and quoted: "Custody death rate 'shocks' MPs") as its label
    titles = [fold(c.title) for c in citations if c.n in used and c.title]
    for q in quotation_spans(text):
        quoted = text[q.start:q.end]
        cited = _quote_markers(text, q)
        if not q.closed and (m := _MARKER.search(quoted)):
            # an unclosed quotation ends where its sentence is cited
            quoted, cited = quoted[:m.start()], set(markers(m.group()))
        quoted = strip_markers(quoted)
        fq = fold(quoted).strip(" .,;:")
        if not fq:
            continue
        near = [passages[n] for n in cited if n in passages] or list(passages.values())
        if not any(fq in p for p in near + titles):
            v.problems.append(f"quotation “{quoted[:60]}” is not word for word in the passage it cites")
    # a cited source's own name ("harbour-strike-gazette.txt", its URL or outlet) may be named
    cited_names = [fold(x) for c in citations if c.n in used for x in (c.url, c.source, c.outlet, c.title) if x]
    for url in links(strip_markers(text)):
        fu = fold(url)
        if not any(fu in p for p in passages.values()) and not any(fu and fu in u for u in cited_names):
            v.problems.append(f"link {url[:60]} is not in a cited passage")
    if leaks_secret(text, secrets):
        v.problems.append("the answer contains a configured secret")
    return v


# the end of a finished sentence in a streamed draft, with the markers that cite it, before the next one starts
_SENTENCE_DONE = re.compile(r"[.!?…][”\"’')\]]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s)")


class VerifiedStream:
    """Passes on what a draft being written may show: its complete sentences, once `check` (the same verification
    as the whole answer) passes them, renumbered as the final answer will be; nothing until some do. A sentence
    that fails ends the stream, since everything after it would show it too."""

    def __init__(self, check: Callable[[str, list[Citation]], Verdict], show: Callable[[str], None],
                 max_chars: int) -> None:
        self._check, self._show, self._max = check, show, max_chars
        self._shown = ""
        self._failed = False
        self._lock = threading.Lock()

    def __call__(self, text: str, citations: list[Citation]) -> None:
        with self._lock:
            if self._failed:
                return
            cut = max((m.end() for m in _SENTENCE_DONE.finditer(text)), default=0)
            prefix = text[:cut].strip()
            if len(prefix) <= len(self._shown) or len(prefix) > self._max:
                return
            cited = set(markers(prefix))
            cites = [c for c in citations if c.n in cited]
            verdict = self._check(prefix, cites)
            if not verdict.ok:
                self._failed = True
                log.info("streaming stopped: the draft so far fails verification (%s)", "; ".join(verdict.problems))
                return
            self._shown = prefix
            self._show(renumber(prefix, cites)[0])
