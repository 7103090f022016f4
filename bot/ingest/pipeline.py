"""The ingest pipeline: prepare (clean, passages, quotes, fingerprints) then store once.

Decides new / updated / unchanged / duplicate / near-duplicate per item and records each outcome.
Network fetching is injected (a callable), so the pipeline itself does no I/O but files and store.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.domain import Quote, RawDocument
from bot.ingest import dedup
from bot.ingest.clean import clean, first_sentence
from bot.ingest.files import FileSkip, extract_html, read_file, walk
from bot.ingest.passages import split_passages
from bot.store.base import Conflict, NewDocument, Store

BATCH_DOCS = 200
PARALLEL_MIN_FILES = 64  # smaller folders are prepared in-process: a pool costs more than it saves
BATCH_SECONDS = 0.5
QuoteExtractor = Callable[[str, Sequence[tuple[int, int]]], list[Quote]]
# A URL fetcher returns the documents found at a URL (one page, or a feed's entries) and the
# per-entry errors; see bot.ingest.web.fetch_url, wired in bot.app.
UrlFetcher = Callable[[str, "SourceState"], "FetchOutcome"]


@dataclass
class SourceState:
    """Conditional-GET state carried between polls of one URL."""

    etag: str | None = None
    last_modified: str | None = None
    untrusted: bool = False  # added from chat: fetched under the strict address policy


@dataclass
class FetchOutcome:
    """What fetching one URL gave: documents, per-item errors, and the new conditional-GET state."""

    documents: list[RawDocument]
    errors: list[tuple[str, str]]
    state: SourceState
    not_modified: bool = False


@dataclass
class ItemResult:
    """One input's outcome: new, updated, unchanged, duplicate, near-duplicate, skipped, not-modified."""

    location: str
    outcome: str
    reason: str = ""
    doc_id: int | None = None


@dataclass
class RunReport:
    """A whole run: every item's outcome, counts, and time taken."""

    run_id: int
    items: list[ItemResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(i.outcome for i in self.items)
        return {
            "items": len(self.items),
            "new": c["new"],
            "updated": c["updated"],
            "unchanged": c["unchanged"] + c["not-modified"],
            "duplicates": c["duplicate"],
            "near_duplicates": c["near-duplicate"],
            "skipped": c["skipped"],
        }

    def summary(self) -> str:
        """The closing line: '2,225 files: 2,127 new, 98 duplicates, 0 skipped in 4.1 s'."""
        c = self.counts
        parts = [f"{c['new']:,} new"]
        if c["updated"]:
            parts.append(f"{c['updated']:,} updated")
        if c["unchanged"]:
            parts.append(f"{c['unchanged']:,} unchanged")
        parts.append(f"{c['duplicates']:,} duplicates")
        if c["near_duplicates"]:
            parts.append(f"{c['near_duplicates']:,} near-duplicates")
        parts.append(f"{c['skipped']:,} skipped")
        noun = "item" if c["items"] == 1 else "items"
        return f"{c['items']:,} {noun}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, **self.counts, "seconds": round(self.seconds, 3),
                "items": [i.__dict__ for i in self.items]}


@dataclass
class Prepared:
    """A document cleaned and analysed, not yet stored."""

    doc: NewDocument
    shingles: set[int] | None  # dropped before crossing a process boundary; recomputed when needed
    removed: list[str]


class EmptyDocument(ValueError):
    """Nothing citable left after cleaning."""


def prepare(raw: RawDocument, extract_quotes: QuoteExtractor | None, fetched: str | None = None) -> Prepared:
    """Clean a raw document and derive passages, quotes and fingerprints (pure; no I/O)."""
    if raw.html:
        raw = extract_html(raw)
    ct = clean(raw.text, title_from_first_line=raw.title is None)
    text = ct.text
    if not text.strip():
        raise EmptyDocument("no article text after cleaning")
    passages = split_passages(text)
    title = (raw.title or ct.title or first_sentence(text)).strip()
    quotes = extract_quotes(text, [(p.start, p.end) for p in passages]) if extract_quotes else []
    sh = dedup.shingles(text)
    doc = NewDocument(
        location=raw.location, title=title, text=text, content_hash=dedup.content_hash(title + "\n\n" + text),
        passages=passages, quotes=quotes, sketch=dedup.sketch(sh), url=raw.url, outlet=raw.outlet,
        author=raw.author, published=raw.published, fetched=fetched,
    )
    return Prepared(doc=doc, shingles=sh, removed=ct.removed)


def shown_path(s: str) -> str:
    """A path as text the store can hold: undecodable bytes of a file name (surrogate escapes) as \\xNN."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return os.fsencode(s).decode("utf-8", "backslashreplace")


def is_url(s: str) -> bool:
    """True for http(s) URLs; everything else is a path."""
    return s.startswith(("http://", "https://"))


def _prepare_safely(raw: RawDocument, extract_quotes: QuoteExtractor | None, fetched: str | None) -> Prepared | str:
    """prepare(), with every failure turned into the reason a user reads."""
    try:
        return prepare(raw, extract_quotes, fetched)
    except (FileSkip, EmptyDocument) as e:
        return str(e)
    except Exception as e:  # a bug in cleaning one document must not stop the run
        return f"could not be processed: {type(e).__name__}: {e}"


def _read_and_prepare(path: Path, max_bytes: int, extract_quotes: QuoteExtractor | None,
                      fetched: str | None) -> tuple[str, Prepared | str]:
    """Read and prepare one file (runs in a worker process for big folders)."""
    if shown_path(str(path)) != str(path):
        return shown_path(str(path)), "file name is not valid UTF-8: rename the file"
    try:
        raw = read_file(path, max_bytes)
    except FileSkip as e:
        return str(path), str(e)
    prep = _prepare_safely(raw, extract_quotes, fetched)
    if isinstance(prep, Prepared):
        prep.shingles = None  # only a near-duplicate candidate needs them: do not pickle them back
    return raw.location, prep


MAX_OUTLET = 120  # characters of an operator-given outlet name


class Ingester:
    """Runs ingests against a store; one instance per process is enough."""

    def __init__(self, store: Store, *, extract_quotes: QuoteExtractor | None = None,
                 fetch_url: UrlFetcher | None = None, max_file_bytes: int = 10_000_000,
                 clock: Callable[[], str] | None = None, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        self.store = store
        self.extract_quotes = extract_quotes
        self.fetch_url = fetch_url
        self.max_file_bytes = max_file_bytes
        self.clock = clock

    def ingest(self, inputs: Iterable[str], *, trigger: str = "cli", source_id: int | None = None,
               state: SourceState | None = None, on_item: Callable[[ItemResult], None] | None = None,
               on_total: Callable[[int], None] | None = None, outlet: str | None = None) -> RunReport:
        """Ingest paths and URLs; every item gets an outcome, and one bad item never stops the run. `outlet`
        names the publication of everything this run stores (an operator's name for a folder of files), over
        what a page or feed says of itself."""
        inputs = list(inputs)
        outlet = (outlet or "").strip()[:MAX_OUTLET] or None
        t0 = time.perf_counter()
        report = RunReport(run_id=self.store.begin_run(trigger, inputs))

        def done(item: ItemResult) -> None:
            item.location = shown_path(item.location)
            report.items.append(item)
            self.store.record_item(report.run_id, item.location, item.outcome, item.reason, item.doc_id)
            if on_item:
                on_item(item)

        for inp in inputs:
            if is_url(inp):
                self._ingest_url(inp, state or SourceState(), source_id, done, outlet)
                continue
            path = Path(inp).expanduser()
            try:
                path.stat()
            except FileNotFoundError:
                done(ItemResult(inp, "skipped", "no such file or folder"))
                continue
            except OSError as e:
                done(ItemResult(inp, "skipped", f"unreadable: {e.strerror or e}"))
                continue
            walk_errors: list[tuple[str, str]] = []
            files = list(walk(path, walk_errors))
            for loc, why in walk_errors:
                done(ItemResult(loc, "skipped", why))
            if on_total:
                on_total(len(files))
            if not files and path.is_dir():
                done(ItemResult(inp, "skipped", "folder holds no .txt, .md or .html files"))
            self._ingest_files(files, source_id, done, outlet)
        report.seconds = time.perf_counter() - t0
        self.store.finish_run(report.run_id, report.counts)
        return report

    def _ingest_files(self, files: list[Path], source_id: int | None,
                      done: Callable[[ItemResult], None], outlet: str | None = None) -> None:
        """Files in short batches: many documents per commit (FTS5 pays per transaction), each
        document still all-or-nothing, and no batch holds the write lock for long.

        Reading and preparing (CPU-bound) run in worker processes for big folders; deciding and
        writing stay here, in order, so outcomes are the same as a serial run.
        """
        job = partial(_read_and_prepare, max_bytes=self.max_file_bytes, extract_quotes=self.extract_quotes,
                      fetched=self.clock() if self.clock else None)
        pool = None
        if self.workers > 1 and len(files) >= PARALLEL_MIN_FILES:
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
            results: Iterator[tuple[str, Prepared | str]] = pool.map(job, files, chunksize=32)
        else:
            results = map(job, files)
        try:
            more = True
            while more:
                with self.store.batch():
                    deadline = time.perf_counter() + BATCH_SECONDS
                    for _ in range(BATCH_DOCS):
                        nxt = next(results, None)
                        if nxt is None:
                            more = False
                            break
                        loc, prep = nxt
                        done(ItemResult(loc, "skipped", prep) if isinstance(prep, str)
                             else self._store_prepared(prep, source_id, outlet))
                        if time.perf_counter() > deadline:
                            break
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _ingest_url(self, url: str, state: SourceState, source_id: int | None,
                    done: Callable[[ItemResult], None], outlet: str | None = None) -> None:
        if self.fetch_url is None:
            done(ItemResult(url, "skipped", "fetching URLs is not configured"))
            return
        try:
            out = self.fetch_url(url, state)
        except Exception as e:  # a fetcher error names the URL and the reason
            done(ItemResult(url, "skipped", str(e)))
            return
        state.etag, state.last_modified = out.state.etag, out.state.last_modified
        if out.not_modified:
            done(ItemResult(url, "not-modified", "unchanged since the last poll (HTTP 304)"))
            return
        for loc, reason in out.errors:
            done(ItemResult(loc, "skipped", reason))
        for raw in out.documents:
            done(self.store_raw(raw, source_id, outlet))

    def store_raw(self, raw: RawDocument, source_id: int | None = None, outlet: str | None = None) -> ItemResult:
        """Prepare and store one raw document, deciding its outcome."""
        prep = _prepare_safely(raw, self.extract_quotes, self.clock() if self.clock else None)
        if isinstance(prep, str):
            return ItemResult(raw.location, "skipped", prep)
        return self._store_prepared(prep, source_id, outlet)

    def _store_prepared(self, prep: Prepared, source_id: int | None, outlet: str | None = None) -> ItemResult:
        """Decide new / updated / unchanged / duplicate / near-duplicate, and store if it is new."""
        doc = prep.doc
        loc = doc.location
        doc.source_id = source_id
        if outlet:
            doc.outlet = outlet
        existing = self.store.find_location(loc)
        if existing and existing.content_hash == doc.content_hash:
            return ItemResult(loc, "unchanged", "", existing.id)
        same = self.store.find_hash(doc.content_hash)
        if same and (existing is None or same.id != existing.id):
            return ItemResult(loc, "duplicate", f"same text as {same.location}", same.id)
        if existing is None:
            for cid, cloc, ctext in self.store.near_candidates(doc.sketch, dedup.MIN_SHARED):
                if prep.shingles is None:
                    prep.shingles = dedup.shingles(doc.text)
                sim = dedup.jaccard(prep.shingles, dedup.shingles(ctext))
                if sim >= dedup.NEAR_JACCARD:
                    return ItemResult(loc, "near-duplicate", f"{sim:.0%} the same text as {cloc}", cid)
        try:
            doc_id = self.store.put_document(doc, replace=existing)
        except Conflict as e:
            return ItemResult(loc, "duplicate", f"stored meanwhile by another run ({e})")
        if existing:
            return ItemResult(loc, "updated", f"new version {existing.version + 1}", doc_id)
        return ItemResult(loc, "new", "", doc_id)
