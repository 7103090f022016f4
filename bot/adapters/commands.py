"""The chat commands on every platform: one grammar for /ask, /brief, /digest and /source, the calls they make to
the Service, and every reply text (help, greeting, thanks, errors, confirmations).

Imports bot.service and bot.domain only, no platform library. A platform gives its Dialect (how its users type the
commands, how its markup makes text bold, how it escapes what users wrote) and lays out the Reply.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain import Channel, Subscription
from bot.service import CADENCES, Service, parse_time_of_day

log = logging.getLogger("briefbot.commands")

ERROR = "Sorry — something went wrong on my side; the error was logged. Please try again."
THANKS = "Thanks — your feedback was recorded."
SHOWN = 80  # characters of a user's own input quoted back in a reply
MAX_SOURCES_SHOWN = 30
_OFF = {"off", "stop", "cancel"}
_STATUS = {"status", "list"}
_PAUSE = {"pause"}
_RESUME = {"resume", "unpause"}
_HELP = {"help", "?"}


@dataclass(frozen=True)
class Dialect:
    """How one platform writes the commands and marks text up."""

    escape: Callable[[str], str]  # what a user or an article wrote, made inert in this platform's markup
    bold: str  # a format with one {} for bold text: "*{}*" (Slack), "**{}**" (Discord)
    digest_set: str  # how a user types each command here, as help shows it
    digest_status: str
    digest_off: str
    source_add: str
    source_list: str
    digest_example: str  # a digest command with {time} and {timezone}
    help_command: str | None = None  # a command that shows the help, where the platform has one
    digest_pause: str = "/digest pause"
    digest_resume: str = "/digest resume"
    # how follow-ups in the bot's threads reach it: without a mention (Slack; Discord with the Message Content
    # intent) or only with one (Discord without it, which then cannot read the thread's other messages)
    follow_ups: str = "follow-ups there need no mention"


@dataclass(frozen=True)
class Reply:
    """What a command answers: text in the dialect's markup; `public` when it changed something the channel should
    see (Slack posts it in the channel; elsewhere only the user sees it)."""

    text: str
    public: bool = False


# ---- grammar --------------------------------------------------------------------------------------------------

def clean(text: str | None) -> str:
    """Text as a command reads it: control and invisible format characters gone, white space collapsed."""
    if not text:
        return ""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            kept.append(" ")  # tabs, newlines, NUL, escape sequences: a word break at most
        elif cat in {"Cf", "Co", "Cs", "Cn"} and ch != "\u200d":  # bidi overrides, zero-width, unassigned
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def shown(text: str, limit: int = SHOWN) -> str:
    """A user's input as a reply quotes it: cleaned and cut short."""
    text = clean(text)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def question(text: str | None) -> str:
    """The question of `/ask`, a mention or a DM ("" asks for help)."""
    return clean(text)


def topic(text: str | None) -> str | None:
    """The topic of `/brief` (None: every story)."""
    return clean(text) or None


def time_of_day(word: str) -> str | None:
    """'8:00', '08.00', '8h00' -> '08:00'; None when the word is not a time of day (the core's own grammar)."""
    try:
        return parse_time_of_day(word)
    except ValueError:
        return None


@dataclass(frozen=True)
class DigestRequest:
    """A /digest command as understood: `action` is set, off, status, pause, resume or help. A `problem` (no-time, bad-time,
    no-timezone, not-understood) refuses it before the core is asked; `said` is the input it is about."""

    action: str
    time: str = ""
    timezone: str = ""
    cadence: str = "daily"
    topic: str | None = None
    problem: str | None = None
    said: str = ""

    @classmethod
    def parse(cls, text: str | None) -> DigestRequest:
        """Typed words: `08:00 Europe/Berlin [daily|weekdays|weekly] [topic]`, `status`, `off`, `pause`, `resume`,
        `help`."""
        words = clean(text).split()
        if not words or words[0].lower() in _HELP:
            return cls("help")
        verb = words[0].lower()
        if verb in _OFF:
            return cls("off")
        if verb in _STATUS:
            return cls("status")
        if verb in _PAUSE:
            return cls("pause")
        if verb in _RESUME:
            return cls("resume")
        at = time_of_day(words[0])
        if at is None:
            if words[0][:1].isdigit():
                return cls("set", problem="bad-time", said=words[0])
            return cls("set", problem="not-understood", said=" ".join(words))
        if len(words) < 2:
            return cls("set", time=at, problem="no-timezone")
        rest = words[2:]
        cadence = rest.pop(0).lower() if rest and rest[0].lower() in CADENCES else "daily"
        return cls("set", time=at, timezone=words[1], cadence=cadence, topic=" ".join(rest) or None)

    @classmethod
    def from_options(cls, time: str | None, timezone: str | None, topic: str | None = None,
                     cadence: str | None = None, action: str | None = None) -> DigestRequest:
        """Named options, as a slash command with fields gives them (Discord's time:, timezone:, action:)."""
        if action in {"off", "status", "pause", "resume"}:
            return cls(action)
        if not clean(time):
            return cls("set", problem="no-time")
        at = time_of_day(clean(time))
        if at is None:
            return cls("set", problem="bad-time", said=clean(time))
        if not clean(timezone):
            return cls("set", time=at, problem="no-timezone")
        return cls("set", time=at, timezone=clean(timezone), cadence=cadence if cadence in CADENCES else "daily",
                   topic=clean(topic) or None)


@dataclass(frozen=True)
class SourceRequest:
    """A /source command as understood: `action` is add, list or help."""

    action: str
    url: str = ""
    every: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> SourceRequest:
        """Typed words: `add URL [every 30m]`, `URL [30m]`, `list`, `help`."""
        words = clean(text).split()
        if not words or words[0].lower() in _HELP:
            return cls("help")
        if words[0].lower() == "list":
            return cls("list")
        args = words[1:] if words[0].lower() == "add" else words
        if not args:
            return cls("add")
        every = args[2] if len(args) > 2 and args[1].lower() == "every" else (args[1] if len(args) > 1 else None)
        return cls("add", url=args[0], every=every)

    @classmethod
    def from_options(cls, url: str | None, every: str | None = None) -> SourceRequest:
        """Named options (Discord's url:, every:); no URL lists the sources."""
        return cls("add", url=clean(url), every=clean(every) or None) if clean(url) else cls("list")


# ---- replies --------------------------------------------------------------------------------------------------

def help_text(d: Dialect) -> str:
    """Everything the bot can do, as its users type it on this platform."""
    lines = [
        d.bold.format("briefbot") + " answers from the news articles it has stored, citing every claim.",
        f"• `@briefbot your question` in a channel (I answer in a thread; {d.follow_ups}), "
        "or just message me directly",
        "• `/ask your question` — a cited answer",
        "• `/brief [topic]` — a brief of the stored stories, optionally about a topic",
        f"• `{d.digest_set}` — a digest posted here every day",
        f"• `{d.digest_status}` — this channel's digests; `{d.digest_pause}` / `{d.digest_resume}` — pause and "
        f"resume them; `{d.digest_off}` — stop them",
        f"• `{d.source_add}` — watch a feed or page; `{d.source_list}` — what I read",
    ]
    if d.help_command:
        lines.append(f"• `{d.help_command}` — this list")
    return "\n".join(lines)


def greeting(d: Dialect) -> str:
    """What the bot says when it joins a channel."""
    more = f", or `{d.help_command}` for everything I can do" if d.help_command else ""
    return (f"Hello! I'm {d.bold.format('briefbot')}: I answer questions from the news articles I've stored, citing "
            "every claim, and I can post a digest here every day. Mention me with a question (I answer in a "
            f"thread), try `/brief`{more}.")


def describe_subscription(sub: Subscription, d: Dialect) -> str:
    """One digest as a sentence part: when, in which zone, about what."""
    when = {"daily": "every day", "weekdays": "on weekdays", "weekly": "every week"}.get(sub.cadence, sub.cadence)
    about = f" about “{d.escape(sub.topic)}”" if sub.topic else ""
    return f"{when} at {d.bold.format(d.escape(sub.time_of_day))} ({d.escape(sub.timezone)}){about}"


def every(seconds: int) -> str:
    """An interval as a person says it: 30 minutes, 2 hours, 1 day."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def _refusal(request: DigestRequest, d: Dialect) -> str:
    example = d.digest_example.format(time=request.time or "08:00", timezone="Europe/Berlin")
    if request.problem == "no-time":
        return f"Give a time for the digest, e.g. `{example}`, or use `{d.digest_status}` / `{d.digest_off}`."
    if request.problem == "no-timezone":
        return f"Add a timezone to the time, e.g. `{example}`."
    if request.problem == "bad-time":
        return f"“{d.escape(shown(request.said, 40))}” is not a time of day: use 24-hour HH:MM, e.g. `{example}`."
    return (f"I didn't understand “{d.escape(shown(request.said))}”. Use `{d.digest_set}`, `{d.digest_status}` or "
            f"`{d.digest_off}`.")


def digest(service: Service, where: Channel, request: DigestRequest, d: Dialect) -> Reply:
    """Run a /digest command: set, stop or show the channel's digest. ValueErrors of the core become the reply."""
    if request.action == "help":
        return Reply(help_text(d))
    if request.action == "off":
        n = service.unsubscribe(where)
        return Reply(f"Stopped this channel's digest{'s' if n != 1 else ''}." if n
                     else "This channel has no digest to stop.", public=bool(n))
    if request.action == "pause":
        if paused := service.pause(where):
            return Reply(f"Paused this channel's digest ({describe_subscription(paused[0], d)}): it keeps its time "
                         f"and topic and posts nothing until `{d.digest_resume}`.", public=True)
        if service.paused_subscriptions(where):
            return Reply(f"This channel's digest is already paused; `{d.digest_resume}` starts it again.")
        return Reply(f"This channel has no digest to pause. Set one with `{d.digest_set}`.")
    if request.action == "resume":
        if resumed := service.resume(where):
            return Reply(f"Resumed: this channel gets a brief {describe_subscription(resumed[0], d)} again, from "
                         "its next time.", public=True)
        if service.subscriptions(where):
            return Reply("This channel's digest is not paused.")
        return Reply(f"This channel has no paused digest. Set one with `{d.digest_set}`.")
    if request.action == "status":
        subs = service.subscriptions(where)
        paused = service.paused_subscriptions(where)
        if paused and not subs:
            return Reply("This channel's digest is paused: " + "; ".join(describe_subscription(s, d) for s in paused)
                         + f". `{d.digest_resume}` starts it again.")
        if not subs:
            return Reply(f"This channel has no digest. Set one with `{d.digest_set}`.")
        return Reply("This channel gets a digest " + "; and ".join(describe_subscription(s, d) for s in subs) + ".")
    if request.problem:
        return Reply(_refusal(request, d))
    try:
        sub = service.subscribe(where, request.time, request.timezone, request.topic, request.cadence)
    except ValueError as e:
        return Reply(d.escape(str(e)))
    return Reply(f"Digest set: this channel gets a brief {describe_subscription(sub, d)}. `{d.digest_off}` stops it.",
                 public=True)


def source(service: Service, where: Channel, request: SourceRequest, d: Dialect) -> Reply:
    """Run a /source command: add a feed or page (the core refuses what it must), or list the sources."""
    if request.action == "help":
        return Reply(f"`{d.source_add}` adds a feed or page to poll; `{d.source_list}` shows the sources.")
    if request.action == "list":
        rows = service.list_sources()
        if not rows:
            return Reply(f"No sources yet: `{d.source_add}`.")
        lines = [f"• {d.escape(s.location)}" for s in rows[:MAX_SOURCES_SHOWN]]
        if len(rows) > MAX_SOURCES_SHOWN:
            lines.append(f"…and {len(rows) - MAX_SOURCES_SHOWN} more")
        return Reply("Sources:\n" + "\n".join(lines))
    if not request.url:
        return Reply(f"Give a URL: `{d.source_add}`.")
    try:
        src = service.add_source(where, request.url, request.every)
    except ValueError as e:
        return Reply(d.escape(str(e)))
    return Reply(f"Added {d.escape(src.location)}: polled every {every(src.every_seconds)}.", public=True)


def feedback(service: Service, answer_id: str, where: Channel, helpful: bool) -> Reply:
    """Record a vote on an answer: thanks, or the error text when it could not be recorded."""
    try:
        service.feedback(answer_id, where, helpful)
    except Exception:
        log.exception("recording feedback on answer %s in %s failed", answer_id[:80], where.channel)
        return Reply(ERROR)
    return Reply(THANKS)
