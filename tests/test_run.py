"""`briefbot run` as deployed: Slack in HTTP mode against a fake Web API, health, metrics, a digest, SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

from bot.core import Core
from bot.domain import Channel
from bot.store import open_store
from tests.conftest import ROOT, SEEDS, need, run_cli
from tests.fakes.slack_api import Call, FakeSlack

BOT_TOKEN = "xoxb-test-TOKEN-4242"
SECRET = "signing-secret-test-9191"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Running:
    """`briefbot run` (or another command) in a subprocess, its stderr read as it comes, so a test waits for
    what the process says (the port it got, a line it logs) rather than for a guessed number of seconds."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", *(args or ("run",))], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self.lines.append("")  # end of output
            self._cond.notify_all()

    @property
    def err(self) -> str:
        with self._cond:
            return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first stderr match of `pattern`; AssertionError (with the output) if it does not come."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search("".join(self.lines))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.lines and self.lines[-1] == ""):
                    raise AssertionError(f"{pattern!r} not logged; stderr:\n{''.join(self.lines)}")
                self._cond.wait(left)

    def port(self) -> int:
        """The port the HTTP server got (BRIEFBOT_HTTP_PORT=0 picks one: no race for a 'free' port)."""
        return int(self.wait_for(r"HTTP server on port (\d+)").group(1))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
        with self._cond:  # and all it wrote has been read
            self._cond.wait_for(lambda: bool(self.lines) and self.lines[-1] == "", 10)
        return code

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_until(condition: Callable[[], object], timeout: float = 20, what: str = "condition") -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true after {timeout:g} s")
        time.sleep(0.05)


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
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": db, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "BRIEFBOT_SLACK_MODE": "http", "SLACK_API_URL": fake.url, "BRIEFBOT_HTTP_PORT": "0",
           "BRIEFBOT_HTTP_HOST": "127.0.0.1", "BRIEFBOT_PUBLIC_URL": "https://briefbot.test"}
    with Running(env) as run:
        try:
            base = f"http://127.0.0.1:{run.port()}"
            assert get(base + "/healthz")[0] == 200  # the port is logged once the server listens
            run.wait_for("slack started in http mode")
            assert get(base + "/readyz") == (200, "ready\n")
            status, metrics = get(base + "/metrics")
            assert status == 200 and "briefbot_documents 5" in metrics and "briefbot_digest_posts_total" in metrics

            # the digest due this minute is posted once, to the subscribed channel
            posts = fake.wait_for("chat.postMessage", timeout=20)
            digest = [c for c in posts if c.body.get("channel") == "C-DIGEST"]
            assert digest and "China, Russia and North Korea" in json.dumps(digest[0].body)
            # its citations and the digest itself link to pages this process serves (the public URL is the proxy's)
            posted = json.dumps([c.body for c in digest])
            links = re.findall(r"https://briefbot\.test(/[cb]/[A-Za-z0-9_\-.]+)", posted)
            assert any(p.startswith("/b/") for p in links) and any(p.startswith("/c/") for p in links)
            for path in links[:4]:
                status, page = get(base + path)
                assert status == 200 and "<!DOCTYPE html>" in page, path
            assert SECRET not in posted

            # a mention, signed as Slack signs it, is answered in its thread
            event = {"type": "event_callback", "event_id": "Ev1", "team_id": "T1", "api_app_id": "A1",
                     "event": {"type": "app_mention", "user": "U2", "channel": "C-ASK", "ts": "1700000000.000100",
                               "text": "<@UBOT> What did Navarro say about Modi?"}}
            assert signed_post(base + "/slack/events", event) == 200
            def answer_posts() -> list[Call]:
                return [c for c in fake.calls if c.method in ("chat.postMessage", "chat.update")
                        and c.body.get("channel") == "C-ASK"
                        and "shame to see Modi" in json.dumps(c.body)]
            wait_until(answer_posts, what="the answer posted in the thread")
            update = answer_posts()
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
            # both Slack requests were timed, the refused one too (each is recorded before its response goes
            # out; waiting on the figure itself keeps a loaded machine from failing this)
            wait_until(lambda: "briefbot_slack_request_seconds_count 2" in get(base + "/metrics")[1],
                       what="two Slack requests in /metrics")
            assert 'briefbot_slack_request_seconds_bucket{le="+Inf"} 2' in get(base + "/metrics")[1]
            code = run.stop()
        finally:
            fake.stop()
        err = run.err
    assert code == 0, err
    assert "stopped" in err and "slack started in http mode" in err
    assert BOT_TOKEN not in err and SECRET not in err
    assert len([c for c in fake.of("chat.postMessage") if c.body.get("channel") == "C-DIGEST"]) == 1
