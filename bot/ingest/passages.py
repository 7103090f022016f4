"""Splitting clean text into passages: paragraphs, long ones cut on sentence boundaries.

Offsets always index the clean text, so `text[start:end]` is the passage word for word.
"""

from __future__ import annotations

import re

from bot.domain import Passage
from bot.text import SENTENCE_END

MAX_CHARS = 900


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _split_long(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """Cut [s, e) into pieces of at most ~limit chars at sentence ends (hard cut as last resort)."""
    out: list[tuple[int, int]] = []
    cuts = [m.end() for m in SENTENCE_END.finditer(text, s, e)]
    start = s
    last_ok = None
    for c in cuts + [e]:
        if c - start <= limit:
            last_ok = c
            continue
        if last_ok is not None and last_ok > start:
            out.append((start, last_ok))
            start = last_ok
            last_ok = c if c - start <= limit else None
        while last_ok is None and c - start > limit:
            # one sentence longer than the limit: cut at a space near the limit
            cut = text.rfind(" ", start, start + limit)
            cut = cut if cut > start else start + limit
            out.append((start, cut))
            start = cut
            while start < e and text[start] == " ":
                start += 1
            if c - start <= limit:
                last_ok = c
    if start < e:
        out.append((start, e))
    return [(a, b) for a, b in ((a, _rstrip(text, a, b)) for a, b in out) if b > a]


def _rstrip(text: str, a: int, b: int) -> int:
    while b > a and text[b - 1].isspace():
        b -= 1
    return b


def split_passages(text: str, limit: int = MAX_CHARS) -> list[Passage]:
    """Passages of `text`, in order, with offsets into it."""
    spans: list[tuple[int, int]] = []
    for s, e in _paragraph_spans(text):
        spans.extend(_split_long(text, s, e, limit) if e - s > limit else [(s, e)])
    return [Passage(ordinal=i, start=s, end=e, text=text[s:e]) for i, (s, e) in enumerate(spans)]
