"""The transport seam: one JSON completion per call, its outcome named instead of raised.

What drafters and summarisers (bot.answer_llm, bot.brief_llm) ask of a client; imports no SDK and nothing of the bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

# Outcomes a caller can branch on; `error` carries the human-readable detail.
OK = "ok"
INVALID_JSON = "invalid_json"
EMPTY = "empty"
HTTP_ERROR = "http_error"
AUTH_ERROR = "auth_error"
TIMEOUT = "timeout"
RATE_LIMITED = "rate_limited"
CONNECTION_ERROR = "connection_error"
BAD_RESPONSE = "bad_response"
ERROR = "error"


@dataclass
class LLMResult:
    """What one complete_json call produced: parsed data or an outcome saying why not."""

    data: dict[str, Any] | None
    raw: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: float
    outcome: str
    error: str | None = None
    attempts: int = 0
    estimated: bool = False  # token counts were computed locally, not reported by the server
    finish_reason: str | None = None
    structured: str = "none"  # the response_format mode of the last request sent
    call_id: Any = None  # the call log's id for this call, when there is a call log

    @property
    def ok(self) -> bool:
        """True when data holds a parsed JSON object."""
        return self.outcome == OK


class Transport(Protocol):
    """A chat model that answers with a JSON object (bot.llm.openai_compat.OpenAICompat is the real one)."""

    model: str

    def complete_json(self, system: str, user: str, schema: dict[str, Any], schema_name: str,
                      max_tokens: int = 700, on_partial: Callable[[str], None] | None = None, *,
                      prompt_name: str | None = None, prompt_hash: str | None = None) -> LLMResult:
        """Ask for a JSON object matching schema; `on_partial` hears the raw reply as it streams."""
        ...
