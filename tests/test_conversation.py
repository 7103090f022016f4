"""Follow-ups read in the light of the conversation: pronouns, ellipsis, "more detail", "which paper said that",
a change of subject; and the same end to end through `briefbot chat --json` on the bundled samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.conversation import MAX_TURNS, Turn, read
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from tests.conftest import ROOT, article_store, articles_store

SAMPLES = ROOT / "bot" / "samples"

VALE = Turn(question="What did Henrik Vale say about the strike?", resolved="What did Henrik Vale say about the strike?",
            kind="quote", subject="Henrik Vale", person=True, names=["Henrik Vale"], terms=["henrik", "vale", "strike"],
            doc_ids=[1], shown=[[1, 100, 220]], answer_names=["Aldmere Dockworkers"])
TRAM = Turn(question="How much will the tram line cost?", resolved="How much will the tram line cost?", kind="fact",
            subject=None, names=[], terms=["tram", "line", "cost"], doc_ids=[3], shown=[[3, 10, 90]])
RIVERSIDE = Turn(question="What does the Riverside plan give Aldmere?", resolved="What does the Riverside plan give Aldmere?",
                 kind="fact", subject="Riverside", names=["Riverside", "Aldmere"], terms=["riverside", "plan", "aldmere"],
                 doc_ids=[3], shown=[[3, 10, 90]])


def test_a_first_question_is_read_as_asked() -> None:
    r = read("Who is Marta Quinlan?", [])
    assert r.question == "Who is Marta Quinlan?" and not r.follow_up


@pytest.mark.parametrize("message, expected", [
    ("Who is he?", "Who is Henrik Vale?"),
    ("where does he work", "where does Henrik Vale work"),
    ("What's his job?", "What's Henrik Vale's job?"),
    ("what did she say next", "what did Henrik Vale say next"),
    # a contraction is written out, so the name stands as a word ("Henrik Vale'd" would be searched as a name)
    ("what did he say he'd do to rivals", "what did Henrik Vale say Henrik Vale would do to rivals"),
    ("is he sure he's been cleared", "is Henrik Vale sure Henrik Vale has been cleared"),
])
def test_pronouns_stand_for_the_person_talked_about(message: str, expected: str) -> None:
    r = read(message, [VALE])
    assert r.question == expected and r.follow_up
    assert 1 in r.prefer_docs


def test_he_is_the_one_of_the_side_the_question_named(tmp_path: Path) -> None:
    # "who from rangers …?" is answered with a Celtic player and a Rangers one: "he" is the Rangers player, by his
    # name without his club ("Celtic's Henri Camara" is Henri Camara)
    from tests.conftest import article_store

    s = article_store(tmp_path, (
        "Old Firm pair banned\n\n"
        "Celtic's Henri Camara and Nacho Novo of Rangers have both been suspended for offences the referee missed "
        "in Sunday's derby.\n\n"
        "Novo was found guilty of stamping on Celtic's Stephen Pearson and will miss a further two games. "
        "Camara was punished for kicking Gregory Vignal and will miss one more game.\n"))
    a = Answerer(s)
    first = a.ask("who from rangers got banned after the derby?")
    assert first.found and first.turn is not None, first.text
    assert Turn.from_json(first.turn).answered == "Nacho Novo"
    nxt = a.ask("how many more games will he miss?", turns=[Turn.from_json(first.turn)])
    assert nxt.turn is not None and Turn.from_json(nxt.turn).resolved == "how many more games will Nacho Novo miss?"
    assert "a further two games" in nxt.text, nxt.text


def test_a_pronoun_looks_past_a_turn_about_something_else() -> None:
    r = read("And what did he want?", [VALE, TRAM])
    assert "Henrik Vale" in r.question


def test_ellipsis_swaps_the_subject_of_the_last_question() -> None:
    r = read("And Lisbon?", [RIVERSIDE])
    assert r.question == "What does the Lisbon plan give Aldmere?"
    assert "riverside" not in r.context  # the old subject is not carried over
    r = read("what about the university", [RIVERSIDE])
    assert "the university" in r.question


def test_ellipsis_with_an_article_swaps_the_thing_of_the_same_kind_not_the_person() -> None:
    pytest.importorskip("bot.wordnet").shared() or pytest.skip("WordNet is not installed")
    ports = Turn(question="which hospitals is Anna Scholl closing", resolved="which hospitals is Anna Scholl closing",
                 kind="fact", subject="Anna Scholl", person=True, names=["Anna Scholl"],
                 terms=["hospitals", "anna", "scholl", "closing"], doc_ids=[4], shown=[[4, 0, 90]], found=True)
    r = read("and the schools?", [ports])  # a school for a hospital (both buildings), not for Anna Scholl
    assert r.question == "which schools is Anna Scholl closing", r.question
    assert r.avoid == ["hospitals"] and r.instead == ["schools"]


def test_ellipsis_swaps_the_word_of_the_same_kind_not_the_person() -> None:
    pytest.importorskip("bot.wordnet").shared() or pytest.skip("WordNet is not installed")
    seoul = Turn(question="how did seoul react to kim's missile factory visit",
                 resolved="how did seoul react to kim's missile factory visit", kind="fact", subject="Kim",
                 names=["Kim"], terms=["seoul", "react", "kim", "missile", "factory", "visit"], doc_ids=[4],
                 shown=[[4, 10, 90]], found=True)
    r = read("and tokyo?", [seoul])  # a capital for a capital: Seoul is replaced, not Kim
    assert r.question == "how did tokyo react to kim's missile factory visit", r.question
    assert r.avoid == ["seoul"] and r.instead == ["tokyo"]
    china = Turn(question="What does China provide North Korea with?",
                 resolved="What does China provide North Korea with?", kind="fact", subject="China",
                 names=["China", "North Korea"], terms=["china", "provide", "north", "korea"], doc_ids=[4],
                 shown=[[4, 10, 90]], found=True)
    # two countries: the one the last question was about is the one replaced
    assert read("And Russia?", [china]).question == "What does Russia provide North Korea with?"
    assert read("and what about japan", [china]).question == "What does japan provide North Korea with?"


def test_more_detail_repeats_the_question_and_skips_what_was_shown() -> None:
    r = read("more detail please", [TRAM])
    assert r.question == TRAM.resolved and r.more and r.exclude == [(3, 10, 90)]
    r = read("Tell me more about the bridges", [TRAM])
    assert r.question == "the bridges" and r.follow_up and "tram" in r.context
    r = read("Give me more detail: why did the council vote for it?", [TRAM])
    assert r.question.startswith("why did the council") and not r.exclude  # a question of its own


def test_it_as_an_object_is_the_thing_talked_about() -> None:
    poppins = Turn(question="Who plays Mary Poppins in the musical?", resolved="Who plays Mary Poppins in the musical?",
                   kind="fact", subject="Mary Poppins", person=True, names=["Mary Poppins"], doc_ids=[5],
                   shown=[[5, 0, 50]])
    assert read("And who directed it?", [poppins]).question == "who directed Mary Poppins?"
    assert read("is it true?", [poppins]).question == "is it true?"  # "is it" is no object


def test_who_else_looks_past_the_last_subject() -> None:
    r = read("Who else from that union gets quoted?", [VALE])
    assert r.follow_up and r.avoid == ["henrik", "vale"] and r.pointing
    assert "aldmere" in r.context  # a name the last answer cited ("that union")


def test_which_paper_said_that_points_at_the_last_answer() -> None:
    r = read("Which paper reported that?", [TRAM])
    assert r.near == [(3, 10, 90)] and r.follow_up


@pytest.mark.parametrize("message", ["when did he say that", "And where did she say it?", "when was that?",
                                     "where did that happen"])
def test_when_or_where_of_that_is_asked_at_the_last_answer(message: str) -> None:
    r = read(message, [TRAM])
    assert r.near == [(3, 10, 90)] and r.follow_up


@pytest.mark.parametrize("message", ["when did the tram line open?", "where is that station being built"])
def test_a_when_question_with_its_own_subject_is_not_about_the_last_answer(message: str) -> None:
    assert read(message, [TRAM]).near == []


@pytest.mark.parametrize("message", ["Totally different question: who won the cup?", "unrelated, but who won the cup?",
                                     "ok diff topic, who won the cup?", "ok totally unrelated, who won the cup?",
                                     "btw who won the cup?", "New topic - who won the cup?",
                                     "totally diff q, who won the cup?"])
def test_a_change_of_subject_is_answered_on_its_own(message: str) -> None:
    r = read(message, [VALE])
    assert r.question == "who won the cup?" and not r.follow_up and not r.context


def test_a_new_question_with_its_own_names_is_not_a_follow_up() -> None:
    r = read("What did Paul Brandt say about the bridges?", [VALE])
    assert not r.follow_up


def test_a_long_conversation_costs_what_a_short_one_does() -> None:
    turns = [TRAM] * 500 + [VALE]
    r = read("Who is he?", turns)
    assert r.question == "Who is Henrik Vale?"
    assert len(r.prefer_docs) <= MAX_TURNS * 2


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> object:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('db')}/c.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    return s


def converse(store: object, *messages: str) -> list[object]:
    a = Answerer(store)  # type: ignore[arg-type]
    turns: list[Turn] = []
    out = []
    for m in messages:
        ans = a.ask(m, turns=turns)
        out.append(ans)
        if ans.turn is not None:  # small talk and help leave the conversation as it was
            turns.append(Turn.from_json(ans.turn))
    return out


def test_follow_ups_on_the_samples(store: object) -> None:
    first, job, more = converse(store, "What did Quinlan say about the guarantee?", "What's her job?",
                                "And what did Vale say?")
    assert first.found and "slideshow" in first.text  # type: ignore[attr-defined]
    assert job.found and "general secretary" in job.text  # type: ignore[attr-defined]
    assert more.found and "Vale" in more.text  # type: ignore[attr-defined]


def test_small_talk_and_help_in_a_thread_search_nothing(store: object) -> None:
    _, thanks, help_ = converse(store, "How much will the tram line cost?", "thanks!", "help")
    assert not thanks.found and "welcome" in thanks.text and not thanks.citations  # type: ignore[attr-defined]
    assert "/brief" in help_.text and not help_.citations  # type: ignore[attr-defined]


@pytest.mark.slow
def test_chat_json_keeps_the_conversation(tmp_path: Path) -> None:
    env = dict(os.environ, BRIEFBOT_DATABASE_URL=f"sqlite:///{tmp_path}/cli.db", BRIEFBOT_EMBEDDER="none")
    subprocess.run([sys.executable, "-m", "bot", "ingest", str(SAMPLES)], env=env, check=True, capture_output=True,
                   cwd=ROOT, timeout=120)
    lines = "Who is Henrik Vale?\n\nWhat did he say about retraining?\nthanks\n"
    p = subprocess.run([sys.executable, "-m", "bot", "chat", "--json"], input=lines, env=env, capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    answers = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(answers) == 3  # an empty line is skipped, not answered
    assert answers[0]["found"] and "Port director" in answers[0]["answer"]
    assert answers[1]["found"] and "retraining for every single worker" in answers[1]["answer"]
    assert answers[1]["citations"] and answers[1]["citations"][0]["source"].endswith("harbour-strike-courier.txt") \
        or answers[1]["citations"][0]["source"].endswith("harbour-strike-gazette.txt")
    assert not answers[2]["found"] and not answers[2]["citations"]


def test_two_replicas_answering_in_one_thread_both_keep_their_turns(tmp_path: object) -> None:
    import threading

    from bot.core import Core

    url = f"sqlite:///{tmp_path}/replicas.db"
    seed = open_store(url)
    Ingester(seed, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    seed.close()
    stores = [open_store(url), open_store(url)]
    cores = [Core(s, Answerer(s)) for s in stores]
    questions = ["Who is Henrik Vale?", "Who is Marta Quinlan?"]
    threads = [threading.Thread(target=c.ask, args=(q,), kwargs={"conversation": "slack:C1:1.0"})
               for c, q in zip(cores, questions, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    turns = cores[0].turns("slack:C1:1.0")
    assert sorted(t.question for t in turns) == sorted(questions)  # neither replica's turn is lost
    follow = cores[1].ask("What did she say about the guarantee?", conversation="slack:C1:1.0")
    assert follow.found  # the later turn is read by either replica
    for s in stores:
        s.close()


def test_a_follow_up_asks_what_its_own_words_ask(tmp_path: Path) -> None:
    # after an answer full of names, "who was her agent?" is about an agent, not about those names
    s = article_store(tmp_path, (
        "Actress Mira Holt dies at 80\n\n"
        "Actress Mira Holt, known for her comic roles in the Harbour Lane films, has died at the age of 80.\n\n"
        "Holt starred in twelve Harbour Lane films, alongside fellow regulars Owen Pryce, Lucy Marsh, Ned Collier "
        "and Joan Aske.\n\n"
        "She also spent many years on the stage at the Kelby Playhouse, where she first appeared in 1961.\n\n"
        "Her agent Tomas Lind said: \"She was the kindest person in any room.\"\n"))
    age, films, agent = converse(s, "how old was mira holt when she died",
                                 "who were her fellow regulars in the harbour lane films", "who was her agent")
    assert "80" in age.text and "Owen Pryce" in films.text  # type: ignore[attr-defined]
    assert agent.found and "Tomas Lind" in agent.text, agent.text  # type: ignore[attr-defined]


def test_who_answered_in_a_conversation_is_someone_new(tmp_path: Path) -> None:
    # after "Lord Ames' bill", the sentence naming Lord Ames does not answer "who spoke for the government?"
    s = article_store(tmp_path, (
        "Peer withdraws empty homes bill\n\n"
        "A Labour peer has withdrawn his bill on empty homes after it failed to win support.\n\n"
        "The bill would have let councils take over homes left empty for a year. But the government refused to "
        "back Lord Ames' Empty Homes Bill, saying it was too costly.\n\n"
        "The housing minister, Lady Carr, said councils already had enough powers to act.\n"))
    first, who = converse(s, "what happened to lord ames' empty homes bill?", "Who spoke for the government?")
    assert first.found  # type: ignore[attr-defined]
    assert who.found and "Lady Carr" in who.text, who.text  # type: ignore[attr-defined]


def test_a_who_is_answer_never_starts_inside_a_quotation(store: object) -> None:
    # "Nobody is against new cranes. We are against losing 600 jobs …," said Marta Quinlan: the second sentence of
    # the quotation is shown with the first, never alone with a stray closing mark
    for ans in converse(store, "What did Quinlan say about the guarantee?", "what is her job?", "tell me more about her"):
        for c in ans.citations:  # type: ignore[attr-defined]
            assert c.text.count('"') % 2 == 0 and c.text.count("“") == c.text.count("”"), c.text


def test_and_the_other_place_is_answered_about_that_place(tmp_path: Path) -> None:
    # the sentence that answered about Seoul matches every other word of the follow-up; it answers nothing about
    # Tokyo, and neither does one naming Tokyo and Seoul in passing
    s = article_store(tmp_path, (
        "Region rattled by missile test\n\n"
        "North Korea tested a new solid-fuel missile on Sunday, its state media said.\n\n"
        "South Korea's foreign ministry condemned the missile test as provocative, warning that Seoul would "
        "respond to any threat.\n\n"
        "In Tokyo, the prime minister's office said the launch was a grave threat and urged restraint.\n\n"
        "Analysts said the test was a message to Washington, Tokyo and Seoul alike.\n"))
    answerer = Answerer(s)
    first = answerer.ask("how did seoul react to the missile test")
    assert first.found and "provocative" in first.text, first.text
    turns = [Turn.from_json(first.turn)]
    ans = answerer.ask("and tokyo?", turns=turns)
    assert ans.found and "urged restraint" in ans.citations[0].text, ans.text
    assert "provocative" not in ans.text, ans.text


def test_a_conversation_goes_on_while_the_store_refuses_its_turns(tmp_path: Path) -> None:
    import sqlite3

    from bot.core import Core

    store = open_store(f"sqlite:///{tmp_path}/refusing.db")
    Ingester(store, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    heard: list[str] = []
    core = Core(store, Answerer(store), on_store_error=lambda what, e: heard.append(what))
    with sqlite3.connect(tmp_path / "refusing.db") as db:  # the turns table breaks under the bot
        db.execute("ALTER TABLE conversation_turns RENAME TO gone")
    first = core.ask("Who is Marta Quinlan?", conversation="cli:x")
    follow = core.ask("What did she say about the guarantee?", conversation="cli:x")
    assert first.found and follow.found and "Quinlan" in follow.text  # "she" still read in the light of turn one
    assert heard == ["a turn of conversation cli:x"] * 2 and [t.question for t in core.turns("cli:x")] == [
        "Who is Marta Quinlan?", "What did she say about the guarantee?"]
    with sqlite3.connect(tmp_path / "refusing.db") as db:  # the store is back: the held turns are written first
        db.execute("ALTER TABLE gone RENAME TO conversation_turns")
    core.ask("And the cranes?", conversation="cli:x")
    assert len(store.recent_turns("cli:x", 10)) == 3
    store.close()


BRANDT = ("Tova Brandt honoured with city medal\n\n"
          "Singer Tova Brandt, best known for her folk albums, has been awarded the Aldmere city medal.\n\n"
          "Tova Brandt received the medal from the mayor at a ceremony on Friday, with her family watching.\n\n"
          "The singer, who was born in the port town of Kessel, left school at 16 to tour with a band.\n\n"
          "She thanked her brother Jonas for lending her his first guitar.\n")


@pytest.mark.parametrize("follow_up, answer", [("where was she born", "Kessel"), ("who did she thank", "Jonas")])
def test_a_pronoun_follow_up_is_answered_by_what_it_asks_not_by_the_name(tmp_path: Path, follow_up: str,
                                                                        answer: str) -> None:
    # "she" is Tova Brandt, whom every sentence of the article names: what the follow-up asks is "born", "thank"
    s = article_store(tmp_path, BRANDT)
    answerer = Answerer(s)
    first = answerer.ask("Who is Tova Brandt?")
    ans = answerer.ask(follow_up, turns=[Turn.from_json(first.turn)])
    assert ans.found and answer in ans.citations[0].text, ans.text


def test_a_follow_up_answers_what_it_newly_asks_not_the_last_answer(tmp_path: Path) -> None:
    # the lead holds every word of the first question and the name "she" stands for; "who did she thank" asks
    # "thank", which only the later sentence holds
    s = article_store(tmp_path, BRANDT)
    answerer = Answerer(s)
    first = answerer.ask("Which city medal was singer Tova Brandt awarded for her folk albums?")
    assert first.found and "Aldmere" in first.text, first.text
    ans = answerer.ask("who did she thank for it", turns=[Turn.from_json(first.turn)])
    assert ans.found and "Jonas" in ans.citations[0].text, ans.text


def test_an_answer_about_he_or_she_says_who_was_meant(tmp_path: Path) -> None:
    # "The singer, who was born in ... Kessel": the answer names who "she" was taken for, the reader can check it
    s = article_store(tmp_path, BRANDT)
    answerer = Answerer(s)
    first = answerer.ask("Who is Tova Brandt?")
    ans = answerer.ask("where was she born", turns=[Turn.from_json(first.turn)])
    assert ans.found and ans.text.startswith("Tova Brandt: The singer, who was born"), ans.text
    # a sentence that names her needs no such lead
    thanked = answerer.ask("which medal did she receive", turns=[Turn.from_json(first.turn)])
    assert thanked.found and not thanked.text.startswith("Tova Brandt:"), thanked.text


def test_what_about_another_award_replaces_the_whole_award() -> None:
    awards = Turn(question="and best actress?", resolved="who won best supporting actress at the baftas", kind="fact",
                  subject="best supporting actress", terms=["won", "best", "supporting", "actress", "baftas"],
                  doc_ids=[6], shown=[[6, 0, 80]])
    assert read("what about best british film", [awards]).question == "who won best british film at the baftas"


def test_and_another_award_is_answered_by_that_award_not_by_its_words_apart(tmp_path: Path) -> None:
    s = articles_store(tmp_path, baftas=(
        "Aviator and Vera Drake share Bafta honours\n\n"
        "Hollywood blockbuster The Aviator and low-budget British movie Vera Drake shared the main honours at the Bafta "
        "film awards.\n\n"
        "Imelda Staunton took the best actress award for Vera Drake.\n\n"
        "Best British film was My Summer of Love, the story of two young women.\n"))
    first, ans = converse(s, "who won best actress at the baftas", "what about best british film")
    assert first.found and "Imelda Staunton" in first.text, first.text  # type: ignore[attr-defined]
    assert ans.found and "My Summer of Love" in ans.citations[0].text, ans.text  # type: ignore[attr-defined]


def test_he_after_a_who_question_is_the_person_it_was_answered_with(tmp_path: Path) -> None:
    s = article_store(tmp_path, (
        "Conservative MP defects to Labour\n\n"
        "A Conservative MP and former minister has defected to Labour.\n\n"
        "Tomas Ruel, 58, MP for Kelby, said he was disillusioned with the party's views on Europe.\n"))
    first, _ = converse(s, "which tory mp has defected to labour", "what is his problem with the tories")
    assert Turn.from_json(first.turn).answered == "Tomas Ruel"  # type: ignore[attr-defined]
    assert "Tomas Ruel" in read("what is his problem with the tories", [Turn.from_json(first.turn)]).question  # type: ignore[attr-defined]
    # an ellipsis still swaps what the question asked about, not the person it was answered with
    awards = Turn(question="who won best actress", resolved="who won best actress at the baftas", kind="fact",
                  subject="best actress", answered="Imelda Staunton", doc_ids=[6], shown=[[6, 0, 80]])
    assert read("what about best british film", [awards]).question == "who won best british film at the baftas"


def test_a_follow_up_after_more_detail_keeps_the_words_of_the_question_before() -> None:
    asked = Turn(question="how did pyongyang respond to xi's call", resolved="how did pyongyang respond to xi's call",
                 kind="fact", subject="Pyongyang", names=["Pyongyang", "Xi"], terms=["pyongyang", "respond", "call"],
                 doc_ids=[8], shown=[[8, 0, 90]])
    more = Turn(question="go on, what does that phrase mean", resolved="what does that phrase mean", kind="fact",
                terms=["phrase", "mean"], doc_ids=[8], shown=[[8, 90, 180]])
    r = read("which parts of the world are they trying to win over", [asked, more])
    assert r.follow_up and "pyongyang" in r.context and "phrase" in r.context


def test_and_another_year_replaces_the_year() -> None:
    growth = Turn(question="how much did the economy grow in 2004", resolved="how much did the economy grow in 2004",
                  kind="fact", subject=None, terms=["economy", "grow", "2004"], doc_ids=[4], shown=[[4, 0, 80]])
    assert read("and 2005?", [growth]).question == "how much did the economy grow in 2005"


def test_he_after_questions_that_named_no_one_is_the_mr_the_answer_named() -> None:
    hacker = Turn(question="whose files did the hacker read", resolved="whose files did the hacker read", kind="fact",
                  subject=None, terms=["files", "hacker", "read"], doc_ids=[5], shown=[[5, 0, 90]],
                  answer_names=["Associated Press", "Mr Jacobsen", "Secret Service"])
    assert read("how old is he", [hacker]).question == "how old is Mr Jacobsen"
    # a person asked about before comes first; a subject that is no person does not
    assert "Henrik Vale" in read("how old is he", [VALE, hacker]).question
    blogger = Turn(question="when did the sky blogger start", resolved="when did the Sky blogger start", kind="fact",
                   subject="Sky", names=["Sky"], doc_ids=[7], shown=[[7, 0, 90]], answer_names=["Ms Simonetti"])
    assert read("why did she start", [blogger]).question == "why did Ms Simonetti start"


def test_a_follow_up_asking_an_age_is_answered_by_an_age(tmp_path: Path) -> None:
    # after "which agency reported that?", the conversation's words (agency, reported, press) fill the sentence
    # just shown and another article's; "how old is he?" wants the hacker's age, "21", in his own article
    s = articles_store(tmp_path, hacker=(
        "Hacker admits phone network break-in\n\n"
        "A hacker has admitted breaking into the Kelby Mobile phone network, the company said.\n\n"
        "The Harbour Press news agency reported that Mr Osk also read files kept by the police officer "
        "investigating him.\n\n"
        "Although Mr Osk, 21, read some data, he failed to reach customers' card numbers.\n"), doping=(
        "Sprinter banned for doping\n\n"
        "The 33-year-old sprinter was banned for two years, the Harbour Press news agency reported on Friday, after "
        "the national anti-doping agency pressed charges.\n"))
    first, _, ans = converse(s, "whose files did the hacker read", "which agency reported that", "how old is he")
    assert first.found and "police officer" in first.text, first.text  # type: ignore[attr-defined]
    assert ans.found and "Mr Osk, 21" in ans.citations[0].text, ans.text  # type: ignore[attr-defined]
    # no answer from the other article is given his name
    for a in [ans, converse(s, "whose files did the hacker read", "how old was he when banned")[1]]:
        assert not a.text.startswith(("Osk:", "Mr Osk:")), a.text  # type: ignore[attr-defined]


def test_which_paper_he_told_is_answered_from_his_article(tmp_path: Path) -> None:
    # another article's correspondent shares his surname and names an outlet; the paper he told is in his article
    s = articles_store(tmp_path, sprinter=(
        "Sprinter Tam Rusk to retire\n\n"
        "Former European 200m champion Tam Rusk is to retire from athletics after a series of six operations.\n\n"
        "Rusk had hoped to compete in the New Year Sprint at Musselburgh next week.\n\n"
        "He told the Kelby Herald newspaper: \"I'm not in great shape after missing a month of training.\"\n"), season=(
        "Athletics season ends\n\n"
        "Harbour Radio athletics correspondent Ann Rusk said the European champion quitting athletics after six "
        "operations was no surprise, the Harbour Radio website reported.\n"))
    first, ans = converse(s, "why is tam rusk quitting athletics", "which paper did he tell that to")
    assert first.found and "six operations" in first.text, first.text  # type: ignore[attr-defined]
    assert ans.found and "Kelby Herald" in ans.text and "Ann Rusk" not in ans.text, ans.text  # type: ignore[attr-defined]


def test_it_is_what_the_conversation_was_about_even_when_no_turn_named_it(tmp_path: Path) -> None:
    # "the harbour monologues" was asked in lower case (no name to carry over): "it" in "who wrote it anyway"
    # still stands for the play, not for any article where someone wrote something
    s = articles_store(tmp_path, play=(
        "Kelby council bans a play\n\n"
        "Kelby council has banned the play The Harbour Monologues, due to open at the Quay Theatre this weekend.\n\n"
        "Councillors said the play mocked the town's fishing families.\n\n"
        "The play's author, the playwright Ines Moravec, wrote it after a winter working on the trawlers.\n"), other=(
        "Poet wins the Aldmere prize\n\n"
        "The poet Rafe Dunmore wrote his prize-winning collection in a caravan, he told the awards dinner.\n\n"
        "Dunmore wrote every poem by hand, and his publisher typed them up.\n"))
    first, ans = converse(s, "why did kelby council ban the harbour monologues", "who wrote it anyway")
    assert first.found and "Harbour Monologues" in first.text, first.text  # type: ignore[attr-defined]
    assert ans.found and "Moravec" in ans.text and "Dunmore" not in ans.text, ans.text  # type: ignore[attr-defined]


def test_a_who_follow_up_names_whose_the_answer_is_when_its_sentence_says_his(tmp_path: Path) -> None:
    # the answer sentence names the classmate and says "his": the person "he" stood for leads it
    s = articles_store(tmp_path, spy=(
        "Former agent on hunger strike in Kelby\n\n"
        "Former intelligence officer Viktor Oskarov is on a hunger strike outside the Kelby town hall.\n\n"
        "Viktor Oskarov, 50, says he was promised a pension that never came.\n\n"
        "One of his fellow pupils at the academy was Ilya Brandt, now the harbour minister.\n"))
    first, ans = converse(s, "who is the former agent on hunger strike in kelby", "who was he at the academy with")
    assert first.found and "Oskarov" in first.text, first.text  # type: ignore[attr-defined]
    assert ans.found and "Ilya Brandt" in ans.text and "Oskarov" in ans.text, ans.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("follow_up", ["where did that story come from", "according to whom?", "who says so"])
def test_where_a_story_came_from_is_its_source_in_the_article_shown(tmp_path: Path, follow_up: str) -> None:
    # another article is full of "reported" and "stories"; the source is told next to what was shown
    s = articles_store(tmp_path, actor=(
        "Actor 'turned down harbour role'\n\n"
        "The late actor Tom Vale is said to have repeatedly turned down his most famous role in Harbour Lights.\n\n"
        "His friend Ines Moravec told the Kelby Review magazine that Vale threw the script at his agent.\n"), other=(
        "Reporters win press freedom case\n\n"
        "Reporters who reported stories on leaked phones need not name the sources of those stories, a court said.\n"))
    first, ans = converse(s, "did tom vale really turn down harbour lights", follow_up)
    assert first.found and "turned down" in first.text, first.text  # type: ignore[attr-defined]
    assert ans.found and "Kelby Review" in ans.text, ans.text  # type: ignore[attr-defined]


def test_another_article_that_does_not_name_the_person_answers_nothing_about_them(tmp_path: Path) -> None:
    # the rule itself: "he" is Tam Rusk; a sentence of an article that never names Tam Rusk ranks below
    from bot.conversation import Reading
    from bot.question import Query
    from bot.search import Span

    s = articles_store(tmp_path, a="Tam Rusk retires\n\nTam Rusk is to retire from athletics.\n",
                       b="Season ends\n\nAnn Rusk said the season ended early.\n")
    ids = {d.title: d.id for d in s.list_documents()}
    a, b = ids["Tam Rusk retires"], ids["Season ends"]
    spans = [Span(a, 0, 10, "Tam Rusk is to retire from athletics.", 1.0, "a", "", None, None),
             Span(b, 0, 10, "Ann Rusk said the season ended early.", 1.0, "b", "", None, None)]
    reading = Reading("which paper did Tam Rusk tell that to", follow_up=True, prefer_docs=[a], known=["tam", "rusk"])
    q = Query(text=reading.question, kind="fact", clean=reading.question, terms=("paper", "tam", "rusk"))
    assert Answerer(s).selector._lacking_asked(q, reading, spans, s.documents_by_id([a, b]), set()) == {(b, 0)}


def test_a_reflexive_adds_no_second_name() -> None:
    # "himself" once stood for the last person: "Is Vale Henrik Vale staying on?", which no article mentions
    assert read("Is Vale himself staying on?", [VALE]).question.count("Vale") == 1
    assert read("did he write it himself?", [VALE]).question.count("Henrik Vale") == 1


HARBOUR_FILM = ("Fry set for role in Harbour Tales film\n\n"
                "Actor Tom Fry is joining the cast of the Harbour Tales film adaptation, its producers said on Monday.\n\n"
                "Fry will voice the narrator of the film, a lighthouse keeper.\n\n"
                "The studio's chief executive, Raj Patel, said shooting would start in May.\n\n"
                "The Harbour Tales executive producer Anna Stamp said the author would have been \"delighted\" with the "
                "choice of Fry for the role.\n\n"
                "\"His humour and warmth are perfect for the narrator,\" added Ms Stamp.\n")


# other news, so that the film's words are rare among the stored passages, as they are in a real store
HARBOUR_NEWS = "Harbour news in brief\n\n" + "\n\n".join(
    f"The {w} ferry left Aldmere at {h} o'clock on {d}, the port said." for w, h, d in
    [("red", 6, "Monday"), ("blue", 7, "Tuesday"), ("green", 8, "Wednesday"), ("white", 9, "Thursday"),
     ("black", 10, "Friday"), ("grey", 11, "Saturday"), ("gold", 12, "Sunday"), ("silver", 5, "Monday")]) + "\n"


def test_who_holds_a_role_is_answered_by_the_sentence_naming_the_role(tmp_path: Path) -> None:
    # the actor's sentence holds the film's every other word; the role asked about is in the producer's
    s = articles_store(tmp_path, film=HARBOUR_FILM, news=HARBOUR_NEWS)
    ans = Answerer(s).ask("Who is the executive producer of the Harbour Tales film adaptation?")
    assert ans.found and "Anna Stamp" in ans.citations[0].text, ans.text  # type: ignore[attr-defined]
    assert not ans.text.startswith(("The:", "To ")), ans.text


def test_she_after_a_who_answer_is_the_person_named_though_her_surname_is_a_word(tmp_path: Path) -> None:
    # "Stamp" is an English word: Anna Stamp is still the person the who-question was answered with
    s = articles_store(tmp_path, film=HARBOUR_FILM, news=HARBOUR_NEWS)
    first, second = converse(s, "Who is the executive producer of the Harbour Tales film?",
                             "What did she say about Tom Fry?")
    assert "Anna Stamp" in second.turn["resolved"], second.turn  # type: ignore[attr-defined]
    assert "Stamp" in second.text and ("delighted" in second.text or "humour and warmth" in second.text), \
        second.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("message, question", [
    ("and the tram line, when will it open?", "when will the tram line open?"),
    ("so the port authority, what is its plan?", "what is the port authority's plan?"),
    ("and Putin, what did he say about it?", "what did Putin say about it?"),
])
def test_a_subject_put_first_is_what_the_question_s_pronoun_means(message: str, question: str) -> None:
    r = read(message, [RIVERSIDE])
    assert r.question == question and not r.follow_up, r


@pytest.mark.parametrize("message", [
    "go on, what did his camp say about him?", "thanks, what did he say next?", "and that, why?",
    "Across the stories on the sprinters, why did they miss the test?", "Going by the reports, who backed it?",
    "In 2004, what did they do?",
])
def test_a_framing_clause_or_a_filler_is_no_subject_put_first(message: str) -> None:
    assert read(message, [RIVERSIDE]).note != "a subject put first"


def test_and_the_other_story_when_will_it_open_is_answered_about_the_other_story(tmp_path: Path) -> None:
    # "it" is the tram line the message names first, not the strike the conversation was about
    from tests.conftest import HARBOUR, TRAM

    s = articles_store(tmp_path, harbour=HARBOUR, tram=TRAM)
    first, second = converse(s, "why did the dock workers walk out", "and the tram line, when will it start?")
    assert second.found and "next spring" in second.text, second.text  # type: ignore[attr-defined]


def test_who_said_a_phrase_the_conversation_never_saw_is_asked_of_every_article(tmp_path: Path) -> None:
    # the thread is about the ferry move; "who called it a storm in a teacup?" is said in another article only
    s = articles_store(tmp_path, ferry=(
        "Ferry operator moves its fleet to Kelby\n\n"
        "The Northsound ferry company moved its whole fleet from Aldmere harbour to Kelby on Friday.\n\n"
        "Analyst Piet Maren said the move would cost Aldmere 200 jobs.\n"), reaction=(
        "Aldmere mayor shrugs off ferry loss\n\n"
        "Aldmere's mayor played down the loss of the Northsound fleet on Saturday.\n\n"
        '"It is a storm in a teacup, the harbour will fill again," said Mayor Ana Sorel.\n'))
    a = Answerer(s)
    first = a.ask("why did northsound move its fleet?")
    assert first.found and {c.doc_id for c in first.citations} == {d.id for d in s.list_documents()
                                                                   if d.location.endswith("ferry.txt")}, first.text
    ans = a.ask("who called it a storm in a teacup?", turns=[Turn.from_json(first.turn)])
    assert ans.found and "Sorel" in ans.text, ans.text


def test_and_what_about_someone_after_a_summary_narrows_it() -> None:
    # "give me the gist of the summit", "and what about putin?": the summit's gist about Putin; never "the gist"
    # swapped for him, nor the summit (whatever word a model finds most like the name)
    prev = Turn(question="give me the gist of the summit", resolved="give me the gist of the summit", kind="summary",
                terms=["summit"], doc_ids=[1, 2], found=True)
    for pick in (0, -1):
        r = read("and what about putin?", [prev], similar=lambda _new, words, i=pick: i % len(words))
        assert "gist" in r.question and "summit" in r.question and "putin" in r.question.casefold(), r.question
    # after a question that is no summary, the word most like the new subject is swapped as before
    fact = Turn(question="how did seoul react", resolved="how did seoul react", kind="fact", terms=["seoul", "react"],
                found=True)
    assert read("and tokyo?", [fact], similar=lambda _new, words: words.index("seoul")).question == "how did tokyo react"


def test_a_name_typed_in_lower_case_is_whom_he_means_after_a_new_subject(tmp_path: Path) -> None:
    # a who-answer names Rey Calder ("Rey Calder described …" is Rey Calder, not "Calder de"); then a new
    # subject typed in lower case, written with capitals in its answer: "he" is now that winger
    s = articles_store(tmp_path, film=(
        "Director signs for hero film\n\n"
        "The creator of a cult vampire series is to write and direct the new Star Maiden movie.\n\n"
        "Rey Calder described Star Maiden as \"the boldest heroine of our time\".\n"), winger=(
        "Winger heads to Spain\n\n"
        "Jonas Tarnby has agreed a move to Valencia from Kelby City.\n\n"
        "The 27-year-old winger spent just five months at Kelby Park after a move from Chelsea.\n"))
    who, move, how_long = converse(s, "who said star maiden is the boldest heroine of our time",
                                   "diff topic, where's jonas tarnby moving to", "how long was he at kelby")
    assert who.found and "Rey Calder" in who.text, who.text  # type: ignore[attr-defined]
    assert json.loads(json.dumps(who.turn))["answered"] == "Rey Calder"  # type: ignore[attr-defined]
    assert move.found and "Valencia" in move.text  # type: ignore[attr-defined]
    assert how_long.found and "five months" in how_long.text, how_long.text  # type: ignore[attr-defined]
    assert "Calder" not in how_long.text  # type: ignore[attr-defined]


def test_how_much_did_they_pay_is_the_figure_of_what_was_just_shown(tmp_path: Path) -> None:
    # the sale was just shown; "how much did they pay?" is its price, not another figure the article gives with
    # the word "pay" in it
    s = articles_store(tmp_path, sale=(
        "Shipyard sold at auction\n\nA little-known firm has bought the Kelby shipyard at auction.\n\n"
        "Harbour Holdings bought the yard for $940m after its owner was forced to sell assets to meet a tax "
        "bill.\n\nWorkers at the yard, which builds ferries and tugs for ports along the coast, said they had "
        "never heard of the firm and feared for their jobs. Union leaders asked to meet the new owners this week "
        "to discuss the order book and the apprentices taken on last spring.\n\n"
        "The former owners will ask the buyer to pay back a $90m loan, and say it must pay within a year.\n"),
        other=("Ferry orders rise\n\nFerry orders rose across the region last year, builders said.\n"))
    who, price = converse(s, "who bought the kelby shipyard?", "how much did they pay")
    assert who.found and "Harbour Holdings" in who.text, who.text  # type: ignore[attr-defined]
    assert price.found and "$940m" in price.text.split("[1]")[0], price.text  # type: ignore[attr-defined]


def test_which_paper_did_she_talk_to_is_the_name_she_spoke_to(tmp_path: Path) -> None:
    # no "News"/"Times" in the paper's name, no "reported": "Speaking to Le Soir, …" names where she said it
    s = articles_store(tmp_path, comeback=(
        "Veld plans tennis comeback\n\nFormer world number one Anna Veld will return to tennis at the Kelby Open "
        "after three years out of the game.\n\nVeld, who retired with a back injury, said she had trained hard "
        "since the summer and felt ready to play again.\n\nSpeaking to Le Soir, the 27-year-old added: \"I miss "
        "the crowds and I want to see how far I can go.\"\n\nThe Kelby Open starts on Monday.\n"),
        other=("Kelby Open draw made\n\nThe draw for the Kelby Open was made on Friday, organisers said.\n"))
    first, paper = converse(s, "is anna veld making a comeback?", "Which paper did she talk to about it?")
    assert first.found  # type: ignore[attr-defined]
    assert paper.found and "Le Soir" in paper.text.split("[1]")[0], paper.text  # type: ignore[attr-defined]


def test_and_another_year_stays_with_the_article_that_gives_it(tmp_path: Path) -> None:
    # "and 2005?" after Kelby's growth in 2004: the Kelby article speaks of 2005 too; another country's 2005
    # forecast, sharing more of the words, is about someone else
    s = articles_store(
        tmp_path,
        kelby=("Kelby growth at 8.1% in 2004\n\n"
               "Kelby's economy grew by 8.1% in 2004, its best performance since 2000, the trade office said.\n\n"
               "A weak fourth quarter points to more modest growth for the port economy in 2005 as shipping "
               "demand falls back. Growth is set to halve this year to between 3% and 5%.\n"),
        aldmere=("Aldmere cuts its forecast\n\n"
                 "Aldmere's economy is now expected to grow by 5.7% in 2005, rather than the 6% forecast in "
                 "the spring, as the economy's growth in 2005 slows.\n"))
    first, then = converse(s, "how much did kelby's economy grow in 2004", "and 2005?")
    assert first.found and "8.1%" in first.text  # type: ignore[attr-defined]
    assert then.found and "Aldmere" not in then.text and "2005" in then.text, then.text  # type: ignore[attr-defined]
