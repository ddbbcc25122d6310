"""Where the probes' requests run: the run's own loop (:mod:`smokeproof.loop_thread`), and its lanes.

pytest's event loop stands still between two tests; the run's loop does not, so a request in
flight is never timed with pytest's bookkeeping added, and the tests run while the requests are out.
A lane is an httpx transport with a single keep-alive connection; there are ``[http] concurrency``
of them, and a request waits for a free one (first come, first served), as it would for a
semaphore.

One transport per connection rather than one client with a pool of them: httpcore's pool scans
every connection, polling its socket, whenever a request arrives or leaves; at 16 connections
that costs more CPU than the request itself, and 64 connections are slower than 16
(encode/httpx#3215). Requests go to the transport, not through an ``httpx.AsyncClient``: a
client keeps the cookies its answers set and sends them with every later request, and a probe
must stay anonymous (a session cookie picked up from one endpoint would turn the next
protected route's 401 into a 200). It also saves a third of the CPU per request. An entry that
follows redirects goes through its lane's client (:meth:`Lanes.follower`), which builds each next
request as httpx does and keeps no cookie either. Transports and clients come from
:mod:`smokeproof.http.policy`, as every other request the suite makes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import httpx

from smokeproof.config.tables import HttpTable
from smokeproof.http import policy
from smokeproof.loop_thread import LoopThread

T = TypeVar("T")

Lane = httpx.AsyncHTTPTransport


class _BuildOnly(httpx.AsyncBaseTransport):
    """The request builder's transport: requests are sent on a lane, never through the builder."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("smokeproof sends requests on a lane (Lanes.take), not through the builder")


class Lanes:
    """The probes' one-connection transports, on the run's loop (a loop of their own unless given one)."""

    def __init__(self, http: HttpTable, loop: LoopThread | None = None) -> None:
        self.http = http
        self.loop = loop or LoopThread("smokeproof-probes")
        self._owns_loop = loop is None  # a loop it was given is closed by whoever gave it
        self._lanes: list[Lane] = []
        self._builder: httpx.AsyncClient | None = None
        self._followers: dict[Lane, httpx.AsyncClient] = {}
        self._idle: asyncio.Queue[Lane] | None = None

    @property
    def thread(self) -> threading.Thread | None:
        return self.loop.thread

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coroutine`` on the lanes' loop; callable from any thread."""
        return self.loop.submit(coroutine)

    def warm(self) -> None:
        """Start the loop and open the lanes now, in the background.

        Reading the CA bundle gives the GIL back, so most of the work overlaps pytest's collection; on a
        small suite the first request may still wait for the rest.
        """
        self.submit(self._warm())

    async def _warm(self) -> None:
        self._open()
        # httpcore loads anyio's asyncio backend on its first connection, which every request of the
        # first wave would wait for; load it now. Nothing is sent here.
        await anyio.lowlevel.checkpoint()

    def builder(self) -> httpx.AsyncClient:
        """A client that builds requests (default headers, timeouts); it sends none, so it keeps no cookies."""
        self._open()
        assert self._builder is not None
        return self._builder

    def follower(self, lane: Lane) -> httpx.AsyncClient:
        """A client that sends on ``lane`` only, for entries that follow redirects (no cookies kept)."""
        client = self._followers.get(lane)
        if client is None:
            client = self._followers[lane] = policy.client(self.http, via=lane)
        return client

    async def take(self) -> Lane:
        """A free lane, waited for in turn (first come, first served). On the lanes' loop only."""
        self._open()
        assert self._idle is not None
        return await self._idle.get()

    def give(self, lane: Lane) -> None:
        """Hand a lane back after its request (and redirects). On the lanes' loop only."""
        assert self._idle is not None
        self._idle.put_nowait(lane)

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[Lane]:
        """A free lane for the length of the block."""
        lane = await self.take()
        try:
            yield lane
        finally:
            self.give(lane)

    def _open(self) -> None:
        if self._lanes:
            return
        http = self.http
        tls = policy.tls(http)  # the CA bundle is read once, for every lane
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._builder = policy.client(http, via=_BuildOnly())
        self._idle = asyncio.Queue()
        self.loop.on_close(self._close_lanes)
        for _ in range(http.concurrency):
            lane = policy.transport(http, verify=tls, limits=one)
            self._lanes.append(lane)
            self._idle.put_nowait(lane)

    def close(self) -> None:
        """Cancel what is still in flight and close the connections (and the loop, if it is the lanes' own).

        Blocks; call it from any thread but the loop's own. Closing twice is harmless.
        """
        if self._owns_loop:
            self.loop.close()
        elif self.loop.thread is not None and self._lanes:
            self.loop.wait(self._close_lanes())

    async def _close_lanes(self) -> None:
        lanes, self._lanes = self._lanes, []
        self._followers.clear()  # their transports are the lanes
        for lane in lanes:
            await lane.aclose()
