"""Speaker attribution, one construction a test: invented sentences in US and British news styles."""

from __future__ import annotations

from bot.domain import Quote
from bot.quotes import extract_quotes
from bot.quotes.names import valid_speaker


def speaker(text: str, words: str) -> str | None:
    """The speaker of the one quotation containing words."""
    hits = [q for q in extract_quotes(text) if words in q.text]
    assert len(hits) == 1, [q.text for q in extract_quotes(text)]
    return hits[0].speaker


# -- titles written with a full stop, initials, party asides


def test_abbreviated_titles_do_not_split_the_name() -> None:
    t = "“The museum will reopen,” Ms. Alvarez said. “We just need the roof first,” said Sen. Ann Lee."
    assert speaker(t, "museum") == "Ms. Alvarez"
    assert speaker(t, "roof") == "Ann Lee"
    assert speaker("“No deal,” the Rev. Paul Ames told the crowd.", "No deal") == "Paul Ames"


def test_initials_and_party_asides() -> None:
    t = "“Warrants are not suggestions,” committee Chairman Rep. Dan Holt (R-Iowa) said after the hearing."
    assert speaker(t, "Warrants") == "Dan Holt"
    t = "“It was a place both sides found common ground,” said John D. Ferris, a former chief of staff."
    assert speaker(t, "common ground") == "John D. Ferris"


def test_words_before_a_name_are_not_part_of_it() -> None:
    # a plural group word, a sentence adverb and a hyphenated description lead the run, not the name
    t = ("Top-seeded Americans Tom Reyes and Carl Dunn survived minor scares on Tuesday. “I am through,” said Tom"
         " Reyes. Again Dunn was calm. “It was fine,” Dunn added. “We fight on,” said Hans Ekberg.")
    assert speaker(t, "I am through") == "Tom Reyes"
    assert speaker(t, "It was fine") in {"Carl Dunn", "Dunn"}
    assert speaker(t, "We fight on") == "Hans Ekberg"  # a first name that ends like a plural stays
    t = "“We will appeal,” said Fifteen-year-old Lily Park."
    assert speaker(t, "appeal") == "Lily Park"


def test_a_description_stands_for_the_person_named_before_it() -> None:
    # "the Dane", "the 28-year-old": someone an earlier sentence named, not the chairman named in its own sentence
    t = ("World number one Lena Holm has criticised the Kelby Open over prize money.\n\n"
         "Reacting to a comment by Kelby Club chairman Tom Pike, the Dane said: \"It is highly insulting.\"\n\n"
         "The 28-year-old added: \"We are not going away.\"\n\n"
         "Carl Dunn beat Pike's son in the final.\n\n"
         "The Scot, who won the title last year, said: \"I am happy.\"\n\n"
         "The Guardian said: \"The club must pay.\"")
    assert speaker(t, "insulting") == "Lena Holm"
    assert speaker(t, "not going away") == "Lena Holm"
    assert speaker(t, "I am happy") == "Carl Dunn"
    assert speaker(t, "club must pay") != "Carl Dunn"  # a paper named with an ordinary word is no description


def test_a_description_of_several_words_stands_for_the_person_named_before_it() -> None:
    t = ("Ada Crane is suing the network over its quiz show. She said it made her ill. "
         "The legal assistant said the network was \"sending the wrong message to viewers\".\n\n"
         "Tom Pike won the final. \"It was great play,\" said the former world champion.\n\n"
         "Carl Dunn met the Reverend Ian Moss. \"We pray,\" said the Reverend Ian Moss.")
    assert speaker(t, "wrong message") == "Ada Crane"
    assert speaker(t, "great play") == "Tom Pike"
    assert speaker(t, "We pray") == "Ian Moss"  # a title and a name is the name, not a description


def test_a_description_never_stands_for_an_event_or_a_name_in_passing() -> None:
    # the article's only sentences before the quote name an event ("a Grand Slam event", "the Kelby Open") and a
    # champion of 1978 after "since": none of them said it
    t = ("The 10th seed equalled her best performance at a Grand Slam event at the Kelby Open. She is the first "
         "local player to reach the last eight since Chris Ode in 1978.\n\n\"Bring it on,\" said the 23-year-old.")
    assert speaker(t, "Bring it on") is None
    t = ("Dana Molt equalled her best performance at a Grand Slam event. She is the first local player to reach "
         "the last eight since Chris Ode in 1978.\n\n\"Bring it on,\" said the 23-year-old.")
    assert speaker(t, "Bring it on") == "Dana Molt"


def test_mr_with_stop_after_the_quote_is_the_person_not_the_title() -> None:
    t = (
        "Senator Lamar Hollis of Tennessee backed a narrower bill.\n\n"
        "“The White House wanted every vote, and they got none,” Mr. Hollis said in an interview."
    )
    assert speaker(t, "every vote") == "Lamar Hollis"


# -- validation: never a title, role word or stray capitalised token


def test_valid_speaker() -> None:
    for bad in (
        "Mr",
        "Sen",
        "Rep",
        "Rev",
        "spokeswoman",
        "campaign",
        "Editor",
        "United",
        "president’s",
        "ALL CAPS HEADLINE HERE",
    ):
        assert not valid_speaker(bad), bad
    for good in ("Ann Lee", "Ms. Alvarez", "Reuters", "Japanese government", "NATO"):
        assert valid_speaker(good), good


def test_unnamed_role_left_unattributed_rather_than_guessed() -> None:
    assert speaker("“We are broke,” said ANOTHER BAD WEEK FOR THE CLUB.", "broke") is None
    assert speaker("“Prices will rise,” a spokeswoman said.", "Prices") is None


def test_the_newspaper_resolves_to_the_title_named_before() -> None:
    t = "The Daily Ledger ran the story on Monday. “Fewer donors gave this year,” the newspaper wrote."
    assert speaker(t, "Fewer donors") == "Daily Ledger"


def test_the_role_resolves_to_the_person_given_it() -> None:
    t = "Prime Minister Jane Holt visited the plant. “We will keep it open,” the Prime Minister said."
    assert speaker(t, "keep it open") == "Jane Holt"


# -- appositives and affiliations


def test_several_appositives_between_name_and_verb() -> None:
    t = (
        "“It’s an overreach, in our view, of the county’s powers,” Glen Avery, the attorney general of Idaho, "
        "one of the states in the suit, said at an event this month."
    )
    assert speaker(t, "overreach") == "Glen Avery"
    t = (
        "Rita Vance, president of the Northern Nurses Union, which represents hospital staff, said she hopes "
        "the march shows that “nurses are standing up for patients.”"
    )
    assert speaker(t, "standing up") == "Rita Vance"


def test_affiliation_after_the_name() -> None:
    assert speaker("“It was the least bad option,” Mr. Morgan of the Harbour Trust said.", "least bad") == "Mr. Morgan"


def test_role_words_before_the_name_after_the_quote() -> None:
    t = "Ortega “is the only candidate with the temperament for the job,” retired Navy admiral Paul Brandt said."
    assert speaker(t, "temperament") == "Paul Brandt"


# -- verbs and clause shapes


def test_inverted_said() -> None:
    assert speaker("Said Whitfield: “Nobody in this room believes that.”", "Nobody") == "Whitfield"


def test_coordinated_second_verb() -> None:
    t = "Mayor Jennifer Oakes said Friday that she favours the release but said “the real question is when.”"
    assert speaker(t, "real question") == "Jennifer Oakes"


def test_question_mark_closing_the_quote_then_the_verb() -> None:
    t = "“Is there anyone here who has read the plan?” Carver asked. “I doubt it.”"
    assert speaker(t, "read the plan") == "Carver"
    assert speaker(t, "doubt") == "Carver"


def test_participles_tweeting_and_referring() -> None:
    t = "Dana Whitfield, a former party chairman, mocked the speech on Monday, tweeting, “Two hours and no plan?”"
    assert speaker(t, "Two hours") == "Dana Whitfield"
    t = "“Whenever you quote that figure,” Tester said, referring to the survey, “you prove our point.”"
    assert speaker(t, "prove our point") == "Tester"


def test_plural_noun_is_not_a_cue() -> None:
    t = "Maria Ortega says Greg Hollis’s flurry of late-night posts was “reckless, even for him.”"
    assert speaker(t, "reckless") == "Maria Ortega"


def test_verb_is_not_a_role_noun() -> None:
    t = (
        "During a campaign speech earlier in the day, Hollis attacked Ortiz for her record on housing, "
        "saying, “She's careless and very unreliable.”"
    )
    assert speaker(t, "careless") == "Hollis"


# -- pronouns and gender


def test_pronoun_after_named_subject_with_a_possessive_her_in_between() -> None:
    t = (
        "Pamela Ortiz chaired the session. Greg Hollis, her Labour rival, criticised the budget and said he "
        "thought the cuts were a “very, very big mistake” for the town."
    )
    assert speaker(t, "big mistake") == "Greg Hollis"


def test_she_said_after_an_object_him() -> None:
    t = "Councillor Ruth Ellison scolded him: “The evidence is overwhelmingly against you on this,” she said."
    assert speaker(t, "evidence") == "Ruth Ellison"


# -- paragraphs: introductions, multi-paragraph quotations, transcripts, sign-offs


def test_colon_introduction_carries_into_next_paragraphs() -> None:
    t = (
        "The Daily Ledger reports:\n\n"
        '"Fewer than a third of the donors gave more than $500, a sharp fall from four years ago.\n\n'
        '"Without the online network, the campaign has had to lean on large fund-raisers."\n\n'
        "Oakes told the crowd:\n\n"
        "“We are not going anywhere. This town is our home.”"
    )
    assert speaker(t, "third of the donors") == "Daily Ledger"
    assert speaker(t, "online network") == "Daily Ledger"
    assert speaker(t, "not going anywhere") == "Oakes"


def test_transcript_labels() -> None:
    t = (
        "Ruth Ellison spoke to Dan Moss on Sunday.\n\n"
        '"MOSS: Will you stand again?\n\n'
        '"ELLISON: Yes. I have said so many times and I will say it again.\n\n'
        '"It is the right thing to do for the town."'
    )
    assert speaker(t, "stand again") == "Dan Moss"
    assert speaker(t, "said so many times") == "Ruth Ellison"
    assert speaker(t, "right thing") == "Ruth Ellison"


def test_dash_sign_offs_each_paragraph_its_own() -> None:
    t = (
        "“We have waited too long for this bridge. It should have opened in March.” ― Maria K. Lopez Vega.\n"
        "“Nobody asked us.” ― Tom Reed\n"
        "“I hope they listen to us.” ― Anna B. Cole, a nurse from Leeds\n"
    )
    assert speaker(t, "bridge") == "Maria K. Lopez Vega"
    assert speaker(t, "Nobody asked") == "Tom Reed"
    q = next(q for q in extract_quotes(t) if "listen" in q.text)
    assert (q.speaker, q.description) == ("Anna B. Cole", "a nurse from Leeds")


# -- British style


def test_bbc_style_mr_without_stop_and_told_programme() -> None:
    t = (
        "Chancellor Gordon Pike said the plan would be costed. “We will not borrow to fund it,” Mr Pike told "
        "Radio 4's Today programme. “Every penny is accounted for.”"
    )
    assert speaker(t, "borrow") == "Gordon Pike"
    assert speaker(t, "Every penny") == "Gordon Pike"


def test_bbc_style_said_after_role_and_name() -> None:
    t = '"The figures are disappointing," said Helen Marsh, chief economist at the Retail Consortium.'
    q = next(iter(extract_quotes(t)))
    assert (q.speaker, q.description) == ("Helen Marsh", "chief economist at the Retail Consortium")


# -- single marks ('…', ‘…’): British style and headlines


def test_single_marks_are_quotations_and_apostrophes_are_not() -> None:
    t = ("'Harbour deal near' say dockers\n\n"
         "'We will not back down,' said union leader Ann Cole. The workers' union didn't agree with the port's plan, "
         "and fans of the '90s will remember ‘the long strike of the winter’, she added.")
    quotes = {q.text.strip(" ,"): q for q in extract_quotes(t)}
    assert quotes["We will not back down"].speaker == "Ann Cole"
    assert "the long strike of the winter" in quotes
    assert quotes["Harbour deal near"].speaker is None  # a headline's words are said in the body, not here
    # no quotation made of apostrophes: workers', didn't, port's, '90s
    assert not any(w in q for q in quotes for w in ("union didn", "port", "90s"))


def test_a_word_or_two_in_single_marks_is_a_scare_quote() -> None:
    t = "Mr Brown said Britain should be 'proud' of its past and its 'special relationship' with Washington."
    assert [q.speaker for q in extract_quotes(t)] == [None, None]


def test_single_marks_nested_in_a_double_quotation_stay_inside_it() -> None:
    t = "“They called it 'a strike against the future', and we never agreed,” said Marta Quinlan."
    qs = extract_quotes(t)
    assert len(qs) == 1 and qs[0].speaker == "Marta Quinlan" and "'a strike against the future'" in qs[0].text


# -- a role instead of a name: whoever the article gave that role, before the quotation


def quote_of(text: str, words: str) -> Quote:
    hits = [q for q in extract_quotes(text) if words in q.text]
    assert len(hits) == 1, [q.text for q in extract_quotes(text)]
    return hits[0]


def test_the_role_said_is_the_person_the_article_gave_that_role() -> None:
    q = quote_of("Senator Ann Lee spoke first. Senator Bob Marr spoke next. “We will not fold,” the senator said.",
                 "fold")
    assert (q.speaker, q.role, q.cue) == ("Bob Marr", "Senator", "said")  # the one named last
    q = quote_of("Mayor Tom Reyes opened the session. “The budget is balanced,” the Mayor said.", "budget")
    assert (q.speaker, q.role) == ("Tom Reyes", "Mayor")
    q = quote_of("Prime Minister Anna Holt visited the docks. “This has to end,” the Prime Minister said.", "end")
    assert (q.speaker, q.role) == ("Anna Holt", "Prime Minister")
    # a role given only after the quotation names no one yet
    assert speaker("“We will not fold,” the senator said. Senator Ann Lee spoke later.", "fold") is None
    # nor does a role nobody in the article holds
    assert speaker("Senator Ann Lee spoke first. “The budget is balanced,” the Mayor said.", "budget") is None


# -- a title's full stop is not a sentence's end


def test_dr_and_gov_do_not_end_the_sentence() -> None:
    t = "“The talks failed,” said Gov. Tom Banks. “Nobody was hurt,” said Dr. Ruth Oduya of the clinic."
    assert speaker(t, "talks failed") == "Tom Banks"
    assert speaker(t, "Nobody was hurt") == "Ruth Oduya"
    t = "Dr. Ruth Oduya, a surgeon at the clinic, said on Monday that “nobody was hurt” in the crash."
    q = quote_of(t, "nobody")
    assert (q.speaker, q.description, q.kind) == ("Ruth Oduya", "a surgeon at the clinic", "partial")
    # a pronoun looks back past "Gov." to the sentence that named her
    t = "The clinic was busy. Gov. Lisa Marsh walked in with the mayor's aide. “We will help,” she said."
    assert speaker(t, "help") == "Lisa Marsh"
    # and a sentence that does end in a full stop still ends: the next quotation is not run into it
    t = "The port is shut. “We are ready,” said Henrik Vale. Ships waited outside."
    assert speaker(t, "ready") == "Henrik Vale"


# -- "he" and "she": the person the sentences before are about, of that gender, never an institution


def test_she_after_a_spokeswoman_is_the_spokeswoman() -> None:
    before = "Henrik Vale, the port director, spoke first. "
    t = before + "A Conservative spokeswoman said the party kept the rules. She said: “We apply the rules in law.”"
    assert speaker(t, "apply") == "Conservative spokeswoman"
    t = before + "A Labour spokesman said the party kept the rules. He said: “We apply the rules in law.”"
    assert speaker(t, "apply") == "Labour spokesman"
    # a pronoun of the other gender skips them, back to the person named before
    t = "Marta Quinlan, the union leader, spoke first. A Labour spokesman said the party kept the rules. She said: " \
        "“We apply the rules in law.”"
    assert speaker(t, "apply") == "Marta Quinlan"
    t = before + "A Conservative spokeswoman said the party kept the rules. He said: “We apply the rules in law.”"
    assert speaker(t, "apply") == "Henrik Vale"


def test_he_is_never_a_ministry() -> None:
    t = "Henrik Vale, the port director, spoke first. The ministry said on Monday it would act on the report soon. " \
        "“We will act on this report,” he said."
    assert speaker(t, "act on") == "Henrik Vale"


# -- a partial quotation inside a sentence that ends ", said X." / ", X said."


def test_a_sentence_ending_said_x_gives_its_partial_quotation_to_x() -> None:
    t = "The gathering was a “wartime” signal of solidarity among allies, said the New York Times."
    q = quote_of(t, "wartime")
    assert (q.speaker, q.cue, q.kind) == ("New York Times", "said", "partial")
    t = "Charles Kennedy spoke in Leeds. The election would be a three-party race, as the Conservative party " \
        "“fades away” as a force, he said."
    assert speaker(t, "fades away") == "Charles Kennedy"


def test_a_question_someone_replied_to_is_not_theirs() -> None:
    assert speaker("“Will you resign?” Mr Milburn replied that he would not.", "resign") is None
    assert speaker("“Will you resign?” Mr Milburn asked the minister.", "resign") == "Mr Milburn"


def test_a_quotation_after_but_and_a_new_subject_is_not_the_first_clauses() -> None:
    assert speaker("Ministers say the treaty is sound, but critics “are not convinced at all” by it.", "convinced") is None
    assert speaker("Ministers said the plan was sound but others “have their doubts”.", "doubts") is None
    assert speaker("Ann Lee said the plan was sound but “has its doubters” in the party.", "doubters") == "Ann Lee"


def test_role_words_before_a_name_are_its_role() -> None:
    q = quote_of("“We will not go back,” retired Navy admiral Paul Brandt said.", "go back")
    assert (q.speaker, q.role) == ("Paul Brandt", "retired Navy admiral")


def test_role_words_after_said_then_the_name_that_ends_the_clause() -> None:
    # "said Florida state archivist Jody Norman": a place opening the role is not the speaker
    q = quote_of("“He was so clean cut,” said Florida state archivist Jody Norman.", "clean cut")
    assert (q.speaker, q.role) == ("Jody Norman", "Florida state archivist")
    q = quote_of("“It is good,” said former US state department official John Smith.", "is good")
    assert (q.speaker, q.role) == ("John Smith", "former US state department official")
    # the name and then whom he writes for: the name is the speaker, the employer is not
    assert speaker("“The impact is small,” wrote Cameron Easley for Morning Consult.", "impact") != "Morning Consult"


def test_a_name_after_a_dash_and_before_the_verb_is_the_speaker() -> None:
    assert speaker("“We will not go back” — Ana Ruiz said later.", "go back") == "Ana Ruiz"


def test_a_sentence_cut_off_after_a_name_attributes_nothing() -> None:
    assert speaker("“We won,” Ann Lee of", "won") is None  # scraped text often stops mid-sentence
    assert speaker("“We are ready,” Mr. Morgan of the Harbour Trust", "ready") is None


def test_a_quotation_after_a_sentence_with_a_reporting_verb_is_the_sayers() -> None:
    assert speaker("Ian Harris said the deal was good. “It is a good day for the town.”", "good day") == "Ian Harris"
    # "hailed" introduces no words of his: the next quotation could be anyone's
    assert speaker("Ian Harris hailed the deal. “It is a good day for the town.”", "good day") is None


def test_a_place_named_between_two_quotations_does_not_break_the_chain() -> None:
    t = "Vale said: “We are ready.” Ships waited in Aldmere harbour. “We will talk.”"
    assert speaker(t, "talk") == "Vale"


def test_a_named_persons_words_are_not_given_to_the_relative_that_introduces_him() -> None:
    t = ("Amanda's uncle, Lewis Champion, told the BBC website Ford did not deserve any credit for his plea, saying: "
         "“Nothing at all is worth taking five years off a murder sentence.”")
    assert speaker(t, "Nothing at all") == "Lewis Champion"


def test_anonymous_sources_are_not_a_firm_named_sources() -> None:
    t = "Open Sources, a data firm, published the list on Monday. “The figures are wrong,” sources said."
    assert speaker(t, "figures") is None


def test_she_is_the_subject_of_the_sentence_before_even_five_sentences_back() -> None:
    t = ("Marta Quinlan leads the union. Henrik Vale met her on Sunday. Quinlan spoke on Monday. “We will stay out,” "
         "she said.")
    assert speaker(t, "stay out") == "Marta Quinlan"
    # the sentence naming her starts more than 200 characters before "she": the look-back reaches it whole
    t = ("Marta Quinlan, the general secretary of the dockers' union, which has led the strike at Aldmere since the "
         "spring, spoke to the crowd outside the gates for an hour on Monday. Ships waited. Cranes stood still. "
         "Trucks queued. “We will stay out,” she said.")
    assert speaker(t, "stay out") == "Marta Quinlan"


def test_a_number_in_the_role_words_does_not_hide_the_name() -> None:
    # "9/11 widow": the slash inside a number is part of the description, not the end of the clause
    assert speaker("“They are 100 percent wrong,” said 9/11 widow Terry Strada.", "percent wrong") == "Terry Strada"
    assert speaker("“They are wrong,” 9/11 widow Terry Strada said.", "are wrong") == "Terry Strada"


def test_a_possessives_state_is_no_reporting_verb() -> None:
    # "Kim's mental state is …": the noun, not "state" as in "they state"; Park said it
    t = "President Park Geun-hye said Kim's mental state is “spiraling out of control.”"
    assert speaker(t, "spiraling") == "Park Geun-hye"
    t = "Economy minister Herman Gold told the newspaper that direct state involvement in oil was “unjustified”."
    assert speaker(t, "unjustified") == "Herman Gold"


def test_who_after_a_comma_is_the_name_before_it() -> None:
    # "…, who accused …": the person the relative clause hangs on says it
    t = "His claims were denied by Foreign Secretary Jo Strand, who accused the Tories of “running scared” of debate."
    assert speaker(t, "running scared") == "Jo Strand"
    t = "The view is shared by Rooney, who believes “if we can get past Milan, we can win it”."
    assert speaker(t, "past Milan") == "Rooney"


def test_a_relative_clause_about_anybody_is_not_the_speakers() -> None:
    # "saying anybody who complains …": the verb of the relative clause names no speaker; the sentence's subject
    # said it
    t = ("The nominee complained about his microphone. Rival Hillary Clinton had mocked the complaint, saying "
         "anybody who complains about a microphone “is not having a good night.”")
    assert speaker(t, "good night") == "Hillary Clinton"
