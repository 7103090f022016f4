"""Find quotations in news text and attribute each to its speaker with pure, linear-time rules.

Quote marks are paired per paragraph; speakers come from cue verbs in a bounded window around each quote.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from bot.domain import Quote
from bot.quotes.attr import Attributor
from bot.quotes.marks import find_quotations, mask_quotes
from bot.quotes.names import speaker_key, speaker_matches

__all__ = ["extract_quotes", "speaker_key", "speaker_matches"]


def extract_quotes(text: str, passages: Sequence[tuple[int, int]] | None = None) -> list[Quote]:
    """Return every quotation in text, sorted by start, with speaker, cue and passage when known."""
    if not text:
        return []
    paras, qs = find_quotations(text)
    if not qs:
        return []
    masked = mask_quotes(text, qs)
    ctx = Attributor(text, masked, qs, paras)
    for i in range(len(qs)):
        ctx.attribute(i)
    for q in qs:
        if q.headline:  # a headline's quoted words are the story's, said in its body: not attributed here
            q.speaker = None
    if passages is None:
        spans = paras
    else:
        spans = sorted((int(a), int(b)) for a, b in passages)
    starts = [a for a, _ in spans]
    out = []
    for q in qs:
        k = bisect.bisect_right(starts, q.start) - 1
        ordinal: int | None = None
        if k >= 0 and q.start < spans[k][1]:
            ordinal = k if passages is None else _ordinal(passages, spans[k])
        out.append(
            Quote(
                text=text[q.start : q.end],
                start=q.start,
                end=q.end,
                speaker=q.speaker,
                speaker_start=q.sp_start if q.speaker else None,
                speaker_end=q.sp_end if q.speaker else None,
                description=q.description if q.speaker else None,
                role=q.role if q.speaker else None,
                cue=q.cue if q.speaker else None,
                kind=q.kind if q.speaker else "unattributed",
                passage=ordinal,
            )
        )
    return out


def _ordinal(passages: Sequence[tuple[int, int]], span: tuple[int, int]) -> int:
    # passages may arrive unsorted; the ordinal is the caller's index
    for i, (a, b) in enumerate(passages):
        if (int(a), int(b)) == span:
            return i
    return 0
