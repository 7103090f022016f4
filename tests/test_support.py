"""Support checking (bot.support): every sentence of a model's answer rests on what it cites, or is dropped.

Unit tests on drafts written here, then the same drafts scripted on the fake OpenAI server through the real SDK.
"""

from __future__ import annotations

import threading
import time

import pytest

from bot.answer_llm import cite_from_array
from bot.citations import markers
from bot.store.sqlite import SQLiteStore
from bot.support import sentences, support
from tests import test_answer_llm as base
from tests.fakes.openai_server import FakeOpenAIServer
from tests.test_answer_llm import Q, answerer, reply

store, server = base.store, base.server  # the same fixtures: seeds ingested once, a fresh fake server per test

# what retrieval gives the model as [1] for Q (seed 000: the Navarro quote with its attribution)
NAVARRO = ("“It is a shame to see Modi getting in bed with Xi Jinping and Putin,” said Peter Navarro, a Trump "
           "trade advisor.")
GOOD = "Peter Navarro, a Trump trade advisor, said it was a shame that Modi was getting in bed with Xi and Putin [1]."
PARAPHRASE = "Navarro, who advises Trump on trade, called Modi's closeness to Xi and Putin shameful [1]."


@pytest.mark.parametrize("sentence", [GOOD, PARAPHRASE])
def test_a_paraphrase_with_support_passes(sentence: str) -> None:
    share, why = support(sentence, [NAVARRO])
    assert why is None and share >= 0.6


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Navarro said Modi will visit Washington next month [1].", "names washington"),  # invented fact
    ("Putin promised to invade Japan next year. [1]", "names japan"),  # the example
    ("Navarro said 3 leaders met Modi in 2024 [1].", "states 3, 2024"),  # wrong numbers
    ("The headline summarizes the key points [1].", "content words"),  # meta-text from the LLM brief
    ("[1]", "only citation markers"),
    ("[1] [1082]", "only citation markers"),
])
def test_unsupported_sentences_are_named_with_why(sentence: str, reason: str) -> None:
    share, why = support(sentence, [NAVARRO])
    assert why is not None and reason in why, why


def test_sentences_keep_their_markers_and_never_split_a_quotation() -> None:
    text = ("Mr. Navarro spoke in the U.S. on Monday [1]. He said “It is a shame. Truly.” [2] "
            "Putin agreed. [3]\nXi did not [1, 2]")
    assert sentences(text) == ["Mr. Navarro spoke in the U.S. on Monday [1].", "He said “It is a shame. Truly.” [2]",
                               "Putin agreed. [3]", "Xi did not [1, 2]"]


def test_markers_of_any_length_are_parsed() -> None:
    assert markers("[1] [1082] [2, 123456]") == [1, 1082, 2, 123456]
    assert markers("[" + "9" * 5000 + "]") == [10**18]  # absurd, but a number no citation has, not an error


def test_citations_from_the_json_array_go_to_the_sentence_they_support() -> None:
    kim = "Kim’s arrival from North Korea by way of armored train added drama to an event."
    text = cite_from_array("Navarro called it a shame. Kim arrived by armored train.", [2, 1, 9, "x"], [NAVARRO, kim])
    assert text == "Navarro called it a shame [1]. Kim arrived by armored train [2]."
    assert cite_from_array("Navarro called it a shame.", [7], [NAVARRO]) == "Navarro called it a shame."


# -- the same drafts from a model, through the fake server and the real SDK ------------------------------------
@pytest.mark.parametrize("answer", [
    "Navarro said Modi will visit Washington next month [1].",
    "Putin promised to invade Japan next year. [1]",
    "Navarro said 3 leaders met Modi [1].",
    "Navarro criticised Modi [1082].",
    "[1]",
    "[1] [1082]",
    "Xi Jinping said “It is a shame to see Modi getting in bed with Xi Jinping and Putin” [1].",  # wrong speaker
    "Navarro said ‘Modi is our closest friend’ [1].",
])
def test_unsupported_answers_fall_back_and_say_why(store: SQLiteStore, server: FakeOpenAIServer,
                                                    answer: str) -> None:
    server.enqueue_text(reply({"answer": answer, "found": True, "citations": [1]}))
    ans = answerer(store, server).ask(Q)
    assert ans.backend == "extractive" and ans.found and ans.outcome == "fell_back"
    assert ans.text.startswith("Peter Navarro, a Trump trade advisor, said: “It is a shame to see Modi")
    assert "fell back" in ans.why


def test_a_supported_paraphrase_is_shown(store: SQLiteStore, server: FakeOpenAIServer) -> None:
    server.enqueue_text(reply({"answer": PARAPHRASE, "found": True, "citations": [1]}))
    ans = answerer(store, server).ask(Q)
    assert ans.backend == "openai" and ans.outcome == "verified" and ans.dropped == []
    assert ans.text == PARAPHRASE and ans.citations[0].text.startswith("“It is a shame")


def test_citations_only_in_the_json_array_are_used(store: SQLiteStore, server: FakeOpenAIServer) -> None:
    server.enqueue_text(reply({"answer": "Peter Navarro said it is a shame to see Modi getting in bed with Xi "
                                         "Jinping and Putin.", "found": True, "citations": [1]}))
    ans = answerer(store, server).ask(Q)
    assert ans.backend == "openai" and ans.outcome == "verified"
    assert ans.text.endswith("Putin [1].") and len(ans.citations) == 1


def test_an_unsupported_sentence_is_dropped_when_the_rest_stands(store: SQLiteStore,
                                                                   server: FakeOpenAIServer) -> None:
    server.enqueue_text(reply({"answer": f"{GOOD} He also said Modi will visit Washington [1].", "found": True}))
    ans = answerer(store, server).ask(Q)
    assert ans.backend == "openai" and ans.outcome == "partly_dropped"
    assert ans.text == GOOD
    assert ans.dropped == [{"sentence": "He also said Modi will visit Washington [1].",
                            "why": "names washington, not in the cited text"}]
    assert ans.to_json()["dropped"] == ans.dropped
    calls = store.llm_calls(limit=1)
    assert calls[0]["result"] == "partly_dropped" and "washington" in calls[0]["detail"]


def test_too_little_left_falls_back(store: SQLiteStore, server: FakeOpenAIServer) -> None:
    server.enqueue_text(reply({"answer": "Navarro spoke [1]. He said Modi will visit Washington and Tokyo next "
                                         "month to sign 14 trade deals with Japan and America [1].", "found": True}))
    ans = answerer(store, server).ask(Q)
    assert ans.backend == "extractive" and ans.outcome == "fell_back"
    assert "too little of the answer is supported" in ans.why and "Washington" in ans.why


def test_a_hung_server_gives_the_extractive_answer_at_the_deadline(store: SQLiteStore,
                                                                   server: FakeOpenAIServer) -> None:
    text = reply({"answer": f"{GOOD} {PARAPHRASE}", "found": True})
    server.enqueue_stream([text[i:i + 30] for i in range(0, len(text), 30)], interval=0.3)  # ~2 s, streamed
    shown: list[str] = []
    a = answerer(store, server, BRIEFBOT_LLM_DEADLINE="0.5", BRIEFBOT_LLM_TIMEOUT="10")
    started = time.monotonic()
    ans = a.ask(Q, on_partial=shown.append)
    took = time.monotonic() - started
    assert took < 0.5 + 1.0, took
    assert ans.backend == "extractive" and ans.outcome == "timed_out" and "0.5 s deadline" in ans.why
    # the late answer arrives, is discarded and is logged as such; nothing of it was shown
    for t in threading.enumerate():
        if t.name == "llm-answer":
            t.join(timeout=15)
    assert shown == []
    assert [(c["outcome"], c["result"]) for c in store.llm_calls(limit=1)] == [("ok", "timed_out")]
    assert "after the 0.5 s deadline" in store.llm_calls(limit=1)[0]["detail"]


def test_answers_by_outcome_in_the_call_log(store: SQLiteStore, server: FakeOpenAIServer) -> None:
    before = {u["result"]: u["calls"] for u in store.llm_usage("") if u["purpose"] == "answer"}
    server.enqueue_text(reply({"answer": PARAPHRASE, "found": True}))
    server.enqueue_text(reply({"answer": "", "found": False}))
    server.enqueue_text(reply({"answer": "[1]", "found": True}))
    a = answerer(store, server)
    assert [a.ask(Q).outcome for _ in range(3)] == ["verified", "refused", "fell_back"]
    after = {u["result"]: u["calls"] for u in store.llm_usage("") if u["purpose"] == "answer"}
    assert {k: after[k] - before.get(k, 0) for k in ("verified", "refused", "fell_back")} == {
        "verified": 1, "refused": 1, "fell_back": 1}


def test_a_sentence_without_markers_rests_on_the_next_ones_citation() -> None:
    from bot.support import carry_markers

    assert carry_markers(["Navarro spoke.", "He said “It is a shame.”", "Kim came by train [2].", "Bye."]) == [
        "Navarro spoke [2].", "He said “It is a shame.” [2]", "Kim came by train [2].", "Bye."]


def test_two_sentences_cited_once_are_both_checked(store: SQLiteStore, server: FakeOpenAIServer) -> None:
    server.enqueue_text(reply({"answer": "Peter Navarro is a Trump trade advisor. He said it was a shame to see "
                                         "Modi getting in bed with Xi Jinping and Putin [1].", "found": True}))
    ans = answerer(store, server).ask(Q)
    assert ans.backend == "openai" and ans.outcome == "verified"
    assert ans.text.startswith("Peter Navarro is a Trump trade advisor [1]. He said")
    server.enqueue_text(reply({"answer": "Navarro lives in Paris. He said it was a shame to see Modi getting in "
                                         "bed with Xi Jinping and Putin [1].", "found": True}))
    ans = answerer(store, server).ask(Q)
    assert ans.outcome == "partly_dropped" and ans.dropped[0]["why"] == "names paris, not in the cited text"


def test_a_headline_naming_someone_does_not_support_giving_them_the_passage(store: SQLiteStore,
                                                                             server: FakeOpenAIServer) -> None:
    # seen from Gemma 3 270M: a passage quoting Jenny Town, an answer giving its gist to Kim Jong Un
    server.enqueue_text(reply({"answer": "The North Korean leader Kim Jong Un said that the United States and its "
                                         "allies are a threat to his country [1].", "found": True}))
    ans = answerer(store, server).ask("What did Jenny Town say about the alliance?")
    assert ans.backend == "extractive" and "kim" in ans.why.lower()
