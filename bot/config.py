"""Settings from the environment (secrets only from there), validated up front with clear errors.

Only app.py and cli.py read settings; everything else receives plain arguments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A setting with a value the bot cannot use; the message names the variable."""


class Secret:
    """A secret value that never shows itself in logs, reprs or replies."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one library call that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# No duration the bot uses is longer than this; far longer ones overflow date arithmetic (APScheduler, timedelta).
MAX_DURATION = 520 * 604800  # 520w, ten years
MAX_POLL = 4 * 604800  # a source is polled at least every 4 weeks
MAX_SINCE = MAX_DURATION


def human_duration(seconds: int) -> str:
    """30m, 2h, 4w: the largest whole unit."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def duration_seconds(text: str | None) -> int | None:
    """'90s', '30m', '2h', '1d', '1w' (or plain seconds) -> seconds, unbounded; None if it is not a duration."""
    m = _DURATION.match(text or "")
    if not m:
        return None
    digits = m.group(1).lstrip("0")
    if len(digits) > 20:  # far past any limit; int() of thousands of digits is refused by Python itself
        return 10**20
    return int(digits or "0") * _UNITS[m.group(2)] or None


def parse_duration(text: str, name: str = "duration", longest: int = MAX_DURATION) -> int:
    """A duration in seconds, at most `longest`; ConfigError naming the input and the limit otherwise."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise ConfigError(f"{name}={str(text)[:40]!r} is not a duration: use e.g. 30m, 2h or 1d")
    if seconds > longest:
        raise ConfigError(f"{name}={str(text)[:40]!r} is too long: at most {human_duration(longest)}")
    return seconds


def _int(env: Mapping[str, str], name: str, default: int, lo: int = 0, hi: int = 2**31) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        v = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{name}={v} is out of range ({lo}–{hi})")
    return v


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        v = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 < v <= 600:
        raise ConfigError(f"{name}={v:g} is out of range (0–600 seconds)")
    return v


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value (use true or false)")


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    v = env.get(name, "").strip()
    return Secret(v) if v else None


@dataclass(frozen=True)
class Settings:
    """Every setting briefbot reads; `.env.example` documents each one."""

    database_url: str = "sqlite:///data/briefbot.db"
    db_busy_timeout: float = 30.0  # seconds a SQLite write waits for another process's write lock
    log_level: str = "INFO"
    log_json: bool = False
    poll_every: int = 1800
    http_timeout: float = 15.0
    max_fetch_bytes: int = 5_000_000
    max_file_bytes: int = 10_000_000
    allow_private_urls: bool = False
    http_port: int = 8080
    http_host: str = "0.0.0.0"
    llm_backend: str = "auto"
    prompts_dir: str | None = None
    llm_timeout: float = 20.0
    llm_deadline: float = 20.0  # seconds a chat answer waits for the model before showing the extractive one
    llm_structured: str = "auto"
    llm_temperature: float = 0.0
    llm_context: int = 4096  # the server's context window in tokens: prompts are budgeted to fit it with the reply
    brief_retention_days: int = 90  # posted briefs and digests (and their pages) are kept this long
    digest_skip_empty: bool = False
    llm_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    openai_api_key: Secret | None = field(default=None, repr=False)
    slack_bot_token: Secret | None = field(default=None, repr=False)
    slack_app_token: Secret | None = field(default=None, repr=False)
    slack_signing_secret: Secret | None = field(default=None, repr=False)
    slack_mode: str = "socket"
    slack_api_url: str | None = None
    discord_token: Secret | None = field(default=None, repr=False)
    discord_guild_id: int | None = None
    embedder: str = "auto"
    embed_model: str = "text-embedding-3-small"
    public_url: str | None = None  # where the bot's pages are reached from outside (citation and brief links)
    link_secret: Secret | None = field(default=None, repr=False)
    link_ttl: int = 30 * 86400  # seconds a page link stays valid
    discord_message_content: bool = False  # the privileged intent; mentions and DMs carry content without it

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings; raise ConfigError naming the first bad variable."""
        e = os.environ if env is None else env
        level = e.get("BRIEFBOT_LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(f"BRIEFBOT_LOG_LEVEL={level!r}: use DEBUG, INFO, WARNING or ERROR")
        backend = e.get("BRIEFBOT_LLM_BACKEND", "auto").strip().lower() or "auto"
        if backend not in {"auto", "extractive", "openai"}:
            raise ConfigError(f"BRIEFBOT_LLM_BACKEND={backend!r}: use auto, extractive or openai")
        mode = e.get("BRIEFBOT_SLACK_MODE", "socket").strip().lower() or "socket"
        if mode not in {"socket", "http"}:
            raise ConfigError(f"BRIEFBOT_SLACK_MODE={mode!r}: use socket or http")
        url = e.get("BRIEFBOT_DATABASE_URL", "").strip() or cls.database_url
        if not url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise ConfigError(f"BRIEFBOT_DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.split(':')[0]!r})")
        embedder = e.get("BRIEFBOT_EMBEDDER", "auto").strip().lower() or "auto"
        if embedder not in {"auto", "local", "openai", "none"}:
            raise ConfigError(f"BRIEFBOT_EMBEDDER={embedder!r}: use auto, local, openai or none")
        guild = e.get("DISCORD_GUILD_ID", "").strip()
        if guild and not guild.isdigit():
            raise ConfigError(f"DISCORD_GUILD_ID={guild!r} is not a numeric Discord id")
        try:
            timeout = float(e.get("BRIEFBOT_HTTP_TIMEOUT", "15") or 15)
        except ValueError:
            raise ConfigError(f"BRIEFBOT_HTTP_TIMEOUT={e.get('BRIEFBOT_HTTP_TIMEOUT')!r} is not a number of seconds") from None
        public = e.get("BRIEFBOT_PUBLIC_URL", "").strip().rstrip("/") or None
        if public and not re.match(r"^https?://[^/\s]+", public):
            raise ConfigError(f"BRIEFBOT_PUBLIC_URL={public[:80]!r} is not an http(s) URL: give the address people "
                              "reach the bot's HTTP server at, e.g. https://briefbot.example.org")
        structured = e.get("BRIEFBOT_LLM_STRUCTURED", "auto").strip().lower() or "auto"
        if structured not in {"auto", "json_schema", "json_object", "none"}:
            raise ConfigError(f"BRIEFBOT_LLM_STRUCTURED={structured!r}: use auto, json_schema (OpenAI, vLLM), "
                              "json_object (llama.cpp, Ollama) or none")
        raw_t = e.get("BRIEFBOT_LLM_TEMPERATURE", "").strip()
        try:
            temperature = float(raw_t) if raw_t else 0.0
        except ValueError:
            raise ConfigError(f"BRIEFBOT_LLM_TEMPERATURE={raw_t!r} is not a number (use 0 for repeatable answers)"
                              ) from None
        if not 0 <= temperature <= 2:
            raise ConfigError(f"BRIEFBOT_LLM_TEMPERATURE={temperature:g} is out of range (0–2)")
        return cls(
            database_url=url,
            log_level=level,
            log_json=_bool(e, "BRIEFBOT_LOG_JSON", False),
            poll_every=parse_duration(e.get("BRIEFBOT_POLL_EVERY", "30m") or "30m", "BRIEFBOT_POLL_EVERY", MAX_POLL),
            http_timeout=timeout,
            max_fetch_bytes=_int(e, "BRIEFBOT_MAX_FETCH_BYTES", 5_000_000, 1024),
            max_file_bytes=_int(e, "BRIEFBOT_MAX_FILE_BYTES", 10_000_000, 1024),
            allow_private_urls=_bool(e, "BRIEFBOT_ALLOW_PRIVATE_URLS", False),
            http_port=_int(e, "BRIEFBOT_HTTP_PORT", 8080, 0, 65535),
            http_host=e.get("BRIEFBOT_HTTP_HOST", "").strip() or "0.0.0.0",
            llm_backend=backend,
            prompts_dir=e.get("BRIEFBOT_PROMPTS_DIR", "").strip() or None,
            llm_timeout=_seconds(e, "BRIEFBOT_LLM_TIMEOUT", 20.0),
            db_busy_timeout=_seconds(e, "BRIEFBOT_DB_BUSY_TIMEOUT", 30.0),
            llm_deadline=_seconds(e, "BRIEFBOT_LLM_DEADLINE", 20.0),
            llm_structured=structured,
            llm_temperature=temperature,
            llm_context=_int(e, "BRIEFBOT_LLM_CONTEXT", 4096, 1024, 2_000_000),
            digest_skip_empty=_bool(e, "BRIEFBOT_DIGEST_SKIP_EMPTY", False),
            brief_retention_days=_int(e, "BRIEFBOT_BRIEF_RETENTION_DAYS", 90, 1, 36_500),
            llm_model=e.get("BRIEFBOT_LLM_MODEL", "").strip() or cls.llm_model,
            openai_base_url=e.get("OPENAI_BASE_URL", "").strip() or None,
            openai_api_key=_secret(e, "OPENAI_API_KEY"),
            slack_bot_token=_secret(e, "SLACK_BOT_TOKEN"),
            slack_app_token=_secret(e, "SLACK_APP_TOKEN"),
            slack_signing_secret=_secret(e, "SLACK_SIGNING_SECRET"),
            slack_mode=mode,
            slack_api_url=e.get("SLACK_API_URL", "").strip() or None,
            discord_token=_secret(e, "DISCORD_TOKEN"),
            discord_guild_id=int(guild) if guild else None,
            embedder=embedder,
            embed_model=e.get("BRIEFBOT_EMBED_MODEL", "").strip() or cls.embed_model,
            public_url=public,
            link_secret=_secret(e, "BRIEFBOT_LINK_SECRET"),
            link_ttl=parse_duration(e.get("BRIEFBOT_LINK_TTL", "30d") or "30d", "BRIEFBOT_LINK_TTL", 365 * 86400),
            discord_message_content=_bool(e, "BRIEFBOT_DISCORD_MESSAGE_CONTENT", False),
        )

    @property
    def use_openai(self) -> bool:
        """The LLM backend is used when asked for, or (auto) when a key or base URL is set."""
        if self.llm_backend == "openai":
            return True
        return self.llm_backend == "auto" and bool(self.openai_api_key or self.openai_base_url)
