"""Posting to Discord from outside the event loop, and what the bot may do in a channel: digests go out through
DiscordPoster; a refused post names the permission to grant.

Owns the mapping from Discord's permissions and 403s to a user-facing reason; layout comes from discord_render.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord_render import Reply, render_brief
from bot.adapters.runtime import LoopThread
from bot.domain import Brief, Channel

if TYPE_CHECKING:
    from bot.adapters.discord_bot import DiscordBot

log = logging.getLogger("briefbot.discord")
NOT_READY_TEXT = "Discord isn't connected yet"

# Discord's error codes for a channel the bot can't use.
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013


class ChannelPermissionError(RuntimeError):
    """The bot may not post in a Discord channel; names the channel and the missing permissions."""

    def __init__(self, channel_id: str, missing: list[str], code: int | None = None) -> None:
        self.channel_id = channel_id
        self.missing = missing
        self.code = code
        perms = " and ".join(missing)
        super().__init__(f"cannot post to Discord channel {channel_id}: the bot is missing the {perms} "
                         f"permission{'s' if len(missing) > 1 else ''} there (Discord error {code}); "
                         "grant it in the channel's or role's settings")


def perm_names(perms: discord.Permissions, thread: bool, needed: tuple[str, ...]) -> list[str]:
    names = {"view_channel": "View Channel", "send_messages": "Send Messages", "embed_links": "Embed Links",
             "read_message_history": "Read Message History", "send_messages_in_threads": "Send Messages in Threads"}
    missing = []
    for p in needed:
        if p == "send_messages" and thread:
            p = "send_messages_in_threads"
        if not getattr(perms, p):
            missing.append(names[p])
            if p in ("view_channel", "send_messages", "send_messages_in_threads"):
                break  # Discord denies everything after these implicitly; name the root cause only
    return missing


def missing_permissions(channel: Any, member: Any, *, reply: bool = False) -> list[str]:
    """Names of the permissions `member` lacks to post answers in a guild `channel` ([] for DMs or unknown)."""
    if member is None or not hasattr(channel, "permissions_for"):
        return []
    needed = ("view_channel", "send_messages", "embed_links") + (("read_message_history",) if reply else ())
    return perm_names(channel.permissions_for(member), isinstance(channel, discord.Thread), needed)


def forbidden_permissions(bot: discord.Client, channel_id: int, code: int | None) -> list[str]:
    """Best guess at what a 403 was about: from the cached channel, else what posting always needs."""
    channel = bot.get_channel(channel_id)
    guild = getattr(channel, "guild", None)
    missing = missing_permissions(channel, guild.me if guild else None)
    if missing:
        return missing
    return ["View Channel"] if code == MISSING_ACCESS else ["Send Messages", "Embed Links"]


def send_kwargs(reply: Reply, view: discord.ui.View | None = None) -> dict[str, Any]:
    """Keyword arguments for `send`/`reply`/`followup.send`, leaving out what a reply lacks."""
    kwargs: dict[str, Any] = {}
    if reply.embeds:
        kwargs["embeds"] = reply.embeds
    if reply.content:
        kwargs["content"] = reply.content
    if view is not None:
        kwargs["view"] = view
    return kwargs


class DiscordPoster:
    """Posts digests from any non-async thread onto the bot's event loop."""

    def __init__(self, bot: DiscordBot, loop: LoopThread, *, timeout: float = 60.0) -> None:
        self.bot = bot
        self.timeout = timeout
        self._loop = loop

    def post_brief(self, channel_id: str, brief: Brief, topic: str | None = None) -> str:
        """Post a brief to a channel (as text where the bot may not embed); returns the first message's id.
        Raises ChannelPermissionError on 403."""
        where = Channel("discord", channel_id)
        channel = self.bot.get_channel(int(channel_id))
        guild = getattr(channel, "guild", None)
        embeds = True
        if guild is not None and hasattr(channel, "permissions_for"):
            embeds = channel.permissions_for(guild.me).embed_links  # type: ignore[union-attr]
        return self._run(self._post(int(channel_id), render_brief(
            brief, topic, heading="Digest", links=self.bot._links(where), page=self.bot._brief_page(brief, where),
            embeds=embeds)))

    def _run(self, coro: Coroutine[Any, Any, str]) -> str:
        if not self.bot.ready_event.wait(self.timeout):
            coro.close()
            raise RuntimeError(f"{NOT_READY_TEXT} after {self.timeout:.0f} s: nothing was posted")
        return self._loop.run(coro, self.timeout)

    async def _post(self, channel_id: int, replies: list[Reply]) -> str:
        channel = self.bot.get_channel(channel_id) or self.bot.get_partial_messageable(channel_id)
        first = ""
        try:
            for r in replies:
                msg = await channel.send(**send_kwargs(r))  # type: ignore[union-attr]
                first = first or str(msg.id)
        except discord.Forbidden as e:
            err = ChannelPermissionError(str(channel_id), forbidden_permissions(self.bot, channel_id, e.code), e.code)
            log.error("discord: digest not posted: %s", err)
            raise err from e
        return first
