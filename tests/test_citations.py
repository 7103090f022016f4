"""Verification as the last gate before a user reads an answer: each rule on its own, with everything else right.

Every answer here would pass but for the one thing the test is about, so a rule that stops working is noticed
(a check that only ever fires together with another one can be deleted without any test failing).
"""

from __future__ import annotations

from bot.citations import leaks_secret, misattributed, verify
from bot.domain import Citation, Document

GAZETTE = Document(
    id=1, location="corpus/harbour-gazette.txt", title="Dockers walk out at Aldmere", content_hash="g",
    url="https://gazette.example/aldmere-strike", outlet="Aldmere Gazette",
    text="Dockers walked out at Aldmere on Monday. “We will stay out until the port talks to us,” said Marta "
         "Quinlan. The port director, Henrik Vale, said 14 vessels were waiting. Details: harbour.example/strike",
)
COURIER = Document(
    id=2, location="corpus/harbour-courier.txt", title="Port says strike costs millions", content_hash="c",
    url="https://courier.example/port", outlet="The Courier",
    text="The port said the strike was costing millions a day. “Nobody is against new cranes,” Vale told reporters.",
)
DOCS = {GAZETTE.id: GAZETTE, COURIER.id: COURIER}


def cite(n: int, doc: Document, words: str) -> Citation:
    """A citation of the span of `doc` that holds `words`."""
    i = doc.text.index(words)
    return Citation(n=n, source=doc.location, text=words, doc_id=doc.id, start=i, end=i + len(words), title=doc.title,
                    url=doc.url, outlet=doc.outlet)


QUINLAN = cite(1, GAZETTE, "“We will stay out until the port talks to us,” said Marta Quinlan.")
CRANES = cite(2, COURIER, "“Nobody is against new cranes,” Vale told reporters.")


def problems(text: str, citations: list[Citation], docs: dict[int, Document] = DOCS, **kw: object) -> list[str]:
    return verify(text, citations, docs, **kw).problems  # type: ignore[arg-type]


def test_a_correct_answer_passes() -> None:
    assert problems("Marta Quinlan said “We will stay out until the port talks to us” [1].", [QUINLAN]) == []
    assert problems("Quinlan said they would “stay out” [1], and Vale that “Nobody is against new cranes” [2].",
                    [QUINLAN, CRANES]) == []


# -- a secret, on its own -------------------------------------------------------------------------------


KEY = "sk-live-Ab3dEf9hIj2kLmN0"


def test_an_answer_holding_a_secret_is_refused_although_everything_else_checks() -> None:
    text = f"Marta Quinlan said the strike goes on [1]. The key is {KEY}."
    assert problems(text, [QUINLAN]) == []  # no secrets configured: nothing to check against
    assert problems(text, [QUINLAN], secrets=(KEY,)) == ["the answer contains a configured secret"]
    assert problems("Marta Quinlan said the strike goes on [1].", [QUINLAN], secrets=(KEY,)) == []


def test_a_piece_of_a_secret_leaks_it_a_shorter_or_plain_one_does_not() -> None:
    assert leaks_secret(f"token {KEY} here", (KEY,))
    assert leaks_secret("the pin is Ab3d9", ("Ab3d9",))  # a short secret whole
    assert leaks_secret("it is sk-no-key-required", ("sk-no-key-required",))  # a plain-looking one whole
    assert leaks_secret("it is sk-no-key-required", ("Ab3d9", "sk-no-key-required"))
    assert leaks_secret("…Ab3dEf9hIj2k…", (KEY,))  # twelve characters from its middle
    assert leaks_secret(f"ends with {KEY[-12:]}", (KEY,))  # its last twelve characters
    assert not leaks_secret(f"ends with {KEY[-11:]}", (KEY,))  # eleven are not enough
    assert not leaks_secret("sk-live-Ab3dEf9hIj2kLmN", ("",))  # an unset secret never matches
    assert leaks_secret("mixed case AbcdEfghIjkl", ("xoxb-AbcdEfghIjklMnop",))  # no digit, but mixed case
    # a run of lower-case words ("key-required") is no secret's random part: llama.cpp's placeholder key
    assert leaks_secret("a key-required flag", ("sk-no-key-required",)) is False
    assert leaks_secret(f"a {KEY}", ("", "other-secret-XYZ123", KEY))  # any of several


# -- quotations: word for word, in the passage that is cited ------------------------------------------------


def test_a_quotation_is_checked_against_the_passage_its_sentence_cites() -> None:
    # Vale's words are in the Courier [2], but this sentence cites the Gazette [1]
    text = "Marta Quinlan said the strike goes on [1]. Vale said “Nobody is against new cranes” [1]. It costs millions [2]."
    assert problems(text, [QUINLAN, CRANES]) == [
        "quotation “Nobody is against new cranes” is not word for word in the passage it cites"]
    assert problems(text.replace("cranes” [1]", "cranes” [2]"), [QUINLAN, CRANES]) == []


def test_a_quotation_from_a_document_the_answer_does_not_cite_fails() -> None:
    # the Courier is among the citations offered, but the answer cites only the Gazette
    text = "Vale said “Nobody is against new cranes”. Quinlan said the strike goes on [1]."
    assert problems(text, [QUINLAN, CRANES]) == [
        "quotation “Nobody is against new cranes” is not word for word in the passage it cites"]
    # and a cited article's headline may be quoted, an uncited one's may not
    assert problems("The Gazette: “Dockers walk out at Aldmere” [1].", [QUINLAN, CRANES]) == []
    assert problems("The Courier: “Port says strike costs millions”. Quinlan spoke [1].", [QUINLAN, CRANES]) == [
        "quotation “Port says strike costs millions” is not word for word in the passage it cites"]


def test_an_invented_quotation_is_named_in_the_problem_up_to_sixty_characters() -> None:
    invented = "The port will never, ever talk to a union that walks out on the families of this town"
    assert problems(f"Vale said “{invented}” [1].", [QUINLAN]) == [
        f"quotation “{invented[:60]}” is not word for word in the passage it cites"]


def test_quotation_marks_around_nothing_but_a_marker_quote_no_one() -> None:
    assert problems("Quinlan’s reply was “[1]”, no more.", [], require_citation=False) == [
        "citation [1] does not exist"]


def test_an_unclosed_quotation_ends_at_its_citation() -> None:
    assert problems("Quinlan said “We will stay out [1] and more words follow here.", [QUINLAN]) == []
    assert problems("Quinlan said “We will never stay out [1] and more words follow here.", [QUINLAN]) == [
        "quotation “We will never stay out” is not word for word in the passage it cites"]


# -- cited spans: the document's own words at their offsets --------------------------------------------------


def test_an_empty_cited_span_fails() -> None:
    empty = Citation(n=1, source=GAZETTE.location, text="", doc_id=GAZETTE.id, start=10, end=10)
    assert problems("Dockers walked out [1].", [empty]) == ["citation [1] text is not the document's words at 10-10"]


def test_a_span_must_lie_inside_the_document() -> None:
    assert problems("Dockers walked out [1].", [cite(1, GAZETTE, "Dockers walked out")]) == []  # its first words
    n = len(GAZETTE.text)
    tail = GAZETTE.text[n - 8:]
    at_end = Citation(n=1, source=GAZETTE.location, text=tail, doc_id=GAZETTE.id, start=n - 8, end=n)
    assert problems("The details are online [1].", [at_end]) == []
    past = Citation(n=1, source=GAZETTE.location, text=tail, doc_id=GAZETTE.id, start=n - 7, end=n + 1)
    assert problems("The details are online [1].", [past]) == [f"citation [1] text is not the document's words at "
                                                                f"{n - 7}-{n + 1}"]
    before = Citation(n=1, source=GAZETTE.location, text=GAZETTE.text[-1:], doc_id=GAZETTE.id, start=-1, end=n)
    assert problems("The details are online [1].", [before]) == [f"citation [1] text is not the document's words at "
                                                                  f"-1-{n}"]


def test_a_citation_of_a_document_that_is_not_stored_fails_and_vouches_for_nothing() -> None:
    gone = Citation(n=1, source="corpus/deleted.txt", text="“Nobody is against new cranes”", doc_id=99, start=0,
                    end=30)
    # the quotation is in the citation's own text, but that text is no longer backed by a stored document
    assert problems("Vale said “Nobody is against new cranes” [1].", [gone]) == [
        "citation [1] points at a document that is not stored",
        "quotation “Nobody is against new cranes” is not word for word in the passage it cites"]


def test_markers_must_exist_and_an_answer_must_cite_unless_told_otherwise() -> None:
    assert problems("Quinlan spoke [1]. Vale spoke [3].", [QUINLAN, CRANES]) == ["citation [3] does not exist"]
    assert problems("Nothing is known.", [QUINLAN]) == ["the answer cites nothing"]
    assert problems("Nothing is known.", [QUINLAN], require_citation=False) == []


# -- links --------------------------------------------------------------------------------------------------


def test_a_link_must_be_in_a_cited_passage_or_name_a_cited_source() -> None:
    details = cite(1, GAZETTE, "Details: harbour.example/strike")
    assert problems("See harbour.example/strike [1].", [details]) == []  # in the passage
    assert problems("See https://gazette.example/aldmere-strike [1].", [details]) == []  # the cited article
    assert problems("See https://courier.example/port [1].", [details, CRANES]) == [
        "link https://courier.example/port is not in a cited passage"]  # offered, not cited
    assert problems("Log in at evil-login.example/verify [1].", [details]) == [
        "link evil-login.example/verify is not in a cited passage"]


def test_a_marker_opening_the_answer_cites_its_first_sentence() -> None:
    # "[2]" opens the answer: Quinlan's words are in [1], not in the Courier passage the sentence cites
    text = "[2] Quinlan said “We will stay out until the port talks to us”. Vale spoke [1]."
    assert problems(text, [QUINLAN, CRANES]) == [
        "quotation “We will stay out until the port talks to us” is not word for word in the passage it cites"]
    assert problems(text.replace("[2] Quinlan", "[1] Quinlan").replace("Vale spoke [1]", "Vale spoke [2]"),
                    [QUINLAN, CRANES]) == []


# -- misattribution: the right words given to the wrong person ----------------------------------------------


STORED = [("We will stay out until the port talks to us", "Marta Quinlan"),
          ("Nobody is against new cranes", "Henrik Vale")]


def test_each_quotation_is_checked_against_the_name_just_before_it() -> None:
    text = "Vale said “We will stay out until the port talks to us” and Quinlan said “Nobody is against new cranes”."
    assert len(misattributed(text, STORED)) == 2
    text = "Quinlan said “We will stay out until the port talks to us” and Vale said “Nobody is against new cranes”."
    assert misattributed(text, STORED) == []


def test_a_name_after_the_quotation_is_its_speaker() -> None:
    assert misattributed("“Nobody is against new cranes,” said Quinlan.", STORED) == [
        "quotation “Nobody is against new cranes,” is given to Quinlan, but the article's speaker is Henrik Vale"]
    assert misattributed("“Nobody is against new cranes,” said Vale.", STORED) == []
    # the first of two quotations too: its name comes before the second quotation opens
    text = "“Nobody is against new cranes,” said Quinlan. “We will stay out until the port talks to us,” said Vale."
    assert len(misattributed(text, STORED)) == 2


def test_words_with_no_stored_speaker_go_to_someone_their_passage_names() -> None:
    # the quote index holds no speaker for these words: the cited passage decides
    passages = ["“The cranes will be idle until spring,” the harbour master, Ines Calder, told reporters."]
    assert misattributed("Calder said “The cranes will be idle until spring” [1].", [], passages) == []
    assert misattributed("Vale said “The cranes will be idle until spring” [1].", [], passages) == [
        "quotation “The cranes will be idle until spring” is given to Vale, whom the cited passage does not name"]
