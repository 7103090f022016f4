"""Answers and briefs as Discord messages: embeds split to fit every limit Discord enforces.

Pure functions over `bot.domain` types; imports discord.py only for `discord.Embed`, never the client.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

import discord

from bot.adapters import commands
from bot.citations import link_spans
from bot.domain import Answer, Brief, BriefQuote, Citation, StoryBrief

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # the sum over *all* embeds of one message, so also the most one embed can hold
EMBEDS_PER_MESSAGE = 10

COLOR_ANSWER = 0x5865F2
COLOR_NOT_FOUND = 0x99AAB5
COLOR_BRIEF = 0x2B8A3E

ERROR_TEXT = commands.ERROR
NOT_FOUND_TITLE = "No answer found in the stored articles"
BLANK = "\u200b"  # Discord rejects empty field names and values


@dataclass
class Reply:
    """One Discord message to send: content (≤ 2,000 chars) and up to 10 embeds (≤ 6,000 chars together)."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)


@dataclass
class EmbedDraft:
    """An embed before splitting: any of its parts may be longer than Discord allows."""

    title: str = ""
    description: str = ""
    url: str | None = None
    color: int | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into chunks of at most `limit` chars, at paragraph, line, sentence or word ends."""
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "):
            at = window.rfind(sep, 0, limit)
            if at > limit // 3:  # never leave a sliver of a chunk behind
                cut = at + (1 if sep[0] in ".?!;," else 0)
                break
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def pack_lines(lines: Iterable[str], limit: int) -> list[str]:
    """Join lines into as few chunks of at most `limit` chars as possible; an over-long line is truncated."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def split_content(text: str) -> list[str]:
    """Plain message content split into Discord's 2,000-character messages."""
    return split_text(text, CONTENT_LIMIT) or [BLANK]


# what Discord's markdown gives a meaning: escapes, emphasis, code, spoilers, masked links, mentions anywhere;
# headings, block quotes and lists at a line's start. A backslash before one shows it as itself.
# A citation marker "[2]" not followed by "(" is no link, and stays as it is.
_MARKDOWN = re.compile(r"(\[\d{1,3}(?:,\s*\d{1,3})*\](?!\())|[\\*_~`|\[\]<>]|^[ \t]*[#>-]", re.M)


def _escape(text: str) -> str:
    return _MARKDOWN.sub(lambda m: m.group(1) or m.group()[:-1] + "\\" + m.group()[-1], text)


def plain(text: str) -> str:
    """Article or model text shown as written: markdown escaped, so `[Official statement](https://evil…)` cannot
    render as a masked link, and link-like runs set as code, which Discord never makes clickable."""
    out, pos = [], 0
    for a, b in link_spans(text):
        out.append(_escape(text[pos:a]))
        out.append("`" + text[a:b].replace("`", "'") + "`")
        pos = b
    out.append(_escape(text[pos:]))
    return "".join(out)


# how Discord's users type the commands (slash commands with named options), and how its markdown marks text up
DIALECT = commands.Dialect(escape=plain, bold="**{}**",
                           digest_set="/digest time:08:00 timezone:Europe/Berlin [topic:…] [cadence:…]",
                           digest_status="/digest action:status", digest_off="/digest action:off",
                           source_add="/source url:<feed or page> [every:30m]", source_list="/source",
                           digest_example="/digest time:{time} timezone:{timezone}",
                           digest_pause="/digest action:pause", digest_resume="/digest action:resume")


def _link_text(text: str) -> str:
    # Square brackets inside a masked link's text would end the link early.
    return text.replace("[", "(").replace("]", ")").replace("\n", " ").strip()


def _safe_url(url: str | None) -> str | None:
    if not url or not re.match(r"https?://", url, re.I):
        return None
    return url.replace(" ", "%20").replace(")", "%29").replace("(", "%28")


def _file_name(source: str) -> str:
    name = PureWindowsPath(source).name if "\\" in source else PurePosixPath(source).name
    return name or source


Links = Callable[[Citation], str | None] | None  # a citation's page URL (signed for the channel), when pages are on
_QUOTE_MARKS = "\"'“”‘’«»„‟‹›"
_SOURCE_SUFFIX = re.compile(r"\s*\(Source: [^()]*\)\s*$")
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")


def bare(text: str) -> str:
    """Quoted words without the quote marks around them (the renderer adds its own, once)."""
    return " ".join(text.split()).strip(_QUOTE_MARKS + " ")


def unmentioned(text: str) -> str:
    """Text for a title or footer, where Discord renders no mentions: `<@4000>` becomes "@someone"."""
    return _MENTION.sub(lambda m: {"@": "@someone", "@!": "@someone", "@&": "@role", "#": "#channel"}[m.group(1)],
                        text)


def citation_line(c: Citation, page: str | None = None) -> str:
    """`[n] [title — outlet](page or url)`, with `· [original](url)` beside a page; no link without an http(s) URL."""
    label = _link_text(c.title or c.outlet or _file_name(c.source))
    if c.outlet and c.title and c.outlet != c.title:
        label = f"{label} — {_link_text(c.outlet)}"
    url = _safe_url(c.url) or _safe_url(c.source)
    target = _safe_url(page)
    if target:
        return f"[{c.n}] [{label}]({target})" + (f" · [original]({url})" if url else "")
    if url:
        return f"[{c.n}] [{label}]({url})"
    return f"[{c.n}] {label}"


def _quote_field(speaker: str | None, description: str | None, text: str, n: int | None) -> tuple[str, str]:
    name = speaker or "Unattributed"
    if description:
        name = f"{name}, {description}"
    marker = f" [{n}]" if n is not None else ""
    return truncate(plain(name), FIELD_NAME_LIMIT), f"“{plain(bare(text))}”{marker}"


def _field_chunks(name: str, value: str) -> list[tuple[str, str]]:
    name = truncate(name.strip() or BLANK, FIELD_NAME_LIMIT)
    parts = split_text(value, FIELD_VALUE_LIMIT) or [BLANK]
    cont = truncate(f"{name} (continued)", FIELD_NAME_LIMIT)
    return [(name if i == 0 else cont, part) for i, part in enumerate(parts)]


def _sources_fields(citations: Iterable[Citation], name: str = "Sources", links: Links = None) -> list[tuple[str, str]]:
    seen: set[int] = set()
    lines = []
    for c in sorted(citations, key=lambda c: c.n):
        if c.n not in seen:
            seen.add(c.n)
            lines.append(citation_line(c, links(c) if links is not None else None))
    chunks = pack_lines(lines, FIELD_VALUE_LIMIT)
    return [(name if i == 0 else f"{name} (continued)", chunk) for i, chunk in enumerate(chunks)]


def build_embeds(draft: EmbedDraft) -> list[discord.Embed]:
    """One draft as as many embeds as its length needs, each within every per-embed limit."""
    title = truncate(draft.title.strip(), TITLE_LIMIT)
    footer = truncate(draft.footer.strip(), FOOTER_LIMIT)
    url = _safe_url(draft.url)
    chunks = split_text(draft.description, DESCRIPTION_LIMIT) or [""]
    embeds: list[discord.Embed] = []
    for i, chunk in enumerate(chunks):
        e = discord.Embed(title=title if i == 0 and title else None, description=chunk or None,
                          url=url if i == 0 and title else None, color=draft.color)
        embeds.append(e)
    fields = [part for name, value in draft.fields for part in _field_chunks(name, value)]
    for name, value in fields:
        e = embeds[-1]
        if len(e.fields) >= FIELD_COUNT_LIMIT or len(e) + len(name) + len(value) + len(footer) > EMBED_TOTAL_LIMIT:
            e = discord.Embed(color=draft.color)
            embeds.append(e)
        e.add_field(name=name, value=value, inline=False)
    if footer:
        room = EMBED_TOTAL_LIMIT - len(embeds[-1])
        if room < min(len(footer), 40):
            embeds.append(discord.Embed(color=draft.color))
            room = EMBED_TOTAL_LIMIT
        embeds[-1].set_footer(text=truncate(footer, room))
    return [e for e in embeds if len(e) > 0] or [discord.Embed(description=BLANK, color=draft.color)]


def pack_messages(embeds: list[discord.Embed], content: str = "") -> list[Reply]:
    """Group embeds into messages of at most 10 embeds and 6,000 embed characters; content goes first."""
    texts = split_content(content) if content.strip() else [""]
    replies = [Reply(content=t) for t in texts]
    current = replies[-1]
    total = 0
    for e in embeds:
        if current.embeds and (len(current.embeds) >= EMBEDS_PER_MESSAGE or total + len(e) > EMBED_TOTAL_LIMIT):
            current = Reply()
            replies.append(current)
            total = 0
        current.embeds.append(e)
        total += len(e)
    return [r for r in replies if r.content or r.embeds]


def answer_drafts(answer: Answer, links: Links = None) -> list[EmbedDraft]:
    """The embeds of an answer before splitting: text, quotes with speakers (each once: not those the text
    already quotes), numbered sources linking to their pages when `links` gives them."""
    if not answer.found:
        parts = [plain(answer.text.strip())] if answer.text.strip() else []
        if answer.why.strip():
            parts.append(f"**What I searched:** {plain(answer.why.strip())}")
        if not parts:
            parts.append("Nothing in the stored articles answers this.")
        fields = _sources_fields(answer.citations, "Closest sources", links) if answer.citations else []
        return [EmbedDraft(title=NOT_FOUND_TITLE, description="\n\n".join(parts), color=COLOR_NOT_FOUND,
                           fields=fields, footer=truncate(f"Question: {unmentioned(answer.question)}", FOOTER_LIMIT))]
    text = _SOURCE_SUFFIX.sub("", answer.text) if answer.citations else answer.text
    said = " ".join(answer.text.split())
    fields, shown = [], set()
    for q, c in answer.quotes:
        words = bare(q.text)
        if words[:60] in said or words in shown:
            continue
        shown.add(words)
        fields.append(_quote_field(q.speaker, q.description, words, c.n))
    fields += _sources_fields(answer.citations, links=links)
    return [EmbedDraft(title=unmentioned(answer.question), description=plain(text), color=COLOR_ANSWER,
                       fields=fields)]


def render_answer(answer: Answer, links: Links = None) -> list[Reply]:
    """An answer as Discord messages: the answer text, quotes with speakers, `[n]` source links."""
    embeds = [e for d in answer_drafts(answer, links) for e in build_embeds(d)]
    return pack_messages(embeds)


def render_answer_text(answer: Answer, links: Links = None) -> list[Reply]:
    """An answer as plain messages, for a channel where the bot may not embed: the same parts as text."""
    return pack_messages([], draft_text(answer_drafts(answer, links)))


def draft_text(drafts: Iterable[EmbedDraft]) -> str:
    """Embed drafts as markdown text (titles bold, fields as labelled paragraphs)."""
    parts = []
    for d in drafts:
        if d.title:
            parts.append(f"**{_escape(d.title)}**")
        if d.description:
            parts.append(d.description)
        for name, value in d.fields:
            parts.append(f"**{name}**\n{value}")
        if d.footer:
            parts.append(f"-# {_escape(d.footer)}")
    return "\n\n".join(parts)


def _brief_quote_field(q: BriefQuote) -> tuple[str, str]:
    return _quote_field(q.speaker, q.description, q.text, q.citation.n)


def _story_citations(story: StoryBrief) -> list[Citation]:
    cites = [c for k in story.key_points for c in k.citations]
    cites += [q.citation for q in story.quotes]
    cites += [c for d in story.differences for s in d.sides for c in s.citations]
    return cites


def _marks(citations: Iterable[Citation]) -> str:
    ns = sorted({c.n for c in citations})
    return "".join(f"[{n}]" for n in ns)


def story_draft(story: StoryBrief, links: Links = None) -> EmbedDraft:
    """One story of a brief as one embed draft: headline, summary, key points, quotes, differences, sources."""
    desc = [plain(story.summary.strip())] if story.summary.strip() else []
    points = [f"• {plain(k.text.strip())} {_marks(k.citations)}".rstrip() for k in story.key_points]
    if points:
        desc.append("\n".join(points))
    fields = [_brief_quote_field(q) for q in story.quotes]
    for d in story.differences:
        sides = "\n".join(f"• {plain(s.text.strip())} {_marks(s.citations)}".rstrip() for s in d.sides)
        fields.append((f"How outlets differ: {plain(d.topic)}", sides or BLANK))
    cites = _story_citations(story)
    if cites:
        fields += _sources_fields(cites, links=links)
    elif story.sources:
        lines = []
        for s in story.sources:
            label = _link_text(str(s.get("title") or s.get("outlet") or _file_name(str(s.get("source", "")))))
            if s.get("outlet") and s.get("title"):
                label = f"{label} — {_link_text(str(s['outlet']))}"
            url = _safe_url(s.get("url")) or _safe_url(str(s.get("source", "")))
            lines.append(f"[{label}]({url})" if url else label)
        fields += [("Sources" if i == 0 else "Sources (continued)", chunk)
                   for i, chunk in enumerate(pack_lines(lines, FIELD_VALUE_LIMIT))]
    first_url = next((s.get("url") for s in story.sources if _safe_url(s.get("url"))), None)
    return EmbedDraft(title=story.headline, description="\n\n".join(desc), url=first_url, color=COLOR_BRIEF,
                      fields=fields)


def render_brief(brief: Brief, topic: str | None = None, heading: str = "Brief", links: Links = None,
                 page: str | None = None, embeds: bool = True) -> list[Reply]:
    """A brief as Discord messages: a heading line, then one embed per story (or, without `embeds`, the same as
    text), split across messages."""
    about = f" about **{plain(topic)}**" if topic else ""
    n = len(brief.stories)
    content = f"**{heading}**{about}: {n} {'story' if n == 1 else 'stories'}."
    if brief.note:
        content += f" {plain(brief.note)}"
    if _safe_url(page):
        content += f" [Open as a page](<{_safe_url(page)}>)"
    if not brief.stories:
        content = f"**{heading}**{about}: {plain(brief.note) if brief.note else 'no stories stored yet.'}"
        return pack_messages([], content)
    drafts = [story_draft(s, links) for s in brief.stories]
    if not embeds:
        return pack_messages([], content + "\n\n" + draft_text(drafts))
    return pack_messages([e for d in drafts for e in build_embeds(d)], content)

