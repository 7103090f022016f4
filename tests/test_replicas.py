"""Five `briefbot run` replicas on one Postgres: every digest slot posted once, a feed stored once,
a Slack event delivered to two replicas answered once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.core import Core
from bot.domain import Channel
from tests.conftest import ROOT, SEEDS, need, run_cli
from tests.fakes.slack_api import FakeSlack
from tests.test_feeds_e2e import FeedSite
from tests.test_run import free_port
from tests.test_store_backends import fresh_pg_schema

SECRET = "replica-signing-secret"
REPLICAS = 5
CHANNELS = 20


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from fresh_pg_schema("bb_rep_")


def signed(url: str, payload: dict[str, object]) -> int:
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)})
    with urllib.request.urlopen(req, timeout=10) as r:
        return int(r.status)


@pytest.mark.slow
def test_five_replicas_post_each_slot_once(pg_url: str, tmp_path: Path) -> None:
    from bot.store import open_store

    env_db = {"BRIEFBOT_DATABASE_URL": pg_url}
    assert run_cli("ingest", str(need(SEEDS)), env=env_db).returncode == 0
    site = FeedSite()
    fake = FakeSlack().start()
    store = open_store(pg_url)
    now = datetime.now(UTC)
    # every channel's digest is due this minute, so all five replicas race for all of them at start
    for i in range(CHANNELS):
        Core(store, None, None).subscribe(  # type: ignore[arg-type]
            Channel("slack", f"C{i:02d}"), f"{now.hour:02d}:{now.minute:02d}", "UTC")
    store.add_source("url", site.base + "/feed.xml", 900)
    store.close()
    ports = [free_port() for _ in range(REPLICAS)]
    procs = []
    try:
        for port in ports:
            env = {**os.environ, **env_db, "SLACK_BOT_TOKEN": "xoxb-replica", "SLACK_SIGNING_SECRET": SECRET,
                   "BRIEFBOT_SLACK_MODE": "http", "SLACK_API_URL": fake.url, "BRIEFBOT_HTTP_PORT": str(port),
                   "BRIEFBOT_HTTP_HOST": "127.0.0.1"}
            procs.append(subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for port in ports:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    time.sleep(0.3)
        deadline = time.time() + 90
        digests: Counter[str] = Counter()
        while time.time() < deadline:
            digests = Counter(str(c.body.get("channel")) for c in fake.of("chat.postMessage")
                              if str(c.body.get("channel", "")).startswith("C") and len(str(c.body["channel"])) == 3)
            if len(digests) >= CHANNELS:
                break
            time.sleep(0.5)
        # a Slack event redelivered to two different replicas is answered once
        event = {"type": "event_callback", "event_id": "EvDup1", "team_id": "T1", "api_app_id": "A1",
                 "event": {"type": "app_mention", "user": "U9", "channel": "D-ASK", "ts": "1700000000.000200",
                           "text": "<@UBOT> What did Navarro say about Modi?"}}
        assert signed(f"http://127.0.0.1:{ports[0]}/slack/events", event) == 200
        assert signed(f"http://127.0.0.1:{ports[1]}/slack/events", event) == 200
        fake.wait_for("chat.postEphemeral", timeout=60)  # the asker was told "Searching…"
        fake.wait_until(lambda calls: any(c.method == "chat.postMessage" and c.body.get("channel") == "D-ASK"
                                          for c in calls), timeout=60)  # and the answer is in
        # the feed's first poll is in too (a replica stopped before polling would leave nothing to count)
        deadline = time.time() + 90
        while time.time() < deadline:
            with closing(open_store(pg_url)) as st:
                if sum(1 for d in st.list_documents() if d.location.startswith(site.base)) >= 2:
                    break
            time.sleep(0.5)
    finally:
        # a duplicate (digest or answer) can only show up before every replica has stopped: count after that
        for p in procs:
            p.send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=60)[1] for p in procs]
        fake.stop()
        site.close()
    digests = Counter(str(c.body.get("channel")) for c in fake.of("chat.postMessage")
                      if str(c.body.get("channel", "")).startswith("C") and len(str(c.body["channel"])) == 3)
    answers = [c for c in fake.of("chat.postMessage") if c.body.get("channel") == "D-ASK"]
    assert all(p.returncode == 0 for p in procs), errs
    assert len(digests) == CHANNELS, f"missed: {sorted(set(f'C{i:02d}' for i in range(CHANNELS)) - set(digests))}"
    assert max(digests.values()) == 1, f"duplicates: {[c for c, n in digests.items() if n > 1]}"
    assert len(answers) == 1
    store = open_store(pg_url)
    try:
        locations = [d.location for d in store.list_documents()]
        assert len(locations) == len(set(locations))
        assert sum(1 for loc in locations if loc.startswith(site.base)) >= 2  # the feed's pages, stored once
        assert all(c["status"] == "posted" for c in store.claims())
    finally:
        store.close()
