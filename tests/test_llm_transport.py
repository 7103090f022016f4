"""The real openai SDK, through bot.llm.openai_compat, against a scripted loopback server; offline token counts."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from bot.llm import tokens
from bot.llm.fake import BASE_URL, ScriptedLLM, chat_reply
from bot.llm.openai_compat import LLMResult, OpenAICompat, is_local, load_prompt, parse_json_object, safe_server
from tests.fakes.openai_server import FakeOpenAIServer

KEY = "sk-test-SECRET-4f9a1c2b7e"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "citations": {"type": "array", "items": {"type": "integer"}}},
    "required": ["answer", "citations"],
}
GOOD = '{"answer": "Rates rose [1].", "citations": [1]}'
RECORD_KEYS = {
    "prompt_name",
    "prompt_hash",
    "model",
    "tokens_in",
    "tokens_out",
    "estimated",
    "latency_ms",
    "outcome",
    "error",
    "attempts",
    "server",
    "structured",
}


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


class Harness:
    """Builds transports against the fake and keeps what they slept and recorded."""

    def __init__(self, server: FakeOpenAIServer) -> None:
        self.server = server
        self.sleeps: list[float] = []
        self.records: list[dict[str, Any]] = []

    def llm(self, **kwargs: Any) -> OpenAICompat:
        options: dict[str, Any] = {
            "api_key": KEY,
            "base_url": self.server.base_url,
            "model": "gpt-4o-mini",
            "timeout": 5.0,
            "sleep": self.sleeps.append,
            "on_call": self.records.append,
        }
        options.update(kwargs)
        return OpenAICompat(**options)

    def ask(self, llm: OpenAICompat, **kwargs: Any) -> LLMResult:
        return llm.complete_json("Answer from the sources.", "What happened to rates?", SCHEMA, "answer", **kwargs)


@pytest.fixture
def h(server: FakeOpenAIServer) -> Harness:
    return Harness(server)


# -- replies ----------------------------------------------------------------------------------


def test_good_json_reply(h: Harness) -> None:
    h.server.enqueue_text(GOOD, usage=(31, 9))
    result = h.ask(h.llm(), prompt_name="answer", prompt_hash="abc123def456")

    assert result.outcome == "ok" and result.ok
    assert result.data == {"answer": "Rates rose [1].", "citations": [1]}
    assert (result.tokens_in, result.tokens_out, result.estimated) == (31, 9, False)
    assert result.attempts == 1 and result.error is None and result.raw == GOOD
    assert result.model == "fake-model" and result.finish_reason == "stop" and result.latency_ms > 0
    [request] = h.server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == 700 and "stream" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Answer from the sources."},
        {"role": "user", "content": "What happened to rates?"},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": False},
    }
    assert h.sleeps == []
    [record] = h.records
    assert set(record) == RECORD_KEYS
    assert record["prompt_name"] == "answer" and record["prompt_hash"] == "abc123def456"
    assert (record["outcome"], record["attempts"], record["tokens_in"], record["tokens_out"]) == ("ok", 1, 31, 9)


def test_json_schema_rejected_falls_back_to_json_object_and_remembers(h: Harness) -> None:
    h.server.enqueue_reject_json_schema()
    h.server.enqueue_text(GOOD)
    llm = h.llm()
    first = h.ask(llm)
    h.server.enqueue_reject_json_schema()  # skipped: the transport no longer asks for json_schema
    h.server.enqueue_text(GOOD)
    second = h.ask(llm)

    assert first.outcome == "ok" and first.attempts == 2 and first.structured == "json_object"
    assert second.outcome == "ok" and second.attempts == 1
    formats = [b["response_format"] for b in h.server.bodies]
    assert formats[0]["type"] == "json_schema"
    assert formats[1] == {"type": "json_object", "schema": SCHEMA}
    assert formats[2] == {"type": "json_object", "schema": SCHEMA}
    assert llm.mode == "json_object" and h.sleeps == [] and h.server.pending == 0


def test_every_response_format_rejected_falls_back_to_schema_in_prompt(h: Harness) -> None:
    h.server.enqueue_status(400, message="response_format json_schema is not supported")
    h.server.enqueue_status(400, message="Unrecognized request argument supplied: response_format")
    h.server.enqueue_text(f"Sure! Here it is:\n```json\n{GOOD}\n```")
    result = h.ask(h.llm())

    assert result.outcome == "ok" and result.data is not None and result.attempts == 3
    last = h.server.bodies[-1]
    assert "response_format" not in last
    # The schema travels in the user turn (some chat templates drop system messages); the system prompt is untouched.
    assert last["messages"][0] == {"role": "system", "content": "Answer from the sources."}
    assert last["messages"][1]["content"].startswith("What happened to rates?")
    assert '"citations"' in last["messages"][1]["content"]


def test_forced_mode_does_not_fall_back(h: Harness) -> None:
    h.server.enqueue_status(500, message="response_format is not supported")
    result = h.ask(h.llm(structured="json_object", max_retries=0))

    assert result.outcome == "http_error" and "HTTP 500" in (result.error or "")
    assert h.server.bodies[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}
    with pytest.raises(ValueError, match="structured"):
        h.llm(structured="grammar")


def test_plain_text_with_fenced_json_is_parsed(h: Harness) -> None:
    h.server.enqueue_text(f"Here you go:\n```json\n{GOOD}\n```\nAnything else?")
    result = h.ask(h.llm(structured="none"))

    assert result.outcome == "ok" and result.data == json.loads(GOOD)
    assert "response_format" not in h.server.bodies[0]


def test_system_role_false_folds_system_into_user(h: Harness) -> None:
    h.server.enqueue_text(GOOD)
    result = h.ask(h.llm(system_role=False))

    assert result.outcome == "ok"
    assert h.server.bodies[0]["messages"] == [
        {"role": "user", "content": "Answer from the sources.\n\nWhat happened to rates?"}
    ]


def test_json_amid_prose_takes_first_balanced_object(h: Harness) -> None:
    h.server.enqueue_text('The JSON is {"answer": "a } b {", "citations": [2]} and then {"other": 1}.')
    result = h.ask(h.llm(structured="none"))

    assert result.outcome == "ok" and result.data == {"answer": "a } b {", "citations": [2]}


def test_invalid_json_is_an_outcome_not_an_exception(h: Harness) -> None:
    h.server.enqueue_text('{"answer": "the model rambled on and on', finish="length")
    result = h.ask(h.llm())

    assert result.outcome == "invalid_json" and result.data is None
    assert result.raw.startswith('{"answer"') and result.finish_reason == "length"
    assert "cut off" in (result.error or "")
    assert h.records[0]["outcome"] == "invalid_json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2, 3]", None),
        ("no json here", None),
        ('  {"a": 1}  ', {"a": 1}),
        ('```\n{"a": [1, {"b": "}"}]}\n```', {"a": [1, {"b": "}"}]}),
        ('prefix {"a": "say \\"hi\\" {"} suffix', {"a": 'say "hi" {'}),
        ('{"a": 1', None),
        ('{"a": "line one\nline two"}', {"a": "line one\nline two"}),  # raw newline inside a string
    ],
)
def test_parse_json_object(text: str, expected: dict[str, Any] | None) -> None:
    data, why = parse_json_object(text)
    assert data == expected
    assert (why is None) == (expected is not None)


@pytest.mark.parametrize("content", ["", "   \n", None])
def test_empty_content(h: Harness, content: str | None) -> None:
    h.server.enqueue_text(content)
    result = h.ask(h.llm())

    assert result.outcome == "empty" and result.data is None and result.raw.strip() == ""


def test_missing_usage_is_counted_locally_and_flagged(h: Harness) -> None:
    h.server.enqueue_text(GOOD, usage=None)
    result = h.ask(h.llm())

    assert result.outcome == "ok" and result.estimated
    assert result.tokens_out == tokens.count_tokens(GOOD, "gpt-4o-mini")
    assert result.tokens_in >= tokens.count_tokens("Answer from the sources.What happened to rates?", "gpt-4o-mini")
    assert h.records[0]["estimated"] is True


def test_non_chat_reply_from_a_proxy_is_an_outcome(h: Harness) -> None:
    h.server.enqueue_raw("<html><body>502 Bad Gateway</body></html>", status=200)
    result = h.ask(h.llm())

    assert result.outcome == "bad_response" and result.data is None
    assert result.error and KEY not in result.error


# -- retries ----------------------------------------------------------------------------------


def test_429_honours_retry_after_then_succeeds(h: Harness) -> None:
    h.server.enqueue_status(429, retry_after=3)
    h.server.enqueue_text(GOOD)
    result = h.ask(h.llm())

    assert result.outcome == "ok" and result.attempts == 2
    assert len(h.sleeps) == 1 and h.sleeps[0] >= 3
    assert h.records[0]["attempts"] == 2


def test_429_asking_for_a_long_wait_gives_up_at_once(h: Harness) -> None:
    h.server.enqueue_status(429, retry_after=120)
    result = h.ask(h.llm(max_retry_wait=60))

    assert result.outcome == "rate_limited" and result.attempts == 1 and h.sleeps == []
    assert "120" in (result.error or "")


def test_500_three_times_is_http_error_after_backoff(h: Harness) -> None:
    for _ in range(3):
        h.server.enqueue_status(500, message="model crashed")
    result = h.ask(h.llm(max_retries=2))

    assert result.outcome == "http_error" and result.attempts == 3
    assert "HTTP 500" in (result.error or "") and "model crashed" in (result.error or "")
    assert h.sleeps == [0.5, 1.0]  # exponential backoff
    assert len(h.server.bodies) == 3 and len(h.records) == 1


def test_auth_error_is_not_retried_and_echoed_key_is_redacted(h: Harness) -> None:
    h.server.enqueue_status(401, message=f"Incorrect API key provided: {KEY}")
    result = h.ask(h.llm())

    assert result.outcome == "auth_error" and result.attempts == 1 and h.sleeps == []
    assert KEY not in (result.error or "") and "***" in (result.error or "")
    assert KEY not in json.dumps(h.records)


def test_timeout_outcome(h: Harness) -> None:
    h.server.enqueue_sleep(3)
    started = time.monotonic()
    result = h.ask(h.llm(timeout=0.5, max_retries=0))

    assert result.outcome == "timeout" and result.attempts == 1
    assert time.monotonic() - started < 2.5
    assert "0.5 s" in (result.error or "")


def test_timeout_then_success_is_retried_only_when_asked(h: Harness) -> None:
    h.server.enqueue_sleep(3)
    h.server.enqueue_text(GOOD)
    result = h.ask(h.llm(timeout=0.5, max_retries=1, retry_timeouts=True))  # a remote API: retried

    assert result.outcome == "ok" and result.attempts == 2 and h.sleeps == [0.5]


def test_a_timed_out_request_to_a_local_server_is_not_sent_again(h: Harness) -> None:
    # llama.cpp keeps computing a request the client gave up on: a retry would queue behind it
    h.server.enqueue_sleep(1.5)
    h.server.enqueue_text(GOOD)
    result = h.ask(h.llm(timeout=0.5, max_retries=2))

    assert result.outcome == "timeout" and result.attempts == 1 and h.sleeps == []
    assert h.server.pending == 1  # the second reply was never asked for


def test_local_and_safe_server_names() -> None:
    assert is_local("http://127.0.0.1:8080/v1") and is_local("http://localhost:11434/v1")
    assert is_local("http://ollama:11434/v1") and is_local("http://192.168.1.20:8000/v1")
    assert not is_local(None) and not is_local("https://api.openai.com/v1") and not is_local("https://x.example/v1")
    assert safe_server("http://user:pw@127.0.0.1:8080/v1/?key=s") == "http://127.0.0.1:8080/v1"
    assert safe_server(None) == "https://api.openai.com/v1"


def test_connection_refused_is_an_outcome() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    llm = OpenAICompat(KEY, f"http://127.0.0.1:{port}/v1", "local", max_retries=1, sleep=sleeps.append)
    result = llm.complete_json("s", "u", SCHEMA, "answer")

    assert result.outcome == "connection_error" and result.attempts == 2 and sleeps == [0.5]
    assert f"127.0.0.1:{port}" in (result.error or "")


def test_max_tokens_rejected_switches_to_max_completion_tokens(h: Harness) -> None:
    h.server.enqueue_status(
        400,
        message="Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens'.",
    )
    h.server.enqueue_text(GOOD)
    result = h.ask(h.llm(), max_tokens=321)

    assert result.outcome == "ok" and result.attempts == 2
    assert h.server.bodies[0]["max_tokens"] == 321
    assert h.server.bodies[1]["max_completion_tokens"] == 321 and "max_tokens" not in h.server.bodies[1]


def test_broken_on_call_hook_does_not_lose_the_answer(h: Harness) -> None:
    def explode(record: dict[str, Any]) -> None:
        raise RuntimeError("database is locked")

    h.server.enqueue_text(GOOD)
    result = h.ask(h.llm(on_call=explode))
    assert result.outcome == "ok"


def test_api_key_never_in_errors_or_records(h: Harness) -> None:
    llm = h.llm(timeout=0.5, max_retries=0)
    h.server.enqueue_status(500, message=f"upstream said Authorization: Bearer {KEY}")
    h.server.enqueue_status(429, retry_after=1000)
    h.server.enqueue_sleep(2)
    h.server.enqueue_text("not json at all")
    h.server.enqueue_text(GOOD)
    results = [h.ask(llm, prompt_name="answer") for _ in range(5)]

    assert [r.outcome for r in results] == ["http_error", "rate_limited", "timeout", "invalid_json", "ok"]
    assert all(KEY not in repr(r) for r in results[:4])
    assert KEY not in json.dumps(h.records) and len(h.records) == 5
    assert all(set(r) == RECORD_KEYS for r in h.records)


# -- streaming --------------------------------------------------------------------------------


def ticking(step: float) -> Callable[[], float]:
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


STREAM = ['{"answer": ', '"Rates ', 'rose [1]."', ', "citations": [1]}']


def test_streaming_partials_are_throttled(h: Harness) -> None:
    h.server.enqueue_stream(STREAM, usage=(40, 12))
    partials: list[str] = []
    # A clock that never advances: within one 0.5 s window, so only the first text is pushed.
    result = h.ask(h.llm(clock=lambda: 100.0), on_partial=partials.append)

    assert result.outcome == "ok" and result.data == json.loads("".join(STREAM))
    assert partials == ['{"answer": ']
    assert (result.tokens_in, result.tokens_out, result.estimated) == (40, 12, False)
    body = h.server.bodies[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["response_format"]["type"] == "json_schema"


def test_streaming_partials_accumulate_when_time_passes(h: Harness) -> None:
    h.server.enqueue_stream(STREAM, usage=None)
    partials: list[str] = []
    result = h.ask(h.llm(clock=ticking(0.6)), on_partial=partials.append)

    assert result.outcome == "ok" and result.estimated
    assert partials == ["".join(STREAM[: i + 1]) for i in range(len(STREAM))]


def test_streaming_without_stream_options_support(h: Harness) -> None:
    h.server.enqueue_status(400, message="Unrecognized request argument supplied: stream_options")
    h.server.enqueue_stream(STREAM)
    llm = h.llm()
    result = h.ask(llm, on_partial=lambda text: None)

    assert result.outcome == "ok" and result.attempts == 2 and result.estimated
    assert "stream_options" in h.server.bodies[0] and "stream_options" not in h.server.bodies[1]


def test_streaming_falls_back_from_json_schema_too(h: Harness) -> None:
    h.server.enqueue_reject_json_schema()
    h.server.enqueue_stream(STREAM)
    result = h.ask(h.llm(), on_partial=lambda text: None)

    assert result.outcome == "ok" and h.server.bodies[1]["response_format"]["type"] == "json_object"


# -- the fake itself, through the SDK ---------------------------------------------------------


def test_fake_serves_models_and_records_requests(server: FakeOpenAIServer) -> None:
    client = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    assert [m.id for m in client.models.list()] == ["fake-model"]
    server.enqueue(chat_reply("hi", usage=(1, 1)))
    completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert completion.choices[0].message.content == "hi"
    with pytest.raises(openai.InternalServerError, match="no scripted reply"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert [r.method for r in server.requests] == ["GET", "POST", "POST"]


# -- prompts ----------------------------------------------------------------------------------


def test_load_prompt(tmp_path: Path) -> None:
    (tmp_path / "answer.md").write_text("Answer only from the numbered sources.\n", encoding="utf-8")
    prompt = load_prompt("answer", tmp_path)

    assert prompt.name == "answer" and prompt.text.startswith("Answer only")
    assert prompt.hash == hashlib.sha256(prompt.text.encode()).hexdigest()[:12] and len(prompt.hash) == 12
    with pytest.raises(FileNotFoundError, match="missing"):
        load_prompt("missing", tmp_path)
    with pytest.raises(ValueError, match="bad prompt name"):
        load_prompt("../etc/passwd", tmp_path)


# -- tokens -----------------------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty tiktoken cache and no way out: any download attempt fails the test."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    import tiktoken.load

    monkeypatch.setattr(tiktoken.load, "read_file", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    tokens.load_encoding.cache_clear()  # really build the encodings under these conditions
    return cache


def test_token_counts_offline(offline: Path) -> None:
    assert tokens.count_tokens("hello world", "gpt-4") == 2
    assert tokens.count_tokens("hello world", "gpt-4o") == 2
    assert tokens.encoding_for("gpt-3.5-turbo").encode("hello world") == [15339, 1917]
    assert tokens.encoding_for("gpt-4o-mini").encode("hello world") == [24912, 2375]
    assert tokens.encoding_for("gpt-4").name == "cl100k_base"
    assert tokens.encoding_for("o3-mini").name == "o200k_base"
    assert tokens.encoding_for("gpt-4.1-nano").name == "o200k_base"
    assert tokens.count_tokens("hello world", "gemma3-270m") == 2
    assert tokens.count_tokens("hello world") == 2
    assert tokens.count_tokens("<|endoftext|>", "gpt-4o") > 1  # special tokens in text are just text
    assert list(offline.iterdir()) == []
    assert tokens.encoding_for("gpt-4o") is tokens.encoding_for("chatgpt-4o-latest")  # cached


@pytest.mark.parametrize(
    ("model", "estimate"),
    [
        ("gpt-4o", False),
        ("gpt-4", False),
        ("ft:gpt-4o-mini:org::x", False),
        ("openai/gpt-4.1", False),
        ("llama3.2:1b", True),
        ("gemma3", True),
        (None, True),
        ("gpt-4-turbo-but-not", False),
        ("o1-preview", False),
    ],
)
def test_is_estimate(model: str | None, estimate: bool) -> None:
    assert tokens.is_estimate(model) is estimate


def test_pack_respects_budget(offline: Path) -> None:
    items = ["hello world", "one two three four five six seven eight", "hi there", "ok"]
    counts = [tokens.count_tokens(i, "gpt-4o") for i in items]
    assert counts[0] == 2 and counts[1] > 5

    kept = tokens.pack(items, budget=5, model="gpt-4o")
    assert kept == [0, 2, 3]  # the long one is skipped, later short ones still fit
    assert sum(counts[i] for i in kept) <= 5
    assert tokens.pack(items, budget=0, model="gpt-4o") == []
    assert tokens.pack(items, budget=10_000, model="gpt-4o") == [0, 1, 2, 3]
    assert tokens.pack([], budget=10) == []


def test_the_in_process_fake_serves_the_real_client_plain_and_streamed() -> None:
    llm = ScriptedLLM(model="gpt-4o-mini")
    llm.enqueue_status(429, retry_after=2)
    llm.enqueue_text('{"answer": "yes", "found": true}')
    llm.enqueue_text('{"answer": "a longer reply, streamed in pieces", "found": true}', usage=(30, 9))
    waits: list[float] = []
    t = OpenAICompat(None, BASE_URL, "gpt-4o-mini", client=llm.client(), sleep=waits.append)
    first = t.complete_json("sys", "user", {"type": "object"}, "x")
    heard: list[str] = []
    second = t.complete_json("sys", "user", {"type": "object"}, "x", on_partial=heard.append)
    assert first.ok and first.data == {"answer": "yes", "found": True} and first.attempts == 2 and waits == [2.0]
    assert second.ok and second.data and second.data["answer"].startswith("a longer") and heard
    assert (second.tokens_in, second.tokens_out) == (30, 9) and llm.bodies[-1]["stream"] is True
    assert llm.pending == 0 and t.complete_json("sys", "user", {}, "x").outcome == "http_error"  # nothing scripted
