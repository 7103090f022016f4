"""Reading questions the way people type them: intents, chat spellings and typos, names the store knows."""

from __future__ import annotations

import pytest

from bot import wordnet
from bot.question import NameLexicon, analyse, normalise

LEXICON = NameLexicon(["Peter Navarro", "Henrik Vale", "Marta Quinlan", "Vladimir Putin", "Kim Jong Un",
                       "Lawmakers", "the Japanese Government", "Run DMC"])
COMMON = {"run", "government", "port", "strike", "said"}


def read(q: str) -> object:
    return analyse(q, LEXICON, is_word=lambda w: w in COMMON or w in LEXICON.words,
                   is_common=lambda w: w in COMMON)


@pytest.mark.parametrize("question, kind", [
    ("What did Vale say about the strike?", "quote"),
    ("what has marta quinlan said on the cranes", "quote"),
    ("did Navarro say anything about tariffs", "quote"),
    ("what's vale saying about the strike", "quote"),  # "what's" for "what is" / "what has"
    ("Quinlan's take on the offer?", "quote"),
    ("Who called the offer 'an insult'?", "who_said"),
    ("who came up with the phrase 'harbour of shame'", "who_said"),
    ("who keeps saying the port is safe", "who_said"),
    ("Who is Henrik Vale?", "who_is"),
    ("whats his job", "fact"),
    ("What's Marta Quinlan's job?", "who_is"),
    ("where does Marta Quinlan work", "who_is"),
    ("what does Marta Quinlan do", "who_is"),
    ("what did Marta Quinlan do", "fact"),  # what she did, not her job
    ("what did Marta Quinlan do for a living", "who_is"),
    ("how much was the bid? the reports dont give the same number", "multi"),
    ("Who is the director of the port?", "fact"),
    ("Summarize the strike", "summary"),
    ("give me the gist of the tram plan", "summary"),
    ("catch me up on the harbour dispute", "summary"),
    ("tl;dr on the tram", "summary"),
    ("what's the story with the cranes?", "summary"),
    ("any news on the strike?", "summary"),
    ("How do the reports differ on the strike?", "multi"),
    ("Which outlets covered the tram plan?", "multi"),
    ("do the articles agree on the cost?", "multi"),
    ("Is it his eighth budget or his ninth? The reports don't seem to agree.", "multi"),
    ("the papers do not match on the toll", "multi"),
    ("Do the two Aldmere harbour strike reports agree on how many workers walked out?", "multi"),
    ("How do the three Kelby tram write-ups differ on the cost?", "multi"),
    ("Across the stories on the strike, what did the union ask for?", "multi"),
    ("going by the reports on the tram plan, who opposes it?", "multi"),
    ("Which experts do the harbour pieces quote?", "multi"),
    ("how do the different write-ups describe the port?", "multi"),
    ("What did the report say about the budget?", "fact"),
    ("Why did the dockers walk out?", "why"),
    ("how come the trams are late", "why"),
    ("How will the city pay for it?", "why"),
    ("How much will the tram line cost?", "fact"),
    ("When should the first trams run?", "fact"),
    ("help", "help"),
    ("what can you do?", "help"),
    ("thanks!", "smalltalk"),
    ("thank you so much", "smalltalk"),
    ("hi there", "smalltalk"),
    ("", "help"),
])
def test_intents(question: str, kind: str) -> None:
    assert read(question).kind == kind  # type: ignore[attr-defined]


@pytest.mark.parametrize("question, answer_type", [
    ("wen's the tram opening", "when"),
    ("how many r waiting to berth lol", "number"),
    ("how much did the cranes cost", "money"),
    # a count of people or things is no sum of money, whatever the verb ("sell", "pay"); a count of pounds is
    ("how many ppl did the shop sell guns to", "number"),
    ("how many dockers who werent paid walked out", "number"),
    ("how many pounds did the painting sell for", "money"),
    # a change is told as a share as often as an amount, whatever it is a change of ("spending" is money)
    ("how much did french consumer spending go up in january", "number"),
    ("how much has the price of oil risen", "number"),
    ("how much did they raise for charity", "money"),
    # "what number …" asks for a place in a series ("her 12th world record"), not an amount
    ("wat number world record was that", "ordinal"),
    ("which number is his star on the walk of fame", "ordinal"),
    # the level a quantity moves to is a figure (a sum of money when the quantity is one)
    ("what's the adult minimum wage going up to in october", "money"),
    ("what is the base rate being cut to", "number"),
    ("whats unemployment expected to rise to", "number"),
    ("where is the new depot", "where"),
    ("why did they strike", "why"),
    ("who plays the lead", "who"),
])
def test_answer_types_survive_chat_spelling(question: str, answer_type: str) -> None:
    assert read(question).answer_type == answer_type  # type: ignore[attr-defined]


def test_chat_words_and_fillers_are_normalised() -> None:
    assert normalise("yo wat r the dockers gonna do lol") == "what are the dockers going to do"
    assert normalise("wait whats the cost??") == "what is the cost?"
    assert normalise("wht did vale say") .startswith("what did")
    assert normalise("did russia get anything outta those deals") == "did russia get anything out of those deals"
    assert normalise("how many ppl werent told") == "how many people weren't told"


def test_which_person_said_a_quoted_phrase_asks_who_said_it() -> None:
    q = analyse("Which MP said 'you cannot fight six men' after being robbed?", LEXICON,
                is_person=lambda w: w in {"mp", "striker"})
    assert q.kind == "who_said" and q.phrases == ("you cannot fight six men",)
    assert analyse("which paper said 'it was a mistake'", LEXICON, is_person=lambda w: w == "mp").kind != "who_said"


def test_a_question_word_in_capitals_is_not_a_name() -> None:
    q = read("Summarize the harbour strike")
    assert q.names == ()  # type: ignore[attr-defined]
    q = read("Give me the gist of the Riverside tram plan")
    assert q.names == ("Riverside",)  # type: ignore[attr-defined]


def test_a_count_opening_a_run_of_capitals_is_not_part_of_the_name() -> None:
    q = read("Two BBC write-ups on the Riverside tram: what will it cost?")
    assert q.names == ("BBC", "Riverside")  # type: ignore[attr-defined]


def test_a_framing_clause_s_opening_word_is_not_a_name() -> None:
    ordinary = {"going", "judging", "brown"}.__contains__
    for question, names in [("Across the stories on Vale, why did the strike end?", ("Vale",)),
                            ("Going by the reports on Vale, who backed the strike?", ("Vale",)),
                            ("According to Quinlan, when does the strike end?", ("Quinlan",)),
                            ("Judging from the Aldmere Gazette, who won?", ("Aldmere Gazette",))]:
        q = analyse(question, LEXICON, is_word=lambda w: w in COMMON, is_ordinary=lambda w: ordinary(w.lower()))
        assert q.names == names, (question, q.names)  # type: ignore[attr-defined]
    # a name that is also a word, opening the question, stays a name
    q = analyse("Brown said what about the strike?", NameLexicon(["Gordon Brown"]),
                is_ordinary=lambda w: ordinary(w.lower()))
    assert "Brown" in q.names  # type: ignore[attr-defined]


def test_names_are_recognised_in_lower_case_and_with_typos() -> None:
    q = read("what did navaro say about modi")
    assert q.kind == "quote" and q.speaker == "Navarro"  # type: ignore[attr-defined]
    q = read("wat r putin n kim gonna talk about")
    assert set(q.names) >= {"Putin", "Kim"}  # type: ignore[attr-defined]


def test_a_common_word_is_never_turned_into_a_name() -> None:
    # "run" is a word the articles use a lot, even if a band is called Run DMC; "spoke" is no typo of a name
    assert read("which way would the pipeline run").names == ()  # type: ignore[attr-defined]
    assert read("who spoke for the government").names == ()  # type: ignore[attr-defined]


def test_an_english_word_as_the_speaker_is_no_typo_of_a_name() -> None:
    # "organisers" is a letter or two from "Organised" (of "Serious Organised Crime"), but it is English
    lexicon = NameLexicon(["Serious Organised Crime", "Peter Navarro"])
    english = {"organisers", "organiser", "say", "said"}
    q = analyse("what do the organisers say", lexicon, is_word=lambda w: w in english)
    assert q.speaker is None
    assert analyse("what did navaro say", lexicon, is_word=lambda w: w in english).speaker == "Navarro"


def test_roles_and_bodies_can_be_speakers_in_lower_case() -> None:
    q = read("what did japan's government say about the parade")
    assert q.kind == "quote" and q.speaker and "government" in q.speaker  # type: ignore[attr-defined]


def test_key_constraints_and_phrases() -> None:
    q = read("What happened at the port in 2031?")
    assert q.years == ("2031",)  # type: ignore[attr-defined]
    q = read("Who called it a 'harbour of shame'?")
    assert q.phrases == ("harbour of shame",)  # type: ignore[attr-defined]


@pytest.mark.parametrize("question", ["x" * 100_000, "🙂🙂🙂", "¿Qué dijo Vale?", "陳述は何ですか", "\u200b\u200b",
                                      "'''''''", "\"" * 5000, "what did ' say"])
def test_hostile_questions_are_read_without_error(question: str) -> None:
    q = read(question)
    assert q.kind in {"quote", "who_said", "who_is", "fact", "why", "summary", "multi", "help",  # type: ignore[attr-defined]
                      "smalltalk"}


def test_british_and_american_spellings_meet() -> None:
    from bot.text import spellings, stem

    for a, b in [("defence", "defense"), ("organisation", "organization"), ("labour", "labor"), ("centre", "center"),
                 ("analysed", "analyzed"), ("favourite", "favorite")]:
        assert stem(a) == stem(b)
    assert "defense" in spellings("defence") and "defence" in spellings("defense")
    assert spellings("four") == ["four"] and spellings("hour") == ["hour"]


def test_irregular_verb_forms_meet_their_verb() -> None:
    from bot import wordnet
    from bot.text import stem, stems, verb_forms

    if wordnet.shared() is None:
        pytest.skip("WordNet files not installed")
    assert {"wrote", "written"} <= set(verb_forms("write")) and "sell" in verb_forms("sold")
    assert verb_forms("table") == [] and verb_forms("kelby") == []
    # a sentence's irregular form holds its verb too, and keeps its own stem ("wound" is also an injury)
    assert {stem("write"), stem("sell"), stem("win")} <= stems("He co-wrote it, it sold well and won awards")
    assert stem("wound") in stems("a wound to the leg")


def test_versus_is_no_search_word() -> None:
    # "vs" relates the two sides; searching for the word "versus" finds currency and rugby reports
    q = analyse("wait when did russia even join the war vs japan")
    assert "versus" not in q.terms and "vs" not in q.terms
    assert {"russia", "japan", "war"} <= set(q.terms)


def test_a_full_name_typed_in_lower_case_is_a_name_even_of_common_words() -> None:
    # "gordon brown": each word is a common word on its own, together a stored speaker's full name
    lexicon = NameLexicon(["Gordon Brown", "Henrik Vale"])
    q = analyse("what is gordon brown asking rich countries to fund", lexicon,
                is_common=lambda w: w in {"gordon", "brown", "rich"})
    assert q.names == ("Gordon Brown",)
    assert analyse("is the brown envelope still there", lexicon, is_common=lambda w: w == "brown").names == ()


def test_a_count_question_knows_what_it_counts() -> None:
    from bot.question import analyse
    from bot.text import stem

    assert analyse("how many carry on films was she in").counted == (stem("carry"), stem("films"))
    assert analyse("How many of the job cuts are in IT?").counted == (stem("job"), stem("cuts"))
    assert stem("hours") in analyse("how long did it take to sell out").counted
    assert analyse("how long ago did it open").counted == ()
    assert analyse("what did she say about films").counted == ()


def test_a_length_of_time_is_not_a_rate_per_unit() -> None:
    from bot.question import analyse
    from bot.search import counts

    long = analyse("how long will the strike last").counted
    assert counts(long, "Dockworkers began a 48-hour strike on Tuesday.")
    assert counts(long, "All 112,000 tickets sold out in 24 hours.")
    assert counts(long, "It was the first time the two had met since 2019.")
    assert not counts(long, "The strike could cost the economy about 40 million euros a day.")
    assert not counts(long, "Cleaners are paid $5 an hour, the union said.")
    assert not counts(long, "The treaty was signed in 1963.")


@pytest.mark.parametrize("question, expected", [
    ("how did tokyo react to the visit", None), ("How did the Kremlin rate the talks?", None),
    ("how did the americans take it", None), ("How did Kim get to Beijing?", "how"),
    ("how is China getting fuel into North Korea", "how"),
])
def test_how_someone_reacted_is_not_a_means(question: str, expected: str | None) -> None:
    from bot.question import analyse

    assert analyse(question).answer_type == expected


@pytest.mark.parametrize("question, expected", [
    ("whats the death toll", "number"), ("what fine did the fa give mourinho", "money"),
    ("what rate did the bank set", "number"), ("what share of adults own a mobile", "number"),
    ("What was the turnout?", "number"), ("what did she say about the budget", None),
])
def test_what_quantity_asks_for_a_figure(question: str, expected: str | None) -> None:
    from bot.question import analyse

    assert analyse(question).answer_type == expected


def test_how_old_asks_for_an_age() -> None:
    from bot.question import analyse
    from bot.search import type_bonus

    assert analyse("how old is she").answer_type == "age"
    assert all(type_bonus("age", t) for t in ("Hingis, 24, said she would play.", "the 17-year-old Murray",
                                             "has died at the age of 71", "Lindqvist, aged 74, was"))
    assert not any(type_bonus("age", t) for t in ("after two years out of the game", "in 1963", "won 6-4 6-2"))


def test_whats_someone_been_doing_asks_a_fact_not_who_they_are() -> None:
    # "what's Peter Navarro been fighting about" is "what has ... been", not "what is Peter Navarro ..."
    q = analyse("whats Peter Navarro been fighting with trump about")
    assert q.kind != "who_is" and q.speaker is None
    assert analyse("who is Choe Son Hui").kind == "who_is"


@pytest.mark.parametrize("question, kind", [("which tory mp has defected to labour", "who"),
                                            ("what striker did arsenal sign", "who"),
                                            ("which team won the cup", "named"),
                                            ("What lightweight substance were the engineers working with?", None)])
def test_which_person_noun_asks_who(question: str, kind: str | None) -> None:
    from bot.answer import _names_a_material, _names_a_person

    assert analyse(question, is_person=_names_a_person, is_material=_names_a_material).answer_type == kind


@pytest.mark.parametrize("question, names", [("which embassies is jack straw shutting", True),
                                             ("what countries did he visit", True),
                                             ("which of the films won", False), ("which years did he win", False)])
def test_which_plural_asks_for_names(question: str, names: bool) -> None:
    assert (analyse(question).answer_type == "names") is names


@pytest.mark.parametrize("question, kind", [("whats the welsh arts 'hitler' row about", "summary"),
                                            ("what's the deal with the glazer bid", "summary"),
                                            ("whats up with the port", "summary"),
                                            ("gimme the lowdown on ipod sales", "summary"),
                                            ("what's new with yukos", "summary"),
                                            ("what's up", "smalltalk"),
                                            ("what was the fuss about", "summary"),
                                            ("what did he say about it", "fact")])
def test_what_a_story_is_about_asks_for_its_gist(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_a_stored_name_inside_a_run_of_capitals_is_that_name() -> None:
    # "the 16 March Budget Henrik Vale gave": the run is a date, a capitalised common word and a stored name, not one
    # name no article mentions
    q = analyse("Is the 16 March Budget Henrik Vale's eighth or his ninth?", LEXICON,
                is_common=lambda w: w in COMMON | {"march", "budget"})
    assert q.names == ("Henrik Vale",)
    # a run holding no stored name stays one name (an unknown one gets its honest "none of them mentions")
    assert analyse("What did Jonas Ekberg Kovac say?", LEXICON).speaker == "Jonas Ekberg Kovac"


def test_words_asking_for_a_gist_are_not_searched_for() -> None:
    # "lowdown" is how it asks, not what about: no article needs it (a store without it said "None of them
    # mentions lowdown")
    q = analyse("gimme the lowdown on ipod sales")
    assert q.kind == "summary" and "lowdown" not in q.terms and "gimme" not in q.terms
    assert {"ipod", "sales"} <= set(q.terms)


def test_how_the_coverage_names_a_thing_is_not_searched_for() -> None:
    # "name as", "call": the words ask how the articles call it, no article needs to hold them
    q = analyse("Who does the coverage name as Japan's prime minister?")
    assert q.kind == "multi" and "name" not in q.terms and {"prime", "minister"} <= set(q.terms)
    q = analyse("What do the reports call the three-way grouping?")
    assert q.kind == "multi" and "call" not in q.terms and "grouping" in q.terms


def test_chat_shorthand_is_read_as_the_word_not_a_name() -> None:
    # "diff" is no name the articles miss: it is "different"
    q = analyse("whats the diff between the two bids")
    assert "diff" not in q.terms and "the different between" in q.clean, (q.terms, q.clean)


def test_a_question_after_a_lead_in_clause_is_read_from_its_question_word() -> None:
    # "wait that village …, how many ppl even live there": the clause after the comma asks (a count of people)
    q = analyse("wait that austrian village making its own tv channel, how many ppl even live there")
    assert q.answer_type == "number" and q.counted == ("peopl",), (q.answer_type, q.counted)
    assert "village" in q.terms and "channel" in q.terms  # the lead-in still says what about
    assert analyse("the fiat thing, who bought the stake?").answer_type == "who"
    assert analyse("Kim went to Beijing, right?").answer_type is None  # no question word after the comma


@pytest.mark.parametrize("question, answer_type", [
    ("what odds are the bookies giving her? i've seen two different prices", "number"),  # odds are no sum of money
    ("what prices did the two shops quote", "money"),
    ("what's the price of the house", "money"),
    ("what fees do the lawyers charge", "money"),
    ("what share of the vote did they get", "number"),
])
def test_the_quantity_a_what_question_names_says_what_kind_of_figure(question: str, answer_type: str) -> None:
    assert analyse(question).answer_type == answer_type


def test_a_noun_naming_a_measure_asks_for_a_figure() -> None:
    from bot.answer import _names_a_measure

    if wordnet.shared() is None:
        pytest.skip("WordNet is not installed")
    assert analyse("what speed did the computer post", is_measure=_names_a_measure).answer_type == "number"
    assert analyse("what film won the prize", is_measure=_names_a_measure).answer_type is None


def test_a_count_of_people_is_any_plural_that_names_people() -> None:
    from bot.search import counts

    people = analyse("how many people live in the village").counted
    assert counts(people, "It is run by the 8,000 residents of Engerwitzdorf.")
    assert not counts(people, "The village was founded in 1250 and has three churches.")


@pytest.mark.parametrize("question, outlets", [
    ("which paper reported the car chase?", True),
    ("which agency reported that?", True),
    ("what newspaper broke the story", True),
    ("which paper did she talk to?", True),
    # a station that did something is not the outlet that reported it
    ("which station refused to air the adoption show", False),
    ("which channel will show the final?", False),
])
def test_which_paper_asks_an_outlet_only_about_reporting(question: str, outlets: bool) -> None:
    assert (analyse(question).answer_type == "outlets") is outlets


@pytest.mark.parametrize("sentence, length", [
    ("The strike lasted three days.", True),
    ("Unions called a 48-hour strike.", True),
    ("The talks ran for 36 hours on end.", True),
    ("He was sentenced one day after an online campaign.", False),  # when it happened, not how long
    ("It began two weeks ago.", False),
    ("Two weeks into the strike, talks resumed.", False),
    ("Bloggers held a day of action in his defence.", False),  # an event, not a length of time
])
def test_a_length_of_time_is_not_a_time_that_places_an_event(sentence: str, length: bool) -> None:
    from bot.search import counts

    assert counts(analyse("how long did the strike last").counted, sentence) is length


@pytest.mark.parametrize("question, answer_type", [
    ("what's apple's desktop search tool called", "named"),
    ("what is the name of the studio", "named"),
    ("which new york studio is closing", "named"),
    ("what book did he write", "named"),
    ("which striker has signed", "who"),  # a person: who
    ("which way would it run", None),  # too general to be answered by a name
    ("what happened to the bill", "event"),
])
def test_a_thing_asked_for_by_its_kind_is_answered_by_a_name(question: str, answer_type: str | None) -> None:
    assert analyse(question, is_person=lambda w: w == "striker").answer_type == answer_type


def test_a_name_the_question_does_not_give_answers_it() -> None:
    from bot.search import names_new

    q = analyse("which new york studio is closing, the one where lennon spent his last hours",
                is_person=lambda w: False)
    assert names_new(q, "The Hit Factory, which opened 37 years ago, has played host to the biggest stars.")
    # every name here is one the question gives (New York; John Lennon is Lennon)
    assert not names_new(q, "The New York music studio where John Lennon spent his final hours is to close.")
