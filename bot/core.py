"""The Service the adapters and the CLI chat use: answers, briefs, subscriptions, feedback, scoping.

Synchronous; owns no I/O beyond the store it is given. Backends are injected.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.answer import Answerer
from bot.conversation import MAX_TURNS, Turn, turns_from_rows
from bot.digest import keep_brief
from bot.domain import Answer, Brief, BriefRow, Channel, Subscription
from bot.store.base import SourceRow, Store

log = logging.getLogger("briefbot.core")

CADENCES = ("daily", "weekdays", "weekly")
CHAT_SOURCE_KIND = "chat-url"  # sources a chat user added: fetched under the strict address policy
MIN_CHAT_POLL = 300  # seconds: a chat user cannot make the bot poll a site more often than this
MAX_URL = 2000  # characters of a source address from chat
MAX_TOPIC = 200  # characters of a digest topic from chat
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


def parse_time_of_day(text: str) -> str:
    """'8:00', '08.00', '8h00' -> '08:00'; ValueError with a user-facing reason otherwise."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"“{text}” is not a time of day: use 24-hour HH:MM, e.g. 08:00")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def parse_timezone(text: str) -> str:
    """An IANA zone name ('Europe/Berlin', 'UTC'); ValueError naming the input otherwise."""
    name = text.strip()
    if name.upper() in {"UTC", "GMT", "Z"}:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{text}” is not a time zone I know: use a name like Europe/Berlin, America/New_York "
                         "or UTC") from None
    return name


class Core:
    """The bot's core, as chat adapters see it (implements bot.service.Service)."""

    def __init__(self, store: Store, answerer: Answerer,
                 brief_builder: Callable[[str | None, list[str] | None, str | None], Brief] | None = None,
                 check_url: Callable[[str], None] | None = None, default_every: int = 1800) -> None:
        self.check_url = check_url
        self.default_every = default_every
        self.store = store
        self.answerer = answerer
        self.brief_builder = brief_builder

    def scope(self, channel: Channel | None) -> list[str] | None:
        """The sources a channel may cite (None: all)."""
        if channel is None:
            return None
        return self.store.channel_sources(channel.platform, channel.channel) or None

    def document_count(self, channel: Channel | None = None) -> int:
        return self.store.count_documents(self.scope(channel))

    def ask(self, question: str, channel: Channel | None = None,
            on_partial: Callable[[str], None] | None = None, conversation: str | None = None) -> Answer:
        """Answer a question; in a `conversation` (a thread, a DM) follow-ups read the turns stored before."""
        turns = self.turns(conversation) if conversation else []
        ans = self.answerer.ask(question, sources=self.scope(channel), on_partial=on_partial, turns=turns)
        if conversation and ans.turn is not None:
            try:
                self.store.add_turn(conversation, json.dumps(ans.turn))
            except Exception:  # losing the context must not lose the answer
                log.exception("could not store a turn of conversation %s", conversation[:80])
        ans.id = uuid.uuid4().hex[:12]
        try:
            self.store.save_answer(ans, channel)
        except Exception:  # losing the feedback link must not lose the answer
            log.exception("could not save answer %s", ans.id)
        log.info("answered %s: found=%s backend=%s citations=%d", ans.id, ans.found, ans.backend, len(ans.citations))
        return ans

    def turns(self, conversation: str) -> list[Turn]:
        """The recent turns of a conversation (bounded: a 500-turn thread reads what an 8-turn one does)."""
        try:
            return turns_from_rows(self.store.recent_turns(conversation, MAX_TURNS))
        except Exception:
            log.exception("could not read conversation %s; answering without it", conversation[:80])
            return []

    def in_conversation(self, conversation: str) -> bool:
        """Whether the bot has answered in this conversation before (a thread it should keep following)."""
        try:
            return bool(self.store.recent_turns(conversation, 1))
        except Exception:
            log.exception("could not read conversation %s", conversation[:80])
            return False

    def brief(self, topic: str | None = None, channel: Channel | None = None, since: str | None = None) -> Brief:
        if self.brief_builder is None:
            return Brief(stories=[], generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                         note="briefs are not available in this build")
        brief = self.brief_builder(topic, self.scope(channel), since)
        if channel is not None and channel.platform != "cli" and brief.stories:
            keep_brief(self.store, brief, channel, "brief", topic)
        return brief

    def subscribe(self, channel: Channel, time_of_day: str, timezone: str, topic: str | None = None,
                  cadence: str = "daily") -> Subscription:
        if cadence not in CADENCES:
            raise ValueError(f"“{cadence}” is not a cadence: use daily, weekdays or weekly")
        if topic and len(topic.strip()) > MAX_TOPIC:
            raise ValueError(f"that topic is {len(topic.strip()):,} characters long; keep it under {MAX_TOPIC}")
        sub = Subscription(id=0, platform=channel.platform, channel=channel.channel,
                           time_of_day=parse_time_of_day(time_of_day), timezone=parse_timezone(timezone),
                           cadence=cadence, topic=(topic or "").strip() or None, created_by=channel.user)
        return self.store.upsert_subscription(sub)

    def unsubscribe(self, channel: Channel) -> int:
        return self.store.delete_subscriptions(channel.platform, channel.channel)

    def subscriptions(self, channel: Channel) -> list[Subscription]:
        return self.store.list_subscriptions(channel.platform, channel.channel)

    def add_source(self, channel: Channel, url: str, every: str | None = None) -> SourceRow:
        """Register a feed or page a chat user names; ValueError with a user-facing reason if refused.

        Only http(s) URLs: a chat user must never make the bot read the server's own files. The URL
        must pass the chat address policy (no loopback, private or link-local addresses unless the
        operator allows them), and it is polled under that same policy from then on.
        """
        url = url.strip().strip("<>").split("|", 1)[0]  # Slack wraps links as <url|label>
        from bot.config import MAX_POLL, duration_seconds, human_duration

        seconds = duration_seconds(every) if every else self.default_every
        if seconds is None:
            raise ValueError(f"“{str(every)[:40]}” is not an interval: use e.g. 30m, 2h or 1d")
        if seconds < MIN_CHAT_POLL:
            raise ValueError(f"poll at most every {MIN_CHAT_POLL // 60} minutes (e.g. 5m, 30m, 2h)")
        if seconds > MAX_POLL:
            raise ValueError(f"“{str(every)[:40]}” is too long: poll at least every {human_duration(MAX_POLL)} "
                             "(e.g. 1d, 1w)")
        if len(url) > MAX_URL:
            raise ValueError(f"that address is {len(url):,} characters long; the longest I take is {MAX_URL:,}")
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"“{url[:80]}” is not a web address: give an http(s) URL of a feed or a page")
        if self.check_url is None:
            raise ValueError("adding sources from chat is not enabled on this bot")
        taken = next((s for s in self.store.list_sources() if s.location == url), None)
        if taken is not None and taken.kind != CHAT_SOURCE_KIND:
            # the operator's sources are theirs: chat may neither re-poll them faster nor make them "untrusted"
            raise ValueError(f"{url[:200]} is already a source the bot's operator added (a {taken.kind}, polled every "
                             f"{_every(taken.every_seconds)}); it stays as it is. Ask the operator to change it.")
        try:
            self.check_url(url)
        except ValueError as e:
            log.warning("refused source %s from %s %s: %s", url[:200], channel.platform, channel.channel, e)
            raise ValueError(f"I can't add {url[:200]}: {e}") from None
        return self.store.add_source(CHAT_SOURCE_KIND, url, seconds)

    def list_sources(self) -> list[SourceRow]:
        """The registered sources."""
        return self.store.list_sources()

    def channel_scope(self, channel: Channel) -> list[str]:
        """The source patterns a channel is limited to ([]: every source)."""
        return self.store.channel_sources(channel.platform, channel.channel)

    def latest_brief(self, channel: Channel) -> BriefRow | None:
        """The newest brief or digest posted to a channel."""
        rows = self.store.list_briefs(channel.platform, channel.channel, limit=1)
        return rows[0] if rows else None

    def feedback(self, answer_id: str, channel: Channel, helpful: bool) -> None:
        if not self.store.add_feedback(answer_id, channel.user or "", helpful):
            log.warning("feedback for unknown answer %s", answer_id)


def _every(seconds: int) -> str:
    """An interval as a person says it: 30 minutes, 2 hours, 1 day."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"
