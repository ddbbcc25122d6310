"""Endpoint probing: every selected contract requested concurrently, ``[http] concurrency`` at a time.

The requests start, all of them, as soon as the run knows which contracts are selected, and run on
the :mod:`smokeproof.http.lanes` event loop while pytest runs the tests; each test waits only for its own
exchange. A run costs about its slowest endpoint plus the per-test reporting, not the sum of both.
The module knows nothing of pytest or Allure: it returns :class:`Exchange` records.

An unreachable target fails fast: the first connection failure marks the target down and every
request not yet sent reports the same failure at once, instead of one timeout per test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Unpack

import httpx

from smokeproof.config.environment import Environment
from smokeproof.config.secrets import reveal
from smokeproof.errors import reason
from smokeproof.http import policy
from smokeproof.http.contracts import EndpointContract
from smokeproof.http.exchange import Exchange as Exchange
from smokeproof.http.exchange import RequestOptions as RequestOptions
from smokeproof.http.lanes import Lane, Lanes
from smokeproof.http.token_request import TokenUnavailable
from smokeproof.http.tokens import TokenBroker

MAX_REDIRECTS = 5


@dataclass
class Prober:
    """Sends the contracts' requests; one instance per run, callable from any event loop."""

    env: Environment
    lanes: Lanes
    selected: tuple[EndpointContract, ...] = ()
    _futures: dict[str, concurrent.futures.Future[Exchange]] = field(default_factory=dict)
    _down: str | None = None
    _started: bool = False
    tokens: TokenBroker = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenBroker(self.env.tokens, base_url=self.env.base_url, send=self._send_token, redactor=self.env.redactor)

    def start(self) -> None:
        """Send every selected contract's request now, in order, in the background (once)."""
        if self._started:
            return
        self._started = True
        # Checks that need a token the run obtains wait for it; the others go at once (None).
        groups: dict[str | None, list[tuple[EndpointContract, concurrent.futures.Future[Exchange]]]] = {}
        for contract in self.selected:
            if contract.test_id not in self._futures and self.missing_credentials(contract) is None:
                future: concurrent.futures.Future[Exchange] = concurrent.futures.Future()
                self._futures[contract.test_id] = future
                token = contract.auth if contract.auth in self.env.tokens.obtained else None
                groups.setdefault(token, []).append((contract, future))
        for token, jobs in sorted(groups.items(), key=lambda item: item[0] is not None):
            dispatched = self.lanes.submit(self._dispatch(jobs) if token is None else self._dispatch_after(token, jobs))
            dispatched.add_done_callback(functools.partial(_settle_left, jobs))

    async def _dispatch_after(self, token: str, jobs: list[tuple[EndpointContract, concurrent.futures.Future[Exchange]]]) -> None:
        """The jobs' requests once their token is in; without it, each job's exchange says why."""
        try:
            await self.tokens.get(token)
        except Exception as exc:  # TokenUnavailable, or a bug: either way the checks fail as Authentication setup
            why = str(exc) if isinstance(exc, TokenUnavailable) else self.env.redactor(f"token '{token}': {reason(exc)}")
            for contract, future in jobs:
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_result(self._unauthenticated(contract, why))
            return
        await self._dispatch(jobs)

    def _unauthenticated(self, contract: EndpointContract, reason: str) -> Exchange:
        now = time.perf_counter()
        return Exchange(contract.method, self.url_for(contract), (), auth_setup=reason, started=now, finished=now)

    async def _dispatch(self, jobs: list[tuple[EndpointContract, concurrent.futures.Future[Exchange]]]) -> None:
        """Each request is built while the ones before it are out, and sent the moment a lane is free."""
        for index, (contract, future) in enumerate(jobs):
            try:
                request = self._build(contract.method, self.url_for(contract), **self._options(contract))
                lane = await self.lanes.take()
            except asyncio.CancelledError:  # the run is closing: nobody waits for the rest
                for _, waiting in jobs[index:]:
                    waiting.cancel()
                raise
            except Exception as exc:  # a contract that cannot be sent: its test reports why
                future.set_exception(exc)
                continue
            task = asyncio.ensure_future(self._exchange(lane, request, follow=contract.follow_redirects))
            task.add_done_callback(functools.partial(self._settle, lane, future))

    def _settle(self, lane: Lane, future: concurrent.futures.Future[Exchange], task: asyncio.Task[Exchange]) -> None:
        """Give the lane back; hand the exchange (or why there is none) to whoever waits for it."""
        self.lanes.give(lane)
        if task.cancelled():
            future.cancel()
            return
        with contextlib.suppress(concurrent.futures.InvalidStateError):  # cancelled meanwhile: the run is closing
            exc = task.exception()
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(task.result())

    def missing_credentials(self, contract: EndpointContract) -> str | None:
        """Why ``contract`` cannot be sent here (it needs a token the environment lacks), or None."""
        if contract.auth is not None and not self.env.tokens.declared(contract.auth):
            key = "[auth] bearer_token" if contract.auth == "bearer" else f"[auth.tokens] {contract.auth}"
            return f"{contract.test_id}: needs a token ({key}), which environment {self.env.name} does not set"
        return None

    def future(self, contract: EndpointContract) -> concurrent.futures.Future[Exchange]:
        """The exchange for ``contract``, to come; the first call starts every selected contract's request."""
        self.start()
        future = self._futures.get(contract.test_id)
        if future is None:
            future = self._futures[contract.test_id] = self.lanes.submit(self._probe(contract))
        return future

    async def result(self, contract: EndpointContract) -> Exchange:
        """The exchange for ``contract``, awaited from any event loop."""
        # Shielded: a test cancelled while it waits (Ctrl-C, a timeout plugin) must not cancel a request
        # that another test (the probe of the same endpoint) also waits for.
        return await asyncio.shield(asyncio.wrap_future(self.future(contract)))

    def headers_for_env(self) -> dict[str, str]:
        return {key: reveal(value) for key, value in self.env.headers}

    def headers_for(self, contract: EndpointContract) -> dict[str, str]:
        headers = self.headers_for_env()
        headers.update(contract.headers)
        if contract.auth is not None:
            sent = self.env.tokens.how(contract.auth)
            headers[sent.header] = sent.value(self.tokens.value(contract.auth))
        return headers

    def url_for(self, contract: EndpointContract) -> str:
        if self.env.base_url is None:
            raise RuntimeError("the environment has no base_url (was its target started?)")
        return self.env.base_url + contract.path

    def _options(self, contract: EndpointContract) -> RequestOptions:
        headers = self.headers_for(contract)
        options: RequestOptions = {"headers": headers, "follow": contract.follow_redirects}
        if contract.query:
            options["params"] = {k: str(v) for k, v in contract.query.items()}
        request_body = contract.request_body()
        if request_body is not None:
            options["content"], media = request_body
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = media
        return options

    async def _probe(self, contract: EndpointContract) -> Exchange:
        if contract.auth is not None and contract.auth in self.env.tokens.obtained:
            try:
                await self.tokens.get(contract.auth)
            except Exception as exc:  # as in _dispatch_after
                why = (
                    str(exc)
                    if isinstance(exc, TokenUnavailable)
                    else self.env.redactor(f"token '{contract.auth}': {reason(exc)}")
                )
                return self._unauthenticated(contract, why)
        return await self._send(contract.method, self.url_for(contract), **self._options(contract))

    async def _send_token(self, method: str, url: str, headers: Mapping[str, str], content: bytes) -> Exchange:
        sent = policy.target_headers(self.env, url) | dict(headers)  # [http] headers on the target's origin only
        return await self._send(method, url, headers=sent, content=content, mark_down=False)

    def on_target(self, url: str) -> bool:
        """Whether ``url`` is on the target's origin: a connection failure there marks the target down."""
        return self.env.base_url is not None and policy.origin(url) == policy.origin(self.env.base_url)

    async def send(self, method: str, url: str, **options: Unpack[RequestOptions]) -> Exchange:
        """One bounded request, sent on the prober's loop; awaitable from any loop."""
        return await asyncio.wrap_future(self.lanes.submit(self._send(method, url, **options)))

    async def _send(self, method: str, url: str, **options: Unpack[RequestOptions]) -> Exchange:
        request = self._build(method, url, **options)
        async with self.lanes.lane() as lane:
            return await self._exchange(
                lane, request, follow=options.get("follow", False), mark_down=options.get("mark_down", True)
            )

    def _build(self, method: str, url: str, **options: Unpack[RequestOptions]) -> httpx.Request:
        params, headers, cookies = options.get("params"), options.get("headers"), options.get("cookies")
        return self.lanes.builder().build_request(
            method, url, params=params, headers=headers, cookies=dict(cookies or {}), content=options.get("content")
        )

    async def _exchange(self, lane: Lane, request: httpx.Request, *, follow: bool, mark_down: bool = True) -> Exchange:
        """One bounded request on a lane (connect, read and total timeouts; body read with a cap)."""
        sent = tuple(request.headers.multi_items())
        started = time.perf_counter()
        if self._down is not None:
            return Exchange(
                request.method, str(request.url), sent, error=self._down, unreachable=True, started=started, finished=started
            )
        try:
            async with asyncio.timeout(self.env.http.timeout_s):
                return await self._follow(lane, request, sent, started, follow)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            down = f"unreachable: {reason(exc, kind=False)[:200]} ({request.url.netloc.decode('ascii', 'replace')})"
            if mark_down:
                self._down = down = "target " + down
            return self._failed(request, sent, started, down, unreachable=True)
        except (TimeoutError, httpx.TimeoutException):
            return self._failed(request, sent, started, f"no complete answer within {self.env.http.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return self._failed(request, sent, started, reason(exc)[:250])

    async def _follow(
        self,
        lane: Lane,
        request: httpx.Request,
        sent: tuple[tuple[str, str], ...],
        started: float,
        follow: bool,
    ) -> Exchange:
        """The answer; with ``follow``, redirects on the request's origin are followed (:func:`policy.follows`).

        httpx builds each next request (``Response.next_request``: method, body, headers and
        credentials as RFC 9110 and httpx's rules have them); a redirect off the origin is reported
        and not followed. Without ``follow`` the request goes to the lane itself, with no client.
        """
        start, offsite = request.url, None
        for _ in range(MAX_REDIRECTS + 1):
            if follow:
                response = await self.lanes.follower(lane).send(request, stream=True)
            else:
                response = await lane.handle_async_request(request)  # no client: no cookie jar (see lanes)
            try:
                body, truncated = await _read_capped(response, self.env.http.max_body_bytes)
            finally:
                await response.aclose()
            following = response.next_request if follow else None
            if following is not None:
                if policy.follows(start, following.url):
                    request = following
                    continue
                offsite = str(following.url)
            finished = time.perf_counter()
            self.env.redactor.scan(body.decode("utf-8", errors="replace"), response.headers.multi_items())
            return Exchange(
                method=request.method,
                url=str(request.url),
                request_headers=sent,
                status=response.status_code,
                response_headers=tuple(response.headers.multi_items()),
                body=body,
                truncated=truncated,
                elapsed_ms=(finished - started) * 1000,
                offsite_redirect=offsite,
                started=started,
                finished=finished,
            )
        return self._failed(request, sent, started, f"more than {MAX_REDIRECTS} redirects")

    def stalled(self, contract: EndpointContract, seconds: float) -> Exchange:
        """The exchange of a request whose answer did not arrive within the run's bound (see SmokeRun.request_bound)."""
        now = time.perf_counter()
        why = f"no answer: the run stopped waiting at its bound of {seconds:g} s (--smoke-timeout sets it)"
        return Exchange(contract.method, self.url_for(contract), (), error=why, started=now, finished=now)

    @staticmethod
    def _failed(
        request: httpx.Request,
        sent: tuple[tuple[str, str], ...],
        started: float,
        error: str,
        *,
        unreachable: bool = False,
    ) -> Exchange:
        finished = time.perf_counter()
        return Exchange(
            request.method,
            str(request.url),
            sent,
            error=error,
            unreachable=unreachable,
            elapsed_ms=(finished - started) * 1000,
            started=started,
            finished=finished,
        )


def _settle_left(
    jobs: list[tuple[EndpointContract, concurrent.futures.Future[Exchange]]], dispatched: concurrent.futures.Future[None]
) -> None:
    """A dispatch that ended without handing every job its exchange (a bug) fails the jobs left: nobody waits forever."""
    error = None if dispatched.cancelled() else dispatched.exception()
    if error is None:  # the requests it started settle their own futures; a cancelled one cancelled the rest
        return
    for _, future in jobs:
        with contextlib.suppress(concurrent.futures.InvalidStateError):  # settled meanwhile
            future.set_exception(error)


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


def overlapped(exchanges: Iterable[Exchange]) -> bool:
    """True when at least two requests were in flight at once."""
    spans = sorted((e.started, e.finished) for e in exchanges)
    return any(b[0] < a[1] for a, b in itertools.pairwise(spans))
