"""A port-0 fake Slack Web API on loopback that records every call with its full decoded body.

Also records posts to fake response_urls, scripts errors and 429s, and can serve a Socket Mode websocket.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = "UBOT"
BOT_ID = "BBOT"


@dataclass
class Call:
    """One request the fake received."""

    method: str  # Web API method, or "response_url"
    body: dict[str, Any]
    headers: dict[str, str]
    path: str
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """The fake Web API: start(), .url for WebClient(base_url=...), .calls, wait_for(), scripted failures."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._scripted: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self._ts = 1_700_000_000
        self.ws_url = "ws://127.0.0.1:9/"
        self._server: ThreadingHTTPServer | None = None
        self.members: dict[str, list[str]] = {}  # user id -> the channels users.conversations lists for them

    # ---- lifecycle ----
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, body, headers = fake._handle(self.path, raw, dict(self.headers.items()))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # ---- scripting ----
    def fail_next(self, method: str, error: str, status: int = 200) -> None:
        """The next call of `method` answers ok=false with `error`."""
        self._scripted.setdefault(method, []).append((status, {"ok": False, "error": error}, {}))

    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        """The next call of `method` answers 429 with Retry-After."""
        self._scripted.setdefault(method, []).append(
            (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}))

    # ---- queries ----
    def of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `method` was called `count` times; returns those calls (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [c for c in self.calls if c.method == method]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{method} called {len(got)} times, wanted {count}; "
                                         f"calls: {[c.method for c in self.calls]}")
                self._cond.wait(left)

    def wait_until(self, predicate: Any, timeout: float = 10.0) -> None:
        """Block until `predicate(calls)` holds (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self.calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; calls: {[c.method for c in self.calls]}")
                self._cond.wait(left)

    # ---- serving ----
    @staticmethod
    def _decode(raw: bytes, ctype: str) -> dict[str, Any]:
        text = raw.decode("utf-8")
        if not text:
            return {}
        if "json" in ctype or text.startswith("{"):
            return dict(json.loads(text))
        body: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
        for k in ("blocks", "attachments", "metadata"):
            if isinstance(body.get(k), str):
                body[k] = json.loads(body[k])
        return body

    def _handle(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        lower = {k.lower(): v for k, v in headers.items()}
        body = self._decode(raw, lower.get("content-type", ""))
        path = path.split("?")[0]
        method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
        with self._cond:
            self.calls.append(Call(method, body, lower, path))
            self._cond.notify_all()
            scripted = self._scripted.get(method)
            if scripted:
                return scripted.pop(0)
            self._ts += 1
            ts = f"{self._ts}.000100"
        if method == "auth.test":
            return 200, {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "briefbot",
                         "team_id": "T1", "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}, {}
        if method == "chat.postMessage":
            return 200, {"ok": True, "channel": body.get("channel"), "ts": ts,
                         "message": {"text": body.get("text"), "ts": ts, "bot_id": BOT_ID}}, {}
        if method == "chat.update":
            return 200, {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text")}, {}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": ts}, {}
        if method == "users.conversations":
            chans = [{"id": c, "is_channel": True} for c in self.members.get(str(body.get("user")), [])]
            return 200, {"ok": True, "channels": chans, "response_metadata": {"next_cursor": ""}}, {}
        if method == "views.publish":
            return 200, {"ok": True, "view": dict(body.get("view") or {}, id="V1")}, {}
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.ws_url}, {}
        return 200, {"ok": True}, {}


class FakeSocketMode:
    """A Socket Mode websocket on loopback: says hello, sends the envelopes it was given, records the acks.

    Used as a context manager; point FakeSlack.ws_url at `url` so apps.connections.open hands it out."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.acks: list[dict[str, Any]] = []
        self.got_ack = threading.Event()
        self.url = ""
        self._server: Any = None

    def _handle(self, ws: Any) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"},
                            "connection_info": {"app_id": "A1"}}))
        for envelope in self.envelopes:
            ws.send(json.dumps(envelope))
        try:
            for msg in ws:
                self.acks.append(json.loads(msg))
                self.got_ack.set()
        except Exception:  # the client hung up: the test is over
            pass

    def __enter__(self) -> FakeSocketMode:
        from websockets.sync.server import serve

        self._server = serve(self._handle, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
