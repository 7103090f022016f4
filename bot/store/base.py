"""What every store implementation offers: rows, the interface, and its errors.

Imports only the domain; implementations live beside it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Answer, Channel, Document, Passage, Quote, Subscription


class StoreError(Exception):
    """A store that cannot be opened or used, with the reason."""


class Conflict(StoreError):
    """A write lost a race: the same location or content was stored by someone else."""


@dataclass
class NewDocument:
    """A cleaned document ready to store, with everything derived from it."""

    location: str
    title: str
    text: str
    content_hash: str
    passages: list[Passage]
    quotes: list[Quote] = field(default_factory=list)
    sketch: list[int] = field(default_factory=list)
    url: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: str | None = None
    fetched: str | None = None
    source_id: int | None = None


@dataclass
class DocumentRow:
    """A document's identity and fingerprint, without its text."""

    id: int
    location: str
    content_hash: str
    version: int


@dataclass
class SourceRow:
    """A registered source polled on a schedule."""

    id: int
    kind: str  # folder | file | feed | page
    location: str
    every_seconds: int
    etag: str | None = None
    last_modified: str | None = None
    last_polled: str | None = None
    last_error: str | None = None
    added: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PassageHit:
    """A passage found by full-text search, with its document's citation fields."""

    doc_id: int
    ordinal: int
    start: int
    end: int
    text: str
    score: float  # higher is better
    location: str
    title: str
    url: str | None
    outlet: str | None
    published: str | None


@dataclass
class QuoteRow:
    """A stored quote with its document's citation fields."""

    quote: Quote
    doc_id: int
    location: str
    title: str
    url: str | None
    outlet: str | None
    published: str | None

    def to_json(self) -> dict[str, Any]:
        d = self.quote.to_json()
        d.update(doc_id=self.doc_id, source=self.location, title=self.title, url=self.url, outlet=self.outlet)
        return d


def quote_row(r: Any) -> QuoteRow:
    """A stored quote from a database row (a mapping of the quotes columns and its document's)."""
    q = Quote(text=r["text"], start=r["start"], end=r["end"], speaker=r["speaker"],
              speaker_start=r["speaker_start"], speaker_end=r["speaker_end"], description=r["description"],
              role=r["role"], cue=r["cue"], kind=r["kind"], passage=r["passage"])
    return QuoteRow(quote=q, doc_id=r["doc_id"], location=r["location"], title=r["title"], url=r["url"],
                    outlet=r["outlet"], published=r["published"])


def subscription_row(r: Any) -> Subscription:
    """A subscription from a database row."""
    return Subscription(id=r["id"], platform=r["platform"], channel=r["channel"], time_of_day=r["time_of_day"],
                        timezone=r["timezone"], cadence=r["cadence"], topic=r["topic"], created_by=r["created_by"])


class Store(Protocol):
    """The persistence seam. Every write of a document happens in one transaction."""

    def close(self) -> None: ...
    def batch(self) -> AbstractContextManager[None]: ...

    # documents
    def find_location(self, location: str) -> DocumentRow | None: ...
    def find_hash(self, content_hash: str) -> DocumentRow | None: ...
    def near_candidates(self, sketch: list[int], min_shared: int) -> list[tuple[int, str, str]]: ...
    def put_document(self, doc: NewDocument, replace: DocumentRow | None = None) -> int: ...
    def get_document(self, ref: str) -> Document | None: ...
    def list_documents(self, source: str | None = None, limit: int | None = None) -> list[Document]: ...
    def count_documents(self, sources: list[str] | None = None) -> int: ...
    def count_passages(self) -> int: ...
    def names_a_source(self, name: str) -> bool: ...
    def count_matches(self, match: str) -> int: ...
    def document_text(self, doc_id: int) -> str: ...
    def documents_by_id(self, ids: list[int]) -> dict[int, Document]: ...

    # search
    def search_passages(self, match: str, limit: int = 20, sources: list[str] | None = None,
                        since: str | None = None) -> list[PassageHit]: ...
    def quotes(self, speaker_like: str | None = None, source: str | None = None,
               limit: int | None = None, about: list[str] | None = None,
               role_like: str | None = None, doc_ids: list[int] | None = None) -> list[QuoteRow]: ...

    # sources
    def add_source(self, kind: str, location: str, every_seconds: int) -> SourceRow: ...
    def list_sources(self) -> list[SourceRow]: ...
    def remove_source(self, ref: str) -> SourceRow | None: ...
    def update_source(self, source_id: int, **fields: Any) -> None: ...

    # ingest runs
    def begin_run(self, trigger: str, inputs: list[str]) -> int: ...
    def record_item(self, run_id: int, location: str, outcome: str, reason: str = "",
                    doc_id: int | None = None) -> None: ...
    def finish_run(self, run_id: int, counts: dict[str, int]) -> None: ...
    def run_items(self, run_id: int) -> list[dict[str, Any]]: ...

    # maintenance
    def migrate(self) -> int: ...
    def integrity_check(self) -> str: ...

    # answers, feedback, the LLM call log
    def save_answer(self, answer: Answer, channel: Channel | None) -> None: ...
    def add_feedback(self, answer_id: str, user: str, helpful: bool) -> bool: ...
    def log_llm_call(self, rec: dict[str, Any]) -> None: ...
    def llm_usage(self, since: str) -> list[dict[str, Any]]: ...

    # digests: subscriptions and slot claims
    def upsert_subscription(self, sub: Subscription) -> Subscription: ...
    def delete_subscriptions(self, platform: str, channel: str) -> int: ...
    def list_subscriptions(self, platform: str | None = None, channel: str | None = None) -> list[Subscription]: ...
    def last_digest_at(self, subscription_id: int) -> str | None: ...
    def claim_slot(self, subscription_id: int, slot: str, owner: str, lease_seconds: int = 300,
                   max_attempts: int = 5) -> bool: ...
    def finish_claim(self, subscription_id: int, slot: str, owner: str, message_id: str | None,
                     error: str | None = None, digest_time: str | None = None) -> None: ...
    def claims(self, subscription_id: int | None = None) -> list[dict[str, Any]]: ...

    # chat events, each answered once across replicas
    def first_sight(self, platform: str, event_id: str, owner: str) -> bool: ...
    def prune_events(self, before: str) -> int: ...

    # per-channel source scoping
    def set_channel_sources(self, platform: str, channel: str, patterns: list[str]) -> None: ...
    def channel_sources(self, platform: str, channel: str) -> list[str]: ...
