"""Pausing a digest: the real Core on a store in tmp_path and the real DigestRunner with an injected clock. A paused
digest keeps its time, cadence, topic and the channel's scope, posts nothing, and resumes from its next time."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters import commands
from bot.adapters.commands import DigestRequest
from bot.adapters.discord_render import DIALECT as DISCORD
from bot.adapters.slack_render import DIALECT as SLACK
from bot.digest import DigestRunner
from bot.domain import Brief, Channel
from tests.conftest import chat_core, run_cli

WHERE = Channel("slack", "C1", "U1")


class Clock:
    """The time both the core and the runner read; tests move it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class RecordingPoster:
    """The chat edge: which channel would get a digest."""

    def __init__(self) -> None:
        self.posts: list[str] = []

    def post_brief(self, channel_id: str, brief: Brief, topic: str | None = None) -> str:
        self.posts.append(channel_id)
        return f"m{len(self.posts)}"


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    core = chat_core(tmp_path)
    clock = Clock(datetime(2031, 3, 3, 7, 0, tzinfo=UTC))  # a Monday, 07:00 UTC
    core.clock = clock
    poster = RecordingPoster()
    runner = DigestRunner(core.store, core.brief_builder, {"slack": poster}, owner="r1", clock=clock)
    yield core, clock, poster, runner
    core.store.close()


def test_a_paused_digest_keeps_everything_posts_nothing_and_resumes_from_its_next_time(setup: Any) -> None:
    core, clock, poster, runner = setup
    core.store.set_channel_sources("slack", "C1", ["harbour-strike"])
    core.subscribe(WHERE, "08:00", "UTC", topic="strike", cadence="weekdays")
    [paused] = core.pause(WHERE)
    assert (paused.time_of_day, paused.timezone, paused.cadence, paused.topic) == ("08:00", "UTC", "weekdays", "strike")
    assert core.subscriptions(WHERE) == [] and core.paused_subscriptions(WHERE) == [paused]
    assert core.channel_scope(WHERE) == ["harbour-strike"]
    for hours in (1, 2, 25, 49):  # Monday's and Tuesday's 08:00 pass; Wednesday 08:00 passes
        clock.at = datetime(2031, 3, 3, 7, 0, tzinfo=UTC) + timedelta(hours=hours)
        assert runner.run_due() == []
    assert poster.posts == []
    clock.at = datetime(2031, 3, 5, 9, 0, tzinfo=UTC)  # Wednesday 09:00: today's 08:00 is still in the grace window
    [resumed] = core.resume(WHERE)
    assert (resumed.time_of_day, resumed.cadence, resumed.topic) == ("08:00", "weekdays", "strike")
    assert core.paused_subscriptions(WHERE) == [] and core.subscriptions(WHERE) == [resumed]
    assert runner.run_due() == [] and poster.posts == []  # the 08:00 missed while paused is not posted late
    clock.at = datetime(2031, 3, 6, 8, 1, tzinfo=UTC)  # Thursday 08:01: the next time
    [(sub, slot, outcome)] = runner.run_due()
    assert sub.id == resumed.id and slot.key == "2031-03-06 08:00 UTC" and outcome.startswith("posted")
    assert poster.posts == ["C1"]


def test_pause_and_resume_only_touch_their_own_channel_and_platform(setup: Any) -> None:
    core, clock, poster, runner = setup
    core.subscribe(WHERE, "08:00", "UTC")
    core.subscribe(Channel("slack", "C2"), "08:00", "UTC")
    core.subscribe(Channel("discord", "C1"), "08:00", "UTC")
    core.pause(WHERE)
    clock.at = datetime(2031, 3, 3, 8, 1, tzinfo=UTC)
    assert sorted(s.channel for s, _, _ in runner.run_due()) == ["C2"]  # discord has no poster here
    assert core.subscriptions(Channel("discord", "C1")) and not core.paused_subscriptions(Channel("discord", "C1"))


def test_setting_a_digest_replaces_a_paused_one_and_off_stops_a_paused_one(setup: Any) -> None:
    core, clock, poster, runner = setup
    core.subscribe(WHERE, "08:00", "UTC")
    core.pause(WHERE)
    core.subscribe(WHERE, "09:30", "Europe/Berlin")
    assert [s.time_of_day for s in core.subscriptions(WHERE)] == ["09:30"] and not core.paused_subscriptions(WHERE)
    kept = core.subscribe(WHERE, "10:00", "UTC", topic="tram", paused=True)  # changed while paused: stays paused
    assert kept.platform == "slack" and not core.subscriptions(WHERE)
    assert [(s.time_of_day, s.topic) for s in core.paused_subscriptions(WHERE)] == [("10:00", "tram")]
    assert core.unsubscribe(WHERE) == 1
    assert not core.paused_subscriptions(WHERE) and core.resume(WHERE) == [] and core.pause(WHERE) == []


def test_pause_resume_and_status_commands_on_both_platforms(setup: Any) -> None:
    core = setup[0]
    assert commands.digest(core, WHERE, DigestRequest.parse("pause"), SLACK).text == \
        "This channel has no digest to pause. Set one with `/digest 08:00 Europe/Berlin [daily|weekdays|weekly] [topic]`."
    commands.digest(core, WHERE, DigestRequest.parse("08:00 Europe/Berlin strike"), SLACK)
    paused = commands.digest(core, WHERE, DigestRequest.parse("PAUSE"), SLACK)
    assert paused.public and paused.text == ("Paused this channel's digest (every day at *08:00* (Europe/Berlin) about "
                                             "“strike”): it keeps its time and topic and posts nothing until "
                                             "`/digest resume`.")
    again = commands.digest(core, WHERE, DigestRequest.from_options(None, None, action="pause"), DISCORD)
    assert not again.public and again.text == \
        "This channel's digest is already paused; `/digest action:resume` starts it again."
    assert commands.digest(core, WHERE, DigestRequest.parse("status"), SLACK).text == (
        "This channel's digest is paused: every day at *08:00* (Europe/Berlin) about “strike”. `/digest resume` "
        "starts it again.")
    resumed = commands.digest(core, WHERE, DigestRequest.from_options(None, None, action="resume"), DISCORD)
    assert resumed.public and resumed.text.startswith("Resumed: this channel gets a brief every day at **08:00**")
    assert commands.digest(core, WHERE, DigestRequest.parse("resume"), SLACK).text == "This channel's digest is not paused."
    assert "`/digest pause` / `/digest resume`" in commands.help_text(SLACK)


def test_pause_and_resume_keep_the_digest_its_last_time_and_its_claimed_slots(setup: Any) -> None:
    core, clock, poster, runner = setup
    sub = core.subscribe(WHERE, "08:00", "UTC")
    clock.at = datetime(2031, 3, 3, 8, 1, tzinfo=UTC)  # Monday 08:01
    [(_, monday, _)] = runner.run_due()
    last = core.store.last_digest_at(sub.id)
    assert last == "2031-03-03T08:01:00+00:00"
    clock.at = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    [paused] = core.pause(WHERE)
    assert paused.id == sub.id and paused.paused_at == "2031-03-03T09:00:00+00:00"
    assert core.pause(WHERE) == []  # already paused: its time of pausing stays
    clock.at = datetime(2031, 3, 3, 10, 0, tzinfo=UTC)  # resumed the same morning: Monday's slot was posted already
    [resumed] = core.resume(WHERE)
    assert resumed.id == sub.id and resumed.paused_at is None
    assert core.store.last_digest_at(sub.id) == last
    assert [(c["slot"], c["status"], c["message_id"]) for c in core.store.claims(sub.id)] == \
        [(monday.key, "posted", "m1")]
    assert runner.run_due() == [] and poster.posts == ["C1"]  # Monday's 08:00 is not posted twice
    # paused again across Tuesday's 08:00: that slot is settled on resume, next to Monday's
    core.pause(WHERE)
    clock.at = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
    assert runner.run_due() == []
    core.resume(WHERE)
    assert [(c["slot"], c["owner"], c["status"]) for c in core.store.claims(sub.id)] == \
        [(monday.key, "r1", "posted"), ("2031-03-04 08:00 UTC", "resume", "posted")]
    assert core.store.last_digest_at(sub.id) == "2031-03-04T08:00:00+00:00"  # the next digest covers news since
    clock.at = datetime(2031, 3, 5, 8, 1, tzinfo=UTC)
    [(posted, _, outcome)] = runner.run_due()
    assert posted.id == sub.id and outcome == "posted m2" and poster.posts == ["C1", "C1"]


def test_the_digest_listing_says_which_digest_is_paused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    core = chat_core(tmp_path, url)
    try:
        core.subscribe(WHERE, "08:00", "UTC")
        core.subscribe(Channel("slack", "C2"), "09:00", "UTC", topic="tram", paused=True)
    finally:
        core.store.close()
    p = run_cli("digest", env={"BRIEFBOT_DATABASE_URL": url})
    assert p.returncode == 0, p.stderr
    heads = [line for line in p.stdout.splitlines() if line.startswith("# ")]
    assert heads[0] == "# slack C1: daily at 08:00 UTC (dry run: nothing posted)"
    assert re.fullmatch(r"# slack C2: daily at 09:00 UTC, topic 'tram' \(PAUSED since \S+: posts nothing until "
                        r"resumed; it would hold\)", heads[1]), heads[1]
    listed = json.loads(run_cli("digest", "--json", env={"BRIEFBOT_DATABASE_URL": url}).stdout)
    assert [s["subscription"]["paused_at"] is not None for s in listed] == [False, True]


def test_after_a_long_pause_the_next_digest_covers_one_cadence_not_the_whole_pause(setup: Any) -> None:
    core, clock, poster, runner = setup
    sub = core.subscribe(WHERE, "08:00", "UTC")
    clock.at = datetime(2031, 3, 3, 8, 1, tzinfo=UTC)
    runner.run_due()
    core.pause(WHERE)
    clock.at = datetime(2031, 3, 10, 20, 0, tzinfo=UTC)  # a week on, past the grace window of today's 08:00
    core.resume(WHERE)
    assert core.store.last_digest_at(sub.id) is None  # so the next digest looks back one day from its own time
    clock.at = datetime(2031, 3, 11, 8, 1, tzinfo=UTC)
    [resumed] = core.subscriptions(WHERE)
    assert runner._since(resumed, clock.at) == "2031-03-10T08:01:00+00:00"
