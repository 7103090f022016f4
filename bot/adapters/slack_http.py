"""Slack's requests in: the signature checked on the raw bytes, then Bolt over HTTP (in-process or WSGI) or Socket
Mode; and starting that with backoff while Slack cannot be reached.

Owns no listener: those are SlackBot's (bot.adapters.slack). The bot's own HTTP server mounts `wsgi`.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from bot.adapters.runtime import Backoff, Starter
from bot.domain import Brief
from bot.http_server import EVENTS_PATH, MAX_BODY, BotHTTPServer, StartResponse, plain

if TYPE_CHECKING:
    from bot.adapters.slack import SlackBot
    from bot.adapters.slack_post import SlackPoster

log = logging.getLogger("briefbot.slack")


class _NoBodies(logging.Filter):
    """Bolt logs a refused request's whole body at INFO; an outsider chooses that body. Keep the line, not it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature"):
            record.msg, record.args = "Invalid request signature detected (body not logged)", ()
        return True


logging.getLogger("slack_bolt.RequestVerification").addFilter(_NoBodies())
Reply = tuple[int, dict[str, str], bytes]
_REFUSED: Reply = (401, {"content-type": "text/plain"}, b"invalid request signature")


class SlackHTTP:
    """POST /slack/events for a Bolt App: refused before any parsing unless signed with the signing secret."""

    def __init__(self, app: App, signing_secret: str | None) -> None:
        self.app = app
        self.signing_secret = signing_secret
        self._wsgi = SlackRequestHandler(app, EVENTS_PATH)
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._refused, self._refused_logged = 0, -1e9

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
        self._starter = Starter("Slack", build, _classify, Backoff(retry_first, retry_max), log,
                                on_up=lambda up: log.info("slack started in %s mode", up[0].mode))

    @property
    def runner(self) -> SlackRunner | None:
        """The running adapter, once Slack is up."""
        return self._starter.value[0] if self._starter.value else None

    @property
    def poster(self) -> SlackPoster | None:
        """Posts digests, once Slack is up."""
        return self._starter.value[1] if self._starter.value else None

    @property
    def error(self) -> Exception | None:
        """Why Slack will not start (a refused token, a missing setting); None while up or still trying."""
        return self._starter.error

    def start(self) -> bool:
        """Try now; True when Slack is up. On a passing failure keep trying in a thread."""
        return self._starter.start()

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
        self._starter.stop()
        if self.runner is not None:
            self.runner.stop()


def _classify(e: Exception) -> tuple[bool, str]:
    """(True, why) for a failure to reach Slack that will pass; (False, what to fix) otherwise."""
    if isinstance(e, SlackApiError):
        code = str(e.response.get("error") or e.response.status_code)
        if code in TOKEN_REFUSED:
            return False, f"Slack refused the bot token ({code}): check SLACK_BOT_TOKEN"
        return True, f"Slack answered {code}"
    if isinstance(e, (OSError, SlackClientError)):  # network down, DNS, timeouts, a dropped connection
        return True, f"{type(e).__name__}: {e}"
    return False, str(e)  # a missing setting or anything else: retrying will not mend it


