"""The LLM drafter beside bot.answer: numbered evidence packed to a token budget, a prompt, JSON back.

Drafts only: bot.answer verifies every citation and quotation and falls back to extractive. Talks to a
model through bot.llm.transport's seam; imports no SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bot.citations import markers
from bot.domain import Citation
from bot.drafting import Draft, Evidence, citation_for
from bot.llm.tokens import count_tokens, pack
from bot.llm.transport import Transport
from bot.search import Span
from bot.support import sentences, support

# No maxLength/maxItems: llama.cpp turns them into grammar repetitions and, past its limits, the server
# dies. Lengths are checked after parsing instead.
# "answer" comes first: a grammar-constrained small model that must write "found" first often settles on false
# before it has read its way to the answer.
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "integer"}},
        "found": {"type": "boolean"},
    },
    "required": ["answer", "found"],
}
ANSWER_TOKENS = 400  # the reply's max_tokens
SOURCE_BUDGET = 1100  # tokens of numbered sources; with the prompt and question, under 1,500 per answer
MAX_SOURCES = 12
_PARTIAL = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)')
_SENTENCE_END = re.compile(r"[.!?…]*[”\"’')]*\s*$")


def cite_from_array(text: str, listed: Any, sources: list[str]) -> str:
    """A draft without [n] markers, each sentence marked with the number from the JSON `citations` array whose
    source supports it best (unchanged when the array names no valid source)."""
    if not isinstance(listed, list):
        return text
    ns = [n for n in dict.fromkeys(listed) if isinstance(n, int) and not isinstance(n, bool)
          and 1 <= n <= len(sources)]
    if not ns:
        return text
    out = []
    for s in sentences(text):
        best = max(ns, key=lambda n: support(s, [sources[n - 1]])[0])
        end = _SENTENCE_END.search(s)  # always matches (every part is optional); checked for the type checker
        stop = len(s.rstrip()) - (len(end.group()) if end else 0)
        out.append(f"{s[:stop]} [{best}]{s[stop:]}")
    return " ".join(out)


EARLIER_TURNS = 3  # earlier questions given with a follow-up (each cut to EARLIER_CHARS)
EARLIER_CHARS = 200


def _conversation(ev: Evidence) -> str:
    """A follow-up's context: the earlier questions and the message as typed (the question line is its
    standalone reading, so the model needs neither to resolve "he" or "and Putin?" itself)."""
    if not ev.earlier:
        return ""
    lines = "\n".join(f"- {q[:EARLIER_CHARS]}" for q in ev.earlier[-EARLIER_TURNS:])
    typed = f"The user now wrote: {ev.asked[:EARLIER_CHARS]}\n" if ev.asked and ev.asked != ev.query.text else ""
    return f"Earlier questions in this conversation (context only):\n{lines}\n{typed}"


class OpenAIBackend:
    """Answers through any OpenAI-compatible server."""

    name = "openai"

    def __init__(self, transport: Transport, prompt_text: str, prompt_name: str = "answer", prompt_hash: str = "",
                 source_budget: int = SOURCE_BUDGET) -> None:
        self.transport = transport
        self.prompt_text = prompt_text
        self.prompt_name = prompt_name
        self.prompt_hash = prompt_hash
        self.source_budget = source_budget

    def numbered(self, ev: Evidence) -> list[tuple[Span, str]]:
        """Evidence as numbered source lines, quotes first, packed to the token budget."""
        items: list[tuple[Span, str]] = []
        seen: set[tuple[int, int]] = set()
        for q in ev.quotes[:6]:
            key = (q.span.doc_id, q.span.start)
            if key in seen:
                continue
            seen.add(key)
            who = q.row.quote.speaker or "unknown"
            if q.row.quote.description:
                who += f", {q.row.quote.description}"
            # only a short tag: small models copy long labels (titles, file names) into their answers
            items.append((q.span, f"(quote by {who}) {' '.join(q.span.text.split())}"))
        for s in ev.sentences[:MAX_SOURCES]:
            key = (s.doc_id, s.start)
            if key not in seen:
                seen.add(key)
                items.append((s, " ".join(s.text.split())))
        keep = pack([t for _, t in items[:MAX_SOURCES]], self.source_budget, self.transport.model)
        return [items[i] for i in keep]

    def answer(self, evidence: Evidence, on_partial: Callable[[Draft], None] | None = None) -> Draft:
        sources = self.numbered(evidence)
        if not sources:
            return Draft("", False, [], why="nothing to give the model")
        lines = "\n".join(f"[{n}] {text}" for n, (_, text) in enumerate(sources, start=1))
        user = f"{_conversation(evidence)}Question: {evidence.query.text}\n\nSources:\n{lines}"

        def partial(raw: str) -> None:
            m = _PARTIAL.search(raw)
            if m and on_partial:
                try:
                    text = json.loads(f'"{m.group(1)}"')
                except json.JSONDecodeError:  # cut mid-escape: wait for more
                    return
                on_partial(Draft(text, True, self._citations(text, sources)))

        res = self.transport.complete_json(self.prompt_text, user, ANSWER_SCHEMA, "cited_answer", max_tokens=ANSWER_TOKENS,
                                           on_partial=partial if on_partial else None,
                                           prompt_name=self.prompt_name, prompt_hash=self.prompt_hash)
        usage = {"model": res.model, "tokens_in": res.tokens_in, "tokens_out": res.tokens_out,
                 "estimated": res.estimated, "prompt_tokens_counted": count_tokens(self.prompt_text + user,
                                                                                   self.transport.model),
                 "call_id": res.call_id}
        if not res.ok or not isinstance(res.data, dict):
            return Draft("", False, [], why=f"LLM call {res.outcome}: {res.error or 'no JSON object'}", usage=usage,
                         outcome="timed_out" if res.outcome == "timeout" else "fell_back")
        data = res.data
        text = data.get("answer")
        if data.get("found") is False:
            return Draft("", False, [], why="the model said the sources do not answer", usage=usage,
                         outcome="refused")
        if not isinstance(text, str) or not text.strip():
            return Draft("", False, [], why="the model returned an empty answer", usage=usage)
        text = text.strip()
        if not markers(text):
            # small models often put the numbers only in the JSON array: give each sentence the listed
            # source that holds most of it (bot.answer still checks that it does)
            text = cite_from_array(text, data.get("citations"), [span.text for span, _ in sources])
        return Draft(text, True, self._citations(text, sources), usage=usage)

    @staticmethod
    def _citations(text: str, sources: list[tuple[Span, str]]) -> list[Citation]:
        return [citation_for(n, sources[n - 1][0]) for n in markers(text) if 1 <= n <= len(sources)]
