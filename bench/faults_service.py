"""Faults for what faces the network and the user (issue 14): the HTTP server before authentication, bounded
input from chat and the CLI, process hygiene, the CLI under a held lock, a full disk and an ASCII terminal.

    python bench/faults_service.py        (bench/faults.py runs it too, after the ingestion faults)

Each case is tried against the real thing (sockets on 127.0.0.1, `python -m bot` subprocesses) and judged
handled or failed; printed per area: tried / handled / failed, and every failure with what happened.
"""

from __future__ import annotations

import io
import json
import logging
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEEDS = ROOT.parent / "shared" / "corpus" / "seeds"
BBC = ROOT.parent / "shared" / "corpus" / "bbc"
SECRET = "faults-signing-secret"
Case = tuple[str, Callable[[], str | None]]  # (name, check): check returns None when handled, else what went wrong


def _cli(args: list[str], db: Path, timeout: float = 300, preexec: Callable[[], None] | None = None,
         **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}", "BRIEFBOT_EMBEDDER": "none", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=full, cwd=ROOT,
                          timeout=timeout, preexec_fn=preexec)


def _raw(port: int, data: bytes, timeout: float = 5.0) -> tuple[bytes, float]:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        try:
            out = s.recv(200)
        except TimeoutError:
            out = b"(no answer)"
    return out.split(b"\r\n")[0], time.monotonic() - start


def _signed(body: bytes, ctype: str, good: bool = True) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    stamp = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body.decode("utf-8", "replace"))
    return {"content-type": ctype, "x-slack-request-timestamp": stamp if good else "1",
            "x-slack-signature": sig if good else "v0=00"}


def _post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    import http.client

    start = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/slack/events", body=body, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status, time.monotonic() - start
    finally:
        c.close()


def http_cases() -> tuple[list[Case], Callable[[], None], Callable[[], str | None]]:
    """The bot's HTTP server with the real SlackBot in HTTP mode; a log capture to judge tracebacks and bodies."""
    from bot.adapters.slack import SlackBot, SlackRunner
    from bot.http_server import BotHTTPServer
    from tests.fakes.slack_api import FakeSlack

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    fake = FakeSlack().start()

    class Quiet:
        def document_count(self, channel: object = None) -> int:
            return 1

    bot = SlackBot(Quiet(), bot_token="xoxb-faults", signing_secret=SECRET, api_url=fake.url)  # type: ignore[arg-type]
    runner = SlackRunner(bot, mode="http")
    server = BotHTTPServer(None, 0, host="127.0.0.1", slack=runner.wsgi, deadline=2.0).start()
    port = server.port
    deep = b"[" * 50_000 + b"]" * 50_000

    def status_is(data: bytes, *codes: bytes, within: float = 2.0) -> Callable[[], str | None]:
        def check() -> str | None:
            line, took = _raw(port, data)
            ok = any(line.startswith(b"HTTP/1.1 " + c) or line.startswith(b"HTTP/1.0 " + c) for c in codes)
            return None if ok and took < within else f"{line!r} after {took:.1f} s"
        return check

    def post_is(body: bytes, ctype: str, good: bool, *codes: int) -> Callable[[], str | None]:
        def check() -> str | None:
            status, _ = _post(port, body, _signed(body, ctype, good))
            return None if status in codes else f"HTTP {status}"
        return check

    def command(i: int) -> bytes:
        return urlencode({"command": "/nosuch", "text": f"q{i}", "user_id": "U1", "channel_id": "C1",
                          "team_id": "T1", "response_url": fake.response_url(f"r{i}"), "trigger_id": "t"}).encode()

    def under_siege() -> str | None:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
        for s in held[100:]:
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        try:
            times = []
            for i in range(20):
                status, took = _post(port, command(i), _signed(command(i), "application/x-www-form-urlencoded"))
                if status != 200:
                    return f"HTTP {status}"
                times.append(took)
            return None if max(times) < 1 else f"slowest ack {max(times):.2f} s"
        finally:
            for s in held:
                s.close()

    def drip_cut() -> str | None:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            while time.monotonic() - start < 8:
                try:
                    s.sendall(b"X-Drip: 1\r\n")
                    if s.recv(100) == b"":
                        return None
                except TimeoutError:
                    continue
                except OSError:
                    return None
            return "still open after 8 s"

    cases: list[Case] = [
        ("Content-Length: -1", status_is(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400")),
        ("Content-Length: abc", status_is(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"400")),
        ("Content-Length: 300 MB, no body", status_is(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n", b"413")),
        ("100 kB header", status_is(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
                                    b"431", b"400")),
        ("unsigned JSON null", post_is(b"null", "application/json", False, 401)),
        ("unsigned 50k-deep array", post_is(deep, "application/json", False, 401)),
        ("unsigned payload=%7B", post_is(b"payload=%7B", "application/x-www-form-urlencoded", False, 401)),
        ("unsigned non-UTF-8 body", post_is(b"\xff\xfe\x00", "application/json", False, 401)),
        ("signed JSON null", post_is(b"null", "application/json", True, 400, 404)),
        ("signed 50k-deep array", post_is(deep, "application/json", True, 400, 404)),
        ("signed payload=%7B", post_is(b"payload=%7B", "application/x-www-form-urlencoded", True, 400, 404)),
        ("GET /slack/events", status_is(b"GET /slack/events HTTP/1.1\r\nHost: x\r\n\r\n", b"405")),
        ("200 slow/silent connections, 20 signed acks < 1 s", under_siege),
        ("drip-fed request cut at the deadline", drip_cut),
    ]

    def stop() -> None:
        runner.stop(5)
        server.stop()
        fake.stop()
        root.removeHandler(handler)

    def logs_clean() -> str | None:
        text = log.getvalue()
        if "Traceback" in text:
            return "a traceback was logged: " + text[text.index("Traceback"):][:200]
        if "[[[[" in text or "payload=%7B" in text:
            return "a request body was logged"
        return None

    return cases, stop, logs_clean


def bounds_cases(work: Path) -> list[Case]:
    from bot.app import App
    from bot.config import Settings
    from bot.domain import Channel
    from bot.store import open_store

    settings = Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{work}/chat.db",
                                  "BRIEFBOT_ALLOW_PRIVATE_URLS": "true", "BRIEFBOT_EMBEDDER": "none"})
    core = App(settings=settings, store=open_store(settings.database_url)).core()
    ch = Channel("slack", "C1", "U1")

    def chat_refused(url: str, every: str | None, want: str) -> Callable[[], str | None]:
        def check() -> str | None:
            try:
                core.add_source(ch, url, every)
            except ValueError as e:
                return None if want in str(e) and not core.list_sources() else f"refused with {e}"
            return "accepted"
        return check

    def topic_refused() -> str | None:
        try:
            core.subscribe(ch, "08:00", "UTC", "x" * 300)
        except ValueError:
            return None
        return "accepted"

    def cli_refused(args: list[str], want: str) -> Callable[[], str | None]:
        def check() -> str | None:
            r = _cli(args, work / "cli.db")
            ok = r.returncode == 2 and want in r.stderr and "Traceback" not in r.stderr
            return None if ok else f"exit {r.returncode}: {r.stderr.strip()[-200:]}"
        return check

    def run_survives() -> str | None:
        db = work / "run.db"
        store = open_store(f"sqlite:///{db}")
        store.add_source("url", "https://example.com/feed.xml", 1_000_000 * 604800)
        store.close()
        env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}", "BRIEFBOT_HTTP_PORT": "0",
               "BRIEFBOT_HTTP_HOST": "127.0.0.1", "BRIEFBOT_EMBEDDER": "none"}
        p = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stderr=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, text=True)
        try:
            seen = ""
            deadline = time.monotonic() + 60
            assert p.stderr is not None
            while time.monotonic() < deadline and "briefbot running" not in seen:
                line = p.stderr.readline()
                if not line:
                    break
                seen += line
            p.send_signal(signal.SIGTERM)
            rest = p.communicate(timeout=30)[1]
        finally:
            if p.poll() is None:
                p.kill()
        ok = "is not polled" in seen and "briefbot running" in seen and p.returncode == 0
        return None if ok else f"exit {p.returncode}: {(seen + rest)[-300:]}"

    return [
        ("/source add URL every 1000000w", chat_refused("http://127.0.0.1/f.xml", "1000000w", "at least every 4w")),
        ("/source add URL every 999…9w (40 digits)", chat_refused("http://127.0.0.1/f.xml", "9" * 40 + "w", "too long")),
        ("/source add URL every 10s", chat_refused("http://127.0.0.1/f.xml", "10s", "at most every 5 minutes")),
        ("/source add with a 5,000-character URL", chat_refused("http://127.0.0.1/" + "a" * 5000, None, "longest")),
        ("/digest with a 300-character topic", topic_refused),
        ("sources add --every 99999999999w", cli_refused(["sources", "add", "https://example.com/x", "--every",
                                                          "99999999999w"], "at most 4w")),
        ("brief --since 99999999999w", cli_refused(["brief", "--since", "99999999999w"], "at most 520w")),
        ("ask --since 99999999999w", cli_refused(["ask", "x", "--since", "99999999999w"], "at most 520w")),
        ("docs --limit 10**20", cli_refused(["docs", "--limit", "1" + "0" * 20], "out of range")),
        ("run with a stored 1000000w interval", run_survives),
    ]


def _children(pid: int) -> set[int]:
    out = set()
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.add(int(e))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone(pids: set[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def process_cases(work: Path) -> list[Case]:
    def kill_mid_ingest(cmd: list[str], db: Path) -> tuple[set[int], subprocess.Popen[str]]:
        env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}", "BRIEFBOT_EMBEDDER": "none",
               "BRIEFBOT_HTTP_PORT": "0", "BRIEFBOT_HTTP_HOST": "127.0.0.1"}
        p = subprocess.Popen([sys.executable, "-m", "bot", *cmd], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        workers: set[int] = set()
        deadline = time.monotonic() + 120
        while p.poll() is None and len(workers) < 2 and time.monotonic() < deadline:
            workers |= _children(p.pid)
            time.sleep(0.02)
        p.kill()
        p.wait(10)
        return workers, p

    def ingest() -> str | None:
        workers, _ = kill_mid_ingest(["ingest", str(BBC)], work / "k.db")
        if len(workers) < 2:
            return "no workers seen before the ingest ended"
        return None if _gone(workers, 10) else f"workers {sorted(workers)} alive 10 s after SIGKILL"

    def run_restart() -> str | None:
        db = work / "r.db"
        _cli(["sources", "add", str(BBC), "--every", "1h"], db)
        workers, first = kill_mid_ingest(["run"], db)
        if len(workers) < 2:
            return "no workers seen before the poll ended"
        if not _gone(workers, 10):
            return f"workers {sorted(workers)} alive 10 s after SIGKILL"
        return None  # the same-port restart is asserted in tests/test_procs.py

    return [("SIGKILL of ingest mid-run: workers die", ingest),
            ("SIGKILL of run mid-poll: workers die", run_restart)]


def cli_cases(work: Path) -> list[Case]:
    db = work / "seeded.db"
    _cli(["ingest", str(SEEDS)], db)

    def with_lock(fn: Callable[[], str | None]) -> Callable[[], str | None]:
        def check() -> str | None:
            w = sqlite3.connect(db, isolation_level=None)
            w.execute("BEGIN IMMEDIATE")
            try:
                return fn()
            finally:
                w.execute("ROLLBACK")
                w.close()
        return check

    def ask_ok(**env: str) -> Callable[[], str | None]:
        def check() -> str | None:
            start = time.monotonic()
            r = _cli(["ask", "What did Navarro say about Modi?"], db, **env)
            ok = r.returncode == 0 and "Traceback" not in r.stderr and time.monotonic() - start < 20
            return None if ok else f"exit {r.returncode} in {time.monotonic() - start:.0f} s: {r.stderr[-200:]}"
        return check

    def busy_json() -> str | None:
        r = _cli(["sources", "add", str(SEEDS), "--json"], db, BRIEFBOT_DB_BUSY_TIMEOUT="0.5")
        try:
            reason = json.loads(r.stdout).get("reason")
        except ValueError:
            reason = None
        ok = r.returncode == 3 and len(r.stderr.strip().splitlines()) == 1 and reason == "database-busy"
        return None if ok else f"exit {r.returncode}: {r.stderr[-200:]}"

    def full_disk() -> str | None:
        def small() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))
        full = work / "full.db"
        r = _cli(["ingest", str(BBC), "--json"], full, preexec=small)
        with sqlite3.connect(full) as c:
            integrity = c.execute("PRAGMA integrity_check").fetchone()[0]
        ok = r.returncode == 3 and "Traceback" not in r.stderr and '"disk-full"' in r.stdout and integrity == "ok"
        return None if ok else f"exit {r.returncode}, integrity {integrity}: {r.stderr[-200:]}"

    return [("ask while another process holds the write lock", with_lock(ask_ok())),
            ("a write behind the lock: one line and JSON", with_lock(busy_json)),
            ("full disk mid-ingest (RLIMIT_FSIZE 2 MB)", full_disk),
            ("PYTHONIOENCODING=ascii ask", ask_ok(PYTHONIOENCODING="ascii"))]


def judge(area: str, cases: list[Case]) -> tuple[int, int]:
    failed = []
    for name, check in cases:
        try:
            why = check()
        except Exception as e:  # the check itself crashed: a failure, with what it was
            why = f"{type(e).__name__}: {e}"
        if why is not None:
            failed.append((name, why))
    print(f"{area:34s} tried {len(cases):3d}  handled {len(cases) - len(failed):3d}  failed {len(failed):3d}")
    for name, why in failed:
        print(f"  ! {name}: {why}")
    return len(cases), len(failed)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="briefbot-faults-service-"))
    totals = [0, 0]
    print("\nissue 14 faults (network- and user-facing):")
    cases, stop, logs_clean = http_cases()
    try:
        t, f = judge("HTTP server before authentication", cases + [("no traceback or body in the logs", logs_clean)])
    finally:
        stop()
    totals = [totals[0] + t, totals[1] + f]
    for area, make in (("bounded input (chat, CLI, run)", bounds_cases), ("process hygiene", process_cases),
                       ("CLI under trouble", cli_cases)):
        t, f = judge(area, make(work))
        totals = [totals[0] + t, totals[1] + f]
    print(f"{'all':34s} tried {totals[0]:3d}  handled {totals[0] - totals[1]:3d}  failed {totals[1]:3d}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 1 if totals[1] else 0


if __name__ == "__main__":
    raise SystemExit(main())
