"""The Slack adapter end to end: the real Bolt App and WebClient against a fake Web API on loopback.

Requests are signed like Slack signs them. The real Core answers on a store in tmp_path wherever the test need not
observe the core's calls; where it must (which question, which conversation, a slow or failing core), the one
recording stand-in, tests.fakes.service.FakeService, does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.adapters import slack_render as render
from bot.adapters.slack import SlackBot, SlackPoster, SlackPostError, SlackRunner, build_slack_app
from bot.domain import (
    Answer,
    Brief,
    BriefQuote,
    Channel,
    Citation,
    Difference,
    KeyPoint,
    Quote,
    StoryBrief,
)
from tests.conftest import chat_core
from tests.fakes.service import FakeService
from tests.fakes.slack_api import BOT_ID, BOT_USER, FakeSlack, FakeSocketMode

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token-do-not-log-me"
APP_TOKEN = "xapp-test-app-token"


# ---- the core at the edge ---------------------------------------------------------------------------------

def cite(n: int, url: str | None = "https://news.example/strike", title: str = "Harbour strike",
         outlet: str | None = "Gazette", source: str = "/data/harbour-strike-gazette.txt") -> Citation:
    return Citation(n=n, source=source, text="Dock workers walked out at dawn.", doc_id=n, start=0, end=32,
                    title=title, url=url, outlet=outlet)


def answer(found: bool = True) -> Answer:
    if not found:
        return Answer(question="q", text="I found nothing about that in the stored articles.", found=False,
                      why="searched 42 articles for: tram, fares", id="ans-404")
    q = Quote(text="We will not back down", start=0, end=21, speaker="Maria Lopez", description="union leader")
    return Answer(question="q", text="Dock workers struck at dawn [1] over pay & <hours> [2].", found=True,
                  citations=[cite(1), cite(2, url=None, title="Courier report", outlet=None,
                                          source="/data/harbour-strike-courier.txt")],
                  quotes=[(q, cite(1))], id="ans-1")


def brief(stories: int = 2) -> Brief:
    c = cite(1)
    return Brief(stories=[StoryBrief(story_id=i, headline=f"Harbour strike day {i}", summary="Workers walked out.",
                                     key_points=[KeyPoint("Pay is the issue", [c])],
                                     quotes=[BriefQuote("Maria Lopez", "We will not back down", c, "union leader")],
                                     differences=[Difference("cause", [KeyPoint("Gazette says pay", [c])])])
                          for i in range(stories)], generated_at="2024-05-01T08:00:00Z")


# ---- fixtures and request helpers -------------------------------------------------------------------------

@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


def make_bot(fake: FakeSlack, service: Any, **kw: Any) -> SlackBot:
    return SlackBot(service, bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url, **kw)


def recording() -> FakeService:
    """The stand-in core: every question gets the canned answer above, every /brief the canned brief."""
    return FakeService(lambda question: answer(), lambda topic: brief())


@pytest.fixture
def service() -> FakeService:
    return recording()


@pytest.fixture
def bot(fake: FakeSlack, service: FakeService) -> Iterator[SlackBot]:
    b = make_bot(fake, service)
    yield b
    b.close(5)


def serve(bot: SlackBot) -> tuple[SlackRunner, str]:
    runner = SlackRunner(bot, mode="http")
    return runner, f"http://127.0.0.1:{runner.serve_http(0).server_address[1]}/slack/events"


@pytest.fixture
def http(bot: SlackBot) -> Iterator[str]:
    runner, url = serve(bot)
    yield url
    runner.stop(5)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Any]:
    """The real Core on two articles written for the test."""
    c = chat_core(tmp_path)
    yield c
    c.store.close()


@pytest.fixture
def real_http(fake: FakeSlack, core: Any) -> Iterator[str]:
    """POST /slack/events of a SlackBot answering with the real core."""
    runner, url = serve(make_bot(fake, core))
    yield url
    runner.stop(10)


def signed(body: str, ctype: str, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    sig = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"content-type": ctype, "x-slack-request-timestamp": stamp, "x-slack-signature": sig}


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str, float]:
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode(), time.monotonic() - start
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), time.monotonic() - start


_ids = iter(range(1, 10_000))


def event(ev: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id or f"Ev{next(_ids)}", "event_time": int(time.time()), "event": ev,
                       "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}]})


def mention(text: str = f"<@{BOT_USER}> what happened at the harbour?", ts: str = "100.1",
            thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    ev = {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": "C1", "event_ts": ts, **extra}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def message(text: str, channel: str = "C1", channel_type: str = "channel", ts: str = "200.1",
            thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    ev = {"type": "message", "user": "U1", "text": text, "ts": ts, "channel": channel,
          "channel_type": channel_type, "event_ts": ts, **extra}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def send_event(url: str, ev: dict[str, Any], event_id: str | None = None, **headers: str) -> int:
    body = event(ev, event_id)
    status, _, _ = post(url, body, {**signed(body, "application/json"), **headers})
    return status


def command(fake: FakeSlack, name: str, text: str = "", channel: str = "C1") -> str:
    return urlencode({"token": "legacy", "team_id": "T1", "channel_id": channel, "channel_name": "news",
                      "user_id": "U1", "user_name": "ada", "command": name, "text": text, "api_app_id": "A1",
                      "response_url": fake.response_url(name.strip("/")), "trigger_id": "1.2.3"})


def send_command(url: str, fake: FakeSlack, name: str, text: str = "") -> tuple[int, str, float]:
    body = command(fake, name, text)
    return post(url, body, signed(body, "application/x-www-form-urlencoded"))


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# ---- events -----------------------------------------------------------------------------------------------

def test_mention_tells_only_the_asker_it_is_searching_then_answers_in_the_thread(
        http: str, fake: FakeSlack, service: FakeService) -> None:
    assert send_event(http, mention()) == 200
    upd = fake.wait_for("chat.postMessage")[0].body
    [placeholder] = fake.of("chat.postEphemeral")  # to the asker alone, where they asked: no thread exists yet
    assert placeholder.body["channel"] == "C1" and placeholder.body["user"] == "U1"
    assert "thread_ts" not in placeholder.body and placeholder.body["text"] == "Searching 42 articles…"
    assert placeholder.at <= fake.of("chat.postMessage")[0].at
    assert upd["channel"] == "C1" and upd["thread_ts"] == "100.1"
    assert fake.of("chat.update") == [] and fake.of("chat.delete") == []
    blocks = all_text(upd["blocks"])
    assert "<https://news.example/strike|Harbour strike — Gazette>" in blocks
    assert "Courier report" in blocks and "harbour-strike-courier.txt" not in blocks  # a title, never a file name
    assert "pay &amp; &lt;hours&gt; [2]" in blocks
    assert "Maria Lopez" in blocks and "We will not back down" in blocks
    assert upd["text"].startswith("Dock workers struck at dawn [1]")
    actions = [b for b in upd["blocks"] if b["type"] == "actions"][0]
    assert {e["action_id"] for e in actions["elements"]} == {render.FEEDBACK_HELPFUL, render.FEEDBACK_NOT_HELPFUL}
    [asked] = service.of("ask")
    assert (asked.args[0], asked.channel) == ("what happened at the harbour?", Channel("slack", "C1", "U1"))


def test_mention_inside_a_thread_replies_in_that_thread(real_http: str, fake: FakeSlack) -> None:
    send_event(real_http, mention(ts="150.2", thread_ts="100.1"))
    assert fake.wait_for("chat.postMessage")[0].body["thread_ts"] == "100.1"
    [placeholder] = fake.of("chat.postEphemeral")  # the thread exists: the asker sees it there
    assert placeholder.body["thread_ts"] == "100.1" and placeholder.body["text"].startswith("Searching")


def test_direct_message_is_answered(http: str, fake: FakeSlack, service: FakeService) -> None:
    send_event(http, message("who is striking?", channel="D1", channel_type="im"))
    fake.wait_for("chat.postMessage")
    post_body = fake.of("chat.postMessage")[0].body
    assert post_body["channel"] == "D1" and "thread_ts" not in post_body
    assert service.questions() == ["who is striking?"]


def test_thread_follow_up_without_mention_is_answered(
        http: str, fake: FakeSlack, bot: SlackBot, service: FakeService) -> None:
    send_event(http, mention(ts="100.1"))
    fake.wait_for("chat.postMessage")
    send_event(http, message("and who leads the union?", ts="101.0", thread_ts="100.1"))
    fake.wait_for("chat.postMessage", 2)
    # a message in a thread the bot never joined, a top-level message, and a mention's twin message event
    send_event(http, message("unrelated", ts="102.0", thread_ts="999.9"))
    send_event(http, message("top level chatter", ts="103.0"))
    send_event(http, message(f"<@{BOT_USER}> again", ts="104.0", thread_ts="100.1"))
    assert bot.drain(5)  # listeners run before the HTTP reply: whatever the events started is queued by now
    assert service.questions() == ["what happened at the harbour?", "and who leads the union?"]
    assert [c.body["thread_ts"] for c in fake.of("chat.postMessage")] == ["100.1", "100.1"]
    # both turns belong to the thread's conversation, so the follow-up is read in the light of the first
    assert [c.conversation for c in service.of("ask")] == ["slack:C1:100.1", "slack:C1:100.1"]


def test_a_thread_another_replica_answered_in_is_followed(
        http: str, fake: FakeSlack, bot: SlackBot, service: FakeService) -> None:
    service.known_conversations.add("slack:C1:555.5")  # stored by another replica, or before a restart
    send_event(http, message("and who leads the union?", ts="556.0", thread_ts="555.5"))
    fake.wait_for("chat.postMessage")
    send_event(http, message("never joined", ts="601.0", thread_ts="600.0"))
    assert bot.drain(5)
    assert service.questions() == ["and who leads the union?"]
    assert [c.conversation for c in service.of("ask")] == ["slack:C1:555.5"]


def test_a_dm_is_one_conversation(http: str, fake: FakeSlack, bot: SlackBot, service: FakeService) -> None:
    send_event(http, message("who is striking?", channel="D1", channel_type="im", ts="1.0"))
    fake.wait_for("chat.postMessage")
    send_event(http, message("and why?", channel="D1", channel_type="im", ts="2.0"))
    fake.wait_for("chat.postMessage", 2)
    assert [c.conversation for c in service.of("ask")] == ["slack:D1", "slack:D1"]


@pytest.mark.parametrize("ev", [
    message("echo", channel="D1", channel_type="im", user=BOT_USER),  # the bot's own words
    message("echo", channel="D1", channel_type="im", bot_id=BOT_ID),
    message("other bot", channel="D1", channel_type="im", bot_id="BOTHER", subtype="bot_message"),
    message("other bot", channel="D1", channel_type="im", bot_id="BOTHER", user="UOTHER"),
    message("edited", channel="D1", channel_type="im", subtype="message_changed"),
    mention(bot_id="BOTHER", user="UOTHER"),
])
def test_bot_messages_are_ignored(ev: dict[str, Any], http: str, fake: FakeSlack, bot: SlackBot,
                                  service: FakeService) -> None:
    assert send_event(http, ev) == 200
    assert bot.drain(5)  # listeners run before the HTTP reply, so anything the event started is queued by now
    assert service.calls == []
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


def test_retried_delivery_is_answered_once(http: str, fake: FakeSlack, bot: SlackBot,
                                           service: FakeService) -> None:
    ev = mention()
    assert send_event(http, ev, event_id="EvSAME") == 200
    assert send_event(http, ev, "EvSAME", **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}) == 200
    fake.wait_for("chat.postMessage")
    assert bot.drain(5)  # both deliveries were handled before their replies: a second answer is queued by now
    assert len(service.of("ask")) == 1
    assert len(fake.of("chat.postMessage")) == 1


def test_dedupe_hook_is_used(fake: FakeSlack, service: FakeService) -> None:
    claimed: list[str] = []

    def seen(event_id: str) -> bool:
        claimed.append(event_id)
        return True  # another replica already claimed it

    bot = make_bot(fake, service, dedupe=seen)
    runner = SlackRunner(bot, mode="http")
    url = f"http://127.0.0.1:{runner.serve_http(0).server_address[1]}/slack/events"
    send_event(url, mention(), event_id="EvX")
    runner.stop(5)
    assert claimed == ["EvX"] and service.calls == []


def test_streamed_partials_update_the_message_at_most_every_interval(fake: FakeSlack) -> None:
    clock = [0.0]
    service = recording()
    service.partials = [(0.5, "Dock"), (1.6, "Dock workers"), (2.0, "Dock workers struck"),
                        (3.2, "Dock workers struck at dawn")]
    service.clock = clock
    bot = make_bot(fake, service, clock=lambda: clock[0])
    body = event(mention())
    bot.handle_http(body.encode(), signed(body, "application/json"))
    fake.wait_for("chat.update", 2)
    assert bot.drain(5)
    # the answer is posted with its first words and updated as it grows, at most once an interval
    [first] = fake.of("chat.postMessage")
    updates = fake.of("chat.update")
    assert len(updates) == 2 and len({u.body["ts"] for u in updates}) == 1  # the one message posted
    assert first.body["thread_ts"] == "100.1" and first.body["blocks"][0]["text"]["text"] == "Dock workers …"
    assert "Writing the answer" in all_text(first.body["blocks"])
    assert "Writing the answer" in all_text(updates[0].body["blocks"])
    assert updates[1].body["text"].startswith("Dock workers struck at dawn [1]")
    bot.close(5)


def test_core_failure_becomes_an_honest_message_and_a_log_line(
        fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    service = recording()
    service.error = RuntimeError("index is corrupt")
    bot = make_bot(fake, service)
    body = event(mention())
    with caplog.at_level(logging.DEBUG):
        status, _, _ = bot.handle_http(body.encode(), signed(body, "application/json"))
        placeholder, sorry = (c.body for c in fake.wait_for("chat.postEphemeral", 2))
        assert bot.drain(5)
    assert status == 200
    # only the asker ever saw anything: "Searching…", then the apology; nothing is left in the channel
    assert placeholder["text"].startswith("Searching") and sorry["text"] == render.SORRY and sorry["user"] == "U1"
    assert [c.method for c in fake.calls if c.method.startswith("chat.")] == ["chat.postEphemeral"] * 2
    assert "index is corrupt" in caplog.text and "answering a question in C1 failed" in caplog.text
    assert TOKEN not in caplog.text
    bot.close(5)


def test_a_refused_placeholder_does_not_stop_the_answer(fake: FakeSlack, core: Any) -> None:
    bot = make_bot(fake, core)
    fake.fail_next("chat.postEphemeral", "user_not_in_channel")
    body = event(mention())
    bot.handle_http(body.encode(), signed(body, "application/json"))
    [answer] = fake.wait_for("chat.postMessage")
    assert answer.body["thread_ts"] == "100.1" and "Maria Lopez" in answer.body["text"]
    bot.close(5)


def test_a_refused_answer_tells_the_asker_privately(fake: FakeSlack, core: Any) -> None:
    bot = make_bot(fake, core)
    fake.fail_next("chat.postMessage", "msg_too_long")
    body = event(mention())
    bot.handle_http(body.encode(), signed(body, "application/json"))
    sorry = fake.wait_for("chat.postEphemeral", 2)[1].body
    assert sorry["text"] == render.SORRY and sorry["user"] == "U1"
    assert bot.drain(5) and len(fake.of("chat.postMessage")) == 1  # the refused one, and no other
    bot.close(5)


def test_an_answer_failing_halfway_takes_back_what_it_had_written(fake: FakeSlack) -> None:
    clock = [0.0]
    service = recording()
    service.partials = [(2.0, "Dock workers struck")]
    service.clock = clock
    service.error = RuntimeError("the model went away")
    bot = make_bot(fake, service, clock=lambda: clock[0])
    body = event(mention())
    bot.handle_http(body.encode(), signed(body, "application/json"))
    [deleted] = fake.wait_for("chat.delete")
    assert bot.drain(5)
    [half] = fake.of("chat.postMessage")
    assert half.body["thread_ts"] == "100.1" and deleted.body["channel"] == "C1" and deleted.body["ts"].startswith("17")
    assert [c.body["text"] for c in fake.of("chat.postEphemeral")][-1] == render.SORRY
    assert fake.of("chat.update") == []
    bot.close(5)


def test_when_nothing_private_reaches_the_asker_the_apology_goes_in_the_thread(fake: FakeSlack) -> None:
    service = recording()
    service.error = RuntimeError("index is corrupt")
    bot = make_bot(fake, service)
    fake.fail_next("chat.postEphemeral", "user_not_in_channel")
    fake.fail_next("chat.postEphemeral", "user_not_in_channel")
    body = event(mention())
    bot.handle_http(body.encode(), signed(body, "application/json"))
    [sorry] = fake.wait_for("chat.postMessage")
    assert sorry.body["text"] == render.SORRY and sorry.body["thread_ts"] == "100.1"
    bot.close(5)


def test_rate_limited_post_is_retried_after_retry_after(real_http: str, fake: FakeSlack) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    send_event(real_http, mention())
    first, second = fake.wait_for("chat.postMessage", 2, timeout=15)
    assert second.at - first.at >= 1.0
    assert first.body == second.body


# ---- security ---------------------------------------------------------------------------------------------

def test_wrong_signature_is_rejected_before_the_core(http: str, fake: FakeSlack, bot: SlackBot,
                                                     service: FakeService) -> None:
    body = event(mention())
    status, _, _ = post(http, body, signed(body, "application/json", secret="not-the-secret"))
    body2 = command(fake, "/ask", "anything")
    status2, _, _ = post(http, body2, {**signed(body2, "application/x-www-form-urlencoded"),
                                       "x-slack-signature": "v0=deadbeef"})
    status3, _, _ = post(http, body, {"content-type": "application/json"})
    assert bot.drain(5)
    assert (status, status2, status3) == (401, 401, 401)
    assert service.calls == [] and fake.of("chat.postMessage") == [] and fake.of("response_url") == []


def test_stale_timestamp_is_rejected(http: str, service: FakeService) -> None:
    body = event(mention())
    status, _, _ = post(http, body, signed(body, "application/json", ts=int(time.time()) - 6 * 60))
    assert status == 401 and service.calls == []


def test_http_without_signing_secret_is_refused(fake: FakeSlack, service: FakeService) -> None:
    bot = SlackBot(service, bot_token=TOKEN, signing_secret=None, api_url=fake.url)
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        SlackRunner(bot, mode="http")
    body = event(mention())
    stamp = str(int(time.time()))
    sig = "v0=" + hmac.new(b"", f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()  # an empty "secret"
    headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp, "x-slack-signature": sig}
    assert bot.handle_http(body.encode(), headers)[0] == 401
    assert service.calls == []


def test_url_verification_challenge(http: str) -> None:
    body = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"})
    status, text, _ = post(http, body, signed(body, "application/json"))
    assert status == 200 and "abc123" in text


# ---- slash commands ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("before_response", [False, True])
def test_ask_acks_within_3s_with_a_slow_core_then_answers_via_response_url(fake: FakeSlack,
                                                                          before_response: bool) -> None:
    service = recording()
    service.delay = 4.0
    bot = make_bot(fake, service, process_before_response=before_response)
    runner = SlackRunner(bot, mode="http")
    url = f"http://127.0.0.1:{runner.serve_http(0).server_address[1]}/slack/events"
    status, body, took = send_command(url, fake, "/ask", "what happened at the harbour?")
    assert status == 200 and took < 3.0
    # the ack itself is the placeholder, shown to the asker alone at once; the answer is a new public message,
    # and then the placeholder goes
    ack = json.loads(body)
    assert ack["text"] == "Searching 42 articles…" and ack.get("response_type", "ephemeral") == "ephemeral"
    reply, drop = fake.wait_for("response_url", 2, timeout=15)
    final = reply.body
    assert final["replace_original"] is False and final["response_type"] == "in_channel"
    assert drop.body["delete_original"] is True and drop.path == "/response/ask"
    assert "<https://news.example/strike|Harbour strike — Gazette>" in all_text(final["blocks"])
    assert "<@U1> asked: _what happened at the harbour?_" in all_text(final["blocks"])
    assert reply.path == "/response/ask"
    runner.stop(10)


def test_empty_or_unknown_command_gets_help(http: str, fake: FakeSlack, service: FakeService) -> None:
    for name, text in [("/ask", ""), ("/digest", ""), ("/whatever", "x")]:
        status, body, _ = send_command(http, fake, name, text)
        assert status == 200 and "/digest 08:00 Europe/Berlin" in json.loads(body)["text"]
    assert service.calls == []


def test_brief_command(real_http: str, fake: FakeSlack, core: Any) -> None:
    status, body, _ = send_command(real_http, fake, "/brief", "strike")
    assert status == 200
    placeholder = json.loads(body)  # the ack, to the asker alone
    assert placeholder["text"] == "Searching 2 articles…" and "response_type" not in placeholder
    final, drop = (r.body for r in fake.wait_for("response_url", 2))
    assert final["replace_original"] is False and final["response_type"] == "in_channel"
    assert drop["delete_original"] is True and not drop.get("blocks")
    assert final["blocks"][0]["text"]["text"] == "News brief: strike"
    assert "Dock workers strike at Port Aldmere over pay" in final["text"] and "tram" not in final["text"].lower()
    assert "walked out at dawn" in all_text(final["blocks"])
    assert core.latest_brief(Channel("slack", "C1")) is not None  # kept for its page and the Home tab


@pytest.mark.parametrize("text,expect,stored", [
    ("08:00 Europe/Berlin harbour strike", "every day at *08:00* (Europe/Berlin) about “harbour strike”",
     ("08:00", "Europe/Berlin", "harbour strike", "daily")),
    ("7:30 Europe/Paris weekdays", "on weekdays at *07:30*", ("07:30", "Europe/Paris", None, "weekdays")),
    ("8.00 UTC", "every day at *08:00* (UTC)", ("08:00", "UTC", None, "daily")),  # the core's forms, here too
    ("8h00 UTC weekly", "every week at *08:00* (UTC)", ("08:00", "UTC", None, "weekly")),
    ("08:00 Mars/Olympus", "“Mars/Olympus” is not a time zone I know", None),
    ("8 Europe/Berlin", "“8” is not a time of day", None),
    ("08:00", "Add a timezone", None),
    ("tomorrow please", "I didn't understand", None),
    ("off", "no digest to stop", None),
    ("status", "This channel has no digest", None),
])
def test_digest_command(text: str, expect: str, stored: tuple[Any, ...] | None, real_http: str, fake: FakeSlack,
                        core: Any) -> None:
    status, _, _ = send_command(real_http, fake, "/digest", text)
    assert status == 200
    reply = fake.wait_for("response_url")[0].body
    assert expect in reply["text"]
    assert reply["response_type"] == ("in_channel" if stored else "ephemeral")
    subs = core.subscriptions(Channel("slack", "C1"))
    assert [(s.time_of_day, s.timezone, s.topic, s.cadence) for s in subs] == ([stored] if stored else [])


def test_digest_set_then_status_then_off(real_http: str, fake: FakeSlack, core: Any) -> None:
    send_command(real_http, fake, "/digest", "08:00 Europe/Berlin")
    fake.wait_for("response_url")
    send_command(real_http, fake, "/digest", "status")
    assert "every day at *08:00* (Europe/Berlin)" in fake.wait_for("response_url", 2)[1].body["text"]
    send_command(real_http, fake, "/digest", "off")
    off = fake.wait_for("response_url", 3)[2].body
    assert off["text"] == "Stopped this channel's digest." and off["response_type"] == "in_channel"
    assert core.subscriptions(Channel("slack", "C1")) == []


def test_feedback_button_records_the_vote(http: str, fake: FakeSlack, service: FakeService) -> None:
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "api_app_id": "A1",
               "token": "legacy", "trigger_id": "1.2", "channel": {"id": "C1"},
               "container": {"type": "message", "message_ts": "300.1", "channel_id": "C1"},
               "message": {"ts": "300.1", "thread_ts": "100.1", "text": "answer"},
               "response_url": fake.response_url("action"),
               "actions": [{"action_id": render.FEEDBACK_NOT_HELPFUL, "block_id": "briefbot_feedback",
                            "value": "ans-1", "type": "button", "action_ts": "1"}]}
    body = urlencode({"payload": json.dumps(payload)})
    status, _, _ = post(http, body, signed(body, "application/x-www-form-urlencoded"))
    assert status == 200
    thanks = fake.wait_for("chat.postEphemeral")[0].body
    [voted] = service.calls
    assert (voted.name, voted.args, voted.channel) == ("feedback", ("ans-1", False), Channel("slack", "C1", "U1"))
    assert thanks == {"channel": "C1", "user": "U1", "text": render.THANKS, "thread_ts": "100.1"}


def test_dispatch_directly_with_build_slack_app(fake: FakeSlack, core: Any) -> None:
    from slack_bolt import BoltRequest

    app = build_slack_app(core, bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url)
    body = event(message("hello there", channel="D1", channel_type="im"))
    resp = app.dispatch(BoltRequest(body=body, headers=signed(body, "application/json")))
    assert resp.status == 200
    assert fake.wait_for("chat.postMessage")[0].body["channel"] == "D1"


# ---- Socket Mode ------------------------------------------------------------------------------------------

def test_socket_mode_acks_the_envelope_and_replies(fake: FakeSlack, core: Any) -> None:
    envelope = {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                "retry_attempt": 0, "retry_reason": "", "payload": json.loads(event(mention()))}
    with FakeSocketMode([envelope]) as socket:
        fake.ws_url = socket.url
        runner = SlackRunner(make_bot(fake, core), mode="socket", app_token=APP_TOKEN)
        runner.start()
        try:
            assert socket.got_ack.wait(10)
            upd = fake.wait_for("chat.postMessage", timeout=30)[0].body
        finally:
            runner.stop(5)
    assert socket.acks[0]["envelope_id"] == "env-1"
    assert fake.of("apps.connections.open")[0].headers["authorization"] == f"Bearer {APP_TOKEN}"
    assert fake.of("chat.postMessage")[0].body["thread_ts"] == "100.1"
    assert "Dock workers strike at Port Aldmere over pay" in all_text(upd["blocks"])


def test_runner_refuses_socket_mode_without_app_token(bot: SlackBot) -> None:
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        SlackRunner(bot, mode="socket")


# ---- digests ----------------------------------------------------------------------------------------------

def test_poster_posts_a_brief_and_returns_its_ts(fake: FakeSlack) -> None:
    poster = SlackPoster.from_token(TOKEN, fake.url)
    ts = poster.post_brief("C9", brief(), topic="harbour")
    posts = fake.of("chat.postMessage")
    assert ts == "1700000001.000100" and len(posts) == 1  # the ts the fake gave the first post
    assert posts[0].body["channel"] == "C9" and posts[0].body["blocks"][0]["type"] == "header"
    assert posts[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_poster_names_the_problem(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackPostError, match="invite it with /invite @briefbot") as err:
        SlackPoster.from_token(TOKEN, fake.url).post_brief("C9", brief())
    assert err.value.error == "not_in_channel" and TOKEN not in str(err.value)


# ---- rendering --------------------------------------------------------------------------------------------

def test_escaping_keeps_our_links_and_defuses_theirs() -> None:
    a = Answer(question="q", text="<!channel> Tom & Jerry <https://evil.example|click> **bold**", found=True,
               citations=[cite(1, url="https://x.example/a|b>c", title="A <b> & c")])
    msg = render.render_answer(a)
    text = all_text(msg["blocks"])
    assert "&lt;!channel&gt; Tom &amp; Jerry &lt;`https://evil.example`|click&gt; *bold*" in text  # issue 14: a link as code
    assert "<https://x.example/a%7Cb%3Ec|A &lt;b&gt; &amp; c — Gazette>" in text
    assert msg["text"].startswith("&lt;!channel&gt;")
    assert render.link("javascript:alert(1)", "x") == "x"


def test_not_found_says_what_was_searched_and_how_to_ask() -> None:
    msg = render.render_answer(answer(found=False))
    text = all_text(msg["blocks"])
    assert "searched 42 articles for: tram, fares" in text and "more broadly" in text
    assert msg["text"]


def test_long_text_splits_into_sections_of_at_most_3000_chars() -> None:
    words = " ".join(f"word{i}" for i in range(2000))  # ~13,000 chars
    a = Answer(question="q", text=words, found=True)
    sections = [b for b in render.render_answer(a)["blocks"] if b["type"] == "section"]
    assert len(sections) >= 5
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert " ".join(s["text"]["text"] for s in sections) == words
    assert len(render.render_answer(a)["text"]) <= render.MAX_FALLBACK
    # a link is never cut in half
    linked = "x" * 2990 + " <https://a.example|label>" + " y" * 10
    parts = render.split_text(linked)
    assert parts[1].startswith("<https://a.example|label>")


def test_brief_splits_into_messages_of_at_most_50_blocks() -> None:
    pages = render.render_brief(brief(stories=30), topic="harbour")
    assert len(pages) > 1
    assert all(len(p["blocks"]) <= 50 for p in pages)
    assert all(p["text"] for p in pages)
    assert sum(1 for p in pages for b in p["blocks"] if b["type"] == "divider") == 30
    assert pages[1]["text"].startswith("News brief: harbour (2/")
    empty = render.render_brief(Brief(stories=[], generated_at="x", note="nothing new since the last digest"))
    assert len(empty) == 1 and "nothing new" in empty[0]["text"]


def test_every_message_has_fallback_text() -> None:
    msgs = [render.render_placeholder(0), render.render_placeholder(1), render.render_partial("abc"),
            render.render_answer(answer()), render.render_answer(Answer(question="q", text="", found=False)),
            *render.render_brief(brief())]
    assert all(m["text"] for m in msgs)
    assert render.render_placeholder(1)["text"] == "Searching 1 article…"


# ---- with the real core, when there is one ----------------------------------------------------------------

def test_real_core_answers_a_mention_with_cited_blocks(fake: FakeSlack, tmp_path: Any) -> None:
    core_mod = pytest.importorskip("bot.core", reason="bot.core (the real Service) is not there yet")
    from bot.answer import Answerer
    from bot.brief import BriefBuilder
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/slack.db")
    samples = Path(__file__).resolve().parent.parent / "bot" / "samples"
    Ingester(store, extract_quotes=extract_quotes).ingest([str(samples)])
    core = core_mod.Core(store, Answerer(store), BriefBuilder(store))
    bot = SlackBot(core, bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url)
    body = event(mention(f"<@{BOT_USER}> What did Marta Quinlan say about the strike?"))
    assert bot.handle_http(body.encode(), signed(body, "application/json"))[0] == 200
    upd = fake.wait_for("chat.postMessage", timeout=30)[0].body
    placeholder = fake.of("chat.postEphemeral")[0].body
    assert placeholder["text"] == f"Searching {store.count_documents()} articles…"
    blocks = all_text(upd["blocks"])
    assert "Dockworkers in Port Aldmere walk out" in blocks and "[1]" in blocks and upd["text"]
    assert "harbour-strike" not in blocks  # sources by title, never by file name
    answer_id = [b for b in upd["blocks"] if b["type"] == "actions"][0]["elements"][0]["value"]
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "api_app_id": "A1",
               "token": "legacy", "channel": {"id": "C1"}, "message": {"ts": "1.5", "thread_ts": "100.1"},
               "container": {"type": "message", "channel_id": "C1"},
               "actions": [{"action_id": render.FEEDBACK_HELPFUL, "value": answer_id, "type": "button"}]}
    form = urlencode({"payload": json.dumps(payload)})
    assert bot.handle_http(form.encode(), signed(form, "application/x-www-form-urlencoded"))[0] == 200
    assert fake.wait_for("chat.postEphemeral", 2)[1].body["text"] == render.THANKS
    bot.close(10)
    store.close()


def test_real_core_follows_up_in_a_thread_after_a_restart(fake: FakeSlack, tmp_path: Any) -> None:
    from bot.answer import Answerer
    from bot.brief import BriefBuilder
    from bot.core import Core
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store

    url = f"sqlite:///{tmp_path}/thread.db"
    store = open_store(url)
    samples = Path(__file__).resolve().parent.parent / "bot" / "samples"
    Ingester(store, extract_quotes=extract_quotes).ingest([str(samples)])
    first = SlackBot(Core(store, Answerer(store), BriefBuilder(store)), bot_token=TOKEN, signing_secret=SECRET,
                     api_url=fake.url)
    body = event(mention(f"<@{BOT_USER}> Who is Marta Quinlan?", ts="300.1"))
    assert first.handle_http(body.encode(), signed(body, "application/json"))[0] == 200
    assert "general secretary" in fake.wait_for("chat.postMessage", timeout=30)[0].body["text"]
    first.close(10)
    store.close()
    # a new process (or another replica) on the same database: the thread and its subject carry over
    store = open_store(url)
    second = SlackBot(Core(store, Answerer(store), BriefBuilder(store)), bot_token=TOKEN, signing_secret=SECRET,
                      api_url=fake.url)
    body = event(message("What did she say about the guarantee?", ts="301.0", thread_ts="300.1"))
    assert second.handle_http(body.encode(), signed(body, "application/json"))[0] == 200
    text = fake.wait_for("chat.postMessage", 2, timeout=30)[1].body["text"]
    assert "slideshow" in text and "Quinlan" in text
    second.close(10)
    store.close()


def test_quotes_already_in_the_answer_are_not_repeated() -> None:
    q = Quote(text="We will not back down", start=0, end=21, speaker="Maria Lopez")
    a = Answer(question="q", text="Maria Lopez said: “We will not back down” [1]", found=True,
               citations=[cite(1)], quotes=[(q, cite(1))])
    assert all_text(render.render_answer(a)["blocks"]).count("We will not back down") == 1


# ---- Slack's escaping decoded on the way in (issue 14) ---------------------------------------------------------

def test_slack_entities_are_decoded_once_on_the_way_in(http: str, fake: FakeSlack, service: FakeService) -> None:
    # what Slack sends for "What did M&S say about <prices> in #news, @ada, bbc.co.uk?"
    typed = "What did M&amp;S say about &lt;prices&gt; in <#C9|news>, <@U7|ada>, <http://bbc.co.uk|bbc.co.uk>?"
    assert send_event(http, mention(f"<@{BOT_USER}> {typed}")) == 200
    fake.wait_for("chat.postMessage", 1)
    status, _, _ = send_command(http, fake, "/ask", "What did M&amp;S say?")
    assert status == 200
    reply = fake.wait_for("response_url", 1)[0]
    assert service.questions() == ["What did M&S say about <prices> in #news, @ada, bbc.co.uk?", "What did M&S say?"]
    echoed = all_text(reply.body["blocks"])
    assert "asked: _What did M&amp;S say?_" in echoed and "&amp;amp;" not in echoed  # escaped exactly once


def test_source_command_takes_the_url_of_a_slack_link() -> None:
    assert render.unescape("add <https://news.example/feed?a=1&amp;b=2|news.example/feed> every 2h", links="url") \
        == "add https://news.example/feed?a=1&b=2 every 2h"


def test_real_core_subscribes_briefs_and_posts_the_digest_through_slack(fake: FakeSlack, tmp_path: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.adapters.slack import SlackPoster
    from bot.answer import Answerer
    from bot.brief import BriefBuilder
    from bot.core import Core
    from bot.digest import DigestRunner
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/digest.db")
    Ingester(store, extract_quotes=extract_quotes).ingest([str(Path(__file__).resolve().parent.parent / "bot" / "samples")])
    bot = SlackBot(Core(store, Answerer(store), BriefBuilder(store)), bot_token=TOKEN, signing_secret=SECRET,
                   api_url=fake.url)
    try:
        def slash(name: str, text: str) -> None:
            body = command(fake, name, text)
            assert bot.handle_http(body.encode(), signed(body, "application/x-www-form-urlencoded"))[0] == 200
            assert bot.drain(30)

        slash("/digest", "08:00 UTC tram")
        assert "every day at *08:00* (UTC) about “tram”" in fake.of("response_url")[-1].body["text"]
        [sub] = store.list_subscriptions("slack", "C1")
        assert (sub.time_of_day, sub.timezone, sub.topic, sub.created_by) == ("08:00", "UTC", "tram", "U1")
        slash("/brief", "harbour")
        final, drop = (c.body for c in fake.of("response_url")[-2:])
        assert drop["delete_original"] is True  # the asker's "Searching…" goes once the brief is out
        assert "Dockworkers in Port Aldmere walk out over automation plan" in final["text"]
        assert "tram" not in final["text"].lower()
        # the scheduler's tick: the stored subscription's digest goes out through the Slack Web API
        # the next 08:01 UTC: the articles stored just now are inside the day the digest looks back over, whatever
        # the hour the test runs at (tomorrow's 08:01 left them out between midnight and 08:00)
        now = datetime.now(UTC)
        at = now.replace(hour=8, minute=1, second=0, microsecond=0)
        at += timedelta(days=1) if at <= now else timedelta()
        done = DigestRunner(store, BriefBuilder(store), {"slack": SlackPoster(bot.client)}, owner="t",
                            clock=lambda: at).run_due()
        assert [o.startswith("posted") for _, _, o in done] == [True]
        [digest] = [c.body for c in fake.of("chat.postMessage") if c.body.get("channel") == "C1"]
        assert "Council approves Riverside tram line after six-year debate" in all_text(digest["blocks"])
        assert "Dockworkers" not in all_text(digest["blocks"])  # about "tram" only
        assert store.claims(sub.id)[0]["status"] == "posted"
    finally:
        bot.close(10)
        store.close()
