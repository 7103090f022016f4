"""Transport to any OpenAI-compatible chat server (OpenAI, llama.cpp, Ollama, vLLM) via the `openai` SDK.

The only module that imports openai. Server trouble comes back as LLMResult.outcome, never as an exception.
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from bot.llm.tokens import count_tokens
from bot.llm.transport import (
    AUTH_ERROR,
    BAD_RESPONSE,
    CONNECTION_ERROR,
    EMPTY,
    ERROR,
    HTTP_ERROR,
    INVALID_JSON,
    OK,
    RATE_LIMITED,
    TIMEOUT,
    LLMResult,
)

log = logging.getLogger(__name__)

STRUCTURED_MODES = ("auto", "json_schema", "json_object", "none")
# "auto" walks this ladder when a server rejects a response_format, and stays on the rung that worked.
_LADDER = ("json_schema", "json_object", "none")

DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_PROMPT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_PARTIAL_INTERVAL_S = 0.5
_MAX_BACKOFF_S = 8.0


@dataclass(frozen=True)
class Prompt:
    """A prompt file's text and a short content hash that versions it in the call log."""

    name: str
    text: str
    hash: str


def load_prompt(name: str, prompts_dir: Path | None = None) -> Prompt:
    """Read prompts/<name>.md (or <prompts_dir>/<name>.md) and hash it."""
    if not _PROMPT_NAME.fullmatch(name):
        raise ValueError(f"bad prompt name {name!r}: use letters, digits, '-', '_' or '.', no path separators")
    path = (prompts_dir or DEFAULT_PROMPTS_DIR) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"prompt {name!r} not found at {path}: create it or point BRIEFBOT_PROMPTS_DIR at the prompts folder"
        ) from None
    return Prompt(name=name, text=text, hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12])


def safe_server(base_url: str | None) -> str:
    """A base URL with any user:password@ and query removed (OpenAI's own when unset)."""
    if not base_url:
        return "https://api.openai.com/v1"
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def is_local(base_url: str | None) -> bool:
    """True for a server on this machine or a private network (llama.cpp, Ollama, vLLM), where a timed-out
    request keeps running and must not be sent again."""
    host = urllib.parse.urlsplit(base_url or "").hostname
    if not base_url or not host:
        return False
    if host == "localhost" or host.endswith((".local", ".internal", ".lan")) or "." not in host:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Parse the JSON object in a model's reply (bare, fenced or amid prose): (data, None) or (None, why)."""
    stripped = text.strip()
    candidates = [stripped]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(stripped)]
    first = _first_balanced_object(stripped)
    if first is not None:
        candidates.append(first)
    why = "no JSON object in the reply"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            # strict=False: small models put raw newlines inside strings; the meaning is still clear.
            value = json.loads(candidate, strict=False)
        except ValueError as exc:
            why = f"not valid JSON: {exc}"
            continue
        if isinstance(value, dict):
            return value, None
        why = f"expected a JSON object, got {type(value).__name__}"
    return None, why


def _first_balanced_object(text: str) -> str | None:
    """The first {...} span whose braces balance, ignoring braces inside JSON strings."""
    start = text.find("{")
    while start != -1:
        depth = 0
        in_string = escaped = False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        # Unbalanced from here (e.g. output cut off by max_tokens): a later "{" cannot balance either.
        return None
    return None


def _retry_after_s(response: Any) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, retry-after seconds or HTTP date)."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, when.timestamp() - time.time())
    return None


def _error_text(exc: openai.APIStatusError) -> str:
    """The server's own error message, however it nests it (OpenAI, llama.cpp, FastAPI)."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "msg"):
                if inner.get(key):
                    return str(inner[key])
        elif isinstance(inner, str):
            return inner
        return json.dumps(body)[:500]
    if body is not None:
        return str(body)
    return exc.message


@dataclass
class Check:
    """One check of the LLM server: what was checked, whether it passed, and a one-line finding with the fix."""

    name: str
    ok: bool
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "line": self.line}


_PROBE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


class _BadReply(Exception):
    """A 200 reply that is not a chat completion (a proxy's HTML page, a different API)."""


class OpenAICompat:
    """Chat completions returning JSON, with retries, structured-output fallbacks and streaming."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        model: str,
        timeout: float = 30.0,
        max_retries: int = 2,
        structured: str = "auto",
        sleep: Callable[[float], None] = time.sleep,
        client: openai.OpenAI | None = None,
        on_call: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_retry_wait: float = 60.0,
        temperature: float | None = 0.0,
        system_role: bool = True,
        initial_mode: str | None = None,
        retry_timeouts: bool = False,
    ) -> None:
        if structured not in STRUCTURED_MODES:
            raise ValueError(f"structured={structured!r}: expected one of {', '.join(STRUCTURED_MODES)}")
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.structured = structured
        self.max_retry_wait = max_retry_wait
        self.temperature = temperature
        self.system_role = system_role
        self._api_key = api_key
        self._sleep = sleep
        self._clock = clock
        self._on_call = on_call
        # The SDK's own retries are off: ours honour Retry-After, count attempts and never raise.
        self._client = client or openai.OpenAI(
            api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=0
        )
        # auto starts from what this server took last time (remembered in the call log), else the top rung
        self._mode = structured if structured != "auto" else (initial_mode if initial_mode in _LADDER else _LADDER[0])
        # A local server keeps computing a request the client gave up on: re-sending it stacks a backlog.
        self.retry_timeouts = retry_timeouts
        # Learned per server, like the mode: some reject stream_options, newer OpenAI models reject max_tokens.
        self._stream_usage = True
        self._max_tokens_param = "max_tokens"

    @property
    def mode(self) -> str:
        """The response_format mode the next call will try first."""
        return self._mode

    def complete_json(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        schema_name: str,
        max_tokens: int = 700,
        on_partial: Callable[[str], None] | None = None,
        *,
        prompt_name: str | None = None,
        prompt_hash: str | None = None,
    ) -> LLMResult:
        """Ask for a JSON object matching schema; failures come back as outcome + error, never raised."""
        started = self._clock()
        try:
            result = self._complete(system, user, schema, schema_name, max_tokens, on_partial, started)
        except Exception as exc:  # the promise is "never raises": a bug or an odd server must not kill a reply
            log.exception("unexpected failure talking to %s", self.base_url)
            result = self._failure(ERROR, f"unexpected {type(exc).__name__}: {exc}", 1, started, self._mode)
        if result.error:
            result.error = self._redact(result.error)
        result.call_id = self._record(result, prompt_name, prompt_hash)
        return result

    def _complete(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        schema_name: str,
        max_tokens: int,
        on_partial: Callable[[str], None] | None,
        started: float,
    ) -> LLMResult:
        attempts = 0
        retries = 0
        while True:
            mode = self._mode
            attempts += 1
            messages = self._messages(system, user, schema, schema_name, mode)
            try:
                if on_partial is None:
                    raw, finish, model, usage = self._send(messages, schema, schema_name, mode, max_tokens)
                else:
                    raw, finish, model, usage = self._stream(
                        messages, schema, schema_name, mode, max_tokens, on_partial
                    )
            except openai.APIStatusError as exc:
                if self._adapt(exc, mode):
                    continue
                outcome, why = self._classify_status(exc)
                delay = _retry_after_s(exc.response)
                retryable = exc.status_code in (408, 409, 429) or exc.status_code >= 500
            except openai.APITimeoutError:
                outcome, why = TIMEOUT, f"no reply from {self.base_url} within {self.timeout:g} s"
                delay, retryable = None, self.retry_timeouts
            except openai.APIConnectionError as exc:
                cause = exc.__cause__ or exc
                outcome, why = CONNECTION_ERROR, f"cannot reach {self.base_url}: {cause}"
                delay, retryable = None, True
            except (openai.APIResponseValidationError, _BadReply) as exc:
                outcome, why = BAD_RESPONSE, f"malformed reply from {self.base_url}: {exc}"
                delay, retryable = None, False
            else:
                return self._result(raw, finish, model, usage, messages, attempts, started, mode)

            if not retryable or retries >= self.max_retries:
                if retryable and self.max_retries:
                    why += f" (gave up after {attempts} attempts)"
                return self._failure(outcome, why, attempts, started, mode)
            wait = min(_MAX_BACKOFF_S, 0.5 * 2**retries)
            if delay is not None:
                if delay > self.max_retry_wait:
                    # Waiting minutes inside a chat reply is worse than saying so now.
                    why += f" (server asked to wait {delay:.0f} s)"
                    return self._failure(outcome, why, attempts, started, mode)
                wait = max(wait, delay)
            retries += 1
            log.info("%s from %s; retry %d in %.1f s", outcome, self.base_url, retries, wait)
            self._sleep(wait)

    def _adapt(self, exc: openai.APIStatusError, mode: str) -> bool:
        """Learn from a rejected request parameter; True when a changed request is worth sending."""
        if exc.status_code not in (400, 422, 500):
            return False
        text = _error_text(exc).lower()
        if self.structured == "auto" and mode != "none" and ("response_format" in text or "json_schema" in text):
            # Only ever step down: a concurrent call that failed on an older rung must not undo a later step.
            rung = max(_LADDER.index(mode) + 1, _LADDER.index(self._mode))
            self._mode = _LADDER[rung]
            log.warning("%s rejected response_format %s; using %s from now on", self.base_url, mode, self._mode)
            return True
        if self._stream_usage and "stream_options" in text:
            self._stream_usage = False
            return True
        if self._max_tokens_param == "max_tokens" and "max_completion_tokens" in text:
            self._max_tokens_param = "max_completion_tokens"
            return True
        return False

    def _classify_status(self, exc: openai.APIStatusError) -> tuple[str, str]:
        status = exc.status_code
        detail = " ".join(_error_text(exc).split())[:300]
        if status == 429:
            return RATE_LIMITED, f"rate limited by {self.base_url} (HTTP 429): {detail}"
        if status in (401, 403):
            return AUTH_ERROR, f"{self.base_url} refused the API key (HTTP {status}): {detail}"
        return HTTP_ERROR, f"HTTP {status} from {self.base_url}: {detail}"

    def _messages(
        self, system: str, user: str, schema: dict[str, Any], schema_name: str, mode: str
    ) -> list[dict[str, str]]:
        if mode == "none":
            # Nothing constrains the output, so the schema travels in the prompt; in the user turn, because some
            # chat templates drop system messages.
            user = (
                f"{user}\n\nReply with only one JSON object, no prose and no code fences, "
                f"matching this JSON Schema ({schema_name}):\n{json.dumps(schema, separators=(',', ':'))}"
            )
        if not self.system_role:
            # llama-cpp-python's Gemma template silently discards role=system; fold it into the user turn instead.
            return [{"role": "user", "content": f"{system}\n\n{user}" if system else user}]
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _request_args(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str, mode: str, max_tokens: int
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"model": self.model, "messages": messages, self._max_tokens_param: max_tokens}
        if self.temperature is not None:
            args["temperature"] = self.temperature
        if mode == "json_schema":
            args["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": False},
            }
        elif mode == "json_object":
            # llama.cpp turns "schema" into a grammar; servers that ignore it still return a JSON object.
            args["response_format"] = {"type": "json_object", "schema": schema}
        return args

    def _send(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str, mode: str, max_tokens: int
    ) -> tuple[str, str | None, str, tuple[int, int] | None]:
        completion = self._client.chat.completions.create(
            **self._request_args(messages, schema, schema_name, mode, max_tokens)
        )
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list):
            raise _BadReply(f"not a chat completion (got {type(completion).__name__})")
        raw, finish = "", None
        if choices:
            message = choices[0].message
            raw = (message.content if message is not None else None) or ""
            finish = choices[0].finish_reason
        usage = completion.usage
        counts = (usage.prompt_tokens, usage.completion_tokens) if usage is not None else None
        return raw, finish, completion.model or self.model, counts

    def _stream(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        schema_name: str,
        mode: str,
        max_tokens: int,
        on_partial: Callable[[str], None],
    ) -> tuple[str, str | None, str, tuple[int, int] | None]:
        args = self._request_args(messages, schema, schema_name, mode, max_tokens)
        if self._stream_usage:
            args["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        finish: str | None = None
        model = self.model
        counts: tuple[int, int] | None = None
        last_sent: float | None = None
        sent_len = 0
        stream = self._client.chat.completions.create(stream=True, **args)
        with stream:
            for chunk in stream:
                model = chunk.model or model
                if chunk.usage is not None:
                    counts = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                    finish = choice.finish_reason or finish
                now = self._clock()
                text_len = sum(map(len, parts))
                # Throttled because each call may edit a chat message, and Slack/Discord rate-limit edits.
                if text_len > sent_len and (last_sent is None or now - last_sent >= _PARTIAL_INTERVAL_S):
                    on_partial("".join(parts))
                    last_sent, sent_len = now, text_len
        return "".join(parts), finish, model, counts

    def _result(
        self,
        raw: str,
        finish: str | None,
        model: str,
        usage: tuple[int, int] | None,
        messages: list[dict[str, str]],
        attempts: int,
        started: float,
        mode: str,
    ) -> LLMResult:
        if usage is not None:
            tokens_in, tokens_out, estimated = usage[0], usage[1], False
        else:
            prompt = "\n".join(m["content"] for m in messages)
            tokens_in, tokens_out, estimated = count_tokens(prompt, self.model), count_tokens(raw, self.model), True
        data: dict[str, Any] | None = None
        error: str | None = None
        if not raw.strip():
            outcome, error = EMPTY, f"{self.base_url} returned no content (finish_reason={finish})"
        else:
            data, error = parse_json_object(raw)
            outcome = OK if data is not None else INVALID_JSON
            if error and finish == "length":
                error += f" (cut off at {self._max_tokens_param} limit)"
        return LLMResult(
            data=data,
            raw=raw,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=(self._clock() - started) * 1000.0,
            outcome=outcome,
            error=error,
            attempts=attempts,
            estimated=estimated,
            finish_reason=finish,
            structured=mode,
        )

    def _failure(self, outcome: str, error: str, attempts: int, started: float, mode: str) -> LLMResult:
        return LLMResult(
            data=None,
            raw="",
            model=self.model,
            tokens_in=0,
            tokens_out=0,
            latency_ms=(self._clock() - started) * 1000.0,
            outcome=outcome,
            error=error,
            attempts=attempts,
            structured=mode,
        )

    def _redact(self, text: str) -> str:
        # Servers and proxies sometimes echo the Authorization header back in an error body.
        if self._api_key and len(self._api_key) >= 4:
            text = text.replace(self._api_key, "***")
        return text

    def _record(self, result: LLMResult, prompt_name: str | None, prompt_hash: str | None) -> Any:
        if self._on_call is None:
            return None
        record = {
            "prompt_name": prompt_name,
            "prompt_hash": prompt_hash,
            "model": result.model,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "estimated": result.estimated,
            "latency_ms": result.latency_ms,
            "outcome": result.outcome,
            "error": result.error,
            "attempts": result.attempts,
            "server": self.server,
            "structured": result.structured,
        }
        try:
            return self._on_call(record)
        except Exception:  # a broken call log must not lose the answer the user is waiting for
            log.exception("on_call hook failed")
            return None

    def check_server(self) -> list[Check]:
        """What `briefbot doctor` (and `run` at start) checks: /models lists the model, a one-token completion
        works, structured output comes back (learning the mode auto uses). Stops at the first fatal failure."""
        server = self.server
        checks: list[Check] = []
        try:
            ids = [m.id for m in self._client.models.list()]
        except openai.APIConnectionError as exc:
            return [Check("server", False, f"cannot reach {server} ({exc.__cause__ or exc}): start the server or "
                           "fix OPENAI_BASE_URL")]
        except openai.APIStatusError as exc:
            return [self._models_failure(exc)]
        except Exception as exc:  # a 200 that is not a model list: some other API answers there
            return [Check("server", False, f"{server}/models did not answer like an OpenAI-compatible server "
                           f"({type(exc).__name__}): check OPENAI_BASE_URL")]
        if self.model in ids:
            checks.append(Check("model", True, f"{server} serves {self.model}"))
        else:
            has = ", ".join(ids[:8]) + (f" (+{len(ids) - 8} more)" if len(ids) > 8 else "") if ids else "no models"
            checks.append(Check("model", False, f"{server} does not list model {self.model!r}; it has: {has}: set "
                                 "BRIEFBOT_LLM_MODEL to one of them"))
        try:
            probe: dict[str, Any] = {"model": self.model, "messages": [{"role": "user", "content": "Say OK."}],
                                     self._max_tokens_param: 1}
            if self.temperature is not None:
                probe["temperature"] = self.temperature
            self._client.chat.completions.create(**probe)
        except openai.APITimeoutError:
            checks.append(Check("completion", False, f"a one-token completion took over {self.timeout:g} s: the "
                                 "model is still loading or too slow; raise BRIEFBOT_LLM_TIMEOUT"))
            return checks
        except openai.APIStatusError as exc:
            outcome, why = self._classify_status(exc)
            fix = ("set OPENAI_API_KEY" if outcome == AUTH_ERROR else "set BRIEFBOT_LLM_MODEL to a model the server "
                   "has" if exc.status_code == 404 else "see the server's log")
            checks.append(Check("completion", False, f"a one-token completion failed: {self._redact(why)}: {fix}"))
            return checks
        except openai.APIError as exc:
            checks.append(Check("completion", False, f"a one-token completion failed: {self._redact(str(exc))}"))
            return checks
        checks.append(Check("completion", True, f"a one-token completion works with {self.model}"))
        res = self.complete_json("Reply with JSON only.", 'Reply with {"ok": true}.', _PROBE_SCHEMA, "probe",
                                 max_tokens=40, prompt_name="doctor")
        if res.ok:
            how = {"json_schema": "json_schema", "json_object": "json_object (the server refuses json_schema)",
                   "none": "plain JSON in the prompt (the server refuses response_format)"}[res.structured]
            checks.append(Check("structured", True, f"structured output works: {how}"))
        else:
            checks.append(Check("structured", False, f"structured output failed with {res.structured} "
                                 f"({res.outcome}: {(res.error or '')[:160]}): try BRIEFBOT_LLM_STRUCTURED=json_object "
                                 "or none, or a larger instruction-tuned model; answers fall back to extractive"))
        return checks

    def _models_failure(self, exc: openai.APIStatusError) -> Check:
        server = self.server
        if exc.status_code in (401, 403):
            return Check("server", False, f"{server} refused the API key (HTTP {exc.status_code}): set OPENAI_API_KEY")
        if exc.status_code == 404 and not server.rstrip("/").endswith("/v1"):
            with_v1 = server.rstrip("/") + "/v1"
            try:
                openai.OpenAI(api_key=self._api_key or "not-needed", base_url=with_v1, timeout=self.timeout,
                              max_retries=0).models.list()
                works = True
            except Exception:
                works = False
            if works:
                return Check("server", False, f"{server}/models gives 404 but {with_v1}/models works: set "
                                              f"OPENAI_BASE_URL={with_v1}")
            return Check("server", False, f"{server}/models gives 404: OpenAI-compatible servers (llama.cpp, Ollama, "
                                          f"vLLM) serve under /v1, e.g. OPENAI_BASE_URL={with_v1}")
        return Check("server", False, f"{server}/models: HTTP {exc.status_code} "
                                      f"({' '.join(self._redact(_error_text(exc)).split())[:160]}): check OPENAI_BASE_URL")

    @property
    def server(self) -> str:
        """The base URL without credentials or query: safe to log, and the key the learned mode is kept under."""
        return safe_server(self.base_url)
