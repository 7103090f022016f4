"""The LLM summarizer beside bot.brief: the extractive brief's ranked sentences, with stable ids and packed to a
token budget, rewritten by the model; every point, summary and difference verified before use by the
rules the extractive brief keeps (supported by what it cites, no pronoun-led point without its antecedent).

What fails verification is dropped or replaced by the extractive version; quotes always come from
the quote index, so they are verbatim by construction. Talks to a model through bot.llm.transport; no SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.brief import ExtractiveSummarizer, all_sentences
from bot.brief_rules import leads_with_reference, number_by_document, outlet_key, outlet_name
from bot.citations import fold, quotations, verify
from bot.domain import Citation, Difference, Document, KeyPoint, StoryBrief
from bot.llm.tokens import count_tokens, pack
from bot.llm.transport import Transport
from bot.store.base import QuoteRow
from bot.stories import Story, terms
from bot.support import support

log = logging.getLogger("briefbot.brief")

BRIEF_BUDGET = 3000  # prompt tokens per story brief, at most (less when the context window is smaller)
BRIEF_TOKENS = 700  # the reply's max_tokens
MAX_SENTENCES = 60
ID_STRIDE = 100  # sentence ids: article number * ID_STRIDE + sentence number
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


def sentence_id(doc_number: int, sentence_number: int) -> int:
    """A sentence's id in the prompt: 204 is sentence 4 of the story's article 2 (not its rank)."""
    return doc_number * ID_STRIDE + sentence_number


class OpenAISummarizer:
    """Story briefs written by an OpenAI-compatible model, verified against the stored articles."""

    name = "openai"

    def __init__(self, transport: Transport, prompt_text: str, prompt_name: str = "brief", prompt_hash: str = "",
                 budget: int = BRIEF_BUDGET, fallback: ExtractiveSummarizer | None = None,
                 secrets: tuple[str, ...] = (), on_outcome: Callable[[Any, str, str], None] | None = None) -> None:
        self.transport = transport
        self.prompt_text = prompt_text
        self.prompt_name = prompt_name
        self.prompt_hash = prompt_hash
        self.budget = budget
        self.fallback = fallback or ExtractiveSummarizer()
        self.secrets = secrets
        self.on_outcome = on_outcome  # (call id, outcome, detail) into the call log
        self.usage: dict[str, Any] = {"calls": 0, "tokens_in": 0, "tokens_out": 0, "prompt_tokens_counted": 0,
                                      "fallbacks": 0, "points_dropped": 0, "points_repaired": 0}

    def numbered(self, story: Story) -> dict[int, tuple[Document, int, int]]:
        """The best-ranked sentences packed to the prompt's token budget, by stable id, in article order.

        A sentence that leans on the one before it ("He said…") comes with that sentence, so the model can
        cite both.
        """
        _, _, cands = self.fallback.ranked(story)
        number = {d.id: k for k, d in enumerate(story.documents, start=1)}
        index = {d.id: {a: i for i, (a, _) in enumerate(all_sentences(d), start=1)} for d in story.documents}
        picked: list[list[tuple[int, Document, int, int]]] = []
        for c in cands[:MAX_SENTENCES]:
            if index[c.doc.id][c.start] >= ID_STRIDE:
                continue  # past the 99th sentence of an article: no id to give it
            group = []
            if c.before is not None and leads_with_reference(c.text):
                group.append((sentence_id(number[c.doc.id], index[c.doc.id][c.before[0]]), c.doc, *c.before))
            group.append((sentence_id(number[c.doc.id], index[c.doc.id][c.start]), c.doc, c.start, c.end))
            picked.append(group)
        lines = [" ".join(f"({outlet_name(d)}) {d.text[a:b]}" for _, d, a, b in g) for g in picked]
        # the "[n] " prefixes, the outlets line and the chat framing cost tokens too: keep room for them
        room = self.budget - count_tokens(self.prompt_text, self.transport.model) - 6 * len(lines) - 120
        keep = pack(lines, max(0, room), self.transport.model)
        out = {sid: (d, a, b) for i in keep for sid, d, a, b in picked[i]}
        return dict(sorted(out.items()))

    def story_brief(self, story: Story, quotes: list[QuoteRow]) -> StoryBrief:
        base = self.fallback.story_brief(story, quotes)
        sents = self.numbered(story)
        if not sents:
            return base
        listing = "\n".join(f"[{n}] ({outlet_name(d)}) {d.text[a:b]}" for n, (d, a, b) in sents.items())
        user = (f"Outlets: {', '.join(dict.fromkeys(outlet_name(d) for d in story.documents))}\n\n"
                f"Sentences:\n{listing}")
        self.usage["prompt_tokens_counted"] += count_tokens(self.prompt_text + user, self.transport.model)
        res = self.transport.complete_json(self.prompt_text, user, BRIEF_SCHEMA, "story_brief", max_tokens=BRIEF_TOKENS,
                                           prompt_name=self.prompt_name, prompt_hash=self.prompt_hash)
        self.usage["calls"] += 1
        self.usage["tokens_in"] += res.tokens_in
        self.usage["tokens_out"] += res.tokens_out
        call_id = res.call_id
        if not res.ok or not isinstance(res.data, dict):
            self.usage["fallbacks"] += 1
            log.warning("brief of story %s: LLM call %s (%s); using the extractive brief", story.id, res.outcome,
                        res.error)
            self._outcome(call_id, "timed_out" if res.outcome == "timeout" else "fell_back",
                          f"LLM call {res.outcome}: {res.error or 'no JSON object'}")
            return base
        dropped: list[str] = []
        brief = self._merge(base, res.data, sents, story, dropped)
        if brief is base:
            self._outcome(call_id, "fell_back", "fewer than 2 supported points: " + "; ".join(dropped))
        else:
            self._outcome(call_id, "partly_dropped" if dropped else "verified", "; ".join(dropped))
        return brief

    def _outcome(self, call_id: Any, outcome: str, detail: str) -> None:
        if self.on_outcome is not None and call_id is not None:
            try:
                self.on_outcome(call_id, outcome, detail[:1000])
            except Exception:
                log.exception("could not record the outcome of LLM call %s", call_id)

    def _merge(self, base: StoryBrief, data: dict[str, Any], sents: dict[int, tuple[Document, int, int]],
               story: Story, dropped: list[str] | None = None) -> StoryBrief:
        docs = {d.id: d for d in story.documents}
        counter = [0]
        dropped = [] if dropped is None else dropped

        def cite(ns: list[int]) -> list[Citation]:
            cites = []
            for n in ns:
                d, a, b = sents[n]
                counter[0] += 1
                cites.append(Citation(n=counter[0], source=d.location, text=d.text[a:b], doc_id=d.id, start=a,
                                      end=b, title=d.title, url=d.url, outlet=d.outlet))
            return cites

        def problems(text: str, ns: list[int]) -> list[str]:
            cites = cite(ns)
            marked = text + " " + "".join(f"[{c.n}]" for c in cites)
            found = list(verify(marked, cites, docs, secrets=self.secrets).problems)
            if not found:
                if not supported(text, [c.text for c in cites]):
                    found.append("its words are not in the sentences it cites")
                else:  # the answer path's check too: names and numbers exactly (an outlet may be named)
                    _, why = support(marked, [c.text for c in cites] + [" ".join(c.outlet or "" for c in cites)])
                    found += [why] if why else []
            if leads_with_reference(text) and not _antecedent_cited(ns):
                found.append("it opens with a reference to something not cited with it")
            return found

        def checked(text: Any, nums: Any, what: str) -> KeyPoint | None:
            if not isinstance(text, str) or not text.strip() or not isinstance(nums, list):
                return None
            text = text.strip()
            ns = list(dict.fromkeys(n for n in nums if isinstance(n, int) and not isinstance(n, bool)))[:4]
            if not ns or (any(n not in sents for n in ns) and not (len(ns) == 1 and {ns[0] - 1, ns[0] + 1} & set(sents))):
                dropped.append(f"{what}: citations {nums} are not sentence ids")
                log.warning("brief of story %s: %s dropped: citations %s are not sentence ids", story.id, what, nums)
                return None
            found = problems(text, ns) if ns[0] in sents else [f"[{ns[0]}] is not a sentence id"]
            if found and len(ns) == 1 and not any("quotation" in p or "secret" in p for p in found):
                # small models are off by one in long lists: the sentence before or after in the same article,
                # when it alone supports the point, is the one meant (and is checked the same way)
                for m in (ns[0] - 1, ns[0] + 1):
                    if m in sents and not problems(text, [m]):
                        self.usage["points_repaired"] += 1
                        log.info("brief of story %s: %s cites [%d], meant [%d]", story.id, what, ns[0], m)
                        ns, found = [m], []
                        break
            if found:
                self.usage["points_dropped"] += 1
                dropped.append(f"{what} “{text[:60]}”: {'; '.join(found)}")
                log.warning("brief of story %s: %s dropped: %s", story.id, what, "; ".join(found))
                return None
            return KeyPoint(text=text, citations=cite(ns))

        points = [p for i, kp in enumerate(data.get("key_points") or [])
                  if isinstance(kp, dict) and (p := checked(kp.get("text"), kp.get("citations"), f"point {i + 1}"))]
        points = _distinct(points)[:7]
        summary_kp = checked((data.get("summary") or {}).get("text"), (data.get("summary") or {}).get("citations"),
                             "summary") if isinstance(data.get("summary"), dict) else None
        diffs = []
        for i, df in enumerate(data.get("differences") or []):
            if not isinstance(df, dict) or not isinstance(df.get("topic"), str):
                continue
            sides = []
            for j, side in enumerate(df.get("sides") or []):
                s = checked(side.get("text"), side.get("citations"), f"difference {i + 1} side {j + 1}") \
                    if isinstance(side, dict) else None
                if s is not None:  # the outlet is named from the cited article, not by the model
                    s.text = f"{outlet_name(docs[s.citations[0].doc_id], self.fallback.outlet_names)}: {s.text}"
                    sides.append(s)
            if len({outlet_key(docs[s.citations[0].doc_id]) for s in sides}) >= 2:
                diffs.append(Difference(topic=df["topic"].strip()[:120], sides=sides))
        headline = data.get("headline")
        ok_headline = isinstance(headline, str) and 0 < len(headline.strip()) <= 140 and not quotations(headline)
        if ok_headline and isinstance(headline, str):
            # a headline cites nothing: what it says must be in the sentences the model was given
            _, why = support(headline + " [1]", [d.text[a:b] for d, a, b in sents.values()] +
                             [d.title for d in docs.values()])
            if why:
                ok_headline = False
                dropped.append(f"headline “{headline[:60]}”: {why}")
        if len(points) < 2:
            # a reply whose points do not check out is not trusted for its headline and summary either
            self.usage["fallbacks"] += 1
            log.warning("brief of story %s: only %d verified points from the model; using the extractive brief",
                        story.id, len(points))
            return base
        return number_by_document(StoryBrief(
            story_id=base.story_id, headline=headline.strip() if ok_headline and isinstance(headline, str)
            else base.headline, summary=summary_kp.text if summary_kp else base.summary,
            key_points=points, quotes=base.quotes, differences=diffs or base.differences, entities=base.entities,
            sources=base.sources))


def _antecedent_cited(ids: list[int]) -> bool:
    """A point opening with "He…" is fine when it also cites the sentence before the one it rests on."""
    return any(n - 1 in ids and n % ID_STRIDE > 1 for n in ids)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in terms(text) if len(w) > 3}


def supported(text: str, cited: list[str], share: float = 0.5) -> bool:
    """Most of a point's content words appear (by their first five letters) in the sentences it cites."""
    own = _stems(quotations_removed(text))
    if not own:
        return True
    there = set().union(*(_stems(c) for c in cited)) if cited else set()
    return len(own & there) >= share * len(own)


def quotations_removed(text: str) -> str:
    """The text without its quoted words (those are checked verbatim on their own)."""
    for q in quotations(text):
        text = text.replace(q, " ")
    return text


def _distinct(points: list[KeyPoint]) -> list[KeyPoint]:
    """No two points saying the same (a model repeating itself is common)."""
    out: list[KeyPoint] = []
    for p in points:
        mine = _stems(p.text)
        if not any(fold(p.text) == fold(o.text) or len(mine & _stems(o.text)) > 0.7 * max(1, len(mine))
                   for o in out):
            out.append(p)
    return out
