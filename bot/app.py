"""The one place that picks implementations from settings: store, fetcher, ingester, backends, the Service and
the chat adapters, the HTTP server and the digest runner.

Everything it builds takes plain arguments, so tests can build the same objects directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.ingest.pipeline import FetchOutcome, Ingester, SourceState
from bot.store import Store, open_store

if TYPE_CHECKING:
    from bot.adapters.discord_run import DiscordRunner
    from bot.adapters.slack import SlackStarter
    from bot.answer import Answerer
    from bot.brief import BriefBuilder
    from bot.digest import DigestRunner, Poster
    from bot.drafting import Backend
    from bot.embed import DenseIndex, Embedder
    from bot.http_server import BotHTTPServer, WSGIApp
    from bot.ingest.http import Fetcher
    from bot.llm.openai_compat import OpenAICompat, Prompt
    from bot.service import Service
    from bot.web.links import Linker
    from bot.web.pages import Pages

log = logging.getLogger("briefbot")


@dataclass
class App:
    """The assembled bot: settings and the parts built from them."""

    settings: Settings
    store: Store
    _fetcher: Fetcher | None = field(default=None, repr=False)
    _strict: Fetcher | None = field(default=None, repr=False)
    _embedder: Embedder | None = field(default=None, repr=False)
    _embedder_built: bool = field(default=False, repr=False)
    _dense: DenseIndex | None = field(default=None, repr=False)
    _embed_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _linker: tuple[Linker | None] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> App:
        """Open the store named by the settings (creating and migrating it)."""
        return cls(settings=settings, store=open_store(settings.database_url, busy_timeout=settings.db_busy_timeout))

    def fetcher(self) -> Fetcher:
        """The one HTTP client policy (timeouts, size cap, redirects, private-address rule)."""
        if self._fetcher is None:
            from bot.ingest.http import Fetcher

            s = self.settings
            self._fetcher = Fetcher(timeout=s.http_timeout, max_bytes=s.max_fetch_bytes,
                                    allow_private=True)
        return self._fetcher

    def strict_fetcher(self) -> Fetcher:
        """The policy for URLs chat users supply: private addresses refused unless settings allow them."""
        if self._strict is None:
            from bot.ingest.http import Fetcher

            s = self.settings
            self._strict = Fetcher(timeout=s.http_timeout, max_bytes=s.max_fetch_bytes,
                                   allow_private=s.allow_private_urls)
        return self._strict

    def check_chat_url(self, url: str) -> None:
        """ValueError with the reason when a URL from chat may not be fetched."""
        from bot.ingest.http import FetchError

        try:
            self.strict_fetcher().check(url)
        except FetchError as e:
            raise ValueError(e.reason) from None

    def fetch_url(self, url: str, state: SourceState) -> FetchOutcome:
        """Fetch a page or feed once, with the conditional-GET state of its source."""
        from bot.ingest.web import fetch_url

        fetcher = self.strict_fetcher() if state.untrusted else self.fetcher()
        res = fetch_url(url, fetcher, etag=state.etag, last_modified=state.last_modified)
        return FetchOutcome(documents=res.documents, errors=res.errors,
                            state=SourceState(res.etag, res.last_modified), not_modified=res.not_modified)

    def ingester(self) -> Ingester:
        """An ingester wired with quote extraction and the HTTP fetcher."""
        from bot.quotes import extract_quotes

        return Ingester(self.store, extract_quotes=extract_quotes, fetch_url=self.fetch_url,
                        max_file_bytes=self.settings.max_file_bytes)

    def embedder(self) -> Embedder | None:
        """The embedder settings pick, built once; None (lexical-only, the reason logged once) when it is off
        or its model is not installed."""
        with self._embed_lock:
            if not self._embedder_built:
                s = self.settings
                self._embedder = load_embedder(s.embedder, model=s.embed_model, base_url=s.openai_base_url,
                                               api_key=s.openai_api_key.reveal() if s.openai_api_key else None,
                                               timeout=max(s.llm_timeout, 30.0))
                self._embedder_built = True
            return self._embedder

    def dense_index(self) -> DenseIndex | None:
        """The dense index over the stored vectors of the active embedder (None when lexical-only)."""
        embedder = self.embedder()
        with self._embed_lock:
            if self._dense is None and embedder is not None:
                from bot.embed import DenseIndex

                self._dense = DenseIndex(self.store, embedder)
            return self._dense

    def answerer(self, backend: str | None = None) -> Answerer:
        """The answerer with the backend settings (or `backend`) pick; extractive is always the fallback."""
        from bot.answer import Answerer

        want = backend or ("openai" if self.settings.use_openai else "extractive")
        return Answerer(self.store, backend=self.llm_backend() if want == "openai" else None, secrets=self.secrets(),
                        dense=self.dense_index(), deadline=self.settings.llm_deadline if want == "openai" else None)

    def llm_backend(self) -> Backend:
        """The OpenAI-compatible backend built from settings."""
        from bot.answer_llm import ANSWER_TOKENS, SOURCE_BUDGET, OpenAIBackend
        from bot.llm.tokens import count_tokens, prompt_budget

        prompt, transport = self._llm("answer")
        # the sources get what the context window leaves after the rules, the question and the reply
        room = prompt_budget(self.settings.llm_context, ANSWER_TOKENS, transport.model)
        budget = min(SOURCE_BUDGET, room - count_tokens(prompt.text, transport.model) - 150)
        return OpenAIBackend(transport, prompt.text, prompt.name, prompt.hash, source_budget=max(200, budget))

    def brief_builder(self, backend: str | None = None) -> BriefBuilder:
        """Stories and briefs of what is stored: the LLM summarizer when configured, else extractive."""
        from bot.brief import BriefBuilder

        want = backend or ("openai" if self.settings.use_openai else "extractive")
        if want != "openai":
            return BriefBuilder(self.store)
        from bot.brief_llm import BRIEF_BUDGET, BRIEF_TOKENS, OpenAISummarizer
        from bot.llm.tokens import prompt_budget

        prompt, transport = self._llm("brief")
        budget = min(BRIEF_BUDGET, prompt_budget(self.settings.llm_context, BRIEF_TOKENS, transport.model))
        store: Any = self.store
        return BriefBuilder(self.store, OpenAISummarizer(transport, prompt.text, prompt.name, prompt.hash,
                                                         budget=budget, secrets=self.secrets(),
                                                         on_outcome=store.llm_call_outcome))

    def llm_checks(self) -> list[Any]:
        """The LLM server checked as `briefbot doctor` shows it (bot.llm.openai_compat.Check lines)."""
        _, transport = self._llm("answer", purpose="check")
        checks: list[Any] = transport.check_server()
        return checks

    def secrets(self) -> tuple[str, ...]:
        """Every configured secret: answers and briefs must never contain one."""
        s = self.settings
        return tuple(x.reveal() for x in (s.openai_api_key, s.slack_bot_token, s.slack_app_token,
                                          s.slack_signing_secret, s.discord_token, s.link_secret) if x)

    def linker(self) -> Linker | None:
        """Signed page links under BRIEFBOT_PUBLIC_URL, keyed by BRIEFBOT_LINK_SECRET or else a secret the bot
        already holds (Slack's signing secret, then the Discord token); None when there is no public URL."""
        from bot.web.links import Linker, derive_key

        if self._linker is not None:
            return self._linker[0]
        s = self.settings
        self._linker = (None,)
        if not s.public_url:
            return None
        secret = next((x for x in (s.link_secret, s.slack_signing_secret, s.discord_token, s.slack_bot_token) if x),
                      None)
        if secret is None:
            log.warning("BRIEFBOT_PUBLIC_URL is set but there is no secret to sign page links with: set "
                        "BRIEFBOT_LINK_SECRET (citations link to the original articles only)")
            return None
        self._linker = (Linker(derive_key(secret.reveal()), s.public_url, ttl=s.link_ttl),)
        return self._linker[0]

    def pages(self) -> Pages | None:
        """The citation and brief pages for the HTTP server (None without a public URL)."""
        from bot.web.pages import Pages

        linker = self.linker()
        return Pages(self.store, linker) if linker is not None else None

    def _llm(self, prompt_name: str, purpose: str | None = None) -> tuple[Prompt, OpenAICompat]:
        """A prompt file and a transport whose every call lands in the store's call log."""
        purpose = purpose or prompt_name
        from bot.llm.openai_compat import OpenAICompat, is_local, load_prompt, safe_server

        s = self.settings
        prompt = load_prompt(prompt_name, Path(s.prompts_dir) if s.prompts_dir else None)
        store: Any = self.store
        server = safe_server(s.openai_base_url)
        try:  # auto remembers per server which structured-output mode it took, so no run re-learns it
            remembered = store.llm_structured(server) if s.llm_structured == "auto" else None
        except Exception:
            log.exception("could not read the remembered structured-output mode")
            remembered = None
        transport = OpenAICompat(
            api_key=s.openai_api_key.reveal() if s.openai_api_key else None, base_url=s.openai_base_url,
            model=s.llm_model, on_call=lambda rec: store.log_llm_call({**rec, "purpose": purpose}),
            # 429s and 5xx are retried twice with backoff; a timeout only on a remote API: a local server keeps
            # computing the abandoned request, so sending it again stacks a backlog
            timeout=s.llm_timeout, max_retries=2, retry_timeouts=not is_local(s.openai_base_url),
            structured=s.llm_structured, initial_mode=remembered, temperature=s.llm_temperature,
            # some chat templates (Gemma on llama.cpp) silently drop system messages
            system_role="gemma" not in s.llm_model.lower())
        return prompt, transport

    def core(self, backend: str | None = None,
             on_store_error: Callable[[str, Exception], None] | None = None) -> Service:
        """The Service chat adapters and the CLI's ask and chat talk to (bot.core.Core); `on_store_error` hears of
        an answer or a turn the store could not keep (logged by default)."""
        from bot.core import Core

        core = Core(self.store, self.answerer(backend), self.brief_builder(), check_url=self.check_chat_url,
                    default_every=self.settings.poll_every)
        if on_store_error is not None:
            core.on_store_error = on_store_error
        return core

    def slack(self, core: Service, owner: str = "local", retry: float = 5.0) -> SlackStarter | None:
        """Slack's adapter for `briefbot run` (None without SLACK_BOT_TOKEN), not started yet: `start()` connects
        now or keeps retrying in the background (see SlackStarter)."""
        s = self.settings
        if not s.slack_bot_token:
            return None
        from bot.adapters.slack import SlackBot, SlackPoster, SlackRunner, SlackStarter, make_client

        store, linker, mode = self.store, self.linker(), s.slack_mode
        token = s.slack_bot_token.reveal()
        secret = s.slack_signing_secret.reveal() if s.slack_signing_secret else None
        app_token = s.slack_app_token.reveal() if s.slack_app_token else None

        def build() -> tuple[SlackRunner, SlackPoster]:
            SlackRunner.check(mode, app_token, secret)  # a missing setting, before any network call
            client = make_client(token, s.slack_api_url)
            client.auth_test()  # a refused token or an unreachable Slack, told apart before Bolt wraps them
            bot = SlackBot(core, bot_token=token, signing_secret=secret, api_url=s.slack_api_url, client=client,
                           linker=linker,
                           # a redelivered event, or one another replica took, is answered once
                           dedupe=lambda event_id: not store.first_sight("slack", event_id, owner))
            runner = SlackRunner(bot, mode=mode, app_token=app_token)
            try:
                runner.start()
            except BaseException:
                bot.close(0)
                raise
            return runner, SlackPoster(bot.client, linker)

        return SlackStarter(build, retry_first=retry)

    def discord(self, core: Service) -> DiscordRunner | None:
        """Discord's adapter for `briefbot run` (None without DISCORD_TOKEN), not started yet."""
        s = self.settings
        if not s.discord_token:
            return None
        from bot.adapters.discord_bot import DiscordBot
        from bot.adapters.discord_run import DiscordRunner

        bot = DiscordBot(core, guild_id=s.discord_guild_id, linker=self.linker(),
                         message_content=s.discord_message_content)
        return DiscordRunner(bot, s.discord_token.reveal())

    def http_server(self, slack: WSGIApp | None) -> BotHTTPServer:
        """Health, metrics, pages and (in Slack's HTTP mode) POST /slack/events on the configured port.
        Raises OSError when the port is taken."""
        from bot.http_server import BotHTTPServer

        s = self.settings
        return BotHTTPServer(self.store, s.http_port, slack=slack if s.slack_mode == "http" else None,
                             host=s.http_host, pages=self.pages())

    def digest_runner(self, posters: dict[str, Poster], owner: str) -> DigestRunner:
        """The digests due, posted through the chat adapters that are up."""
        from bot.digest import DigestRunner

        return DigestRunner(self.store, self.brief_builder(), posters, owner=owner,
                            skip_empty=self.settings.digest_skip_empty,
                            brief_retention=timedelta(days=self.settings.brief_retention_days))

    def close(self) -> None:
        """Release the store (and the HTTP client)."""
        self.store.close()
        for f in (self._fetcher, self._strict):
            if f is not None:
                f.close()


def load_embedder(kind: str, model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                  timeout: float = 30.0) -> Embedder | None:
    """The embedder settings name: auto/local -> the offline model, openai -> the server, none -> None.

    When it cannot be built (a package missing, a corrupt file) the reason is logged once and None is
    returned: answers then run lexical-only. Nothing here raises for a missing model.
    """
    kind = (kind or "auto").strip().lower()
    if kind == "none":
        return None
    if kind == "openai":
        from bot.llm.openai_embed import OpenAIEmbedder

        return OpenAIEmbedder(model=model or "text-embedding-3-small", base_url=base_url, api_key=api_key,
                              timeout=timeout)
    if kind not in {"auto", "local"}:
        raise ValueError(f"embedder {kind!r}: use auto, local, openai or none")
    from bot.embed import EmbedderUnavailable, OnnxMiniLM

    try:
        return OnnxMiniLM()
    except EmbedderUnavailable as e:
        logging.getLogger("briefbot.embed").warning("embeddings off, answers use lexical search only: %s", e)
        return None
