"""The Slack adapter: Bolt listeners that translate events and commands into Service calls and render the replies.

Translate -> call -> render: the grammar and reply texts are bot.adapters.commands', the layout slack_render's, the
worker pool runtime's, the signed HTTP edge slack_http's, digest posting slack_post's. Every listener acks at once
and leaves the core call to a worker.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.adapters import commands
from bot.adapters import slack_render as render
from bot.adapters.runtime import Workers
from bot.adapters.slack_home import SlackHome
from bot.adapters.slack_http import TOKEN_REFUSED, Reply, SlackHTTP, SlackRunner, SlackStarter
from bot.adapters.slack_post import SlackPoster, SlackPostError, make_client, page_links
from bot.domain import Brief, Channel
from bot.http_server import EVENTS_PATH, StartResponse
from bot.service import PageLinks, Service

__all__ = ["EVENTS_PATH", "TOKEN_REFUSED", "SlackBot", "SlackPostError", "SlackPoster", "SlackRunner", "SlackStarter",
           "build_slack_app", "conversation_key", "make_client", "page_links"]

COUNT_TTL = 30.0  # seconds a channel's document count is reused for placeholders

log = logging.getLogger("briefbot.slack")

UPDATE_INTERVAL = 1.5  # seconds between streamed chat.update calls (Slack's tier-3 limit is ~50/min)
_KEEP_SUBTYPES = {None, "thread_broadcast", "file_share"}  # messages a person wrote
HELP = render.render_notice(commands.help_text(render.DIALECT))


class _QuietBolt(logging.Filter):
    """Drops Bolt's start-up warning that the SLACK_BOT_TOKEN it read from the environment goes unused: the
    adapter hands Bolt a client made with that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("briefbot.bolt").addFilter(_QuietBolt())


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
                 memory: int = 10_000, linker: PageLinks | None = None) -> None:
        self.service = service
        self.linker = linker
        self.signing_secret = signing_secret
        self.client = client or make_client(bot_token, api_url)
        # answers mostly wait on the model or the network: enough threads that a burst is not queued for minutes
        self.workers = Workers("slack", executor=executor, log=log)
        self._seen = dedupe or _Seen(memory)
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._threads = _Seen(memory)  # (channel, thread_ts) the bot answered in
        self._clock = clock
        self._interval = update_interval
        # Every listener here only acks and hands the work to the pool, so Bolt runs it inline
        # (process_before_response): its other mode runs each listener on a thread of its own and polls
        # for the ack every 10 ms, which cost 11 ms a request against 0.4 ms inline.
        # "" rather than None keeps Bolt from reading SLACK_SIGNING_SECRET itself; handle_http refuses
        # to serve at all without a secret, and Socket Mode requests are not signed.
        self.app = App(client=self.client, signing_secret=signing_secret or "", name="briefbot",
                       process_before_response=process_before_response, logger=logging.getLogger("briefbot.bolt"))
        self.http = SlackHTTP(self.app, signing_secret)
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
        SlackHome(self).register(app)
        app.command(re.compile(r"^/"))(self._on_help)
        app.action(render.FEEDBACK_HELPFUL)(self._on_feedback)
        app.action(render.FEEDBACK_NOT_HELPFUL)(self._on_feedback)
        app.error(self._on_error)

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        self.workers.submit(fn, *args)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait for replies queued or in progress; True when none is left."""
        return self.workers.drain(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Finish replies in progress, then stop the worker pool (if this bot made it)."""
        self.workers.close(timeout)

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> Reply | None:
        """Why this request must not reach Bolt (see SlackHTTP.refusal), or None."""
        return self.http.refusal(body, headers)

    def handle_http(self, body: bytes, headers: Mapping[str, str], query: str = "") -> Reply:
        """Serve one POST /slack/events in-process: the signature first, then Bolt parses and dispatches."""
        return self.http.handle_http(body, headers, query)

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """POST /slack/events as a WSGI app: the signature checked on the raw body, then Bolt's own WSGI adapter."""
        return self.http.wsgi(environ, start_response)

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
        return commands.question(render.unescape(text))

    # ---- events -------------------------------------------------------------------------------------------

    def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if self._from_bot(event, context) or not self._fresh(body):
            return
        channel_id = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        self._threads((channel_id, thread_ts))
        where = Channel(platform="slack", channel=channel_id, user=event.get("user"))
        self._submit(self._answer_in_thread, where, thread_ts,
                     self._question(event.get("text", ""), context.bot_user_id), event.get("thread_ts"))

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
        self._submit(self._answer_in_thread, where, thread_ts, self._question(text, context.bot_user_id), thread_ts)

    def _answer_in_thread(self, where: Channel, thread_ts: str | None, question: str,
                          asked_in: str | None = None) -> None:
        """Answer in the thread `thread_ts` (None: a DM's top level). "Searching…" goes only to the asker, as an
        ephemeral message where they asked (`asked_in`: the thread they wrote in, if any); the answer is posted in the
        thread once its first words exist and updated as it grows. If it fails, no half answer is left behind."""
        channel_id = where.channel
        posted: list[str] = []  # the ts of the answer's message, once posted

        def show(message: render.Message) -> None:
            if posted:
                self.client.chat_update(channel=channel_id, ts=posted[0], **message)
            else:
                posted.append(self._post(channel_id, thread_ts, message))

        try:
            if not question:
                self._post(channel_id, thread_ts, HELP)
                return
            self._tell_asker(where, asked_in, render.render_placeholder(self._count(where)))
            partial = _Throttle(lambda text: show(render.render_partial(text)), self._clock, self._interval)
            answer = self.service.ask(question, where, on_partial=partial,
                                      conversation=conversation_key(channel_id, thread_ts))
            partial.finish()
            show(render.render_answer(answer, links=self._links(where)))
        except Exception:
            log.exception("answering a question in %s failed", channel_id)
            self._apologise(where, thread_ts, asked_in, posted[0] if posted else None)

    def _tell_asker(self, where: Channel, asked_in: str | None, message: render.Message) -> bool:
        """An ephemeral message to the asker where they asked. Slack shows one in a thread only once the thread exists,
        so a question at a channel's top level is told there. False when Slack refused it."""
        try:
            self.client.chat_postEphemeral(channel=where.channel, user=where.user or "", thread_ts=asked_in, **message)
            return True
        except SlackApiError as e:
            log.warning("could not tell %s in %s privately (%s)", where.user, where.channel, e.response.get("error"))
            return False

    def _links(self, where: Channel) -> render.Links:
        """Citation page URLs signed for `where` (None when pages are off)."""
        return page_links(self.linker, where)

    def _brief_page(self, brief: Brief, where: Channel) -> str | None:
        return self.linker.brief_url(brief.id, where) if self.linker is not None and brief.id else None

    def _post(self, channel_id: str, thread_ts: str | None, message: render.Message) -> str:
        resp = self.client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, unfurl_links=False,
                                            unfurl_media=False, **message)
        return str(resp["ts"])

    def _apologise(self, where: Channel, thread_ts: str | None, asked_in: str | None, ts: str | None) -> None:
        """Say sorry to the asker alone, after taking back any half-written answer; in the thread only when Slack
        will not deliver the private message."""
        channel_id = where.channel
        sorry = render.render_notice(commands.ERROR)
        if ts:
            try:
                self.client.chat_delete(channel=channel_id, ts=ts)
            except Exception:
                log.exception("could not take back the half-written answer in %s", channel_id)
                try:
                    self.client.chat_update(channel=channel_id, ts=ts, **sorry)
                    return
                except Exception:
                    log.exception("could not replace the half-written answer in %s with an apology", channel_id)
        if self._tell_asker(where, asked_in, sorry):
            return
        try:
            self._post(channel_id, thread_ts, sorry)
        except Exception:
            log.exception("could not post an apology in %s", channel_id)

    # ---- slash commands -----------------------------------------------------------------------------------

    @staticmethod
    def _where(command: Mapping[str, Any]) -> Channel:
        return Channel(platform="slack", channel=command.get("channel_id", ""), user=command.get("user_id"))

    def _on_ask(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        question = commands.question(render.unescape(command.get("text", "")))
        if not question:
            ack(**HELP)
            return
        where = self._where(command)
        # the ack itself is the placeholder, shown to the asker alone at once, however many answers are queued
        ack(**render.render_placeholder(self._count(where)))
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
            # a private placeholder cannot become a public message: the answer is a new one, then it goes
            respond(replace_original=False, response_type="in_channel",
                    **render.render_answer(answer, asked_by=where.user, question=question, links=self._links(where)))
        except Exception:
            log.exception("/ask in %s failed", where.channel)
            self._respond_sorry(respond)
            return
        self._drop_placeholder(respond)

    @staticmethod
    def _drop_placeholder(respond: Callable[..., Any]) -> None:
        try:
            respond(delete_original=True)
        except Exception:  # it is the asker's alone and goes when they reload
            log.warning("could not delete a command's placeholder", exc_info=True)

    @staticmethod
    def _respond_sorry(respond: Callable[..., Any]) -> None:
        try:
            respond(replace_original=True, **render.render_notice(commands.ERROR))
        except Exception:
            log.exception("could not send an apology through the response_url")

    def _on_brief(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        where = self._where(command)
        ack(**render.render_placeholder(self._count(where)))  # to the asker alone, like /ask's
        topic = commands.topic(render.unescape(command.get("text", "")))
        self._submit(self._brief_command, respond, where, topic)

    def _brief_command(self, respond: Callable[..., Any], where: Channel, topic: str | None) -> None:
        try:
            brief = self.service.brief(topic, where)
            pages = render.render_brief(brief, topic, links=self._links(where), page=self._brief_page(brief, where))
            # a response_url takes five messages: at most four pages, then the placeholder's deletion
            if len(pages) > 4:
                more = render.render_notice(f"…and {len(pages) - 3} more parts. Ask `/brief` with a narrower "
                                            "topic to see them.")
                pages = pages[:3] + [more]
            for page in pages:
                respond(replace_original=False, response_type="in_channel", **page)
        except Exception:
            log.exception("/brief in %s failed", where.channel)
            self._respond_sorry(respond)
            return
        self._drop_placeholder(respond)

    def _on_digest(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        request = commands.DigestRequest.parse(render.unescape(command.get("text", "")))
        if request.action == "help":
            ack(**HELP)
            return
        ack()
        self._submit(self._run_command, respond, self._where(command), "/digest", commands.digest, request)

    def _on_source(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        request = commands.SourceRequest.parse(render.unescape(command.get("text", ""), links="url"))
        if request.action == "help":
            ack(**render.render_notice(commands.source(self.service, self._where(command), request,
                                                       render.DIALECT).text))
            return
        ack()
        self._submit(self._run_command, respond, self._where(command), "/source", commands.source, request)

    def _run_command(self, respond: Callable[..., Any], where: Channel, name: str,
                     run: Callable[[Service, Channel, Any, commands.Dialect], commands.Reply], request: Any) -> None:
        try:
            reply = run(self.service, where, request, render.DIALECT)
            respond(response_type="in_channel" if reply.public else "ephemeral", **render.render_notice(reply.text))
        except Exception:
            log.exception("%s in %s failed", name, where.channel)
            self._respond_sorry(respond)

    def _on_help(self, ack: Callable[..., None]) -> None:
        """`/briefbot` (help or anything else), or a command the bot does not know: what it can do, to the asker."""
        ack(**HELP)

    # ---- buttons and errors -------------------------------------------------------------------------------

    def _on_feedback(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self._submit(self._record_feedback, body, action)

    def _record_feedback(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        user = str((body.get("user") or {}).get("id") or "")
        thread_ts = (body.get("message") or {}).get("thread_ts")
        helpful = action.get("action_id") == render.FEEDBACK_HELPFUL
        text = commands.feedback(self.service, str(action.get("value", "")), Channel("slack", channel_id, user or None),
                                 helpful).text
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
