"""`briefbot run`'s Slack start: an unreachable or failing Slack at start is retried in the background,
a refused token is not, and until Slack is up its HTTP requests get 503 and digests fail to be retried."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings
from bot.domain import Brief
from bot.runner import start_adapters
from bot.store import open_store
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-start-test-token"
SECRET = "start-test-signing-secret"


def make_app(tmp_path: Path, api_url: str) -> App:
    settings = Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", "SLACK_BOT_TOKEN": TOKEN,
                                  "SLACK_SIGNING_SECRET": SECRET, "BRIEFBOT_SLACK_MODE": "http",
                                  "SLACK_API_URL": api_url})
    return App(settings=settings, store=open_store(settings.database_url))


def wait(cond, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def test_slack_failing_at_start_is_retried_in_the_background(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeSlack().start()
    for _ in range(2):  # Slack's edge failing twice: the first try and the first retry
        fake.fail_next("auth.test", "service_unavailable", status=503)
    app = make_app(tmp_path, fake.url)
    caplog.set_level(logging.INFO)
    try:
        adapters = start_adapters(app, app.core(), slack_retry=0.2)
        slack = adapters["slack"]
        assert "cannot reach Slack (Slack answered service_unavailable)" in caplog.text
        # meanwhile: Slack's requests are turned away to be delivered again, digests fail to be retried
        assert slack.handle_http(b"{}", {}, "")[0] == 503
        with pytest.raises(RuntimeError, match="not connected yet"):
            slack.poster.post_brief("C1", Brief(stories=[], generated_at="2026-01-01T08:00:00Z"))
        assert wait(lambda: "slack started in http mode" in caplog.text)
        assert len(fake.of("auth.test")) >= 3
        # up: a digest goes out, and a forged request is now refused by Bolt, not turned away
        slack.poster.post_brief("C1", Brief(stories=[], generated_at="2026-01-01T08:00:00Z", note="nothing new"))
        assert fake.of("chat.postMessage")[0].body["channel"] == "C1"
        assert slack.handle_http(b"{}", {"x-slack-signature": "v0=bad", "x-slack-request-timestamp": "1"}, "")[0] == 401
        slack.stop()
        assert TOKEN not in caplog.text and SECRET not in caplog.text
    finally:
        app.close()
        fake.stop()


def test_a_refused_token_is_not_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeSlack().start()
    fake.fail_next("auth.test", "invalid_auth")
    app = make_app(tmp_path, fake.url)
    try:
        retrying = {t for t in threading.enumerate() if t.name == "briefbot-slack-start"}
        adapters = start_adapters(app, app.core(), slack_retry=0.1)
        assert "slack" not in adapters
        assert "Slack refused the bot token (invalid_auth): check SLACK_BOT_TOKEN" in caplog.text
        # decided at once: nothing was left behind to try again (rather than waiting a while to see no retry)
        assert {t for t in threading.enumerate() if t.name == "briefbot-slack-start"} <= retrying
        assert len(fake.of("auth.test")) == 1
    finally:
        app.close()
        fake.stop()


def test_a_missing_setting_is_named_without_calling_slack(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeSlack().start()
    settings = Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", "SLACK_BOT_TOKEN": TOKEN,
                                  "SLACK_API_URL": fake.url})  # Socket Mode, the default, without SLACK_APP_TOKEN
    app = App(settings=settings, store=open_store(settings.database_url))
    try:
        assert "slack" not in start_adapters(app, app.core(), slack_retry=0.1)
        assert "needs an app-level token (SLACK_APP_TOKEN" in caplog.text
        assert not fake.of("auth.test")
    finally:
        app.close()
        fake.stop()
