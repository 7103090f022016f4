"""A port-0 fake OpenAI-compatible server: records every request, answers from a scripted queue.

Serves POST /v1/chat/completions (JSON or SSE), POST /v1/embeddings (deterministic vectors unless scripted)
and GET /v1/models on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from bot.llm.fake import chat_reply

# What llama-cpp-python 0.3.36's server answers (HTTP 500) to response_format type json_schema; seen in
# tests/test_llama_cpp.py. The real message goes on with a traceback line naming a file on the server.
LLAMA_CPP_JSON_SCHEMA_ERROR = {
    "error": {
        "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
        "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
        "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  POST /v1/chat/completions",
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}


@dataclass
class Recorded:
    """One request as the server saw it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, the raw text when it is not JSON, None for GET


@dataclass
class _Script:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    # A streamed reply: built per request because the usage chunk depends on stream_options.
    stream: Callable[[Any], list[bytes]] | None = None
    interval: float = 0.0
    # Applies only to matching requests; others skip past it to the next script.
    only_if: Callable[[Any], bool] | None = None


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def hashed_embedding(text: str, dim: int) -> list[float]:
    """A deterministic, normalised bag-of-words vector: equal texts get equal vectors, shared words similar ones."""
    v = [0.0] * dim
    for word in text.lower().split():
        v[int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dim] += 1.0
    v[0] += 0.01
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


class FakeOpenAIServer:
    """Context manager: `with FakeOpenAIServer() as server: OpenAI(base_url=server.base_url)`."""

    def __init__(self, model: str = "fake-model", embedding_dim: int = 32) -> None:
        self.model = model
        self.embedding_dim = embedding_dim
        self.requests: list[Recorded] = []
        self._queue: deque[_Script] = deque()
        self._embed_queue: deque[_Script] = deque()  # scripted /v1/embeddings replies; else hashed_embedding
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # with nothing scripted, a reply computed from the request (message content), e.g. a bench's stand-in
        # model; None keeps the default: HTTP 500 "no scripted reply"
        self.responder: Callable[[Any], str] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A handler still sleeping for a timeout test must not hold up close().
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; wakes handlers that are sleeping."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The base_url to give the openai SDK."""
        return self.url + "/v1"

    @property
    def bodies(self) -> list[Any]:
        """Parsed bodies of the chat completion requests, in order."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._lock:
            return len(self._queue)

    # -- scripting ------------------------------------------------------------------------------

    def enqueue(self, json_body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Answer the next request with this JSON body."""
        self._queue.append(_Script(status=status, headers=dict(headers or {}), body=_json_bytes(json_body)))

    def enqueue_text(self, content: str | None, usage: tuple[int, int] | None = (12, 7), finish: str = "stop") -> None:
        """Answer with a chat completion whose message content is this text (valid JSON or not)."""
        self.enqueue(chat_reply(content, usage=usage, model=self.model, finish_reason=finish))

    def enqueue_raw(self, body: bytes | str, status: int = 200, content_type: str = "text/html") -> None:
        """Answer with arbitrary bytes, e.g. a proxy's HTML error page."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self._queue.append(_Script(status=status, headers={"Content-Type": content_type}, body=data))

    def enqueue_status(self, status: int, retry_after: float | None = None, message: str | None = None) -> None:
        """Answer with an OpenAI-style error body and this status (and a Retry-After header when given)."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        kind = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
        error = {"error": {"message": message or f"scripted HTTP {status}", "type": kind, "param": None, "code": None}}
        self._queue.append(_Script(status=status, headers=headers, body=_json_bytes(error)))

    def enqueue_sleep(self, seconds: float, then: Any | None = None) -> None:
        """Wait seconds before answering (with `then`, or a valid reply), to trip client timeouts."""
        reply = then if then is not None else chat_reply('{"late": true}', model=self.model)
        self._queue.append(_Script(body=_json_bytes(reply), delay=seconds))

    def enqueue_stream(
        self,
        chunks: Iterable[str | dict[str, Any]],
        usage: tuple[int, int] | None = (12, 7),
        finish: str = "stop",
        interval: float = 0.0,
    ) -> None:
        """Answer as server-sent events: str chunks become content deltas, dicts are sent as they are."""
        pieces = list(chunks)
        model = self.model

        def build(request: Any) -> list[bytes]:
            ident = f"chatcmpl-fake{time.monotonic_ns()}"
            created = int(time.time())

            def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
                return {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
                }

            events = [chunk({"role": "assistant", "content": ""}, None)]
            for piece in pieces:
                events.append(chunk({"content": piece}, None) if isinstance(piece, str) else piece)
            events.append(chunk({}, finish))
            wants_usage = isinstance(request, dict) and (request.get("stream_options") or {}).get("include_usage")
            if usage is not None and wants_usage:
                total = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
                events.append({**chunk({}, None), "choices": [], "usage": total})
            return [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]

        self._queue.append(_Script(headers={"Content-Type": "text/event-stream"}, stream=build, interval=interval))

    def enqueue_reject_json_schema(self) -> None:
        """Like llama.cpp: HTTP 500 if the next request asks for json_schema; other requests skip this script."""

        def asks_json_schema(request: Any) -> bool:
            fmt = request.get("response_format") if isinstance(request, dict) else None
            return isinstance(fmt, dict) and fmt.get("type") == "json_schema"

        self._queue.append(_Script(status=500, body=_json_bytes(LLAMA_CPP_JSON_SCHEMA_ERROR), only_if=asks_json_schema))

    def enqueue_embeddings_status(self, status: int, message: str | None = None) -> None:
        """Answer the next /v1/embeddings request with an OpenAI-style error and this status."""
        error = {"error": {"message": message or f"scripted HTTP {status}", "type": "server_error", "param": None,
                           "code": None}}
        self._embed_queue.append(_Script(status=status, body=_json_bytes(error)))

    def enqueue_embeddings_raw(self, json_body: Any, status: int = 200) -> None:
        """Answer the next /v1/embeddings request with this JSON body (e.g. a malformed one)."""
        self._embed_queue.append(_Script(status=status, body=_json_bytes(json_body)))

    def _embeddings(self, request: Any) -> _Script:
        with self._lock:
            if self._embed_queue:
                return self._embed_queue.popleft()
        inputs = request.get("input") if isinstance(request, dict) else None
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or any(not isinstance(t, str) or not t for t in inputs):
            error = {"error": {"message": "input must be a non-empty string or array of non-empty strings",
                               "type": "invalid_request_error", "param": "input", "code": None}}
            return _Script(status=400, body=_json_bytes(error))
        data = [{"object": "embedding", "index": i, "embedding": hashed_embedding(t, self.embedding_dim)}
                for i, t in enumerate(inputs)]
        n = sum(len(t.split()) for t in inputs)
        return _Script(body=_json_bytes({"object": "list", "data": data, "model": request.get("model"),
                                         "usage": {"prompt_tokens": n, "total_tokens": n}}))

    # -- serving --------------------------------------------------------------------------------

    def _next(self, request: Any) -> _Script:
        with self._lock:
            while self._queue:
                script = self._queue.popleft()
                if script.only_if is None or script.only_if(request):
                    return script
        if self.responder is not None:
            return _Script(body=_json_bytes(chat_reply(self.responder(request), model=self.model)))
        error = {"error": {"message": "no scripted reply", "type": "server_error", "param": None, "code": None}}
        return _Script(status=500, body=_json_bytes(error))


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.server_fake._lock:
            self.server_fake.requests.append(Recorded(self.command, self.path, headers, body))

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": self.server_fake.model, "object": "model", "created": 0, "owned_by": "fake"}
            self._send(200, _json_bytes({"object": "list", "data": [model]}))
        else:
            self._send(404, _json_bytes({"error": {"message": f"no route {self.path}", "type": "not_found"}}))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self._record(body)
        if self.path.rstrip("/") == "/v1/embeddings":
            reply = self.server_fake._embeddings(body)
            self._send(reply.status, reply.body, reply.headers)
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, _json_bytes({"error": {"message": f"no route {self.path}", "type": "not_found"}}))
            return
        script = self.server_fake._next(body)
        if script.delay and self.server_fake._stopping.wait(script.delay):
            return
        try:
            if script.stream is None:
                self._send(script.status, script.body, script.headers)
                return
            self.send_response(script.status)
            for name, value in script.headers.items():
                self.send_header(name, value)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            for event in script.stream(body):
                self.wfile.write(event)
                self.wfile.flush()
                if script.interval:
                    time.sleep(script.interval)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests); nothing to answer
