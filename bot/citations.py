"""Citations: numbering spans, parsing [n] markers, and verifying every cited and quoted word.

Where bugs hide: nothing reaches a user unless `verify` finds it word for word in a stored document.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.domain import Citation, Document

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_SPACED_MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# a quotation inside an answer: curly or straight double quotes, at least two words inside
_QUOTATION = re.compile(r"[“\"]([^“”\"]{2,}?)[”\"]")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"”]+", re.I)
_FOLD = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u2011": "-", "\u2010": "-", "\u2013": "-",
         "\u2014": "-", "…": "...", "\u00a0": " ", "\u202f": " "}
_FOLD_TABLE = str.maketrans(_FOLD)


def fold(text: str) -> str:
    """Text folded for verbatim comparison: quote styles, dashes, ellipses and spacing made uniform."""
    t = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    return re.sub(r"\s+", " ", t).strip().lower()


def markers(text: str) -> list[int]:
    """Citation numbers used in a text, in order of first use: "[1]", "[2, 3]"."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for n in m.group(1).split(","):
            v = int(n)
            if v not in out:
                out.append(v)
    return out


def strip_markers(text: str, keep: set[int] | None = None) -> str:
    """Remove [n] markers (all, or those not in `keep`)."""
    def repl(m: re.Match[str]) -> str:
        ns = [] if keep is None else [n.strip() for n in m.group(1).split(",") if int(n) in keep]
        return f" [{', '.join(ns)}]" if ns else ""
    # only the space a removed marker leaves behind goes: quoted words keep their own spacing
    return _SPACED_MARKER.sub(repl, text).strip()


def quotations(text: str) -> list[str]:
    """Quoted passages inside a text (what a reader takes as someone's exact words)."""
    return [m.group(1).strip() for m in _QUOTATION.finditer(text) if len(m.group(1).strip()) >= 2]


_SAID_BY = re.compile(r"((?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’-]+)(?:,[^,“”]{0,80},)?\s+(?:also\s+)?(?:said|says|told|added|"
                      r"warned|stated|declared|wrote|noted|argued|insisted|replied|called\s+it|described\s+it\s+as)"
                      r"\b[^“”\"]{0,60}$")


def misattributed(text: str, stored: list[tuple[str, str]]) -> list[str]:
    """Quotations the text gives to someone other than their stored speaker: `stored` holds (quote words,
    speaker) of the cited articles. "Vale said: “There was a slideshow”" fails when the article's speaker of
    those words is Quinlan; a quotation with no stored speaker, or not named to anyone, passes."""
    problems = []
    speakers = {sp for _, sp in stored if sp}
    surnames = {w for sp in speakers for w in sp.split() if len(w) > 2 and w[0].isupper()}
    for m in _QUOTATION.finditer(text):
        words = fold(m.group(1)).strip(" .,;:")
        if len(words) < 8:
            continue
        owners = {sp for q, sp in stored if sp and words in fold(q)}
        if not owners:
            continue
        # who the text names just before the quotation (back to the previous quotation or sentence end)
        before = text[:m.start()]
        cut = max(before.rfind("”"), before.rfind(". "), before.rfind("]"))
        window = before[cut + 1:]
        said = _SAID_BY.search(window)  # "X said: “…”", "X, the minister, told reporters “…”"
        named = {w for w in re.findall(r"[A-Z][\w'’-]+", said.group(1)) if w in surnames} if said else set()
        if named and not any(w in sp.split() for sp in owners for w in named):
            problems.append(f"quotation “{m.group(1)[:50]}” is given to {', '.join(sorted(named))}, but the article's "
                            f"speaker is {', '.join(sorted(owners))}")
    return problems


def renumber(text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Number citations 1..k in order of first use; drop unused ones; rewrite the markers."""
    used = [n for n in markers(text) if any(c.n == n for c in citations)]
    mapping = {old: new for new, old in enumerate(used, start=1)}

    def repl(m: re.Match[str]) -> str:
        ns = [mapping[int(n)] for n in m.group(1).split(",") if int(n) in mapping]
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


def verify(text: str, citations: list[Citation], docs: dict[int, Document], *, require_citation: bool = True,
           secrets: tuple[str, ...] = ()) -> Verdict:
    """Every [n] exists; every cited span is the document's own words at its offsets; every
    quotation and link in the text appears verbatim in a cited document; no secret appears."""
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
    cited_texts = [fold(docs[c.doc_id].text) for c in citations if c.n in used and c.doc_id in docs]
    for q in quotations(strip_markers(text)):
        fq = fold(q).strip(" .,;:")
        if fq and not any(fq in t for t in cited_texts):
            v.problems.append(f"quotation “{q[:60]}” is not word for word in a cited article")
    cited_urls = [fold(c.url or "") for c in citations]
    for url in _URL.findall(text):
        fu = fold(url).rstrip(".,;:")
        if not any(fu in t for t in cited_texts) and not any(fu and fu in u for u in cited_urls):
            v.problems.append(f"link {url[:60]} is not in a cited article")
    for secret in secrets:
        if secret and secret in text:
            v.problems.append("the answer contains a configured secret")
    return v
