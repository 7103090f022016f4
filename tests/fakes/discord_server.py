"""A fake Discord on loopback: REST under /api/v10 and a gateway websocket, recording every request body.

The real discord.py client talks to it once `discord.http.Route.BASE` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` point here. Runs in its own thread and event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
BOT_ID = APP_ID
GUILD_ID = 910000000000000001
CHANNEL_ID = 920000000000000001  # a text channel where the bot may post
DENIED_CHANNEL_ID = 920000000000000002  # @everyone may not send messages here; REST answers 403 / 50013
THREAD_ID = 930000000000000001  # a public thread in CHANNEL_ID
DM_CHANNEL_ID = 940000000000000001
USER_ID = 950000000000000001
BOT_ROLE_ID = 915000000000000001  # the role Discord makes for the bot when it joins (managed, tagged with its id)
OTHER_BOT_ID = 960000000000000001
TIMESTAMP = "2026-11-23T08:00:00.000000+00:00"

ALL_PERMISSIONS = str((1 << 50) - 1 - 8)  # everything except Administrator (so overwrites apply)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MESSAGE_CONTENT_INTENT = 1 << 15


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    """A Discord user object."""
    return {"id": str(uid), "username": name, "discriminator": "0", "global_name": name, "avatar": None,
            "bot": bot, "public_flags": 0}


def member(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    """A guild member object (with `flags`, which discord.py requires)."""
    return {"user": user(uid, name, bot), "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
            "flags": 0, "nick": None, "pending": False, "permissions": ALL_PERMISSIONS}


@dataclass
class Recorded:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeDiscord:
    """Serve a fake Discord; `start()` binds port 0 and returns once listening."""

    host: str = "127.0.0.1"
    requests: list[Recorded] = field(default_factory=list)
    forbidden_channels: set[int] = field(default_factory=lambda: {DENIED_CHANNEL_ID})
    # more text channels, each with the permission bits @everyone is denied there (enforced by REST below)
    channel_denies: dict[int, int] = field(default_factory=dict)
    threads: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel id, threads the bot started
    identifies: int = 0
    webhook_failures: int = 0  # answer this many follow-ups with 400 Invalid Form Body
    resumes: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)  # every message the bot created, as returned
    intents: int | None = None  # what the client's last IDENTIFY asked for

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-discord", daemon=True)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._ids = itertools.count(970000000000000001)
        self._cond = threading.Condition()
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        """Start the server thread and bind a free loopback port."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Close sockets and the server, then the thread."""
        async def _stop() -> None:
            for ws in list(self._sockets):
                await ws.close()
            if self._runner:
                await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` should be."""
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What `DiscordWebSocket.DEFAULT_GATEWAY` should be."""
        return f"ws://{self.host}:{self.port}/gateway"

    # --- what the tests look at ------------------------------------------------------------------------

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        """Recorded requests, optionally by method and path substring."""
        with self._cond:
            return [r for r in self.requests if (method is None or r.method == method) and contains in r.path]

    def wait_for(self, predicate: Callable[[list[Recorded]], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(requests)` is truthy and return its value; fail the test on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(list(self.requests))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    paths = "\n".join(f"  {r.method} {r.path}" for r in self.requests)
                    raise AssertionError(f"timed out waiting; requests so far:\n{paths}")
                self._cond.wait(left)

    def wait_request(self, method: str, contains: str, count: int = 1, timeout: float = 10.0) -> list[Recorded]:
        """Wait for at least `count` requests matching method and path substring."""
        def enough(reqs: list[Recorded]) -> list[Recorded] | None:
            found = [r for r in reqs if r.method == method and contains in r.path]
            return found if len(found) >= count else None
        result: list[Recorded] = self.wait_for(enough, timeout)
        return result

    # --- pushing events --------------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH (op 0) to every connected client. As Discord does, a guild message's text reaches
        a client without the Message Content intent only when it mentions the bot (or the bot's role; a reply that
        pings the bot lists it among the mentions)."""
        if event == "MESSAGE_CREATE" and not self._sees_content(data):
            data = dict(data, content="")
        asyncio.run_coroutine_threadsafe(self._broadcast(event, data), self._loop).result(5)

    def _sees_content(self, message: dict[str, Any]) -> bool:
        if self.intents is None or self.intents & MESSAGE_CONTENT_INTENT or "guild_id" not in message:
            return True
        return (str(BOT_ID) in {u["id"] for u in message.get("mentions", [])} or str(BOT_ROLE_ID) in
                message.get("mention_roles", []) or message["author"]["id"] == str(BOT_ID))

    async def _broadcast(self, event: str, data: dict[str, Any]) -> None:
        for ws in self._sockets:
            await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    def drop_connections(self) -> None:
        """Close every gateway socket abruptly (code 4000), as a network blip would; clients should reconnect."""
        async def _drop() -> None:
            for ws in list(self._sockets):
                await ws.close(code=4000, message=b"test drop")
        asyncio.run_coroutine_threadsafe(_drop(), self._loop).result(5)

    def new_id(self) -> str:
        """A fresh snowflake."""
        return str(next(self._ids))

    def interaction(self, name: str, options: dict[str, str], channel_id: int = CHANNEL_ID,
                    app_permissions: str = ALL_PERMISSIONS) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a slash command used by USER_ID in the guild."""
        iid = self.new_id()
        return {
            "id": iid, "application_id": str(APP_ID), "type": 2, "token": f"tok-{iid}", "version": 1,
            "guild_id": str(GUILD_ID), "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": "news"},
            "member": member(USER_ID, "reader"), "app_permissions": app_permissions, "locale": "en-GB",
            "guild_locale": "en-GB", "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0, "attachment_size_limit": 10_485_760,
            "data": {"id": self.new_id(), "name": name, "type": 1, "guild_id": str(GUILD_ID),
                     "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]},
        }

    def click(self, custom_id: str, message: dict[str, Any], channel_id: int = CHANNEL_ID) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a button click (type 3) on `message`."""
        payload = self.interaction("", {}, channel_id)
        payload.update(type=3, message=message, data={"custom_id": custom_id, "component_type": 2})
        return payload

    def message(self, content: str, channel_id: int = CHANNEL_ID, author_id: int = USER_ID, bot: bool = False,
                mentions_bot: bool = False, dm: bool = False, mentions_role: int | None = None,
                replying_to: dict[str, Any] | None = None, ping: bool = False) -> dict[str, Any]:
        """A MESSAGE_CREATE payload (a reply to `replying_to`, a message payload, when given; `ping` as a reply with
        "ping on reply" on, which mentions the replied-to author)."""
        d: dict[str, Any] = {
            "id": self.new_id(), "channel_id": str(channel_id), "author": user(author_id, "reader", bot),
            "content": content, "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [user(BOT_ID, "briefbot", True)] if mentions_bot else [],
            "mention_roles": [str(mentions_role)] if mentions_role else [], "attachments": [], "embeds": [],
            "pinned": False, "type": 0, "flags": 0,
        }
        if replying_to is not None:
            if ping:
                d["mentions"] = [*d["mentions"], replying_to["author"]]
            d.update(type=19, referenced_message=replying_to,
                     message_reference={"type": 0, "message_id": replying_to["id"], "channel_id": str(channel_id),
                                        "guild_id": None if dm else str(GUILD_ID)})
        if not dm:
            d["guild_id"] = str(GUILD_ID)
            m = member(author_id, "reader", bot)
            del m["user"]
            d["member"] = m
        return d

    # --- gateway ---------------------------------------------------------------------------------------

    def _guild(self) -> dict[str, Any]:
        def channel(cid: int, name: str, overwrites: list[dict[str, Any]] | None = None) -> dict[str, Any]:
            return {"id": str(cid), "type": 0, "name": name, "position": 0, "guild_id": str(GUILD_ID),
                    "permission_overwrites": overwrites or [], "nsfw": False, "parent_id": None, "topic": None,
                    "last_message_id": None, "rate_limit_per_user": 0}
        deny = [{"id": str(GUILD_ID), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}]
        return {
            "id": str(GUILD_ID), "name": "Newsroom", "icon": None, "owner_id": str(USER_ID), "unavailable": False,
            "member_count": 2, "large": False, "features": [], "emojis": [], "stickers": [],
            "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": ALL_PERMISSIONS, "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0},
                      {"id": str(BOT_ROLE_ID), "name": "briefbot", "permissions": "0", "position": 1, "color": 0,
                       "hoist": False, "managed": True, "mentionable": True, "flags": 0,
                       "tags": {"bot_id": str(BOT_ID)}}],
            "channels": [channel(CHANNEL_ID, "news"), channel(DENIED_CHANNEL_ID, "announcements", deny)] + [
                channel(cid, f"matrix-{cid % 100}", [{"id": str(GUILD_ID), "type": 0, "allow": "0", "deny": str(bits)}])
                for cid, bits in self.channel_denies.items()],
            "threads": [{"id": str(THREAD_ID), "type": 11, "name": "strike thread", "guild_id": str(GUILD_ID),
                         "parent_id": str(CHANNEL_ID), "owner_id": str(USER_ID), "message_count": 1,
                         "member_count": 1, "rate_limit_per_user": 0, "last_message_id": None,
                         "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                             "archive_timestamp": TIMESTAMP}}],
            "members": [dict(member(BOT_ID, "briefbot", True), roles=[str(BOT_ROLE_ID)]), member(USER_ID, "reader")],
            "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0, "preferred_locale": "en-GB",
            "system_channel_id": None, "afk_channel_id": None, "afk_timeout": 300, "joined_at": TIMESTAMP,
        }

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 6:  # RESUME: the session carries on
                    with self._cond:
                        self.resumes += 1
                        self._cond.notify_all()
                    await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}}))
                elif op == 2:  # IDENTIFY
                    with self._cond:
                        self.identifies += 1
                        self.intents = int(payload["d"].get("intents", 0))
                        self._cond.notify_all()
                    ready = {"v": 10, "user": user(BOT_ID, "briefbot", True), "session_id": f"s{self.identifies}",
                             "resume_gateway_url": self.gateway_url, "guilds": [{"id": str(GUILD_ID),
                                                                                 "unavailable": True}],
                             "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [],
                             "relationships": []}
                    await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
                    await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq),
                                                  "d": self._guild()}))
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    # --- REST ------------------------------------------------------------------------------------------

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        # discord.py only parses JSON when the content-type is exactly application/json (no charset).
        return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})

    def _message(self, channel_id: str, body: dict[str, Any], author: dict[str, Any] | None = None) -> dict[str, Any]:
        msg = self._message_payload(channel_id, body, author)
        self.messages.append(msg)
        return msg

    def _message_payload(self, channel_id: str, body: dict[str, Any],
                         author: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"id": self.new_id(), "channel_id": channel_id, "author": author or user(BOT_ID, "briefbot", True),
                "content": body.get("content") or "", "timestamp": TIMESTAMP, "edited_timestamp": None,
                "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": body.get("flags") or 0,
                "components": body.get("components") or []}

    def _refusal(self, channel_id: int, body: dict[str, Any]) -> tuple[int, str] | None:
        """What Discord answers a message POST with where @everyone is denied permissions. Stricter than Discord
        on one point: embeds without Embed Links are refused here (Discord drops them silently), so a test sees
        an embed the bot should not have sent."""
        thread = channel_id in self.threads
        deny = self.channel_denies.get(self.threads.get(channel_id, channel_id), 0)
        if deny & VIEW_CHANNEL:
            return 50001, "Missing Access"
        if deny & (SEND_MESSAGES_IN_THREADS if thread else SEND_MESSAGES):
            return 50013, "Missing Permissions"
        if body.get("message_reference") and deny & READ_MESSAGE_HISTORY:
            return 160002, "Cannot reply without permission to read message history"
        if body.get("embeds") and deny & EMBED_LINKS:
            return 50013, "Missing Permissions"
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        with self._cond:
            self.requests.append(Recorded(request.method, path, dict(request.query), body))
            self._cond.notify_all()
        parts = path.strip("/").split("/")
        m = request.method
        if path == "/users/@me" and m == "GET":
            return self._json(user(BOT_ID, "briefbot", True))
        if path == "/oauth2/applications/@me":
            return self._json({"id": str(APP_ID), "name": "briefbot", "description": "", "icon": None,
                               "bot_public": True, "bot_require_code_grant": False, "verify_key": "00",
                               "owner": user(USER_ID, "owner"), "flags": 0, "summary": "", "team": None})
        if path in ("/gateway", "/gateway/bot"):
            return self._json({"url": self.gateway_url, "shards": 1,
                               "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                                       "max_concurrency": 1}})
        if parts[0] == "applications" and parts[-1] == "commands" and m == "PUT":
            out = [dict(c, id=self.new_id(), application_id=str(APP_ID), version="1",
                        default_member_permissions=None) for c in body or []]
            return self._json(out)
        if parts[0] == "interactions" and parts[-1] == "callback":
            kind = (body or {}).get("type")
            flags = ((body or {}).get("data") or {}).get("flags") or 0
            return self._json({"interaction": {"id": parts[1], "type": 2, "response_message_loading": kind == 5,
                                               "response_message_ephemeral": bool(flags & 64)},
                               "resource": {"type": kind}})
        if parts[0] == "webhooks" and m == "POST" and self.webhook_failures > 0:
            self.webhook_failures -= 1
            return self._json({"message": "Invalid Form Body", "code": 50035}, status=400)
        if parts[0] == "webhooks" and m == "POST":
            return self._json(self._message(str(CHANNEL_ID), body or {}))
        if parts[0] == "webhooks" and m in ("PATCH", "GET"):
            return self._json(self._message(str(CHANNEL_ID), body or {}))
        if parts[0] == "webhooks" and m == "DELETE":
            return web.Response(status=204)
        if path == "/users/@me/channels" and m == "POST":
            return self._json({"id": str(DM_CHANNEL_ID), "type": 1,
                               "recipients": [user(int(body["recipient_id"]), "reader")], "last_message_id": None})
        if parts[0] == "channels" and parts[-1] == "typing":
            return web.Response(status=204)
        if parts[0] == "channels" and parts[-1] == "threads" and len(parts) == 5 and m == "POST":
            if self.channel_denies.get(int(parts[1]), 0) & CREATE_PUBLIC_THREADS:
                return self._json({"message": "Missing Permissions", "code": 50013}, status=403)
            tid = int(self.new_id())
            self.threads[tid] = int(parts[1])
            thread = {"id": str(tid), "type": 11, "name": (body or {}).get("name", ""),
                               "guild_id": str(GUILD_ID), "parent_id": parts[1], "owner_id": str(BOT_ID),
                               "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
                               "last_message_id": None,
                               "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                                   "locked": False, "archive_timestamp": TIMESTAMP}}
            await self._broadcast("THREAD_CREATE", dict(thread, newly_created=True))  # as Discord tells the gateway
            return self._json(thread)
        if parts[0] == "channels" and parts[-1] == "messages" and m == "POST":
            if int(parts[1]) in self.forbidden_channels:
                return self._json({"message": "Missing Permissions", "code": 50013}, status=403)
            refused = self._refusal(int(parts[1]), body or {})
            if refused:
                return self._json({"message": refused[1], "code": refused[0]}, status=403)
            return self._json(self._message(parts[1], body or {}))
        return self._json({"message": "404: Not Found", "code": 0}, status=404)
