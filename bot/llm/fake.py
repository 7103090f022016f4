"""An in-process OpenAI-compatible server: scripted replies served through httpx's MockTransport, so the real
openai SDK and OpenAICompat run unmodified with no socket (tests, benches, a demo without a model).

An edge module like openai_compat (imports openai and httpx); nothing of the bot but the transport's needs.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai

BASE_URL = "http://llm.fake/v1"


def chat_reply(content: str | None, usage: tuple[int, int] | None = (12, 7), model: str = "fake-model",
               finish_reason: str = "stop") -> dict[str, Any]:
    """A realistic chat.completion body; usage=None leaves usage out, as some servers do."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-fake{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                     "logprobs": None, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    return body


def as_events(reply: dict[str, Any], with_usage: bool, piece: int = 16) -> bytes:
    """A chat.completion body as the server-sent events a streamed request gets: the content in pieces."""
    choice = reply["choices"][0]
    content = choice["message"]["content"] or ""

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"id": reply["id"], "object": "chat.completion.chunk", "created": reply["created"],
                "model": reply["model"], "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                      "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""}, None)]
    events += [chunk({"content": content[i:i + piece]}, None) for i in range(0, len(content), piece)]
    events.append(chunk({}, choice["finish_reason"]))
    if with_usage and "usage" in reply:
        events.append({**chunk({}, None), "choices": [], "usage": reply["usage"]})
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


@dataclass
class Reply:
    """One scripted answer: a status, headers and a JSON body."""

    status: int
    body: Any
    headers: dict[str, str]


class ScriptedLLM:
    """Answers chat completions from a queue (`enqueue_*`), in order; records every request body (`bodies`).

    With the queue empty, `responder(request body) -> content` answers if set, else HTTP 500. A scripted chat
    completion is sent as server-sent events when the request asks to stream.
    """

    def __init__(self, model: str = "fake-model") -> None:
        self.model = model
        self.bodies: list[Any] = []
        self.responder: Callable[[Any], str] | None = None
        self._queue: deque[Reply] = deque()

    def enqueue(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Answer the next request with this JSON body."""
        self._queue.append(Reply(status, body, dict(headers or {})))

    def enqueue_text(self, content: str | None, usage: tuple[int, int] | None = (12, 7), finish: str = "stop") -> None:
        """Answer with a chat completion whose message content is this text (valid JSON or not)."""
        self.enqueue(chat_reply(content, usage=usage, model=self.model, finish_reason=finish))

    def enqueue_status(self, status: int, retry_after: float | None = None, message: str | None = None) -> None:
        """Answer with an OpenAI-style error body and this status (and a Retry-After header when given)."""
        kind = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
        self.enqueue({"error": {"message": message or f"scripted HTTP {status}", "type": kind, "param": None,
                                "code": None}}, status, {} if retry_after is None else {"Retry-After": f"{retry_after:g}"})

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        return len(self._queue)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The MockTransport handler: /models lists the model, /chat/completions answers from the script."""
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [
                {"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}]})
        if request.method != "POST" or not path.endswith("/chat/completions"):
            return httpx.Response(404, json={"error": {"message": f"no route {path}", "type": "not_found"}})
        body = json.loads(request.content)
        self.bodies.append(body)
        if self._queue:
            reply = self._queue.popleft()
        elif self.responder is not None:
            reply = Reply(200, chat_reply(self.responder(body), model=self.model), {})
        else:
            reply = Reply(500, {"error": {"message": "no scripted reply", "type": "server_error"}}, {})
        if body.get("stream") and reply.status == 200 and "choices" in reply.body:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return httpx.Response(200, content=as_events(reply.body, usage),
                                  headers={"Content-Type": "text/event-stream", **reply.headers})
        return httpx.Response(reply.status, json=reply.body, headers=reply.headers)

    def client(self, timeout: float = 30.0) -> openai.OpenAI:
        """An openai client whose every request this script answers, in process."""
        # openai 1.x types http_client as an httpx.Client, 3.x as an httpx2.Client and still takes an httpx one:
        # passed untyped so one line serves every SDK this project allows (openai>=1.50)
        untyped: dict[str, Any] = {"http_client": httpx.Client(transport=httpx.MockTransport(self.handle))}
        return openai.OpenAI(api_key="sk-fake", base_url=BASE_URL, timeout=timeout, max_retries=0, **untyped)
