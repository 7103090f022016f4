"""Process hygiene: a child forked by briefbot (an ingest worker) dies with the process that forked it.

Imports nothing of the bot. `install()` is called once by the command line; it covers every later os.fork().
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_INTERVAL = 0.5  # seconds between a child's checks that its parent is still there

_installed = False
_forker = 0  # pid of the process forking, as the child sees it
_from_main = False  # whether the forking thread was the main thread


def install() -> None:
    """Make every child forked from now on exit when its parent dies, however the parent dies (SIGKILL too).

    Without it, killing `briefbot ingest` or `run` mid-ingest left its pool workers running, holding the
    database and the HTTP port. Linux gets PR_SET_PDEATHSIG (instant) when the fork came from the main thread
    (the signal follows the forking *thread*, so a fork from a short-lived thread would die early); every
    child also runs a watchdog thread that exits when its parent id changes (the parent is gone)."""
    global _installed
    if _installed or not hasattr(os, "register_at_fork"):
        return
    _installed = True
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def _before_fork() -> None:
    global _forker, _from_main
    _forker = os.getpid()
    _from_main = threading.current_thread() is threading.main_thread()


def _after_fork_in_child() -> None:
    parent = _forker
    if _from_main and sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here: the watchdog alone covers it
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="briefbot-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL)
        if os.getppid() != parent:
            os._exit(1)
