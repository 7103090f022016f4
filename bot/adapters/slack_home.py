"""Slack's App Home tab (what the bot is, the user's channels' digests and scopes with a button to stop one, the
latest brief) and the greeting when the bot joins a channel.

Listeners of the SlackBot that registers it; calls the core only through its Service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.adapters import commands
from bot.adapters import slack_render as render
from bot.domain import Channel

if TYPE_CHECKING:
    from bot.adapters.slack import SlackBot

log = logging.getLogger("briefbot.slack")


class SlackHome:
    """The Home tab and the greeting, for one SlackBot."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def register(self, app: App) -> None:
        """Listen for the Home tab opening, its stop buttons, and the bot joining a channel."""
        app.event("app_home_opened")(self._on_home)
        app.event("member_joined_channel")(self._on_joined)
        app.action(render.HOME_DIGEST_OFF)(self._on_home_digest_off)

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
            member_of = self._member_channels(user) or []
            rows = []
            latest: tuple[str, Any, str | None] | None = None
            for channel_id in member_of:
                where = Channel("slack", channel_id)
                subs = self.bot.service.subscriptions(where)
                scope = self.bot.service.channel_scope(where)
                rows.append((channel_id, subs, scope))
                brief = self.bot.service.latest_brief(where)
                if brief is not None and (latest is None or brief.created > latest[1].created):
                    url = self.bot.linker.brief_url(brief.id, where) if self.bot.linker is not None else None
                    latest = (channel_id, brief, url)
            self.bot.client.views_publish(user_id=user, view=render.render_home(rows, latest))
        except Exception:
            log.exception("publishing the Home tab for %s failed", user)

    def _on_home_digest_off(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self.bot.workers.submit(self._home_digest_off, str((body.get("user") or {}).get("id") or ""), str(action.get("value", "")))

    def _home_digest_off(self, user: str, channel_id: str) -> None:
        if channel_id not in (self._member_channels(user) or []):  # only a member may stop a channel's digest
            log.warning("slack: %s asked to stop the digest of %s, a channel they are not in", user, channel_id)
        else:
            removed = self.bot.service.unsubscribe(Channel("slack", channel_id, user))
            log.info("slack: %s stopped %d digest(s) of %s from the Home tab", user, removed, channel_id)
        self._publish_home(user)

    def _on_joined(self, event: dict[str, Any], context: BoltContext) -> None:
        if event.get("user") and event.get("user") == context.bot_user_id:
            self.bot.workers.submit(self._greet, str(event.get("channel", "")))

    def _greet(self, channel_id: str) -> None:
        try:
            self.bot._post(channel_id, None, render.render_notice(commands.greeting(render.DIALECT)))
        except Exception:
            log.exception("could not greet channel %s", channel_id)
