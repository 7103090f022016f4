"""The CLI in a subprocess under trouble: another process holding the write lock, a full disk, an ASCII terminal.
One line (and JSON with --json), never a traceback; reading never waits for the write lock."""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BBC, ROOT, SEEDS, need, run_cli

QUESTION = "What did Navarro say about Modi?"


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    db = tmp_path / "e.db"
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{db}"}
    assert run_cli("ingest", str(need(SEEDS)), env=env).returncode == 0
    yield db, env


def test_reading_commands_answer_while_another_process_holds_the_write_lock(
        seeded: tuple[Path, dict[str, str]]) -> None:
    db, env = seeded
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer paused holding the lock (an ingest mid-batch)
    try:
        for args in (["ask", QUESTION], ["ask", QUESTION, "--json"], ["doctor"], ["docs"], ["sources", "list"]):
            start = time.monotonic()
            r = run_cli(*args, env=env, timeout=60)
            assert r.returncode == 0 and time.monotonic() - start < 20, (args, r.stderr)
            assert "Traceback" not in r.stderr
        # chat answers too; saving its turns is a write, given up after the busy timeout with one line
        r = run_cli("chat", "--json", input=QUESTION + "\nAnd Putin?\n", env={**env, "BRIEFBOT_DB_BUSY_TIMEOUT": "1"},
                    timeout=60)
        assert r.returncode == 0 and "shame to see Modi" in json.loads(r.stdout.splitlines()[0])["answer"], r.stderr
        assert len(r.stdout.splitlines()) == 2 and "Traceback" not in r.stderr
        assert r.stderr.count("not being saved") == 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_write_behind_a_held_lock_is_one_line_and_json(seeded: tuple[Path, dict[str, str]], as_json: bool) -> None:
    db, env = seeded
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        r = run_cli("sources", "add", str(SEEDS), *(["--json"] if as_json else []),
                    env={**env, "BRIEFBOT_DB_BUSY_TIMEOUT": "0.5"})
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert r.returncode == 3 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("briefbot: the database is busy"), r.stderr
    if as_json:
        assert json.loads(r.stdout) == {"error": lines[0].removeprefix("briefbot: "), "reason": "database-busy"}


def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))  # the disk "fills" at 2 MB per file


def test_a_full_disk_mid_ingest_is_one_line_and_json_and_the_database_stays_sound(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    r = subprocess.run([sys.executable, "-m", "bot", "ingest", str(need(BBC)), "--json"], cwd=ROOT,
                       env={**_env(), "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}"}, capture_output=True, text=True,
                       timeout=300, preexec_fn=_small_files)
    assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("briefbot: could not write to the disk"), r.stderr[-2000:]
    assert json.loads(r.stdout[r.stdout.index("{"):])["reason"] == "disk-full"
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.mark.parametrize("args", [["ask", QUESTION], ["ask", QUESTION, "--json"], ["doctor"], ["docs"]])
def test_an_ascii_terminal_gets_plain_text_not_a_crash(seeded: tuple[Path, dict[str, str]], args: list[str]) -> None:
    _, env = seeded
    r = run_cli(*args, env={**env, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    r.stdout.encode("ascii")  # nothing it could not show
    if "--json" in args:
        assert "shame to see Modi" in json.loads(r.stdout)["answer"]
    elif args[0] == "ask":
        assert '"It is a shame to see Modi' in r.stdout  # typographic quotes become plain ones
