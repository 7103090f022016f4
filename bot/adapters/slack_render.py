"""Block Kit rendering for Slack: answers, briefs, placeholders and the bot's user-facing strings (the Home tab's are
slack_home's).

Pure functions from domain objects to message dicts ({"text", "blocks"}); imports no Slack library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.adapters import commands
from bot.citations import link_spans
from bot.domain import Answer, Brief, Citation, StoryBrief, Subscription

Block = dict[str, Any]
Message = dict[str, Any]
Links = Callable[[Citation], str | None] | None  # a citation's page URL (signed for the channel), when pages are on

MAX_BLOCKS = 50  # per message
MAX_SECTION = 3000  # characters of a section's text
MAX_CONTEXT_ELEMENTS = 10  # per context block
MAX_FALLBACK = 3000  # the notification text; Slack truncates far later, readers much sooner
SNIPPET = 180  # characters of a cited passage shown under an answer

FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"

NOT_FOUND_HINT = ("Try asking more broadly: fewer words, a person's, place's or organisation's name, "
                  "or `/brief` to see which stories are stored.")

_MARKER = re.compile(r"\[(\d+)\]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control: &, < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# how Slack's users type the commands, and how its mrkdwn marks text up
DIALECT = commands.Dialect(escape=escape, bold="*{}*", digest_set="/digest 08:00 Europe/Berlin [daily|weekdays|weekly] [topic]",
                           digest_status="/digest status", digest_off="/digest off",
                           source_add="/source add URL [every 30m]", source_list="/source list",
                           digest_example="/digest {time} {timezone}", help_command="/briefbot help")
SORRY = commands.ERROR
THANKS = commands.THANKS
HELP = commands.help_text(DIALECT)
GREETING = commands.greeting(DIALECT)


_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def unescape(text: str, links: str = "label") -> str:
    """Slack's text of a message or command as its user typed it: user, channel and special mentions and links
    (`<url|label>`: the label, or with links="url" the URL) made plain, then &lt; &gt; &amp; decoded, once."""
    def plain(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target[:1] in "@#":
            return target[0] + (label or target[1:])
        if target[:1] == "!":
            return "@" + (label or target[1:].split("^", 1)[0])
        return target if links == "url" or not label else label

    return _MARKUP.sub(plain, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link(url: str, label: str) -> str:
    """A mrkdwn link to an http(s) URL (anything else comes back as the escaped label alone)."""
    label = escape(label).replace("|", "¦")
    if not url.lower().startswith(("http://", "https://")):
        return label
    safe = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{safe}|{label}>"


def unlinked(text: str) -> str:
    """Escaped text whose link-like runs (URLs, bare domains such as "evil-login.example/verify") are set as
    code, which Slack never makes clickable: links appear only where the bot puts them (its citations)."""
    out, pos = [], 0
    for a, b in link_spans(text):
        out.append(escape(text[pos:a]))
        out.append("`" + escape(text[a:b].replace("`", "'")) + "`")
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def mrkdwn(text: str) -> str:
    """Core text (plain, maybe with **bold**) as safe mrkdwn: escaped, links not clickable."""
    return _BOLD.sub(r"*\1*", unlinked(text))


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split text into pieces of at most `limit` characters, at paragraph, line or word breaks."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = limit
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > limit // 3:
                cut = at
                break
        # never cut inside one of our <url|label> links
        opened = window.rfind("<", 0, cut)
        if opened > window.rfind(">", 0, cut) and opened > 0:
            cut = opened
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def section(text: str) -> list[Block]:
    """One or more mrkdwn section blocks carrying `text` (already mrkdwn) within the size limit."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in split_text(text)]


def context(texts: Iterable[str]) -> list[Block]:
    """Context blocks of mrkdwn elements, ten elements to a block."""
    elements = [{"type": "mrkdwn", "text": t[:MAX_SECTION]} for t in texts if t]
    return [{"type": "context", "elements": elements[i:i + MAX_CONTEXT_ELEMENTS]}
            for i in range(0, len(elements), MAX_CONTEXT_ELEMENTS)]


def fallback(text: str) -> str:
    """Notification text: escaped, one line per paragraph, cut short with an ellipsis."""
    text = escape(" ".join(text.split()))
    return text if len(text) <= MAX_FALLBACK else text[:MAX_FALLBACK - 1].rstrip() + "…"


_QUOTE_MARKS = "\"'“”‘’«»„‟‹›"
_SOURCE_SUFFIX = re.compile(r"\s*\(Source: [^()]*\)\s*$")


def bare(text: str) -> str:
    """Quoted words without the quote marks around them (the renderer adds its own, once)."""
    return " ".join(text.split()).strip(_QUOTE_MARKS + " ")


def without_source_suffix(text: str) -> str:
    """Answer text without a closing "(Source: …)": the numbered citation lines below already say it."""
    return _SOURCE_SUFFIX.sub("", text)


def source_name(c: Citation) -> str:
    """A citation's source as a person names it: "title — outlet" (the file name only when nothing else is known)."""
    title = c.title or c.outlet or (c.source.replace("\\", "/").rsplit("/", 1)[-1] or c.source)
    return f"{title} — {c.outlet}" if c.outlet and c.outlet != title else title


def source_label(c: Citation, page: str | None = None) -> str:
    """A citation's source in mrkdwn: linked to its page when there is one, with the original article's link."""
    name = source_name(c)
    if page:
        original = f" · {link(c.url, 'original')}" if c.url and c.url.lower().startswith(("http://", "https://")) else ""
        return link(page, name) + original
    return link(c.url, name) if c.url else escape(name)


def citation_line(c: Citation, page: str | None = None) -> str:
    """`[n] source: “snippet”` for a context block."""
    snippet = bare(c.text)
    if len(snippet) > SNIPPET:
        snippet = snippet[:SNIPPET - 1].rstrip() + "…"
    return f"*[{c.n}]* {source_label(c, page)}" + (f": _“{unlinked(snippet)}”_" if snippet else "")


def _page(links: Links, c: Citation) -> str | None:
    return links(c) if links is not None else None


def markers(citations: Iterable[Citation]) -> str:
    """` [1][3]` for a key point's citations (empty when there are none)."""
    ns = sorted({c.n for c in citations})
    return " " + "".join(f"[{n}]" for n in ns) if ns else ""


def feedback_buttons(answer_id: str) -> Block:
    """The helpful / not helpful buttons; their value is the answer id."""
    def button(action: str, label: str) -> dict[str, Any]:
        return {"type": "button", "action_id": action, "value": answer_id[:2000],
                "text": {"type": "plain_text", "text": label, "emoji": True}}
    return {"type": "actions", "block_id": "briefbot_feedback",
            "elements": [button(FEEDBACK_HELPFUL, "👍 Helpful"), button(FEEDBACK_NOT_HELPFUL, "👎 Not helpful")]}


def render_placeholder(count: int) -> Message:
    """'Searching 42 articles…' while the core works."""
    what = "1 article" if count == 1 else f"{count:,} articles"
    text = f"Searching {what}…" if count else "Searching… (no articles are stored yet)"
    return {"text": text, "blocks": context([f":mag: {text}"])}


def render_partial(text: str) -> Message:
    """An answer still being written (streamed LLM text)."""
    body = mrkdwn(text)[:MAX_SECTION * 3]
    return {"text": fallback(text), "blocks": section(body + " …") + context(["_Writing the answer…_"])}


def render_notice(text: str) -> Message:
    """A plain one-section message (errors, confirmations); `text` is already mrkdwn."""
    return {"text": text, "blocks": section(text)}


def render_answer(answer: Answer, asked_by: str | None = None, question: str | None = None,
                  links: Links = None) -> Message:
    """An answer: text, quotes with speakers, numbered citation links (to their pages when `links` gives them),
    feedback buttons."""
    blocks: list[Block] = []
    if asked_by and question:
        blocks += context([f"<@{asked_by}> asked: _{escape(question)}_"])
    text = without_source_suffix(answer.text) if answer.citations else answer.text
    blocks += section(mrkdwn(text) or "_(empty answer)_")
    if not answer.found:  # say what was searched and how to ask, unless the core's text already does
        lines = [f"_What I searched:_ {mrkdwn(answer.why)}"] if answer.why and answer.why not in answer.text else []
        if "broad" not in answer.text.lower():
            lines.append(NOT_FOUND_HINT)
        if lines:
            blocks += section("\n".join(lines))
    quotes, shown = [], set()
    for quote, cite in answer.quotes:
        words = bare(quote.text)
        if words[:60] in " ".join(answer.text.split()) or words in shown:
            continue  # already quoted, with its speaker, in the answer itself (or just above)
        shown.add(words)
        who = f" — *{escape(quote.speaker)}*" if quote.speaker else ""
        desc = f", {escape(quote.description)}" if quote.description else ""
        quotes.append(f"> “{unlinked(words)}”{who}{desc} [{cite.n}]")
    if quotes:
        blocks += section("\n".join(quotes))
    if answer.id:
        tail = [feedback_buttons(answer.id)]
    else:
        tail = []
    cites = context(citation_line(c, _page(links, c)) for c in answer.citations)
    room = MAX_BLOCKS - len(blocks) - len(tail)
    if len(cites) > room:
        cites = cites[:room]
    text = fallback(text) or ("No answer was found in the stored articles." if not answer.found else "…")
    return {"text": text, "blocks": blocks + cites + tail}


def _story_blocks(story: StoryBrief, links: Links = None) -> list[Block]:
    blocks = section(f"*{escape(story.headline)}*\n{mrkdwn(story.summary)}".strip())
    cited: dict[int, Citation] = {}
    if story.key_points:
        lines = []
        for kp in story.key_points:
            lines.append(f"• {mrkdwn(kp.text)}{markers(kp.citations)}")
            cited.update((c.n, c) for c in kp.citations)
        blocks += section("\n".join(lines))
    if story.quotes:
        lines = []
        for q in story.quotes:
            desc = f", {escape(q.description)}" if q.description else ""
            lines.append(f"> “{unlinked(bare(q.text))}” — *{escape(q.speaker)}*{desc} [{q.citation.n}]")
            cited[q.citation.n] = q.citation
        blocks += section("\n".join(lines))
    for d in story.differences:
        lines = [f"*How the reports differ — {escape(d.topic)}*"]
        for side in d.sides:
            lines.append(f"• {mrkdwn(side.text)}{markers(side.citations)}")
            cited.update((c.n, c) for c in side.citations)
        blocks += section("\n".join(lines))
    if cited:
        blocks += context(f"*[{n}]* {source_label(c, _page(links, c))}" for n, c in sorted(cited.items()))
    elif story.sources:
        labels = []
        for s in story.sources:
            title = str(s.get("title") or s.get("source") or "source")
            outlet = s.get("outlet")
            label = f"{title} — {outlet}" if outlet else title
            labels.append(link(str(s["url"]), label) if s.get("url") else escape(label))
        blocks += context([" · ".join(labels)])
    return blocks + [{"type": "divider"}]


def render_brief(brief: Brief, topic: str | None = None, max_blocks: int = MAX_BLOCKS, links: Links = None,
                 page: str | None = None) -> list[Message]:
    """A brief as one or more messages, each within Slack's block limit, each with fallback text and content
    (a story too long for the first message starts in it rather than leaving the header alone)."""
    title = f"News brief: {topic}" if topic else "News brief"
    head: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}}]
    notes = [mrkdwn(brief.note)] if brief.note else []
    if page:
        notes.append(link(page, "Open this brief as a page"))
    if notes:
        head += context([" · ".join(notes)])
    if not brief.stories:
        text = brief.note or ("Nothing about that is stored yet." if topic else "No stories are stored yet.")
        return [{"text": fallback(f"{title}: {text}"), "blocks": head + ([] if brief.note else section(escape(text)))}]
    pages: list[list[Block]] = [list(head)]
    page_heads: list[list[str]] = [[]]
    for story in brief.stories:
        blocks = _story_blocks(story, links)
        if len(pages[-1]) + len(blocks) > max_blocks and page_heads[-1]:
            pages.append([])
            page_heads.append([])
        page_heads[-1].append(story.headline)
        for b in blocks:  # a story longer than a whole message still splits
            if len(pages[-1]) >= max_blocks:
                if b["type"] == "divider":
                    continue  # a message of a lone divider carries nothing
                pages.append([])
                page_heads.append([story.headline])
            pages[-1].append(b)
    total = len(pages)
    out = []
    for i, (blocks, heads) in enumerate(zip(pages, page_heads, strict=True), 1):
        part = f" ({i}/{total})" if total > 1 else ""
        out.append({"text": fallback(f"{title}{part}: " + "; ".join(dict.fromkeys(heads))), "blocks": blocks})
    return out


def render_subscription(sub: Subscription) -> str:
    """One line describing a digest, in mrkdwn."""
    return commands.describe_subscription(sub, DIALECT)
