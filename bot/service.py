"""The core the chat adapters call: ask, brief, digest subscriptions, feedback; and the grammar of its arguments
(times of day, time zones, cadences) that the core and the chat commands share.

Synchronous and free of any chat or LLM library; adapters translate events into these calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import Answer, Brief, BriefRow, Channel, Citation, Subscription
from bot.store.base import SourceRow

CADENCES = ("daily", "weekdays", "weekly")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


def parse_time_of_day(text: str) -> str:
    """'8:00', '08.00', '8h00' -> '08:00'; ValueError with a user-facing reason otherwise."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"“{_shown(text)}” is not a time of day: use 24-hour HH:MM, e.g. 08:00")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def parse_timezone(text: str) -> str:
    """An IANA zone name ('Europe/Berlin', 'UTC'); ValueError naming the input otherwise."""
    name = text.strip()
    if name.upper() in {"UTC", "GMT", "Z"}:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{_shown(text)}” is not a time zone I know: use a name like Europe/Berlin, "
                         "America/New_York or UTC") from None
    return name


def _shown(text: str, limit: int = 40) -> str:
    """User input as an error message quotes it: on one line, cut short."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class PageLinks(Protocol):
    """Signed links to the bot's own pages for a citation or a brief (bot.web.links.Linker implements it)."""

    def citation_url(self, c: Citation, channel: Channel) -> str:
        """The page showing a cited passage in its article, for readers in `channel`."""
        ...

    def brief_url(self, brief_id: str, channel: Channel) -> str:
        """The page of a posted brief or digest, for readers in `channel`."""
        ...


class Service(Protocol):
    """What Slack, Discord and the CLI chat can ask of the bot."""

    def document_count(self, channel: Channel | None = None) -> int:
        """How many stored documents a channel's questions search (for 'Searching 42 articles…')."""
        ...

    def ask(self, question: str, channel: Channel | None = None,
            on_partial: Callable[[str], None] | None = None, conversation: str | None = None, *,
            sources: list[str] | None = None, since: str | None = None) -> Answer:
        """Answer from stored documents; every claim cited and verified, the answer stored. Never raises for bad
        input. In a `conversation` (a thread, a DM), follow-ups are read in the light of its earlier turns.
        `sources` (patterns) and `since` (an ISO time) narrow what is searched where the channel has no scope."""
        ...

    def in_conversation(self, conversation: str) -> bool:
        """Whether the bot has answered in this conversation before."""
        ...

    def brief(self, topic: str | None = None, channel: Channel | None = None,
              since: str | None = None) -> Brief:
        """A brief of the stories stored (about `topic`, since an ISO time)."""
        ...

    def subscribe(self, channel: Channel, time_of_day: str, timezone: str, topic: str | None = None,
                  cadence: str = "daily", *, paused: bool = False) -> Subscription:
        """Create or replace the channel's digest (a paused one too; `paused` keeps it paused); raises ValueError
        with a user-facing reason."""
        ...

    def unsubscribe(self, channel: Channel) -> int:
        """Stop the channel's digests, paused ones too; returns how many were removed."""
        ...

    def subscriptions(self, channel: Channel) -> list[Subscription]:
        """The channel's running digests."""
        ...

    def paused_subscriptions(self, channel: Channel) -> list[Subscription]:
        """The channel's paused digests."""
        ...

    def pause(self, channel: Channel) -> list[Subscription]:
        """Pause the channel's digests: they keep their time, cadence and topic and post nothing until resumed.
        Returns those paused."""
        ...

    def resume(self, channel: Channel) -> list[Subscription]:
        """Resume the channel's paused digests from their next time; returns those resumed."""
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
