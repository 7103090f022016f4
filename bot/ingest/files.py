"""Reading files and folders into RawDocuments: walking, size and type checks, decoding, HTML.

Raises FileSkip with a reason a user can act on; never touches the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from bot.domain import RawDocument
from bot.ingest.clean import DecodeError, decode

EXTENSIONS = {".txt", ".md", ".markdown", ".html", ".htm"}
MAX_BYTES = 10_000_000
MIN_ARTICLE_WORDS = 10


class FileSkip(Exception):
    """A file that cannot be ingested, and why."""


def walk(path: Path, errors: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """Files under a folder (recursively, sorted, hidden entries skipped) or the file itself.

    Folders that cannot be listed are appended to `errors` as (path, reason).
    """
    if path.is_file():
        yield path
        return

    def unreadable(e: OSError) -> None:
        if errors is not None:
            errors.append((str(e.filename or path), f"unreadable folder: {e.strerror or e}"))

    for root, dirs, files in os.walk(path, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in EXTENSIONS:
                yield Path(root) / name


def read_file(path: Path, max_bytes: int = MAX_BYTES) -> RawDocument:
    """A file as a RawDocument (HTML left for extraction), or FileSkip with the reason."""
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise FileSkip(f"unsupported file type {suffix or '(none)'}: use .txt, .md or .html")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileSkip(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        if size == 0:
            raise FileSkip("empty file")
        data = path.read_bytes()
    except PermissionError:
        raise FileSkip("unreadable: permission denied") from None
    except IsADirectoryError:
        raise FileSkip("is a directory") from None
    except OSError as e:
        raise FileSkip(f"unreadable: {e.strerror or e}") from None
    try:
        text = decode(data)
    except DecodeError as e:
        raise FileSkip(str(e)) from None
    if not text.strip():
        raise FileSkip("no text (only white space)")
    location = str(path.resolve())
    if suffix in {".html", ".htm"}:
        return RawDocument(location=location, text=text, html=True)
    if suffix in {".md", ".markdown"}:
        if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
            raise FileSkip("only headings, no article text")
        lines = text.split("\n")
        if lines and lines[0].startswith("#"):
            lines[0] = lines[0].lstrip("#").strip()
        text = "\n".join(lines)
    return RawDocument(location=location, text=text)


def extract_html(raw: RawDocument) -> RawDocument:
    """Article text and metadata from an HTML file, via trafilatura."""
    import trafilatura

    from bot.ingest.hidden import drop_hidden

    try:
        html = drop_hidden(raw.text)
        body = trafilatura.extract(html, output_format="txt", include_comments=False,
                                   include_tables=False, favor_precision=True)
        meta = trafilatura.extract_metadata(html)
    except Exception as e:  # trafilatura/lxml raise many types on broken markup
        raise FileSkip(f"HTML could not be parsed: {e}") from None
    if not body or len(body.split()) < MIN_ARTICLE_WORDS:
        # navigation crumbs ("Home") are not an article
        raise FileSkip("no article text found in the HTML")
    return RawDocument(
        location=raw.location, text=body, url=raw.url or (meta.url if meta else None),
        title=raw.title or (meta.title if meta else None),
        outlet=raw.outlet or (meta.sitename if meta else None),
        author=raw.author or (meta.author if meta else None),
        published=raw.published or (meta.date if meta else None),
    )
