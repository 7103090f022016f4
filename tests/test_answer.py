"""Answers from the seeds and samples: cited, verbatim, the right speaker, honest when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.citations import fold, markers, quotations, renumber, verify
from bot.domain import Citation
from bot.ingest.pipeline import Ingester
from bot.question import analyse
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.sqlite import SQLiteStore
from tests.conftest import ROOT, SEEDS, need

SAMPLES = ROOT / "bot" / "samples"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('db')}/a.db")
    assert isinstance(s, SQLiteStore)
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS)), str(SAMPLES)])
    return s


def check_verbatim(store: SQLiteStore, ans: object) -> None:
    for c in ans.citations:  # type: ignore[attr-defined]
        doc = store.get_document(str(c.doc_id))
        assert doc is not None and doc.text[c.start:c.end] == c.text
    for q in quotations(ans.text):  # type: ignore[attr-defined]
        assert any(fold(q).strip(" .,") in fold(store.get_document(str(c.doc_id)).text)  # type: ignore[union-attr]
                   for c in ans.citations)  # type: ignore[attr-defined]


@pytest.mark.parametrize("question, must, speaker", [
    ("What did Navarro say about Modi?", "shame to see Modi getting in bed", "Peter Navarro"),
    ("what has peter navarro said about india's prime minister modi", "shame to see Modi", "Navarro"),
    ("What did Jenny Town say?", "marriage of convenience", "Jenny Town"),
    ("What did the union's general secretary Marta Quinlan say about the cranes?", "Nobody is against new cranes",
     "Marta Quinlan"),
    ("What did Vale say about retraining?", "We offered retraining for every single worker", "Henrik Vale"),
    ("Who said the port offer still stands?", "That offer still stands", "Vale"),
    # a role instead of a name: the article calls him "Russian President Vladimir Putin"
    ("What did Russia's president say about the alliance with China?", "always together then", "Putin"),
    ("What did the Trump trade advisor say about Modi?", "shame to see Modi", "Navarro"),
])
def test_quote_questions_give_the_speakers_words(store: SQLiteStore, question: str, must: str, speaker: str) -> None:
    ans = Answerer(store).ask(question)
    assert ans.found, ans.text
    assert must.casefold() in fold(ans.text)
    assert speaker.split()[-1] in ans.text
    assert ans.citations and all(m <= len(ans.citations) for m in markers(ans.text))
    check_verbatim(store, ans)
    assert len(ans.text) <= 1200


@pytest.mark.parametrize("question, must", [
    ("How many vessels were waiting to berth according to the Gazette?", "14 vessels"),
    ("How much will the Riverside tram line cost?", "410 million euros"),
    ("When should the first trams run?", "2029"),
    ("Who is Henrik Vale?", "Port director"),
    ("How did Kim Jong Un travel to Beijing?", "armored"),
    ("When did Kim cross into China?", "September 2"),
])
def test_fact_questions(store: SQLiteStore, question: str, must: str) -> None:
    ans = Answerer(store).ask(question)
    assert ans.found, ans.text
    assert must.casefold() in ans.text.casefold()
    check_verbatim(store, ans)


@pytest.mark.parametrize("question", [
    "What did Emmanuel Macron say about the parade?",
    "What did Angela Merkel say about the tram?",
    "How many goals did Arsenal score against Chelsea?",
    "What is the population of Reykjavik?",
])
def test_absent_answers_say_so_and_what_was_searched(store: SQLiteStore, question: str) -> None:
    ans = Answerer(store).ask(question)
    assert not ans.found
    assert ans.citations == []
    assert "couldn't find" in ans.text and "searched" in ans.text
    assert "Try asking more broadly" in ans.text


def test_empty_and_overlong_questions(store: SQLiteStore) -> None:
    a = Answerer(store)
    assert not a.ask("").found and "Ask me a question" in a.ask("   ").text
    long = a.ask("why " * 400)
    assert not long.found and "characters" in long.text


def test_no_documents_is_explained(tmp_path: Path) -> None:
    ans = Answerer(open_store(f"sqlite:///{tmp_path}/e.db")).ask("What did Navarro say?")
    assert not ans.found and "No articles are stored yet" in ans.text


def test_source_filter_limits_citations(store: SQLiteStore) -> None:
    ans = Answerer(store).ask("What did Vale say?", sources=["harbour-strike-courier"])
    assert ans.found and all("courier" in c.source for c in ans.citations)


def test_question_analysis() -> None:
    q = analyse("What did President Donald Trump say about tariffs?")
    assert (q.kind, q.speaker, q.topic) == ("quote", "Donald Trump", "tariffs")
    assert analyse("Who is Choe Son Hui?").kind == "who_is"
    assert analyse("When was the last border clash?").answer_type == "when"
    assert analyse("How much gas could it deliver?").answer_type == "number"
    assert analyse("What did the summit agree?").kind == "fact"  # not a speaker question


def test_verify_catches_invented_quote_bad_marker_and_moved_span(store: SQLiteStore) -> None:
    doc = store.get_document("000_4acb8d4b237bf1ea.txt")
    assert doc is not None
    i = doc.text.index("It is a shame")
    good = Citation(n=1, source=doc.location, text=doc.text[i:i + 30], doc_id=doc.id, start=i, end=i + 30)
    docs = {doc.id: doc}
    assert verify("Navarro said “It is a shame to see Modi” [1].", [good], docs).ok
    assert not verify("Navarro said “Modi is a great friend of ours” [1].", [good], docs).ok
    assert not verify("Navarro spoke [2].", [good], docs).ok
    moved = Citation(n=1, source=doc.location, text=good.text, doc_id=doc.id, start=i + 1, end=i + 31)
    assert not verify("Navarro spoke [1].", [moved], docs).ok
    assert not verify("No citation at all.", [good], docs).ok


def test_renumber_orders_by_first_use_and_drops_unused() -> None:
    cs = [Citation(n=n, source="s", text="t", doc_id=1, start=0, end=1) for n in (1, 2, 3)]
    text, out = renumber("B [3]. A [1, 3].", cs)
    assert text == "B [1]. A [2, 1]." and [c.n for c in out] == [1, 2]


def test_quoted_spacing_survives_marker_removal(store: SQLiteStore) -> None:
    from bot.citations import strip_markers

    assert strip_markers("He said “we saw ... a lessening” [1]. Then [2, 3] more.") == \
        "He said “we saw ... a lessening”. Then more."
    assert strip_markers("A [1]. B [2].", keep={2}) == "A. B [2]."
