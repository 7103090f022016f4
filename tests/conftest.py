"""Shared fixtures: a clean environment for every test, databases in tmp_path, corpus paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
BBC = SHARED / "corpus" / "bbc"

_KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT",
         "BRIEFBOT_TEST_LLAMA", "BRIEFBOT_TEST_POSTGRES", "BRIEFBOT_REQUIRE_BROWSER", "BRIEFBOT_ARTIFACTS"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the developer's shell: every test starts from the defaults."""
    for k in list(os.environ):
        if k not in _KEEP and (k.startswith(("BRIEFBOT_", "OPENAI_", "SLACK_", "DISCORD_")) or k == "TIKTOKEN_CACHE_DIR"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    # embedding BBC takes minutes on 2 cores: tests of other things run lexical-only; the embedding tests
    # (test_embed.py, test_answer_pipeline.py) ask for the model themselves
    monkeypatch.setenv("BRIEFBOT_EMBEDDER", "none")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/bot.db"


def need(path: Path) -> Path:
    """A path of the shared corpus; the test skips without it, or fails when BRIEFBOT_REQUIRE_SHARED=1 (CI)."""
    if not path.exists():
        why = f"{path} is not here (the shared corpus sits beside the repository, in ../shared)"
        if os.environ.get("BRIEFBOT_REQUIRE_SHARED") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return path


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, input=input, timeout=timeout, cwd=ROOT)


def pytest_sessionstart(session: pytest.Session) -> None:
    """CI (BRIEFBOT_REQUIRE_SHARED=1) runs every test: without ../shared it stops here instead of skipping."""
    if os.environ.get("BRIEFBOT_REQUIRE_SHARED") == "1" and not (SHARED / "corpus").is_dir():
        pytest.exit(f"BRIEFBOT_REQUIRE_SHARED=1 but {SHARED / 'corpus'} is missing: clone beside ../shared", 4)


def article_store(tmp_path: Path, text: str) -> Any:
    """A SQLite store in tmp_path holding one article written for the test (its first line is the headline)."""
    return articles_store(tmp_path, article=text)


def articles_store(tmp_path: Path, **articles: str) -> Any:
    """A SQLite store in tmp_path holding the articles written for a test (name -> text, its first line the
    headline)."""
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store

    for name, text in articles.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path}/articles.db")
    Ingester(store, extract_quotes=extract_quotes).ingest([str(tmp_path / f"{n}.txt") for n in articles])
    return store


HARBOUR = """Dock workers strike at Port Aldmere over pay

Dock workers at Port Aldmere walked out at dawn on Monday over pay and hours.

"We will not back down," said Maria Lopez, the leader of the dockers' union, outside the harbour gates.

The port authority said talks with the union would resume on Thursday.
"""
TRAM = """Council approves the Riverside tram line

The city council approved the Riverside tram line on Tuesday after a six-year debate.

"This line will change how people cross the city," said Mayor Tom Reyes after the vote.

Construction of the tram line is due to start next spring.
"""


def chat_core(tmp_path: Path, url: str | None = None) -> Any:
    """The real Core on a SQLite store in tmp_path holding two articles written for the test (a harbour strike,
    a tram line): what the chat adapter tests drive wherever they need not observe the core's calls."""
    from bot.answer import Answerer
    from bot.brief import BriefBuilder
    from bot.core import Core
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store

    store = open_store(url or f"sqlite:///{tmp_path}/chat.db")
    if not store.count_documents():
        (folder := tmp_path / "articles").mkdir(exist_ok=True)
        (folder / "harbour-strike.txt").write_text(HARBOUR, encoding="utf-8")
        (folder / "riverside-tram.txt").write_text(TRAM, encoding="utf-8")
        Ingester(store, extract_quotes=extract_quotes).ingest([str(folder)])
    return Core(store, Answerer(store), BriefBuilder(store), check_url=lambda url: None)
