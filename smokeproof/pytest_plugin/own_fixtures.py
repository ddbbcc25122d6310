"""The own checks' fixtures: ``smoke_http``, ``smoke_auth``, ``smoke_db``, ``smoke_env`` (and ``smoke_database``).

Defined here, where the plugin's entry point can hand them to pytest without loading anything
heavy (an inert plugin must cost almost nothing); what they make is made by
:mod:`smokeproof.pytest_plugin.own_checks` the first time a test asks. Each depends on ``smoke``, so
a run whose tests use them starts the run (and its target) like a built-in check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

if TYPE_CHECKING:
    import httpx

    from smokeproof.pytest_plugin.fixtures import Checks
    from smokeproof.pytest_plugin.own_checks import SmokeEnv


@pytest.fixture
def smoke_database() -> str | None:
    """The database an own check runs on: None for ``database_url``, a tenant's name under ``@pytest.mark.each_database``."""
    return None


@pytest.fixture
def smoke_env(smoke: Checks, request: pytest.FixtureRequest) -> SmokeEnv:
    """What may be shown of the environment: name, target, base_url, production, databases and tokens (names only)."""
    from smokeproof.pytest_plugin import own_checks

    return own_checks.environment_view(own_checks.session_of(request).env)


@pytest.fixture
def smoke_auth(smoke: Checks, request: pytest.FixtureRequest) -> Callable[[str], httpx.Auth]:
    """``smoke_auth("NAME")``: an ``httpx.Auth`` sending the run's token NAME (given or obtained once per run)."""
    from smokeproof.pytest_plugin import own_http

    return own_http.auth_for(request)


@pytest_asyncio.fixture
async def smoke_http(smoke: Checks, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` on the environment: base_url, [http] settings, production safety, exchanges in Allure."""
    from smokeproof.pytest_plugin import own_http

    async with own_http.http_client(request) as client:
        yield client


@pytest_asyncio.fixture
async def smoke_db(smoke: Checks, smoke_database: str | None, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A read-only ``asyncpg`` connection to the environment's database (or ``smoke_database``'s), closed after the test."""
    from smokeproof.pytest_plugin import own_checks

    connection = await own_checks.open_database(request, smoke_database)
    try:
        yield connection
    finally:
        await connection.close(timeout=2)
