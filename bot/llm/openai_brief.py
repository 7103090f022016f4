"""The LLM summarizer for briefs: the extractive brief's ranked sentences, numbered and packed to a
token budget, rewritten by the model; every point, summary and difference verified before use.

What fails verification is dropped or replaced by the extractive version; quotes always come from
the quote index, so they are verbatim by construction.
"""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from bot.brief import ExtractiveSummarizer
from bot.citations import fold, quotations, verify
from bot.domain import Citation, Difference, Document, KeyPoint, StoryBrief
from bot.llm.openai_backend import Transport
from bot.llm.tokens import count_tokens, pack
from bot.store.base import QuoteRow
from bot.stories import Story

log = logging.getLogger("briefbot.brief")

BRIEF_BUDGET = 3000  # prompt tokens per story brief
MAX_SENTENCES = 60
# No maxLength/maxItems (llama.cpp's grammar compiler fails on large repetitions): checked after parsing.
_CITED = {"type": "array", "items": {"type": "integer"}}
BRIEF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "headline": {"type": "string"},
        "summary": {"type": "object", "properties": {"text": {"type": "string"}, "citations": _CITED},
                    "required": ["text", "citations"]},
        "key_points": {"type": "array", "items": {
            "type": "object", "properties": {"text": {"type": "string"}, "citations": _CITED},
            "required": ["text", "citations"]}},
        "differences": {"type": "array", "items": {
            "type": "object", "properties": {
                "topic": {"type": "string"},
                "sides": {"type": "array", "items": {
                    "type": "object", "properties": {"outlet": {"type": "string"}, "text": {"type": "string"},
                                                     "citations": _CITED},
                    "required": ["text", "citations"]}}},
            "required": ["topic", "sides"]}},
    },
    "required": ["headline", "summary", "key_points"],
}


def _outlet(d: Document) -> str:
    return d.outlet or (PurePath(d.location).name if "://" not in d.location else d.location.split("/")[2])


class OpenAISummarizer:
    """Story briefs written by an OpenAI-compatible model, verified against the stored articles."""

    name = "openai"

    def __init__(self, transport: Transport, prompt_text: str, prompt_name: str = "brief", prompt_hash: str = "",
                 budget: int = BRIEF_BUDGET, fallback: ExtractiveSummarizer | None = None,
                 secrets: tuple[str, ...] = ()) -> None:
        self.transport = transport
        self.prompt_text = prompt_text
        self.prompt_name = prompt_name
        self.prompt_hash = prompt_hash
        self.budget = budget
        self.fallback = fallback or ExtractiveSummarizer()
        self.secrets = secrets
        self.usage: dict[str, Any] = {"calls": 0, "tokens_in": 0, "tokens_out": 0, "prompt_tokens_counted": 0,
                                      "fallbacks": 0}

    def numbered(self, story: Story) -> list[tuple[Document, int, int]]:
        """The best-ranked sentences, in ranked order, packed to the prompt's token budget."""
        _, _, cands = self.fallback.ranked(story)
        lines = [f"({_outlet(d)}) {d.text[a:b]}" for _, d, a, b, _ in cands[:MAX_SENTENCES]]
        # the "[n] " prefixes, the outlets line and the chat framing cost tokens too: keep room for them
        room = self.budget - count_tokens(self.prompt_text, self.transport.model) - 4 * len(lines) - 120
        keep = pack(lines, max(0, room), self.transport.model)
        return [(cands[i][1], cands[i][2], cands[i][3]) for i in keep]

    def story_brief(self, story: Story, quotes: list[QuoteRow]) -> StoryBrief:
        base = self.fallback.story_brief(story, quotes)
        sents = self.numbered(story)
        if not sents:
            return base
        listing = "\n".join(f"[{n}] ({_outlet(d)}) {d.text[a:b]}" for n, (d, a, b) in enumerate(sents, start=1))
        user = (f"Outlets: {', '.join(dict.fromkeys(_outlet(d) for d in story.documents))}\n\n"
                f"Sentences:\n{listing}")
        self.usage["prompt_tokens_counted"] += count_tokens(self.prompt_text + user, self.transport.model)
        res = self.transport.complete_json(self.prompt_text, user, BRIEF_SCHEMA, "story_brief", max_tokens=900,
                                           prompt_name=self.prompt_name, prompt_hash=self.prompt_hash)
        self.usage["calls"] += 1
        self.usage["tokens_in"] += res.tokens_in
        self.usage["tokens_out"] += res.tokens_out
        if not res.ok or not isinstance(res.data, dict):
            self.usage["fallbacks"] += 1
            log.warning("brief of story %s: LLM call %s (%s); using the extractive brief", story.id, res.outcome,
                        res.error)
            return base
        return self._merge(base, res.data, sents, story)

    def _merge(self, base: StoryBrief, data: dict[str, Any], sents: list[tuple[Document, int, int]],
               story: Story) -> StoryBrief:
        docs = {d.id: d for d in story.documents}
        counter = [0]

        def checked(text: Any, nums: Any, what: str) -> KeyPoint | None:
            if not isinstance(text, str) or not text.strip() or not isinstance(nums, list):
                return None
            ns = [n for n in nums if isinstance(n, int)][:4]
            if not ns or any(not 1 <= n <= len(sents) for n in ns):
                log.warning("brief of story %s: %s dropped: citations %s out of range", story.id, what, nums)
                return None
            cites = []
            for n in dict.fromkeys(ns):
                d, a, b = sents[n - 1]
                counter[0] += 1
                cites.append(Citation(n=counter[0], source=d.location, text=d.text[a:b], doc_id=d.id, start=a,
                                      end=b, title=d.title, url=d.url, outlet=d.outlet))
            marked = text.strip() + " " + "".join(f"[{c.n}]" for c in cites)
            verdict = verify(marked, cites, docs, secrets=self.secrets)
            if not verdict.ok:
                log.warning("brief of story %s: %s dropped: %s", story.id, what, "; ".join(verdict.problems))
                return None
            return KeyPoint(text=text.strip(), citations=cites)

        points = [p for i, kp in enumerate(data.get("key_points") or [])
                  if isinstance(kp, dict) and (p := checked(kp.get("text"), kp.get("citations"), f"point {i + 1}"))]
        points = _distinct(points)[:7]
        summary_kp = checked((data.get("summary") or {}).get("text"), (data.get("summary") or {}).get("citations"),
                             "summary") if isinstance(data.get("summary"), dict) else None
        diffs = []
        for i, df in enumerate(data.get("differences") or []):
            if not isinstance(df, dict) or not isinstance(df.get("topic"), str):
                continue
            sides = [s for j, side in enumerate(df.get("sides") or []) if isinstance(side, dict)
                     and (s := checked(f"{side.get('outlet') or ''}: {side.get('text')}".strip(": "),
                                       side.get("citations"), f"difference {i + 1} side {j + 1}"))]
            if len(sides) >= 2:
                diffs.append(Difference(topic=df["topic"].strip()[:120], sides=sides))
        headline = data.get("headline")
        ok_headline = isinstance(headline, str) and 0 < len(headline.strip()) <= 140 and not quotations(headline)
        if len(points) < 2:
            # a reply whose points do not check out is not trusted for its headline and summary either
            self.usage["fallbacks"] += 1
            log.warning("brief of story %s: only %d verified points from the model; using the extractive brief",
                        story.id, len(points))
            return base
        return StoryBrief(
            story_id=base.story_id, headline=headline.strip() if ok_headline and isinstance(headline, str)
            else base.headline, summary=summary_kp.text if summary_kp else base.summary,
            key_points=points, quotes=base.quotes, differences=diffs or base.differences, entities=base.entities,
            sources=base.sources)


def _distinct(points: list[KeyPoint]) -> list[KeyPoint]:
    """No two points saying the same (a model repeating itself is common)."""
    out: list[KeyPoint] = []
    for p in points:
        if not any(fold(p.text) == fold(o.text) for o in out):
            out.append(p)
    return out
