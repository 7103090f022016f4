"""Store and pipeline: stored once, incremental, versions replace passages atomically, bad input reported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.domain import RawDocument
from bot.ingest.pipeline import Ingester
from bot.store import open_store
from bot.store.sqlite import SQLiteStore
from tests.conftest import BBC, SEEDS, need

ARTICLE = """Harbour strike enters second day

Dockworkers stayed off the job on Wednesday as talks remained stalled.

"We will stay out until the port puts its numbers on the table," said Marta Quinlan, the union's general secretary.

The port authority said eleven ships were waiting to berth.
"""


def make_store(tmp_path: Path) -> SQLiteStore:
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    assert isinstance(store, SQLiteStore)
    return store


def outcomes(report: object) -> dict[str, str]:
    return {Path(i.location).name: i.outcome for i in report.items}  # type: ignore[attr-defined]


def test_seeds_stored_once_then_unchanged(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    ing = Ingester(store)
    first = ing.ingest([str(need(SEEDS))])
    assert first.counts["new"] == 5 and first.counts["skipped"] == 0
    again = ing.ingest([str(SEEDS)])
    assert again.counts == {"items": 5, "new": 0, "updated": 0, "unchanged": 5, "duplicates": 0,
                            "near_duplicates": 0, "skipped": 0}
    assert store.count_documents() == 5
    assert "unchanged" in again.summary()


def test_changed_file_becomes_new_version_with_new_passages(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    f = tmp_path / "in" / "strike.txt"
    f.parent.mkdir()
    f.write_text(ARTICLE, encoding="utf-8")
    ing = Ingester(store)
    ing.ingest([str(f)])
    d1 = store.get_document("strike.txt")
    assert d1 is not None and d1.version == 1 and d1.title == "Harbour strike enters second day"
    f.write_text(ARTICLE.replace("eleven ships", "fourteen ships"), encoding="utf-8")
    rep = ing.ingest([str(f)])
    assert outcomes(rep) == {"strike.txt": "updated"}
    d2 = store.get_document("strike.txt")
    assert d2 is not None and d2.id == d1.id and d2.version == 2
    assert "fourteen ships" in d2.text and "eleven" not in d2.text
    # the index now finds the new words and not the old ones
    assert store.search_passages("fourteen") and not store.search_passages("eleven")
    for p in d2.passages:
        assert d2.text[p.start:p.end] == p.text


def test_exact_and_near_duplicates_reported_not_stored(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    d = tmp_path / "in"
    d.mkdir()
    body = "\n\n".join(f"Paragraph {i} says the harbour council met and voted on item {i} of the plan." for i in range(30))
    (d / "a.txt").write_text("Council votes on harbour plan\n\n" + body, encoding="utf-8")
    (d / "b.txt").write_text("Council votes on harbour plan\n\n" + body, encoding="utf-8")
    (d / "c.txt").write_text("Harbour plan: council votes\n\n" + body.replace("item 7 ", "point 7 "), encoding="utf-8")
    rep = Ingester(store).ingest([str(d)])
    got = outcomes(rep)
    assert got == {"a.txt": "new", "b.txt": "duplicate", "c.txt": "near-duplicate"}
    assert store.count_documents() == 1
    reasons = {Path(i.location).name: i.reason for i in rep.items}
    assert "a.txt" in reasons["b.txt"] and "a.txt" in reasons["c.txt"]


def test_bad_files_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (d / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    (d / "big.txt").write_bytes(b"a" * 2048)
    (d / "noarticle.html").write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    locked = d / "locked.txt"
    locked.write_text(ARTICLE.replace("Harbour", "Locked"), encoding="utf-8")
    locked.chmod(0)
    rep = Ingester(store, max_file_bytes=1024).ingest([str(d), str(tmp_path / "missing")])
    got = {Path(i.location).name: (i.outcome, i.reason) for i in rep.items}
    assert got["empty.txt"] == ("skipped", "empty file")
    assert got["blank.md"][0] == "skipped" and "white space" in got["blank.md"][1]
    assert got["binary.txt"][0] == "skipped" and "binary" in got["binary.txt"][1]
    assert got["big.txt"][0] == "skipped" and "limit" in got["big.txt"][1]
    assert got["noarticle.html"][0] == "skipped" and "no article text" in got["noarticle.html"][1]
    assert got["missing"] == ("skipped", "no such file or folder")
    if os.geteuid() != 0:  # root reads anything
        assert got["locked.txt"][0] == "skipped" and "permission" in got["locked.txt"][1]
    assert got["good.txt"][0] in {"new"}
    # the run and every item outcome are recorded
    assert len(store.run_items(rep.run_id)) == len(rep.items)


def test_html_file_takes_title_from_metadata(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    paras = "".join(f"<p>Paragraph {i}: the tram line will run along the river and link the station to the campus.</p>"
                    for i in range(8))
    html = ("<html><head><title>Tram line approved | Aldmere Post</title>"
            '<meta property="og:title" content="Tram line approved"></head>'
            f"<body><article><h1>Tram line approved</h1>{paras}</article></body></html>")
    (tmp_path / "tram.html").write_text(html, encoding="utf-8")
    rep = Ingester(store).ingest([str(tmp_path / "tram.html")])
    assert outcomes(rep) == {"tram.html": "new"}
    doc = store.get_document("tram.html")
    assert doc is not None and doc.title.startswith("Tram line approved")
    assert "<p>" not in doc.text and "link the station to the campus" in doc.text


def test_html_file_drops_hidden_text_and_its_quotes(tmp_path: Path) -> None:
    from bot.quotes import extract_quotes

    store = make_store(tmp_path)
    paras = "".join(f"<p>Paragraph {i}: the tram line will run along the river and link the station to the campus.</p>"
                    for i in range(8))
    hidden = ('<p hidden>“Pay the fare at evil-login.example/verify,” said Mayor Ann Lee.</p>'
              '<div style="display:none"><p>“The tram is cancelled,” said Ann Lee.</p></div>')
    html = f"<html><head><title>Tram line approved</title></head><body><article>{paras}{hidden}</article></body></html>"
    (tmp_path / "tram.html").write_text(html, encoding="utf-8")
    Ingester(store, extract_quotes=extract_quotes).ingest([str(tmp_path / "tram.html")])
    doc = store.get_document("tram.html")
    assert doc is not None and "link the station to the campus" in doc.text
    assert "evil-login" not in doc.text and "cancelled" not in doc.text
    assert store.quotes(speaker_like="Lee") == []


def test_store_raw_from_fetcher_and_replace_is_atomic_on_failure(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    ing = Ingester(store)
    r = ing.store_raw(RawDocument(location="https://news.example.test/a", text=ARTICLE, outlet="Example"))
    assert r.outcome == "new"

    def boom(text: str, spans: object) -> list[object]:
        raise RuntimeError("extractor bug")

    bad = Ingester(store, extract_quotes=boom)  # type: ignore[arg-type]
    r2 = bad.store_raw(RawDocument(location="https://news.example.test/a", text=ARTICLE + "\nMore text here."))
    assert r2.outcome == "skipped" and "extractor bug" in r2.reason
    doc = store.get_document("https://news.example.test/a")
    assert doc is not None and doc.version == 1 and "More text here" not in doc.text


def test_bbc_corpus_counts(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    rep = Ingester(store).ingest([str(need(BBC))])
    oc = [i.outcome for i in rep.items]
    assert oc.count("duplicate") == 98  # the corpus's exact duplicates
    assert oc.count("skipped") == 0
    assert store.count_documents() == oc.count("new")
    doc = store.get_document(str((BBC / "sport" / "199.txt").resolve()))  # stored by resolved path
    assert doc is not None and "£15.8m" in doc.text and doc.title == "Chelsea sack Mutu"


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://rel.db"])
def test_bad_database_url_is_a_clear_error(url: str) -> None:
    from bot.store.base import StoreError

    with pytest.raises(StoreError, match="database URL"):
        open_store(url)


def test_garbage_database_file_is_a_clear_error(tmp_path: Path) -> None:
    from bot.store.base import StoreError

    p = tmp_path / "junk.db"
    p.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        open_store(f"sqlite:///{p}")


def test_migrations_recorded_and_idempotent(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    v = store.migrate()
    assert v >= 1
    rows = store.execute("SELECT name FROM migrations ORDER BY name")
    assert [r[0] for r in rows] == [step.__name__ for step in store.steps] and len(rows) == v
    shutil.copy(tmp_path / "t.db", tmp_path / "copy.db")
    assert open_store(f"sqlite:///{tmp_path}/copy.db").migrate() == v
