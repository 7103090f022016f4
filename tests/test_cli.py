"""The command line end to end, in subprocesses, as users and the referee run it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BBC, ROOT, SEEDS, need, run_cli


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}


def test_help_lists_commands() -> None:
    p = run_cli("--help")
    assert p.returncode == 0
    for cmd in ("ingest", "sources", "docs", "show", "quotes", "ask", "chat", "brief", "stories", "digest",
                "usage", "run", "demo"):
        assert cmd in p.stdout


def test_seed_session_end_to_end(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    p = run_cli("ingest", str(need(SEEDS)), "--json", env=env)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["new"] == 5 and summary["skipped"] == 0
    again = run_cli("ingest", str(SEEDS), env=env)
    assert "5 items: 0 new, 5 unchanged, 0 duplicates, 0 skipped" in again.stdout

    docs = json.loads(run_cli("docs", "--json", env=env).stdout)
    assert len(docs) == 5 and {"id", "source", "title"} <= set(docs[0])
    assert docs[0]["title"] == "China, Russia and North Korea signal pact in WWII anniversary summit"

    by_path = json.loads(run_cli("show", str(SEEDS / "000_4acb8d4b237bf1ea.txt"), "--json", env=env).stdout)
    shown = json.loads(run_cli("show", "000_4acb8d4b237bf1ea.txt", "--json", env=env).stdout)
    assert by_path["id"] == shown["id"]
    assert shown["passages"] and all(shown["text"][p["start"]:p["end"]] == p["text"] for p in shown["passages"])

    quotes = json.loads(run_cli("quotes", "--speaker", "Navarro", "--json", env=env).stdout)
    assert quotes and all(q["speaker"] == "Peter Navarro" for q in quotes)
    human = run_cli("quotes", "--speaker", "Navarro", env=env).stdout
    assert "Peter Navarro (a Trump trade advisor): “It is a shame to see Modi" in human

    ans = json.loads(run_cli("ask", "What did Navarro say about Modi?", "--json", env=env).stdout)
    assert ans["found"] is True and "Navarro" in ans["answer"]
    c = ans["citations"][0]
    assert c["source"].endswith("000_4acb8d4b237bf1ea.txt") and {"n", "text", "title", "start", "end"} <= set(c)

    absent = json.loads(run_cli("ask", "What did Emmanuel Macron say about the parade?", "--json", env=env).stdout)
    assert absent["found"] is False and absent["citations"] == []

    brief = json.loads(run_cli("brief", "--json", env=env).stdout)
    assert {"stories", "generated_at", "backend", "usage"} <= set(brief) and len(brief["stories"]) == 1
    assert len(brief["stories"][0]["sources"]) == 5


def test_quotes_from_stdin_store_nothing(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    text = '“We will not back down,” said Maria Lopez, the union leader. She added: "Not one step."'
    p = run_cli("quotes", "--stdin", "--json", env=env, input=text)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out[0]["text"].startswith("We will not back down") and out[0]["speaker"] == "Maria Lopez"
    assert all(q["source"] is None for q in out)
    assert json.loads(run_cli("docs", "--json", env=env).stdout) == []


def test_sources_add_list_remove_and_bad_input(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    p = run_cli("sources", "add", str(need(SEEDS)), "--every", "2h", env=env)
    assert p.returncode == 0 and "polled every 2h" in p.stdout
    listed = json.loads(run_cli("sources", "list", "--json", env=env).stdout)
    assert listed[0]["kind"] == "folder" and listed[0]["every_seconds"] == 7200
    bad = run_cli("sources", "add", str(tmp_path / "nope"), env=env)
    assert bad.returncode == 2 and "no such file or folder" in bad.stderr
    worse = run_cli("sources", "add", str(SEEDS), "--every", "often", env=env)
    assert worse.returncode == 2 and "--every='often' is not a duration" in worse.stderr
    assert "removed source 1" in run_cli("sources", "remove", "1", env=env).stdout
    assert run_cli("sources", "list", env=env).stdout.startswith("no sources yet")


def test_sources_add_outlet_names_what_its_polls_store(tmp_path: Path) -> None:
    # two folders of two papers' files, each registered with the paper's name: what the polls store is
    # shown under that name in briefs, never as a file name
    from bot.app import App
    from bot.config import Settings
    from bot.runner import poll_source

    env = env_for(tmp_path)
    for name, outlet in (("harbour-strike-gazette.txt", "Kelby Gazette"), ("harbour-strike-courier.txt", "Harbour Courier")):
        folder = tmp_path / outlet.split()[0].lower()
        folder.mkdir()
        (folder / name).write_bytes((ROOT / "bot" / "samples" / name).read_bytes())
        p = run_cli("sources", "add", str(folder), "--outlet", f"  {outlet} ", env=env)
        assert p.returncode == 0 and f"shown as “{outlet}”" in p.stdout, p.stderr
    # added again to change its interval, a source keeps its name
    assert run_cli("sources", "add", str(tmp_path / "kelby"), "--every", "2h", env=env).returncode == 0
    listed = json.loads(run_cli("sources", "list", "--json", env=env).stdout)
    assert [(s["outlet"], s["every_seconds"]) for s in listed] == [("Kelby Gazette", 7200), ("Harbour Courier", 1800)]
    assert "“Kelby Gazette” " in run_cli("sources", "list", env=env).stdout
    bad = run_cli("sources", "add", str(tmp_path / "kelby"), "--outlet", " ", env=env)
    assert bad.returncode == 2 and "--outlet" in bad.stderr and "1 to 120 characters" in bad.stderr

    app = App.from_settings(Settings.from_env({"BRIEFBOT_DATABASE_URL": env["BRIEFBOT_DATABASE_URL"]}))
    try:
        for source in app.store.list_sources():
            assert poll_source(app, source).counts["new"] == 1
    finally:
        app.close()
    docs = json.loads(run_cli("docs", "--json", env=env).stdout)
    assert sorted(d["outlet"] for d in docs) == ["Harbour Courier", "Kelby Gazette"]
    brief = json.loads(run_cli("brief", "--json", env=env).stdout)
    (story,) = brief["stories"]
    assert sorted(s["name"] for s in story["sources"]) == ["Harbour Courier", "Kelby Gazette"]
    shown = " ".join([d["topic"] for d in story["differences"]] + [s["text"] for d in story["differences"]
                                                                   for s in d["sides"]])
    assert "14 (Kelby Gazette) and 11 (Harbour Courier)" in shown and ".txt" not in shown


def test_bad_settings_fail_fast_naming_the_variable(tmp_path: Path) -> None:
    p = run_cli("docs", env={"BRIEFBOT_DATABASE_URL": "mysql://db"})
    assert p.returncode == 2 and "BRIEFBOT_DATABASE_URL" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("docs", env={**env_for(tmp_path), "BRIEFBOT_LOG_LEVEL": "LOUD"})
    assert p.returncode == 2 and "BRIEFBOT_LOG_LEVEL" in p.stderr


def test_demo_runs_on_a_fresh_database(tmp_path: Path) -> None:
    p = run_cli("demo", env=env_for(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "3 items: 3 new" in p.stdout and "Marta Quinlan" in p.stdout


@pytest.mark.slow
def test_bbc_ingest_closing_line(tmp_path: Path) -> None:
    p = run_cli("ingest", str(need(BBC)), env=env_for(tmp_path))
    assert p.returncode == 0, p.stderr
    last = p.stdout.strip().splitlines()[-1]
    assert last.startswith("2,226 items: ") and ", 98 duplicates, " in last and "0 skipped" in last


def _counts(db: Path) -> tuple[str, int, int, int]:
    con = sqlite3.connect(db)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        docs = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        orphans = con.execute("SELECT COUNT(*) FROM documents d WHERE NOT EXISTS "
                              "(SELECT 1 FROM passages p WHERE p.doc_id = d.id)").fetchone()[0]
        fts_gap = con.execute("SELECT (SELECT COUNT(*) FROM passages) - (SELECT COUNT(*) FROM passages_fts)").fetchone()[0]
        return ok, docs, orphans, fts_gap
    finally:
        con.close()


def _stored(db: Path) -> int:
    """Documents stored so far by a running ingest (0 before its schema exists)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0  # no database file yet
    try:
        return int(con.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet, or a writer holds the lock
        return 0
    finally:
        con.close()


def _kill(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGKILL a command (started in a session of its own) and wait until none of its process group is left:
    its forked workers die with it (bot/procs.py) rather than stay blocked on a pipe nobody reads."""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)  # leave no orphans behind, then say what went wrong
            raise AssertionError("the killed ingest's workers were still alive 30 s later")
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_a_consistent_database_and_rerun_converges(tmp_path: Path) -> None:
    need(BBC)
    clean_env = env_for(tmp_path / "clean")
    (tmp_path / "clean").mkdir()
    run_cli("ingest", str(BBC), env=clean_env)
    _, expected_docs, _, _ = _counts(tmp_path / "clean" / "cli.db")
    env = {**os.environ, **env_for(tmp_path)}
    db = tmp_path / "cli.db"
    # killed once some documents are stored (early, midway, late), whatever the machine's speed: not by a timer,
    # which on a loaded machine fires before the schema exists
    for trial, share in enumerate((0.02, 0.3, 0.7)):
        before = _stored(db)
        target = before + max(1, int((expected_docs - before) * share))
        proc = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(BBC)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while proc.poll() is None and _stored(db) < target and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proc.poll() is None, f"trial {trial}: the ingest finished before it could be killed"
        finally:
            _kill(proc)
        ok, docs, orphans, fts_gap = _counts(db)
        assert (ok, orphans, fts_gap) == ("ok", 0, 0), f"trial {trial}"
        assert target <= docs < expected_docs, f"trial {trial}"
    p = run_cli("ingest", str(BBC), env=env_for(tmp_path))
    assert p.returncode == 0
    ok, docs, orphans, fts_gap = _counts(db)
    assert (ok, docs, orphans, fts_gap) == ("ok", expected_docs, 0, 0)


def test_run_polls_sources_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, **env_for(tmp_path)}
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened on Friday after the strike ended.\n",
                                  encoding="utf-8")
    assert run_cli("sources", "add", str(folder), "--every", "1s", env=env_for(tmp_path)).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            docs = json.loads(run_cli("docs", "--json", env=env_for(tmp_path)).stdout)
            if docs:
                break
            time.sleep(0.3)
        assert docs and docs[0]["title"] == "Harbour reopens"
        # a file added while running is picked up by the next poll
        (folder / "b.txt").write_text("Ferries resume\n\nFerry services resumed on Saturday morning.\n",
                                      encoding="utf-8")
        while time.time() < deadline and len(json.loads(run_cli("docs", "--json", env=env_for(tmp_path)).stdout)) < 2:
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in err
    assert len(json.loads(run_cli("docs", "--json", env=env_for(tmp_path)).stdout)) == 2


def test_chat_and_usage(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert run_cli("ingest", str(need(SEEDS)), env=env).returncode == 0
    p = run_cli("chat", env=env, input="What did Navarro say about Modi?\nWho is Choe Son Hui?\n\n")
    assert p.returncode == 0, p.stderr
    assert "5 articles stored" in p.stdout
    assert "shame to see Modi getting in bed" in p.stdout and "foreign minister" in p.stdout.lower()
    assert "[1]" in p.stdout
    u = run_cli("usage", "--json", env=env)
    assert u.returncode == 0 and json.loads(u.stdout) == []  # the extractive backend calls no model
    assert "no LLM calls" in run_cli("usage", env=env).stdout


def test_ingest_outlet_names_the_publication_in_briefs(tmp_path: Path) -> None:
    # two outlets' files, each folder named by the operator: briefs say "Kelby Gazette", never a file name
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/o.db"}
    for name, outlet in (("harbour-strike-gazette.txt", "Kelby Gazette"), ("harbour-strike-courier.txt", "Harbour Courier")):
        p = run_cli("ingest", str(ROOT / "bot" / "samples" / name), "--outlet", outlet, env=env)
        assert p.returncode == 0, p.stderr
    brief = json.loads(run_cli("brief", "--json", env=env).stdout)
    text = json.dumps(brief)
    assert "Kelby Gazette" in text and "Harbour Courier" in text
    docs = json.loads(run_cli("docs", "--json", env=env).stdout)
    assert {d["outlet"] for d in docs} == {"Kelby Gazette", "Harbour Courier"}
