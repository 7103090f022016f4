"""The chat commands' one grammar and reply text (bot.adapters.commands), the same on Slack and Discord: time forms
the core accepts, hostile input (empty, huge, control characters, mentions), and each command run against the real
Core on a store in tmp_path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.adapters import commands
from bot.adapters.commands import DigestRequest, SourceRequest
from bot.adapters.discord_render import DIALECT as DISCORD
from bot.adapters.slack_render import DIALECT as SLACK
from bot.domain import Channel
from bot.service import parse_time_of_day
from tests.conftest import chat_core

WHERE = Channel("slack", "C1", "U1")


# ---- times of day: the core's grammar, on every platform ------------------------------------------------------

@pytest.mark.parametrize("typed,time", [("8:00", "08:00"), ("08:00", "08:00"), ("8.00", "08:00"), ("8h00", "08:00"),
                                        ("23:59", "23:59"), ("0:05", "00:05"), (" 7:30 ", "07:30")])
def test_every_time_form_the_core_accepts_is_a_time_on_both_platforms(typed: str, time: str) -> None:
    assert parse_time_of_day(typed) == time
    assert DigestRequest.parse(f"{typed} Europe/Berlin").time == time
    assert DigestRequest.from_options(typed, "Europe/Berlin").time == time


@pytest.mark.parametrize("typed", ["8", "800", "24:00", "8:60", "8:5", "8 00", "８:００", "8:00pm", "-1:00"])
def test_what_the_core_refuses_is_refused_before_the_core_is_asked(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_time_of_day(typed)
    for request in (DigestRequest.parse(f"{typed} Europe/Berlin"), DigestRequest.from_options(typed, "UTC")):
        assert request.problem in {"bad-time", "not-understood"}, (typed, request)


def test_digest_words() -> None:
    assert DigestRequest.parse("08:00 Europe/Paris weekdays harbour strike") == DigestRequest(
        "set", time="08:00", timezone="Europe/Paris", cadence="weekdays", topic="harbour strike")
    assert DigestRequest.parse("8.00 UTC Weekly").cadence == "weekly"
    assert DigestRequest.parse("8:00 UTC monthly news").topic == "monthly news"  # not a cadence: part of the topic
    for verb, action in [("off", "off"), ("STOP", "off"), ("cancel", "off"), ("status", "status"), ("list", "status"),
                         ("", "help"), ("help", "help"), ("?", "help")]:
        assert DigestRequest.parse(verb).action == action
    assert DigestRequest.parse("08:00").problem == "no-timezone"
    assert DigestRequest.parse("tomorrow please").problem == "not-understood"
    assert DigestRequest.from_options(None, None).problem == "no-time"
    assert DigestRequest.from_options("08:00", " ").problem == "no-timezone"
    assert DigestRequest.from_options(None, None, action="status").action == "status"


def test_source_words() -> None:
    assert SourceRequest.parse("add https://a.example/feed every 2h") == SourceRequest("add", "https://a.example/feed", "2h")
    assert SourceRequest.parse("https://a.example/feed 30m") == SourceRequest("add", "https://a.example/feed", "30m")
    assert SourceRequest.parse("list").action == "list" and SourceRequest.parse("").action == "help"
    assert SourceRequest.parse("add") == SourceRequest("add")
    assert SourceRequest.from_options(None) == SourceRequest("list")
    assert SourceRequest.from_options(" https://a.example ", "") == SourceRequest("add", "https://a.example", None)


# ---- hostile input ----------------------------------------------------------------------------------------------

def test_control_and_invisible_characters_are_word_breaks_or_nothing() -> None:
    assert commands.clean("who\x00 is\tstriking?\r\n\x1b[31m") == "who is striking? [31m"
    assert commands.clean("st\u200bri\u202eke\ufeff") == "strike"  # zero-width, bidi override, BOM
    assert commands.question(None) == "" and commands.topic("  \n ") is None
    assert DigestRequest.parse("\x00off\x00").action == "off"
    assert DigestRequest.parse("08:00\u200b\tEurope/Berlin").timezone == "Europe/Berlin"


def test_huge_input_is_quoted_back_short() -> None:
    huge = "x" * 200_000
    for d in (SLACK, DISCORD):
        reply = commands.digest(_never(), WHERE, DigestRequest.parse(huge), d)
        assert reply.text.startswith("I didn't understand") and len(reply.text) < 400
    assert len(commands.question(huge)) == 200_000  # a question is the core's to refuse, naming its length


def test_mentions_in_input_are_inert_in_the_reply() -> None:
    slack = commands.digest(_never(), WHERE, DigestRequest.parse("<!channel> <@U1> now"), SLACK)
    assert "<!channel>" not in slack.text and "&lt;!channel&gt;" in slack.text
    discord = commands.digest(_never(), WHERE, DigestRequest.parse("@everyone <@123> now"), DISCORD)
    assert "<@123>" not in discord.text and "\\<@123\\>" in discord.text


def _never() -> object:
    """A Service that must not be called: the grammar refused the command first."""
    class Never:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the core was asked {name}")
    return Never()


# ---- each command against the real core ------------------------------------------------------------------------

def test_digest_set_status_off_against_the_real_core(tmp_path: Path) -> None:
    core = chat_core(tmp_path)
    set_ = commands.digest(core, WHERE, DigestRequest.parse("8h00 Europe/Berlin weekdays strike"), SLACK)
    assert set_.public and set_.text == ("Digest set: this channel gets a brief on weekdays at *08:00* (Europe/Berlin) "
                                         "about “strike”. `/digest off` stops it.")
    [sub] = core.subscriptions(WHERE)
    assert (sub.time_of_day, sub.cadence, sub.topic, sub.created_by) == ("08:00", "weekdays", "strike", "U1")
    status = commands.digest(core, WHERE, DigestRequest.from_options(None, None, action="status"), DISCORD)
    assert status.text == "This channel gets a digest on weekdays at **08:00** (Europe/Berlin) about “strike”."
    zone = commands.digest(core, WHERE, DigestRequest.parse("08:00 Mars/Olympus"), SLACK)
    assert not zone.public and zone.text.startswith("“Mars/Olympus” is not a time zone I know")
    assert commands.digest(core, WHERE, DigestRequest.parse("off"), SLACK) == commands.Reply(
        "Stopped this channel's digest.", public=True)
    assert commands.digest(core, WHERE, DigestRequest.parse("off"), SLACK).text == "This channel has no digest to stop."


def test_refusals_name_the_input_and_what_to_type(tmp_path: Path) -> None:
    core = chat_core(tmp_path)
    assert commands.digest(core, WHERE, DigestRequest.parse("8 UTC"), SLACK).text == \
        "“8” is not a time of day: use 24-hour HH:MM, e.g. `/digest 08:00 Europe/Berlin`."
    assert commands.digest(core, WHERE, DigestRequest.from_options("08:00", None), DISCORD).text == \
        "Add a timezone to the time, e.g. `/digest time:08:00 timezone:Europe/Berlin`."
    assert commands.digest(core, WHERE, DigestRequest.from_options(None, None), DISCORD).text.startswith(
        "Give a time for the digest, e.g. `/digest time:08:00 timezone:Europe/Berlin`")
    assert core.subscriptions(WHERE) == []


def test_source_add_list_and_refusals_against_the_real_core(tmp_path: Path) -> None:
    core = chat_core(tmp_path)
    assert commands.source(core, WHERE, SourceRequest.parse("list"), SLACK).text == \
        "No sources yet: `/source add URL [every 30m]`."
    added = commands.source(core, WHERE, SourceRequest.parse("add https://news.example/feed.xml every 2h"), SLACK)
    assert added == commands.Reply("Added https://news.example/feed.xml: polled every 2 hours.", public=True)
    listed = commands.source(core, WHERE, SourceRequest.from_options(None), DISCORD)
    assert listed.text == "Sources:\n• `https://news.example/feed.xml`"  # a link only where the bot puts one
    refused = commands.source(core, WHERE, SourceRequest.parse("file:///etc/passwd"), SLACK)
    assert not refused.public and "is not a web address" in refused.text


def test_feedback_thanks_or_says_sorry(tmp_path: Path) -> None:
    core = chat_core(tmp_path)
    answer = core.ask("What did Maria Lopez say about the strike?", WHERE)
    assert commands.feedback(core, answer.id or "", WHERE, True).text == commands.THANKS
    assert core.store.feedback_counts() == {"helpful": 1, "not_helpful": 0}
    with sqlite3.connect(tmp_path / "chat.db") as db:  # the store breaks under the bot
        db.execute("DROP TABLE feedback")
    assert commands.feedback(core, answer.id or "", WHERE, True).text == commands.ERROR


def test_help_names_each_platforms_own_syntax() -> None:
    assert "`/digest 08:00 Europe/Berlin" in commands.help_text(SLACK) and "/briefbot help" in commands.help_text(SLACK)
    assert "`/digest time:08:00 timezone:Europe/Berlin" in commands.help_text(DISCORD)
    assert "/briefbot" not in commands.help_text(DISCORD)
    assert commands.help_text(SLACK).startswith("*briefbot*") and commands.help_text(DISCORD).startswith("**briefbot**")
