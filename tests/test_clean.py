"""Cleaning keeps text citable and drops the seeds' scraped noise; encodings; passages; dedup."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest import dedup
from bot.ingest.clean import DecodeError, clean, decode, first_sentence, normalise
from bot.ingest.passages import split_passages
from tests.conftest import BBC, SEEDS, need


def seed(name: str) -> str:
    return next(need(SEEDS).glob(f"{name}_*.txt")).read_text(encoding="utf-8")


def test_spaces_and_hyphens_made_plain_quotes_kept() -> None:
    out = normalise("Xi\u202fJinping\u00a0met a 30\u2011year “old friend” – twice\u200b.")
    assert out == "Xi Jinping met a 30-year “old friend” – twice."


def test_seed_000_teaser_dropped_and_title_taken() -> None:
    ct = clean(seed("000"))
    assert ct.title == "China, Russia and North Korea signal pact in WWII anniversary summit"
    assert not any(p.endswith("World…") for p in ct.paragraphs)
    assert ct.paragraphs[0].startswith("China’s President Xi Jinping met with Russian President")
    assert ct.paragraphs[0].endswith("end of World War II.")
    assert "\u00a0" not in ct.text and "\u202f" not in ct.text and "\u2011" not in ct.text
    assert "wartime-style pact" in ct.text


def test_seed_003_pull_quotes_and_loading_dropped() -> None:
    ct = clean(seed("003"))
    assert "Putin has now eclipsed Xi as Kim’s most important partner." not in ct.paragraphs
    assert "The red carpet moment in Beijing was meant to unsettle Washington." not in ct.paragraphs
    assert ct.text.count("Putin has now eclipsed Xi") == 1
    assert ct.text.count("The red carpet moment in Beijing") == 1
    assert not ct.text.rstrip().endswith("Loading…")
    assert "Loading…" in ct.removed
    # section headings are part of the article, not noise
    assert "FAIR-WEATHER FRIENDS" in ct.paragraphs


def test_long_first_line_is_not_a_title() -> None:
    ct = clean(seed("001"))
    assert ct.title is None
    assert first_sentence(ct.text).startswith("North Korean leader Kim Jong Un traveled to Beijing")


def test_cp1252_file_keeps_pound_sign() -> None:
    raw = (need(BBC) / "sport" / "199.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = decode(raw)
    assert "£15.8m" in text


def test_binary_refused() -> None:
    with pytest.raises(DecodeError, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_passages_cover_paragraphs_with_exact_offsets() -> None:
    text = clean(seed("004")).text
    ps = split_passages(text)
    assert len(ps) >= 10
    for p in ps:
        assert text[p.start:p.end] == p.text and p.text.strip() == p.text
    assert [p.ordinal for p in ps] == list(range(len(ps)))


def test_long_paragraph_split_on_sentences() -> None:
    sentence = "The council met again on Tuesday to discuss the budget for the tram line. "
    text = (sentence * 40).strip()
    ps = split_passages(text, limit=300)
    assert len(ps) > 5
    assert all(len(p.text) <= 300 for p in ps)
    assert all(p.text.endswith(".") for p in ps)
    # nothing lost: the passages tile the paragraph
    assert " ".join(p.text for p in ps) == text


def test_a_single_huge_sentence_is_still_split() -> None:
    text = "word " * 5000
    ps = split_passages(text.strip(), limit=500)
    assert all(len(p.text) <= 500 for p in ps)
    assert sum(len(p.text.split()) for p in ps) == 5000


def test_near_duplicate_sketches_agree_exact_hash_differs() -> None:
    a = " ".join(f"word{i}" for i in range(300))
    b = a.replace("word150", "changed")
    sa, sb = dedup.shingles(a), dedup.shingles(b)
    assert dedup.content_hash(a) != dedup.content_hash(b)
    assert dedup.jaccard(sa, sb) > 0.9
    assert len(set(dedup.sketch(sa)) & set(dedup.sketch(sb))) >= dedup.MIN_SHARED
    other = " ".join(f"other{i}" for i in range(300))
    assert dedup.jaccard(sa, dedup.shingles(other)) < 0.1


def test_shingle_hashes_are_stable_across_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "from bot.ingest.dedup import shingles; print(sorted(shingles('one two three four five six'))[:2])"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": str(seed_)}).stdout for seed_ in (1, 2)}
    assert len(outs) == 1


# -- encodings a user's files come in -------------------------------------------------------------


def test_utf16_and_utf32_files_with_a_byte_order_mark_are_read() -> None:
    text = "Zürich’s “tram” plan — £5m\n"
    for codec in ("utf-16", "utf-16-be", "utf-32", "utf-32-be"):
        data = text.encode(codec)
        if not codec.endswith("-be"):
            assert data[:2] == b"\xff\xfe"  # Python's own codecs write a little-endian BOM
        else:
            data = ("\ufeff" + text).encode(codec)
        assert decode(data).lstrip("\ufeff") == text, codec
    with pytest.raises(DecodeError, match="not valid UTF-16"):
        decode(b"\xff\xfe" + b"\x00\xd8" + b"a\x00")  # a lone surrogate
    with pytest.raises(DecodeError, match="not valid UTF-32"):
        decode(b"\xff\xfe\x00\x00" + b"\x00\x00\x11\x00")  # beyond U+10FFFF


def test_a_short_windows_1252_file_keeps_its_accents_and_pound_sign() -> None:
    # too short for a detector to be sure (it reads "Naïve" as "Naďve"): Western text is taken as cp1252
    assert decode("Naïve résumé for £100 at the café".encode("cp1252")) == "Naïve résumé for £100 at the café"


def test_non_western_legacy_text_is_detected_not_read_as_cp1252() -> None:
    text = "Москва приняла новый закон о транспорте, сообщили в мэрии города в понедельник."
    assert decode(text.encode("cp1251")) == text


def test_a_few_stray_control_bytes_are_dropped_many_mean_binary() -> None:
    assert decode(b"one\x01 two\x02 three") == "one two three"  # two in a short text: dropped
    with pytest.raises(DecodeError, match="control bytes"):
        decode(b"one\x01 two\x02 three\x03")  # three: binary
    body = b"x" * 989
    assert decode(body + b"\x01" * 10 + b"\n") == "x" * 989 + "\n"  # ten in 1,000 characters: one in a hundred
    with pytest.raises(DecodeError, match="control bytes"):
        decode(body + b"\x01" * 11)
    with pytest.raises(DecodeError, match="NUL"):
        decode(b"text\x00more")


# -- the title line ---------------------------------------------------------------------------------


def test_a_short_first_sentence_is_body_text_not_a_title() -> None:
    for first in ("Police closed the bridge on Monday.", "Who pays?", "It was over!", "He said it was “over.”",
                  'He said it was "over."', "The mayor said:", "More to come…", "Firstly, the vote;"):
        ct = clean(first + "\nThe council will meet again on Friday to decide the budget.")
        assert ct.title is None, first
        assert ct.paragraphs[0] == first


def test_a_title_line_has_limits_of_length_and_words() -> None:
    body = "\nThe council will meet again on Friday to decide the budget."
    assert clean("Council approves tram line" + body).title == "Council approves tram line"
    at_limit = " ".join(["word"] * 25)  # 25 words: a title; 26: a paragraph
    assert clean(at_limit + body).title == at_limit
    assert clean(at_limit + " word" + body).title is None
    long_words = "Tramways " + "x" * 151  # 160 characters: a title; 161: a paragraph
    assert len(long_words) == 160 and clean(long_words + body).title == long_words
    assert clean(long_words + "y" + body).title is None
    # a single line is the text itself, and a caller may say there is no title line
    assert clean("Council approves tram line").title is None
    assert clean("Council approves tram line").paragraphs == ["Council approves tram line"]
    ct = clean("Council approves tram line" + body, title_from_first_line=False)
    assert ct.title is None and ct.paragraphs[0] == "Council approves tram line"


# -- scraped noise: what goes and, as important, what stays --------------------------------------------


LEAD = "The harbour strike entered its third day as talks stalled"
FULL = LEAD + " over pay."  # too little longer for the pull-quote rule: only the teaser rule drops the cut one


def test_a_teaser_cut_with_an_ellipsis_is_dropped_before_its_full_paragraph() -> None:
    for mark in ("…", "..."):
        ct = clean(f"Headline here\n{LEAD}{mark}\n{FULL}")  # the full paragraph is the last one
        assert ct.paragraphs == [FULL] and ct.removed == [LEAD + mark], mark
        ct = clean(f"Headline here\n{LEAD} {mark}\n{FULL}\nThe port said it would reopen.")
        assert ct.paragraphs == [FULL, "The port said it would reopen."], mark


def test_a_paragraph_ending_in_an_ellipsis_stays_unless_the_next_one_completes_it() -> None:
    other = "Ships queued outside the port for a third night while the two sides met again in the city."
    trailing = "The union leader paused, then said the talks would go on…"
    ct = clean(f"Headline here\n{trailing}\n{other}")  # a longer next paragraph that does not repeat it
    assert ct.paragraphs == [trailing, other] and ct.removed == []
    ct = clean(f"Headline here\n{other}\n{trailing}")  # the last paragraph: nothing follows it
    assert ct.paragraphs == [other, trailing]
    ct = clean(f"Headline here\n{LEAD}…\n{LEAD}")  # the next paragraph is no longer than the cut one
    assert ct.paragraphs == [LEAD + "…", LEAD]


def test_only_a_teaser_of_more_than_twenty_characters_is_dropped() -> None:
    short = "Talks resumed at nine"  # 21 characters with the mark: too little to call it a repeat
    ct = clean(f"Headline here\n{short[:-1]}…\n{short}, ok.")
    assert ct.paragraphs == [short[:-1] + "…", short + ", ok."] and ct.removed == []
    ct = clean(f"Headline here\n{short}…\n{short}, ok.")  # 22 characters
    assert ct.paragraphs == [short + ", ok."] and ct.removed == [short + "…"]


def test_a_pull_quote_must_sit_inside_a_clearly_longer_paragraph() -> None:
    quote = "Nobody wins a strike like this one"  # 34 characters
    inside = "She said that Nobody wins a strike like this one, ok."  # more than 10 characters longer
    ct = clean(f"Headline here\n{quote}.\n{inside}")
    assert ct.paragraphs == [inside] and ct.removed == [quote + "."]
    barely = quote + " at all, ok"  # exactly 10 characters longer than the pull-quote paragraph
    ct = clean(f"Headline here\n{quote}.\n{barely}")
    assert ct.paragraphs == [quote + ".", barely]
    tiny = "No comment at all"  # under 20 characters: a line like that is not a pull quote
    ct = clean(f"Headline here\n{tiny}.\nThe minister said there was No comment at all from the union today.")
    assert ct.paragraphs[0] == tiny + "."


def test_repeated_short_lines_stay_repeated_paragraphs_go() -> None:
    caption = "Photo: Reuters"  # short lines repeat in real articles (captions, bylines)
    para = "The harbour reopened on Friday after the union accepted the offer."  # 40 or more characters
    ct = clean(f"Headline here\n{caption}\n{para}\n{caption}\n{para}\nThe end came quickly.")
    assert ct.paragraphs == [caption, para, caption, "The end came quickly."] and ct.removed == [para]


def test_a_fallback_title_is_the_first_sentence_whole_with_its_closing_quote() -> None:
    assert first_sentence("Police said the bridge was “unsafe.” Then they closed it.") == \
        "Police said the bridge was “unsafe.”"
    assert first_sentence("The port reopened (for now.) Ships moved.") == "The port reopened (for now.)"
    assert first_sentence("Is it over? Nobody knows.") == "Is it over?"
    long = "The council voted on Tuesday to approve the Riverside tram line after a debate " * 2 + "that ran late."
    title = first_sentence(long)  # cut at a word boundary, marked as cut
    assert title == long[:120].rsplit(" ", 1)[0] + "…" and len(title) <= 121 and not title[-2].isspace()
    assert title.startswith("The council voted on Tuesday")
