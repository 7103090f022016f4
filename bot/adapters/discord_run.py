"""Discord's client run from synchronous code: its own thread and event loop, a login retried with backoff while
Discord cannot be reached, a clear reason when it never will (a rejected token, a missing intent).

discord.py reconnects a session that drops by itself; this owns only what happens before and around it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from typing import Any

import aiohttp
import discord

from bot.adapters.discord_bot import DiscordBot
from bot.adapters.discord_post import DiscordPoster
from bot.adapters.runtime import Backoff, LoopThread, unreachable
from bot.service import Service

log = logging.getLogger("briefbot.discord")


class DiscordRunner:
    """A `DiscordBot` running in its own thread and event loop, so synchronous code can start and stop it."""

    def __init__(self, bot: DiscordBot, token: str, retry_first: float = 5.0, retry_max: float = 300.0) -> None:
        self.bot = bot
        self.error: BaseException | None = None
        self._token = token
        self._backoff = Backoff(retry_first, retry_max)
        self._thread = LoopThread("briefbot-discord", self._serve, self._failed)
        self.poster = DiscordPoster(bot, self._thread)

    def start(self) -> DiscordRunner:
        """Start the client thread; returns at once (see `wait_until_ready`)."""
        self._thread.start()
        return self

    def _failed(self, e: BaseException) -> None:
        self.error = e
        if isinstance(e, discord.LoginFailure):
            log.error("discord: login failed: DISCORD_TOKEN was rejected (%s)", e)
        elif isinstance(e, discord.PrivilegedIntentsRequired):
            log.error("discord: BRIEFBOT_DISCORD_MESSAGE_CONTENT is on but the Message Content intent is not enabled: "
                      "enable it in the Developer Portal (Bot → Privileged Gateway Intents) or unset the setting "
                      "(mentions and DMs work without it) (%s)", e)
        else:
            log.error("discord: client stopped with an error", exc_info=e)

    async def _serve(self) -> None:
        """Log in and stay connected. discord.py reconnects a session that drops; a login that cannot reach
        Discord at all (network down, DNS, Discord 5xx) is retried here with backoff, while a rejected
        token or a missing intent ends the client with its reason."""
        async with self.bot:
            while True:
                try:
                    await self.bot.start(self._token, reconnect=True)
                    return
                except (OSError, TimeoutError, aiohttp.ClientError, discord.GatewayNotFound,
                        discord.DiscordServerError) as e:
                    if self.bot.is_closed():
                        return
                    delay = self._backoff.next()
                    unreachable(log, "Discord", f"{type(e).__name__}: {e}", delay)
                # start afresh: the failed login's HTTP session is closed with its connector, so a new one is made
                await self.bot.http.close()
                self.bot.http.connector = discord.utils.MISSING
                await asyncio.sleep(delay)
                if self.bot.is_closed():  # stopped while waiting
                    return

    def wait_until_ready(self, timeout: float = 30.0) -> bool:
        """Block until connected (True), the client failed, or `timeout` passed (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.bot.ready_event.wait(0.05):
                return True
            if not self._thread.is_alive():
                return False
        return self.bot.ready_event.is_set()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the connection, wait for the thread to finish, then for the core calls still running."""
        self._thread.stop(self.bot.close, timeout, log)
        self.bot.workers.close(timeout)


def run_discord(service: Service, token: str, guild_id: int | None = None, *,
                executor: concurrent.futures.Executor | None = None, retry_first: float = 5.0,
                **options: Any) -> DiscordRunner:
    """Start the Discord bot in a background thread; `.poster` posts digests, `.stop()` ends it."""
    bot = DiscordBot(service, guild_id=guild_id, executor=executor, **options)
    return DiscordRunner(bot, token, retry_first=retry_first).start()
