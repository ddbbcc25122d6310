"""The database side under fault: read-only sessions, a database that is down, one that is slow.

Each runs on real PostgreSQL (the embedded server and Debian's 15 where installed).
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import asyncpg
import pytest

from demo.pgcluster import Cluster, free_port
from smokeproof.config.environment import load
from smokeproof.config.secrets import MASK
from smokeproof.database.catalog import connect_readonly
from smokeproof.errors import DatabaseError, DatabaseUnreachable
from smokeproof.run import SmokeRun
from smokeproof.verdict import Category

from .suite import REPO


def environment(tmp_path: Path, database_url: str, extra: str = ""):
    path = tmp_path / "env.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            production = false
            base_url = "http://127.0.0.1:9"
            database_url = "{database_url}"
            [revision]
            expected = "80105006e3d3"
            """
        )
        + textwrap.dedent(extra)
    )
    return load(path, name="t", rootdir=REPO, environ={})


async def test_a_write_through_the_suites_connection_is_refused(pg_url: str) -> None:
    conn = await connect_readonly(pg_url, connect_timeout_s=5, statement_timeout_ms=2000)
    try:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("CREATE TABLE smokeproof_must_not_exist (id int)")
        assert await conn.fetchval("SHOW default_transaction_read_only") == "on"
        assert await conn.fetchval("SHOW statement_timeout") == "2s"
    finally:
        await conn.close()


async def test_database_down_fails_every_schema_check_at_once(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"  # nothing listens there
    run = SmokeRun(env=environment(tmp_path, url), contracts=())
    began = time.perf_counter()
    with pytest.raises(DatabaseUnreachable) as first:
        await run.catalog()
    with pytest.raises(DatabaseUnreachable) as again:
        await run.catalog()
    elapsed = time.perf_counter() - began
    catalog = str(first.value)
    assert catalog.startswith("target unreachable: database")
    assert again.value is first.value  # tried once, not once per check
    verdict = await run.alignment()
    await run.aclose()  # the run's loop read the catalog
    assert not verdict.ok and verdict.category is Category.UNREACHABLE
    assert elapsed < 30  # generous: a refused connection is immediate, a hang would be the timeout


async def test_slow_database_is_a_clear_timeout(pg: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement past statement_timeout_ms is cancelled by the server, and said so."""
    conn = await connect_readonly(pg.url(), connect_timeout_s=5, statement_timeout_ms=200)
    try:
        with pytest.raises(asyncpg.QueryCanceledError):
            await conn.execute("SELECT pg_sleep(2)")
    finally:
        await conn.close()

    import smokeproof.database.catalog as catalog_module

    async def slow_snapshot(conn: asyncpg.Connection, *, schemas: object, omit: object = frozenset()) -> object:
        await conn.execute("SELECT pg_sleep(2)")
        raise AssertionError("the statement timeout did not fire")

    monkeypatch.setattr(catalog_module, "snapshot", slow_snapshot)
    env = environment(tmp_path, pg.url(), "[database]\nstatement_timeout_ms = 200\n")
    run = SmokeRun(env=env, contracts=())
    with pytest.raises(DatabaseError) as caught:
        await run.catalog()
    catalog = str(caught.value)
    assert "exceeded statement_timeout_ms = 200" in catalog
    # Reached but not readable: a database error, not an unreachable target.
    verdict = await run.alignment()
    await run.aclose()
    assert not verdict.ok and verdict.category is Category.DATABASE_ERROR and verdict.actual == "error"
    assert "exceeded statement_timeout_ms = 200" in verdict.headline


async def test_password_never_appears_in_the_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_DB_PASSWORD", "canary-pw-31337")
    url = f"postgresql://app:${{CANARY_DB_PASSWORD}}@127.0.0.1:{free_port()}/app"
    path = tmp_path / "env.toml"
    path.write_text(f'production = false\nbase_url = "http://127.0.0.1:9"\ndatabase_url = "{url}"\n')
    env = load(path, name="t", rootdir=REPO)
    run = SmokeRun(env=env, contracts=())
    with pytest.raises(DatabaseUnreachable) as caught:
        await run.catalog()
    await run.aclose()
    catalog = str(caught.value)
    assert "canary-pw-31337" not in catalog
    assert "app:" + MASK + "@127.0.0.1" in catalog
