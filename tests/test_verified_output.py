"""Nothing unverified reaches a chat user (issue 14): streamed drafts, links and markup in what the bot shows.

The real Core, Answerer, OpenAI SDK, Bolt App and WebClient run against a fake OpenAI server and a fake Slack
Web API on loopback; the model streams a draft whose second sentence invents a quote, a phishing link and the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.adapters import discord_render
from bot.adapters import slack_render as render
from bot.adapters.slack import SlackBot
from bot.answer import Answerer
from bot.answer_llm import OpenAIBackend
from bot.app import App
from bot.config import Settings
from bot.core import Core
from bot.domain import Answer, Citation, Quote
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.sqlite import SQLiteStore
from tests.conftest import SEEDS, need
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.slack_api import FakeSlack
from tests.test_slack import SECRET, TOKEN, event, mention, signed

KEY = "sk-test-SECRET-0123456789"
GOOD = "Peter Navarro said it is “a shame to see Modi getting in bed with Xi Jinping and Putin” [1]. "
BAD = f"He added “India is now our enemy” and asked readers to log in at evil-login.example/verify with {KEY} [1]."


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('verified')}/a.db")
    assert isinstance(s, SQLiteStore)
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    return s


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


def llm_answerer(store: SQLiteStore, server: FakeOpenAIServer) -> Answerer:
    settings = Settings.from_env({"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": KEY,
                                  "BRIEFBOT_LLM_MODEL": "gpt-4o-mini"})
    answerer = App(settings=settings, store=store).answerer()
    assert isinstance(answerer.backend, OpenAIBackend)
    assert KEY in answerer.secrets
    transport: Any = answerer.backend.transport
    transport.sleep = lambda s: None
    ticks = iter(range(1_000_000))
    transport._clock = lambda: float(next(ticks))  # each streamed chunk is a second later: every one is passed on
    return answerer


def streamed(text: str, size: int = 7) -> list[str]:
    raw = json.dumps({"found": True, "answer": text, "citations": [1]}, ensure_ascii=False)
    return [raw[i:i + size] for i in range(0, len(raw), size)]


def ask_in_slack(store: SQLiteStore, server: FakeOpenAIServer, fake: FakeSlack, draft: str) -> list[str]:
    server.enqueue_stream(streamed(draft))
    core = Core(store, llm_answerer(store, server), None)
    bot = SlackBot(core, bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url, update_interval=0.0)
    try:
        body = event(mention("<@UBOT> What did Navarro say about Modi?"))
        bot.handle_http(body.encode(), signed(body, "application/json"))
        assert bot.drain(30)
    finally:
        bot.close(5)
    assert server.bodies and server.bodies[-1].get("stream") is True  # the model really streamed
    # the answer's message as the channel saw it: posted with its first verified words, then updated
    return [json.dumps(c.body, ensure_ascii=False) for c in fake.calls if c.method in ("chat.postMessage", "chat.update")]


def test_streamed_draft_shows_only_verified_sentences(store: SQLiteStore, server: FakeOpenAIServer,
                                                       fake: FakeSlack) -> None:
    updates = ask_in_slack(store, server, fake, GOOD + BAD)
    assert len(updates) >= 2  # the verified first sentence while writing, then the final answer
    assert "a shame to see Modi getting in bed" in updates[0] and "Writing the answer" in updates[0]
    for body in updates:
        assert "India is now our enemy" not in body
        assert "evil-login" not in body
        assert "SECRET" not in body and "0123456789" not in body
    # the whole draft fails verification: the final message is the extractive answer, not the model's
    assert "Writing the answer" not in updates[-1]


def test_a_draft_that_starts_wrong_shows_nothing_but_the_status_line(
        store: SQLiteStore, server: FakeOpenAIServer, fake: FakeSlack) -> None:
    updates = ask_in_slack(store, server, fake, BAD + " " + GOOD)
    assert len(updates) == 1  # no partial at all: nothing is posted in the thread until the verified answer
    assert "India is now our enemy" not in updates[0] and "evil-login" not in updates[0]
    told = fake.of("chat.postEphemeral")  # meanwhile only the asker saw "Searching…"
    assert told and "Searching" in json.dumps(told[0].body)


# ---- links only where the bot puts them -------------------------------------------------------------------

def cite(text: str = "Officials said the port reopens on Monday.") -> Citation:
    return Citation(n=1, source="https://news.example/port", text=text, doc_id=1, start=0, end=len(text),
                    title="Port [reopens]", url="https://news.example/port", outlet="Gazette")


def test_slack_sets_link_like_text_as_code_so_it_is_never_clickable() -> None:
    text = "Details are at evil-login.example/verify and https://evil.example/x?a=1&b=2 [1]. The U.S. agreed."
    blocks = json.dumps(render.render_answer(Answer("q", text, True, [cite(text)]))["blocks"])
    assert "`evil-login.example/verify`" in blocks
    assert "`https://evil.example/x?a=1&amp;b=2`" in blocks
    assert "The U.S. agreed" in blocks  # abbreviations are not domains
    assert "<https://news.example/port|" in blocks  # the bot's own citation link stays a link
    assert "`evil-login.example/verify`" in render.render_partial(text)["blocks"][0]["text"]["text"]


def test_discord_escapes_article_markdown_so_links_appear_only_where_the_bot_puts_them() -> None:
    planted = "Read the [Official statement](https://evil.example/login) now, *urgently* [1]."
    q = Quote(text="See [our site](https://evil.example/a) for `details`", start=0, end=10, speaker="Ann_Lee")
    ans = Answer("What did [they](https://evil.example) say?", planted, True, [cite(planted)], quotes=[(q, cite())])
    embed = discord_render.render_answer(ans)[0].embeds[0]
    desc = embed.description or ""
    assert "](https://evil" not in desc and "\\[Official statement\\]" in desc
    assert "`https://evil.example/login`" in desc  # a bare URL is shown, never clickable
    assert "\\*urgently\\*" in desc
    fields = " ".join(f"{f.name} {f.value}" for f in embed.fields)
    assert "](https://evil" not in fields and "Ann\\_Lee" in fields
    assert "[1] [Port (reopens) — Gazette](https://news.example/port)" in fields  # the bot's own link


def test_a_piece_of_a_key_leaks_but_a_placeholder_key_does_not_ban_words() -> None:
    from bot.citations import leaks_secret

    assert leaks_secret(f"the key starts {KEY[:16]}", (KEY,))  # cut short, still a leak
    assert not leaks_secret("Passengers are required to book.", ("sk-no-key-required",))  # llama.cpp's placeholder
    assert leaks_secret("it is sk-no-key-required", ("sk-no-key-required",))


def test_extractive_shapes_still_verify() -> None:
    """Stored text the extractive answer shows: a headline label with scare quotes, and a quotation left open
    by the cited sentence (its marker ends it), pass; the same words cited to the wrong passage do not."""
    from bot.citations import verify
    from bot.domain import Document

    art = ("He added: \"The relationship has said to us that we'd like some more of it.\n\n"
           "Connors is not the first great name to offer his services.")
    doc = Document(id=1, location="tennis/1.txt", title="Custody death rate 'shocks' MPs", text=art, content_hash="h")
    a, b = art.index('"The') + 1, art.index(" of it.") + 7
    c = art.index("Connors")
    one = Citation(n=1, source=doc.location, text=art[a - 1:b], doc_id=1, start=a - 1, end=b, title=doc.title)
    two = Citation(n=2, source=doc.location, text=art[c:], doc_id=1, start=c, end=len(art), title=doc.title)
    assert verify("Custody death rate 'shocks' MPs: \"The relationship has said to us that we'd like some more of "
                  "it. [1] Connors is not the first great name to offer his services. [2]", [one, two], {1: doc}).ok
    assert not verify("\"Connors is not the first great name to offer his services.\" [1] More [2].", [one, two],
                      {1: doc}).ok
