"""Server-rendered pages behind signed links: a cited passage in its article, a brief, a channel's digest archive.

Every byte of stored text is escaped (articles are hostile input); the only links are the ones built here.
No JavaScript and no external assets; a Content-Security-Policy keeps the page from loading anything at all.
Imports the store's rows and scope test, never a chat library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.domain import Channel, Citation, Document
from bot.store.base import Store, in_scope
from bot.web.links import Linker, LinkError

log = logging.getLogger("briefbot.web")

CSS = """
body{font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
main{max-width:42rem;margin:0 auto;padding:1rem 1.1rem 4rem}
h1{font-size:1.45rem;line-height:1.25;margin:.6rem 0}
h2{font-size:1.15rem;margin:1.8rem 0 .4rem}
.meta{color:#555;font-size:.92rem}
.cite{background:#fff;border-left:4px solid #e0a800;padding:.6rem .9rem;margin:1rem 0}
mark{background:#ffe066;padding:.05em 0}
mark:target,mark.first{outline:2px solid #e0a800}
p{margin:.8rem 0}
a{color:#0b57d0}
ul{padding-left:1.2rem}
blockquote{margin:.6rem 0;padding-left:.8rem;border-left:3px solid #ccc}
.n{font-size:.85rem;vertical-align:super;text-decoration:none}
footer{margin-top:3rem;color:#777;font-size:.85rem}
""".strip()
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# Nothing may load: no script, image, font, frame or connection; only the one inline stylesheet, by its hash.
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",  # the signed link must not travel to the sites the page links to
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
}

EXPIRED = ("This link is not valid: it has expired or was altered. Ask the bot again in chat for a fresh "
           "link.")
OUT_OF_SCOPE = "This channel's settings do not include the source this link points at."
GONE = "That article is no longer stored."
BRIEF_EXPIRED = ("Briefs and digests are kept for a while after they are posted, then removed, and this one has been. "
                 "Its stories may be in a later digest; ask the bot for a fresh brief in chat.")


@dataclass
class PageResponse:
    """A page's HTTP status, headers and body."""

    status: int
    body: bytes
    headers: dict[str, str]


def page(title: str, body: str, status: int = 200) -> PageResponse:
    """A whole HTML document around `body` (already escaped); `title` is escaped here."""
    html = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="referrer" content="no-referrer"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body><main>{body}"
            f"<footer>Served by briefbot. Quotes are shown exactly as the stored article has them.</footer>"
            f"</main></body></html>\n")
    return PageResponse(status, html.encode(), dict(HEADERS))


def refusal(status: int, text: str) -> PageResponse:
    """A short error page (403, 404)."""
    title = {403: "Link refused", 404: "Not found"}.get(status, "Error")
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>", status)


def safe_href(url: str | None) -> str | None:
    """An http(s) URL fit for an href attribute (escaped), or None for anything else (javascript:, data:, …)."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(c in url for c in "\x00\r\n\t "):
        return None
    return escape(url, quote=True)


def outside_link(url: str | None, label: str) -> str:
    """An escaped link to an original article, or the escaped label alone when the URL is not http(s)."""
    href = safe_href(url)
    if href is None:
        return escape(label)
    return f'<a href="{href}" rel="noopener noreferrer nofollow">{escape(label)}</a>'


def _date(text: str | None) -> str:
    return (text or "")[:10]


def _paragraphs(doc: Document) -> list[tuple[int, int]]:
    """(start, end) offsets of the article's paragraphs: its passages, or blank-line blocks without them."""
    spans = [(p.start, p.end) for p in sorted(doc.passages, key=lambda p: p.start)]
    if spans:
        return spans
    out, pos = [], 0
    for block in doc.text.split("\n\n"):
        if block.strip():
            out.append((pos, pos + len(block)))
        pos += len(block) + 2
    return out


def article_html(text: str, paragraphs: Iterable[tuple[int, int]], start: int, end: int) -> str:
    """The article as escaped paragraphs, the span [start, end) marked; the first mark has id "q"."""
    parts: list[str] = []
    first = True
    for a, b in paragraphs:
        if b <= start or a >= end:
            parts.append(f"<p>{escape(text[a:b])}</p>")
            continue
        s, e = max(a, start), min(b, end)
        attrs = ' id="q" class="first"' if first else ""
        first = False
        parts.append(f"<p>{escape(text[a:s])}<mark{attrs}>{escape(text[s:e])}</mark>{escape(text[e:b])}</p>")
    if first:  # the span lies between paragraphs: show it on its own so the fragment still has a target
        parts.insert(0, f'<p><mark id="q" class="first">{escape(text[start:end])}</mark></p>')
    return "".join(parts)


class Pages:
    """Answers GET requests for the page routes: /c/<token> a citation, /b/<token> a brief, /a/<token> an archive."""

    PREFIXES = ("/c/", "/b/", "/a/")

    def __init__(self, store: Store, linker: Linker) -> None:
        self.store = store
        self.linker = linker

    def handles(self, path: str) -> bool:
        """Whether `path` is one of the page routes."""
        return path.startswith(self.PREFIXES)

    def __call__(self, path: str) -> PageResponse:
        kind, token = path[1], path[3:]
        try:
            target = self.linker.verify(token, kind)
        except LinkError as e:
            log.info("page link refused: %s", e)  # never the token: it is a capability
            return refusal(403, EXPIRED)
        channel = Channel(target.platform, target.channel)
        scope = self.store.channel_sources(channel.platform, channel.channel) or None
        if kind == "c":
            return self.citation(channel, scope, *target.args)  # type: ignore[arg-type]
        if kind == "b":
            return self.brief(channel, scope, str(target.args[0]))
        return self.archive(channel)

    # ---- a cited passage in its article --------------------------------------------------------------------

    def citation(self, channel: Channel, scope: list[str] | None, doc_id: int, start: int, end: int) -> PageResponse:
        """The article with the cited span marked, its speaker, and the source's name, date and link."""
        doc = self.store.documents_by_id([int(doc_id)]).get(int(doc_id))
        if doc is None:
            return refusal(404, GONE)
        if not in_scope(doc.location, scope):
            log.info("page refused: document %d is outside the scope of %s %s", doc.id, channel.platform,
                     channel.channel)
            return refusal(403, OUT_OF_SCOPE)
        start, end = max(0, min(int(start), len(doc.text))), max(0, min(int(end), len(doc.text)))
        cited = doc.text[start:end]
        who = self._speaker(doc.id, start, end)
        head = [f"<h1>{escape(doc.title or 'Article')}</h1>", f'<p class="meta">{self._byline(doc)}</p>']
        box = f'<div class="cite"><p><a href="#q">Cited passage</a>: “{escape(" ".join(cited.split()))}”</p>'
        if who:
            box += f"<p>— {who}</p>"
        box += "</div>"
        body = "".join(head) + box + article_html(doc.text, _paragraphs(doc), start, end)
        return page(doc.title or "Cited article", body)

    def _byline(self, doc: Document) -> str:
        bits = [escape(x) for x in (doc.outlet, doc.author, _date(doc.published or doc.fetched)) if x]
        if safe_href(doc.url):
            bits.append(outside_link(doc.url, "original article"))
        return " · ".join(bits) or "stored article"

    def _speaker(self, doc_id: int, start: int, end: int) -> str:
        """Who said the quote the span lies in, with their role, escaped (empty when nobody is named)."""
        for row in self.store.quotes(doc_ids=[doc_id]):
            q = row.quote
            if q.speaker and q.start < end and start < q.end:
                extra = ", ".join(escape(x) for x in (q.role, q.description) if x)
                return f"<strong>{escape(q.speaker)}</strong>" + (f", {extra}" if extra else "")
        return ""

    # ---- a brief ------------------------------------------------------------------------------------------

    def brief(self, channel: Channel, scope: list[str] | None, brief_id: str) -> PageResponse:
        """A stored brief: its stories, points and quotes, each linking to its passage (only what is in scope)."""
        row = self.store.get_brief(brief_id)
        if row is None:  # the link is signed, so the brief was stored once: pruned since
            return self.expired(channel)
        if (row.platform, row.channel) != (channel.platform, channel.channel):
            log.info("page refused: brief %s belongs to another channel", brief_id)
            return refusal(403, OUT_OF_SCOPE)
        data: dict[str, Any] = json.loads(row.body)
        title = ("Digest" if row.kind == "digest" else "Brief") + (f": {row.topic}" if row.topic else "")
        parts = [f"<h1>{escape(title)}</h1>", f'<p class="meta">{escape(_date(row.created))} · '
                 f'<a href="{escape(self.linker.archive_url(channel), quote=True)}">past digests</a></p>']
        if data.get("note"):
            parts.append(f"<p>{escape(str(data['note']))}</p>")
        shown = 0
        for story in data.get("stories", []):
            html = self._story(story, channel, scope)
            if html:
                parts.append(html)
                shown += 1
        if not shown:
            parts.append("<p>No story of this brief is within this channel's sources.</p>")
        return page(title, "".join(parts))

    def expired(self, channel: Channel) -> PageResponse:
        """The page a link to a pruned brief gets: what happened, and where the channel's kept ones are."""
        archive = escape(self.linker.archive_url(channel), quote=True)
        return page("Brief expired", f"<h1>This brief has expired</h1><p>{escape(BRIEF_EXPIRED)}</p>"
                                     f'<p><a href="{archive}">Past digests</a> still kept for this channel.</p>', 404)

    def _cite(self, c: dict[str, Any], channel: Channel, scope: list[str] | None) -> str | None:
        if not in_scope(str(c.get("source", "")), scope):
            return None
        cite = Citation(n=int(c["n"]), source=str(c["source"]), text="", doc_id=int(c["doc_id"]),
                        start=int(c["start"]), end=int(c["end"]))
        href = escape(self.linker.citation_url(cite, channel), quote=True)
        return f'<a class="n" href="{href}">[{cite.n}]</a>'

    def _cites(self, cites: list[dict[str, Any]], channel: Channel, scope: list[str] | None) -> str | None:
        """The citation links of a point; None when it has citations and none of them is in scope."""
        links = [x for x in (self._cite(c, channel, scope) for c in cites) if x]
        if cites and not links:
            return None
        return "".join(links)

    def _story(self, s: dict[str, Any], channel: Channel, scope: list[str] | None) -> str:
        sources = [x for x in s.get("sources", []) if in_scope(str(x.get("source", "")), scope)]
        if s.get("sources") and not sources:
            return ""
        out = [f"<h2>{escape(str(s.get('headline', '')))}</h2>"]
        if s.get("summary"):
            out.append(f"<p>{escape(str(s['summary']))}</p>")
        points = []
        for kp in s.get("key_points", []):
            links = self._cites(kp.get("citations", []), channel, scope)
            if links is not None:
                points.append(f"<li>{escape(str(kp.get('text', '')))} {links}</li>")
        if points:
            out.append("<ul>" + "".join(points) + "</ul>")
        for q in s.get("quotes", []):
            links = self._cites([q["citation"]], channel, scope)
            if links is None:
                continue
            desc = f", {escape(str(q['description']))}" if q.get("description") else ""
            out.append(f"<blockquote>“{escape(str(q.get('text', '')))}” — "
                       f"<strong>{escape(str(q.get('speaker', '')))}</strong>{desc} {links}</blockquote>")
        for d in s.get("differences", []):
            sides = []
            for side in d.get("sides", []):
                links = self._cites(side.get("citations", []), channel, scope)
                if links is not None:
                    sides.append(f"<li>{escape(str(side.get('text', '')))} {links}</li>")
            if sides:
                out.append(f"<p><strong>How the reports differ — {escape(str(d.get('topic', '')))}</strong></p>"
                           "<ul>" + "".join(sides) + "</ul>")
        if sources:
            items = []
            for x in sources:
                title = str(x.get("title") or x.get("source") or "source")
                label = title + (f" — {x['outlet']}" if x.get("outlet") else "")
                date = _date(x.get("published"))
                items.append(f"<li>{outside_link(x.get('url'), label)}{f' ({escape(date)})' if date else ''}</li>")
            out.append('<p class="meta">Sources:</p><ul class="meta">' + "".join(items) + "</ul>")
        return "".join(out)

    # ---- a channel's archive ------------------------------------------------------------------------------

    def archive(self, channel: Channel) -> PageResponse:
        """The channel's past digests and briefs, newest first, each linking to its page."""
        rows = self.store.list_briefs(channel.platform, channel.channel, limit=100)
        items = []
        for r in rows:
            data = json.loads(r.body)
            heads = "; ".join(str(s.get("headline", "")) for s in data.get("stories", [])[:3])
            label = f"{_date(r.created)} — {'digest' if r.kind == 'digest' else 'brief'}"
            label += f" about {r.topic}" if r.topic else ""
            href = escape(self.linker.brief_url(r.id, channel), quote=True)
            items.append(f'<li><a href="{href}">{escape(label)}</a>'
                         + (f'<br><span class="meta">{escape(heads)}</span>' if heads else "") + "</li>")
        body = "<h1>Past digests and briefs</h1>" + ("<ul>" + "".join(items) + "</ul>" if items
                                                     else "<p>Nothing has been posted to this channel yet.</p>")
        return page("Past digests", body)
