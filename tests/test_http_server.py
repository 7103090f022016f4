"""The bot's HTTP server from the outside, over real loopback sockets: limits answered before any body is read,
slow and silent clients that cannot starve a signed Slack request, nothing parsed or logged before the
signature, the port free again after a stop and never held by a forked child."""

from __future__ import annotations

import http.client
import json
import logging
import multiprocessing
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack import SlackBot, SlackRunner
from bot.http_server import AckTimes, BotHTTPServer
from tests.fakes.slack_api import FakeSlack

SECRET = "test-signing-secret"


class NoStore:
    def count_documents(self) -> int:
        return 0


def test_ack_times_is_a_cumulative_prometheus_histogram() -> None:
    t = AckTimes()
    for s in (0.003, 0.04, 3.0):
        t.observe(s)
    lines = t.exposition()
    assert 'briefbot_slack_request_seconds_bucket{le="0.005"} 1' in lines
    assert 'briefbot_slack_request_seconds_bucket{le="0.05"} 2' in lines
    assert 'briefbot_slack_request_seconds_bucket{le="2.5"} 2' in lines
    assert 'briefbot_slack_request_seconds_bucket{le="5"} 3' in lines
    assert 'briefbot_slack_request_seconds_bucket{le="+Inf"} 3' in lines
    assert "briefbot_slack_request_seconds_count 3" in lines
    assert t.samples is None  # samples are kept only for benchmarks


def post(port: int, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers or {"content-type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes and return what the server answers before closing (or b'' when it just closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
            if b"\r\n\r\n" in out:
                return out


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = b"ack " + environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server() -> Iterator[BotHTTPServer]:
    s = BotHTTPServer(NoStore(), 0, host="127.0.0.1", slack=echo, ack_times=AckTimes(keep=True), deadline=1.0,
                      idle_timeout=2).start()
    yield s
    s.stop()


def test_a_burst_of_slack_requests_is_served_and_timed(server: BotHTTPServer) -> None:
    results: list[tuple[int, bytes]] = []
    threads = [threading.Thread(target=lambda i=i: results.append(post(server.port, str(i).encode())))
               for i in range(60)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(20)
    assert sorted(results) == sorted((200, f"ack {i}".encode()) for i in range(60))
    # each is recorded before its response is handed back, so all 60 are in by now
    assert len(server.ack_times.samples or []) == 60 and min(server.ack_times.samples or [0]) >= 0.01


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "0x10", "+5"])
def test_an_invalid_content_length_is_400_without_reading_a_body(server: BotHTTPServer, length: str) -> None:
    head = f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    start = time.monotonic()
    reply = raw(server.port, head)  # no body follows: an answer at all means none was waited for
    assert reply.startswith(b"HTTP/1.1 400") and time.monotonic() - start < 2
    assert server.ack_times.count() == 0  # never reached the Slack route


def test_a_too_large_body_is_413_before_it_is_sent(server: BotHTTPServer) -> None:
    reply = raw(server.port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413")


def test_too_large_headers_are_refused(server: BotHTTPServer) -> None:
    reply = raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
    assert reply.split(b"\r\n")[0].split()[1] in {b"431", b"400"}


def test_a_drip_feeding_client_is_cut_off_at_the_request_deadline(server: BotHTTPServer) -> None:
    """A header line every 0.3 s never trips a silence timeout; the 1 s deadline from the first byte does."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < 8:
            try:
                s.sendall(b"X-Drip: 1\r\n")
                s.settimeout(0.3)
                if s.recv(100) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:  # reset by the server
                closed = True
                break
        assert closed and time.monotonic() - start < 5


def test_a_silent_client_is_closed_and_others_are_still_served(server: BotHTTPServer) -> None:
    silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
    try:
        assert post(server.port, b"x") == (200, b"ack x")  # at once, not after the silent ones time out
        for s in silent:
            s.settimeout(10)
            assert s.recv(100) == b""  # closed by the server after its idle timeout, not left hanging
    finally:
        for s in silent:
            s.close()


def test_health_ready_metrics_and_unknown_routes(server: BotHTTPServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for path, status in [("/healthz", 200), ("/readyz", 200), ("/nope", 404)]:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        assert r.status == status, path
    conn.request("GET", "/slack/events")
    r = conn.getresponse()
    r.read()
    assert r.status == 405
    conn.close()


def test_the_port_is_free_again_after_stop_and_not_held_by_a_forked_child() -> None:
    s = BotHTTPServer(NoStore(), 0, host="127.0.0.1").start()
    port = s.port
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(ready, done))
    child.start()
    try:
        assert ready.wait(10)
        s.stop()
        again = BotHTTPServer(NoStore(), port, host="127.0.0.1").start()  # the child must not hold it
        assert raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200")
        again.stop()
    finally:
        done.set()
        child.join(10)


def _hold(ready: Any, done: Any) -> None:
    ready.set()
    done.wait(20)


def test_a_taken_port_is_one_clear_error() -> None:
    s = BotHTTPServer(NoStore(), 0, host="127.0.0.1")
    try:
        with pytest.raises(OSError, match="cannot listen on 127.0.0.1:.*in use"):
            BotHTTPServer(NoStore(), s.port, host="127.0.0.1")
    finally:
        s.stop()


# ---- the real SlackBot behind it ----------------------------------------------------------------------------

class Quiet:
    """The core's surface the adapter calls, answering at once (the adapter is under test, not the core)."""

    def document_count(self, channel: Any = None) -> int:
        return 1

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def signed(body: str, ctype: str = "application/x-www-form-urlencoded", secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"content-type": ctype, "x-slack-request-timestamp": stamp,
            "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)}


@pytest.fixture
def slack_server() -> Iterator[tuple[BotHTTPServer, FakeSlack]]:
    fake = FakeSlack().start()
    bot = SlackBot(Quiet(), bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url)  # type: ignore[arg-type]
    runner = SlackRunner(bot, mode="http")
    s = runner.serve_http(0)
    yield s, fake
    runner.stop(5)
    fake.stop()


def unknown_command(fake: FakeSlack, i: int) -> str:
    return urlencode({"command": "/nosuch", "text": f"q {i}", "user_id": "U1", "channel_id": "C1", "team_id": "T1",
                      "response_url": fake.response_url(f"r{i}"), "trigger_id": "t"})


def test_signed_requests_are_acked_within_a_second_while_200_slow_and_silent_clients_hold_connections(
        slack_server: tuple[BotHTTPServer, FakeSlack]) -> None:
    s, fake = slack_server
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(200)]
    for sock in held[100:]:  # half of them start a request they never finish
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    try:
        times = []
        for i in range(10):
            body = unknown_command(fake, i)
            start = time.monotonic()
            status, _ = post(s.port, body.encode(), signed(body))
            times.append(time.monotonic() - start)
            assert status == 200
        assert max(times) < 1.0, times
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize("body", ["null", "[" * 50_000 + "]" * 50_000, "payload=%7B", "\xff\xfe garbage",
                                  json.dumps({"type": "url_verification", "challenge": "x"})])
def test_unsigned_bodies_are_refused_before_parsing_and_never_logged(
        slack_server: tuple[BotHTTPServer, FakeSlack], body: str, caplog: pytest.LogCaptureFixture) -> None:
    s, _ = slack_server
    caplog.set_level(logging.DEBUG)
    data = body.encode("utf-8", "surrogateescape") if "\xff" not in body else b"\xff\xfe garbage"
    status, _ = post(s.port, data, {"content-type": "application/json", "x-slack-request-timestamp": "1",
                                    "x-slack-signature": "v0=00"})
    assert status == 401
    assert "Traceback" not in caplog.text and "garbage" not in caplog.text and "[[[" not in caplog.text
    assert "challenge" not in caplog.text


@pytest.mark.parametrize("body", ["null", "[" * 50_000 + "]" * 50_000, "payload=%7B"])
def test_signed_but_malformed_bodies_are_400_with_one_line_and_no_traceback(
        slack_server: tuple[BotHTTPServer, FakeSlack], body: str, caplog: pytest.LogCaptureFixture) -> None:
    s, _ = slack_server
    caplog.set_level(logging.DEBUG)
    ctype = "application/x-www-form-urlencoded" if body.startswith("payload") else "application/json"
    status, _ = post(s.port, body.encode(), signed(body, ctype))
    assert status in {400, 404}  # refused; and the connection stays up for the next request
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    ok = unknown_command(slack_server[1], 99)
    assert post(s.port, ok.encode(), signed(ok))[0] == 200


def test_bolt_does_not_log_a_refused_body(caplog: pytest.LogCaptureFixture) -> None:
    from slack_bolt import BoltRequest

    fake = FakeSlack().start()
    bot = SlackBot(Quiet(), bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url)  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG)
    try:  # straight into Bolt, past the adapter's own check: Bolt's refusal line must not carry the body
        resp = bot.app.dispatch(BoltRequest(body='{"secret_looking": "hunter2"}',
                                            headers={"x-slack-signature": "v0=1", "x-slack-request-timestamp": "1"}))
        assert resp.status == 401
        assert "hunter2" not in caplog.text
    finally:
        bot.close(1)
        fake.stop()
