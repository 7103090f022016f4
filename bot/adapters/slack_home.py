"""Slack's App Home tab (what the bot is, the user's channels' digests and scopes with buttons to change, pause,
resume or stop a digest, the latest brief), the form that changes a digest, and the greeting when the bot joins a
channel.

Listeners of the SlackBot that registers it, and their Block Kit layout; calls the core only through its Service.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.adapters import commands
from bot.adapters import slack_render as render
from bot.domain import BriefRow, Channel, Subscription
from bot.service import CADENCES, parse_timezone

if TYPE_CHECKING:
    from bot.adapters.slack import SlackBot

log = logging.getLogger("briefbot.slack")

HOME_DIGEST_OFF = "home_digest_off"
HOME_DIGEST_PAUSE = "home_digest_pause"
HOME_DIGEST_RESUME = "home_digest_resume"
HOME_DIGEST_EDIT = "home_digest_edit"  # opens the form
DIGEST_FORM = "home_digest_form"  # the form's callback id
HOME_CHANNELS = 20  # channels the Home tab lists (a view holds 100 blocks; each channel takes two)
MAX_TOPIC = 200  # characters of a topic the form takes (the core refuses longer ones)
_CADENCE_LABELS = {"daily": "Every day", "weekdays": "On weekdays", "weekly": "Every week (Mondays)"}


@dataclass(frozen=True)
class HomeChannel:
    """One of the user's channels as the Home tab shows it."""

    channel: str
    digests: list[Subscription] = field(default_factory=list)
    paused: list[Subscription] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _button(action_id: str, label: str, channel_id: str, style: str | None = None,
            confirm: tuple[str, str, str] | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "action_id": action_id, "value": channel_id[:2000], "text": _plain(label)}
    if style:
        b["style"] = style
    if confirm:
        title, text, yes = confirm
        b["confirm"] = {"title": _plain(title), "text": _plain(text), "confirm": _plain(yes), "deny": _plain("Keep it")}
    return b


def _channel_blocks(c: HomeChannel) -> list[dict[str, Any]]:
    where = f"<#{render.escape(c.channel)}>"
    if c.digests:
        head = f"{where}: " + "; ".join(render.render_subscription(s) for s in c.digests)
    elif c.paused:
        head = f"{where}: *paused* — " + "; ".join(render.render_subscription(s) for s in c.paused)
    else:
        head = f"{where}: no digest"
    scope = "Sources: " + (", ".join(f"`{render.escape(p)}`" for p in c.scope) if c.scope else "all stored articles")
    blocks: list[dict[str, Any]] = [{"type": "section",
                                     "text": {"type": "mrkdwn", "text": f"{head}\n{scope}"[:render.MAX_SECTION]}}]
    stop = _button(HOME_DIGEST_OFF, "Stop", c.channel, "danger",
                   ("Stop this digest?", "The channel gets no more digests until someone sets one again.", "Stop it"))
    if c.digests:
        buttons = [_button(HOME_DIGEST_EDIT, "Change", c.channel), _button(HOME_DIGEST_PAUSE, "Pause", c.channel), stop]
    elif c.paused:
        buttons = [_button(HOME_DIGEST_EDIT, "Change", c.channel),
                   _button(HOME_DIGEST_RESUME, "Resume", c.channel, "primary"), stop]
    else:
        buttons = [_button(HOME_DIGEST_EDIT, "Set a digest", c.channel)]
    blocks.append({"type": "actions", "block_id": f"home:{c.channel}"[:255], "elements": buttons})
    return blocks


def render_home(channels: list[HomeChannel], latest: tuple[str, BriefRow, str | None] | None) -> dict[str, Any]:
    """The App Home tab: what the bot is, how to ask, the user's channels' digests and scopes (each with buttons to
    change, pause or resume, and stop it), and the latest brief."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain("briefbot")}]
    blocks += render.section(render.HELP)
    blocks.append({"type": "divider"})
    blocks.append({"type": "header", "text": _plain("Digests in your channels")})
    shown = [c for c in channels if c.digests or c.paused or c.scope]
    if not shown:
        blocks += render.section("None yet. In a channel I'm in, type `/digest 08:00 Europe/Berlin` to get one every "
                                 "day.")
    for c in shown[:HOME_CHANNELS]:
        blocks += _channel_blocks(c)
    if len(shown) > HOME_CHANNELS:
        blocks += render.context([f"…and {len(shown) - HOME_CHANNELS} more channels: `/digest status` in one shows "
                                  "its digest."])
    if shown:
        blocks += render.context(["A paused digest keeps its time and topic and posts nothing until resumed."])
    blocks.append({"type": "divider"})
    blocks.append({"type": "header", "text": _plain("Latest brief")})
    if latest is None:
        blocks += render.section("No brief has been posted in your channels yet: try `/brief` in one of them.")
    else:
        channel_id, row, url = latest
        data = json.loads(row.body)
        heads = [f"• {render.escape(str(st.get('headline', '')))}" for st in data.get("stories", [])[:8]]
        kind = "Digest" if row.kind == "digest" else "Brief"
        title = f"*{kind}* in <#{render.escape(channel_id)}>, {render.escape(row.created[:10])}"
        if url:
            title += f" — {render.link(url, 'open it as a page')}"
        blocks += render.section(title + ("\n" + "\n".join(heads) if heads else ""))
    return {"type": "home", "blocks": blocks[:100]}


def render_digest_form(channel_id: str, sub: Subscription | None, paused: bool) -> dict[str, Any]:
    """The modal that sets or changes a channel's digest, filled in with its current settings."""
    def text_input(block_id: str, label: str, value: str | None, hint: str, optional: bool = False,
                   max_length: int = 100) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
        if value:
            element["initial_value"] = value
        return {"type": "input", "block_id": block_id, "label": _plain(label), "hint": _plain(hint),
                "optional": optional, "element": element}

    def option(cadence: str) -> dict[str, Any]:
        return {"text": _plain(_CADENCE_LABELS[cadence]), "value": cadence}

    note = f"The digest of <#{render.escape(channel_id)}>."
    if paused:
        note += " It is paused and stays paused: resume it from the Home tab."
    cadence = sub.cadence if sub is not None and sub.cadence in CADENCES else "daily"
    return {
        "type": "modal", "callback_id": DIGEST_FORM, "private_metadata": channel_id[:3000],
        "title": _plain("Digest"), "submit": _plain("Save"), "close": _plain("Cancel"),
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
            text_input("time", "Time", sub.time_of_day if sub else "08:00", "24-hour HH:MM, e.g. 08:00", max_length=5),
            text_input("timezone", "Time zone", sub.timezone if sub else "UTC",
                       "An IANA name, e.g. Europe/Berlin, America/New_York or UTC", max_length=64),
            {"type": "input", "block_id": "cadence", "label": _plain("How often"),
             "element": {"type": "static_select", "action_id": "value", "options": [option(c) for c in CADENCES],
                         "initial_option": option(cadence)}},
            text_input("topic", "Topic", sub.topic if sub else None, "Only stories about this (leave empty for all)",
                       optional=True, max_length=MAX_TOPIC),
        ],
    }


def read_digest_form(values: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The form's answers (time, timezone, cadence, topic) and, by block, what is wrong with them."""
    def value(block: str) -> str:
        field_ = (values.get(block) or {}).get("value") or {}
        chosen = field_.get("selected_option") or {}
        return commands.clean(str(chosen.get("value") or field_.get("value") or ""))

    got = {k: value(k) for k in ("time", "timezone", "cadence", "topic")}
    errors: dict[str, str] = {}
    at = commands.time_of_day(got["time"])
    if at is None:
        errors["time"] = f"“{commands.shown(got['time'], 20)}” is not a time of day: use 24-hour HH:MM, e.g. 08:00"
    else:
        got["time"] = at
    try:
        got["timezone"] = parse_timezone(got["timezone"])
    except ValueError as e:
        errors["timezone"] = str(e)
    if got["cadence"] not in CADENCES:
        errors["cadence"] = "Choose how often: every day, on weekdays or every week"
    if len(got["topic"]) > MAX_TOPIC:
        errors["topic"] = f"Keep the topic under {MAX_TOPIC} characters"
    return got, errors


class SlackHome:
    """The Home tab, its buttons and form, and the greeting, for one SlackBot."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def register(self, app: App) -> None:
        """Listen for the Home tab opening, its buttons and form, and the bot joining a channel."""
        app.event("app_home_opened")(self._on_home)
        app.event("member_joined_channel")(self._on_joined)
        for action in (HOME_DIGEST_OFF, HOME_DIGEST_PAUSE, HOME_DIGEST_RESUME):
            app.action(action)(self._on_button)
        app.action(HOME_DIGEST_EDIT)(self._on_edit)
        app.view(DIGEST_FORM)(self._on_form)

    def _on_home(self, event: dict[str, Any], context: BoltContext) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        self.bot.workers.submit(self._publish_home, str(event["user"]))

    def _member_channels(self, user: str) -> list[str] | None:
        """The channels (public and private) `user` is in that the bot can see; None when Slack will not say,
        so the Home tab shows no channel rather than channels the user may not be in."""
        out: list[str] = []
        cursor = None
        try:
            for _ in range(10):  # at most 2,000 channels
                resp = self.bot.client.users_conversations(user=user, types="public_channel,private_channel",
                                                           exclude_archived=True, limit=200, cursor=cursor)
                channels: list[dict[str, Any]] = resp.get("channels") or []
                out += [str(c["id"]) for c in channels]
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as e:
            log.warning("slack: could not list %s's channels for the Home tab (%s): add the channels:read and "
                        "groups:read scopes", user, e.response.get("error"))
            return None
        return out

    def _publish_home(self, user: str) -> None:
        try:
            service = self.bot.service
            rows = []
            latest: tuple[str, Any, str | None] | None = None
            for channel_id in self._member_channels(user) or []:
                where = Channel("slack", channel_id)
                rows.append(HomeChannel(channel_id, service.subscriptions(where), service.paused_subscriptions(where),
                                        service.channel_scope(where)))
                brief = service.latest_brief(where)
                if brief is not None and (latest is None or brief.created > latest[1].created):
                    url = self.bot.linker.brief_url(brief.id, where) if self.bot.linker is not None else None
                    latest = (channel_id, brief, url)
            self.bot.client.views_publish(user_id=user, view=render_home(rows, latest))
        except Exception:
            log.exception("publishing the Home tab for %s failed", user)

    @staticmethod
    def _user(body: dict[str, Any]) -> str:
        return str((body.get("user") or {}).get("id") or "")

    def _on_button(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self.bot.workers.submit(self._change, self._user(body), str(action.get("value", "")),
                                str(action.get("action_id", "")))

    def _member(self, user: str, channel_id: str, what: str) -> bool:
        """Only a member of a channel may change its digest (a forged button names any channel)."""
        if channel_id in (self._member_channels(user) or []):
            return True
        log.warning("slack: %s asked to %s the digest of %s, a channel they are not in", user, what, channel_id)
        return False

    def _change(self, user: str, channel_id: str, action_id: str) -> None:
        what = {HOME_DIGEST_OFF: "stop", HOME_DIGEST_PAUSE: "pause", HOME_DIGEST_RESUME: "resume"}[action_id]
        try:
            if self._member(user, channel_id, what):
                where = Channel("slack", channel_id, user)
                service = self.bot.service
                done = (service.unsubscribe(where) if what == "stop" else
                        len(service.pause(where) if what == "pause" else service.resume(where)))
                log.info("slack: %s %s %d digest(s) of %s from the Home tab", user,
                         {"stop": "stopped", "pause": "paused", "resume": "resumed"}[what], done, channel_id)
        except Exception:
            log.exception("slack: could not %s the digest of %s for %s", what, channel_id, user)
        self._publish_home(user)

    def _on_edit(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        # the form must open within the trigger's 3 s: the worker reads the digest from the store and opens it
        self.bot.workers.submit(self._open_form, str(body.get("trigger_id") or ""), str(action.get("value", "")))

    def _open_form(self, trigger_id: str, channel_id: str) -> None:
        try:
            where = Channel("slack", channel_id)
            running = self.bot.service.subscriptions(where)
            paused = [] if running else self.bot.service.paused_subscriptions(where)
            either = running or paused
            sub = either[0] if either else None
            self.bot.client.views_open(trigger_id=trigger_id, view=render_digest_form(channel_id, sub, bool(paused)))
        except Exception:
            log.exception("slack: could not open the digest form for %s", channel_id)

    def _on_form(self, ack: Callable[..., None], body: dict[str, Any], view: dict[str, Any]) -> None:
        got, errors = read_digest_form((view.get("state") or {}).get("values") or {})
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        self.bot.workers.submit(self._save_form, self._user(body), str(view.get("private_metadata") or ""), got)

    def _save_form(self, user: str, channel_id: str, got: dict[str, str]) -> None:
        try:
            if self._member(user, channel_id, "change"):
                where = Channel("slack", channel_id, user)
                paused = not self.bot.service.subscriptions(where) and bool(self.bot.service.paused_subscriptions(where))
                sub = self.bot.service.subscribe(where, got["time"], got["timezone"], got["topic"] or None,
                                                 got["cadence"], paused=paused)
                log.info("slack: %s set the digest of %s from the Home tab: %s %s %s%s", user, channel_id,
                         sub.cadence, sub.time_of_day, sub.timezone, " (paused)" if paused else "")
        except Exception:  # the form already closed: the Home tab shows the digest as it is
            log.exception("slack: could not save the digest form of %s for %s", channel_id, user)
        self._publish_home(user)

    def _on_joined(self, event: dict[str, Any], context: BoltContext) -> None:
        if event.get("user") and event.get("user") == context.bot_user_id:
            self.bot.workers.submit(self._greet, str(event.get("channel", "")))

    def _greet(self, channel_id: str) -> None:
        try:
            self.bot._post(channel_id, None, render.render_notice(commands.greeting(render.DIALECT)))
        except Exception:
            log.exception("could not greet channel %s", channel_id)
