"""The Slack adapter: Bolt listeners that translate events and commands into Service calls and post replies.

Owns Slack I/O only (Socket Mode, HTTP mode, digest posting); answers come from bot.service, layout from
slack_render. Every reply path acks at once and runs the core in a worker.
"""

from __future__ import annotations

import io
import logging
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.adapters import slack_render as render
from bot.domain import Brief, Channel, Citation
from bot.http_server import CHAT_WORKERS, EVENTS_PATH, MAX_BODY, BotHTTPServer, StartResponse, plain
from bot.service import Service
from bot.web.links import Linker

COUNT_TTL = 30.0  # seconds a channel's document count is reused for placeholders

log = logging.getLogger("briefbot.slack")

UPDATE_INTERVAL = 1.5  # seconds between streamed chat.update calls (Slack's tier-3 limit is ~50/min)
_TIME = re.compile(r"^\d{1,2}(:\d{2})?$")
_CADENCES = {"daily", "weekdays", "weekly"}
_KEEP_SUBTYPES = {None, "thread_broadcast", "file_share"}  # messages a person wrote


def page_links(linker: Linker | None, where: Channel) -> render.Links:
    """A citation's page URL, signed for the channel it is posted to; None when pages are off."""
    if linker is None:
        return None

    def url(c: Citation) -> str:
        return linker.citation_url(c, where)
    return url


def make_client(bot_token: str, api_url: str | None = None, timeout: int = 30) -> WebClient:
    """A WebClient that retries connection errors and honours 429 Retry-After."""
    kwargs: dict[str, Any] = {}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(token=bot_token, timeout=timeout, **kwargs,
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                     RateLimitErrorRetryHandler(max_retry_count=3)])


class _QuietBolt(logging.Filter):
    """Drops Bolt's start-up warning that the SLACK_BOT_TOKEN it read from the environment goes unused: the
    adapter hands Bolt a client made with that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("briefbot.bolt").addFilter(_QuietBolt())


class _NoBodies(logging.Filter):
    """Bolt logs a refused request's whole body at INFO; an outsider chooses that body. Keep the line, not it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature"):
            record.msg, record.args = "Invalid request signature detected (body not logged)", ()
        return True


logging.getLogger("slack_bolt.RequestVerification").addFilter(_NoBodies())
Reply = tuple[int, dict[str, str], bytes]
_REFUSED: Reply = (401, {"content-type": "text/plain"}, b"invalid request signature")


class _Seen:
    """A bounded in-memory set: `seen(key)` is True when the key was already claimed."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._keys: OrderedDict[Any, None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key: Any) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return True
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return False

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._keys


def conversation_key(channel_id: str, thread_ts: str | None) -> str:
    """A Slack conversation: a thread, or a DM's top level."""
    return f"slack:{channel_id}:{thread_ts}" if thread_ts else f"slack:{channel_id}"


class _Throttle:
    """Forwards streamed text at most once per interval; silent after finish()."""

    def __init__(self, push: Callable[[str], None], clock: Callable[[], float], interval: float) -> None:
        self._push, self._clock, self._interval = push, clock, interval
        self._last = clock()
        self._done = False
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            now = self._clock()
            if self._done or now - self._last < self._interval:
                return
            self._last = now
            try:
                self._push(text)
            except Exception:  # a failed progress update must not fail the answer
                log.warning("streamed update failed", exc_info=True)

    def finish(self) -> None:
        """Drop any later partial text: the final answer follows."""
        with self._lock:
            self._done = True


class SlackBot:
    """A Bolt App wired to a Service, plus the worker pool and memory its listeners share."""

    def __init__(self, service: Service, *, bot_token: str, signing_secret: str | None, api_url: str | None = None,
                 process_before_response: bool = True, executor: Executor | None = None,
                 dedupe: Callable[[str], bool] | None = None, clock: Callable[[], float] = time.monotonic,
                 update_interval: float = UPDATE_INTERVAL, client: WebClient | None = None,
                 memory: int = 10_000, linker: Linker | None = None) -> None:
        self.service = service
        self.linker = linker
        self.signing_secret = signing_secret
        self.client = client or make_client(bot_token, api_url)
        # answers mostly wait on the model or the network: enough threads that a burst is not queued for minutes
        self._executor = executor or ThreadPoolExecutor(max_workers=CHAT_WORKERS, thread_name_prefix="briefbot-slack")
        self._own_executor = executor is None
        self._seen = dedupe or _Seen(memory)
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._threads = _Seen(memory)  # (channel, thread_ts) the bot answered in
        self._clock = clock
        self._interval = update_interval
        self._pending: set[Future[None]] = set()
        self._queue: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._queued = 0  # submitted by a listener, not yet handed to the pool
        self._dispatcher: threading.Thread | None = None
        self._lock = threading.Lock()
        # Every listener here only acks and hands the work to the pool, so Bolt runs it inline
        # (process_before_response): its other mode runs each listener on a thread of its own and polls
        # for the ack every 10 ms, which cost 11 ms a request against 0.4 ms inline.
        # "" rather than None keeps Bolt from reading SLACK_SIGNING_SECRET itself; handle_http refuses
        # to serve at all without a secret, and Socket Mode requests are not signed.
        self.app = App(client=self.client, signing_secret=signing_secret or "", name="briefbot",
                       process_before_response=process_before_response, logger=logging.getLogger("briefbot.bolt"))
        self._wsgi = SlackRequestHandler(self.app, EVENTS_PATH)
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._refused, self._refused_logged = 0, -1e9
        self._register()

    # ---- wiring -------------------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.command("/ask")(self._on_ask)
        app.command("/brief")(self._on_brief)
        app.command("/digest")(self._on_digest)
        app.command("/source")(self._on_source)
        app.command("/briefbot")(self._on_help)
        app.event("app_home_opened")(self._on_home)
        app.event("member_joined_channel")(self._on_joined)
        app.action(render.HOME_DIGEST_OFF)(self._on_home_digest_off)
        app.command(re.compile(r"^/"))(self._on_unknown_command)
        app.action(render.FEEDBACK_HELPFUL)(self._on_feedback)
        app.action(render.FEEDBACK_NOT_HELPFUL)(self._on_feedback)
        app.error(self._on_error)

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue work for the pool and return at once: the listener's ack goes out without waiting for the
        pool (whose submit starts a new thread while it grows, slow while a burst holds the GIL)."""
        with self._lock:
            self._queued += 1
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch, name="briefbot-slack-dispatch",
                                                    daemon=True)
                self._dispatcher.start()
        self._queue.put((fn, args))

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fut: Future[None] = self._executor.submit(fn, *args)
            except RuntimeError:  # the pool was shut down under a late request
                log.error("slack: a request arrived while stopping; it was not answered")
                with self._lock:
                    self._queued -= 1
                continue
            with self._lock:
                self._queued -= 1
                self._pending.add(fut)
            fut.add_done_callback(self._done)

    def _done(self, fut: Future[None]) -> None:
        with self._lock:
            self._pending.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            log.error("slack worker failed", exc_info=fut.exception())

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait for replies queued or in progress; True when none is left."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending, queued = set(self._pending), self._queued
            if not pending and not queued:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if pending:
                wait(pending, timeout=min(left, 0.05) if queued else left)
            else:
                time.sleep(0.005)

    def close(self, timeout: float = 30.0) -> None:
        """Finish replies in progress, then stop the dispatcher and the worker pool (if this bot made it)."""
        self.drain(timeout)
        with self._lock:
            dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            self._queue.put(None)
            dispatcher.join(5)
        if self._own_executor:
            self._executor.shutdown(wait=False)

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> Reply | None:
        """Why this request must not reach Bolt (no secret, missing, stale or wrong signature), or None.

        Runs on the raw bytes before anything parses them: Bolt's BoltRequest parses the body as it is built,
        so an unsigned `null`, 50,000-deep array or `payload=%7B` would otherwise be parsed for an outsider."""
        if not self.signing_secret or self._verifier is None:
            log.error("refusing a Slack HTTP request: no signing secret is configured")
            return 401, {"content-type": "text/plain"}, b"request verification is not configured"
        h = {k.lower(): v for k, v in headers.items()}
        stamp, signature = h.get("x-slack-request-timestamp", ""), h.get("x-slack-signature", "")
        try:
            text = body.decode("utf-8")  # Slack signs UTF-8 text; other bytes cannot carry its signature
        except UnicodeDecodeError:
            text = None
        if (text is None or not stamp.isdigit() or len(stamp) > 12 or not signature
                or not self._verifier.is_valid(body=text, timestamp=stamp, signature=signature)):
            self._refused += 1
            if self._refused_logged + 60 < time.monotonic():  # an outsider must not fill the log either
                self._refused_logged = time.monotonic()
                log.warning("refused %d Slack request(s) with a missing, stale or wrong signature (a wrong "
                            "SLACK_SIGNING_SECRET, a clock off by > 5 min, or not Slack)", self._refused)
            return _REFUSED
        return None

    def handle_http(self, body: bytes, headers: Mapping[str, str], query: str = "") -> Reply:
        """Serve one POST /slack/events in-process: the signature first, then Bolt parses and dispatches."""
        refused = self.refusal(body, headers)
        if refused is not None:
            return refused
        try:
            req = BoltRequest(body=body.decode("utf-8"), query=query, headers={k.lower(): v for k, v in headers.items()})
        except Exception as e:  # signed, yet not a payload Bolt can read
            log.warning("a signed Slack request could not be parsed (%s); answered 400", type(e).__name__)
            return 400, {"content-type": "text/plain"}, b"malformed request"
        resp = self.app.dispatch(req)
        return resp.status, resp.first_headers_without_set_cookie(), resp.body.encode("utf-8")

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """POST /slack/events as a WSGI app: the signature checked on the raw body, then Bolt's own WSGI adapter."""
        size = environ.get("CONTENT_LENGTH") or "0"
        if not size.isdigit():  # waitress refuses these first; this app may be mounted elsewhere
            return plain(start_response, 400, "bad Content-Length\n")
        if int(size) > MAX_BODY:
            return plain(start_response, 413, "request too large\n")
        body = environ["wsgi.input"].read(int(size))
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        refused = self.refusal(body, headers)
        if refused is not None:
            return plain(start_response, refused[0], refused[2].decode() + "\n")
        try:
            return list(self._wsgi({**environ, "wsgi.input": io.BytesIO(body)}, start_response))
        except Exception as e:  # signed, yet not a payload Bolt can read; no traceback, no body
            log.warning("a signed Slack request could not be parsed (%s); answered 400", type(e).__name__)
            return plain(start_response, 400, "malformed request\n")

    # ---- filters ------------------------------------------------------------------------------------------

    def _fresh(self, body: Mapping[str, Any]) -> bool:
        """False for an event already handled (Slack retries with the same event_id)."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        if self._seen(str(event_id)):
            log.info("ignoring a repeated delivery of %s", event_id)
            return False
        return True

    @staticmethod
    def _from_bot(event: Mapping[str, Any], context: BoltContext) -> bool:
        return bool(event.get("bot_id") or event.get("subtype") == "bot_message" or event.get("bot_profile")
                    or (event.get("user") and event.get("user") == context.bot_user_id))

    @staticmethod
    def _question(text: str, bot_user_id: str | None) -> str:
        if bot_user_id:
            text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
        return " ".join(render.unescape(text).split())

    # ---- events -------------------------------------------------------------------------------------------

    def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if self._from_bot(event, context) or not self._fresh(body):
            return
        channel_id = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        self._threads((channel_id, thread_ts))
        where = Channel(platform="slack", channel=channel_id, user=event.get("user"))
        self._submit(self._answer_in_thread, where, thread_ts,
                     self._question(event.get("text", ""), context.bot_user_id))

    def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if event.get("subtype") not in _KEEP_SUBTYPES or self._from_bot(event, context):
            return
        channel_id, thread_ts = event.get("channel", ""), event.get("thread_ts")
        text = event.get("text", "")
        if event.get("channel_type") == "im":
            pass
        elif not thread_ts:
            return
        elif (channel_id, thread_ts) not in self._threads:
            # a thread this replica has not seen may still be one the bot answered in (another replica, a restart)
            if not self.service.in_conversation(conversation_key(channel_id, thread_ts)):
                return
            self._threads((channel_id, thread_ts))
        elif context.bot_user_id and f"<@{context.bot_user_id}" in text:
            return  # the app_mention event answers this one
        if not self._fresh(body):
            return
        where = Channel(platform="slack", channel=channel_id, user=event.get("user"))
        self._submit(self._answer_in_thread, where, thread_ts, self._question(text, context.bot_user_id))

    def _answer_in_thread(self, where: Channel, thread_ts: str | None, question: str) -> None:
        channel_id, ts = where.channel, None
        try:
            if not question:
                self._post(channel_id, thread_ts, render.render_notice(render.HELP))
                return
            ts = self._post(channel_id, thread_ts, render.render_placeholder(self.service.document_count(where)))

            def push(text: str) -> None:
                self.client.chat_update(channel=channel_id, ts=ts, **render.render_partial(text))

            partial = _Throttle(push, self._clock, self._interval)
            answer = self.service.ask(question, where, on_partial=partial,
                                      conversation=conversation_key(channel_id, thread_ts))
            partial.finish()
            self.client.chat_update(channel=channel_id, ts=ts, **render.render_answer(answer, links=self._links(where)))
        except Exception:
            log.exception("answering a question in %s failed", channel_id)
            self._apologise(channel_id, thread_ts, ts)

    def _links(self, where: Channel) -> render.Links:
        """Citation page URLs signed for `where` (None when pages are off)."""
        return page_links(self.linker, where)

    def _brief_page(self, brief: Brief, where: Channel) -> str | None:
        return self.linker.brief_url(brief.id, where) if self.linker is not None and brief.id else None

    def _post(self, channel_id: str, thread_ts: str | None, message: render.Message) -> str:
        resp = self.client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, unfurl_links=False,
                                            unfurl_media=False, **message)
        return str(resp["ts"])

    def _apologise(self, channel_id: str, thread_ts: str | None, ts: str | None) -> None:
        sorry = render.render_notice(render.SORRY)
        try:
            if ts:
                self.client.chat_update(channel=channel_id, ts=ts, **sorry)
            else:
                self._post(channel_id, thread_ts, sorry)
            return
        except Exception:
            log.exception("could not replace the placeholder in %s with an apology", channel_id)
        try:
            self._post(channel_id, thread_ts, sorry)
        except Exception:
            log.exception("could not post an apology in %s", channel_id)

    # ---- slash commands -----------------------------------------------------------------------------------

    @staticmethod
    def _where(command: Mapping[str, Any]) -> Channel:
        return Channel(platform="slack", channel=command.get("channel_id", ""), user=command.get("user_id"))

    def _on_ask(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        question = " ".join(render.unescape(command.get("text", "")).split())
        if not question:
            ack(**render.render_notice(render.HELP))
            return
        where = self._where(command)
        # the ack itself is the placeholder: visible at once, however many answers are queued
        ack(response_type="in_channel", **render.render_placeholder(self._count(where)))
        self._submit(self._answer_command, respond, where, question)

    def _count(self, where: Channel) -> int:
        """The channel's document count for the placeholder, cached briefly to keep acks fast."""
        key = (where.platform, where.channel)
        now = self._clock()
        hit = self._counts.get(key)
        if hit is None or now - hit[0] > COUNT_TTL:
            try:
                hit = (now, self.service.document_count(where))
            except Exception:  # a placeholder without a number beats a failed ack
                log.exception("document count for %s failed", where.channel)
                hit = (now, 0)
            self._counts[key] = hit
        return hit[1]

    def _answer_command(self, respond: Callable[..., Any], where: Channel, question: str) -> None:
        try:
            # no streaming here: a response_url takes only five messages
            answer = self.service.ask(question, where)
            respond(replace_original=True, response_type="in_channel",
                    **render.render_answer(answer, asked_by=where.user, question=question, links=self._links(where)))
        except Exception:
            log.exception("/ask in %s failed", where.channel)
            self._respond_sorry(respond)

    @staticmethod
    def _respond_sorry(respond: Callable[..., Any]) -> None:
        try:
            respond(replace_original=True, **render.render_notice(render.SORRY))
        except Exception:
            log.exception("could not send an apology through the response_url")

    def _on_brief(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        topic = " ".join(render.unescape(command.get("text", "")).split()) or None
        self._submit(self._brief_command, respond, self._where(command), topic)

    def _brief_command(self, respond: Callable[..., Any], where: Channel, topic: str | None) -> None:
        try:
            respond(response_type="in_channel", **render.render_placeholder(self.service.document_count(where)))
            brief = self.service.brief(topic, where)
            pages = render.render_brief(brief, topic, links=self._links(where), page=self._brief_page(brief, where))
            # a response_url takes five messages: the placeholder, then at most four pages
            if len(pages) > 4:
                more = render.render_notice(f"…and {len(pages) - 3} more parts. Ask `/brief` with a narrower "
                                            "topic to see them.")
                pages = pages[:3] + [more]
            respond(replace_original=True, response_type="in_channel", **pages[0])
            for page in pages[1:]:
                respond(replace_original=False, response_type="in_channel", **page)
        except Exception:
            log.exception("/brief in %s failed", where.channel)
            self._respond_sorry(respond)

    def _on_digest(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        words = render.unescape(command.get("text", "")).split()
        if not words or words[0].lower() in {"help", "?"}:
            ack(**render.render_notice(render.HELP))
            return
        ack()
        self._submit(self._digest_command, respond, self._where(command), words)

    def _digest_command(self, respond: Callable[..., Any], where: Channel, words: list[str]) -> None:
        try:
            respond(**self._digest_reply(where, words))
        except Exception:
            log.exception("/digest in %s failed", where.channel)
            self._respond_sorry(respond)

    def _digest_reply(self, where: Channel, words: list[str]) -> dict[str, Any]:
        verb = words[0].lower()
        if verb in {"off", "stop", "cancel"}:
            n = self.service.unsubscribe(where)
            text = (f"Stopped this channel's digest{'s' if n != 1 else ''}." if n
                    else "This channel has no digest to stop.")
            return {"response_type": "in_channel" if n else "ephemeral", **render.render_notice(text)}
        if verb in {"status", "list"}:
            subs = self.service.subscriptions(where)
            text = ("This channel gets a digest " + "; and ".join(render.render_subscription(s) for s in subs) + "."
                    if subs else "This channel has no digest. Set one with `/digest 08:00 Europe/Berlin [topic]`.")
            return {"response_type": "ephemeral", **render.render_notice(text)}
        if not _TIME.match(words[0]):
            text = (f"I didn't understand `{render.escape(' '.join(words))}`. Use `/digest 08:00 Europe/Berlin "
                    "[topic]`, `/digest status` or `/digest off`.")
            return {"response_type": "ephemeral", **render.render_notice(text)}
        if len(words) < 2:
            text = f"Add a timezone after the time, e.g. `/digest {render.escape(words[0])} Europe/Berlin`."
            return {"response_type": "ephemeral", **render.render_notice(text)}
        rest = words[2:]
        cadence = "daily"
        if rest and rest[0].lower() in _CADENCES:
            cadence = rest.pop(0).lower()
        try:
            sub = self.service.subscribe(where, words[0], words[1], " ".join(rest) or None, cadence)
        except ValueError as e:
            return {"response_type": "ephemeral", **render.render_notice(render.escape(str(e)))}
        text = f"Digest set: this channel gets a brief {render.render_subscription(sub)}. `/digest off` stops it."
        return {"response_type": "in_channel", **render.render_notice(text)}

    def _on_source(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        words = render.unescape(command.get("text", ""), links="url").split()
        if not words or words[0].lower() in {"help", "?"}:
            ack(**render.render_notice("`/source add URL [every 30m]` adds a feed or page to poll; "
                                       "`/source list` shows the sources."))
            return
        ack()
        self._submit(self._source_command, respond, self._where(command), words)

    def _source_command(self, respond: Callable[..., Any], where: Channel, words: list[str]) -> None:
        try:
            verb = words[0].lower()
            if verb == "list":
                rows = self.service.list_sources()
                text = ("Sources: " + "; ".join(render.escape(s.location) for s in rows[:30])
                        if rows else "No sources yet: `/source add URL`.")
                respond(response_type="ephemeral", **render.render_notice(text))
                return
            args = words[1:] if verb == "add" else words
            if not args:
                respond(response_type="ephemeral", **render.render_notice("Give a URL: `/source add URL`."))
                return
            every = args[2] if len(args) > 2 and args[1].lower() == "every" else (args[1] if len(args) > 1 else None)
            try:
                src = self.service.add_source(where, args[0], every)
            except ValueError as e:
                respond(response_type="ephemeral", **render.render_notice(render.escape(str(e))))
                return
            respond(response_type="in_channel", **render.render_notice(
                f"Added {render.escape(src.location)}: polled every {src.every_seconds // 60} minutes."))
        except Exception:
            log.exception("/source in %s failed", where.channel)
            self._respond_sorry(respond)

    def _on_unknown_command(self, ack: Callable[..., None]) -> None:
        ack(**render.render_notice(render.HELP))

    def _on_help(self, ack: Callable[..., None]) -> None:
        """`/briefbot` (help or anything else): what the bot can do, to the asker only."""
        ack(**render.render_notice(render.HELP))

    # ---- App Home and onboarding --------------------------------------------------------------------------

    def _on_home(self, event: dict[str, Any], context: BoltContext) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        self._submit(self._publish_home, str(event["user"]))

    def _member_channels(self, user: str) -> list[str] | None:
        """The channels (public and private) `user` is in that the bot can see; None when Slack will not say,
        so the Home tab shows no channel rather than channels the user may not be in."""
        out: list[str] = []
        cursor = None
        try:
            for _ in range(10):  # at most 2,000 channels
                resp = self.client.users_conversations(user=user, types="public_channel,private_channel",
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
                subs = self.service.subscriptions(where)
                scope = self.service.channel_scope(where)
                rows.append((channel_id, subs, scope))
                brief = self.service.latest_brief(where)
                if brief is not None and (latest is None or brief.created > latest[1].created):
                    url = self.linker.brief_url(brief.id, where) if self.linker is not None else None
                    latest = (channel_id, brief, url)
            self.client.views_publish(user_id=user, view=render.render_home(rows, latest))
        except Exception:
            log.exception("publishing the Home tab for %s failed", user)

    def _on_home_digest_off(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self._submit(self._home_digest_off, str((body.get("user") or {}).get("id") or ""), str(action.get("value", "")))

    def _home_digest_off(self, user: str, channel_id: str) -> None:
        if channel_id not in (self._member_channels(user) or []):  # only a member may stop a channel's digest
            log.warning("slack: %s asked to stop the digest of %s, a channel they are not in", user, channel_id)
        else:
            removed = self.service.unsubscribe(Channel("slack", channel_id, user))
            log.info("slack: %s stopped %d digest(s) of %s from the Home tab", user, removed, channel_id)
        self._publish_home(user)

    def _on_joined(self, event: dict[str, Any], context: BoltContext) -> None:
        if event.get("user") and event.get("user") == context.bot_user_id:
            self._submit(self._greet, str(event.get("channel", "")))

    def _greet(self, channel_id: str) -> None:
        try:
            self._post(channel_id, None, render.render_notice(render.GREETING))
        except Exception:
            log.exception("could not greet channel %s", channel_id)

    # ---- buttons and errors -------------------------------------------------------------------------------

    def _on_feedback(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self._submit(self._record_feedback, body, action)

    def _record_feedback(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        user = str((body.get("user") or {}).get("id") or "")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts")
        helpful = action.get("action_id") == render.FEEDBACK_HELPFUL
        try:
            self.service.feedback(str(action.get("value", "")), Channel("slack", channel_id, user or None), helpful)
            text = render.THANKS
        except Exception:
            log.exception("recording feedback in %s failed", channel_id)
            text = render.SORRY
        try:
            self.client.chat_postEphemeral(channel=channel_id, user=user, text=text, thread_ts=thread_ts)
            return
        except SlackApiError as e:
            log.warning("could not thank %s in %s with an ephemeral message (%s); using the response_url",
                        user, channel_id, e.response.get("error"))
        url = body.get("response_url")
        if not url:
            return
        try:  # the block action's own response_url reaches the user where chat.postEphemeral could not
            WebhookClient(url, timeout=10).send(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not thank %s in %s through the response_url either", user, channel_id)

    @staticmethod
    def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error in a Slack listener (%s)", body.get("type") or body.get("command"),
                  exc_info=error)


def build_slack_app(service: Service, *, bot_token: str, signing_secret: str | None, api_url: str | None = None,
                    process_before_response: bool = True, executor: Executor | None = None,
                    dedupe: Callable[[str], bool] | None = None) -> App:
    """The Bolt App answering for `service` (see SlackBot for the worker pool and memory behind it)."""
    return SlackBot(service, bot_token=bot_token, signing_secret=signing_secret, api_url=api_url,
                    process_before_response=process_before_response, executor=executor, dedupe=dedupe).app


class SlackRunner:
    """Runs a SlackBot over Socket Mode (app token) or HTTP (POST /slack/events, signed)."""

    def __init__(self, bot: SlackBot, *, mode: str = "socket", app_token: str | None = None) -> None:
        self.check(mode, app_token, bot.signing_secret)
        self.bot, self.mode, self._app_token = bot, mode, app_token
        self._handler: Any = None
        self._server: BotHTTPServer | None = None

    @staticmethod
    def check(mode: str, app_token: str | None, signing_secret: str | None) -> None:
        """ValueError naming the setting a mode lacks."""
        if mode not in {"socket", "http"}:
            raise ValueError(f"Slack mode {mode!r}: use socket or http")
        if mode == "socket" and not app_token:
            raise ValueError("Slack Socket Mode needs an app-level token (SLACK_APP_TOKEN, xapp-…)")
        if mode == "http" and not signing_secret:
            raise ValueError("Slack HTTP mode needs the signing secret (SLACK_SIGNING_SECRET)")

    def start(self) -> None:
        """Connect to Socket Mode and return; in HTTP mode there is nothing to start (mount handle_http)."""
        if self.mode == "socket":
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self._handler = SocketModeHandler(self.bot.app, app_token=self._app_token)
            self._handler.connect()
            log.info("connected to Slack over Socket Mode")

    def handle_http(self, body: bytes, headers: Mapping[str, str], query: str = "") -> tuple[int, dict[str, str], bytes]:
        """Serve one POST /slack/events (for the process's shared HTTP server)."""
        return self.bot.handle_http(body, headers, query)

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """POST /slack/events as a WSGI app (for the process's shared HTTP server)."""
        return self.bot.wsgi(environ, start_response)

    def serve_http(self, port: int = 0, host: str = "127.0.0.1") -> BotHTTPServer:
        """A server of its own for POST /slack/events, in a daemon thread; returns it (port 0 picks one)."""
        self._server = BotHTTPServer(None, port, host=host, slack=self.bot.wsgi).start()
        return self._server

    def stop(self, timeout: float = 30.0) -> None:
        """Disconnect or stop serving, then let replies in progress finish."""
        if self._handler is not None:
            self._handler.close()
            self._handler = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.bot.close(timeout)


# auth.test errors that no retry will mend
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                           "not_allowed_token_type", "missing_scope"})


class SlackStarter:
    """Slack's adapter for `briefbot run`, started now or, when Slack cannot be reached (network down, DNS,
    Slack 5xx), retried in the background with backoff. Until it is up, Slack's HTTP requests get 503 (Slack
    delivers them again) and digests to Slack fail and are retried on a later tick. A refused token or a
    missing setting is not retried: `error` says why.

    `build` makes and starts the adapter: (SlackRunner, SlackPoster); see `bot.runner.start_adapters`.
    """

    def __init__(self, build: Callable[[], tuple[SlackRunner, SlackPoster]], retry_first: float = 5.0,
                 retry_max: float = 300.0) -> None:
        self._build = build
        self._retry = (retry_first, retry_max)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runner: SlackRunner | None = None
        self.poster: SlackPoster | None = None
        self.error: Exception | None = None

    def start(self) -> bool:
        """Try now; True when Slack is up. On a passing failure keep trying in a thread."""
        if self._attempt(None):
            return True
        if self.error is None:
            self._thread = threading.Thread(target=self._keep_trying, name="briefbot-slack-start", daemon=True)
            self._thread.start()
        return False

    def _attempt(self, retry_in: float | None) -> bool:
        try:
            self.runner, self.poster = self._build()
            return True
        except SlackApiError as e:
            code = str(e.response.get("error") or e.response.status_code)
            if code in TOKEN_REFUSED:
                self.error = e
                log.error("slack could not start: Slack refused the bot token (%s): check SLACK_BOT_TOKEN", code)
                return False
            why = f"Slack answered {code}"
        except (OSError, SlackClientError) as e:  # network down, DNS, timeouts, a dropped connection
            why = f"{type(e).__name__}: {e}"
        except Exception as e:  # a missing setting or anything else: retrying will not mend it
            self.error = e
            log.error("slack could not start: %s", e)
            return False
        log.warning("slack: cannot reach Slack (%s)%s", why,
                    f"; trying again in {retry_in:.0f} s" if retry_in else "; trying again in the background")
        return False

    def _keep_trying(self) -> None:
        delay, most = self._retry
        while not self._stop.wait(delay):
            delay = min(delay * 2, most)
            if self._attempt(delay) or self.error is not None:
                if self.runner is not None:
                    log.info("slack started in %s mode", self.runner.mode)
                return

    def handle_http(self, body: bytes, headers: Mapping[str, str], query: str = "") -> tuple[int, dict[str, str], bytes]:
        """POST /slack/events, or 503 while Slack is not connected yet."""
        runner = self.runner
        if runner is None:
            return 503, {"content-type": "text/plain"}, b"briefbot is still connecting to Slack"
        return runner.handle_http(body, headers, query)

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """POST /slack/events as a WSGI app, or 503 while Slack is not connected yet."""
        runner = self.runner
        if runner is None:
            return plain(start_response, 503, "briefbot is still connecting to Slack\n")
        return runner.wsgi(environ, start_response)

    def post_brief(self, channel_id: str, brief: Brief, topic: str | None = None) -> str:
        """A digest through the adapter; fails (to be retried) while Slack is not connected yet."""
        if self.poster is None:
            raise RuntimeError("Slack is not connected yet (still retrying)")
        return self.poster.post_brief(channel_id, brief, topic)

    def stop(self) -> None:
        """Stop retrying, then stop the adapter if it started."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.runner is not None:
            self.runner.stop()


class SlackPostError(RuntimeError):
    """Slack refused a digest post; the message says why and what to do."""

    def __init__(self, channel_id: str, error: str) -> None:
        self.channel_id, self.error = channel_id, error
        hints = {
            "not_in_channel": f"the bot is not a member of channel {channel_id}: invite it with /invite @briefbot",
            "channel_not_found": f"channel {channel_id} was not found (deleted, or the bot cannot see it)",
            "is_archived": f"channel {channel_id} is archived",
            "invalid_auth": "the Slack bot token is invalid (check SLACK_BOT_TOKEN)",
            "not_authed": "no Slack bot token was sent (check SLACK_BOT_TOKEN)",
            "account_inactive": "the Slack bot token belongs to a deactivated app or workspace",
            "ratelimited": f"Slack kept rate-limiting posts to channel {channel_id}",
        }
        super().__init__(f"could not post to Slack: {hints.get(error, f'channel {channel_id}: {error}')}")


class SlackPoster:
    """Posts digests (briefs) to a channel for the scheduler."""

    def __init__(self, client: WebClient, linker: Linker | None = None) -> None:
        self.client = client
        self.linker = linker

    @classmethod
    def from_token(cls, bot_token: str, api_url: str | None = None, linker: Linker | None = None) -> SlackPoster:
        """A poster with its own retrying client."""
        return cls(make_client(bot_token, api_url), linker)

    def post_brief(self, channel_id: str, brief: Brief, topic: str | None = None) -> str:
        """Post the brief (in as many messages as it needs); returns the first message's ts."""
        first = ""
        where = Channel("slack", channel_id)
        url = self.linker.brief_url(brief.id, where) if self.linker is not None and brief.id else None
        for page in render.render_brief(brief, topic, links=page_links(self.linker, where), page=url):
            try:
                resp = self.client.chat_postMessage(channel=channel_id, unfurl_links=False, unfurl_media=False,
                                                    **page)
            except SlackApiError as e:
                raise SlackPostError(channel_id, str(e.response.get("error") or "unknown_error")) from e
            first = first or str(resp["ts"])
        return first
