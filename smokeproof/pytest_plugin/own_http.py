"""The own checks' HTTP side: ``smoke_http`` (the environment's client) and ``smoke_auth("NAME")`` (the run's tokens).

Loaded by the fixtures the first time a test asks (httpx loads with it). The client is
:mod:`smokeproof.http.safe_client`'s, made per test on the test's event loop, its exchanges attached
to the test's Allure result as the built-in checks' are. A token is the run's: a static one by value,
an obtained one requested once per run on the run's loop (:class:`~smokeproof.http.tokens.TokenBroker`)
and handed over by value; one that cannot be had fails the test as "Authentication setup".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import httpx
import pytest

from smokeproof.config.secrets import Redactor
from smokeproof.http import judge, safe_client
from smokeproof.http.exchange import Exchange
from smokeproof.http.token_request import TokenUnavailable
from smokeproof.pytest_plugin.own_checks import ALLOW_IN_PRODUCTION, environment_view, record_failure, session_of
from smokeproof.pytest_plugin.own_verdicts import auth_setup
from smokeproof.reporting import allure_labels


class RunToken(httpx.Auth):
    """Sends the run's token NAME in its declared header and scheme (``smoke_auth("NAME")``)."""

    def __init__(self, name: str, header: str, scheme_of: Callable[[str], str], value: Callable[[], Awaitable[str]]) -> None:
        self.name = name
        self._header = header
        self._scheme_of = scheme_of
        self._value = value

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        request.headers[self._header] = self._scheme_of(await self._value())
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError(f"smoke_auth({self.name!r}) is for smoke_http (an async client): await smoke_http.get(..., auth=...)")

    def __repr__(self) -> str:
        return f"RunToken({self.name!r})"


def auth_for(request: pytest.FixtureRequest) -> Callable[[str], httpx.Auth]:
    """``smoke_auth``: NAME -> an ``httpx.Auth`` with the run's token NAME (unknown names fail the test, listing the known)."""
    session = session_of(request)
    item = request.node

    def auth(name: str) -> httpx.Auth:
        __tracebackhide__ = True
        env = session.env
        tokens = env.tokens
        if not tokens.declared(name):
            known = ", ".join(environment_view(env).tokens) or "none"
            why = f"smoke_auth({name!r}): environment {env.name} declares no token {name!r} (tokens: {known})"
            pytest.fail(why, pytrace=False)
        sent = tokens.how(name)

        async def value() -> str:
            if name in tokens.static:
                return tokens.static[name].reveal()
            run = session.run
            try:  # obtained once per run, on the run's loop, with the probes' timeouts and lanes
                return await asyncio.wrap_future(run.loop.submit(run.prober.tokens.get(name)))
            except TokenUnavailable as exc:
                record_failure(item, auth_setup(item, env.redactor, name, str(exc)))

        return RunToken(name, sent.header, sent.value, value)

    return auth


def http_client(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """``smoke_http``: a client on the environment for this test, its exchanges attached to the test's Allure result."""
    session = session_of(request)
    run = session.run
    env = session.env
    listener = allure_labels.listener(request.config)

    def record(exchange: Exchange) -> None:
        attach(listener, exchange, env.redactor)

    return safe_client.client(
        env,
        allow_unsafe=request.node.get_closest_marker(ALLOW_IN_PRODUCTION) is not None,
        lanes=run.prober.lanes,
        record=record,
    )


def attach(listener: Any | None, exchange: Exchange, redactor: Redactor) -> None:
    """The exchange, rendered and redacted as the built-in checks' are, on the running test's Allure result."""
    allure_labels.attach(listener, f"{exchange.method} {redactor(exchange.url)}", judge.render_exchange(exchange, redactor))
