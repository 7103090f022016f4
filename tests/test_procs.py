"""Process hygiene, with real processes: SIGKILL of `briefbot ingest` or `run` mid-ingest leaves no worker alive,
and `run` starts again on the same port at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BBC, ROOT, SEEDS, need, run_cli
from tests.test_run import Running, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (from /proc)."""
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(entry))
    return out


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    out.add(pid)
        except OSError:
            pass
    return out


def kill_with_workers(proc: subprocess.Popen[str], timeout: float = 120) -> set[int]:
    """SIGKILL `proc` once it has forked workers; returns the workers' pids."""
    workers: set[int] = set()

    def forked() -> bool:
        assert proc.poll() is None, "finished before its workers were seen"
        workers.update(children(proc.pid))
        return len(workers) >= 2

    wait_until(forked, timeout, "ingest workers forked")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    return workers


def test_sigkill_of_ingest_takes_its_workers_with_it(tmp_path: Path) -> None:
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(need(BBC))], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        workers = kill_with_workers(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_until(lambda: not alive(workers), 10, "the workers gone after their parent was killed")
    # the database is free: the next ingest runs and stores
    r = run_cli("ingest", str(need(SEEDS)), env={"BRIEFBOT_DATABASE_URL": env["BRIEFBOT_DATABASE_URL"]})
    assert r.returncode == 0, r.stderr


def test_run_restarts_on_the_same_port_after_sigkill_mid_ingest(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/r.db"
    assert run_cli("sources", "add", str(need(BBC)), "--every", "1h", env={"BRIEFBOT_DATABASE_URL": db}).returncode == 0
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": db, "BRIEFBOT_HTTP_HOST": "127.0.0.1", "BRIEFBOT_HTTP_PORT": "0"}
    with Running(env) as first:
        port = first.port()
        workers = kill_with_workers(first.proc)
    wait_until(lambda: not alive(workers), 10, "the workers gone after `run` was killed")
    with Running({**env, "BRIEFBOT_HTTP_PORT": str(port)}) as again:
        assert again.port() == port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
        assert again.stop() == 0
    assert "in use" not in again.err and "Traceback" not in again.err, again.err
