"""What a store offers: its rows, its errors, and the role protocols each consumer types against.

`Store` is the union of the roles; the SQL behind it is written once (bot.store.sql) for two dialects.
Imports only the domain.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Answer, BriefRow, Channel, Document, Passage, Quote, Subscription
from bot.store.scope import in_scope, scope_clause, scope_likes


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
    outlet: str | None = None  # the publication's name the operator set; what its documents are shown as

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


@dataclass
class StoryRow:
    """A persisted story with the documents a scope may see (oldest first).

    first_seen and last_seen are its documents' earliest and latest published-or-fetched times;
    updated_at is when a document last joined it, by the assigner's clock.
    """

    id: int
    first_seen: str
    last_seen: str
    updated_at: str
    doc_ids: list[int] = field(default_factory=list)


@dataclass
class Membership:
    """A document's place in a story, with the profile (bot.stories' JSON) it was assigned by."""

    doc_id: int
    story_id: int
    profile: str
    when: str = ""  # the document's published-or-fetched time, as read back


@dataclass
class CallTotals:
    """LLM calls of one outcome, with their tokens and time."""

    calls: int
    tokens_in: int
    tokens_out: int
    latency_ms: float


@dataclass
class Counters:
    """What /metrics exposes, read from the store's own records."""

    documents: int
    ingested: dict[str, int]  # ingest items by outcome
    answers: dict[tuple[str, bool], int]  # answers by (backend, found)
    calls: dict[str, CallTotals]  # LLM calls by outcome
    claims: dict[str, int]  # digest slots by status


class Documents(Protocol):
    """Documents with their passages, quotes and sketches; full-text search over them."""

    def find_location(self, location: str) -> DocumentRow | None:
        """The stored document at exactly this location."""
    def find_hash(self, content_hash: str) -> DocumentRow | None:
        """The stored document with exactly this content."""
    def near_candidates(self, sketch: list[int], min_shared: int) -> list[tuple[int, str, str]]:
        """The closest documents sharing at least `min_shared` sketch values: (id, location, text)."""
    def put_document(self, doc: NewDocument, replace: DocumentRow | None = None) -> int:
        """Store a document and its parts in one transaction (as `replace`'s next version); its id."""
    def get_document(self, ref: str) -> Document | None:
        """A document (with passages) by id, exact location or unique location suffix."""
    def list_documents(self, source: str | None = None, limit: int | None = None) -> list[Document]:
        """Documents without passages, oldest first, optionally those whose location contains `source`."""
    def documents_by_id(self, ids: list[int]) -> dict[int, Document]:
        """Documents with passages by id (ids stored nowhere are left out)."""
    def count_documents(self, sources: list[str] | None = None) -> int:
        """Stored documents, or those in scope `sources`."""
    def count_passages(self) -> int:
        """Stored passages (the IDF denominator)."""
    def document_text(self, doc_id: int) -> str:
        """A document's clean text ('' when gone)."""
    def names_a_source(self, name: str) -> bool:
        """True when some document's location or outlet contains `name` (case-insensitive)."""
    def speaker_names(self, limit: int = 50_000) -> list[str]:
        """Distinct speaker names in the quote index."""
    def terms_like(self, prefix: str, limit: int = 2000) -> list[str] | None:
        """Indexed word stems starting with `prefix`; None when the dialect keeps no vocabulary."""
    def count_matches(self, match: str) -> int:
        """Passages an FTS5-style MATCH expression (quoted terms, AND, OR) matches."""
    def search_passages(self, match: str, limit: int = 20, sources: list[str] | None = None,
                        since: str | None = None) -> list[PassageHit]:
        """BM25-ranked passages for a MATCH expression, best first, in scope and since a time."""
    def quotes(self, speaker_like: str | None = None, source: str | None = None,
               limit: int | None = None, about: list[str] | None = None,
               role_like: str | None = None, doc_ids: list[int] | None = None) -> list[QuoteRow]:
        """Stored quotes filtered by speaker words, source, words, role or documents."""


class Vectors(Protocol):
    """One embedding vector a passage (bot.embed's bytes), per model."""

    def unembedded_passages(self, model: str, limit: int, after: int = 0) -> list[tuple[int, str]]:
        """Up to `limit` passages after id `after` without a `model` vector: (passage id, text)."""
    def count_unembedded(self, model: str) -> int:
        """Passages without a `model` vector."""
    def put_vectors(self, model: str, rows: list[tuple[int, bytes]], texts: list[str] | None = None) -> int:
        """Store a batch of vectors (skipping passages gone or changed); how many were written."""
    def lead_vectors(self, doc_ids: list[int], passages: int) -> list[tuple[int, str, bytes]]:
        """Every model's vectors of these documents' first `passages` passages: (doc id, model, bytes)."""
    def passage_vectors(self, model: str, after: int = 0,
                        limit: int = 10_000) -> list[tuple[int, int, int, int, bytes]]:
        """A chunk of vectors written after seq `after`: (seq, passage id, doc id, ordinal, bytes)."""
    def vector_seqs(self, model: str) -> list[int]:
        """The seq of every stored `model` vector."""
    def vectors_for(self, model: str, passage_ids: list[int]) -> list[tuple[int, int, int, bytes]]:
        """These passages' vectors: (passage id, doc id, ordinal, bytes)."""
    def vector_state(self, model: str) -> tuple[int, int]:
        """(vectors stored, last seq): a signature that changes with every write or delete."""


class Stories(Protocol):
    """Persisted stories: each document in exactly one, for good."""

    def unassigned_documents(self) -> list[int]:
        """Ids of the stored documents in no story yet."""
    def assign_stories(self, members: list[Membership], at: str) -> int:
        """Put documents into stories in one transaction (Conflict if one was placed meanwhile); how many."""
    def stories(self, sources: list[str] | None = None) -> list[StoryRow]:
        """Every story with its documents in scope `sources`."""
    def memberships(self, sources: list[str] | None = None) -> list[Membership]:
        """Every assigned document's story and profile, in scope `sources`."""


class Sources(Protocol):
    """Sources polled on a schedule and the log of ingest runs."""

    def add_source(self, kind: str, location: str, every_seconds: int, outlet: str | None = None) -> SourceRow:
        """Register a source (or change its kind, interval and, when given, its outlet name)."""
    def list_sources(self) -> list[SourceRow]:
        """Every registered source, oldest first."""
    def remove_source(self, ref: str) -> SourceRow | None:
        """Forget a source by id or location (its documents stay); what was removed."""
    def update_source(self, source_id: int, **fields: str | None) -> None:
        """Record a poll's etag, last_modified, last_polled or last_error."""
    def begin_run(self, trigger: str, inputs: list[str]) -> int:
        """Start an ingest run's record; its id."""
    def record_item(self, run_id: int, location: str, outcome: str, reason: str = "",
                    doc_id: int | None = None) -> None:
        """Record one input's outcome in a run."""
    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        """Close a run's record with its counts."""
    def run_items(self, run_id: int) -> list[dict[str, Any]]:
        """A run's per-item outcomes, in the order recorded."""


class Conversations(Protocol):
    """Chat records: answers and their feedback, chat events taken, conversation turns."""

    def save_answer(self, answer: Answer, channel: Channel | None) -> None:
        """Keep an answer so feedback can point at it."""
    def add_feedback(self, answer_id: str, user: str, helpful: bool) -> bool:
        """Record (or change) a user's vote; False when the answer is unknown."""
    def first_sight(self, platform: str, event_id: str, owner: str) -> bool:
        """Claim a chat event; True only for the first replica (and delivery) to see it."""
    def prune_events(self, before: str) -> int:
        """Forget events seen before an ISO time; how many."""
    def add_turn(self, conversation: str, turn: str) -> None:
        """Append one turn (JSON) to a conversation."""
    def recent_turns(self, conversation: str, limit: int) -> list[str]:
        """The last `limit` turns of a conversation, oldest first."""
    def prune_turns(self, before: str) -> int:
        """Forget turns older than an ISO time; how many."""


class Channels(Protocol):
    """What belongs to a chat channel: its source scope, digest subscriptions and claims, posted briefs."""

    def set_channel_sources(self, platform: str, channel: str, patterns: list[str]) -> None:
        """Limit a channel's answers and briefs to these source patterns ([] lifts the limit)."""
    def channel_sources(self, platform: str, channel: str) -> list[str]:
        """The channel's source patterns ([] means every source)."""
    def upsert_subscription(self, sub: Subscription) -> Subscription:
        """Create or replace a channel's digest subscription (paused when `sub.paused_at` is set), keeping its id."""
    def set_paused(self, subscription_id: int, paused_at: str | None,
                   forget_before: str | None = None) -> Subscription | None:
        """Pause a subscription as of an ISO time, or resume it (None), forgetting a last digest time before
        `forget_before` (so the next digest covers one cadence, not the whole pause); None when it is gone.

        A paused subscription keeps its row, last digest time and claims; the digest runner posts nothing for it."""
    def delete_subscriptions(self, platform: str, channel: str) -> int:
        """Remove a channel's subscriptions; how many."""
    def list_subscriptions(self, platform: str | None = None, channel: str | None = None) -> list[Subscription]:
        """Subscriptions, optionally of one platform or channel."""
    def last_digest_at(self, subscription_id: int) -> str | None:
        """When the subscription's last digest was posted (ISO), if ever."""
    def claim_slot(self, subscription_id: int, slot: str, owner: str, lease_seconds: int = 300,
                   max_attempts: int = 5) -> bool:
        """Claim a digest slot; True when this owner may post it now (once across replicas)."""
    def finish_claim(self, subscription_id: int, slot: str, owner: str, message_id: str | None,
                     error: str | None = None, digest_time: str | None = None) -> None:
        """Record a slot's delivery: posted (with the message id) or failed (retried later)."""
    def claims(self, subscription_id: int | None = None) -> list[dict[str, Any]]:
        """Claimed slots and their delivery outcome."""
    def save_brief(self, row: BriefRow) -> None:
        """Keep a posted brief or digest for its page and the channel's archive."""
    def prune_briefs(self, before: str) -> int:
        """Forget briefs and digests posted before an ISO time; how many."""
    def get_brief(self, brief_id: str) -> BriefRow | None:
        """A stored brief by id."""
    def list_briefs(self, platform: str, channel: str, kind: str | None = None, limit: int = 50) -> list[BriefRow]:
        """A channel's stored briefs (of `kind`), newest first."""


class Metrics(Protocol):
    """The LLM call log and the counters `usage` and /metrics report."""

    def log_llm_call(self, rec: dict[str, Any]) -> int:
        """One row per LLM call (prompt, model, tokens, latency, outcome); its id."""
    def llm_call_outcome(self, call_id: int, result: str, detail: str = "") -> None:
        """What became of a call's reply (verified, partly_dropped, fell_back, ...) and why."""
    def llm_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest calls, newest first."""
    def llm_structured(self, server: str) -> str | None:
        """The structured-output mode a server last answered with."""
    def llm_usage(self, since: str) -> list[dict[str, Any]]:
        """Calls, tokens and outcomes per model, purpose and result since an ISO time."""
    def feedback_counts(self) -> dict[str, int]:
        """Helpful and not-helpful votes so far."""
    def counters(self) -> Counters:
        """Documents, ingest outcomes, answers, LLM calls and digest posts, for /metrics."""


class Store(Documents, Vectors, Stories, Sources, Conversations, Channels, Metrics, Protocol):
    """The persistence seam: every role, plus opening, batching and checking. Every document write is one
    transaction."""

    def close(self) -> None:
        """Close every connection this store opened."""
    def batch(self) -> AbstractContextManager[None]:
        """Group many writes in one transaction (each document still all-or-nothing)."""
    def migrate(self) -> int:
        """Apply the migration steps this database lacks; how many steps the schema has."""
    def integrity_check(self) -> str:
        """'ok' when the database is sound, else what is wrong."""


__all__ = ["CallTotals", "Channels", "Conflict", "Conversations", "Counters", "DocumentRow", "Documents",
           "Membership", "Metrics", "NewDocument", "PassageHit", "QuoteRow", "SourceRow", "Sources", "Stories",
           "Store", "StoreError", "StoryRow", "Vectors", "in_scope", "scope_clause", "scope_likes"]
