"""The core the chat adapters call: ask, brief, digest subscriptions, feedback.

Synchronous and free of any chat or LLM library; adapters translate events into these calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.domain import Answer, Brief, BriefRow, Channel, Subscription
from bot.store.base import SourceRow


class Service(Protocol):
    """What Slack, Discord and the CLI chat can ask of the bot."""

    def document_count(self, channel: Channel | None = None) -> int:
        """How many stored documents a channel's questions search (for 'Searching 42 articles…')."""
        ...

    def ask(self, question: str, channel: Channel | None = None,
            on_partial: Callable[[str], None] | None = None, conversation: str | None = None) -> Answer:
        """Answer from stored documents; every claim cited and verified. Never raises for bad input.
        In a `conversation` (a thread, a DM), follow-ups are read in the light of its earlier turns."""
        ...

    def in_conversation(self, conversation: str) -> bool:
        """Whether the bot has answered in this conversation before."""
        ...

    def brief(self, topic: str | None = None, channel: Channel | None = None,
              since: str | None = None) -> Brief:
        """A brief of the stories stored (about `topic`, since an ISO time)."""
        ...

    def subscribe(self, channel: Channel, time_of_day: str, timezone: str, topic: str | None = None,
                  cadence: str = "daily") -> Subscription:
        """Create or replace the channel's digest; raises ValueError with a user-facing reason."""
        ...

    def unsubscribe(self, channel: Channel) -> int:
        """Stop the channel's digests; returns how many were removed."""
        ...

    def subscriptions(self, channel: Channel) -> list[Subscription]:
        """The channel's digests."""
        ...

    def add_source(self, channel: Channel, url: str, every: str | None = None) -> SourceRow:
        """Register a feed or page named in chat; ValueError with a user-facing reason if refused."""
        ...

    def list_sources(self) -> list[SourceRow]:
        """The registered sources."""
        ...

    def feedback(self, answer_id: str, channel: Channel, helpful: bool) -> None:
        """Record a helpful / not helpful vote on an answer."""
        ...

    def channel_scope(self, channel: Channel) -> list[str]:
        """The source patterns a channel's answers and digests are limited to ([]: every source)."""
        ...

    def latest_brief(self, channel: Channel) -> BriefRow | None:
        """The newest brief or digest posted to a channel."""
        ...
