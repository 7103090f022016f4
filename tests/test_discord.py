"""The Discord adapter: rendering within Discord's limits, and the real discord.py client against a fake Discord.

The real Core answers on a store in tmp_path wherever the test need not observe the core's calls; where it must
(which question, channel and conversation, on which thread, a slow or failing core), tests.fakes.service.FakeService.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl

from bot.adapters import discord_render as render
from bot.adapters.discord_bot import ERROR_TEXT, ChannelPermissionError
from bot.adapters.discord_run import DiscordRunner, run_discord
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
from tests.fakes import discord_server as fd
from tests.fakes.service import FakeService

# --- domain builders --------------------------------------------------------------------------------------


def cite(n: int, *, url: str | None = "https://news.example/strike", title: str = "Harbour strike ends",
         outlet: str | None = "The Courier", source: str | None = None) -> Citation:
    return Citation(n=n, source=source or url or "samples/harbour-strike-courier.txt", text=f"Passage {n}.",
                    doc_id=n, start=0, end=10, title=title, url=url, outlet=outlet)


def answer(question: str = "Did the strike end?", text: str = "The strike ended on Monday [1].",
           citations: list[Citation] | None = None) -> Answer:
    c = citations if citations is not None else [cite(1)]
    q = Quote(text="We are going back to work", start=0, end=25, speaker="Mara Olsen", description="union leader")
    return Answer(question=question, text=text, found=True, citations=c, id="a-1", quotes=[(q, c[0])] if c else [])


def story(i: int, points: int = 2, quotes: int = 1) -> StoryBrief:
    c = cite(i, url=f"https://news.example/{i}", title=f"Story {i}")
    return StoryBrief(
        story_id=i, headline=f"Headline {i}", summary=f"Summary of story {i}.",
        key_points=[KeyPoint(text=f"Point {j} of story {i}.", citations=[c]) for j in range(points)],
        quotes=[BriefQuote(speaker=f"Speaker {j}", text=f"Quote {j}", citation=c, description="mayor")
                for j in range(quotes)],
        differences=[Difference(topic="cause", sides=[KeyPoint("Courier: pay", [c]), KeyPoint("Gazette: hours", [c])])],
        sources=[{"source": c.source, "title": c.title, "outlet": "The Courier", "url": c.url}],
    )


def brief(n: int = 2, **kw: Any) -> Brief:
    return Brief(stories=[story(i + 1, **kw) for i in range(n)], generated_at="2026-11-23T08:00:00+00:00")


# --- the limit checks every rendering test applies ----------------------------------------------------------


def assert_within_limits(replies: list[render.Reply]) -> None:
    assert replies
    for r in replies:
        assert len(r.content) <= 2000
        assert len(r.embeds) <= 10
        assert sum(len(e) for e in r.embeds) <= 6000
        assert r.content or r.embeds
        for e in r.embeds:
            d = e.to_dict()
            assert len(d.get("title", "")) <= 256
            assert len(d.get("description", "")) <= 4096
            assert len(d.get("fields", [])) <= 25
            assert len(d.get("footer", {}).get("text", "")) <= 2048
            assert len(e) > 0
            for f in d.get("fields", []):
                assert 0 < len(f["name"]) <= 256
                assert 0 < len(f["value"]) <= 1024


def all_text(replies: list[render.Reply]) -> str:
    out = []
    for r in replies:
        out.append(r.content)
        for e in r.embeds:
            d = e.to_dict()
            out += [d.get("title", ""), d.get("description", ""), d.get("footer", {}).get("text", "")]
            out += [f"{f['name']}\n{f['value']}" for f in d.get("fields", [])]
    return "\n".join(out)


# --- rendering ---------------------------------------------------------------------------------------------


def test_answer_embed_has_text_quotes_and_linked_citations() -> None:
    replies = render.render_answer(answer())
    assert_within_limits(replies)
    assert len(replies) == 1 and len(replies[0].embeds) == 1
    d = replies[0].embeds[0].to_dict()
    assert d["title"] == "Did the strike end?"
    assert d["description"] == "The strike ended on Monday [1]."
    fields = {f["name"]: f["value"] for f in d["fields"]}
    assert fields["Mara Olsen, union leader"] == "“We are going back to work” [1]"
    assert fields["Sources"] == "[1] [Harbour strike ends — The Courier](https://news.example/strike)"


def test_file_source_shows_its_title_not_its_file_name() -> None:
    c = cite(2, url=None, outlet=None, title="Tram line opens", source="/data/inbox/riverside-tram.txt")
    assert render.citation_line(c) == "[2] Tram line opens"
    assert "](" not in render.citation_line(c)


def test_link_text_cannot_break_the_markdown_link() -> None:
    c = cite(3, title="Strike [updated] (live)", url="https://news.example/a b)")
    line = render.citation_line(c)
    assert line == "[3] [Strike (updated) (live) — The Courier](https://news.example/a%20b%29)"


def test_non_http_url_is_not_linked() -> None:
    assert "](" not in render.citation_line(cite(4, url="javascript:alert(1)", source="x.txt"))


def test_not_found_says_what_was_searched() -> None:
    a = Answer(question="Who won the cup?", text="I couldn't find this in the stored articles.", found=False,
               why="Searched 42 articles for “cup winner”; the closest passages were about the strike.")
    replies = render.render_answer(a)
    assert_within_limits(replies)
    d = replies[0].embeds[0].to_dict()
    assert d["title"] == render.NOT_FOUND_TITLE
    assert "**What I searched:** Searched 42 articles" in d["description"]
    assert "Who won the cup?" in d["footer"]["text"]


def test_10000_char_answer_splits_descriptions_and_keeps_every_word() -> None:
    sentences = [f"Sentence number {i} says something about the harbour [1]." for i in range(200)]
    text = " ".join(sentences)
    assert len(text) > 10_000
    replies = render.render_answer(answer(text=text))
    assert_within_limits(replies)
    descriptions = [e.description or "" for r in replies for e in r.embeds if e.description]
    assert len(descriptions) >= 3
    assert all(len(d) <= 4096 for d in descriptions)
    assert " ".join(descriptions).split() == text.split()
    assert descriptions[0].endswith(".")  # split at a sentence end, not mid-word


def test_40_citations_all_listed_across_fields_embeds_and_messages() -> None:
    cites = [cite(n, url=f"https://news.example/{n}/" + "x" * 120, title=f"Article {n} " + "t" * 60)
             for n in range(1, 41)]
    text = " ".join(f"Claim {n} [{n}]." for n in range(1, 41))
    replies = render.render_answer(answer(text=text, citations=cites))
    assert_within_limits(replies)
    everything = all_text(replies)
    for n in range(1, 41):
        assert f"[{n}] [Article {n} " in everything
    source_fields = [f for r in replies for e in r.embeds for f in e.fields if (f.name or "").startswith("Sources")]
    assert len(source_fields) > 1
    assert source_fields[1].name == "Sources (continued)"


def test_long_title_field_name_and_quote_are_cut_or_split() -> None:
    c = cite(1)
    q = Quote(text="w" * 3000, start=0, end=3000, speaker="S" * 300)
    a = Answer(question="Q" * 400, text="Short [1].", found=True, citations=[c], quotes=[(q, c)])
    replies = render.render_answer(a)
    assert_within_limits(replies)
    d = replies[0].embeds[0].to_dict()
    assert len(d["title"]) == 256 and d["title"].endswith("…")
    quote_parts = [f for f in d["fields"] if f["name"].startswith("SSS")]
    assert len(quote_parts) == 3  # 3,000 chars over 1,024-char values: split, not lost
    assert sum(len(f["value"]) for f in quote_parts) >= 3000


def test_many_fields_overflow_into_new_embeds() -> None:
    c = cite(1)
    quotes = [(Quote(text=f"quote {i}", start=0, end=7, speaker=f"Speaker {i}"), c) for i in range(60)]
    a = Answer(question="q", text="t [1]", found=True, citations=[c], quotes=quotes)
    replies = render.render_answer(a)
    assert_within_limits(replies)
    embeds = [e for r in replies for e in r.embeds]
    assert len(embeds) >= 3
    assert sum(len(e.fields) for e in embeds) == 61


def test_6000_chars_per_message_forces_new_messages() -> None:
    # Each story embed is ~4,000 chars: two would pass 6,000, so each needs its own message.
    big = [StoryBrief(story_id=i, headline=f"H{i}", summary="word " * 800) for i in range(3)]
    replies = render.render_brief(Brief(stories=big, generated_at="now"))
    assert_within_limits(replies)
    assert [len(r.embeds) for r in replies] == [1, 1, 1]


def test_12_stories_one_embed_each_over_two_messages() -> None:
    replies = render.render_brief(brief(12), topic="harbour")
    assert_within_limits(replies)
    assert len(replies) >= 2
    titles = [e.title for r in replies for e in r.embeds if e.title]
    assert titles == [f"Headline {i}" for i in range(1, 13)]
    assert replies[0].content.startswith("**Brief** about **harbour**: 12 stories.")
    first = replies[0].embeds[0].to_dict()
    assert first["url"] == "https://news.example/1"
    assert "• Point 0 of story 1. [1]" in first["description"]
    names = [f["name"] for f in first["fields"]]
    assert names == ["Speaker 0, mayor", "How outlets differ: cause", "Sources"]


def test_brief_with_huge_story_and_note_splits_everything() -> None:
    s = story(1, points=300, quotes=40)
    b = Brief(stories=[s], generated_at="now", note="n" * 2500)
    replies = render.render_brief(b)
    assert_within_limits(replies)
    assert len(replies[0].content) <= 2000 and not replies[0].embeds  # the long heading went first, alone
    assert "Point 299 of story 1." in all_text(replies)
    assert "Speaker 39" in all_text(replies)


def test_empty_brief_says_so() -> None:
    replies = render.render_brief(Brief(stories=[], generated_at="now", note="Nothing new since the last digest."))
    assert_within_limits(replies)
    assert replies[0].content == "**Brief**: Nothing new since the last digest."


def test_split_content_and_split_text() -> None:
    assert all(len(c) <= 2000 for c in render.split_content("x" * 4500))
    assert "".join(render.split_content("x" * 4500)) == "x" * 4500
    assert render.split_text("para one.\n\npara two.", 12) == ["para one.", "para two."]


# --- the real client against the fake Discord ----------------------------------------------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[fd.FakeDiscord]:
    server = fd.FakeDiscord().start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    server.stop()


@pytest.fixture
def service() -> FakeService:
    """The stand-in core: every question gets the canned answer above, every /brief a two-story brief."""
    return FakeService(lambda question: answer(question=question), lambda topic: brief(2))


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Any]:
    """The real Core on two articles written for the test."""
    c = chat_core(tmp_path)
    yield c
    c.store.close()


def start(service: Any, guild_id: int | None = fd.GUILD_ID, **options: Any) -> DiscordRunner:
    runner = run_discord(service, "fake-token", guild_id, guild_ready_timeout=0.1, **options)
    assert runner.wait_until_ready(15), f"bot did not connect: {runner.error!r}"
    return runner


@pytest.fixture
def bot(fake: fd.FakeDiscord, service: FakeService) -> Iterator[DiscordRunner]:
    runner = start(service)
    yield runner
    runner.stop()
    assert runner.error is None


@pytest.fixture
def real_bot(fake: fd.FakeDiscord, core: Any) -> Iterator[DiscordRunner]:
    """The bot answering with the real core."""
    runner = start(core)
    yield runner
    runner.stop()
    assert runner.error is None


def followups(fake: fd.FakeDiscord, interaction: dict[str, Any], count: int = 1) -> list[fd.Recorded]:
    return fake.wait_request("POST", f"/webhooks/{fd.APP_ID}/{interaction['token']}", count)


def command(fake: fd.FakeDiscord, name: str, **options: str) -> dict[str, Any]:
    payload = fake.interaction(name, options)
    fake.dispatch("INTERACTION_CREATE", payload)
    return payload


def callback(fake: fd.FakeDiscord, interaction: dict[str, Any]) -> fd.Recorded:
    [cb] = fake.wait_request("POST", f"/interactions/{interaction['id']}/{interaction['token']}/callback")
    return cb


def test_commands_synced_to_guild_at_start(fake: fd.FakeDiscord, real_bot: DiscordRunner) -> None:
    [sync] = fake.calls("PUT", f"/applications/{fd.APP_ID}/guilds/{fd.GUILD_ID}/commands")
    assert {c["name"] for c in sync.body} == {"ask", "brief", "digest", "source"}
    digest = next(c for c in sync.body if c["name"] == "digest")
    options = {o["name"]: o for o in digest["options"]}
    assert [c["value"] for c in options["action"]["choices"]] == ["off", "status", "pause", "resume"]
    assert set(options) == {"time", "timezone", "topic", "cadence", "action"}
    assert not fake.calls("PUT", f"/applications/{fd.APP_ID}/commands")
    assert fake.calls("GET", "/users/@me") and fake.identifies == 1


def test_commands_synced_globally_without_guild(fake: fd.FakeDiscord, core: Any) -> None:
    runner = start(core, guild_id=None)
    try:
        [sync] = fake.calls("PUT", f"/applications/{fd.APP_ID}/commands")
        assert {c["name"] for c in sync.body} == {"ask", "brief", "digest", "source"}
        assert not fake.calls("PUT", "/guilds/")
    finally:
        runner.stop()


def test_ask_is_deferred_at_once_then_followed_up_with_cited_embeds(
        fake: fd.FakeDiscord, bot: DiscordRunner, service: FakeService) -> None:
    service.gate = threading.Event()  # the core is slow: the defer must not wait for it
    i = command(fake, "ask", question="Did the strike end?")
    cb = callback(fake, i)
    assert cb.body["type"] == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "briefbot is thinking…"
    assert not fake.calls("POST", "/webhooks/")
    service.gate.set()
    [post] = followups(fake, i)
    [embed] = post.body["embeds"]
    assert embed["description"] == "The strike ended on Monday [1]."
    assert {"name": "Sources", "value": "[1] [Harbour strike ends — The Courier](https://news.example/strike)",
            "inline": False} in embed["fields"]
    [asked] = service.calls
    assert (asked.name, asked.args[0]) == ("ask", "Did the strike end?")
    assert asked.channel == Channel("discord", str(fd.CHANNEL_ID), str(fd.USER_ID))
    assert asked.thread.startswith("briefbot-discord_")  # a worker of the pool, not the event loop's thread


def test_answer_has_feedback_buttons_that_reach_the_core_once(
        fake: fd.FakeDiscord, bot: DiscordRunner, service: FakeService) -> None:
    i = command(fake, "ask", question="Did the strike end?")
    [post] = followups(fake, i)
    buttons = [c for row in post.body["components"] for c in row["components"]]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [("Helpful", "briefbot:fb:a-1:1"),
                                                              ("Not helpful", "briefbot:fb:a-1:0")]
    sent = fake.messages[-1]  # the message as Discord returned it, with the same id the bot saw
    assert sent["components"] == post.body["components"]
    click = fake.click("briefbot:fb:a-1:0", sent)
    fake.dispatch("INTERACTION_CREATE", click)
    cb = callback(fake, click)
    assert cb.body["type"] == 5 and cb.body["data"]["flags"] & 64
    [thanks] = followups(fake, click)
    assert thanks.body["content"] == "Thanks — your feedback was recorded." and thanks.body["flags"] & 64
    fake.wait_for(lambda _: len(service.calls) >= 2)
    # a later click, handled after the first: once it is through, a duplicate handling of the first click (started
    # when that click arrived) has had its turn, and it is this condition the test waits on, not a sleep
    later = fake.click("briefbot:fb:a-1:1", sent)
    fake.dispatch("INTERACTION_CREATE", later)
    callback(fake, later)
    followups(fake, later)
    fake.wait_for(lambda _: len(service.calls) >= 3)
    assert len(fake.calls("POST", f"/interactions/{click['id']}/")) == 1
    where = Channel("discord", str(fd.CHANNEL_ID), str(fd.USER_ID))
    assert [(c.args, c.channel) for c in service.of("feedback")] == [(("a-1", False), where), (("a-1", True), where)]


def test_brief_posts_one_embed_per_story_across_messages(
        fake: fd.FakeDiscord, bot: DiscordRunner, service: FakeService) -> None:
    service.brief_of = lambda topic: brief(12)
    i = command(fake, "brief", topic="harbour")
    assert callback(fake, i).body["type"] == 5
    expected = len(render.render_brief(brief(12), topic="harbour"))
    assert expected >= 2
    posts = followups(fake, i, expected)
    embeds = [e for p in posts for e in p.body["embeds"]]
    assert [e["title"] for e in embeds] == [f"Headline {n}" for n in range(1, 13)]
    assert all(len(p.body["embeds"]) <= 10 for p in posts)
    assert posts[0].body["content"].startswith("**Brief** about **harbour**")
    assert service.of("brief")[0].args[0] == "harbour"


def test_digest_set_status_off_are_ephemeral(fake: fd.FakeDiscord, real_bot: DiscordRunner, core: Any) -> None:
    here = Channel("discord", str(fd.CHANNEL_ID))
    i = command(fake, "digest", time="08:00", timezone="Europe/Berlin", topic="harbour")
    cb = callback(fake, i)
    assert cb.body["type"] == 5 and cb.body["data"]["flags"] & 64  # only the subscriber sees it
    [post] = followups(fake, i)
    assert post.body["content"].startswith("Digest set: this channel gets a brief every day at **08:00** (Europe/Berlin)")
    assert post.body["flags"] & 64
    [sub] = core.subscriptions(here)
    assert (sub.time_of_day, sub.timezone, sub.topic, sub.created_by) == ("08:00", "Europe/Berlin", "harbour",
                                                                          str(fd.USER_ID))

    i = command(fake, "digest", action="status")
    [post] = followups(fake, i)
    assert post.body["content"] == "This channel gets a digest every day at **08:00** (Europe/Berlin) about “harbour”."

    i = command(fake, "digest", action="off")
    [post] = followups(fake, i)
    assert post.body["content"] == "Stopped this channel's digest."
    assert not core.subscriptions(here)

    i = command(fake, "digest", action="off")
    [post] = followups(fake, i)
    assert post.body["content"] == "This channel has no digest to stop."

    i = command(fake, "digest")
    [post] = followups(fake, i)
    assert post.body["content"].startswith("Give a time for the digest")

    i = command(fake, "digest", time="08:00", topic="harbour")
    [post] = followups(fake, i)
    assert post.body["content"] == "Add a timezone to the time, e.g. `/digest time:08:00 timezone:Europe/Berlin`."
    assert post.body["flags"] & 64 and not core.subscriptions(here)

    i = command(fake, "digest", time="8h00", timezone="UTC", cadence="weekdays")  # the core's time forms, here too
    [post] = followups(fake, i)
    assert post.body["content"].startswith("Digest set: this channel gets a brief on weekdays at **08:00** (UTC)")


def test_digest_invalid_timezone_gets_an_ephemeral_reason(fake: fd.FakeDiscord, real_bot: DiscordRunner,
                                                          core: Any) -> None:
    i = command(fake, "digest", time="08:00", timezone="Mars/Olympus")
    [post] = followups(fake, i)
    # the core's reason, in Discord's markdown (the underscore escaped, so it shows as typed)
    assert post.body["content"] == ("“Mars/Olympus” is not a time zone I know: use a name like Europe/Berlin, "
                                    "America/New\\_York or UTC")
    assert post.body["flags"] & 64
    assert not core.subscriptions(Channel("discord", str(fd.CHANNEL_ID)))


def test_digest_warns_subscriber_when_bot_cannot_post(fake: fd.FakeDiscord, real_bot: DiscordRunner,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "briefbot.discord")
    perms = str(int(fd.ALL_PERMISSIONS) & ~fd.SEND_MESSAGES)
    i = fake.interaction("digest", {"time": "07:30", "timezone": "UTC"}, channel_id=fd.DENIED_CHANNEL_ID, app_permissions=perms)
    fake.dispatch("INTERACTION_CREATE", i)
    [post] = followups(fake, i)
    assert "Digest set" in post.body["content"]
    assert "I'm missing the Send Messages permission" in post.body["content"]
    assert post.body["flags"] & 64
    assert f"digest set for channel {fd.DENIED_CHANNEL_ID} but the bot lacks Send Messages" in caplog.text


def test_core_failure_gets_an_honest_ephemeral_error(fake: fd.FakeDiscord, bot: DiscordRunner,
                                                     service: FakeService,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    service.error = RuntimeError("database is locked")
    i = command(fake, "ask", question="anything")
    [post] = followups(fake, i)
    assert post.body["content"] == ERROR_TEXT
    assert post.body["flags"] & 64
    assert "/ask failed" in caplog.text and "database is locked" in caplog.text


def test_unknown_command_gets_an_honest_ephemeral_error(fake: fd.FakeDiscord, real_bot: DiscordRunner,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    i = command(fake, "stale-command")  # e.g. left over from an older sync
    cb = callback(fake, i)
    assert cb.body["type"] == 4 and cb.body["data"]["content"] == ERROR_TEXT and cb.body["data"]["flags"] & 64
    assert "failed in channel" in caplog.text


def test_rejected_follow_up_gets_an_honest_error(fake: fd.FakeDiscord, real_bot: DiscordRunner,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    fake.webhook_failures = 1
    i = command(fake, "ask", question="Did the strike end?")
    rejected, error = followups(fake, i, 2)
    assert rejected.body["embeds"]
    assert error.body["content"] == ERROR_TEXT and error.body["flags"] & 64
    assert "follow-up to /ask" in caplog.text and "Invalid Form Body" in caplog.text


def answer_post(fake: fd.FakeDiscord, message: dict[str, Any]) -> tuple[int, fd.Recorded]:
    """The thread the bot started on `message` and its first post there."""
    [start] = fake.wait_request("POST", f"/channels/{message['channel_id']}/messages/{message['id']}/threads")
    tid = next(t for t, parent in fake.threads.items() if parent == int(message["channel_id"]))
    [post] = fake.wait_request("POST", f"/channels/{tid}/messages")
    return tid, post


def test_mention_is_answered_in_a_new_thread(fake: fd.FakeDiscord, bot: DiscordRunner,
                                             service: FakeService) -> None:
    m = fake.message(f"<@{fd.BOT_ID}> did the strike end?", mentions_bot=True)
    fake.dispatch("MESSAGE_CREATE", m)
    tid, post = answer_post(fake, m)
    assert fake.calls("POST", "/threads")[0].body["name"] == "did the strike end?"
    assert "message_reference" not in post.body  # the thread is on the question itself
    assert post.body["embeds"][0]["description"] == "The strike ended on Monday [1]."
    assert post.body["allowed_mentions"]["parse"] == []  # never pings anyone
    [asked] = service.of("ask")
    assert (asked.args[0], asked.channel) == ("did the strike end?", Channel("discord", str(tid), str(fd.USER_ID)))
    assert asked.conversation == f"discord:{tid}"
    assert fake.calls("POST", f"/channels/{tid}/typing")
    # without the Message Content intent (the default) Discord withholds the text of a follow-up that does not
    # mention the bot: the thread's first message says so, and a follow-up with a mention keeps the conversation
    assert post.body["content"] == f"-# Follow-ups here: mention <@{fd.BOT_ID}> in them — I only see messages that " \
        "mention me."
    assert fake.intents is not None and not fake.intents & fd.MESSAGE_CONTENT_INTENT
    fake.dispatch("MESSAGE_CREATE", fake.message("and when does it end?", channel_id=tid))
    fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{fd.BOT_ID}> and who struck?", channel_id=tid, mentions_bot=True))
    [_, second] = fake.wait_request("POST", f"/channels/{tid}/messages", count=2)
    assert "Follow-ups" not in (second.body.get("content") or "")  # said once, in the first message
    assert service.questions() == ["did the strike end?", "and who struck?"]
    assert [c.conversation for c in service.of("ask")] == [f"discord:{tid}", f"discord:{tid}"]
    assert len(fake.calls("POST", "/threads")) == 1


def test_with_message_content_follow_ups_in_the_bots_threads_need_no_mention(fake: fd.FakeDiscord,
                                                                             service: FakeService) -> None:
    runner = start(service, message_content=True)
    try:
        assert fake.intents is not None and fake.intents & fd.MESSAGE_CONTENT_INTENT
        m = fake.message(f"<@{fd.BOT_ID}> did the strike end?", mentions_bot=True)
        fake.dispatch("MESSAGE_CREATE", m)
        tid, post = answer_post(fake, m)
        assert post.body["content"] == "-# Ask follow-ups here without a mention: I read this thread."
        fake.dispatch("MESSAGE_CREATE", fake.message("and when does it end?", channel_id=tid))
        fake.wait_request("POST", f"/channels/{tid}/messages", count=2)
        # elsewhere, a message without a mention is not for the bot: a thread it never answered in, the channel
        fake.dispatch("MESSAGE_CREATE", fake.message("chatter", channel_id=fd.THREAD_ID))
        fake.dispatch("MESSAGE_CREATE", fake.message("more chatter"))
        fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{fd.BOT_ID}> last", channel_id=tid, mentions_bot=True))
        fake.wait_request("POST", f"/channels/{tid}/messages", count=3)
        assert service.questions() == ["did the strike end?", "and when does it end?", "last"]
        assert {c.conversation for c in service.of("ask")} == {f"discord:{tid}"}
    finally:
        runner.stop()


def test_a_thread_answered_in_before_a_restart_is_followed(fake: fd.FakeDiscord, service: FakeService) -> None:
    service.known_conversations.add(f"discord:{fd.THREAD_ID}")  # stored before a restart, or by another replica
    runner = start(service, message_content=True)
    try:
        fake.dispatch("MESSAGE_CREATE", fake.message("and the trams?", channel_id=fd.THREAD_ID))
        [post] = fake.wait_request("POST", f"/channels/{fd.THREAD_ID}/messages")
        assert str(post.body["message_reference"]["message_id"])  # answered in place, as a reply
        assert service.questions() == ["and the trams?"]
        assert service.of("ask")[0].conversation == f"discord:{fd.THREAD_ID}"
    finally:
        runner.stop()


def test_role_mention_and_reply_to_the_bot_count_as_mentions(fake: fd.FakeDiscord, bot: DiscordRunner,
                                                             service: FakeService) -> None:
    m = fake.message(f"<@&{fd.BOT_ROLE_ID}> who struck?", channel_id=fd.THREAD_ID, mentions_role=fd.BOT_ROLE_ID)
    fake.dispatch("MESSAGE_CREATE", m)
    [post] = fake.wait_request("POST", f"/channels/{fd.THREAD_ID}/messages")
    assert str(post.body["message_reference"]["message_id"]) == m["id"]
    bots = fake.messages[-1]
    fake.dispatch("MESSAGE_CREATE", fake.message("and the trams?", channel_id=fd.THREAD_ID, replying_to=bots,
                                                 ping=True))
    fake.wait_request("POST", f"/channels/{fd.THREAD_ID}/messages", count=2)
    # a reply that does not ping the bot reaches it without its text (no Message Content intent): it says so
    quiet = fake.message("and the buses?", channel_id=fd.THREAD_ID, replying_to=bots)
    fake.dispatch("MESSAGE_CREATE", quiet)
    hidden = fake.wait_request("POST", f"/channels/{fd.THREAD_ID}/messages", count=3)[2]
    assert hidden.body["content"].startswith("I can't read that message") and f"<@{fd.BOT_ID}>" in hidden.body["content"]
    assert str(hidden.body["message_reference"]["message_id"]) == quiet["id"]
    other = fake.message("unrelated", replying_to=fake.message("hi"))  # a reply to someone else
    fake.dispatch("MESSAGE_CREATE", other)
    last = fake.message(f"<@{fd.BOT_ID}> last one", channel_id=fd.THREAD_ID, mentions_bot=True)
    fake.dispatch("MESSAGE_CREATE", last)
    fake.wait_request("POST", f"/channels/{fd.THREAD_ID}/messages", count=4)
    assert service.questions() == ["who struck?", "and the trams?", "last one"]


def test_mention_in_a_thread_is_answered_in_the_thread(fake: fd.FakeDiscord, real_bot: DiscordRunner) -> None:
    m = fake.message(f"<@{fd.BOT_ID}> and the trams?", channel_id=fd.THREAD_ID, mentions_bot=True)
    fake.dispatch("MESSAGE_CREATE", m)
    [post] = fake.wait_request("POST", f"/channels/{fd.THREAD_ID}/messages")
    assert str(post.body["message_reference"]["message_id"]) == m["id"]


def test_dm_is_answered(fake: fd.FakeDiscord, bot: DiscordRunner, service: FakeService) -> None:
    m = fake.message("what happened at the harbour?", channel_id=fd.DM_CHANNEL_ID, dm=True)
    fake.dispatch("MESSAGE_CREATE", m)
    [post] = fake.wait_request("POST", f"/channels/{fd.DM_CHANNEL_ID}/messages")
    assert str(post.body["message_reference"]["message_id"]) == m["id"]
    [asked] = service.of("ask")
    assert asked.channel == Channel("discord", str(fd.DM_CHANNEL_ID), str(fd.USER_ID))
    assert asked.conversation == f"discord:{fd.DM_CHANNEL_ID}:{fd.USER_ID}"  # follow-ups keep the context


def test_bots_itself_and_unmentioned_messages_are_ignored(fake: fd.FakeDiscord, bot: DiscordRunner,
                                                          service: FakeService) -> None:
    fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{fd.BOT_ID}> hi", author_id=fd.OTHER_BOT_ID, bot=True,
                                                 mentions_bot=True))
    fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{fd.BOT_ID}> me", author_id=fd.BOT_ID, bot=True,
                                                 mentions_bot=True))
    fake.dispatch("MESSAGE_CREATE", fake.message("just chatting"))
    last = fake.message(f"<@{fd.BOT_ID}> real question", mentions_bot=True)
    fake.dispatch("MESSAGE_CREATE", last)
    answer_post(fake, last)
    assert service.questions() == ["real question"]


def test_empty_mention_gets_help(fake: fd.FakeDiscord, bot: DiscordRunner, service: FakeService) -> None:
    fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{fd.BOT_ID}>", mentions_bot=True))
    [post] = fake.wait_request("POST", f"/channels/{fd.CHANNEL_ID}/messages")
    assert "/ask" in post.body["content"] and not service.calls


def test_mention_failure_gets_an_honest_reply(fake: fd.FakeDiscord, bot: DiscordRunner,
                                              service: FakeService) -> None:
    service.error = RuntimeError("database is locked")
    m = fake.message(f"<@{fd.BOT_ID}> boom?", mentions_bot=True)
    fake.dispatch("MESSAGE_CREATE", m)
    _, post = answer_post(fake, m)
    assert post.body["content"] == ERROR_TEXT


def test_mention_where_bot_cannot_post_logs_and_tells_the_asker(
        fake: fd.FakeDiscord, bot: DiscordRunner, service: FakeService,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "briefbot.discord")
    fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{fd.BOT_ID}> hello?", channel_id=fd.DENIED_CHANNEL_ID,
                                                 mentions_bot=True))
    [dm] = fake.wait_request("POST", f"/channels/{fd.DM_CHANNEL_ID}/messages")
    assert "I can't answer in #announcements in server 'Newsroom'" in dm.body["content"]
    assert "Send Messages" in dm.body["content"]
    assert "can't answer in channel #announcements" in caplog.text
    assert not fake.calls("POST", f"/channels/{fd.DENIED_CHANNEL_ID}/messages") and not service.calls


def test_digest_posted_from_a_plain_thread(fake: fd.FakeDiscord, real_bot: DiscordRunner) -> None:
    message_id = real_bot.poster.post_brief(str(fd.CHANNEL_ID), brief(3))
    posts = fake.calls("POST", f"/channels/{fd.CHANNEL_ID}/messages")
    assert len(posts) == 1 and message_id.isdigit()
    assert posts[0].body["content"] == "**Digest**: 3 stories."
    assert [e["title"] for e in posts[0].body["embeds"]] == ["Headline 1", "Headline 2", "Headline 3"]


def test_digest_without_permission_raises_clearly_and_logs(fake: fd.FakeDiscord, real_bot: DiscordRunner,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "briefbot.discord")
    with pytest.raises(ChannelPermissionError) as err:
        real_bot.poster.post_brief(str(fd.DENIED_CHANNEL_ID), brief(1))
    assert err.value.channel_id == str(fd.DENIED_CHANNEL_ID)
    assert err.value.missing == ["Send Messages"] and err.value.code == 50013
    assert f"cannot post to Discord channel {fd.DENIED_CHANNEL_ID}: the bot is missing the Send Messages" in str(
        err.value)
    assert f"digest not posted: cannot post to Discord channel {fd.DENIED_CHANNEL_ID}" in caplog.text


def test_poster_on_uncached_channel_names_both_permissions(fake: fd.FakeDiscord, real_bot: DiscordRunner) -> None:
    fake.forbidden_channels.add(123)
    with pytest.raises(ChannelPermissionError, match="Send Messages and Embed Links permissions"):
        real_bot.poster.post_brief("123", brief(1))


def test_gateway_drop_is_resumed_and_commands_still_work(fake: fd.FakeDiscord, real_bot: DiscordRunner) -> None:
    fake.drop_connections()
    fake.wait_for(lambda _: fake.resumes >= 1, timeout=15)
    i = command(fake, "ask", question="still there?")
    followups(fake, i)


def test_stop_ends_the_thread(fake: fd.FakeDiscord, core: Any) -> None:
    runner = start(core)
    runner.stop()
    assert not runner._thread.is_alive()
    assert runner.error is None


def test_a_login_that_cannot_reach_discord_is_retried_until_it_can(
        fake: fd.FakeDiscord, core: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on: Discord "down" at start
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/api/v10"
    monkeypatch.setattr(discord.http.Route, "BASE", down)
    caplog.set_level(logging.WARNING, logger="briefbot.discord")
    runner = run_discord(core, "fake-token", fd.GUILD_ID, guild_ready_timeout=0.1, retry_first=0.2)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "cannot reach Discord" not in caplog.text:
            time.sleep(0.05)
        assert "cannot reach Discord" in caplog.text and not runner.wait_until_ready(0.5)
        monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)  # Discord is back
        assert runner.wait_until_ready(15), f"bot did not connect: {runner.error!r}"
        assert fake.calls("PUT", f"/applications/{fd.APP_ID}/guilds/{fd.GUILD_ID}/commands")
        assert "fake-token" not in caplog.text
    finally:
        runner.stop()
    assert runner.error is None


def test_stopping_while_discord_is_unreachable_ends_the_retries(core: Any,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{s.getsockname()[1]}/api/v10")
    caplog.set_level(logging.WARNING, logger="briefbot.discord")
    runner = run_discord(core, "fake-token", fd.GUILD_ID, retry_first=0.2)
    deadline = time.monotonic() + 10  # stopped while retrying: after the first attempt has failed
    while time.monotonic() < deadline and "cannot reach Discord" not in caplog.text:
        time.sleep(0.05)
    assert "cannot reach Discord" in caplog.text
    started = time.monotonic()
    runner.stop(5)
    assert not runner._thread.is_alive() and time.monotonic() - started < 5


# --- every combination of the five permissions a mention needs ----------------------------------------------

PERMS = {"view": fd.VIEW_CHANNEL, "send": fd.SEND_MESSAGES, "embed": fd.EMBED_LINKS,
         "history": fd.READ_MESSAGE_HISTORY, "threads": fd.CREATE_PUBLIC_THREADS | fd.SEND_MESSAGES_IN_THREADS}


def test_permission_matrix_every_case_answers_or_explains(fake: fd.FakeDiscord, service: FakeService) -> None:
    cases: dict[int, set[str]] = {}
    for i, granted in enumerate(itertools.product([True, False], repeat=len(PERMS))):
        cid = 925000000000000000 + i
        have = {name for name, g in zip(PERMS, granted, strict=True) if g}
        cases[cid] = have
        fake.channel_denies[cid] = sum(bit for name, bit in PERMS.items() if name not in have)
    runner = start(service)
    try:
        asked = {cid: fake.message(f"<@{fd.BOT_ID}> did the strike end?", channel_id=cid, mentions_bot=True)
                 for cid in cases}
        for m in asked.values():
            fake.dispatch("MESSAGE_CREATE", m)

        def outcome(cid: int) -> str | None:
            dms = [r for r in fake.calls("POST", f"/channels/{fd.DM_CHANNEL_ID}/messages")
                   if f"#matrix-{cid % 100} " in r.body.get("content", "")]
            if dms:
                return "explained"
            places = [cid] + [t for t, parent in fake.threads.items() if parent == cid]
            if any(fake.calls("POST", f"/channels/{p}/messages") for p in places):
                return "answered"
            return None

        fake.wait_for(lambda _: all(outcome(c) for c in cases) or None, timeout=30)
        for cid, have in cases.items():
            label = f"granted {sorted(have)}"
            if not {"view", "send"} <= have:
                assert outcome(cid) == "explained", label
                dm = next(r for r in fake.calls("POST", f"/channels/{fd.DM_CHANNEL_ID}/messages")
                          if f"#matrix-{cid % 100} " in r.body["content"])
                assert ("View Channel" if "view" not in have else "Send Messages") in dm.body["content"], label
                continue
            assert outcome(cid) == "answered", label
            threads = [t for t, parent in fake.threads.items() if parent == cid]
            assert bool(threads) == ("threads" in have), label
            [post] = fake.calls("POST", f"/channels/{threads[0] if threads else cid}/messages")
            assert bool(post.body.get("message_reference")) == ("history" in have and not threads), label
            if "embed" in have:
                assert post.body["embeds"][0]["description"] == "The strike ended on Monday [1].", label
            else:
                assert not post.body.get("embeds") and "The strike ended on Monday [1]." in post.body["content"], label
                assert "Harbour strike ends — The Courier" in post.body["content"], label  # sources still named
        assert len(service.calls) == sum(1 for have in cases.values() if {"view", "send"} <= have)
    finally:
        runner.stop()


def test_message_content_intent_is_off_unless_asked_for(core: Any) -> None:
    from bot.adapters.discord_bot import DiscordBot
    from bot.config import Settings

    assert DiscordBot(core).intents.message_content is False
    assert DiscordBot(core, message_content=True).intents.message_content is True
    assert Settings.from_env({}).discord_message_content is False
    assert Settings.from_env({"BRIEFBOT_DISCORD_MESSAGE_CONTENT": "true"}).discord_message_content is True


# ---- the real core in-process: a SQLite store in tmp_path, nothing stood in for -----------------------------


def test_real_core_answers_subscribes_posts_the_digest_and_records_feedback(fake: fd.FakeDiscord,
                                                                            tmp_path: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.answer import Answerer
    from bot.brief import BriefBuilder
    from bot.core import Core
    from bot.digest import DigestRunner
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store
    from tests.conftest import ROOT

    store = open_store(f"sqlite:///{tmp_path}/discord.db")
    Ingester(store, extract_quotes=extract_quotes).ingest([str(ROOT / "bot" / "samples")])
    runner = start(Core(store, Answerer(store), BriefBuilder(store)))  # type: ignore[arg-type]
    try:
        # /ask: a cited answer from the stored articles
        i = command(fake, "ask", question="What did Marta Quinlan say about the strike?")
        assert callback(fake, i).body["type"] == 5
        [post] = followups(fake, i)
        embed = post.body["embeds"][0]
        assert "[1]" in embed["description"]
        sources = " ".join(f["value"] for e in post.body["embeds"] for f in e.get("fields", []) if f["name"] == "Sources")
        assert "Dockworkers in Port Aldmere walk out over automation plan" in sources  # articles by title
        # the feedback button on it is recorded in the store
        sent = fake.messages[-1]
        helpful = next(c["custom_id"] for row in sent["components"] for c in row["components"]
                       if c["label"] == "Helpful")
        click = fake.click(helpful, sent)
        fake.dispatch("INTERACTION_CREATE", click)
        [thanks] = followups(fake, click)
        assert thanks.body["content"] == "Thanks — your feedback was recorded."
        assert store.feedback_counts() == {"helpful": 1, "not_helpful": 0}
        # /digest: the subscription is stored, and the digest runner posts it through this adapter
        i = command(fake, "digest", time="08:00", timezone="Europe/Berlin", topic="harbour")
        [post] = followups(fake, i)
        assert post.body["content"].startswith("Digest set: this channel gets a brief every day at **08:00**")
        [sub] = store.list_subscriptions("discord", str(fd.CHANNEL_ID))
        assert (sub.time_of_day, sub.timezone, sub.topic) == ("08:00", "Europe/Berlin", "harbour")
        # the next 07:05 UTC (08:05 in Berlin in winter, 09:05 in summer): the articles stored just now are inside
        # the day the digest looks back over, whatever the hour the test runs at
        now = datetime.now(UTC)
        at = now.replace(hour=7, minute=5, second=0, microsecond=0)
        at += timedelta(days=1) if at <= now else timedelta()
        done = DigestRunner(store, BriefBuilder(store), {"discord": runner.poster}, owner="test",
                            clock=lambda: at).run_due()
        assert [outcome.startswith("posted") for _, _, outcome in done] == [True]
        [digest] = fake.calls("POST", f"/channels/{fd.CHANNEL_ID}/messages")
        assert digest.body["content"].startswith("**Digest**")
        # about "harbour": the strike story, not the tram line
        assert [e["title"] for e in digest.body["embeds"]] == ["Dockworkers in Port Aldmere walk out over automation plan"]
        assert store.claims(sub.id)[0]["status"] == "posted"
    finally:
        runner.stop()
        store.close()
    assert runner.error is None
