"""RSS/Atom parsing of bytes already fetched: entity-bomb guard, feedparser, entry metadata and text.

Never fetches anything: feedparser only ever sees bytes; `web.fetch_feed` does the network part.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser
from feedparser.encodings import (
    convert_to_utf8,
)

from bot.domain import RawDocument
from bot.ingest.hidden import drop_hidden
from bot.ingest.http import FEED_TYPES, FetchError, FetchResult

_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure"),
        *("footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol"),
        *("p", "pre", "section", "table", "td", "th", "tr", "ul"),
    }
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


@dataclass
class FeedResult:
    """What one feed (or page) URL yielded: documents plus per-item problems and cache validators."""

    documents: list[RawDocument] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (item location, reason)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    title: str | None = None
    # (item location, note): items kept, but from the feed's own text, not their page
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class FeedEntry:
    """One feed item's metadata and its own (fallback) text, before its page is fetched."""

    location: str
    link: str | None  # http(s) page URL, if the entry has one
    title: str | None
    author: str | None
    published: str | None
    text: str  # the entry's content or summary as plain text; may be ""


@dataclass
class ParsedFeed:
    """A feed's title and entries, in feed order."""

    title: str | None
    entries: list[FeedEntry]


def parse_feed_bytes(url: str, result: FetchResult, *, max_entries: int = 200) -> ParsedFeed:
    """Parse fetched feed bytes; raise FetchError for entity declarations or a non-feed."""
    ctype = result.content_type if result.content_type in FEED_TYPES else "application/xml"
    header = f"{ctype}; charset={result.encoding}" if result.encoding else ctype
    info: dict[str, Any] = {}
    # Convert exactly as feedparser would, so the guard below sees the bytes it will parse
    # (a UTF-16, UTF-7 or EBCDIC body would hide "<!ENTITY" from a check on the raw bytes).
    data: bytes = convert_to_utf8({"content-type": header}, result.content, info)
    if _DOCTYPE.search(data) and _ENTITY_DECL.search(data):
        raise FetchError(
            url,
            "the feed declares XML entities (<!ENTITY> in its DOCTYPE), which is refused "
            "to guard against entity-expansion attacks",
        )
    parsed = feedparser.parse(
        io.BytesIO(data),
        # feedparser's sanitiser drops aria-hidden and unwraps <template>, so hidden text would read as shown;
        # the HTML is never rendered, only read for text by html_to_text, which drops what is hidden
        sanitize_html=False,
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": result.url,
        },
    )
    if not parsed.entries and _broken(parsed):
        raise FetchError(url, f"not a valid RSS/Atom feed: {_bozo_reason(parsed)}")
    feed_title = _clean(parsed.feed.get("title"))
    entries: list[FeedEntry] = []
    for index, entry in enumerate(parsed.entries[:max_entries]):
        link = _http_link(entry)
        ident = _clean(entry.get("id")) or str(index + 1)
        entries.append(
            FeedEntry(
                location=link or f"{url}#{ident}",
                link=link,
                title=_clean(entry.get("title")),
                author=_author(entry),
                published=_published(entry),
                text=_entry_text(entry),
            )
        )
    return ParsedFeed(title=feed_title, entries=entries)


def entry_document(entry: FeedEntry, feed_title: str | None) -> RawDocument:
    """A RawDocument from the entry's own text (used when its page is missing or unusable)."""
    return RawDocument(
        location=entry.location,
        text=entry.text,
        title=entry.title,
        url=entry.link,
        outlet=feed_title,
        author=entry.author,
        published=entry.published,
    )


def html_to_text(fragment: str) -> str:
    """Turn an HTML fragment (e.g. a feed entry's content) into paragraphs joined by "\\n", hidden parts dropped."""
    parser = _TextParser()
    parser.feed(drop_hidden(fragment) if "<" in fragment else fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _broken(parsed: Any) -> bool:
    if not parsed.get("version"):
        return True
    exc = parsed.get("bozo_exception")
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    return bool(parsed.get("bozo")) and not isinstance(exc, benign)


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "no RSS or Atom elements found"
    get_message = getattr(exc, "getMessage", None)
    if callable(get_message):
        return f"{get_message()} (line {exc.getLineNumber()}, column {exc.getColumnNumber()})"
    return str(exc) or type(exc).__name__


def _http_link(entry: Any) -> str | None:
    candidates = [entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links", []) if link.get("rel", "alternate") == "alternate"]
    for href in candidates:
        if isinstance(href, str) and href.lower().startswith(("http://", "https://")):
            return href.strip()
    return None


def _author(entry: Any) -> str | None:
    author = _clean(entry.get("author"))
    if author:
        m = _EMAIL_NAME.match(author)  # RSS <author> is "email (Name)"
        return m.group(1).strip() if m else author
    names = [_clean(a.get("name")) for a in entry.get("authors", [])]
    return ", ".join(n for n in names if n) or None


def _published(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            year, month, day, hour, minute, second = value[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat()
    return None


def _entry_text(entry: Any) -> str:
    bodies = [(c.get("type", ""), c.get("value", "")) for c in entry.get("content", [])]
    detail = entry.get("summary_detail") or {}
    if entry.get("summary"):
        bodies.append((detail.get("type", "text/html"), entry.get("summary")))
    texts = [
        value.strip() if kind == "text/plain" else html_to_text(value)
        for kind, value in bodies
        if isinstance(value, str)
    ]
    return max(texts, key=len, default="")


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


class _TextParser(HTMLParser):
    """Collects text, with a line break around block elements and at <br>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
