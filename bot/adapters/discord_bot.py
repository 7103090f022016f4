"""Discord adapter: slash commands, @mentions and DMs in; the core `Service` called in a worker thread; embeds out.

Translate -> call -> render: grammar and reply texts from commands, core calls through the runtime's worker pool,
layout from discord_render, posting and permissions in discord_post, the client's thread in discord_run.
Intents: guilds, guild_messages, dm_messages; message_content only when BRIEFBOT_DISCORD_MESSAGE_CONTENT is set
(it is privileged: mentions and DMs carry their text without it; follow-ups in a thread without a mention need it).
Posting degrades with the channel's permissions: a thread only where the bot may create one, a reply reference
only with Read Message History, embeds only with Embed Links, else plain text.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal, TypeVar

import discord
from discord import app_commands

from bot.adapters import commands
from bot.adapters.discord_post import (
    ChannelPermissionError,
    DiscordPoster,
    forbidden_permissions,
    perm_names,
    send_kwargs,
)
from bot.adapters.discord_render import (
    CONTENT_LIMIT,
    DIALECT,
    ERROR_TEXT,
    Links,
    Reply,
    render_answer,
    render_answer_text,
    render_brief,
    split_content,
    truncate,
)
from bot.adapters.runtime import Workers
from bot.domain import Answer, Brief, Channel
from bot.service import PageLinks, Service

__all__ = ["ERROR_TEXT", "HELP_TEXT", "ChannelPermissionError", "DiscordBot", "DiscordPoster"]

log = logging.getLogger("briefbot.discord")

T = TypeVar("T")

HELP_TEXT = commands.help_text(DIALECT)
# without the Message Content intent Discord sends the bot a guild message's text only when it mentions the bot
MENTION_DIALECT = replace(DIALECT, follow_ups="mention me again for a follow-up: I only see messages that mention me")
HIDDEN_TEXT = ("I can't read that message: Discord shows me only messages that mention me. Mention {me} with your "
               "question (a reply to me counts when it pings me).")
THREAD_NOTE_MENTION = "-# Follow-ups here: mention {me} in them — I only see messages that mention me."
THREAD_NOTE_OPEN = "-# Ask follow-ups here without a mention: I read this thread."

FEEDBACK_THANKS = commands.THANKS


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                     template=r"briefbot:fb:(?P<answer>[^:]{1,80}):(?P<vote>[01])"):
    """A Helpful / Not helpful button whose custom id carries the answer id, so it works after restarts."""

    def __init__(self, answer_id: str, helpful: bool) -> None:
        super().__init__(discord.ui.Button(
            label="Helpful" if helpful else "Not helpful", emoji="👍" if helpful else "👎",
            style=discord.ButtonStyle.secondary, custom_id=f"briefbot:fb:{answer_id}:{int(helpful)}"))
        self.answer_id = answer_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[discord.Client],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> FeedbackButton:
        """Rebuild the button from a click's custom id."""
        return cls(match["answer"], match["vote"] == "1")

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Record the vote through the core, then thank the voter privately."""
        bot = interaction.client
        assert isinstance(bot, DiscordBot)
        channel = Channel(platform="discord", channel=str(interaction.channel_id), user=str(interaction.user.id))
        await interaction.response.defer(thinking=True, ephemeral=True)
        reply = await bot.call(commands.feedback, bot.service, self.answer_id, channel, self.helpful)
        await interaction.followup.send(reply.text, ephemeral=True)


def feedback_view(answer: Answer) -> discord.ui.View | None:
    """Helpful / Not helpful buttons for a stored answer (None when it has no id to vote on).

    Every item is a DynamicItem, so discord.py keeps no per-message state: clicks are routed by custom id.
    """
    if not answer.id or not FeedbackButton.__discord_ui_compiled_template__.fullmatch(
            f"briefbot:fb:{answer.id}:1"):
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(answer.id, True))
    view.add_item(FeedbackButton(answer.id, False))
    return view


class DiscordBot(discord.Client):
    """The briefbot Discord client: `/ask`, `/brief`, `/digest`, answers to @mentions and DMs."""

    def __init__(self, service: Service, *, guild_id: int | None = None,
                 executor: concurrent.futures.Executor | None = None, message_content: bool = False,
                 linker: PageLinks | None = None, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = message_content
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(intents=intents, **options)
        self.service = service
        self.linker = linker
        self.guild_id = guild_id
        # core calls mostly wait on the model or the database: more threads than the loop's default (CPUs + 4)
        self.workers = Workers("discord", executor=executor, log=log)
        self.ready_event = threading.Event()  # set once connected; lets other threads wait for the loop
        self._threads: set[int] = set()  # threads the bot answered in: follow-ups there need no mention
        self.help_text = commands.help_text(DIALECT if message_content else MENTION_DIALECT)
        self.tree: app_commands.CommandTree[DiscordBot] = app_commands.CommandTree(self)
        self.tree.error(self._on_tree_error)
        self._add_commands()
        self.add_dynamic_items(FeedbackButton)

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Sync the slash commands: to DISCORD_GUILD_ID when given (instant), else globally."""
        try:
            if self.guild_id:
                guild = discord.Object(id=self.guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("discord: synced %d commands to guild %s", len(synced), self.guild_id)
            else:
                synced = await self.tree.sync()
                log.info("discord: synced %d global commands (they can take up to an hour to appear)", len(synced))
        except discord.HTTPException as e:
            # Mentions and DMs still work; say exactly what to fix rather than dying.
            log.error("discord: could not sync slash commands (%s %s): invite the bot with the "
                      "applications.commands scope%s", e.status, e.text,
                      f" to guild {self.guild_id}" if self.guild_id else "")

    async def on_ready(self) -> None:
        """Log who we are connected as; unblock threads waiting to post."""
        user = self.user
        log.info("discord: connected as %s (id %s) in %d guild(s)", user, user.id if user else "?", len(self.guilds))
        self.ready_event.set()

    async def on_resumed(self) -> None:
        """Log a resumed gateway session (discord.py reconnects by itself)."""
        log.info("discord: gateway session resumed")

    async def close(self) -> None:
        """Disconnect and mark the bot as not ready."""
        self.ready_event.clear()
        await super().close()

    # --- calling the core ----------------------------------------------------------------------------------

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a synchronous core call in a worker thread so the event loop never blocks."""
        return await self.workers.call(fn, *args, **kwargs)

    # --- slash commands ------------------------------------------------------------------------------------

    def _add_commands(self) -> None:
        @self.tree.command(name="ask", description="Ask a question; the answer cites the stored articles")
        @app_commands.describe(question="What you want to know")
        async def ask(interaction: discord.Interaction[DiscordBot], question: str) -> None:
            await self.on_ask(interaction, question)

        @self.tree.command(name="brief", description="A brief of the latest stories, optionally about a topic")
        @app_commands.describe(topic="Only stories about this (optional)")
        async def brief(interaction: discord.Interaction[DiscordBot], topic: str | None = None) -> None:
            await self.on_brief(interaction, topic)

        @self.tree.command(name="digest", description="Post a brief in this channel every day, or stop it")
        @app_commands.describe(time="HH:MM, 24-hour", timezone="IANA name, e.g. Europe/Berlin (needed with time)",
                               topic="Only stories about this (optional)", cadence="How often (default daily)",
                               action="off: stop this channel's digest; pause or resume it; status: show it")
        async def digest(interaction: discord.Interaction[DiscordBot], time: str | None = None,
                         timezone: str | None = None, topic: str | None = None,
                         cadence: Literal["daily", "weekdays", "weekly"] | None = None,
                         action: Literal["off", "status", "pause", "resume"] | None = None) -> None:
            await self.on_digest(interaction, time, timezone, topic, cadence, action)

        @self.tree.command(name="source", description="Add a feed or page for the bot to watch, or list sources")
        @app_commands.describe(url="The feed or page URL to add (omit to list the sources)",
                               every="How often to poll, e.g. 30m or 2h (optional)")
        async def source(interaction: discord.Interaction[DiscordBot], url: str | None = None,
                         every: str | None = None) -> None:
            await self.on_source(interaction, url, every)

    @staticmethod
    def _channel(interaction: discord.Interaction[DiscordBot]) -> Channel:
        return Channel(platform="discord", channel=str(interaction.channel_id), user=str(interaction.user.id))

    async def _defer(self, interaction: discord.Interaction[DiscordBot], ephemeral: bool = False) -> bool:
        try:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
            return True
        except discord.HTTPException as e:
            # 10062 Unknown interaction: we were slower than Discord's 3 s; nothing can be sent any more.
            log.error("discord: could not acknowledge /%s in channel %s (%s %s)",
                      interaction.command.name if interaction.command else "?", interaction.channel_id,
                      e.status, e.text)
            return False

    async def _followup(self, interaction: discord.Interaction[DiscordBot], replies: list[Reply],
                        ephemeral: bool = False, view: discord.ui.View | None = None) -> None:
        try:
            for n, r in enumerate(replies, 1):
                kwargs = send_kwargs(r, view if n == len(replies) else None)
                await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)
        except discord.HTTPException:
            log.exception("discord: follow-up to /%s in channel %s failed",
                          interaction.command.name if interaction.command else "?", interaction.channel_id)
            await self._send_error(interaction)

    async def _send_error(self, interaction: discord.Interaction[DiscordBot], text: str = ERROR_TEXT) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.exception("discord: could not even send the error message in channel %s", interaction.channel_id)

    async def _on_tree_error(self, interaction: discord.Interaction[DiscordBot],
                             error: app_commands.AppCommandError) -> None:
        log.error("discord: /%s failed in channel %s", interaction.command.name if interaction.command else "?",
                  interaction.channel_id, exc_info=error)
        await self._send_error(interaction)

    async def on_ask(self, interaction: discord.Interaction[DiscordBot], question: str) -> None:
        """`/ask`: defer, answer in a worker thread, follow up with the answer's embeds."""
        question = commands.question(question)
        if not question:
            await self._send_error(interaction, self.help_text)
            return
        if not await self._defer(interaction):
            return
        channel = self._channel(interaction)
        try:
            answer = await self.call(self.service.ask, question, channel)
        except Exception:
            log.exception("discord: /ask failed in channel %s (question %r)", channel.channel, question[:200])
            await self._send_error(interaction)
            return
        await self._followup(interaction, render_answer(answer, self._links(channel)), view=feedback_view(answer))

    def _links(self, channel: Channel) -> Links:
        """Citation page URLs signed for `channel` (None when pages are off)."""
        linker = self.linker
        if linker is None:
            return None
        return lambda c: linker.citation_url(c, channel)

    def _brief_page(self, brief: Brief, channel: Channel) -> str | None:
        return self.linker.brief_url(brief.id, channel) if self.linker is not None and brief.id else None

    async def on_brief(self, interaction: discord.Interaction[DiscordBot], topic: str | None) -> None:
        """`/brief`: defer, build the brief in a worker thread, follow up with one embed per story."""
        if not await self._defer(interaction):
            return
        channel = self._channel(interaction)
        try:
            topic = commands.topic(topic)
            brief = await self.call(self.service.brief, topic, channel)
        except Exception:
            log.exception("discord: /brief failed in channel %s (topic %r)", channel.channel, topic)
            await self._send_error(interaction)
            return
        await self._followup(interaction, render_brief(brief, topic, links=self._links(channel),
                                                       page=self._brief_page(brief, channel)))

    async def on_digest(self, interaction: discord.Interaction[DiscordBot], time: str | None,
                        timezone: str | None, topic: str | None, cadence: str | None, action: str | None) -> None:
        """`/digest`: set (time, timezone, topic, cadence), stop (`action:off`) or show (`action:status`)."""
        request = commands.DigestRequest.from_options(time, timezone, topic, cadence, action)
        if not await self._defer(interaction, ephemeral=True):
            return
        channel = self._channel(interaction)
        try:
            reply = await self.call(commands.digest, self.service, channel, request, DIALECT)
        except Exception:
            log.exception("discord: /digest failed in channel %s", channel.channel)
            await self._send_error(interaction)
            return
        text = reply.text
        if request.action == "set" and reply.public:
            missing = perm_names(interaction.app_permissions, isinstance(interaction.channel, discord.Thread),
                                  ("view_channel", "send_messages", "embed_links"))
            if missing:
                log.warning("discord: digest set for channel %s but the bot lacks %s there", channel.channel,
                            ", ".join(missing))
                text += (f"\n⚠️ I can't post here yet: I'm missing the {' and '.join(missing)} permission. "
                         "Ask a server admin to grant it, or the digest will fail.")
        await self._followup(interaction, [Reply(content=c) for c in split_content(text)], ephemeral=True)

    async def on_source(self, interaction: discord.Interaction[DiscordBot], url: str | None,
                        every: str | None) -> None:
        """`/source`: add a feed or page (refused for private addresses), or list the sources."""
        if not await self._defer(interaction, ephemeral=True):
            return
        channel = self._channel(interaction)
        try:
            reply = await self.call(commands.source, self.service, channel, commands.SourceRequest.from_options(url, every),
                                    DIALECT)
        except Exception:
            log.exception("discord: /source failed in channel %s", channel.channel)
            await self._send_error(interaction)
            return
        await self._followup(interaction, [Reply(content=c) for c in split_content(reply.text)], ephemeral=True)

    # --- mentions and DMs ----------------------------------------------------------------------------------

    def _addressed(self, message: discord.Message) -> bool:
        """Whether a guild message is meant for the bot: it mentions the bot or the bot's own role, or replies to
        one of the bot's messages."""
        me = self.user
        if me is None:
            return False
        if any(u.id == me.id for u in message.mentions):
            return True
        guild = message.guild
        role = guild.self_role if guild is not None else None
        if role is not None and any(r.id == role.id for r in message.role_mentions):
            return True
        ref = message.reference
        replied = ref.resolved if ref is not None else None
        return isinstance(replied, discord.Message) and replied.author.id == me.id

    async def _follows_up(self, message: discord.Message) -> bool:
        """A message without a mention in a thread the bot answers in (this process or, after a restart or on another
        replica, as the stored conversation says). Its text arrives only with the Message Content intent."""
        channel = message.channel
        if not isinstance(channel, discord.Thread) or not message.content.strip():
            return False
        if channel.id in self._threads:
            return True
        try:
            known = await self.call(self.service.in_conversation, f"discord:{channel.id}")
        except Exception:
            log.exception("discord: could not tell whether thread %s is one the bot answers in", channel.id)
            return False
        if known:
            self._threads.add(channel.id)
        return bool(known)

    async def _question(self, message: discord.Message) -> str | None:
        """The question in a message meant for us, or None if the message isn't for us."""
        me = self.user
        if me is None or message.author.bot or message.author.id == me.id:
            return None
        if message.guild is not None and not self._addressed(message) and not await self._follows_up(message):
            return None
        role = message.guild.self_role if message.guild is not None else None
        text = re.sub(rf"<@!?{me.id}>", " ", message.content)
        if role is not None:
            text = text.replace(f"<@&{role.id}>", " ")
        return commands.question(text)

    async def on_message(self, message: discord.Message) -> None:
        """Answer @mentions, replies to the bot and DMs: in a new thread where the bot may start one, else as a
        reply, with embeds or as plain text by the channel's permissions."""
        question = await self._question(message)
        if question is None:
            return
        guild = message.guild
        me = self.user.mention if self.user is not None else "@briefbot"
        if guild is not None and not message.content and not self.intents.message_content:
            # addressed, but Discord withheld the text: a role mention or a reply that does not ping the bot
            await self._reply(message, [Reply(content=HIDDEN_TEXT.format(me=me))])
            return
        perms = message.channel.permissions_for(guild.me) if guild is not None and hasattr(
            message.channel, "permissions_for") else None
        where = message.channel
        if perms is not None:
            in_thread = isinstance(message.channel, discord.Thread)
            missing = perm_names(perms, in_thread, ("view_channel", "send_messages"))
            if missing:
                await self._report_forbidden(message, missing)
                return
            if (not in_thread and question and isinstance(message.channel, discord.TextChannel)
                    and perms.create_public_threads and perms.send_messages_in_threads):
                where = await self._start_thread(message, question)
        if not question:
            await self._reply(message, [Reply(content=self.help_text)], where=where)
            return
        channel = Channel(platform="discord", channel=str(where.id), user=str(message.author.id))
        # a thread or DM is one conversation; in a busy channel each person has their own
        conversation = (f"discord:{where.id}" if isinstance(where, discord.Thread)
                        else f"discord:{channel.channel}:{channel.user}")
        try:
            async with where.typing():
                answer = await self.call(self.service.ask, question, channel, conversation=conversation)
        except Exception:
            log.exception("discord: answering a message in channel %s failed (question %r)",
                          channel.channel, question[:200])
            await self._reply(message, [Reply(content=ERROR_TEXT)], where=where)
            return
        if isinstance(where, discord.Thread):
            self._threads.add(where.id)
        embeds = perms is None or perms.embed_links
        links = self._links(channel)
        replies = render_answer(answer, links) if embeds else render_answer_text(answer, links)
        if where is not message.channel:  # the thread the bot just started: say how follow-ups reach it
            note = THREAD_NOTE_OPEN if self.intents.message_content else THREAD_NOTE_MENTION.format(me=me)
            replies = with_note(replies, note)
        await self._reply(message, replies, feedback_view(answer), where=where)

    async def _start_thread(self, message: discord.Message, question: str) -> Any:
        """A public thread on the asking message for the answer and its follow-ups; the channel when it fails."""
        try:
            thread = await message.create_thread(name=truncate(question, 90) or "briefbot",
                                                 auto_archive_duration=1440)
        except discord.HTTPException as e:
            log.warning("discord: could not start a thread in channel %s (%s %s); answering in the channel",
                        message.channel.id, e.status, e.text)
            return message.channel
        self._threads.add(thread.id)
        return thread

    async def _reply(self, message: discord.Message, replies: list[Reply],
                     view: discord.ui.View | None = None, where: Any = None) -> None:
        where = where if where is not None else message.channel
        guild = message.guild
        perms = where.permissions_for(guild.me) if guild is not None and hasattr(where, "permissions_for") else None
        # a reply reference needs Read Message History (Discord refuses it otherwise); in the thread the bot
        # started on the question, the thread itself says what is answered
        refer = where is message.channel and (perms is None or perms.read_message_history)
        try:
            for i, r in enumerate(replies):
                kwargs = send_kwargs(r, view if i == len(replies) - 1 else None)
                if i == 0 and refer:
                    await message.reply(mention_author=False, **kwargs)
                else:
                    await where.send(**kwargs)
        except discord.Forbidden as e:
            await self._report_forbidden(message, forbidden_permissions(self, message.channel.id, e.code), e.code)
        except discord.HTTPException:
            log.exception("discord: replying in channel %s failed", message.channel.id)
            if replies and replies[0].content != ERROR_TEXT:
                await self._reply(message, [Reply(content=ERROR_TEXT)])

    async def _report_forbidden(self, message: discord.Message, missing: list[str], code: int | None = None) -> None:
        """Log a clear line and tell the asker privately (a DM) why no answer appeared."""
        where = getattr(message.channel, "name", None) or message.channel.id
        guild = f" in server {message.guild.name!r}" if message.guild else ""
        perms = " and ".join(missing)
        log.warning("discord: can't answer in channel #%s (%s)%s: missing %s permission%s", where,
                    message.channel.id, guild, perms, f" (Discord error {code})" if code else "")
        try:
            await message.author.send(f"I can't answer in #{where}{guild}: I'm missing the {perms} permission there. "
                                      "Ask a server admin to grant it, or ask me here.")
        except discord.HTTPException as e:
            log.warning("discord: could not DM user %s about it either (%s %s)", message.author.id, e.status, e.text)


def with_note(replies: list[Reply], note: str) -> list[Reply]:
    """`replies` with a line of text before the first, in its content where that fits, else as a message of its own."""
    if not replies:
        return [Reply(content=note)]
    first = replies[0]
    if len(first.content) + len(note) + 2 <= CONTENT_LIMIT:
        return [Reply(content=f"{note}\n\n{first.content}".rstrip(), embeds=first.embeds), *replies[1:]]
    return [Reply(content=note), *replies]
