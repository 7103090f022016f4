"""What every store implementation offers: rows, the interface, its errors, and the story records both share.

Imports only the domain; the stores live beside it.
"""

from __future__ import annotations

import functools
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Answer, BriefRow, Channel, Document, Passage, Quote, Subscription


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


# Story reads, the same SQL on both stores; {where} comes from scope_clause.
UNASSIGNED_SQL = ("SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM story_documents m WHERE m.doc_id = d.id)"
                  " ORDER BY id")
STORIES_SQL = ("SELECT s.id, s.first_seen, s.last_seen, s.updated_at, m.doc_id FROM stories s"
               " JOIN story_documents m ON m.story_id = s.id JOIN documents d ON d.id = m.doc_id"
               " WHERE {where} ORDER BY s.id, COALESCE(d.published, d.fetched), d.id")
MEMBERSHIPS_SQL = ("SELECT m.doc_id, m.story_id, m.profile, COALESCE(d.published, d.fetched) AS seen"
                   " FROM story_documents m JOIN documents d ON d.id = m.doc_id WHERE {where} ORDER BY m.doc_id")


def story_rows(rows: Any) -> list[StoryRow]:
    """Stories from STORIES_SQL's rows, grouped by story id."""
    out: dict[int, StoryRow] = {}
    for r in rows:
        s = out.get(r["id"])
        if s is None:
            s = out[r["id"]] = StoryRow(r["id"], r["first_seen"], r["last_seen"], r["updated_at"])
        s.doc_ids.append(r["doc_id"])
    return list(out.values())


class StoryRecords:
    """Persisted stories on both stores: the same SQL through each one's connection and placeholder,
    and each dialect's insert-if-absent in `_write_members`."""

    MARK = "?"

    def _conn(self) -> Any:
        raise NotImplementedError  # provided by the store

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError  # provided by the store

    def _write_members(self, tx: Any, members: list[Membership], story_ids: list[int], at: str) -> int:
        """Insert the stories (if absent), the memberships (if absent), refresh the stories' times; how many joined."""
        raise NotImplementedError  # provided by the store

    def assign_stories(self, members: list[Membership], at: str) -> int:
        """Put documents into stories in one transaction, starting the stories they name; returns how many.

        A document already in a story never moves: if any of `members` is (another process won the
        race), nothing is written and Conflict is raised, so the caller recomputes from what is stored.
        """
        if not members:
            return 0
        with self._tx() as tx:
            n = self._write_members(tx, members, sorted({m.story_id for m in members}), at)
            if n != len(members):
                raise Conflict(f"{len(members) - n} of {len(members)} documents were put into stories meanwhile")
        return n

    def unassigned_documents(self) -> list[int]:
        """Ids of the stored documents in no story yet."""
        return [r["id"] for r in self._conn().execute(UNASSIGNED_SQL)]

    def stories(self, sources: list[str] | None = None) -> list[StoryRow]:
        """Every story with its documents in scope `sources` (all when None)."""
        where, args = scope_clause("d.location", sources, self.MARK)
        return story_rows(self._conn().execute(STORIES_SQL.format(where=where), args))

    def memberships(self, sources: list[str] | None = None) -> list[Membership]:
        """Every assigned document's story and profile (those in scope `sources`)."""
        where, args = scope_clause("d.location", sources, self.MARK)
        return [Membership(r["doc_id"], r["story_id"], r["profile"], r["seen"] or "")
                for r in self._conn().execute(MEMBERSHIPS_SQL.format(where=where), args)]


BRIEF_COLUMNS = "id, platform, channel, kind, topic, created, body"


def _brief_row(r: Any) -> BriefRow:
    return BriefRow(*(r[name.strip()] for name in BRIEF_COLUMNS.split(",")))


class BriefRecords:
    """Posted briefs on both stores: the same SQL through each one's connection and placeholder."""

    MARK = "?"

    def _conn(self) -> Any:
        raise NotImplementedError  # provided by the store

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError  # provided by the store

    def save_brief(self, row: BriefRow) -> None:
        """Keep a posted brief for its page and the channel's archive."""
        m = self.MARK
        with self._tx() as tx:
            tx.execute(f"INSERT INTO briefs ({BRIEF_COLUMNS}) VALUES ({','.join([m] * 7)})",
                       (row.id, row.platform, row.channel, row.kind, row.topic, row.created, row.body))

    def get_brief(self, brief_id: str) -> BriefRow | None:
        """A stored brief by id."""
        r = self._conn().execute(f"SELECT {BRIEF_COLUMNS} FROM briefs WHERE id = {self.MARK}", (brief_id,)).fetchone()
        return _brief_row(r) if r else None

    def list_briefs(self, platform: str, channel: str, kind: str | None = None, limit: int = 50) -> list[BriefRow]:
        """A channel's stored briefs (of `kind`, when given), newest first."""
        m = self.MARK
        sql = f"SELECT {BRIEF_COLUMNS} FROM briefs WHERE platform = {m} AND channel = {m}"
        args: list[Any] = [platform, channel]
        if kind:
            sql += f" AND kind = {m}"
            args.append(kind)
        sql += f" ORDER BY created DESC, id LIMIT {int(limit)}"
        return [_brief_row(r) for r in self._conn().execute(sql, args).fetchall()]


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scope_likes(pattern: str) -> list[tuple[str, bool]]:
    """The LIKE patterns (escaped) of the document locations a scope pattern names — a source's identity, never
    any text that happens to contain it — each with whether it applies to files only (not to http(s) URLs):

    - an absolute path or a URL names itself and what lies under it ("/data/news", "https://example.com/feed");
    - a relative path or a file name names the files whose path passes through it or ends with it, by whole
      components ("corpus/bbc", "harbour-strike-gazette.txt", or without its extension), never a URL that
      carries it in its path or query;
    - a host name names the pages of that site and its subdomains ("example.com");
    - "~name" (made by the answerer for "according to the Gazette", never taken from a user) any location that
      holds the name.
    """
    p = pattern.strip().rstrip("/")
    if p.startswith("~"):
        return [("%" + _escape_like(p[1:]) + "%", False)] if len(p) > 1 else []
    if not p:
        return []
    e = _escape_like(p)
    if p.startswith("/") or "://" in p:
        return [(e, False), (e + "/%", False)]
    files = [e, f"{e}/%", f"%/{e}", f"%/{e}/%"]
    if "/" not in p and "." not in p:  # a file name without its extension ("harbour-strike-courier")
        files += [f"{e}.%", f"%/{e}.%"]
    out = [(f, True) for f in files]
    if "/" not in p and "." in p:  # "example.com": the site's pages
        out += [(f"{scheme}://{sub}{e}{rest}", False) for scheme in ("http", "https") for sub in ("", "%.")
                for rest in ("", "/%")]
    return out


def scope_clause(column: str, patterns: list[str] | None, mark: str) -> tuple[str, list[str]]:
    """SQL that is true when `column` (a document location) is in one of the scope `patterns` (all when none),
    and its args; `mark` is the dialect's placeholder."""
    if not patterns:
        return "1=1", []
    likes = [x for p in patterns for x in scope_likes(p)]
    if not likes:
        return "1=0", []
    files = [like for like, f in likes if f]
    other = [like for like, f in likes if not f]
    ors = [f"{column} LIKE {mark} ESCAPE '\\'" for _ in other]
    if files:
        ors.append(f"({column} NOT LIKE {mark} AND (" +
                   " OR ".join(f"{column} LIKE {mark} ESCAPE '\\'" for _ in files) + "))")
    return "(" + " OR ".join(ors) + ")", other + (["http%://%"] + files if files else [])


def in_scope(location: str, patterns: list[str] | None) -> bool:
    """The same test as scope_clause, in Python (case-insensitive like SQLite's LIKE)."""
    if not patterns:
        return True
    web = bool(re.match(r"https?://", location, re.IGNORECASE))
    return any(_like_regex(like).fullmatch(location) for p in patterns for like, files in scope_likes(p)
               if not (files and web))


@functools.lru_cache(maxsize=1024)
def _like_regex(like: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(like):
        c = like[i]
        if c == "\\" and i + 1 < len(like):
            out.append(re.escape(like[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


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
    def speaker_names(self, limit: int = 50_000) -> list[str]: ...
    def terms_like(self, prefix: str, limit: int = 2000) -> list[str] | None: ...
    def count_matches(self, match: str) -> int: ...
    def document_text(self, doc_id: int) -> str: ...
    def documents_by_id(self, ids: list[int]) -> dict[int, Document]: ...

    # stories: each document in exactly one, for good
    def unassigned_documents(self) -> list[int]: ...
    def assign_stories(self, members: list[Membership], at: str) -> int: ...
    def stories(self, sources: list[str] | None = None) -> list[StoryRow]: ...
    def memberships(self, sources: list[str] | None = None) -> list[Membership]: ...

    # passage vectors (bot.embed): pending passages, batches written, chunks read, a change signature
    def unembedded_passages(self, model: str, limit: int, after: int = 0) -> list[tuple[int, str]]: ...
    def count_unembedded(self, model: str) -> int: ...
    def put_vectors(self, model: str, rows: list[tuple[int, bytes]], texts: list[str] | None = None) -> int: ...
    def lead_vectors(self, doc_ids: list[int], passages: int) -> list[tuple[int, str, bytes]]: ...
    def passage_vectors(self, model: str, after: int = 0,
                        limit: int = 10_000) -> list[tuple[int, int, int, int, bytes]]: ...
    def vector_seqs(self, model: str) -> list[int]: ...
    def vectors_for(self, model: str, passage_ids: list[int]) -> list[tuple[int, int, int, bytes]]: ...
    def vector_state(self, model: str) -> tuple[int, int]: ...

    # search
    def search_passages(self, match: str, limit: int = 20, sources: list[str] | None = None,
                        since: str | None = None) -> list[PassageHit]: ...
    def quotes(self, speaker_like: str | None = None, source: str | None = None,
               limit: int | None = None, about: list[str] | None = None,
               role_like: str | None = None, doc_ids: list[int] | None = None) -> list[QuoteRow]: ...

    # sources
    def add_source(self, kind: str, location: str, every_seconds: int, outlet: str | None = None) -> SourceRow: ...
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
    def log_llm_call(self, rec: dict[str, Any]) -> int: ...
    def llm_call_outcome(self, call_id: int, result: str, detail: str = "") -> None: ...
    def llm_calls(self, limit: int = 20) -> list[dict[str, Any]]: ...
    def llm_structured(self, server: str) -> str | None: ...
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

    # conversations: turns of a thread, a DM or a CLI chat, oldest first
    def add_turn(self, conversation: str, turn: str) -> None: ...
    def recent_turns(self, conversation: str, limit: int) -> list[str]: ...
    def prune_turns(self, before: str) -> int: ...

    # per-channel source scoping
    def set_channel_sources(self, platform: str, channel: str, patterns: list[str]) -> None: ...
    def channel_sources(self, platform: str, channel: str) -> list[str]: ...

    # posted briefs and digests, for their pages and a channel's archive
    def save_brief(self, row: BriefRow) -> None: ...
    def get_brief(self, brief_id: str) -> BriefRow | None: ...
    def list_briefs(self, platform: str, channel: str, kind: str | None = None, limit: int = 50) -> list[BriefRow]: ...
