"""What every chat adapter runs on: the worker pool that calls the core, start-with-backoff for a platform that
cannot be reached yet, and an event loop in a thread of its own for an asyncio client.

Imports no platform library and nothing of the core: it runs callables and coroutines.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from typing import Any, Generic, TypeVar

T = TypeVar("T")

WORKERS = 32  # threads answering chat requests per adapter; each mostly waits on a model or the network


class Workers:
    """The pool an adapter hands its core calls to.

    `submit` queues and returns at once, so a platform's ack never waits for a thread to start (the pool starts a
    new thread while it grows, slow while a burst holds the GIL); `call` awaits a result from an event loop;
    `drain` and `close` let what is queued or running finish.
    """

    def __init__(self, name: str, size: int = WORKERS, executor: Executor | None = None,
                 log: logging.Logger | None = None) -> None:
        self.name = name
        self._log = log or logging.getLogger(f"briefbot.{name}")
        self._executor = executor or ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"briefbot-{name}")
        self._own = executor is None
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._queued = 0  # submitted, not yet handed to the pool
        self._pending: set[Future[Any]] = set()
        self._dispatcher: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` in the pool; returns at once. A failure is logged, never raised here."""
        with self._lock:
            self._queued += 1
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch, name=f"briefbot-{self.name}-dispatch",
                                                    daemon=True)
                self._dispatcher.start()
        self._queue.put((fn, args))

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in the pool, awaited: an event loop never blocks on the core."""
        fut = self._executor.submit(functools.partial(fn, *args, **kwargs))
        self._track(fut)
        return await asyncio.wrap_future(fut)

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fut: Future[Any] = self._executor.submit(fn, *args)
            except RuntimeError:  # the pool was shut down under a late request
                self._log.error("%s: a request arrived while stopping; it was not answered", self.name)
                with self._lock:
                    self._queued -= 1
                continue
            with self._lock:
                self._queued -= 1
            self._track(fut, log_failure=True)

    def _track(self, fut: Future[Any], log_failure: bool = False) -> None:
        with self._lock:
            self._pending.add(fut)

        def done(f: Future[Any]) -> None:
            with self._lock:
                self._pending.discard(f)
            if log_failure and not f.cancelled() and f.exception() is not None:
                self._log.error("%s worker failed", self.name, exc_info=f.exception())
        fut.add_done_callback(done)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait for work queued or in progress; True when none is left."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending, queued = set(self._pending), self._queued
            if not pending and not queued:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if pending:
                wait(pending, timeout=min(left, 0.05) if queued else left)
            else:
                time.sleep(0.005)  # handed over within microseconds: the dispatcher holds no lock while it submits

    def close(self, timeout: float = 30.0) -> None:
        """Finish what is queued or running, then stop the dispatcher and the pool (if this made it)."""
        self.drain(timeout)
        with self._lock:
            dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            self._queue.put(None)
            dispatcher.join(5)
        if self._own:
            self._executor.shutdown(wait=False)


class Backoff:
    """Waits between attempts: `first`, then doubling up to `most`."""

    def __init__(self, first: float = 5.0, most: float = 300.0) -> None:
        self.first, self.most = first, most
        self._next = first

    def next(self) -> float:
        """The wait before the next attempt."""
        delay = self._next
        self._next = min(delay * 2, self.most)
        return delay

    @property
    def upcoming(self) -> float:
        """The wait after that (for "trying again in N s")."""
        return self._next


def unreachable(log: logging.Logger, platform: str, why: str, retry_in: float | None) -> None:
    """The one line every adapter logs when its platform cannot be reached and it will try again."""
    later = f"trying again in {retry_in:.0f} s" if retry_in else "trying again in the background"
    log.warning("%s: cannot reach %s (%s); %s", platform.lower(), platform, why, later)


class Starter(Generic[T]):
    """Starts something now or, while the failure is a passing one (network down, DNS, a 5xx), keeps trying in a
    thread with backoff. `classify(error)` gives (True, why) for a failure that will pass, (False, what to fix)
    for one retrying cannot mend (a refused token, a missing setting): then `error` holds it and nothing is retried.
    """

    def __init__(self, platform: str, build: Callable[[], T], classify: Callable[[Exception], tuple[bool, str]],
                 backoff: Backoff, log: logging.Logger, on_up: Callable[[T], None] | None = None) -> None:
        self.platform = platform
        self._build, self._classify, self._backoff, self._log = build, classify, backoff, log
        self._on_up = on_up
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.value: T | None = None
        self.error: Exception | None = None

    def start(self) -> bool:
        """Try now; True when it is up. After a passing failure keep trying in a thread."""
        if self._attempt(None):
            return True
        if self.error is None:
            self._thread = threading.Thread(target=self._keep_trying, name=f"briefbot-{self.platform.lower()}-start",
                                            daemon=True)
            self._thread.start()
        return False

    def _attempt(self, retry_in: float | None) -> bool:
        try:
            self.value = self._build()
            return True
        except Exception as e:
            passing, why = self._classify(e)
            if not passing:
                self.error = e
                self._log.error("%s could not start: %s", self.platform.lower(), why)
                return False
        unreachable(self._log, self.platform, why, retry_in)
        return False

    def _keep_trying(self) -> None:
        while not self._stop.wait(self._backoff.next()):
            if self._attempt(self._backoff.upcoming) or self.error is not None:
                if self.value is not None and self._on_up is not None:
                    self._on_up(self.value)
                return

    def stop(self) -> None:
        """Stop retrying (an attempt under way finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


class LoopThread:
    """An asyncio event loop in a thread of its own, so synchronous code can start it, run coroutines on it and
    stop it. `main` runs until it returns; `on_error` hears what ended it early."""

    def __init__(self, name: str, main: Callable[[], Coroutine[Any, Any, None]],
                 on_error: Callable[[BaseException], None]) -> None:
        self._main, self._on_error = main, on_error
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread; returns at once."""
        self._thread.start()

    def is_alive(self) -> bool:
        """Whether the loop's thread still runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except BaseException as e:  # the thread must not die silently
            self._on_error(e)
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run a coroutine on the loop from another thread and wait for its result."""
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or loop.is_closed() or running is loop:
            coro.close()
            raise RuntimeError("the event loop is not running, or this call would block it from within")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def stop(self, close: Callable[[], Coroutine[Any, Any, None]], timeout: float = 10.0,
             log: logging.Logger | None = None) -> None:
        """Run `close()` on the loop (which should make `main` return), then wait for the thread."""
        loop = self.loop
        if loop is not None and not loop.is_closed() and self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(close(), loop).result(timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                (log or logging.getLogger("briefbot")).warning("%s did not close within %.0f s", self._thread.name,
                                                               timeout)
        self._thread.join(timeout)
