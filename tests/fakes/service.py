"""The one stand-in for the core in adapter tests that must observe what the adapter asked (which question, in
which channel and conversation, on which thread, how often) or make the core slow or fail.

Every other adapter test drives the real Core on a store in tmp_path (tests.conftest.chat_core).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.domain import Answer, Brief, BriefRow, Channel, Subscription
from bot.store.base import SourceRow


class Call:
    """One call the adapter made: the method, its arguments, the channel, and the thread it ran on."""

    def __init__(self, name: str, args: tuple[Any, ...], channel: Channel | None, conversation: str | None = None):
        self.name, self.args, self.channel, self.conversation = name, args, channel, conversation
        self.thread = threading.current_thread().name

    def __repr__(self) -> str:
        return f"Call({self.name!r}, {self.args!r}, {self.channel!r})"


class FakeService:
    """Implements bot.service.Service with canned replies and records every call.

    `answer` builds the reply to a question; `gate` (an Event) holds ask() until it is set; `delay` slows it;
    `partials` streams (clock time, text) pairs through on_partial, moving `clock` to each time; `error` makes
    every call raise; `brief_of` builds the brief; `known_conversations` are threads another replica answered in.
    """

    def __init__(self, answer: Callable[[str], Answer], brief_of: Callable[[str | None], Brief] | None = None) -> None:
        self.answer = answer
        self.brief_of = brief_of or (lambda topic: Brief(stories=[], generated_at="2026-01-01T08:00:00Z"))
        self.calls: list[Call] = []
        self.gate: threading.Event | None = None
        self.delay = 0.0
        self.partials: list[tuple[float, str]] = []
        self.clock: list[float] | None = None
        self.error: Exception | None = None
        self.known_conversations: set[str] = set()
        self.asked = threading.Event()

    def _record(self, name: str, *args: Any, channel: Channel | None = None, conversation: str | None = None) -> None:
        self.calls.append(Call(name, args, channel, conversation))
        if self.error is not None:
            raise self.error

    def of(self, name: str) -> list[Call]:
        """The calls of one method, in order."""
        return [c for c in self.calls if c.name == name]

    def questions(self) -> list[str]:
        """Every question asked, in order."""
        return [c.args[0] for c in self.of("ask")]

    def document_count(self, channel: Channel | None = None) -> int:
        self.calls.append(Call("document_count", (), channel))
        return 42

    def ask(self, question: str, channel: Channel | None = None, on_partial: Callable[[str], None] | None = None,
            conversation: str | None = None, *, sources: list[str] | None = None, since: str | None = None) -> Answer:
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        time.sleep(self.delay)  # a slow model: what the adapter does meanwhile is under test
        for at, text in self.partials:
            if self.clock is not None:
                self.clock[0] = at
            if on_partial:
                on_partial(text)
        self.asked.set()
        self._record("ask", question, channel=channel, conversation=conversation)
        return self.answer(question)

    def in_conversation(self, conversation: str) -> bool:
        return conversation in self.known_conversations

    def brief(self, topic: str | None = None, channel: Channel | None = None, since: str | None = None) -> Brief:
        self._record("brief", topic, since, channel=channel)
        return self.brief_of(topic)

    def subscribe(self, channel: Channel, time_of_day: str, timezone: str, topic: str | None = None,
                  cadence: str = "daily", *, paused: bool = False) -> Subscription:
        self._record("subscribe", time_of_day, timezone, topic, cadence, channel=channel)
        return Subscription(1, channel.platform, channel.channel, time_of_day, timezone, cadence, topic, channel.user)

    def unsubscribe(self, channel: Channel) -> int:
        self._record("unsubscribe", channel=channel)
        return 0

    def subscriptions(self, channel: Channel) -> list[Subscription]:
        self._record("subscriptions", channel=channel)
        return []

    def paused_subscriptions(self, channel: Channel) -> list[Subscription]:
        self._record("paused_subscriptions", channel=channel)
        return []

    def pause(self, channel: Channel) -> list[Subscription]:
        self._record("pause", channel=channel)
        return []

    def resume(self, channel: Channel) -> list[Subscription]:
        self._record("resume", channel=channel)
        return []

    def add_source(self, channel: Channel, url: str, every: str | None = None) -> SourceRow:
        self._record("add_source", url, every, channel=channel)
        raise ValueError("adding sources from chat is not enabled on this bot")

    def list_sources(self) -> list[SourceRow]:
        self._record("list_sources")
        return []

    def feedback(self, answer_id: str, channel: Channel, helpful: bool) -> None:
        self._record("feedback", answer_id, helpful, channel=channel)

    def channel_scope(self, channel: Channel) -> list[str]:
        return []

    def latest_brief(self, channel: Channel) -> BriefRow | None:
        return None
