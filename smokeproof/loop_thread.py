"""The run's own event loop, in a thread of its own: where its requests and database reads happen.

pytest's event loop stands still between two tests; this one does not. Everything slow and shared
runs here, started as soon as the run knows what it will need: the endpoints' requests, the catalog
reads (every tenant database's at once, within ``[database] concurrency``), the code's expected
revision. The tests only wait for their own part, as a plain function (:meth:`LoopThread.wait`) or
from any event loop (``asyncio.wrap_future`` on :meth:`LoopThread.submit`); a test that waits gives
the interpreter to this thread meanwhile.

Results are ``concurrent.futures.Future`` objects, so a memoised result (a catalog snapshot) can be
waited for from any thread and any loop, and is read once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from smokeproof.errors import Stalled

T = TypeVar("T")


SLACK_S = 30.0  # added to every bound on a wait: the bound is a net for bugs, never a budget a check should meet


def bounded(bound: float, deadline: float | None) -> float:
    """``bound`` seconds from now, or less when the session deadline (``--smoke-timeout``, monotonic) comes first."""
    return bound if deadline is None else min(bound, max(deadline - time.monotonic(), 0.0))


def settle(future: concurrent.futures.Future[T], within: float, what: str) -> T:
    """``future``'s result, waited for at most ``within`` seconds; :class:`~smokeproof.errors.Stalled` after that.

    Every wait of a test on the run's loop goes through here (or is bounded the same way when awaited):
    a result that never comes fails its check instead of hanging the run.
    """
    try:
        return future.result(timeout=max(within, 0.0))
    except TimeoutError:
        if future.done():  # the work itself raised a TimeoutError (or ended just now): that is its result
            return future.result()
        raise Stalled(f"{what}: no result within {within:g} s (the run's bound on this wait; --smoke-timeout sets it)") from None


class LoopThread:
    """An event loop running in a daemon thread, started on first use; closed once, from another thread."""

    def __init__(self, name: str = "smokeproof-run") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coroutine`` on the loop; callable from any thread (the loop's own included)."""
        with self._lock:
            if self._closed:
                coroutine.close()
                raise RuntimeError(f"{self.name}: the run's loop is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True)
                self._thread.start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def wait(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from a plain test; never from the loop itself)."""
        return self.submit(coroutine).result()

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` on the loop when it closes, after what is still in flight has been cancelled."""
        self._closers.append(closer)

    def close(self) -> None:
        """Cancel what is in flight, run the closers, stop the loop and join its thread. Safe to call twice.

        Exception-safe: every closer runs and the thread stops even when a closer raises; the first
        closer's error is raised afterwards (the others are chained under it as ``__context__``).
        """
        with self._lock:
            loop, thread, self._closed = self._loop, self._thread, True
            self._loop = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        failed: list[Exception] = []
        for closer in self._closers:
            try:
                await closer()
            except Exception as exc:  # the next closers still run; the first error is raised at the end
                failed.append(exc)
        if failed:
            raise failed[0]
