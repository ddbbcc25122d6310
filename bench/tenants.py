"""Tenant databases: one run over 1, 10 and 100 tenants vs one run per tenant.

One embedded PostgreSQL cluster holds 100 databases of the demo schema at the code's head (made
from one migrated template). The suite runs its schema and Alembic checks (``-m schema``):

- once, with ``[databases]`` listing 1, 10 and 100 tenants (snapshots read 8 at a time);
- 100 times in a row, one tenant each (``database_url``), as a loop over tenants would.

Also, without pytest, the catalog reads alone: all N concurrently (bounded by 8) vs one after the
other, and the statements one snapshot costs. Every run must pass (all tenants are at head).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.common import PYTEST, REPO, table, timed
from demo.migrate import upgrade
from demo.pgcluster import Cluster, start_cluster
from smokeproof.database.catalog import read

TENANTS = 100
SIZES = (1, 10, 100)
CONCURRENCY = 8
REPEATS = 3  # medians of 3 for the single runs; the 100 sequential runs are run once


async def make_tenants(cluster: Cluster, count: int) -> list[str]:
    """``count`` databases of the demo schema at head, copied from one migrated template."""
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute("CREATE DATABASE tenant_template")
        await asyncio.to_thread(upgrade, cluster.url("tenant_template"), "head")
        for i in range(count):
            await admin.execute(f"CREATE DATABASE tenant_{i:03d} TEMPLATE tenant_template")
    finally:
        await admin.close()
    return [f"tenant_{i:03d}" for i in range(count)]


def lay_out(root: Path) -> None:
    """The suite's schema checks only (no endpoint contracts: no base_url needed)."""
    for name in ("pytest.ini", "conftest.py"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "tests" / "schema", root / "tests" / "schema", ignore=shutil.ignore_patterns("__pycache__"))


def env_file(root: Path, name: str, *, database_url: str | None = None, tenants: dict[str, str] | None = None) -> Path:
    lines = ["production = false", f'target = "{name}"']
    if database_url:
        lines.append(f'database_url = "{database_url}"')
    lines += ["[revision]", f'migrations = "{REPO / "demo/migrations/versions"}"', "[database]", f"concurrency = {CONCURRENCY}"]
    if tenants:
        lines.append("[databases]")
        lines += [f'{tenant} = "{url}"' for tenant, url in tenants.items()]
    path = root / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def suite_run(root: Path, env: Path) -> float:
    elapsed, status = timed([*PYTEST, f"--env-file={env}", "-m", "schema", "-q"], root)
    assert status == 0, f"the schema run on {env.name} failed ({status})"
    return elapsed


async def reads(urls: list[str], *, concurrent: bool) -> tuple[float, int]:
    """The catalog reads alone: wall time, and statements per snapshot."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str) -> int:
        async with gate:
            snap = await read(url, schemas=["public"], connect_timeout_s=10, statement_timeout_ms=30_000)
            return snap.round_trips

    began = time.perf_counter()
    if concurrent:
        trips = await asyncio.gather(*(one(url) for url in urls))
    else:
        trips = [await one(url) for url in urls]
    return time.perf_counter() - began, max(trips)


def run() -> str:
    root = Path(tempfile.mkdtemp(prefix="smokeproof-bench-tenants-"))
    try:
        with start_cluster() as cluster:
            names = asyncio.run(make_tenants(cluster, TENANTS))
            urls = {name: cluster.url(name) for name in names}
            lay_out(root)
            rows = []
            one_run = 0.0
            for size in SIZES:
                env = env_file(root, f"tenants{size}", tenants=dict(list(urls.items())[:size]))
                suite_run(root, env)  # warm: bytecode, catalog caches
                wall = statistics.median(suite_run(root, env) for _ in range(REPEATS))
                one_run = one_run or wall
                together, trips = asyncio.run(reads(list(urls.values())[:size], concurrent=True))
                apart, _ = asyncio.run(reads(list(urls.values())[:size], concurrent=False))
                rows.append(
                    [
                        str(size),
                        str(size * (len(read_ids(root)) + 1)),
                        f"{wall:.2f}",
                        f"{wall / one_run:.2f}x",
                        f"{wall / size * 1000:.0f}",
                        str(trips),
                        f"{together * 1000:.0f} / {apart * 1000:.0f}",
                    ]
                )
            began = time.perf_counter()
            for name, url in urls.items():
                suite_run(root, env_file(root, f"one_{name}", database_url=url))
            sequential = time.perf_counter() - began
            checks = TENANTS * (len(read_ids(root)) + 1)
            floor = statistics.median(empty_tests(root, checks) for _ in range(REPEATS))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows.append([f"{TENANTS} runs of 1", "-", f"{sequential:.2f}", f"{sequential / one_run:.2f}x", "-", "-", "-"])
    rows.append([f"floor: {checks} empty tests", str(checks), f"{floor:.2f}", f"{floor / one_run:.2f}x", "-", "-", "-"])
    return table(
        f"Tenant databases (PostgreSQL {cluster.version}, embedded, demo schema at head; schema + Alembic checks, "
        f"[database] concurrency = {CONCURRENCY}; medians of {REPEATS})",
        [
            "tenants",
            "checks",
            "one run s",
            "vs 1 tenant",
            "ms per tenant",
            "statements per tenant",
            "catalog reads alone ms: concurrent / one by one",
        ],
        rows,
    )


def empty_tests(root: Path, count: int) -> float:
    """``count`` tests that assert nothing, in the same folder with the suite's reports (Allure, JUnit), no smokeproof.

    pytest's and allure-pytest's own cost for as many tests as the 100-tenant run has: no tenant run can
    take less, whatever smokeproof does.
    """
    folder = root / "empty"
    folder.mkdir(exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    module = f"import pytest\n\n\n@pytest.mark.parametrize('i', range({count}))\ndef test_empty(i):\n    pass\n"
    (folder / "test_empty.py").write_text(module)
    reports = ["--alluredir=reports/allure-results", "--clean-alluredir", "--junitxml=reports/junit.xml"]
    elapsed, status = timed([*PYTEST, "-q", "-p", "no:smokeproof.plugin", *reports], folder)
    assert status == 0, "the empty tests failed"
    return elapsed


def read_ids(root: Path) -> list[str]:
    """The schema contract's entries (the checks per tenant, the Alembic one aside)."""
    from smokeproof.database.schema_contract import load_schema_contract

    return [entry.id for entry in load_schema_contract(root / "tests" / "schema" / "schema.toml").entries]
