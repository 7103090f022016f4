"""The LLM summarizer through the real SDK and a scripted fake server: verified points or extractive ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.app import App
from bot.brief_llm import OpenAISummarizer
from bot.config import Settings
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.sqlite import SQLiteStore
from tests.conftest import SEEDS, need
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('b')}/b.db")
    assert isinstance(s, SQLiteStore)
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    return s


@pytest.fixture
def server() -> Any:
    with FakeOpenAIServer() as srv:
        yield srv


def builder(store: SQLiteStore, server: FakeOpenAIServer) -> Any:
    settings = Settings.from_env({"OPENAI_BASE_URL": server.base_url, "BRIEFBOT_LLM_MODEL": "gpt-4o-mini"})
    b = App(settings=settings, store=store).brief_builder()
    assert isinstance(b.summarizer, OpenAISummarizer)
    b.summarizer.transport.sleep = lambda s: None
    return b


def sentences_sent(server: FakeOpenAIServer) -> list[str]:
    user = server.bodies[-1]["messages"][-1]["content"]
    return [line for line in user.splitlines() if line.startswith("[")]


def numbered(server: FakeOpenAIServer, word: str) -> int:
    return next(int(line[1:line.index("]")]) for line in sentences_sent(server) if word in line)


def test_verified_points_are_used_and_prompt_fits_the_budget(store: SQLiteStore, server: FakeOpenAIServer) -> None:
    b = builder(store, server)
    # the model's reply depends on the numbering it is sent: look at the request first
    server.enqueue_text("{}")
    b()
    n_pipe, n_train = numbered(server, "pipeline"), numbered(server, "armored train")
    server.enqueue_text(json.dumps({
        "headline": "Xi, Putin and Kim appear together in Beijing",
        "summary": {"text": "Three leaders met at a parade in Beijing.", "citations": [n_train]},
        "key_points": [
            {"text": "Gazprom signed a gas pipeline agreement with China.", "citations": [n_pipe]},
            {"text": "Kim arrived by armored train.", "citations": [n_train]},
            {"text": "Navarro said “Modi is a great partner”.", "citations": [n_pipe]},  # invented quote
            {"text": "Putin flew to Paris.", "citations": [999]},  # out of range
        ],
        "differences": [],
    }))
    brief = b()
    st = brief.stories[0]
    assert brief.backend == "openai"
    assert [k.text for k in st.key_points] == ["Gazprom signed a gas pipeline agreement with China.",
                                                "Kim arrived by armored train."]
    assert st.headline == "Xi, Putin and Kim appear together in Beijing"
    for k in st.key_points:
        doc = store.get_document(str(k.citations[0].doc_id))
        assert doc is not None and doc.text[k.citations[0].start:k.citations[0].end] == k.citations[0].text
    assert any(q.speaker == "Peter Navarro" for q in st.quotes)  # quotes come from the index, verbatim
    assert brief.usage["prompt_tokens_counted"] <= 3000
    assert brief.usage["calls"] == 1


@pytest.mark.parametrize("reply", ["not json at all", json.dumps({"headline": "x", "summary": {}, "key_points": []}),
                                   json.dumps({"headline": "“Invented” headline", "summary": {"text": "s",
                                               "citations": [1]}, "key_points": [{"text": "a", "citations": [77]}]})])
def test_bad_replies_fall_back_to_extractive_points(store: SQLiteStore, server: FakeOpenAIServer, reply: str) -> None:
    server.enqueue_text(reply)
    brief = builder(store, server)()
    extractive = App(settings=Settings.from_env({}), store=store).brief_builder()()
    assert [k.text for k in brief.stories[0].key_points] == [k.text for k in extractive.stories[0].key_points]
    assert brief.stories[0].headline == extractive.stories[0].headline
    assert brief.usage["fallbacks"] >= 1


def test_points_are_checked_for_support_off_by_one_repaired_and_the_outcome_logged(
        store: SQLiteStore, server: FakeOpenAIServer) -> None:
    b = builder(store, server)
    server.enqueue_text("{}")
    b()
    n_pipe, n_train = numbered(server, "30-year gas pipeline"), numbered(server, "armored train")
    assert numbered(server, "armored train") == n_train  # ids follow the articles: the same on every call
    server.enqueue_text(json.dumps({
        "headline": "The headline summarizes the key points",  # meta-text: not what the sentences say
        "summary": {"text": "This story is about several outlets covering an event.", "citations": [n_train]},
        "key_points": [
            {"text": "Gazprom signed a 30-year gas pipeline deal with Chinese state energy firms.",
             "citations": [n_pipe]},
            {"text": "Kim arrived from North Korea by armored train.", "citations": [n_train + 1]},  # off by one
            {"text": "Gazprom signed a 50-year pipeline deal.", "citations": [n_pipe]},  # wrong number
            {"text": "Putin promised to invade Japan next year.", "citations": [n_train]},  # invented, cited
        ],
        "differences": [],
    }))
    extractive = App(settings=Settings.from_env({}), store=store).brief_builder()()
    brief = b()
    st = brief.stories[0]
    assert [k.text for k in st.key_points] == ["Gazprom signed a 30-year gas pipeline deal with Chinese state energy "
                                                "firms.", "Kim arrived from North Korea by armored train."]
    assert "armored train" in st.key_points[1].citations[0].text  # the sentence it meant
    assert st.headline == extractive.stories[0].headline and st.summary == extractive.stories[0].summary
    assert brief.usage["points_dropped"] == 3 and brief.usage["points_repaired"] == 1  # 2 points + the summary
    call = store.llm_calls(limit=1)[0]
    assert call["purpose"] == "brief" and call["result"] == "partly_dropped"
    assert "states 50" in call["detail"] and "Putin promised" in call["detail"] and "headline" in call["detail"]


def test_the_brief_prompt_fits_a_4k_context_with_room_for_the_reply(store: SQLiteStore,
                                                                    server: FakeOpenAIServer) -> None:
    from bot.brief_llm import BRIEF_TOKENS
    from bot.llm.tokens import ESTIMATE_MARGIN

    settings = Settings.from_env({"OPENAI_BASE_URL": server.base_url, "BRIEFBOT_LLM_MODEL": "qwen2.5-1.5b-instruct",
                                  "BRIEFBOT_LLM_CONTEXT": "4096"})
    server.enqueue_text("{}")
    brief = App(settings=settings, store=store).brief_builder()()
    # a local model's tokenizer may count more than our estimate: the margin still leaves the reply its room
    assert brief.usage["prompt_tokens_counted"] * ESTIMATE_MARGIN + BRIEF_TOKENS < 4096
    assert server.bodies[0]["max_tokens"] == BRIEF_TOKENS
