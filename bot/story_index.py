"""The persisted story index: assigns stored documents not yet in a story, and reads stories back.

Orchestration only (store in, store out); the grouping itself is bot.stories' pure `assign`.
Imports no settings and no chat or LLM library.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from bot.embed import decode_vectors
from bot.store.base import Conflict, Documents, Membership, Stories, StoryRow
from bot.store.base import Vectors as StoredVectors
from bot.stories import JOIN_SIMILARITY, LEAD_PASSAGES, LeadVector, Profile, Story, Vectors, assign, centroid, profile

log = logging.getLogger("briefbot.stories")

ATTEMPTS = 5  # a replica that loses an assignment race recomputes from what the winner stored


class StoryStore(Stories, Documents, StoredVectors, Protocol):
    """What the story index and briefs read and write: stories, the documents and quotes in them, their leads'
    vectors."""


class StoryIndex:
    """Every stored document in exactly one persisted story; new documents join lazily, before a read."""

    def __init__(self, store: StoryStore, clock: Callable[[], datetime] | None = None,
                 threshold: float = JOIN_SIMILARITY, meaning: bool = True) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.threshold = threshold
        self.meaning = meaning  # compare embedded leads too (False: names, terms and dates only)

    def catch_up(self) -> int:
        """Assign every document that is in no story yet; returns how many (one query when none is new)."""
        for _ in range(ATTEMPTS):
            new_ids = self.store.unassigned_documents()
            if not new_ids:
                return 0
            # the clock before the read: a document assigned now was stored no later than this time
            at = self.clock().isoformat(timespec="seconds")
            docs = self.store.documents_by_id(new_ids)
            new = [profile(d) for d in docs.values()]
            existing = [(_profile(m), m.story_id) for m in self.store.memberships()]
            story_of = assign(existing, new, self.threshold, meaning=Leads(self.store) if self.meaning else None)
            members = [Membership(p.doc_id, story_of[p.doc_id], p.dumps()) for p in new]
            try:
                n = self.store.assign_stories(members, at)
            except Conflict as e:
                log.info("story assignment raced another process (%s); recomputing", e)
                continue
            log.info("assigned %d documents to stories (%d new stories)", n,
                     sum(1 for p in new if story_of[p.doc_id] == p.doc_id))
            return n
        raise Conflict(f"story assignment lost {ATTEMPTS} races in a row; try again")

    def rows(self, sources: list[str] | None = None) -> list[StoryRow]:
        """The stories a scope may see, after assigning what is new."""
        self.catch_up()
        return self.store.stories(sources)

    def load(self, rows: list[StoryRow]) -> list[Story]:
        """Stories with their documents (and passages), in the order of `rows`."""
        docs = self.store.documents_by_id([i for r in rows for i in r.doc_ids])
        return [Story(id=r.id, documents=[docs[i] for i in r.doc_ids if i in docs], updated_at=r.updated_at)
                for r in rows]

    def add_vectors(self, stories: list[Story], sources: list[str] | None = None) -> None:
        """Set each story's term vector, with IDF over the documents the scope may see."""
        if not stories:
            return
        profiles = {m.doc_id: _profile(m) for m in self.store.memberships(sources)}
        vec = Vectors(profiles.values())
        for s in stories:
            s.vector = centroid(vec(profiles[d.id]) for d in s.documents if d.id in profiles)


class Leads:
    """What stored documents' leads mean: the unit mean of the stored vectors of their first passages, all of one
    model (the one the first documents looked up have most vectors of: two models' vectors do not compare)."""

    def __init__(self, store: StoredVectors) -> None:
        self.store = store
        self.model: str | None = None

    def __call__(self, doc_ids: list[int]) -> dict[int, LeadVector]:
        rows = self.store.lead_vectors(doc_ids, LEAD_PASSAGES)
        if self.model is None and rows:
            self.model = Counter(m for _, m, _ in rows).most_common(1)[0][0]
        blobs: dict[int, list[bytes]] = defaultdict(list)
        for doc_id, model, blob in rows:
            if model == self.model:
                blobs[doc_id].append(blob)
        out: dict[int, LeadVector] = {}
        for doc_id, bs in blobs.items():
            q, scale = decode_vectors(bs, len(bs[0]) - 4)
            v = (q.astype(np.float32) * scale[:, None]).mean(axis=0)
            norm = float(np.linalg.norm(v))
            if norm > 0:
                out[doc_id] = v / norm
        return out


def _profile(m: Membership) -> Profile:
    return Profile.loads(m.doc_id, m.when, m.profile)
