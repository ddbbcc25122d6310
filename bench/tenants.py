"""Tenant databases: one run over 1, 10, 100 and 300 tenants, plain and with pytest-xdist (``-n 2``).

One embedded PostgreSQL cluster holds 300 databases of the demo schema at the code's head (made
from one migrated template). The suite runs its schema and Alembic checks (``-m schema``) with
``[databases]`` listing 1, 10, 100 and 300 tenants (snapshots read 8 at a time per process), plain
and ``-n 2`` in paired rounds (each pair sees the same minute of a shared machine). Per added tenant:
the wall time it adds, as a share of a one-tenant run's; the suite's and PostgreSQL's CPU seconds.
From the CPU per tenant, a projection (labelled as one, not measured) of 1,000 tenants on 8 and 32 cores.

Also, without pytest, the catalog reads alone: all N concurrently (bounded by 8) vs one after the
other, the statements one snapshot costs, and one read through a loopback proxy that delays each
direction by half of :data:`LINK_RTT_S` (the network round trips a tenant in another region costs).
Every run must pass (all tenants are at head).

Each run's CPU time is counted too: the suite's process (its reaped children's rusage) and the
cluster's backends (the postmaster's reaped children, from ``/proc``). Their sum divided by the
machine's cores is the least wall time any schedule of that work could take here.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg

from bench.common import PYTEST, REPO, table, timed
from demo.migrate import upgrade
from demo.pgcluster import Cluster, start_cluster
from smokeproof.database.catalog import read

TENANTS = 300
SIZES = (1, 10, 100, 300)
CONCURRENCY = 8
REPEATS = 3  # paired rounds (plain, -n 2) per size; medians
WORKERS = 2  # -n 2: this machine's cores
PROJECTED = 1000  # tenants, projected on 8 and 32 cores
LINK_RTT_S = 0.05  # a database in another region
CORES = os.cpu_count() or 1


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


def suite_run(root: Path, env: Path, backends_cpu: Callable[[], float], *extra: str) -> tuple[float, float, float]:
    """Wall time, the suite's CPU seconds (its workers' included) and the database backends' CPU seconds of one run."""
    suite_before, backends_before = children_cpu(), backends_cpu()
    elapsed, status = timed([*PYTEST, f"--env-file={env}", "-m", "schema", "-q", *extra], root)
    assert status == 0, f"the schema run on {env.name} failed ({status})"
    return elapsed, children_cpu() - suite_before, backends_cpu() - backends_before


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reaped_cpu(pid: int) -> Callable[[], float]:
    """CPU seconds of the finished children of ``pid`` (a postmaster's: its backends), NaN off Linux."""
    stat = Path(f"/proc/{pid}/stat")

    def read() -> float:
        if not stat.exists():
            return float("nan")
        fields = stat.read_text().rsplit(")", 1)[1].split()  # from field 3, the state
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime

    return read


async def link_read(url: str, port: int) -> float:
    """One snapshot through a loopback proxy adding :data:`LINK_RTT_S` per round trip: its wall time in round trips."""
    loop = asyncio.get_running_loop()

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            loop.call_later(LINK_RTT_S / 2, sink.write, data)
        await asyncio.sleep(LINK_RTT_S / 2)
        sink.close()

    relays: list[asyncio.Future[list[object]]] = []

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", port)
        relays.append(asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w), return_exceptions=True))
        await relays[-1]

    proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
    async with proxy:
        via = url.replace(f":{port}/", f":{proxy.sockets[0].getsockname()[1]}/")
        began = time.perf_counter()
        await read(via, schemas=["public"], connect_timeout_s=10, statement_timeout_ms=30_000)
        elapsed = time.perf_counter() - began
        await asyncio.gather(*relays)  # both directions drain and close once the connection has ended
    return elapsed / LINK_RTT_S


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
    measured: dict[tuple[int, str], list[tuple[float, float, float]]] = {}
    try:
        with start_cluster() as cluster:
            names = asyncio.run(make_tenants(cluster, TENANTS))
            urls = {name: cluster.url(name) for name in names}
            assert cluster.process is not None
            backends_cpu = reaped_cpu(cluster.process.pid)
            lay_out(root)
            modes = {"plain": (), f"-n {WORKERS}": ("-n", str(WORKERS))}
            trips = {}
            for size in SIZES:
                env = env_file(root, f"tenants{size}", tenants=dict(list(urls.items())[:size]))
                for extra in modes.values():
                    suite_run(root, env, backends_cpu, *extra)  # warm: bytecode, catalog caches
                for _ in range(REPEATS):
                    for mode, extra in modes.items():
                        measured.setdefault((size, mode), []).append(suite_run(root, env, backends_cpu, *extra))
                trips[size] = asyncio.run(reads(list(urls.values())[:size], concurrent=True))[1]
            link = asyncio.run(link_read(urls[names[0]], cluster.port))
            checks = 100 * (len(read_ids(root)) + 1)
            floors = [(empty_tests(root, checks), empty_tests(root, checks, "-n", str(WORKERS))) for _ in range(REPEATS)]
            floor, floor_cpu = (statistics.median(plain[i] for plain, _ in floors) for i in range(2))
            spread_floor = [statistics.median(spread[i] for _, spread in floors) for i in range(2)]
            floor_wins = sum(1 for plain, spread in floors if spread[0] < plain[0])
            per_tenant_checks = len(read_ids(root)) + 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return (
        tenant_table(measured, trips, per_tenant_checks, cluster.version)
        + floor_and_projection(measured, floor, floor_cpu, checks, link, per_tenant_checks)
        + empty_under_xdist(floor, floor_cpu, spread_floor, floor_wins, checks)
    )


def tenant_table(
    measured: dict[tuple[int, str], list[tuple[float, float, float]]], trips: dict[int, int], per_tenant: int, version: str
) -> str:
    """A row per size and mode: wall, what each added tenant adds, CPU, and -n 2 against plain in the same rounds."""
    one = {mode: statistics.median(r[0] for r in runs) for (size, mode), runs in measured.items() if size == 1}
    rows = []
    for (size, mode), runs in measured.items():
        wall, suite, backends = (statistics.median(run[i] for run in runs) for i in range(3))
        added = (wall - one[mode]) / (size - 1) if size > 1 else 0.0
        added_cell = f"{added * 1000:.0f} ({added / one[mode] * 100:.1f}%)" if size > 1 else "-"
        per_cpu = f"{suite / size * 1000:.0f} + {backends / size * 1000:.0f}"
        if mode == "plain":
            versus = "-"
        else:
            plain = measured[(size, "plain")]
            wins = sum(1 for p, x in zip(plain, runs, strict=True) if x[0] < p[0])
            ratio = statistics.median(x[0] / p[0] for p, x in zip(plain, runs, strict=True))
            versus = f"{ratio:.2f}x, faster in {wins} of {len(runs)}"
        rows.append(
            [
                str(size),
                mode,
                str(size * per_tenant),
                f"{wall:.2f}",
                added_cell,
                f"{suite:.2f} + {backends:.2f}",
                per_cpu,
                str(trips[size]),
                versus,
            ]
        )
    return table(
        f"Tenant databases (PostgreSQL {version}, embedded, demo schema at head; schema + Alembic checks, "
        f"[database] concurrency = {CONCURRENCY}; medians of {REPEATS} paired rounds; {CORES} cores)",
        [
            "tenants",
            "run",
            "checks",
            "wall s",
            "added per tenant ms (% of 1 tenant)",
            "CPU s: suite + PostgreSQL",
            "CPU per tenant ms: suite + PostgreSQL",
            "round trips per tenant",
            f"-n {WORKERS} / plain, same rounds",
        ],
        rows,
    )


def floor_and_projection(
    measured: dict[tuple[int, str], list[tuple[float, float, float]]],
    floor: float,
    floor_cpu: float,
    checks: int,
    link: float,
    per_tenant_checks: int,
) -> str:
    """The floor (pytest's own cost for as many empty tests), and 1,000 tenants on 8 and 32 cores, projected."""
    largest = max(size for size, _ in measured)
    one = statistics.median(r[0] for r in measured[(1, "plain")])
    xdist = f"-n {WORKERS}"

    def cpu_per_tenant(mode: str) -> float:
        """CPU seconds (suite + PostgreSQL) each added tenant costs in ``mode``, from the largest run against one."""
        cpu = statistics.median((r[1] + r[2]) for r in measured[(largest, mode)])
        small = statistics.median((r[1] + r[2]) for r in measured[(1, mode)])
        return (cpu - small) / (largest - 1)

    # -n C spreads the work of -n 2's kind (xdist's messages included), and starts as -n 2 does
    per_tenant = cpu_per_tenant(xdist)
    start = statistics.median(r[0] for r in measured[(1, xdist)])
    suite_cpu = {mode: statistics.median(r[1] for r in measured[(largest, mode)]) for mode in ("plain", xdist)}
    messaging = (suite_cpu[xdist] - suite_cpu["plain"]) / (largest * per_tenant_checks)
    lines = [
        "",
        f"Floor: {checks} empty tests with the same reports (Allure, JUnit), no smokeproof: {floor:.2f} s wall, "
        f"{floor_cpu:.2f} s CPU ({floor_cpu / checks * 1000:.2f} ms per test): pytest's own cost, whatever smokeproof does.",
        "",
        f"Floor per added tenant: its {per_tenant_checks} checks as empty tests with the same reports, "
        f"{floor / checks * per_tenant_checks * 1000:.0f} ms of wall "
        f"({floor / checks * per_tenant_checks / one * 100:.1f}% of the one-tenant run's {one:.2f} s): "
        "what a plain run's tenant costs at the least, in one pytest process.",
        "",
        f"xdist's own cost at {largest} tenants: `{xdist}` spends {suite_cpu[xdist] - suite_cpu['plain']:.1f} s more of the "
        f"suite's CPU than the plain run ({messaging * 1000:.2f} ms per test: a worker sends six messages a test, "
        "which the controller reads and reports); a plain run's tenant costs "
        f"{cpu_per_tenant('plain') * 1000:.0f} ms of CPU (suite + PostgreSQL), a `{xdist}` run's {per_tenant * 1000:.0f} ms.",
        "",
        f"One tenant's catalog read through a {LINK_RTT_S * 1000:.0f} ms link: {link:.1f} round trips with connecting.",
        "",
        f"**Projection, not a measurement**: {PROJECTED} tenants. Measured here: {per_tenant * 1000:.0f} ms of CPU per added "
        f"tenant under `{xdist}` (suite with xdist's messages + PostgreSQL, {largest} tenants against 1), a one-tenant "
        f"`{xdist}` run of {start:.2f} s. On C cores with `-n C` and PostgreSQL's backends on the same cores, wall >= "
        f"{start:.2f} s + {PROJECTED} x {per_tenant * 1000:.0f} ms / C, "
        "if the CPU spreads evenly and nothing else (workers' start-up, the database server's own capacity) binds first:",
        "",
    ]
    for cores in (8, 32):
        wall = start + PROJECTED * per_tenant / cores
        lines.append(f"- {cores} cores: about {wall:.1f} s (CPU {PROJECTED * per_tenant:.0f} s in all)")
    return "\n".join(lines) + "\n"


def empty_under_xdist(floor: float, floor_cpu: float, spread: list[float], wins: int, checks: int) -> str:
    """The same empty tests under ``-n 2``: what pytest-xdist itself costs, whatever the tests do."""
    return (
        f"\nThe same {checks} empty tests under `-n {WORKERS}`: {spread[0]:.2f} s wall, {spread[1]:.2f} s CPU "
        f"({(spread[1] - floor_cpu) / checks * 1000:.2f} ms more per test than one process), "
        f"{spread[0] / floor:.2f}x the plain floor's wall, faster in {wins} of {REPEATS} paired rounds: "
        f"pytest-xdist's own cost on {CORES} cores, whatever the tests do.\n"
    )


def empty_tests(root: Path, count: int, *extra: str) -> tuple[float, float]:
    """``count`` tests that assert nothing, in the same folder with the suite's reports (Allure, JUnit), no smokeproof.

    pytest's and allure-pytest's own cost for as many tests as the 100-tenant run has (wall and CPU
    seconds): no tenant run can take less, whatever smokeproof does.
    """
    folder = root / "empty"
    folder.mkdir(exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    module = f"import pytest\n\n\n@pytest.mark.parametrize('i', range({count}))\ndef test_empty(i):\n    pass\n"
    (folder / "test_empty.py").write_text(module)
    reports = ["--alluredir=reports/allure-results", "--clean-alluredir", "--junitxml=reports/junit.xml"]
    cpu_before = children_cpu()
    elapsed, status = timed([*PYTEST, "-q", "-p", "no:smokeproof.plugin", *reports, *extra], folder)
    assert status == 0, "the empty tests failed"
    return elapsed, children_cpu() - cpu_before


def read_ids(root: Path) -> list[str]:
    """The schema contract's entries (the checks per tenant, the Alembic one aside)."""
    from smokeproof.database.schema_contract import load_schema_contract

    return [entry.id for entry in load_schema_contract(root / "tests" / "schema" / "schema.toml").entries]
