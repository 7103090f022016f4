"""The answering pipeline on the bundled samples, with the real offline embedder and without it: intents
answered the way they ask, paraphrases found by meaning, honest not-found, summaries and across-outlet answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.citations import fold, markers
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.search import Retriever, Span
from bot.selection import Selector
from bot.store import open_store
from bot.store.base import Store
from bot.text import sentences_in
from tests.conftest import BBC, ROOT, article_store, articles_store, need

SAMPLES = ROOT / "bot" / "samples"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('db')}/p.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    from bot.brief import BriefBuilder

    BriefBuilder(s).catch_up()  # stories, as `briefbot ingest` assigns them
    return s


@pytest.fixture(scope="module")
def dense(store: Store) -> object:
    embed = pytest.importorskip("bot.embed")
    from bot.app import load_embedder

    embedder = load_embedder("local")
    if embedder is None:
        pytest.skip("the offline embedding model is not installed")
    embed.embed_pending(store, embedder)
    return embed.DenseIndex(store, embedder)


def verbatim(store: Store, ans: object) -> None:
    for c in ans.citations:  # type: ignore[attr-defined]
        doc = store.get_document(str(c.doc_id))
        assert doc is not None and doc.text[c.start:c.end] == c.text
    assert all(m <= len(ans.citations) for m in markers(ans.text))  # type: ignore[attr-defined]
    assert len(ans.text) <= 1200  # type: ignore[attr-defined]


def test_a_paraphrase_sharing_no_key_word_is_found_by_meaning(store: Store, dense: object) -> None:
    # "boats" / "ships", "stuck" / "queued": the words point elsewhere, the meaning does not
    question = "how many boats were stuck outside the harbour"
    with_meaning = Answerer(store, dense=dense).ask(question)  # type: ignore[arg-type]
    assert with_meaning.found and "14 vessels" in with_meaning.text
    verbatim(store, with_meaning)


def test_an_english_word_no_article_uses_is_no_name(store: Store) -> None:
    ans = Answerer(store).ask("how much money does the region lose each day of the stoppage")
    assert "None of them mentions" not in ans.text


def test_the_embedder_is_optional(store: Store) -> None:
    ans = Answerer(store).ask("How many vessels were waiting to berth?")
    assert ans.found and "14 vessels" in ans.text
    verbatim(store, ans)


@pytest.mark.parametrize("question, must", [
    ("wen is the first tram gonna run", "2029"),
    ("how much is the tram line costing lol", "410 million euros"),
    ("what's marta quinlan's job?", "general secretary"),
    ("why are the dockers striking", "automat"),
])
def test_casual_questions(store: Store, dense: object, question: str, must: str) -> None:
    ans = Answerer(store, dense=dense).ask(question)  # type: ignore[arg-type]
    assert ans.found, ans.text
    assert must in ans.text
    verbatim(store, ans)


def test_who_said_finds_the_speaker(store: Store, dense: object) -> None:
    ans = Answerer(store, dense=dense).ask("who called the tram 'a very expensive way to move students around'?")  # type: ignore[arg-type]
    assert ans.found and "Brandt" in ans.text
    verbatim(store, ans)


def test_a_summary_is_a_short_cited_brief(store: Store, dense: object) -> None:
    ans = Answerer(store, dense=dense).ask("catch me up on the harbour strike")  # type: ignore[arg-type]
    assert ans.found
    lines = ans.text.splitlines()
    assert lines[0].endswith(":") and 2 <= len(lines) - 1 <= 5  # a headline, then cited points
    assert all(ln.startswith("• ") and ln.rstrip().endswith("]") for ln in lines[1:])
    verbatim(store, ans)


def test_across_outlets_answers_per_article(store: Store, dense: object) -> None:
    ans = Answerer(store, dense=dense).ask("how do the reports differ on the number of ships waiting?")  # type: ignore[arg-type]
    assert ans.found
    sources = {c.source.rsplit("/", 1)[-1] for c in ans.citations}
    assert {"harbour-strike-courier.txt", "harbour-strike-gazette.txt"} <= sources
    assert "14 vessels" in ans.text and "11" in ans.text
    assert ".txt" not in ans.text  # each article named by its outlet or headline, never by its file
    verbatim(store, ans)


@pytest.mark.parametrize("question, missing", [
    ("What did Olaf Scholz say about the strike?", "Olaf Scholz"),
    ("what did zelensky say about the tram", "zelensky"),
    # every word of the name is in the articles ("Marta", "Vale"), but never together: no article names her
    ("Did Marta Vale join the walkout?", "Marta Vale"),
    # the speaker is quoted, but about a place no article mentions: none of the quotes is from there
    ("What did Henrik Vale say in Rotterdam?", "Rotterdam"),
])
def test_a_name_no_article_mentions_is_not_found_honestly(store: Store, dense: object, question: str,
                                                          missing: str) -> None:
    ans = Answerer(store, dense=dense).ask(question)  # type: ignore[arg-type]
    assert not ans.found and not ans.citations
    assert f"None of them mentions {missing}" in ans.text


@pytest.mark.parametrize("question", [
    "What came of the Quinlan-Vale talks?",  # two people the articles mention, each on their own
    "Is Vale's Port Aldmere plan going ahead?",  # a possessive: Vale, and Port Aldmere
])
def test_a_name_in_parts_is_still_mentioned(store: Store, question: str) -> None:
    ans = Answerer(store).ask(question)
    assert "None of them mentions" not in ans.text


def test_a_year_the_articles_do_not_cover_is_not_found(store: Store, dense: object) -> None:
    ans = Answerer(store, dense=dense).ask("When will the first trams run in 2041?")  # type: ignore[arg-type]
    assert not ans.found and "2041" in ans.text


@pytest.mark.parametrize("message", ["help", "thanks!", "hi", "Thank you so much", "?"])
def test_help_and_small_talk_search_nothing(store: Store, message: str) -> None:
    ans = Answerer(store).ask(message)
    assert not ans.found and not ans.citations and ans.backend == "none"
    assert "/ask" in ans.text or "welcome" in ans.text.lower() or ans.text.startswith("Hi")


@pytest.mark.parametrize("question", ["", " ", "x" * 1_000_000, "🙂" * 50, "Что сказал Вале?", "陳述は何ですか",
                                      "' OR 1=1 --", '"' * 300, "NEAR(a b) AND * OR \"x"])
def test_hostile_questions_get_an_answer_object(store: Store, dense: object, question: str) -> None:
    ans = Answerer(store, dense=dense).ask(question)  # type: ignore[arg-type]
    assert isinstance(ans.text, str) and ans.text
    if ans.found:
        verbatim(store, ans)


def test_stages_are_timed(store: Store, dense: object) -> None:
    a = Answerer(store, dense=dense)  # type: ignore[arg-type]
    a.ask("Why did the dockworkers walk out?")
    assert {"analysis", "bm25", "dense", "fusion", "selection", "composition"} <= set(a.last_stages.ms)


def test_a_quote_answer_names_the_stored_speaker(store: Store, dense: object) -> None:
    ans = Answerer(store, dense=dense).ask("What did Vale say about competitiveness?")  # type: ignore[arg-type]
    assert ans.found and ans.quotes
    for quote, _ in ans.quotes:
        assert quote.speaker and quote.speaker in ans.text
        assert fold(quote.text.strip(" ,")) in fold(ans.text)


def test_a_quotation_given_to_the_wrong_speaker_is_caught() -> None:
    from bot.citations import misattributed

    stored = [("There was no written guarantee. There was a slideshow,", "Marta Quinlan"),
              ("We offered retraining for every single worker.", "Henrik Vale")]
    assert misattributed("Quinlan said: “There was a slideshow” [1]", stored) == []
    assert misattributed("The union disputed it: “There was a slideshow” [1]", stored) == []  # named to no one
    wrong = misattributed("Vale said: “There was no written guarantee” [1]", stored)
    assert wrong and "Marta Quinlan" in wrong[0]
    # each quotation is judged by the words just before it, not by an earlier sentence's speaker
    assert misattributed("Vale said: “We offered retraining for every single worker” [1]. Quinlan replied: "
                         "“There was a slideshow” [2]", stored) == []


def test_a_who_answer_takes_the_name_from_the_next_paragraph(tmp_path: Path) -> None:
    # news gives the role in one paragraph and the name in the next
    s = article_store(tmp_path, (
        "Ministry picks harbour chief\n\n"
        "The transport ministry has asked a former shipping executive to run the Aldmere port authority.\n\n"
        "Clara Osei, who led Baltic Lines for a decade, has agreed to take the job from March.\n\n"
        "The appointment still needs the approval of the regional council, which meets next week.\n"))
    ans = Answerer(s).ask("Who will run the Aldmere port authority?")
    assert ans.found and "Clara Osei" in ans.text, ans.text
    verbatim(s, ans)


def test_which_things_is_answered_by_the_sentence_that_lists_them(tmp_path: Path) -> None:
    # the lead counts the branches; the next paragraph names them
    s = article_store(tmp_path, (
        "Harbour Bank to shut branches\n\n"
        "Six branches of the Harbour Bank will close to save money, chief executive Ana Ruiz has announced.\n\n"
        "Kelby, Aldmere, Northsound and Port Vale are among the towns losing a branch next spring.\n\n"
        "The bank said staff would be offered jobs elsewhere.\n"))
    ans = Answerer(s).ask("which branches is the harbour bank shutting")
    assert ans.found and "Northsound" in ans.text and "Port Vale" in ans.text, ans.text
    verbatim(s, ans)


def test_a_who_answer_is_not_a_title_or_an_institution(tmp_path: Path) -> None:
    # "The Harbour Monologues" and "the Quay Theatre" are capitalised but name no one: the person is in the next one
    s = article_store(tmp_path, (
        "Kelby theatre signs a writer\n\n"
        "The creator of The Harbour Monologues is to write and direct the next season at the Quay Theatre.\n\n"
        "Ines Moravec, whose play ran for two years, signed a three-year contract on Friday.\n"))
    ans = Answerer(s).ask("who's gonna write and direct the next season at the quay theatre")
    assert ans.found and "Ines Moravec" in ans.text, ans.text
    verbatim(s, ans)


def test_a_summary_of_what_each_gained_opens_with_a_point_about_each(tmp_path_factory: pytest.TempPathFactory) -> None:
    # asked of all three at once, every top sentence names all three; asked of each, each gets their own point
    from tests.conftest import SEEDS, need

    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('each')}/e.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(need(SEEDS))])
    from bot.brief import BriefBuilder

    BriefBuilder(s).catch_up()
    ans = Answerer(s).ask("sum up what Xi, Putin and Kim each gained from the parade")
    assert ans.found, ans.text
    points = [line for line in ans.text.splitlines() if line.startswith("•")][:3]
    # each of the first three points is about one of them: it names them first
    names = ("Xi", "Putin", "Kim")
    first = [min(names, key=lambda n: m.start() if (m := re.search(rf"\b{n}\b", p)) else 10**6) for p in points]
    assert sorted(first) == sorted(names), points
    verbatim(s, ans)


def test_what_each_got_is_taken_from_the_article_that_treats_each_in_turn(tmp_path: Path) -> None:
    # one report names the three ministers together in every sentence; the analysis takes each in turn, and
    # its point about Chen shares no word with the question but her name
    from bot.brief import BriefBuilder

    s = articles_store(tmp_path, report=(
        "Ministers end the Kelby water talks\n\n"
        "Alvarez, Brandt and Chen closed the Kelby water talks on Friday after three days at the lakeside hall.\n\n"
        "The Kelby water talks between Alvarez, Brandt and Chen ended with a joint statement on the reservoir.\n\n"
        "Officials said Alvarez, Brandt and Chen would meet again in spring for more water talks in Kelby.\n\n"
        "Chen arrived late for the Kelby water talks on Wednesday after floods closed the northern road.\n"),
        analysis=(
        "Who won the Kelby water talks\n\n"
        "The Kelby water talks ended on Friday with a joint statement on the reservoir shared by three provinces.\n\n"
        "For Alvarez, the talks in Kelby brought the pumping rights his farmers have wanted for a decade.\n\n"
        "For Brandt, the Kelby talks secured a share of the reservoir's fees for his province.\n\n"
        "Chen, meanwhile, walked away with a promise of new pipelines to the dry northern valleys.\n"))
    BriefBuilder(s).catch_up()
    ans = Answerer(s).ask("give me the gist of what Alvarez, Brandt and Chen each got out of the Kelby water talks")
    assert ans.found, ans.text
    assert "pumping rights" in ans.text and "share of the reservoir's fees" in ans.text, ans.text
    assert "new pipelines" in ans.text, ans.text
    verbatim(s, ans)


def test_the_gist_of_one_article_is_what_it_says_most_not_only_what_repeats_the_question(tmp_path: Path) -> None:
    # the question's words are in the lead and one aside; the fee and the objection share none of them, but
    # they are about what the article keeps naming (the rifle range, the hunters)
    s = article_store(tmp_path, (
        "Kelby farm plans a web rifle range\n\n"
        "A Kelby farm wants to let web users shoot at targets through a remote rifle range.\n\n"
        "The farmer said the weather in Kelby had been kind this spring.\n\n"
        "Each remote session on the rifle range will cost hunters $40, with extra fees for the range camera.\n\n"
        "Animal charities said remote hunters on a rifle range could not be sure of a clean shot, and hunters "
        "at the range would need a licence.\n\n"
        "The Kelby farm opened a cafe last year.\n"))
    ans = Answerer(s).ask("give me the gist of the kelby farm web plan")
    assert ans.found, ans.text
    assert "$40" in ans.text and "clean shot" in ans.text, ans.text
    verbatim(s, ans)


def test_a_gist_shows_each_sentence_once_and_no_piece_of_one(tmp_path: Path) -> None:
    # "It …" is widened with the sentence before it, which is a point of its own: shown once
    s = article_store(tmp_path, (
        "Kelby arts row\n\n"
        "A Kelby painter has denied comparing the council's arts review to a dictatorship.\n\n"
        "The future of the Kelby Arts Board has been in question since the council announced its review.\n\n"
        "It is expected to be merged into the council's culture office next year.\n\n"
        "The painter, who lives in Aldmere, said artists needed a free voice.\n"))
    ans = Answerer(s).ask("whats the kelby arts row about")
    assert ans.found, ans.text
    assert ans.text.count("The future of the Kelby Arts Board") == 1, ans.text
    assert all(c.text.lstrip("\"“ ")[:1].isupper() for c in ans.citations), ans.text
    verbatim(s, ans)


def test_a_gist_reads_in_order_and_fills_the_places_of_points_it_cannot_take(tmp_path: Path) -> None:
    # "The mayor was speaking about …" and "She said: …" lean on the sentence before them: right after it in the
    # gist, they read as the article does; a candidate that cannot stand alone gives its place to the next one
    from bot.brief_rules import leads_with_reference

    s = article_store(tmp_path, (
        "Mayor apologises over flood warnings\n\n"
        "The mayor of Kelby has apologised to residents whose homes flooded after the town's sirens failed to sound.\n\n"
        "The mayor was speaking about the night of 3 March, when the river rose two metres in four hours. "
        "She said: \"We let people down and I am sorry.\" She met the families of the flooded streets at the town "
        "hall on Friday.\n\n"
        "Residents had wanted the apology to be made at a full council meeting. However, the leader of the "
        "residents' group, Tom Reyes, said the families accepted it.\n\n"
        "An inquiry found the sirens had not been tested since 2019. Engineers blamed a faulty timer in the control "
        "room.\n\n"
        "In April the council agreed to pay £2m towards repairs to flooded homes, and in May it installed new sirens.\n"))
    ans = Answerer(s).ask("catch me up on the mayor's flood apology")
    assert ans.found, ans.text
    assert len(ans.citations) == 5, ans.text
    assert "the night of 3 March" in ans.text, ans.text
    starts = [c.start for c in ans.citations]
    assert starts == sorted(starts), ans.text  # the article's order
    for before, c in zip(ans.citations, ans.citations[1:], strict=False):
        if leads_with_reference(c.text):  # only right after the sentence it leans on
            assert s.document_text(c.doc_id)[before.end:c.start].strip() == "", (before.text, c.text)
    assert "\n" not in "".join(c.text for c in ans.citations), ans.text  # no point glued across paragraphs
    verbatim(s, ans)


def test_across_outlets_compares_the_articles_on_what_was_asked_not_another_story(tmp_path: Path) -> None:
    # the novel's two reports are no story (a film, a bishop); the choir's two reports on a single's sales are one,
    # further down: "the reports" on Mara Quill's novel are the ones that name her, each with its own figure
    from bot.brief import BriefBuilder

    s = articles_store(
        tmp_path,
        film=("Studio signs director for lighthouse film\n\nDirector Tom Reyes will make a film of Mara Quill's "
              "thriller for the Brightwater studio in Ostend. The novel has sold more than four million copies "
              "worldwide since it came out in 2002.\n\nFilming starts in the spring on the Belgian coast.\n"),
        bishop=("Bishop attacks bestseller's history\n\nThe Bishop of Kelby has said Quill's book gets the history "
                "of the medieval church wrong. The book has sold more than six million copies around the world.\n\n"
                "The bishop said readers should not take it as fact.\n"),
        single_a=("Harbour Choir single tops the chart\n\nThe Kelby Harbour Choir's charity single for the lifeboat "
                  "fund has gone straight to number one. It sold 90,000 copies in its first week, the Official "
                  "Charts Company said.\n\nThe money will go to the lifeboat fund.\n"),
        single_b=("Harbour Choir single sets chart record\n\nThe Kelby Harbour Choir's charity single for the "
                  "lifeboat fund sold 90,000 copies in its first week, a record for a choir, the Official Charts "
                  "Company said. Choir leader Nia Brandt said the single could sell 300,000 copies by Christmas."
                  "\n\nThe money will go to the lifeboat fund.\n"))
    BriefBuilder(s).catch_up()
    stories = {m.doc_id: m.story_id for m in s.memberships()}
    assert len(set(stories.values())) == 3, stories  # (the premise: the choir's reports are one story)
    ans = Answerer(s).ask("how many copies do the reports say Mara Quill's novel has sold?")
    assert ans.found, ans.text
    assert {Path(c.source).stem for c in ans.citations} == {"film", "bishop"}, ans.text
    assert "four million" in ans.text and "six million" in ans.text, ans.text
    assert all(line.startswith("• ") for line in ans.text.splitlines()), ans.text  # one line a point
    verbatim(s, ans)


def test_readers_comments_closing_an_article_answer_nothing(tmp_path: Path) -> None:
    # the readers' comments under a report share the question's words ("rise", "cost", "shops") but report nothing;
    # a first-person sentence inside the report (a quotation without its marks) does not end it
    s = article_store(tmp_path, (
        "Kelby minimum wage to rise\n\n"
        "The Kelby minimum wage will rise in October, the council has announced.\n\n"
        "Adults must be paid at least 7.10 crowns an hour, up from 6.85 crowns, the council said.\n\n"
        "Shop owners said the rise would cost them more than they could pass on to customers. We will have to cut "
        "hours, one owner said.\n\n"
        "The council said the rise would be reviewed next year.\n\n"
        "As an employer of staff in several shops, the last rise cost my company an extra 5,000 crowns a year. I "
        "will have to cut hours.\n\n"
        "I think the rise is long overdue! My daughter works in a shop and can barely pay her rent.\n"))
    ans = Answerer(s).ask("how much will the rise cost shops?")
    assert ans.found, ans.text
    assert not any("my company" in c.text or "My daughter" in c.text for c in ans.citations), ans.text
    reported = Answerer(s).ask("what did shop owners say about the rise?")
    assert any("Shop owners said" in c.text for c in reported.citations), reported.text
    verbatim(s, ans)


def test_summary_points_stand_alone(store: Store) -> None:
    from bot.brief_rules import leads_with_reference

    for question in ("Give me the gist of the port strike", "Give me the gist of what Quinlan and Vale each want",
                     "sum up the tram plan"):
        ans = Answerer(store).ask(question)
        for c in ans.citations:
            assert not leads_with_reference(c.text), (question, c.text)
            assert c.text.count('"') % 2 == 0 and c.text.count("“") == c.text.count("”"), (question, c.text)


def test_a_why_answer_gives_the_reason_the_article_states_after_the_event(tmp_path: Path) -> None:
    # the sentence that best matches the question restates what happened; the reason comes a little later
    s = article_store(tmp_path, (
        "Ferry operator moves its fleet to Kelby\n\n"
        "The Northsound ferry company moved its whole fleet from Aldmere harbour to Kelby on Friday.\n\n"
        "The company's twelve vessels left in a convoy before dawn, escorted by two tugs.\n\n"
        "Crews spent the weekend unloading spare parts at the new quay.\n\n"
        "The company said it moved because Kelby charges half the berthing fees of Aldmere.\n"))
    ans = Answerer(s).ask("why did the northsound ferry company move its fleet to kelby?")
    assert ans.found and "half the berthing fees" in ans.text, ans.text
    verbatim(s, ans)


def test_a_why_answer_takes_the_reason_from_the_next_paragraph(tmp_path: Path) -> None:
    # the lead restates the change; the reason opens the next paragraph ("after the studio expressed concern")
    s = article_store(tmp_path, (
        "Kelby film drops the harbour riot scenes\n\n"
        "The director of the Kelby Tales film is to remove the harbour riot scenes from the movie.\n\n"
        "Ana Ruiz said the cuts were being made after the studio expressed concern about the film's rating. "
        "The riot takes up a whole chapter of the book.\n"))
    ans = Answerer(s).ask("why is the kelby tales film dropping the harbour riot scenes?")
    assert ans.found and "expressed concern" in ans.text, ans.text
    verbatim(s, ans)


def test_a_why_answer_takes_a_stated_purpose_as_the_reason(tmp_path: Path) -> None:
    # the lead restates the launch; the reason is a purpose ("an attempt by … to protect …"), with no "because"
    s = article_store(tmp_path, (
        "Kelby Games adds a music player to its handheld\n\n"
        "Kelby Games is releasing a music player add-on for its Pocket handheld console.\n\n"
        "The add-on means owners can copy songs to the console and play them on the move. "
        "The release of the add-on is an attempt by the games firm to protect its lead over the rival Orbit "
        "handheld. The add-on will cost about £25.\n"))
    ans = Answerer(s).ask("why is kelby games bringing out a music player add-on for the pocket?")
    assert ans.found and "protect its lead" in ans.text, ans.text
    verbatim(s, ans)


def test_the_gist_of_one_article_opens_with_its_lead_and_reads_in_its_order(tmp_path: Path) -> None:
    # two long paragraphs: the gist takes the lead first, then points in the article's order, more than one from
    # a paragraph that says several things
    s = article_store(tmp_path, (
        "Kelby keeper misses Aldmere derby\n\n"
        "Kelby goalkeeper Ivo Brandt will miss Saturday's derby against Aldmere at Riverside Park.\n\n"
        "The club said Brandt had pulled out with a wrist injury suffered in training on Tuesday. Reserve keeper "
        "Tomas Ruel, who has played 14 league games, will start in his place. Kelby have lost only two of their "
        "last 20 derbies against Aldmere. Manager Piet Maren said the squad had 4,000 tickets for travelling fans. "
        "Aldmere sold out their 31,000 seats for the derby within a day, a record for the club.\n"))
    ans = Answerer(s).ask("give me the gist of the kelby keeper missing the aldmere derby")
    assert ans.found, ans.text
    points = [c.text for c in ans.citations]
    assert points[0].startswith("Kelby goalkeeper Ivo Brandt will miss"), points
    assert len(points) >= 3, points
    text = s.get_document(str(ans.citations[0].doc_id)).text
    assert [text.index(p) for p in points] == sorted(text.index(p) for p in points), points
    verbatim(s, ans)


def test_outlets_that_disagree_on_a_figure_are_both_shown(tmp_path: Path) -> None:
    # two outlets' copies of one report, word for word the same but for the figure: that figure is where they differ
    gazette = ("Kelby council names date for harbour budget\n\n"
               "Kelby council will present its harbour budget on 16 March, the mayor's office has announced.\n\n"
               "Next month's budget will be Mayor Ana Sorel's eighth since she took office in 1997. The harbour levy "
               "is expected to rise again, and the ferry operators have asked for a freeze.\n")
    courier = ("Harbour budget set for March\n\n"
               "The harbour budget will be unveiled by Kelby council on 16 March, officials confirmed on Tuesday.\n\n"
               "Next month's budget will be Mayor Ana Sorel's ninth since she took office in 1997. Dock workers say "
               "they will march on the town hall if the levy goes up.\n")
    s = articles_store(tmp_path, gazette=gazette, courier=courier)
    ans = Answerer(s).ask("do the reports agree whether it is sorel's eighth or ninth budget?")
    assert ans.found and "eighth" in ans.text and "ninth" in ans.text, ans.text
    assert len({c.doc_id for c in ans.citations}) == 2
    verbatim(s, ans)


def test_a_persons_lawyer_is_found_beside_their_surname(tmp_path: Path) -> None:
    # the full name is in the lead; the lawyer is "Mr Vale's lawyer" three paragraphs on
    s = article_store(tmp_path, (
        "Kelby court jails harbour blogger\n\n"
        "Harbour blogger Henrik Vale has been jailed for two years by a Kelby court.\n\n"
        "The court found that his posts had breached the port's secrecy rules.\n\n"
        "Mr Vale's lawyer called the verdict unlawful and said he would appeal to the high court.\n"))
    ans = Answerer(s).ask("what did Henrik Vale's lawyer say")
    assert ans.found and "unlawful" in ans.text, ans.text
    verbatim(s, ans)
    missing = Answerer(s).ask("what did Henrik Vale's chauffeur say")
    assert not missing.found and "chauffeur" in missing.text, missing.text


def test_a_why_answer_that_only_restates_takes_the_explanation_that_follows(tmp_path: Path) -> None:
    # the lead restates the move word for word; the next paragraph explains it with no "because" in it
    s = article_store(tmp_path, (
        "Kelby final switched to Aldmere\n\n"
        "The Kelby Cup final between Northsound and Riverside has been switched to the Aldmere Arena.\n\n"
        "The Aldmere Arena holds 41,000 fans whereas Kelby Park has room for just 9,500. Tickets go on sale "
        "on Monday.\n\n"
        "Northsound last reached the final in 1998.\n"))
    ans = Answerer(s).ask("why has the kelby cup final between northsound and riverside been switched to aldmere?")
    assert ans.found and "holds 41,000" in ans.text, ans.text
    verbatim(s, ans)


def test_a_why_answer_is_not_satisfied_by_a_schedule_and_finds_an_as_clause(tmp_path: Path) -> None:
    # "due to open this weekend" gives no reason; "… as it mocked the council" does, in the next paragraph
    s = article_store(tmp_path, (
        "Aldmere bans harbour comedy\n\n"
        "Aldmere's licensing board has banned the comedy Harbour Lights, due to open at the Kelby theatre this "
        "weekend.\n\n"
        "The board said the show would not be staged as it mocked the council's harbour plan. The producers said "
        "they would appeal.\n"))
    ans = Answerer(s).ask("why did aldmere ban harbour lights")
    assert ans.found and "mocked the council" in ans.text, ans.text
    verbatim(s, ans)


def test_a_when_question_about_the_future_is_answered_with_the_date_to_come(tmp_path: Path) -> None:
    # the lead says no date; of the article's dated sentences, the one with the year still to come answers
    s = article_store(tmp_path, (
        "Rower Mia Lund delays return\n\n"
        "Olympic rower Mia Lund has ruled out a comeback this season after a setback in her recovery from a "
        "shoulder injury.\n\n"
        "Lund, the European champion, has been out of rowing since the Aldmere regatta in June 2004. It was hoped "
        "she could race this summer, but the injury has been slow to heal.\n\n"
        "Her coach Ian Dale said: \"We are not looking at any comeback before 2006.\"\n"))
    ans = Answerer(s).ask("when is mia lund gonna be back rowing")
    assert ans.found and "2006" in ans.text, ans.text
    verbatim(s, ans)


def test_a_who_answer_is_not_led_by_a_film_title(tmp_path: Path) -> None:
    # "the horror classic Halloween" names no person: an answer naming no one new gets no lead, never "Halloween II"
    s = article_store(tmp_path, (
        "Screenwriter Ana Ruiz dies at 54\n\n"
        "Screenwriter and producer Ana Ruiz, best known for the horror classic Halloween, has died in Los Angeles "
        "aged 54.\n\n"
        "Halloween II followed in 1981, and Halloween II made even more money.\n\n"
        "Later in her career, Ruiz formed a firm with her friend Tom Obst.\n"))
    ans = Answerer(s).ask("who did Ruiz produce with")
    assert ans.found and not ans.text.startswith("Halloween"), ans.text
    verbatim(s, ans)


def test_an_answer_keeps_the_sentence_that_turns_it_around(tmp_path: Path) -> None:
    # "may not be a disaster. But …": the first sentence alone says the opposite of what the article says
    s = article_store(tmp_path, (
        "Kelby mill faces a costly winter\n\n"
        "The Kelby paper mill lost its largest customer, a packaging group, in October.\n\n"
        "Losing the packaging contract, which the group signed with the Kelby mill in 1998 and renewed every "
        "three years since, through two changes of ownership and the closure of the old pulp line beside the "
        "river, may not be fatal for the Kelby mill on its own, the regional development agency said. But it would "
        "force the "
        "mill to cut its night shift, and the union expects forty jobs to go. The mill's owners meet on Monday.\n"))
    ans = Answerer(s).ask("how would losing the packaging contract hurt the kelby mill?")
    assert ans.found and "night shift" in ans.text, ans.text
    assert "meet on Monday" not in ans.text, ans.text
    verbatim(s, ans)


def test_a_quoted_phrase_finds_its_passage_whatever_its_other_words(tmp_path: Path) -> None:
    # another passage holds every word of the question, but not the quoted words as they were said
    s = article_store(tmp_path, (
        "Bomb scare at Kelby stadium\n\n"
        "A bomb scare emptied Kelby stadium on Sunday. The bomb scare came in the second half.\n\n"
        "Police said the bomb scare call was made from a phone box; a second bomb scare call followed.\n\n"
        "Above all, football fans should stay calm after a bomb scare, it is all the club asks, police said.\n\n"
        "Midfielder Ana Ruiz told a local radio station: \"I have never seen this and football should be above "
        "it all.\"\n"))
    from bot.question import analyse
    from bot.search import Retriever

    q = analyse("who said 'football should be above it all' after the bomb scare?")
    hits = Retriever(s).passages(q, limit=1)
    assert hits and "above it all" in s.document_text(hits[0].doc_id)[hits[0].start:hits[0].end]
    ans = Answerer(s).ask("who said 'football should be above it all' after the bomb scare?")
    assert ans.found and "Ana Ruiz" in ans.text, ans.text


def test_a_year_is_no_amount(tmp_path: Path) -> None:
    # "how much land": "since 1920" is a date; the acres are further on
    s = article_store(tmp_path, (
        "Kelby council to take over Aldmere ranch land\n\n"
        "The Aldmere ranch, which the Harbour Group has owned since 1920, is in a land dispute with Kelby council.\n\n"
        "Farm workers at the ranch said they had not been told.\n\n"
        "The council plans to take 4,300 acres from the ranch, officials said.\n"))
    ans = Answerer(s).ask("how much land is kelby council taking off the aldmere ranch")
    assert ans.found and "4,300 acres" in ans.text, ans.text


def test_a_question_asking_a_figure_is_not_answered_without_one(tmp_path: Path) -> None:
    # the deal is reported, its price is not: sentences about the deal answer nothing asked
    s = article_store(tmp_path, (
        "Kelby and Aldmere sign a water deal\n\n"
        "Kelby and Aldmere signed a thirty-year water supply deal on Friday after months of talks.\n\n"
        "Officials called the water deal a cornerstone of the two towns' partnership.\n"))
    ans = Answerer(s).ask("what price did kelby and aldmere agree for the water deal?")
    assert not ans.found and not ans.citations, ans.text
    assert "gives the amount you asked for" in ans.text, ans.text
    (tmp_path / "priced").mkdir()
    s2 = article_store(tmp_path / "priced", (
        "Kelby and Aldmere sign a water deal\n\n"
        "Kelby and Aldmere signed a thirty-year water supply deal on Friday after months of talks.\n\n"
        "Aldmere will pay £2m a year for the water, officials said.\n"))
    ans = Answerer(s2).ask("what price did kelby and aldmere agree for the water deal?")
    assert ans.found and "£2m" in ans.text, ans.text


def test_which_paper_answer_takes_the_credit_from_the_next_paragraph(tmp_path: Path) -> None:
    s = article_store(tmp_path, (
        "Singer wins order against photographers\n\n"
        "The singer Ana Reyes won a court order after a reported car chase with photographers in Kelby last week.\n\n"
        "According to the local newspaper the Kelby Courier, the photographers drove through red lights.\n\n"
        "The order keeps them 200 metres from her home.\n"))
    ans = Answerer(s).ask("which paper reported the car chase?")
    assert ans.found and "Kelby Courier" in ans.text, ans.text
    verbatim(s, ans)


def test_a_figure_asked_for_comes_from_the_answering_article_even_in_other_words(tmp_path: Path) -> None:
    # "the size of the bill": the article's figure sits in a paragraph that shares no word with the question
    s = article_store(tmp_path, (
        "Kelby officials accused of targeting harbour charity\n\n"
        "The Open Harbour Trust has accused Kelby officials of trying to close its office with a tax bill. The "
        "council says the trust has had years to settle its accounts.\n\n"
        "A demand for unpaid taxes and fines of $640,000 is politically motivated, its lawyers said.\n\n"
        "The trust, founded in 1998, runs sailing schools for children in six towns.\n"))
    ans = Answerer(s).ask("what's the size of the bill kelby officials handed the open harbour trust?")
    assert ans.found and "$640,000" in ans.text, ans.text
    verbatim(s, ans)


def test_a_how_many_answer_counts_what_was_asked_not_a_year(tmp_path: Path) -> None:
    # the article's first sentences hold an age and years; the count of films comes later
    s = article_store(tmp_path, (
        "Stage actress Mara Lindqvist dies\n\n"
        "Mara Lindqvist, known for her comic roles, has died at the age of 74, her family said.\n\n"
        "She made her film debut in 1961 and joined the Harbour Players company in 1966, where she met her husband.\n\n"
        "Lindqvist appeared in eleven of the Saltmarsh comedy films, alongside fellow regulars Tom Avery and "
        "June Pike.\n\n"
        "She also spent a decade in the radio serial The Quayside.\n"))
    # the sentence sharing most words with the question has only years: it is no count
    ans = Answerer(s).ask("how many films was Lindqvist in after her film debut with the Harbour Players")
    assert ans.found and "eleven of the Saltmarsh comedy films" in ans.citations[0].text, ans.text
    verbatim(s, ans)


PHONES = ("Handset maker plans share sale\n\n"
          "Mobile maker Corvid plans an IPO in March, its chief executive said on Monday.\n\n"
          "When its first phones were launched they cost about £2,000 each and were the size of a briefcase.\n\n"
          "The government said tuition fees for engineering courses would be frozen to help the industry.\n")


def test_typos_are_read_as_the_articles_words(tmp_path: Path) -> None:
    s = article_store(tmp_path, PHONES)
    ans = Answerer(s).ask("wat did the goverment say about tution")
    assert ans.found and "tuition fees" in ans.citations[0].text, ans.text


def test_a_brand_no_article_mentions_is_not_a_typo_of_a_short_word(tmp_path: Path) -> None:
    # "iphone" is in a language model's word pieces and two letters from the indexed "ipo": neither makes it a
    # word the articles use, so the launch price of other phones is no answer
    s = article_store(tmp_path, PHONES)
    ans = Answerer(s).ask("how much did the first iphone cost at launch")
    assert not ans.found and "iphone" in ans.text, ans.text


def test_edit_distance() -> None:
    from bot.answer import _edits

    assert [_edits("iphon", "ipo"), _edits("sumit", "summit"), _edits("teh", "the"), _edits("kitten", "sitting"),
            _edits("", "abc"), _edits("same", "same")] == [2, 1, 1, 3, 3, 0]


BRIDGE = ("Council approves new footbridge\n\n"
          "The Aldmere council has agreed to pay £4.2m for a footbridge over the river Wend, its leader said on "
          "Tuesday.\n\n"
          "The design, by the firm Harrow Lane, was chosen from twelve entries after a public vote.\n\n"
          "Construction starts next month, and the bridge is due to open in September 2027.\n\n"
          "Critics said the money would be better spent on the town's bus services.\n")


@pytest.mark.parametrize("question, first, second", [
    ("How much is the council paying for the footbridge, and when will it open?", "£4.2m", "September 2027"),
    ("how much will the aldmere footbridge cost and who designed it", "£4.2m", "Harrow Lane"),
])
def test_a_question_in_two_parts_gets_both_answered(tmp_path: Path, question: str, first: str, second: str) -> None:
    s = article_store(tmp_path, BRIDGE)
    ans = Answerer(s).ask(question)
    assert ans.found and first in ans.text and second in ans.text, ans.text
    verbatim(s, ans)


def test_the_last_part_of_a_question_is_asked_on_its_own(tmp_path: Path) -> None:
    # "who … and what did critics say?": the part after "and what" is its own question, whatever comes before it
    s = article_store(tmp_path, BRIDGE)
    ans = Answerer(s).ask("Going by the Aldmere report, who designed the footbridge and what did critics say?")
    assert ans.found and "Harrow Lane" in ans.text and "bus services" in ans.text, ans.text
    verbatim(s, ans)


FEUD_START = ("Singer Vell drops protege Okafor from crew\n\n"
              "Rap star Vell has thrown his protege Okafor out of his Nightline crew, accusing him of disloyalty.\n\n"
              "Vell said Okafor had refused to back him in a row with a radio station.\n")
FEUD_CHART = ("Vell tops the album chart\n\n"
              "Vell's new album went straight to number one, a week after he threw protege Okafor out of the "
              "Nightline crew for disloyalty.\n\n"
              "The album sold 90,000 copies in its first week.\n")
FEUD_END = ("Vell and Okafor make peace\n\n"
            "The feud between Vell and Okafor ended on Wednesday when the pair shook hands at a youth music "
            "charity in Harlem.\n\n"
            "Both gave money to the charity, which runs recording studios for teenagers.\n")


def test_across_outlets_the_last_part_may_be_answered_by_another_article_on_the_same_people(tmp_path: Path) -> None:
    s = articles_store(tmp_path, start=FEUD_START, chart=FEUD_CHART, end=FEUD_END)
    ans = Answerer(s).ask("Across the stories on Vell and Okafor, why was Okafor thrown out of the crew and how did "
                          "the feud end?")
    assert ans.found and "disloyalty" in ans.text and "shook hands" in ans.text, ans.text
    verbatim(s, ans)


def test_a_question_in_two_parts_reads_the_store_s_names_once(tmp_path: Path) -> None:
    # the second part is read against the same name lexicon: a two-part question must not make this question, and
    # the next one, rebuild it from every stored speaker
    s = article_store(tmp_path, BRIDGE)
    answerer = Answerer(s)
    answerer.ask("who designed the footbridge")
    lexicon = answerer._lexicon
    answerer.ask("How much is the council paying for the footbridge, and when will it open?")
    answerer.ask("who designed the footbridge")
    assert answerer._lexicon is lexicon


def test_a_question_in_one_part_is_not_split(tmp_path: Path) -> None:
    s = article_store(tmp_path, BRIDGE)
    ans = Answerer(s).ask("who designed the footbridge")
    assert ans.found and "Harrow Lane" in ans.text and "£4.2m" not in ans.text, ans.text


def test_a_name_is_never_respelled_into_an_article_word(tmp_path: Path) -> None:
    # "Scholl" is in the article, "Scholz" is not: the question is about someone no article mentions
    s = article_store(tmp_path, ("Minister praises harbour plan\n\nThe transport minister, Anna Scholl, said the "
                                 "harbour plan would bring 400 jobs to Aldmere.\n"))
    ans = Answerer(s).ask("What did Olaf Scholz make of the harbour plan?")
    assert not ans.found and "Scholz" in ans.text and "scholl" not in ans.text.casefold(), ans.text


def test_an_article_replaced_by_its_next_version_is_read_again(tmp_path: Path) -> None:
    # how much of the question an article holds is kept between questions; a new version of the article (the
    # page changed) is read afresh, not answered from what the old one said
    from bot.ingest.pipeline import Ingester

    page = tmp_path / "article.txt"
    page.write_text("Ferry service resumes\n\nThe Kelby ferry resumed sailing on Monday after the storm.\n",
                    encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path}/v.db")
    ingester = Ingester(store, extract_quotes=extract_quotes)
    ingester.ingest([str(page)])
    answerer = Answerer(store)
    (doc_id,) = [d.id for d in store.list_documents()]
    assert answerer.selector._doc_cover({"ferri": 1.0, "storm": 1.0}, store.documents_by_id([doc_id])) == {doc_id: 1.0}
    page.write_text("Ferry service resumes\n\nThe Kelby ferry resumed sailing on Monday once the harbour reopened.\n",
                    encoding="utf-8")
    ingester.ingest([str(page)])
    assert [d.id for d in store.list_documents()] == [doc_id]  # the same document, its next version
    assert answerer.selector._doc_cover({"ferri": 1.0, "storm": 1.0}, store.documents_by_id([doc_id])) == {doc_id: 0.5}


def test_a_neighbour_that_opens_a_quotation_is_shown_to_its_close(tmp_path: Path) -> None:
    # the sentence after the answer opens a two-sentence quotation: widened, the answer shows the quotation whole,
    # never "… advisor. “I'm not sure what he is thinking." with its closing mark cut off
    store = article_store(tmp_path, (
        "Adviser criticises Kelby trade talks\n\n"
        "“It is a shame to see Kelby getting into bed with Marrow,” said Tomas Ruel, a trade adviser. “I am not sure "
        "what they are thinking. We hope they come around to seeing that they need to be with us and not Marrow.”\n\n"
        "The talks resume on Monday.\n"))
    ans = Answerer(store).ask("what did tomas ruel say he hopes kelby realises")
    assert ans.found, ans.text
    for c in ans.citations:
        assert c.text.count("“") == c.text.count("”"), c.text
    assert "not Marrow.”" in ans.text, ans.text


def test_where_is_answered_by_a_place(tmp_path: Path) -> None:
    # "where did he die?": "at home in East Kelby", not the lead that says he died
    from bot.conversation import Turn

    store = article_store(tmp_path, (
        "Former premier Lord Ames dies at 92\n\n"
        "Former Labour prime minister Lord Ames has died on the eve of his 93rd birthday.\n\n"
        "He passed away at home in East Kelby, just 11 days after his wife Ruth died aged 91.\n\n"
        "Lord Ames led the government from 1976 to 1979.\n"))
    answerer = Answerer(store)
    first = answerer.ask("how old was lord ames when he died")
    ans = answerer.ask("where did he die", turns=[Turn.from_json(first.turn)])
    assert ans.found and "East Kelby" in ans.citations[0].text, ans.text


@pytest.mark.parametrize("sentence, place", [
    ("He passed away at home in East Sussex, just 11 days after his wife.", True),
    ("The talks were held outside Aldmere town hall.", True),
    ("He died in January, on the eve of his birthday.", False),
    ("The bill was passed in 2004 and signed on Monday.", False),
])
def test_a_where_question_favours_a_sentence_naming_a_place(sentence: str, place: bool) -> None:
    from bot.search import type_bonus

    assert (type_bonus("where", sentence) > 0) is place


@pytest.mark.parametrize("sentence, led", [
    ("Capriati is a two-time champion in Melbourne.", False),  # it names her: no "Jennifer Capriati: " before it
    ("The 28-year-old is a two-time champion in Melbourne.", True),  # it does not: the reader is told who
])
def test_an_answer_is_led_by_the_person_only_when_its_sentence_does_not_name_them(sentence: str, led: bool) -> None:
    from bot.drafting import Evidence, ExtractiveBackend
    from bot.question import analyse
    from bot.search import Span

    ev = Evidence(query=analyse("who is the champion?"), lead="Jennifer Capriati",
                  sentences=[Span(1, 0, len(sentence), sentence, 1.0, "a.txt", "Title", None, None)])
    text = ExtractiveBackend().answer(ev).text
    assert text.startswith("Jennifer Capriati: ") is led, text


def test_a_who_answer_is_not_led_by_a_party(tmp_path: Path) -> None:
    # "defected to Labour" names no one: the answer is not led by "Labour MPs", a phrase found elsewhere in it
    store = article_store(tmp_path, (
        "Conservative MP defects to Labour\n\n"
        "A Conservative MP and former minister has defected to Labour.\n\n"
        "Tomas Ruel, 58, MP for Kelby, said he was disillusioned with the party's leadership. He would be warmly "
        "welcomed by Labour MPs, the prime minister said.\n"))
    answerer = Answerer(store)
    ans = answerer.ask("which tory mp has defected to labour")
    assert ans.found and not ans.text.startswith("Labour"), ans.text
    from dataclasses import replace

    from bot.question import analyse
    from bot.search import Span

    (doc,) = store.list_documents()
    text = store.document_text(doc.id)
    first = "A Conservative MP and former minister has defected to Labour."
    at = text.index(first)
    span = Span(doc.id, at, at + len(first), first, 1.0, doc.location, doc.title, None, None)
    q = replace(analyse("which tory mp has defected to labour"), names=("Tory MP",))  # as the store's names read it
    assert answerer._person_in(q, span) == ""


def test_a_small_store_searches_every_word_of_the_question(tmp_path: Path) -> None:
    # five passages: "producer" and "film" are in two of them each, yet they are what the question asks with; a
    # store of a handful of articles is searched by all its words, not only the rarest
    from bot.conversation import Reading
    from tests.test_conversation import HARBOUR_FILM

    s = article_store(tmp_path, HARBOUR_FILM)
    answerer = Answerer(s)
    answerer.retriever.refresh(s.count_documents())
    q = answerer.analyse(Reading("Who is the executive producer of the Harbour Tales film adaptation?"),
                         s.count_documents())
    texts = [s.document_text(h.doc_id)[h.start:h.end] for h in answerer.retriever.passages(q)]
    assert any("executive producer Anna Stamp" in t for t in texts), texts


def test_another_person_of_the_same_surname_is_not_the_one_asked_about() -> None:
    from bot.question import Query
    from bot.selection import _namesakes

    (full, other), = _namesakes(Query(text="why is Tam Rusk quitting", kind="fact", clean="why is Tam Rusk quitting",
                                      names=("Tam Rusk",)))
    assert other.search("correspondent Ann Rusk said") and not other.search("Tam Rusk said")
    assert not other.search("Mr Rusk said") and not other.search("President Rusk said")
    assert full.search("Tam Rusk is to retire")
    from bot.selection import _namesake_in

    assert _namesake_in(other, "correspondent Ann Rusk said") and not _namesake_in(other, "Tam Rusk said")
    if pytest.importorskip("bot.wordnet").shared() is not None:
        assert not _namesake_in(other, "Former Rusk aide Jo Bell said")  # an English word, not a first name
    club = Query(text="x", kind="fact", clean="x", names=("Hapoel Bnei Sakhnin",))
    assert not any(o.search("Bnei Sakhnin are the first Arab side") for _, o in _namesakes(club))
    assert _namesakes(Query(text="x", kind="fact", clean="x", names=("Tory MP", "Labour"))) == []


@pytest.mark.parametrize("question, money", [
    ("whats the tram gonna cost", True), ("what will the new line cost?", True), ("what did the painting fetch", True),
    ("what did he say about the cost", False), ("what is the tram plan", False),
])
def test_what_will_it_cost_asks_for_a_sum(question: str, money: bool) -> None:
    from bot.question import analyse

    assert (analyse(question).answer_type == "money") is money, question  # type: ignore[attr-defined]


def test_no_sentence_is_shown_twice_when_the_answer_takes_the_next_one(tmp_path: Path) -> None:
    # the lead names no sum; the sentence after it does, and is the answer's second sentence too: it is shown once
    s = article_store(tmp_path, (
        "Council approves Kelby tram line\n\n"
        "The Kelby city council voted 31 to 17 on Monday to build a tram line along the river, ending six years of "
        "argument over the route and its cost.\n\n"
        "The line, budgeted at 410 million euros, will link the central station with the university. "
        "Construction is due to start next spring.\n"))
    ans = Answerer(s).ask("whats the kelby tram gonna cost")
    assert ans.found and "410 million euros" in ans.text, ans.text
    assert ans.text.count("budgeted at 410 million euros") == 1, ans.text
    verbatim(s, ans)


def test_the_gist_of_a_topic_is_the_story_most_articles_report(tmp_path: Path) -> None:
    # three outlets report the Aldmere dock strike; a sports report mentions another "strike" once, in a short
    # sentence that matches the request best on its own
    from bot.brief import BriefBuilder

    s = articles_store(
        tmp_path,
        gazette=("Aldmere dockers strike over pay\n\nDock workers at Aldmere harbour walked out on Monday in a strike "
                 "over pay and hours.\n\nUnion leader Marta Quinlan said the strike would last until the port "
                 "authority raised its offer.\n"),
        courier=("Aldmere harbour shut by dock strike\n\nThe strike by Aldmere dock workers closed the harbour on "
                 "Monday, leaving 14 vessels at anchor.\n\nMarta Quinlan of the dockers' union said the strike was "
                 "about pay.\n"),
        herald=("Dock strike halts Aldmere port\n\nAldmere's port stood idle on Monday as dock workers began a strike "
                "over pay.\n\nThe port authority said it would meet Marta Quinlan's union on Thursday about the "
                "strike.\n"),
        sport=("Strike wins the cup for Kelby\n\nA late strike by Tomas Ruel, the strike of the season, won the "
               "county cup.\n\nKelby beat Riverside 2-0 on Saturday.\n"))
    BriefBuilder(s).catch_up()  # stories, as `briefbot ingest` assigns them
    ans = Answerer(s).ask("give me the gist of the strike")
    assert ans.found, ans.text
    assert {c.source.rsplit("/", 1)[-1] for c in ans.citations} <= {"gazette.txt", "courier.txt", "herald.txt"}, \
        ans.text
    verbatim(s, ans)


def test_a_fact_answer_shows_up_to_three_close_candidates(tmp_path: Path) -> None:
    # three reports answer about equally well, each in its own words: the reader sees all three, not the two
    # the scores happened to put first
    s = articles_store(
        tmp_path,
        gazette="Ferry strike ends\n\nThe Kelby ferry strike ended on Monday after crews accepted a 4% rise.\n",
        courier="Crews back at work\n\nKelby ferry crews ended their strike on Monday, the union said.\n",
        herald="Ferries sail again\n\nThe strike on Kelby ferries ended on Monday with a deal on rotas.\n")
    ans = Answerer(s).ask("when did the kelby ferry strike end?")
    assert ans.found and len(ans.citations) == 3, ans.text
    assert ans.text.count("Monday") == 3
    verbatim(s, ans)


def test_what_number_is_answered_by_a_place_in_a_series(tmp_path: Path) -> None:
    # the lead gives a height; the record's place in her series is in the next paragraph ("her first" elsewhere is
    # no place in a series)
    s = article_store(tmp_path, (
        "Lund breaks indoor record\n\n"
        "Pole vaulter Mia Lund broke her own indoor world record by clearing 4.91 metres in Kelby on Saturday.\n\n"
        "Lund first found fame as a gymnast. It was the Norwegian's 14th world record of her career, and came a week "
        "after she cleared 4.90m in Aldmere.\n"))
    ans = Answerer(s).ask("how high did lund clear in kelby and what number world record was that")
    assert ans.found and "4.91 metres" in ans.text and "14th world record" in ans.text, ans.text
    verbatim(s, ans)


def test_a_quote_the_reporter_s_words_ran_into_is_not_shown_as_said(tmp_path: Path) -> None:
    # the source left out a closing mark: "… good balance. Maren's only criticism …" is the reporter's sentence
    s = article_store(tmp_path, (
        "Maren hails Kelby spirit\n\n"
        "Kelby manager Piet Maren praised his side after the 2-0 cup win against Aldmere.\n\n"
        'And after the match Maren said: "It was a perfect night for the club.\n\n'
        '"We can also score goals, so we have good balance. Maren\'s only criticism of his side was that they '
        'should have scored more. "It should have been more convincing," said Maren.\n'))
    ans = Answerer(s).ask("what did piet maren say about scoring goals and balance")
    assert ans.found and "perfect night" in ans.text and "only criticism" not in ans.text, ans.text
    verbatim(s, ans)


def test_a_run_of_capitals_no_article_holds_is_two_names_side_by_side(tmp_path: Path) -> None:
    # "the Quorvan Stop The Pylons campaign": a firm's name typed against its campaign's; no article writes them
    # as one name, one passage names both
    store = articles_store(tmp_path, pylons=(
        "Firm backs pylon protest\n\nEnergy firm Quorvan has joined the Stop The Pylons campaign against a new "
        "line across the Tarn valley. About 4,000 residents have signed its petition, organisers said.\n\n"
        "The grid operator said the line was needed to carry power from offshore wind farms."))
    ans = Answerer(store).ask("how many people signed the Quorvan Stop The Pylons petition?")
    assert ans.found and "4,000" in ans.text, ans.text
    # a name whose words no passage holds together is still not mentioned
    ans = Answerer(store).ask("how many people signed the Quorvan Save The Valley petition?")
    assert not ans.found and "None of them mentions" in ans.text


def test_who_said_answers_with_what_was_said_not_a_quote_about_the_subject(tmp_path: Path) -> None:
    # a quote about the poster, and a candidate who called it tasteless in reported speech: the question's rarest
    # word says which one answers
    store = articles_store(tmp_path, poster=(
        "Party poster row grows\n\nThe Green Party has been criticised over a poster showing two rival leaders as "
        "flying pigs.\n\nCampaign chief Rob Tall said: \"The Green Party's flying pigs poster makes a serious point about the "
        "sums in the rival party's plans. The poster stays.\"\n\n"
        "Local candidate Ann Fells said the pigs poster was tasteless and offensive. The poster was taken off the party's "
        "website on Monday."), posters=(
        "Poster campaign launched\n\nThe Green Party launched a poster campaign on Monday, its first of the year. "
        "Voters complained the party's posters said little about the flying costs of its plans.\n\n"
        "Party official Dan Reed said: \"The posters explain our plans on pigs, farms and flying.\""), farms=(
        "Pig farmers complain\n\nPig farmers complained that the party's plans would raise costs. A farmers' group "
        "said the plans on flying and farms were unclear."))
    ans = Answerer(store).ask("who complained that the green party's flying pigs poster was tasteless?")
    assert ans.found and "Ann Fells" in ans.text, ans.text
    assert "Rob Tall" not in ans.text


def test_which_noun_is_answered_by_a_kind_of_that_noun(tmp_path: Path) -> None:
    # "which relative": the sentence naming his nephew answers; the ones about the arrests alone do not
    store = articles_store(tmp_path, purge=(
        "General tightens grip\n\nGeneral Omar Dask has ordered a wave of arrests across the capital, the "
        "latest in a purge of officials seen as close to the neighbouring republic.\n\n"
        "Officials close to the republic were arrested in their offices, and more arrests of officials are "
        "expected, diplomats said. The arrests were ordered after a failed trade deal with the republic.\n\n"
        "Among those held was his nephew Ilan Dask, who ran the trade ministry and was close to the republic."),
        other=("Trade talks stall\n\nTrade talks between the two republics stalled on Monday after officials "
               "failed to agree on tariffs."))
    ans = Answerer(store).ask("Which relative did General Dask have arrested for being close to the republic?")
    assert ans.found and "nephew" in ans.text, ans.text


def test_a_nationality_is_not_the_person_who_answers(tmp_path: Path) -> None:
    # "A little-known Russian company has bought …": "Russian" is no person, so the answer is not led by the fullest
    # name holding it ("Russian State Property Fund")
    store = articles_store(tmp_path, sale=(
        "Mystery buyer wins shipyard auction\n\nA little-known Russian company has bought the Kelby shipyard at "
        "auction in Aarhus.\n\nThe sale was run by the Russian State Property Fund, which said the buyer had paid "
        "in full. Shipyard workers said they had never heard of the buyer."))
    ans = Answerer(store).ask("who bought the kelby shipyard?")
    assert ans.found and "little-known Russian company" in ans.text, ans.text
    assert not ans.text.startswith("Russian State Property")


def test_how_long_is_answered_by_the_year_since_which(tmp_path: Path) -> None:
    # "how long had they gone without meeting?": "the first time since 2019" says it; a year alone does not
    store = articles_store(tmp_path, meeting=(
        "Leaders meet in Kelby\n\nThe two presidents, who had long gone without meeting face to face, met in "
        "Kelby on Monday to talk about the river treaty, signed in 1963.\n\nAides said the talks were warm. It "
        "was the first time the two men had met since 2019, when a row over fishing rights broke off their "
        "meetings.\n"))
    ans = Answerer(store).ask("how long had the two presidents gone without meeting face to face?")
    assert ans.found and "since 2019" in ans.text, ans.text


def test_a_summary_point_is_never_someone_s_words_without_who_said_them(store: Store) -> None:
    # the samples' '"If the port wants our trust, it can start by putting the numbers on the table."' matches
    # "port" best, but says nothing a reader can place
    ans = Answerer(store).ask("whats up with the port")
    assert ans.found and ans.text.splitlines()[0].endswith(":"), ans.text
    points = ans.text.splitlines()[1:]
    assert len(points) >= 3
    assert not any(p.startswith(("• \"", "• “")) for p in points), ans.text
    verbatim(store, ans)


def test_the_gist_of_a_topic_is_the_story_whose_headline_or_lead_says_it(tmp_path: Path) -> None:
    # two reports of the tram vote mention fares in passing; one report is about the fares: its gist is the one
    # asked for, though fewer articles hold the words
    from bot.brief import BriefBuilder

    s = articles_store(
        tmp_path,
        vote=("Council backs Riverside tram\n\nThe Aldmere council voted on Monday to build the Riverside tram line. "
              "Critics said tram fares had not been set.\n\nThe line is due to open in 2029.\n"),
        vote2=("Tram line wins council vote\n\nAldmere's council approved the Riverside tram line on Monday after "
               "six years of debate. Tram fares will be decided next year.\n\nConstruction starts in spring.\n"),
        fares=("Tram fares to rise by a fifth\n\nTram fares in Kelby will rise by 20% in April, the transport "
               "authority said on Friday.\n\nA single ticket will cost 2.40 euros, up from 2 euros.\n"))
    BriefBuilder(s).catch_up()
    ans = Answerer(s).ask("gimme the lowdown on tram fares")
    assert ans.found, ans.text
    assert {c.source.rsplit("/", 1)[-1] for c in ans.citations} == {"fares.txt"}, ans.text


def test_how_long_is_found_by_the_length_it_asks_for(store: Store) -> None:
    # "how long will the strike last?" shares only "strike" with "… began a 48-hour strike": the length asked
    # for, about the thing asked about, is enough to answer (not the "40 million euros a day" it would cost)
    ans = Answerer(store).ask("how long will the strike last")
    assert ans.found and "48-hour" in ans.text.split("[1]")[0], ans.text
    verbatim(store, ans)


def test_an_answer_does_not_open_with_words_nobody_is_named_for(store: Store, dense: object) -> None:
    # '"If the port wants our trust, …"' matches "port" best, but a reader cannot tell who said it
    ans = Answerer(store, dense=dense).ask("is the port open")  # type: ignore[arg-type]
    assert ans.found, ans.text
    assert not ans.text.lstrip().startswith(("\"", "“")), ans.text
    verbatim(store, ans)


GADGETS_WEEKLY = ("Laptop tops list of greatest gadgets\n\n"
                  "A laptop has been named the greatest gadget of all time in a list compiled by Gear Weekly "
                  "magazine.\n\n"
                  "The magazine's top 100 gadgets needed moving parts or electronics to be included.\n\n"
                  "The list also holds some oddities: the 1980s toy Tamagotchi comes 86th, and a sweet dispenser "
                  "98th.\n")
GADGETS_DAILY = ("Greatest gadget is a laptop, says magazine\n\n"
                 "Gear Weekly magazine has named a laptop the greatest gadget ever made, ahead of the pocket radio.\n\n"
                 "Readers were asked to send in their own picks for the top 100 gadgets.\n\n"
                 "Among the oddities is the 1990s toy Tamagotchi, at 86th, just ahead of an egg scrambler.\n")


def test_across_outlets_a_word_both_reports_hold_further_down_is_what_is_asked(tmp_path: Path) -> None:
    # both reports lead with the list of gadgets: that is the story's subject, not what is asked; the Tamagotchi,
    # which each mentions once further down, is
    s = articles_store(tmp_path, weekly=GADGETS_WEEKLY, daily=GADGETS_DAILY)
    from bot.brief import BriefBuilder

    BriefBuilder(s).catch_up()  # one story, as `briefbot ingest` assigns it
    ans = Answerer(s).ask("Where do the two write-ups of the greatest gadgets list rank the Tamagotchi, and which "
                          "decade do they say it's from?")
    assert ans.found and "1980s" in ans.text and "1990s" in ans.text, ans.text
    verbatim(s, ans)


def test_the_various_pieces_ask_across_outlets() -> None:
    from bot.question import analyse

    q = analyse("What labels do the various summit pieces pin on the three governments?")
    assert q.kind == "multi" and "pieces" not in q.terms and "various" not in q.terms, q
    q = analyse("How precisely do the different write-ups date the gathering?")
    assert q.kind == "multi" and "write" not in q.terms and "ups" not in q.terms, q


def test_across_outlets_is_answered_from_a_story_of_several_articles(tmp_path: Path) -> None:
    # the article sharing the most words ("New York's Times Square") is alone in its story; "which of the pieces"
    # asks of the several reports of one event, and those lean on the newspaper
    from bot.brief import BriefBuilder

    s = articles_store(
        tmp_path,
        host=("TV host to lead New Year show\n\nThe presenter said he hoped to lead the New Year festivities from "
              "New York's Times Square, a job he has done for 33 years.\n"),
        gazette=("Mayors of Kelby and Aldmere hold harbour summit\n\nThe mayors of Kelby and Aldmere met on Monday "
                 "for a harbour summit in Kelby town hall, agreeing to share the cost of dredging.\n\n"
                 "The New York Times reported that the dredging would take two years.\n"),
        courier=("Kelby and Aldmere mayors agree dredging deal at summit\n\nThe harbour summit of the mayors of Kelby "
                 "and Aldmere took place in early September, and ended with a deal on the cost of dredging.\n\n"
                 "According to The New York Times, shipping firms had pressed for the deal.\n"))
    BriefBuilder(s).catch_up()
    ans = Answerer(s).ask("which of the pieces lean on the new york times and for what")
    assert ans.found and "two years" in ans.text and "pressed" in ans.text, ans.text
    assert "Times Square" not in ans.text, ans.text
    verbatim(s, ans)


def test_the_few_articles_naming_what_is_asked_about_are_read_whole(tmp_path: Path) -> None:
    # "In 2004, all 112,000 tickets for the public sold out in 24 hours." is in a paragraph of the Glastonbury
    # article that never names the festival and shares no word with the question: among BBC's entertainment
    # articles, words alone do not retrieve it; the five articles naming Glastonbury are read whole
    from bot.conversation import read
    from bot.selection import Stages

    s = open_store(f"sqlite:///{tmp_path}/e.db")
    Ingester(s).ingest([str(need(BBC) / "entertainment")])
    answerer = Answerer(s)
    question = "How long did it take for last year's Glastonbury passes to run out?"
    answerer.retriever.refresh()
    reading = read(question, [])
    q = answerer.analyse(reading, s.count_documents())
    hits, _ = answerer.selector.candidates(q, reading, None, None, st=Stages())
    texts = [s.document_text(h.doc_id)[h.start:h.end] for h in hits]
    assert any("sold out in 24 hours" in t for t in texts), len(texts)


def test_a_figure_from_another_article_does_not_answer_for_the_best_one(tmp_path: Path) -> None:
    # the trust's bill is two paragraphs down its own article; the ferry firm's bill, in another article, is no
    # answer about the trust's
    s = articles_store(
        tmp_path,
        trust=("Kelby Arts Trust accuses officials\n\n"
               "The Kelby Arts Trust, funded by the harbour millionaire Ana Sorel, has accused Kelby officials of "
               "trying to close its gallery.\n\n"
               "\"This is an attempt to force the trust out of the old customs house,\" the trust said.\n\n"
               "A demand for unpaid rates and fines of £60,000 is politically motivated, the trust claimed.\n"),
        ferry=("Ferry firm hit with bill\n\n"
               "The Kelby ferry firm was hit with a bill of more than £2m in back rates by Kelby officials last "
               "year.\n"))
    ans = Answerer(s).ask("What's the size of the bill Kelby officials handed Ana Sorel's arts trust?")
    assert ans.found and "£60,000" in ans.text, ans.text
    verbatim(s, ans)


def test_who_said_words_no_sentence_attributes_says_so_and_whom_the_passage_is_about(tmp_path: Path) -> None:
    # the quotation stands alone after a question about him: the answer must not pass it off as attributed, nor
    # leave the reader with no one
    s = article_store(tmp_path, (
        "The strategist who came to Kelby\n\n"
        "New Yorker Ivo Brandt has advised three mayors of Kelby. On this subject, Brandt appears almost "
        "evangelical.\n\n"
        "But what is it about the harbour party that attracts him? \"I think the greatest threat to the harbour "
        "is not the sea but paperwork\". A great soundbite, but a surprise from a man who loves rules.\n"))
    ans = Answerer(s).ask("Who reckons the greatest threat to the harbour is 'not the sea but paperwork'?")
    assert ans.found and "Ivo Brandt" in ans.text and "does not name the speaker" in ans.text, ans.text
    assert "Yorker Ivo" not in ans.text, ans.text
    verbatim(s, ans)


def test_a_capitalised_dictionary_word_no_article_uses_is_no_missing_name(tmp_path: Path) -> None:
    # "Yank" is in the dictionary (an American): no article using it is no sign the question is about someone
    # the articles never mention; a surname no dictionary lists still is
    s = article_store(tmp_path, (
        "Teenager Kell beaten on senior debut\n\n"
        "Junior world number one Ana Kell lost her first senior tour match to fellow American Lisa Moor on "
        "Tuesday, 6-3 6-4.\n"))
    ans = Answerer(s).ask("Which fellow Yank ended the teenage junior world number one's maiden senior-tour outing?")
    assert ans.found and "Lisa Moor" in ans.text, ans.text
    missing = Answerer(s).ask("What did Scholz say about the teenager's debut?")
    assert not missing.found and "Scholz" in missing.text, missing.text


def test_a_lower_case_name_after_a_role_is_no_typo_of_another_name(tmp_path: Path) -> None:
    # "nato chief mark rutte": in a name's place, "rutte" is someone the articles never name, not the runner Rutto
    s = article_store(tmp_path, (
        "Rutto wins Kelby marathon\n\n"
        "Kenya's Evans Rutto won the Kelby marathon on Sunday, and the NATO summit leaders watched the finish. "
        "The old bridge showed rust after the rain.\n"))
    ans = Answerer(s).ask("what did nato chief mark rutte say about the summit leaders")
    assert not ans.found and "rutte" in ans.text.casefold() and "rutto" not in ans.text.casefold(), ans.text
    typo = Answerer(s).ask("who won the kelby marathn")
    assert typo.found and "Evans Rutto" in typo.text, typo.text


def test_a_lower_case_name_with_an_english_ending_is_still_a_name_none_mention(tmp_path: Path) -> None:
    # "hedgehunter" ends like an English word ("-er") but is none, nor a derivation of one: a horse the articles
    # never name; "shushers" and "xmas" are English (a derivation of "shush", the dictionary's "Xmas")
    s = article_store(tmp_path, (
        "Kelby Cup goes to Harbour Lad\n\n"
        "Harbour Lad won the Kelby Cup steeplechase on Saturday, ahead of the favourite Quay Runner.\n"))
    ans = Answerer(s).ask("who won the kelby cup, was it hedgehunter?")
    assert not ans.found and "hedgehunter" in ans.text.casefold(), ans.text
    for question in ("who won the kelby cup b4 xmas", "did the shushers win the kelby cup"):
        assert "None of them mentions" not in Answerer(s).ask(question).text, question


CABLES = (
    "Kelby bridge to shut for a year\n\n"
    "The Kelby suspension bridge will shut for a year from March, the county council said on Tuesday.\n\n"
    "A fun run is held across it every summer. "
    "Inspectors found corroded cables and said the cables of the bridge were unsafe. "
    "Local artists have painted it from the shore for decades.\n\n"
    "Replacing the corroded cables will cost the council £30m. "
    "The council said the corroded cables were first reported by inspectors in 2019.\n")


def test_a_one_article_gist_prefers_what_the_article_keeps_coming_back_to(tmp_path: Path) -> None:
    # equal matches with the question: the sentence on the cables (which the article comes back to) outranks the
    # one on the fun run (said once), though the fun run comes first
    store = article_store(tmp_path, CABLES)
    doc = store.documents_by_id([1])[1]
    spans = [Span(1, a, b, doc.text[a:b], 1.0, doc.location, doc.title, None, None)
             for a, b in sentences_in(doc.text, 0, len(doc.text))]
    ranked = [s.text for s in Selector(store, Retriever(store))._salient(spans)]
    fun_run = next(i for i, t in enumerate(ranked) if "fun run" in t)
    cables = next(i for i, t in enumerate(ranked) if t.startswith("Inspectors"))
    artists = next(i for i, t in enumerate(ranked) if "artists" in t)
    assert cables < fun_run and cables < artists, ranked


def test_a_surname_after_a_known_given_name_is_a_name_even_when_the_dictionary_lists_it(tmp_path: Path) -> None:
    # "nick clegg": the store knows a Nick (Nick Ross), and a word no article uses right after that given name is
    # a surname the articles never mention, though WordNet lists "clegg" (a horsefly); Nick Ross still answers
    s = article_store(tmp_path, (
        "Students face higher tuition fees\n\n"
        "Tuition fees will rise next year, the education department said. "
        '"Fees put students off," said Nick Ross, who leads the students\' union.\n'))
    ans = Answerer(s).ask("what did nick clegg pledge on tuition fees")
    assert not ans.found and "clegg" in ans.text.casefold(), ans.text
    known = Answerer(s).ask("what did nick ross say about tuition fees")
    assert known.found and "put students off" in known.text, known.text


def test_an_irregular_verb_in_the_question_meets_its_past_tense_in_the_article(tmp_path: Path) -> None:
    # "what did the museum buy?" where the article only says "bought" (the stemmer leaves the two apart;
    # WordNet's irregular forms join them): the purchase answers, not the lead about the museum
    s = article_store(tmp_path, (
        "Kelby museum opens a new wing\n\n"
        "The Kelby museum opened a new wing on Friday, with a cafe and a shop for children.\n\n"
        "Last year the museum bought a Turner seascape for £3m from a private collector in Aldmere.\n\n"
        "The museum's new wing cost £12m and took two years to build.\n"))
    ans = Answerer(s).ask("what did the kelby museum buy?")
    assert ans.found and "bought a Turner" in ans.citations[0].text, ans.text


def test_why_someone_is_out_is_the_sentence_about_them_that_gives_the_cause(tmp_path: Path) -> None:
    # the lead restates the withdrawals; the cause for Tarrant is two sentences on, where "he" stands for him
    # (named in the sentence before) and "pulled out with a bruised knee" gives the cause of his absence
    s = article_store(tmp_path, (
        "Kelby defence hit by withdrawals\n\n"
        "Kelby's defensive worries have deepened following the withdrawal of Ivo Brandt from the squad to face "
        "Aldmere.\n\n"
        "Captain Jon Tarrant and Luc Moreau are also out of the squad, leaving coach Ana Lind with a problem for "
        "Saturday's match. Injured Piet Lanz and Rui Sato were both left out of the Kelby squad, and Tom Gale has "
        "already pulled out. Tarrant would have been a certain starter in the absence of Moreau. "
        "But now he has pulled out with a bruised knee and is likely to be replaced by Emil Dorn.\n"))
    ans = Answerer(s).ask("why has jon tarrant pulled out of the kelby squad")
    assert ans.found and "bruised knee" in ans.text, ans.text


def test_the_sentence_before_is_context_for_what_a_sentence_counts(tmp_path: Path) -> None:
    # "how many aldmere trams did kelby sell?": of two sentences alike in their own words, the one after the
    # sentence naming the trams ("… sold more than 100 of the iconic models") answers; the one after the buses
    # does not, though it comes first
    from bot.question import analyse

    s = article_store(tmp_path, (
        "Kelby Motors has record year\n\n"
        "Bus sales fell sharply on the continent. Kelby sold more than 40 of them to city councils. "
        "Sales of its Aldmere trams rose sharply on the continent. Kelby sold more than 100 of them to city "
        "councils.\n"))
    q = analyse("how many aldmere trams did kelby sell")
    r = Retriever(s)
    spans = r.sentences(q, r.passages(q, limit=5))
    ranked = [x.text for x in spans if x.text.startswith("Kelby sold")]
    assert "100" in ranked[0], ranked



def test_across_outlets_each_article_gives_the_figure_asked_for() -> None:
    # "how long …? the reports don't agree": each report's point is its sentence giving a length of time, when one
    # scores close to its best match on words ("released limited data about the Cell chip")
    from bot.question import analyse
    from bot.selection import _typed_first

    def span(doc: int, score: float, text: str) -> Span:
        return Span(doc, 0, len(text), text, score, f"{doc}.txt", "", None, None)

    q = analyse("how long have sony, ibm n toshiba been working on the cell chip? the stories dont seem to agree")
    three = span(1, 2.3, "Sony, IBM and Toshiba, who have been working on the Cell chip for three years, unveiled it.")
    data = span(2, 1.7, "Sony, IBM and Toshiba have released limited data about the so-called Cell chip.")
    other = span(1, 1.5, "The Cell processor will run ten times faster than current chips.")
    since = span(2, 1.4, "The three firms have been working on the chip since 2001.")
    far = span(2, 0.5, "Staff have been on it for four years.")
    assert _typed_first(q, [three, data, other, since, far]) == [three, since, data, other, far]
    # a sentence giving the figure far below its article's best is no answer for that article
    assert _typed_first(q, [three, data, far]) == [three, data, far]
    assert _typed_first(analyse("why did they build the chip? the reports differ"), [three, data, since]) == [
        three, data, since]


BLOGGER_CAMPAIGN = ("Bloggers rally for jailed writer\n\nTomas Vell and Ana Brek are both in prison in Kelbia.\n\n"
                    "Bloggers around the world are asking readers to write to the Kelbian embassy.\n\n"
                    "Kelbia jailed the blogger Tomas Vell after a closed trial, his family said.\n\n"
                    "The campaign group said it would keep the pressure on the government.\n")
BLOGGER_SENTENCE = ("Kelbian blogger jailed\n\nKelbia has jailed a blogger for 14 years on charges of spying.\n\n"
                    "Kelbia arrested the blogger Tomas Vell last month after he used his blog to criticise the jailing "
                    "of other writers.\n\n"
                    "Mr Vell was sentenced one day after an online campaign highlighted his case in a day of action.\n")


def test_a_length_of_time_in_another_shown_article_answers_how_long(tmp_path: Path) -> None:
    # the best match says he is in prison; the other article the answer shows gives the sentence, in a sentence
    # nearly as close to the question ("one day after" places the sentencing, it measures nothing)
    s = articles_store(tmp_path, campaign=BLOGGER_CAMPAIGN, sentence=BLOGGER_SENTENCE)
    ans = Answerer(s).ask("how long did kelbia jail the blogger tomas vell for")
    # the figure right after the best match (the answer may be cut for length after that)
    assert ans.found and any("14 years" in c.text for c in ans.citations[:2]), ans.text
    verbatim(s, ans)


STUDIO = ("Famous studio to shut its doors\n\nThe Kelby music studio where the singer Ana Vell recorded her last album "
          "is to close next month.\n\n"
          "The Echo Room, which opened 37 years ago, has played host to some of the biggest stars in music.\n\n"
          "Its owners said the site had been sold to a property developer.\n")


def test_a_thing_asked_for_by_its_kind_is_answered_with_its_name(tmp_path: Path) -> None:
    # the best match restates the question; the name is in the next sentence
    s = article_store(tmp_path, STUDIO)
    ans = Answerer(s).ask("which kelby studio is closing, the one where ana vell recorded her last album")
    assert ans.found and "The Echo Room" in ans.text, ans.text
    verbatim(s, ans)
