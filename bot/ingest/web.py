"""Web pages over HTTP: decode, extract article text and metadata into a RawDocument.

Also the single entry point for an arbitrary URL (`fetch_url`: feed or page, fetched once).
Network access only through `bot.ingest.http.Fetcher`.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from html.parser import HTMLParser

import charset_normalizer
import trafilatura

from bot.domain import RawDocument
from bot.ingest.feeds import FeedResult, entry_document, html_to_text, parse_feed_bytes
from bot.ingest.hidden import drop_hidden
from bot.ingest.http import (
    FEED_TYPES,
    PAGE_TYPES,
    Fetcher,
    FetchError,
    FetchResult,
    bom_encoding,
    media_type,
    sniff_feed,
)

# Fewer words than this is navigation or boilerplate, not an article (trafilatura's
# fallback extractors return menu text like "Home Local Sport" for pages with no article).
MIN_ARTICLE_WORDS = 12
_HEAD_BYTES = 200_000
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_PUBLISHED_KEYS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "parsely-pub-date",
    "dc.date.issued",
    "dcterms.created",
)
# Labels that browsers (per the WHATWG Encoding standard) read as windows-1252.
_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})


def fetch_page(url: str, fetcher: Fetcher) -> RawDocument:
    """GET an HTML page and return its article text and metadata."""
    result = fetcher.get(url, accept=PAGE_TYPES)
    return page_document(url, result)


def fetch_url(
    url: str,
    fetcher: Fetcher,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_entries: int = 200,
) -> FeedResult:
    """GET any URL once and handle it as a feed or as a page (one document)."""
    result = fetcher.get(url, accept=PAGE_TYPES + FEED_TYPES, etag=etag, last_modified=last_modified)
    if result.not_modified:
        return _unchanged(result, etag, last_modified)
    if looks_like_feed(result.content_type, result.content[:1024]):
        return parse_feed(url, result, fetcher, max_entries=max_entries)
    doc = page_document(url, result)
    return FeedResult(
        documents=[doc],
        etag=result.etag,
        last_modified=result.last_modified,
        title=doc.title,
    )


def _unchanged(result: FetchResult, etag: str | None, last_modified: str | None) -> FeedResult:
    """A 304: nothing new, and the validators to send next time."""
    return FeedResult(etag=result.etag or etag, last_modified=result.last_modified or last_modified,
                      not_modified=True)


def fetch_feed(
    url: str,
    fetcher: Fetcher,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_entries: int = 200,
) -> FeedResult:
    """GET an RSS/Atom feed (conditionally) and return a document per entry."""
    result = fetcher.get(url, accept=FEED_TYPES, etag=etag, last_modified=last_modified)
    if result.not_modified:
        return _unchanged(result, etag, last_modified)
    return parse_feed(url, result, fetcher, max_entries=max_entries)


def parse_feed(url: str, result: FetchResult, fetcher: Fetcher, *, max_entries: int = 200) -> FeedResult:
    """Turn fetched feed bytes into documents, fetching each entry's page for its text."""
    parsed = parse_feed_bytes(url, result, max_entries=max_entries)
    out = FeedResult(etag=result.etag, last_modified=result.last_modified, title=parsed.title)
    seen: set[str] = set()
    for entry in parsed.entries:
        if entry.location in seen:
            continue
        seen.add(entry.location)
        problem = None
        if entry.link:
            try:
                page = page_document(entry.link, fetcher.get(entry.link, accept=PAGE_TYPES))
            except FetchError as exc:
                problem = exc.reason
            else:
                out.documents.append(
                    RawDocument(
                        location=entry.location,
                        text=page.text,
                        title=entry.title or page.title,
                        url=page.url,
                        outlet=parsed.title or page.outlet,
                        author=entry.author or page.author,
                        published=entry.published or page.published,
                    )
                )
                continue
        if entry.text:
            out.documents.append(entry_document(entry, parsed.title))
            if problem:
                out.notes.append((entry.location, f"page not used ({problem}); used the feed's own text"))
        else:
            out.errors.append((entry.location, problem or "the entry has no link and no text"))
    return out


def looks_like_feed(content_type: str | None, body_prefix: bytes) -> bool:
    """True when a response is an RSS/Atom/RDF feed (by type, else by its root element)."""
    ctype = media_type(content_type)
    if ctype in FEED_TYPES and ctype not in ("application/xml", "text/xml"):
        return True
    return sniff_feed(body_prefix)


def page_document(location: str, result: FetchResult) -> RawDocument:
    """Extract article text and metadata from a fetched HTML response."""
    html = drop_hidden(decode_html(result.content, result.encoding))
    try:
        text = trafilatura.extract(
            html,
            url=result.url,
            output_format="txt",
            include_comments=False,
            include_tables=False,
            favor_precision=True,
        )
        meta = trafilatura.extract_metadata(html, default_url=result.url)
    except Exception as exc:  # a parser crash on hostile HTML is this page's failure only
        raise FetchError(location, f"could not extract text ({exc})") from None
    title = _clean(meta.title) if meta is not None else None
    text = _tidy_text(text or "", title)
    if len(text.split()) < MIN_ARTICLE_WORDS:
        raise FetchError(location, "no article text found in the page")
    head = _head_meta(html)
    published = _iso_datetime(next((head[k] for k in _PUBLISHED_KEYS if k in head), None))
    return RawDocument(
        location=location,
        text=text,
        title=title,
        url=result.url,
        outlet=_clean(meta.sitename) if meta is not None else None,
        author=_clean(meta.author) if meta is not None else None,
        published=published or (meta.date if meta is not None else None),
    )


def decode_html(content: bytes, header_encoding: str | None = None) -> str:
    """Decode HTML bytes: BOM, then header charset, then <meta> charset, then detection."""
    bom = bom_encoding(content)
    if bom == "utf-8":
        content = content[3:]  # a BOM outranks any declaration, and is not text
    candidates = [bom, header_encoding, _meta_charset(content), "utf-8"]
    for label in candidates:
        codec = _codec(label)
        if codec is None:
            continue
        try:
            return content.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    best = charset_normalizer.from_bytes(content[:_HEAD_BYTES]).best()
    codec = _codec(best.encoding) if best is not None else None
    return content.decode(codec or "cp1252", errors="replace")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _meta_charset(content: bytes) -> str | None:
    m = _META_CHARSET.search(content[:4096])
    return m.group(1).decode("ascii", "ignore") if m else None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _tidy_text(text: str, title: str | None) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    # trafilatura keeps the headline as the first paragraph; the title field carries it.
    if title and len(lines) > 1 and lines[0].casefold() == title.casefold():
        lines = lines[1:]
    return "\n".join(lines)


def _iso_datetime(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _head_meta(html: str) -> dict[str, str]:
    end = html.find("</head>", 0, _HEAD_BYTES)
    scanner = _MetaParser()
    scanner.feed(html[: end if end >= 0 else _HEAD_BYTES])
    return scanner.meta


class _MetaParser(HTMLParser):
    """Collects <meta name|property|itemprop=... content=...> pairs, keys lower-cased."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        a = {k: v for k, v in attrs if v is not None}
        key = a.get("property") or a.get("name") or a.get("itemprop")
        if key and "content" in a:
            self.meta.setdefault(key.strip().lower(), a["content"])


__all__ = [
    "FeedResult",
    "decode_html",
    "fetch_feed",
    "fetch_page",
    "fetch_url",
    "html_to_text",
    "looks_like_feed",
    "page_document",
    "parse_feed",
]
