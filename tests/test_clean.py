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
