"""A message that asks several things ("who bought it, and how much is the deal worth?") is answered part by part:
how a message is cut into its questions, and the one reply made of their answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.citations import markers
from bot.ingest.pipeline import Ingester
from bot.question import MAX_PARTS, question_parts
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.base import Store
from tests.conftest import ROOT, articles_store

SAMPLES = ROOT / "bot" / "samples"


@pytest.mark.parametrize("message, parts", [
    ("who bought the savoy, and how much is fairmont spending on it?",
     ["who bought the savoy", "how much is fairmont spending on it?"]),
    ("how many gurkhas is the uk offering, where would they go",
     ["how many gurkhas is the uk offering", "where would they go"]),
    ("who is bidding and how much is on the table?", ["who is bidding", "how much is on the table?"]),
    ("Where did Spain win their first title, and do the reports on the final agree?",
     ["Where did Spain win their first title", "do the reports on the final agree?"]),
    ("is agassi ok?? who was he playing when he quit n whats wrong w him",
     ["is agassi ok??", "who was he playing when he quit", "whats wrong w him"]),
    # a statement stays with the question it follows
    ("What's the rebuilding bill? The two reports give different figures. And how much growth will it cost?",
     ["What's the rebuilding bill? The two reports give different figures.", "how much growth will it cost?"]),
])
def test_a_message_asking_several_things_is_cut_into_its_questions(message: str, parts: list[str]) -> None:
    assert question_parts(message) == parts


def test_a_frame_saying_where_to_look_holds_for_every_part() -> None:
    assert question_parts("Across the stories on the port strike, who walked out, and when do talks resume?") == [
        "Across the stories on the port strike, who walked out",
        "Across the stories on the port strike, when do talks resume?"]


@pytest.mark.parametrize("message", [
    "How do the reports portray the mayor and where he stands?",  # a clause of the question, not a question
    "Why, according to the op-ed, did the council back it?",  # a parenthesis
    "Going by the reports on the strike, who stands in the union's way?",  # a frame, then one question
    "lol some guy paid real money for an island in a video game? how much",  # a statement, then what it asks
    "more detail pls, who's running it",  # a request naming nothing, then what it asks
    "why? what did they want instead",
    "what about websites, how many got shut in august",  # a new subject, then what is asked of it
    "What did Navarro say about Modi and Putin?",
    "how much",
    "",
])
def test_a_message_asking_one_thing_is_one_question(message: str) -> None:
    assert question_parts(message) == [message.strip()]


def test_a_closing_remark_that_the_reports_differ_holds_for_every_part() -> None:
    # said after the last question, it is said of the whole message; said after one part, it stays with it
    assert question_parts("how much did verizon's bid come to, and what had qwest offered? the reports dont give "
                          "the same number") == [
        "how much did verizon's bid come to, the reports dont give the same number",
        "what had qwest offered? the reports dont give the same number"]
    assert question_parts("What's the bill? The figures differ. And how much will growth be cut?") == [
        "What's the bill? The figures differ.", "how much will growth be cut?"]


def test_a_message_asking_many_things_is_answered_in_at_most_four_parts() -> None:
    parts = question_parts("who won, and who lost, and when is the replay, and where, and who referees it?")
    assert len(parts) == MAX_PARTS and parts[-1].startswith("where") and "referees" in parts[-1]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('db')}/c.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    return s


def verbatim(store: Store, ans: object) -> None:
    for c in ans.citations:  # type: ignore[attr-defined]
        doc = store.get_document(str(c.doc_id))
        assert doc is not None and doc.text[c.start:c.end] == c.text
    used = markers(ans.text)  # type: ignore[attr-defined]
    assert used == list(range(1, len(ans.citations) + 1))  # type: ignore[attr-defined]
    assert len(ans.text) <= 1200  # type: ignore[attr-defined]


@pytest.mark.parametrize("question, musts", [
    # two articles: asked as one question, the words of the first part win and the ships go unanswered
    ("when will the first trams run, and how many ships are waiting off Aldmere?", ["2029", "14 vessels"]),
    ("who is Henrik Vale, and what did the council vote on the tram line?", ["Port director", "31 to 17"]),
])
def test_each_part_is_answered_with_its_own_citations(store: Store, question: str, musts: list[str]) -> None:
    ans = Answerer(store).ask(question)
    assert ans.found
    for must in musts:
        assert must in ans.text
    assert len(ans.text.splitlines()) == 2  # a line per part
    verbatim(store, ans)


def test_a_part_no_article_answers_says_so_beside_the_others(store: Store) -> None:
    ans = Answerer(store).ask("when will the first trams run, and what did Zorblat Quell say about them?")
    assert ans.found and "2029" in ans.text
    assert "None of them mentions Zorblat Quell" in ans.text
    verbatim(store, ans)


def test_a_message_about_something_no_article_mentions_is_not_found_whole(store: Store) -> None:
    # "it" in the second part is the Zorblat Tower: answered on its own, it would be answered about something else
    ans = Answerer(store).ask("when did the Zorblat Tower open, and how many vessels can it hold?")
    assert not ans.found and "Zorblat" in ans.text and not ans.citations


def test_a_sentence_two_parts_find_is_shown_once(store: Store) -> None:
    ans = Answerer(store).ask("how many vessels were waiting to berth, and what did the port authority say?")
    assert ans.found
    spans = [(c.doc_id, c.start) for c in ans.citations]
    assert len(spans) == len(set(spans))
    verbatim(store, ans)


def test_many_parts_stay_within_a_chat_reply(store: Store) -> None:
    ans = Answerer(store).ask("how much is the tram line costing, and who called it expensive, and when will the "
                              "first trams run, and how many vessels were waiting to berth?")
    assert ans.found and len(ans.text) <= 1200
    assert "2029" in ans.text and "14 vessels" in ans.text
    verbatim(store, ans)


def test_the_conversation_keeps_the_whole_message(store: Store) -> None:
    ans = Answerer(store).ask("who is Henrik Vale, and what did the council vote on the tram line?")
    assert ans.turn is not None
    assert ans.turn["question"] == "who is Henrik Vale, and what did the council vote on the tram line?"
    # every article cited, the port's and the tram's: "which outlet reported that?" may mean either
    assert set(ans.turn["doc_ids"]) == {c.doc_id for c in ans.citations}
    assert len({c.source.rsplit("/", 1)[-1].split("-")[0] for c in ans.citations}) == 2


LAWSUIT = """Sprinter Kaya Morrell sues lab boss over doping claims

Sprinter Kaya Morrell has filed a lawsuit for defamation against laboratory boss Victor Lund following his claims that he gave her banned drugs.

Morrell is seeking $25m in damages. Her lawyer said the claims were false and had cost her sponsors.

Lund made the claims in a television interview last week. He said he had supplied the drugs for two years.
"""
PANEL = """Olympic body opens inquiry into lab claims

The International Olympic Committee (IOC) has asked its disciplinary body to look into the claims made by laboratory boss Victor Lund.

IOC president Anders Falk said any athlete found to have cheated would be stripped of their medals.
"""


def test_a_part_naming_what_the_part_before_did_not_find_is_asked_on_its_own(tmp_path: Path) -> None:
    store = articles_store(tmp_path, lawsuit=LAWSUIT, panel=PANEL)
    ans = Answerer(store).ask("What is Kaya Morrell suing Victor Lund for, and what has the IOC done about his claims?")
    assert ans.found and "defamation" in ans.text and "disciplinary body" in ans.text
    verbatim(store, ans)
