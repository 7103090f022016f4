"""Sources added from chat: only web addresses, never private ones (unless allowed), polled under that policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings
from bot.domain import Channel
from bot.ingest.http import FetchError
from bot.ingest.pipeline import SourceState
from bot.store import open_store
from tests.fakes.slack_api import FakeSlack
from tests.test_slack import make_bot, send_command

CH = Channel("slack", "C1", "U1")


def app_with(tmp_path: Path, **env: str) -> App:
    settings = Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/c.db", **env})
    return App(settings=settings, store=open_store(settings.database_url))


@pytest.mark.parametrize("url, why", [
    ("http://127.0.0.1:8080/feed.xml", "private"),
    ("http://localhost/admin", "private"),
    ("http://10.1.2.3/feed", "private"),
    ("http://192.168.0.10/rss", "private"),
    ("http://169.254.169.254/latest/meta-data/", "private"),  # cloud metadata: link-local
    ("http://[::1]/feed", "private"),
    ("http://[::ffff:127.0.0.1]/feed", "private"),
    ("file:///etc/passwd", "not a web address"),
    ("/etc/passwd", "not a web address"),
    ("ftp://example.com/feed", "not a web address"),
])
def test_chat_urls_to_private_addresses_are_refused(tmp_path: Path, url: str, why: str) -> None:
    core = app_with(tmp_path).core()
    with pytest.raises(ValueError, match=why):
        core.add_source(CH, url)
    assert core.list_sources() == []


def test_operator_may_allow_private_addresses(tmp_path: Path) -> None:
    core = app_with(tmp_path, BRIEFBOT_ALLOW_PRIVATE_URLS="true").core()
    src = core.add_source(CH, "<http://127.0.0.1:8080/feed.xml|feed>", "30m")  # Slack's link markup
    assert src.location == "http://127.0.0.1:8080/feed.xml" and src.kind == "chat-url" and src.every_seconds == 1800
    with pytest.raises(ValueError, match="at most every 5 minutes"):
        core.add_source(CH, "http://127.0.0.1:8080/other.xml", "10s")


def test_chat_sources_are_polled_under_the_strict_policy(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    # the admin's own fetcher may read an intranet feed; a chat-added source may not
    with pytest.raises(FetchError, match="private"):
        app.fetch_url("http://127.0.0.1:9/feed.xml", SourceState(untrusted=True))
    with pytest.raises(FetchError) as e:
        app.fetch_url("http://127.0.0.1:9/feed.xml", SourceState())
    assert "private" not in str(e.value)  # refused by the network, not by policy


def test_slash_source_through_the_real_slack_app(tmp_path: Path) -> None:
    core = app_with(tmp_path).core()
    fake = FakeSlack().start()
    bot = make_bot(fake, core)
    from bot.adapters.slack import SlackRunner

    runner = SlackRunner(bot, mode="http")
    server = runner.serve_http(0)
    url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    try:
        status, _, took = send_command(url, fake, "/source", "add http://169.254.169.254/latest/meta-data/")
        assert status == 200 and took < 3
        reply = fake.wait_for("response_url")[0].body
        assert reply["response_type"] == "ephemeral" and "private" in reply["text"]
        assert core.list_sources() == []
        send_command(url, fake, "/source", "list")
        assert "No sources yet" in fake.wait_for("response_url", 2)[1].body["text"]
    finally:
        runner.stop(5)
        fake.stop()


def test_chat_cannot_take_over_an_operator_source(tmp_path: Path) -> None:
    app = app_with(tmp_path, BRIEFBOT_ALLOW_PRIVATE_URLS="true")  # so only ownership stands in the way
    core = app.core()
    url = "http://127.0.0.1:8080/feed.xml"
    app.store.add_source("feed", url, 3600)  # what `briefbot sources add` does
    fake = FakeSlack().start()
    bot = make_bot(fake, core)
    from bot.adapters.slack import SlackRunner

    runner = SlackRunner(bot, mode="http")
    server = runner.serve_http(0)
    events = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    try:
        send_command(events, fake, "/source", f"add {url} every 5m")
        reply = fake.wait_for("response_url")[0].body
        assert reply["response_type"] == "ephemeral"
        assert "operator added" in reply["text"] and "every 1 hour" in reply["text"]
    finally:
        runner.stop(5)
        fake.stop()
    [row] = core.list_sources()
    assert (row.kind, row.every_seconds) == ("feed", 3600)  # kind and interval unchanged
    # a chat user's own source may be re-added with a new interval
    core.add_source(CH, "http://127.0.0.1:8080/other.xml", "30m")
    assert core.add_source(CH, "http://127.0.0.1:8080/other.xml", "2h").every_seconds == 7200
