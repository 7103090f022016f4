"""The Service the adapters and the CLI chat use: answers, briefs, subscriptions, feedback, scoping.

Synchronous; owns no I/O beyond the store it is given. Backends are injected; no settings are read here.
Imports no adapter, HTTP or LLM library (tests/test_boundaries.py).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.answer import Answerer
from bot.config import MAX_POLL, duration_seconds, human_duration
from bot.conversation import MAX_TURNS, Turn, turns_from_rows
from bot.digest import LOOKBACK, keep_brief, skip_missed_slot
from bot.domain import Answer, Brief, BriefRow, Channel, Subscription
from bot.service import CADENCES, parse_time_of_day, parse_timezone
from bot.store.base import SourceRow, Store

__all__ = ["CADENCES", "CHAT_SOURCE_KIND", "Core", "parse_time_of_day", "parse_timezone"]

log = logging.getLogger("briefbot.core")

CHAT_SOURCE_KIND = "chat-url"  # sources a chat user added: fetched under the strict address policy
MIN_CHAT_POLL = 300  # seconds: a chat user cannot make the bot poll a site more often than this
MAX_URL = 2000  # characters of a source address from chat
MAX_TOPIC = 200  # characters of a digest topic from chat
UNSAVED_CONVERSATIONS = 1000  # conversations whose turns are held in memory while the store refuses them


def _log_store_error(what: str, error: Exception) -> None:
    log.error("could not store %s; carrying on without it", what, exc_info=error)


class Core:
    """The bot's core, as chat adapters see it (implements bot.service.Service)."""

    def __init__(self, store: Store, answerer: Answerer,
                 brief_builder: Callable[[str | None, list[str] | None, str | None], Brief] | None = None,
                 check_url: Callable[[str], None] | None = None, default_every: int = 1800,
                 on_store_error: Callable[[str, Exception], None] = _log_store_error,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.check_url = check_url
        self.default_every = default_every
        self.store = store
        self.answerer = answerer
        self.brief_builder = brief_builder
        # a failed write of an answer's record or a turn never loses the answer; who hears of it is the caller's
        # choice (the bot logs it, the CLI says it once)
        self.on_store_error = on_store_error
        self._unsaved: OrderedDict[str, list[str]] = OrderedDict()  # turns the store refused, by conversation
        self._unsaved_lock = threading.Lock()

    def scope(self, channel: Channel | None) -> list[str] | None:
        """The sources a channel may cite (None: all)."""
        if channel is None:
            return None
        return self.store.channel_sources(channel.platform, channel.channel) or None

    def document_count(self, channel: Channel | None = None) -> int:
        return self.store.count_documents(self.scope(channel))

    def ask(self, question: str, channel: Channel | None = None,
            on_partial: Callable[[str], None] | None = None, conversation: str | None = None, *,
            sources: list[str] | None = None, since: str | None = None) -> Answer:
        """Answer a question; in a `conversation` (a thread, a DM) follow-ups read the turns stored before.
        `sources` narrow the search only where the channel has no scope of its own: a user cannot widen one."""
        turns = self.turns(conversation) if conversation else []
        scope = self.scope(channel)
        ans = self.answerer.ask(question, sources=scope if scope is not None else sources or None, since=since,
                                on_partial=on_partial, turns=turns)
        if conversation and ans.turn is not None:
            self._keep_turn(conversation, json.dumps(ans.turn))
        ans.id = uuid.uuid4().hex[:12]
        try:
            self.store.save_answer(ans, channel)
        except Exception as e:  # losing the feedback link must not lose the answer
            self.on_store_error(f"answer {ans.id}", e)
        log.info("answered %s: found=%s backend=%s citations=%d", ans.id, ans.found, ans.backend, len(ans.citations))
        return ans

    def turns(self, conversation: str) -> list[Turn]:
        """The recent turns of a conversation (bounded: a 500-turn thread reads what an 8-turn one does)."""
        try:
            rows = self.store.recent_turns(conversation, MAX_TURNS)
        except Exception:
            log.exception("could not read conversation %s; answering without it", conversation[:80])
            rows = []
        with self._unsaved_lock:
            held = list(self._unsaved.get(conversation, []))
        return turns_from_rows((rows + held)[-MAX_TURNS:])

    def _keep_turn(self, conversation: str, turn: str) -> None:
        """Store a turn (after any the store refused before); while it refuses, they are held in memory, so the
        conversation goes on."""
        with self._unsaved_lock:
            pending = self._unsaved.pop(conversation, []) + [turn]
        try:
            while pending:
                self.store.add_turn(conversation, pending[0])
                pending.pop(0)
        except Exception as e:  # losing the context must not lose the answer
            self.on_store_error(f"a turn of conversation {conversation[:80]}", e)
            with self._unsaved_lock:
                self._unsaved[conversation] = pending[-MAX_TURNS:]
                while len(self._unsaved) > UNSAVED_CONVERSATIONS:
                    self._unsaved.popitem(last=False)

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
                  cadence: str = "daily", *, paused: bool = False) -> Subscription:
        """Create or replace the channel's digest (a paused one too, keeping its last digest time and claimed
        slots); `paused` keeps it paused, else it runs."""
        if cadence not in CADENCES:
            raise ValueError(f"“{cadence}” is not a cadence: use daily, weekdays or weekly")
        if topic and len(topic.strip()) > MAX_TOPIC:
            raise ValueError(f"that topic is {len(topic.strip()):,} characters long; keep it under {MAX_TOPIC}")
        paused_at = None
        if paused:  # a paused digest changed stays paused since it was paused
            paused_at = next((s.paused_at for s in self._all(channel) if s.paused_at), None) or self._now()
        sub = Subscription(id=0, platform=channel.platform, channel=channel.channel,
                           time_of_day=parse_time_of_day(time_of_day), timezone=parse_timezone(timezone),
                           cadence=cadence, topic=(topic or "").strip() or None, created_by=channel.user,
                           paused_at=paused_at)
        return self.store.upsert_subscription(sub)

    def unsubscribe(self, channel: Channel) -> int:
        return self.store.delete_subscriptions(channel.platform, channel.channel)

    def _all(self, channel: Channel) -> list[Subscription]:
        return self.store.list_subscriptions(channel.platform, channel.channel)

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def subscriptions(self, channel: Channel) -> list[Subscription]:
        """The channel's running digests."""
        return [s for s in self._all(channel) if s.paused_at is None]

    def paused_subscriptions(self, channel: Channel) -> list[Subscription]:
        """The channel's paused digests."""
        return [s for s in self._all(channel) if s.paused_at is not None]

    def pause(self, channel: Channel) -> list[Subscription]:
        """Pause the channel's digests, keeping their time, cadence, topic, last digest time and claimed slots;
        returns those paused."""
        at = self._now()
        paused = [p for s in self.subscriptions(channel) if (p := self.store.set_paused(s.id, at)) is not None]
        if paused:
            log.info("paused the digest of %s %s (by %s)", channel.platform, channel.channel, channel.user)
        return paused

    def resume(self, channel: Channel) -> list[Subscription]:
        """Resume the channel's paused digests from their next time (a time missed while paused is not posted
        late); returns those resumed."""
        resumed = []
        for s in self.paused_subscriptions(channel):
            now = self.clock()
            skip_missed_slot(self.store, s, now)  # while still paused: no runner posts it meanwhile
            # a digest after a long pause covers one cadence's news, not the whole pause
            forget = (now - LOOKBACK.get(s.cadence, timedelta(days=1))).astimezone(UTC).isoformat(timespec="seconds")
            if (r := self.store.set_paused(s.id, None, forget_before=forget)) is not None:
                resumed.append(r)
        if resumed:
            log.info("resumed the digest of %s %s (by %s)", channel.platform, channel.channel, channel.user)
        return resumed

    def add_source(self, channel: Channel, url: str, every: str | None = None) -> SourceRow:
        """Register a feed or page a chat user names; ValueError with a user-facing reason if refused.

        Only http(s) URLs: a chat user must never make the bot read the server's own files. The URL
        must pass the chat address policy (no loopback, private or link-local addresses unless the
        operator allows them), and it is polled under that same policy from then on.
        """
        url = url.strip().strip("<>").split("|", 1)[0]  # Slack wraps links as <url|label>
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
