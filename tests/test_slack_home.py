"""Slack's App Home tab, the greeting when the bot joins a channel, `/briefbot help`, and the vote's "thanks"
when the ephemeral message fails: signed requests to the real Bolt app, replies recorded by the fake Web API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier

from bot.adapters import slack_render as render
from bot.adapters.slack import SlackBot
from bot.adapters.slack_home import (
    DIGEST_FORM,
    HOME_DIGEST_EDIT,
    HOME_DIGEST_OFF,
    HOME_DIGEST_PAUSE,
    HOME_DIGEST_RESUME,
)
from bot.answer import Answerer
from bot.brief import BriefBuilder
from bot.core import Core
from bot.domain import Channel
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.base import Store
from bot.web.links import Linker, derive_key
from tests.fakes.slack_api import BOT_USER, FakeSlack

SECRET = "home-signing-secret"
SAMPLES = Path(__file__).resolve().parent.parent / "bot" / "samples"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/home.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    yield s
    s.close()


@pytest.fixture
def core(store: Store) -> Core:
    return Core(store, Answerer(store), BriefBuilder(store))


@pytest.fixture
def bot(fake: FakeSlack, core: Core) -> Iterator[SlackBot]:
    b = SlackBot(core, bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url,
                 linker=Linker(derive_key("k"), "https://briefbot.example"))
    yield b
    b.close(10)


def signed(body: str, ctype: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"content-type": ctype, "x-slack-request-timestamp": stamp,
            "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)}


def send_event(bot: SlackBot, ev: dict[str, Any]) -> int:
    body = json.dumps({"token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": f"Ev{time.monotonic_ns()}", "event_time": int(time.time()), "event": ev,
                       "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}]})
    return bot.handle_http(body.encode(), signed(body, "application/json"))[0]


def send_form(bot: SlackBot, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    body = urlencode(form)
    status, _, out = bot.handle_http(body.encode(), signed(body, "application/x-www-form-urlencoded"))
    return status, (json.loads(out) if out else {})


def test_home_tab_shows_help_digests_scopes_and_the_latest_brief(fake: FakeSlack, bot: SlackBot, core: Core,
                                                                 store: Store) -> None:
    fake.members["U1"] = ["C1", "C2", "C3"]
    core.subscribe(Channel("slack", "C1", "U9"), "08:00", "Europe/Berlin", topic="harbour")
    store.set_channel_sources("slack", "C2", ["riverside-tram"])
    core.subscribe(Channel("slack", "C9", "U9"), "07:00", "UTC")  # a channel U1 is not in
    brief = core.brief(None, Channel("slack", "C1"))
    assert send_event(bot, {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home",
                            "event_ts": "1.2"}) == 200
    [call] = fake.wait_for("views.publish")
    assert call.body["user_id"] == "U1"
    view = call.body["view"]
    parsed = View(**view)  # slack_sdk's own models: every block and field is one Slack knows
    parsed.validate_json()
    assert parsed.to_dict() == view and len(view["blocks"]) <= 100
    for b in Block.parse_all(view["blocks"]):
        b.validate_json()
    text = json.dumps(view, ensure_ascii=False)
    assert "`@briefbot your question`" in text and "/briefbot help" in text
    assert "<#C1>: every day at *08:00* (Europe/Berlin) about “harbour”" in text
    assert "<#C2>: no digest" in text and "`riverside-tram`" in text
    assert "C9" not in text and "<#C3>" not in text  # not the user's channel; no digest nor scope
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(x["action_id"], x["value"]) for x in buttons] == [
        (HOME_DIGEST_EDIT, "C1"), (HOME_DIGEST_PAUSE, "C1"), (HOME_DIGEST_OFF, "C1"), (HOME_DIGEST_EDIT, "C2")]
    assert buttons[2]["confirm"] and buttons[3]["text"]["text"] == "Set a digest"
    assert brief.stories[0].headline in text and "https://briefbot.example/b/" in text


def click(bot: SlackBot, action_id: str, channel: str, user: str = "U1") -> None:
    """A click on one of the Home tab's buttons."""
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "token": "t", "container": {"type": "view", "view_id": "V1"}, "trigger_id": f"trig-{channel}",
               "view": {"id": "V1", "type": "home"},
               "actions": [{"action_id": action_id, "value": channel, "type": "button", "block_id": "b",
                            "action_ts": "1"}]}
    assert send_form(bot, {"payload": json.dumps(payload)})[0] == 200


def test_home_stop_button_stops_only_a_members_channel_digest(fake: FakeSlack, bot: SlackBot, core: Core) -> None:
    fake.members["U1"] = ["C1"]
    core.subscribe(Channel("slack", "C1", "U9"), "08:00", "UTC")
    core.subscribe(Channel("slack", "C9", "U9"), "08:00", "UTC")
    click(bot, HOME_DIGEST_OFF, "C9")  # forged: U1 is not in C9
    fake.wait_for("views.publish")
    assert core.subscriptions(Channel("slack", "C9"))
    click(bot, HOME_DIGEST_OFF, "C1")
    fake.wait_for("views.publish", count=2)
    assert not core.subscriptions(Channel("slack", "C1"))
    assert "<#C1>" not in json.dumps(fake.of("views.publish")[-1].body["view"])


def test_home_tab_without_channel_scopes_lists_no_channel(fake: FakeSlack, bot: SlackBot, core: Core) -> None:
    core.subscribe(Channel("slack", "C1", "U9"), "08:00", "UTC")
    fake.fail_next("users.conversations", "missing_scope")
    send_event(bot, {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1"})
    [call] = fake.wait_for("views.publish")
    assert "<#C1>" not in json.dumps(call.body["view"]) and "None yet" in json.dumps(call.body["view"])


def test_greeting_when_the_bot_joins_a_channel_and_only_then(fake: FakeSlack, bot: SlackBot) -> None:
    send_event(bot, {"type": "member_joined_channel", "user": "U5", "channel": "C7", "channel_type": "C",
                     "event_ts": "1"})
    send_event(bot, {"type": "member_joined_channel", "user": BOT_USER, "channel": "C7", "channel_type": "C",
                     "event_ts": "2"})
    [post] = fake.wait_for("chat.postMessage")
    assert bot.drain(10)
    assert post.body["channel"] == "C7" and "/briefbot help" in post.body["text"]
    assert len(fake.of("chat.postMessage")) == 1


def test_briefbot_help_command(fake: FakeSlack, bot: SlackBot) -> None:
    status, body = send_form(bot, {"token": "t", "team_id": "T1", "channel_id": "C1", "user_id": "U1",
                                   "command": "/briefbot", "text": "help", "api_app_id": "A1",
                                   "response_url": fake.response_url("help"), "trigger_id": "1"})
    assert status == 200 and "/digest" in body["text"] and "/source" in body["text"]
    assert body.get("response_type") != "in_channel"


def test_thanks_goes_through_the_response_url_when_the_ephemeral_fails(fake: FakeSlack, bot: SlackBot) -> None:
    fake.fail_next("chat.postEphemeral", "user_not_in_channel")
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "api_app_id": "A1",
               "token": "t", "channel": {"id": "C1"}, "message": {"ts": "1.1"}, "trigger_id": "1",
               "container": {"type": "message", "channel_id": "C1"}, "response_url": fake.response_url("vote"),
               "actions": [{"action_id": render.FEEDBACK_HELPFUL, "value": "nope", "type": "button"}]}
    assert send_form(bot, {"payload": json.dumps(payload)})[0] == 200
    [sent] = fake.wait_for("response_url")
    assert sent.path == "/response/vote" and sent.body["text"] == render.THANKS
    assert sent.body["response_type"] == "ephemeral" and sent.body["replace_original"] is False


def home_view(fake: FakeSlack, count: int) -> dict[str, Any]:
    """The Home tab as published the `count`th time, checked against slack_sdk's own models."""
    view: dict[str, Any] = fake.wait_for("views.publish", count=count)[count - 1].body["view"]
    View(**view).validate_json()
    return view


def test_home_pause_and_resume_buttons_keep_the_digest_and_only_for_members(fake: FakeSlack, bot: SlackBot,
                                                                         core: Core) -> None:
    fake.members["U1"] = ["C1"]
    c1, c9 = Channel("slack", "C1", "U9"), Channel("slack", "C9", "U9")
    core.subscribe(c1, "08:00", "Europe/Berlin", topic="harbour", cadence="weekdays")
    core.subscribe(c9, "08:00", "UTC")
    click(bot, HOME_DIGEST_PAUSE, "C9")  # forged: U1 is not in C9
    home_view(fake, 1)
    assert core.subscriptions(c9) and not core.paused_subscriptions(c9)
    click(bot, HOME_DIGEST_PAUSE, "C1")
    view = home_view(fake, 2)
    assert not core.subscriptions(c1)
    [paused] = core.paused_subscriptions(c1)
    assert (paused.time_of_day, paused.timezone, paused.cadence, paused.topic) == \
        ("08:00", "Europe/Berlin", "weekdays", "harbour")
    text = json.dumps(view, ensure_ascii=False)
    assert "<#C1>: *paused* — on weekdays at *08:00* (Europe/Berlin) about “harbour”" in text
    buttons = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [HOME_DIGEST_EDIT, HOME_DIGEST_RESUME, HOME_DIGEST_OFF]
    click(bot, HOME_DIGEST_RESUME, "C1")
    view = home_view(fake, 3)
    [resumed] = core.subscriptions(c1)
    assert (resumed.time_of_day, resumed.cadence, resumed.topic) == ("08:00", "weekdays", "harbour")
    assert "*paused*" not in json.dumps(view) and not core.paused_subscriptions(c1)


def submit_form(bot: SlackBot, channel: str, time_: str, zone: str, cadence: str, topic: str | None,
                user: str = "U1") -> tuple[int, dict[str, Any]]:
    """The digest form submitted with these answers."""
    values = {"time": {"value": {"type": "plain_text_input", "value": time_}},
              "timezone": {"value": {"type": "plain_text_input", "value": zone}},
              "cadence": {"value": {"type": "static_select", "selected_option": {
                  "text": {"type": "plain_text", "text": cadence}, "value": cadence}}},
              "topic": {"value": {"type": "plain_text_input", "value": topic}}}
    payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "token": "t", "trigger_id": "2",
               "view": {"id": "V2", "type": "modal", "callback_id": DIGEST_FORM, "private_metadata": channel,
                        "state": {"values": values}}}
    return send_form(bot, {"payload": json.dumps(payload)})


def test_change_opens_a_filled_in_form_and_saving_it_changes_the_digest(fake: FakeSlack, bot: SlackBot,
                                                                        core: Core) -> None:
    fake.members["U1"] = ["C1"]
    c1 = Channel("slack", "C1", "U9")
    core.subscribe(c1, "08:00", "Europe/Berlin", topic="harbour", cadence="weekdays")
    click(bot, HOME_DIGEST_EDIT, "C1")
    [opened] = fake.wait_for("views.open")
    assert opened.body["trigger_id"] == "trig-C1"
    form = opened.body["view"]
    View(**form).validate_json()
    initial = {b["block_id"]: b["element"].get("initial_value") or b["element"].get("initial_option", {}).get("value")
               for b in form["blocks"] if b["type"] == "input"}
    assert initial == {"time": "08:00", "timezone": "Europe/Berlin", "cadence": "weekdays", "topic": "harbour"}
    status, body = submit_form(bot, "C1", "7h30", "America/New_York", "weekly", "tram\u202e\x00 line")
    assert status == 200 and not body  # accepted: the form closes
    home_view(fake, 1)
    [sub] = core.subscriptions(c1)
    assert (sub.time_of_day, sub.timezone, sub.cadence, sub.topic) == ("07:30", "America/New_York", "weekly",
                                                                       "tram line")


def test_the_form_names_what_is_wrong_and_changes_nothing(fake: FakeSlack, bot: SlackBot, core: Core) -> None:
    fake.members["U1"] = ["C1"]
    c1 = Channel("slack", "C1", "U9")
    core.subscribe(c1, "08:00", "UTC")
    status, body = submit_form(bot, "C1", "25:00", "Mars/Olympus", "hourly", "x" * 5000)
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"time", "timezone", "cadence", "topic"}
    assert body["errors"]["time"].startswith("“25:00” is not a time of day")
    assert body["errors"]["timezone"].startswith("“Mars/Olympus” is not a time zone I know")
    submit_form(bot, "C9", "09:00", "UTC", "daily", None)  # a channel U1 is not in
    assert bot.drain(10)
    assert not core.subscriptions(Channel("slack", "C9"))
    assert [s.time_of_day for s in core.subscriptions(c1)] == ["08:00"]


def test_changing_a_paused_digest_keeps_it_paused(fake: FakeSlack, bot: SlackBot, core: Core) -> None:
    fake.members["U1"] = ["C1"]
    c1 = Channel("slack", "C1", "U9")
    core.subscribe(c1, "08:00", "UTC")
    core.pause(c1)
    click(bot, HOME_DIGEST_EDIT, "C1")
    [opened] = fake.wait_for("views.open")
    assert "stays paused" in json.dumps(opened.body["view"])
    submit_form(bot, "C1", "09:15", "UTC", "daily", "")
    home_view(fake, 1)
    assert not core.subscriptions(c1)
    assert [(s.time_of_day, s.topic) for s in core.paused_subscriptions(c1)] == [("09:15", None)]


def test_home_tab_with_many_channels_and_hostile_topics_stays_valid(fake: FakeSlack, bot: SlackBot,
                                                                     core: Core) -> None:
    fake.members["U1"] = [f"C{i}" for i in range(30)]
    for i in range(30):
        core.subscribe(Channel("slack", f"C{i}", "U9"), "08:00", "UTC", topic=f"<!channel> <@U2> *x*{'y' * 180}")
    core.pause(Channel("slack", "C3"))
    send_event(bot, {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1"})
    view = home_view(fake, 1)
    for b in Block.parse_all(view["blocks"]):
        b.validate_json()
    assert len(view["blocks"]) <= 100
    text = json.dumps(view)
    assert "<!channel>" not in text and "<@U2>" not in text and "&lt;!channel&gt;" in text
    assert "and 10 more channels" in text
