"""One run across engines, for what the run learns once: the code's revision, and each tenant's.

``[revision] url`` is a request to the deployed code: under ``-n 2`` it must go out once per run (the
controller asks, the workers take its answer), not once per worker, and the Alembic checks must judge
the answer (or the error) as a plain run does. Shards of a fleet merged by ``smokeproof report DIR...``
must say what the unsharded run says of its tenant databases, not each shard's partial view.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from demo.pgcluster import Cluster
from smokeproof.reporting import merge

from .servers import Route, Server, serve
from .sql import execute
from .test_scale import Run, counts, pytest_run, suite

pytestmark = pytest.mark.slow

VERSION = "/version"  # where the deployed code says its Alembic head
HEAD = "abc123000001"
TENANTS = {"rev_a": HEAD, "rev_b": HEAD, "rev_c": "0ld000000001", "rev_d": HEAD}  # database -> its alembic_version


@pytest.fixture
def tenant_urls(pg: Cluster) -> Iterator[dict[str, str]]:
    """Four tenant databases with a table and an Alembic revision each; one of them behind the code."""

    async def drop(*, create: bool) -> None:
        admin = await asyncpg.connect(pg.url(), timeout=10)
        try:
            for name in TENANTS:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if create:
                    await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    async def prepare() -> None:
        await drop(create=True)
        for name, revision in TENANTS.items():
            await execute(
                pg.url(name),
                "CREATE TABLE items (id integer PRIMARY KEY);"
                f"CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('{revision}')",
            )

    asyncio.run(prepare())
    try:
        yield {name: pg.url(name) for name in TENANTS}
    finally:
        asyncio.run(drop(create=False))


@pytest.fixture
def code() -> Iterator[Server]:
    """The deployed code: one endpoint, and its version document at ``VERSION``."""
    routes = {"/api/ok": Route(), VERSION: Route(body=json.dumps({"build": {"alembic_revision": HEAD}}))}
    with serve(Server(routes=routes)) as server:
        yield server


def fleet(root: Path, server: Server, tenant_urls: dict[str, str]) -> Path:
    """The repository's suite on ``server`` and the tenant databases, the code's revision asked of ``VERSION``."""
    suite(root, counted_start=False)
    (root / "endpoints.toml").write_text('[[endpoint]]\npath = "/api/ok"\nstatus = 200\n')
    (root / "schema.toml").write_text('[[table]]\nname = "items"\ncolumns = ["id"]\n')
    databases = "".join(f'{name.removeprefix("rev_")} = "{url}"\n' for name, url in tenant_urls.items())
    (root / "fleet.toml").write_text(
        f'production = false\nbase_url = "{server.url}"\ncontracts = "endpoints.toml"\nschema = "schema.toml"\n'
        f'[revision]\nurl = "{VERSION}"\njson_pointer = "/build/alembic_revision"\n[databases]\n{databases}'
    )
    return root


def counted_run(server: Server, root: Path, *args: str) -> tuple[Run, int]:
    """A run of the fleet, and how many times it asked the code for its revision."""
    server.hits.clear()
    run = pytest_run(root, "--env-file=fleet.toml", *args)
    return run, server.hits[VERSION]


@pytest.mark.parametrize("pg", [None], indirect=True)
@pytest.mark.parametrize("answer", [200, 500])
def test_xdist_asks_the_code_for_its_revision_once(
    answer: int, pg: Cluster, tenant_urls: dict[str, str], code: Server, tmp_path: Path
) -> None:
    """Every worker holds Alembic checks; the controller asked once, and the verdicts are the plain run's."""
    if answer != 200:
        code.routes[VERSION] = Route(status=answer, body='{"detail": "boom"}')
    plain, plain_asked = counted_run(code, fleet(tmp_path / "plain", code, tenant_urls))
    spread, spread_asked = counted_run(code, fleet(tmp_path / "spread", code, tenant_urls), "-n", "2", "-v")
    assert (spread.ret, counts(spread)) == (plain.ret, counts(plain)) == (1, counts(plain)), spread.out[-3000:]
    assert spread.table() == plain.table()
    assert (plain_asked, spread_asked) == (1, 1)  # not once per worker: no request is sent twice
    assert "[gw0]" in spread.out and "[gw1]" in spread.out
    if answer == 200:  # rev_c alone is behind; the others are at the code's head
        assert f"| alembic revision @ c | {HEAD} | 0ld000000001 | ❌ FAIL |" in spread.summary, spread.summary
        assert "9 checks, 1 failing." in spread.summary and f"- **expected revision**: {HEAD}" in spread.summary
    else:  # every Alembic check fails with the controller's error, as each fails in the plain run
        assert spread.summary.count("| a code revision | unknown | ❌") == len(TENANTS), spread.summary
        assert f"answered {answer}" in spread.out and f"answered {answer}" in plain.out


@pytest.mark.parametrize("pg", [None], indirect=True)
def test_merged_shards_describe_the_tenants_as_the_unsharded_run(
    pg: Cluster, tenant_urls: dict[str, str], code: Server, tmp_path: Path
) -> None:
    """Each shard reads some tenants; the merge says of all of them what the unsharded run says."""
    plain, _ = counted_run(code, fleet(tmp_path / "plain", code, tenant_urls))
    shards = [counted_run(code, fleet(tmp_path / f"shard{k}", code, tenant_urls), f"--shard={k}/2")[0] for k in (1, 2)]
    expected = merge.find(plain.root / "reports").header["tenant databases"]
    assert expected == f"4 tenant databases (a, b, c, d); revisions: {HEAD} ×3; 0ld000000001 ×1"
    parts = [merge.find(shard.root / "reports") for shard in shards]
    assert all("not read" in part.header["tenant databases"] for part in parts)  # each shard read only its own
    [joined] = merge.join_shards(parts, tmp_path / "merged")
    assert joined.header["tenant databases"] == expected
