"""Turning raw bytes and scraped text into clean, citable text: decoding, spacing, scraped noise.

Pure functions; imports nothing from the store or the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import SENTENCE_END

# Characters that look like a space or a hyphen but break word-for-word matching.
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u3000": " "}
_HYPHENS = {"\u2011": "-", "\u2010": "-"}
_INVISIBLE = {"\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u00ad": "", "\u2060": ""}
_TABLE = str.maketrans({**_SPACES, **_HYPHENS, **_INVISIBLE})
_RUNS = re.compile(r" {2,}|[\t\f\v][ \t\f\v]*")
_EDGES = re.compile(r" ?\n ?")
# A scraped page's trailing widgets: lines that are never part of an article.
_TRAILING_NOISE = re.compile(
    r"^(loading(…|\.\.\.)?|advertisement|advert|subscribe( now)?|sign up( now)?|share( this( article)?)?"
    r"|read more|related( articles| stories)?|comments?|continue reading|skip advert)\W*$",
    re.IGNORECASE,
)
_ELLIPSIS = ("…", "...")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DecodeError(ValueError):
    """Bytes that are not text in any encoding we accept."""


def decode(data: bytes) -> str:
    """Bytes to str: a UTF-32/16 BOM, else UTF-8 (with or without BOM), else the detected legacy
    encoding (cp1252 first); stray control characters are dropped, many mean binary."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        codec: str | None = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        codec = None
    if codec:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            raise DecodeError(f"not valid {codec.upper()} although it starts with a {codec.upper()} byte-order mark") from None
    elif b"\x00" in data:
        raise DecodeError("binary content (NUL bytes), not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _legacy(data)
    controls = len(_CONTROL.findall(text))
    if controls > max(2, len(text) // 100):
        raise DecodeError("binary content (control bytes), not text")
    return _CONTROL.sub("", text) if controls else text


def _legacy(data: bytes) -> str:
    """Not UTF-8: Windows-1252 when it reads as Western text, else what charset_normalizer detects."""
    try:
        # Western news text that is not UTF-8 is overwhelmingly Windows-1252 (BBC: "£" is 0xA3).
        text = data.decode("cp1252")
        letters = [c for c in text if not c.isspace()]
        if sum(c > "\x7f" for c in letters) <= 0.3 * len(letters):
            return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DecodeError("undecodable bytes: not UTF-8 and no text encoding detected")
    return str(best)


def normalise(text: str) -> str:
    """Spaces, hyphens and invisible characters made plain; curly quotes and dashes kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_TABLE)
    return _EDGES.sub("\n", _RUNS.sub(" ", text)).strip(" ")


@dataclass
class CleanText:
    """A document's clean body and the title taken from it, if its first line is one."""

    title: str | None
    paragraphs: list[str]
    removed: list[str]  # what was dropped as scraped noise, for the ingest report

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _is_title_line(line: str, rest: list[str]) -> bool:
    """A first line is a title when short, unpunctuated at the end, and followed by more text."""
    if not rest or not line or len(line) > 160:
        return False
    if line[-1] in ".!?;,:…" or line.endswith('."') or line.endswith(".”"):
        return False
    return len(line.split()) <= 25


def _drop_teasers(paras: list[str], removed: list[str]) -> list[str]:
    """A paragraph cut off with '…' that repeats the start of the next one is a teaser."""
    out: list[str] = []
    for i, p in enumerate(paras):
        nxt = paras[i + 1] if i + 1 < len(paras) else ""
        for e in _ELLIPSIS:
            if p.endswith(e) and len(p) > len(e) + 20:
                stem = p[: -len(e)].rstrip()
                if nxt.startswith(stem) and len(nxt) > len(stem):
                    removed.append(p)
                    break
        else:
            out.append(p)
    return out


def _drop_pull_quotes(paras: list[str], removed: list[str]) -> list[str]:
    """A short paragraph repeating words found inside a longer paragraph is a pull quote."""
    out: list[str] = []
    for i, p in enumerate(paras):
        # the article often continues the sentence ("partner—frustrating ..."), so match without its end mark
        core = p.rstrip(".!?…").rstrip() if p[-1:] in ".!?…" else p
        if 20 <= len(core) <= 400 and any(
            j != i and len(q) > len(p) + 10 and core in q for j, q in enumerate(paras)
        ):
            removed.append(p)
            continue
        out.append(p)
    return out


def _drop_repeats(paras: list[str], removed: list[str]) -> list[str]:
    """The same paragraph twice (scraped carousels, repeated captions) is kept once."""
    seen: set[str] = set()
    out: list[str] = []
    for p in paras:
        if len(p) >= 40 and p in seen:
            removed.append(p)
            continue
        seen.add(p)
        out.append(p)
    return out


def clean(text: str, *, title_from_first_line: bool = True) -> CleanText:
    """Normalise text, take the title line, and drop teasers, pull quotes and trailing widgets."""
    paras = [p for p in normalise(text).split("\n") if p]
    removed: list[str] = []
    title = None
    if title_from_first_line and paras and _is_title_line(paras[0], paras[1:]):
        title = paras.pop(0)
    while paras and _TRAILING_NOISE.match(paras[-1]):
        removed.append(paras.pop())
    paras = _drop_teasers(paras, removed)
    paras = _drop_repeats(paras, removed)
    paras = _drop_pull_quotes(paras, removed)
    return CleanText(title=title, paragraphs=paras, removed=removed)




def first_sentence(text: str, limit: int = 120) -> str:
    """The first sentence of a text, cut at a word boundary when long (a fallback title)."""
    m = SENTENCE_END.search(text, 0, 400)
    s = text[: m.end()] if m else text[:400]  # with its closing quote or bracket: “unsafe.” not “unsafe.
    s = s.strip()
    if len(s) > limit:
        s = s[:limit].rsplit(" ", 1)[0] + "…"
    return s
