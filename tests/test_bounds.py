"""Bounded input: durations, counts and lengths from chat and the command line get a reply naming the limit, nothing
stored can stop `briefbot run`, and a bad interval stored before the bounds existed is skipped with one line."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from bot.config import MAX_POLL, ConfigError, parse_duration
from bot.store import open_store
from tests.conftest import SEEDS, need, run_cli
from tests.fakes.slack_api import FakeSlack
from tests.test_chat_sources import CH, app_with
from tests.test_run import Running
from tests.test_slack import make_bot, send_command


@pytest.mark.parametrize("text, why", [
    ("99999999999w", "too long: at most 520w"),
    ("9" * 5000 + "s", "too long"),  # Python itself refuses int() of so many digits
    ("0", "not a duration"),
    ("-5m", "not a duration"),
    ("5y", "not a duration"),
])
def test_parse_duration_names_the_limit(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_duration(text, "--since")


@pytest.mark.parametrize("every, why", [
    ("1000000w", "too long: poll at least every 4w"),
    ("5w", "too long: poll at least every 4w"),
    ("99999999999999999999999999999w", "too long"),
    ("10s", "at most every 5 minutes"),
    ("soon", "not an interval"),
])
def test_chat_intervals_out_of_range_are_refused_and_nothing_is_stored(tmp_path: Path, every: str, why: str) -> None:
    core = app_with(tmp_path, BRIEFBOT_ALLOW_PRIVATE_URLS="true").core()
    with pytest.raises(ValueError, match=why):
        core.add_source(CH, "http://127.0.0.1:8080/feed.xml", every)
    assert core.list_sources() == []
    assert core.add_source(CH, "http://127.0.0.1:8080/feed.xml", "4w").every_seconds == MAX_POLL


def test_chat_lengths_are_bounded(tmp_path: Path) -> None:
    core = app_with(tmp_path, BRIEFBOT_ALLOW_PRIVATE_URLS="true").core()
    with pytest.raises(ValueError, match="the longest I take is 2,000"):
        core.add_source(CH, "http://127.0.0.1/" + "a" * 5000)
    with pytest.raises(ValueError, match="keep it under 200"):
        core.subscribe(CH, "08:00", "UTC", "x" * 300)
    assert core.list_sources() == [] and core.subscriptions(CH) == []


def test_slash_source_with_a_huge_interval_gets_a_reply_naming_the_limit(tmp_path: Path) -> None:
    core = app_with(tmp_path).core()
    fake = FakeSlack().start()
    bot = make_bot(fake, core)
    from bot.adapters.slack import SlackRunner

    runner = SlackRunner(bot, mode="http")
    url = f"http://127.0.0.1:{runner.serve_http(0).port}/slack/events"
    try:
        status, _, took = send_command(url, fake, "/source", "add https://example.com/feed.xml every 1000000w")
        assert status == 200 and took < 3
        reply = fake.wait_for("response_url")[0].body
        assert reply["response_type"] == "ephemeral" and "poll at least every 4w" in reply["text"]
        assert core.list_sources() == []
    finally:
        runner.stop(5)
        fake.stop()


@pytest.mark.parametrize("args, why", [
    (["sources", "add", "https://example.com/feed.xml", "--every", "99999999999w"], "too long: at most 4w"),
    (["brief", "--since", "99999999999w"], "too long: at most 520w"),
    (["brief", "--since", "yesterday-ish"], "neither a duration"),
    (["ask", "what happened?", "--since", "99999999999w"], "too long: at most 520w"),
    (["docs", "--limit", "99999999999999999999"], "out of range"),
    (["embed", "--limit", "0"], "out of range"),
    (["ingest", "x", "--embed-budget", "inf"], "out of range"),
])
def test_cli_bounds_name_the_limit_and_store_nothing(tmp_path: Path, args: list[str], why: str) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    r = run_cli(*args, env=env)
    assert r.returncode == 2 and why in r.stderr and "Traceback" not in r.stderr, r.stderr
    listed = run_cli("sources", "list", "--json", env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout or "[]") == [], listed.stdout


def test_run_skips_a_stored_interval_it_cannot_schedule_and_polls_the_rest(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/run.db"
    store = open_store(db)
    bad = store.add_source("url", "https://example.com/feed.xml", 1_000_000 * 604800)  # what the old code let in
    store.add_source("folder", str(need(SEEDS)), 1800)
    store.close()
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": db, "BRIEFBOT_HTTP_PORT": "0", "BRIEFBOT_HTTP_HOST": "127.0.0.1"}
    with Running(env) as run:
        line = run.wait_for(r"source \d+ \(https://example.com/feed.xml\) is not polled.*").group(0)
        assert f"sources remove {bad.id}" in line and "1000000w" in line
        run.wait_for(r"polled .*seeds")  # the good source is polled all the same
        with urllib.request.urlopen(f"http://127.0.0.1:{run.port()}/healthz", timeout=5) as r:
            assert r.status == 200
        assert run.stop() == 0
    assert "Traceback" not in run.err and "OverflowError" not in run.err
