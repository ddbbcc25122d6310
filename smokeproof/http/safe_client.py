"""The own checks' HTTP client: an ``httpx.AsyncClient`` on the environment, as safe as the built-in probes.

A team's own check gets a client with the environment's ``base_url``, ``[http]`` headers, TLS
settings, timeouts (connect, read and total) and connection retries. Every request goes through
:class:`SafeTransport`, which, before anything is sent:

* refuses a method other than GET, HEAD or OPTIONS in a production environment, unless the test
  says it may (``@pytest.mark.allow_in_production``);
* refuses an origin other than ``base_url``'s unless ``[http] allow_hosts`` lists it, so the
  environment's tokens never leave for another host (``[http] headers`` go to ``base_url``'s origin
  only, as :mod:`smokeproof.http.policy` has it for every request);

then holds one of the run's lanes while the request is out (the ``[http] concurrency`` bound the
built-in probes keep, shared across event loops: the lane is taken and given back on the run's
loop, the request itself runs on the test's), and reports each exchange (redacted later by whoever
renders it) and teaches the redactor the credentials the answer carries.

The client is made per test, on the test's event loop (a client belongs to the loop that uses it);
nothing here knows pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from smokeproof.config.environment import Environment
from smokeproof.config.tables import HttpTable
from smokeproof.errors import Refused, reason
from smokeproof.http import policy
from smokeproof.http.exchange import Exchange
from smokeproof.http.lanes import Lane, Lanes

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Record = Callable[[Exchange], None]


@dataclass(frozen=True)
class Rules:
    """What an own check's client may send, and where (beside :mod:`smokeproof.http.policy`, which every client follows)."""

    environment: str
    production: bool
    allow_unsafe: bool  # @pytest.mark.allow_in_production
    base_url: str | None
    allow_hosts: tuple[str, ...] = ()

    def refusal(self, request: httpx.Request, shown: str) -> str | None:
        """Why ``request`` must not be sent (``shown``: its URL as messages may show it), or None."""
        if self.production and not self.allow_unsafe and request.method not in SAFE_METHODS:
            return (
                f"{request.method} {shown} refused: environment {self.environment} is production, where own checks send "
                "only GET, HEAD and OPTIONS; nothing was sent (mark the test @pytest.mark.allow_in_production to send it)"
            )
        if not self.allowed(request.url):
            home = f"base_url's ({self.base_url})" if self.base_url else "base_url's (the environment has none)"
            return (
                f"{request.method} {shown} refused: its origin is not {home}; nothing was sent "
                "(list it in [http] allow_hosts to allow it)"
            )
        return None

    def allowed(self, url: httpx.URL) -> bool:
        """``base_url``'s origin, or one ``[http] allow_hosts`` names (an origin, or a host with or without its port)."""
        if self.base_url is not None and policy.origin(url) == policy.origin(self.base_url):
            return True
        scheme, host, port = policy.origin(url)
        for allowed in self.allow_hosts:
            entry = allowed.strip().lower().rstrip("/")
            if "://" in entry:
                if policy.origin(entry) == (scheme, host, port):
                    return True
            elif entry == host or entry == f"{host}:{port}":
                return True
        return False


class Bound:
    """The run's lanes as a concurrency bound for requests sent on another event loop."""

    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """A lane of the run's, held (not used: the request has its own connection) for the length of the block."""
        taking = self.lanes.submit(self.lanes.take())
        try:
            lane = await asyncio.wrap_future(taking)
        except asyncio.CancelledError:  # a lane handed over as the test was cancelled goes back
            taking.add_done_callback(self._give_back)
            raise
        try:
            yield
        finally:
            self._give(lane)

    def _give_back(self, taken: object) -> None:
        with contextlib.suppress(Exception):
            self._give(taken.result())  # type: ignore[attr-defined]

    def _give(self, lane: Lane) -> None:
        async def give() -> None:
            self.lanes.give(lane)

        with contextlib.suppress(RuntimeError):  # the run's loop is closed: nothing waits for a lane any more
            self.lanes.submit(give())


class SafeTransport(httpx.AsyncBaseTransport):
    """Refuses what must not be sent, bounds what is, and reports every exchange (see the module's docstring)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        rules: Rules,
        env: Environment,
        bound: Bound | None,
        record: Record,
    ) -> None:
        self.inner = inner
        self.rules = rules
        self.env = env
        self.bound = bound
        self.record = record

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        redact = self.env.redactor
        refusal = self.rules.refusal(request, redact(str(request.url)))
        if refusal is not None:
            raise Refused(refusal)
        for key, value in policy.target_headers(self.env, str(request.url)).items():  # [http] headers: base_url's origin only
            if key not in request.headers:
                request.headers[key] = value
        sent = tuple(request.headers.multi_items())
        started = time.perf_counter()
        try:
            async with self._held():
                started = time.perf_counter()  # a wait for a free lane is not the request's time
                async with asyncio.timeout(self.env.http.timeout_s):
                    response = await self.inner.handle_async_request(request)
                    try:
                        raw = b"".join([chunk async for chunk in response.aiter_raw()])
                    finally:
                        await response.aclose()
        except TimeoutError:
            self._failed(request, sent, started, f"no complete answer within {self.env.http.timeout_s:g} s")
            raise httpx.ReadTimeout(f"no complete answer within {self.env.http.timeout_s:g} s", request=request) from None
        except httpx.HTTPError as exc:
            self._failed(request, sent, started, reason(exc)[:250])
            raise
        finished = time.perf_counter()
        # The answer as the client would have read it (content-encoding decoded by the new response).
        answer = httpx.Response(
            response.status_code, headers=response.headers, content=raw, request=request, extensions=response.extensions
        )
        redact.scan(answer.text, answer.headers.multi_items())
        self.record(
            Exchange(
                request.method,
                str(request.url),
                sent,
                status=answer.status_code,
                response_headers=tuple(answer.headers.multi_items()),
                body=answer.content,
                elapsed_ms=(finished - started) * 1000,
                started=started,
                finished=finished,
            )
        )
        return answer

    def _held(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.bound.held() if self.bound is not None else contextlib.nullcontext()

    def _failed(self, request: httpx.Request, sent: tuple[tuple[str, str], ...], started: float, error: str) -> None:
        finished = time.perf_counter()
        self.record(
            Exchange(
                request.method,
                str(request.url),
                sent,
                error=error,
                elapsed_ms=(finished - started) * 1000,
                started=started,
                finished=finished,
            )
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def _tls(http: HttpTable) -> ssl.SSLContext:
    """The policy's TLS context for ``[http]``, made once per process (reading the CA bundle costs more than a request)."""
    return _tls_for(http.model_dump_json())


@functools.cache
def _tls_for(http_json: str) -> ssl.SSLContext:
    return policy.tls(HttpTable.model_validate_json(http_json))


def client(
    env: Environment,
    *,
    allow_unsafe: bool,
    lanes: Lanes | None,
    record: Record,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on ``env`` for one own check, to be used (and closed) on the test's event loop.

    Built by :mod:`smokeproof.http.policy` like every client of the suite (no proxy or netrc from the
    process environment, no redirect followed unless the request asks); unlike a probe's, it keeps the
    cookies its answers set for the length of the test (log in, then read ``/me``).
    """
    http = env.http
    rules = Rules(
        environment=env.name,
        production=env.production,
        allow_unsafe=allow_unsafe,
        base_url=env.base_url,
        allow_hosts=tuple(http.allow_hosts),
    )
    inner = policy.transport(http, verify=_tls(http))
    bound = Bound(lanes) if lanes is not None else None
    made = policy.client(http, via=SafeTransport(inner, rules=rules, env=env, bound=bound, record=record))
    made.base_url = httpx.URL(env.base_url or "")
    made.cookies = httpx.Cookies()  # kept for this test only: the client is the test's
    return made
