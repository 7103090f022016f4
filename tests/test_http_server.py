"""The bot's HTTP server: Slack request timing in /metrics, a burst of connections all served, a silent
client cut off."""

from __future__ import annotations

import http.client
import socket
import threading
import time

from bot.http_server import AckTimes, BotHTTPServer


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


def post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body, headers={"content-type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_a_burst_of_slack_requests_is_served_by_the_pool_and_timed() -> None:
    def slack(body: bytes, headers: dict[str, str], query: str) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.01)
        return 200, {"content-type": "text/plain"}, b"ack " + body

    times = AckTimes(keep=True)
    server = BotHTTPServer(NoStore(), 0, host="127.0.0.1", slack=slack, ack_times=times).start()
    try:
        results: list[tuple[int, bytes]] = []
        threads = [threading.Thread(target=lambda i=i: results.append(post(server.port, str(i).encode())))
                   for i in range(60)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(20)
        assert sorted(results) == sorted((200, f"ack {i}".encode()) for i in range(60))
        deadline = time.monotonic() + 5  # each is recorded just after its response is written
        while len(times.samples or []) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(times.samples or []) == 60 and min(times.samples or [0]) >= 0.01
    finally:
        server.stop()


def test_a_silent_client_is_cut_off_and_others_are_still_served(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot import http_server

    monkeypatch.setattr(http_server.QuickHandler, "timeout", 0.5)
    server = BotHTTPServer(NoStore(), 0, host="127.0.0.1",
                           slack=lambda b, h, q: (200, {}, b"ok")).start()
    try:
        silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(BotHTTPServer_workers())]
        # every pool thread is held by a client that sends nothing, until the timeout frees it
        status, body = post(server.port, b"{}")
        assert (status, body) == (200, b"ok")
        for s in silent:
            assert s.recv(100) == b""  # closed by the server, not left hanging
            s.close()
    finally:
        server.stop()


def BotHTTPServer_workers() -> int:  # noqa: N802
    from bot.http_server import BurstTolerantServer

    return BurstTolerantServer.workers
