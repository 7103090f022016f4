"""`briefbot run` as deployed: Slack in HTTP mode against a fake Web API, health, metrics, a digest, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

from bot.core import Core
from bot.domain import Channel
from bot.store import open_store
from tests.conftest import ROOT, SEEDS, need, run_cli
from tests.fakes.slack_api import FakeSlack

BOT_TOKEN = "xoxb-test-TOKEN-4242"
SECRET = "signing-secret-test-9191"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def signed_post(url: str, payload: dict[str, object]) -> int:
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
    with urllib.request.urlopen(req, timeout=5) as r:
        return int(r.status)


def test_run_serves_slack_health_metrics_and_posts_a_digest(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/run.db"
    assert run_cli("ingest", str(need(SEEDS)), env={"BRIEFBOT_DATABASE_URL": db}).returncode == 0
    store = open_store(db)
    now = datetime.now(UTC)
    # a digest due now (this minute, UTC) in channel C-DIGEST
    Core(store, None, None).subscribe(Channel("slack", "C-DIGEST", "U1"), f"{now.hour:02d}:{now.minute:02d}", "UTC")  # type: ignore[arg-type]
    store.close()
    fake = FakeSlack().start()
    port = free_port()
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": db, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "BRIEFBOT_SLACK_MODE": "http", "SLACK_API_URL": fake.url, "BRIEFBOT_HTTP_PORT": str(port),
           "BRIEFBOT_HTTP_HOST": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert get(base + "/readyz") == (200, "ready\n")
        status, metrics = get(base + "/metrics")
        assert status == 200 and "briefbot_documents 5" in metrics and "briefbot_digest_posts_total" in metrics

        # the digest due this minute is posted once, to the subscribed channel
        posts = fake.wait_for("chat.postMessage", timeout=20)
        digest = [c for c in posts if c.body.get("channel") == "C-DIGEST"]
        assert digest and "China, Russia and North Korea" in json.dumps(digest[0].body)

        # a mention, signed as Slack signs it, is answered in its thread
        event = {"type": "event_callback", "event_id": "Ev1", "team_id": "T1", "api_app_id": "A1",
                 "event": {"type": "app_mention", "user": "U2", "channel": "C-ASK", "ts": "1700000000.000100",
                           "text": "<@UBOT> What did Navarro say about Modi?"}}
        assert signed_post(base + "/slack/events", event) == 200
        deadline = time.time() + 20
        while time.time() < deadline and not any("shame to see Modi" in json.dumps(c.body)
                                                 for c in fake.of("chat.update")):
            time.sleep(0.2)
        update = [c for c in fake.of("chat.update") if "shame to see Modi" in json.dumps(c.body)]
        assert update and update[0].body["channel"] == "C-ASK"
        # a forged request is refused before anything else
        forged = urllib.request.Request(base + "/slack/events", data=b"{}", method="POST",
                                        headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                                 "X-Slack-Signature": "v0=bad"})
        try:
            urllib.request.urlopen(forged, timeout=5)
            raise AssertionError("forged request accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 401
        # both Slack requests were timed, the refused one too
        metrics = get(base + "/metrics")[1]
        assert "briefbot_slack_request_seconds_count 2" in metrics
        assert 'briefbot_slack_request_seconds_bucket{le="+Inf"} 2' in metrics
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.stop()
    assert proc.returncode == 0, err
    assert "stopped" in err and "slack started in http mode" in err
    assert BOT_TOKEN not in err and SECRET not in err
    assert len([c for c in fake.of("chat.postMessage") if c.body.get("channel") == "C-DIGEST"]) == 1
