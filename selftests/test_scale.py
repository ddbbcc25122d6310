"""One run on the engines teams already have: pytest-xdist across cores, shards across jobs.

``-n 2`` must be the plain run: the same table, counts and exit status (not the last worker's table,
not "no check ran"), one ``[start]`` target (not one per worker), each catalog read once and each
request sent once (not once per worker). ``--shard=K/N`` runs, merged by ``smokeproof report DIR...``,
must give the unsharded table; a shard with nothing to check passes and says so.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from starlette.types import Receive, Scope, Send

from demo.pgcluster import Cluster
from smokeproof.reporting import summary

from .servers import PUBLIC_ENDPOINTS, Route, Server, serve
from .sql import execute
from .suite import REPO, lay_out

pytestmark = pytest.mark.slow

VARYING = ("- **base URL**", "- **database**:", "- **run at**")  # header lines that name this run's ports and time


@dataclass
class Run:
    root: Path
    ret: int
    out: str

    @property
    def summary(self) -> str:
        return (self.root / "reports" / "summary.md").read_text()

    def table(self) -> str:
        """summary.md without what differs between two runs of one target (ports, time, latencies)."""
        lines = [line for line in self.summary.splitlines() if not line.startswith(VARYING)]
        return re.sub(r" in \d+ ms", "", "\n".join(lines))

    def starts(self) -> int:
        marker = self.root / "starts"
        return len(marker.read_text().split()) if marker.exists() else 0


def suite(root: Path, *, counted_start: bool = True) -> Path:
    """The repository's suite in ``root``; the demo environments' ``[start]`` counts its starts in ``root/starts``.

    The latency budget is lifted: two runs compared on a shared 2-core machine must not differ by its load.
    """
    root.mkdir(parents=True)
    lay_out(root)
    counter = f'"{{python}}", "{REPO / "selftests" / "start_counter.py"}", "{root / "starts"}",'
    for path in (root / "environments").glob("demo*.toml"):
        text = path.read_text().replace("max_ms = 2000", "max_ms = 60000")
        path.write_text(text.replace('"{python}", "-m", "demo",', counter) if counted_start else text)
    return root


def pytest_run(root: Path, *args: str) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return Run(root, done.returncode, done.stdout + done.stderr)


def normalised(rows: list[summary.Row]) -> list[summary.Row]:
    """Rows without their measured latencies (``500 in 84 ms`` -> ``500``)."""
    return [dataclasses.replace(row, actual=re.sub(r" in \d+ ms", "", row.actual)) for row in rows]


@dataclass
class Recording(Server):
    """The loopback server, also keeping each request's path and whether it carried a credential."""

    requests: list[tuple[str, bool]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = {name.lower() for name, _ in scope["headers"]}
            self.requests.append((scope["path"], bool(names & {b"authorization", b"cookie"})))
        await super().__call__(scope, receive, send)

    def anonymous(self) -> Counter[str]:
        return Counter(path for path, credential in self.requests if not credential)


def counts(run: Run) -> str:
    found = re.findall(r"=+ ((?:\d+ \w+(?:, )?)+) in [\d.]+s", run.out)
    assert found, run.out[-2000:]
    return re.sub(r", \d+ deselected", "", found[-1])


@pytest.fixture(scope="module")
def incident_plain(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The plain run of the incident: what -n 2 and the merged shards must reproduce."""
    return pytest_run(suite(tmp_path_factory.mktemp("plain") / "suite"), "--env=demo-incident")


@pytest.mark.parametrize("env", ["demo", "demo-incident"])
def test_xdist_run_is_the_plain_run(env: str, incident_plain: Run, tmp_path_factory: pytest.TempPathFactory) -> None:
    plain = incident_plain if env == "demo-incident" else pytest_run(suite(tmp_path_factory.mktemp("plain") / "s"), "--env=demo")
    spread = pytest_run(suite(tmp_path_factory.mktemp("xdist") / "s"), f"--env={env}", "-n", "2", "-v")
    assert (spread.ret, counts(spread)) == (plain.ret, counts(plain)), spread.out[-3000:]
    assert plain.ret == (1 if env == "demo-incident" else 0)
    assert spread.table() == plain.table()  # every worker's rows, in the plain run's order, with its header facts
    assert "- **database server**: PostgreSQL" in spread.summary and "NO CHECK RAN" not in spread.out
    assert (plain.starts(), spread.starts()) == (1, 1)  # the controller started the target; no worker did
    assert "[gw0]" in spread.out and "[gw1]" in spread.out  # both workers ran checks
    history = json.loads((spread.root / "reports" / "history" / "demo" / "last-run.json").read_text())
    assert len(history["rows"]) == len(json.loads((plain.root / "reports" / "summary.json").read_text())["rows"])
    results = spread.root / "reports" / "allure-results"
    assert len(list(results.glob("*-result.json"))) == len(list((plain.root / "reports/allure-results").glob("*-result.json")))
    assert '<testsuite name="smokeproof ' + env + '"' in (spread.root / "reports" / "junit.xml").read_text()


def test_incident_shards_merged_are_the_unsharded_run(incident_plain: Run, tmp_path_factory: pytest.TempPathFactory) -> None:
    from smokeproof.reporting import merge

    shards = [
        pytest_run(suite(tmp_path_factory.mktemp(f"shard{k}") / "s"), "--env=demo-incident", f"--shard={k}/2") for k in (1, 2)
    ]
    for k, shard in enumerate(shards, start=1):
        assert f"smokeproof: shard {k} of 2" in shard.out and "- **shard**: " + f"{k} of 2" in shard.summary
        assert not (shard.root / "reports" / "history").exists()  # the merge writes it, once
    assert {shard.ret for shard in shards} == {1}
    merged = tmp_path_factory.mktemp("merged")
    sources = merge.join_shards([merge.find(shard.root / "reports") for shard in shards], merged)
    [joined] = sources
    plain = merge.find(incident_plain.root / "reports")
    assert normalised(joined.rows) == normalised(plain.rows)  # the unsharded table: the same rows, in the same order
    assert joined.header["shards"] == "2 of 2 merged" and joined.header["database revision"] == "010"
    assert (merged / "history" / "demo" / "last-run.json").exists()
    again = merge.join_shards([merge.find(shard.root / "reports") for shard in shards], merged)[0]
    assert set(again.changes) == {"", "still failing"}  # the merge's history gives the next merge its change column


def test_empty_shard_passes_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, public_api: Server) -> None:
    """Two endpoint checks in three shards: each in exactly one, and a shard left empty passes and says so."""
    root = suite(tmp_path / "s", counted_start=False)
    shutil.rmtree(root / "tests/schema")
    again = '\n[[endpoint]]\nid = "the public route again"\npath = "/api/v1/public"\nstatus = 200\n'
    (root / "tests/contracts/endpoints.toml").write_text(PUBLIC_ENDPOINTS + again)
    (root / "api.toml").write_text(f'production = false\nbase_url = "{public_api.url}"\n')
    runs = []
    for k in (1, 2, 3):
        monkeypatch.setenv("SMOKEPROOF_SHARD", f"{k}/3")
        runs.append(pytest_run(root, "--env-file=api.toml"))
    assert [run.ret for run in runs] == [0, 0, 0], [run.out[-1500:] for run in runs]
    ran = [re.findall(r"^(?:PASSED|SKIPPED|FAILED) ", run.out, re.M) for run in runs]
    assert sorted(len(found) for found in ran)[-1] >= 1 and sum(len(found) for found in ran) == 2  # each check once
    empty = [run for run, found in zip(runs, ran, strict=True) if not found]
    assert empty and all("selects none of the 2 tests: nothing to check in this job" in run.out for run in empty)
    assert not [run for run in runs if "NO CHECK RAN" in run.out]


def test_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    root = suite(tmp_path / "s", counted_start=False)
    for value in ("3/2", "1-2"):
        run = pytest_run(root, "--env=demo", f"--shard={value}", "--collect-only")
        assert run.ret == 4 and "--shard=" in run.out and "Traceback" not in run.out, run.out


@pytest.fixture
def tenants(pg: Cluster) -> Iterator[list[str]]:
    """Three tenant databases with one table each, and the server's connection log on."""
    import asyncio

    names = [f"scale_{k}" for k in ("a", "b", "c")]

    async def prepare() -> None:
        admin = await asyncpg.connect(pg.url(), timeout=10)
        try:
            for name in names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.execute("ALTER SYSTEM SET log_connections = 'on'")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        for name in names:
            await execute(pg.url(name), "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)")

    async def reset() -> None:
        admin = await asyncpg.connect(pg.url(), timeout=10)
        try:
            await admin.execute("ALTER SYSTEM RESET log_connections")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()

    asyncio.run(prepare())
    try:
        yield names
    finally:
        asyncio.run(reset())


def connections(pg: Cluster, names: list[str]) -> dict[str, int]:
    """Connections the server authorised per database so far (from its own log)."""
    log = (pg.root / "server.log").read_text(errors="replace")
    return {name: len(re.findall(rf"connection authorized: user=\S+ database={name}\b", log)) for name in names}


@pytest.mark.parametrize("pg", [None], indirect=True)  # the embedded server: its log is the count
def test_xdist_reads_each_catalog_once_and_sends_each_request_once(pg: Cluster, tenants: list[str], tmp_path: Path) -> None:
    routes = {f"/api/{name}": Route(status=401 if name in ("b", "d") else 200) for name in "abcdef"}
    with serve(Recording(routes=routes)) as server:
        root = suite(tmp_path / "s", counted_start=False)
        contracts = "".join(
            f'[[endpoint]]\npath = "/api/{name}"\nstatus = {route.status}\n\n'
            for name, route in ((path.rsplit("/", 1)[1], route) for path, route in routes.items())
        )
        (root / "endpoints.toml").write_text(contracts)
        (root / "schema.toml").write_text('[[table]]\nname = "items"\ncolumns = { id = "integer", name = "text" }\n')
        databases = "\n".join(f'{name.removeprefix("scale_")} = "{pg.url(name)}"' for name in tenants)
        (root / "scale.toml").write_text(
            textwrap.dedent(
                f"""\
                production = false
                base_url = "{server.url}"
                contracts = "endpoints.toml"
                schema = "schema.toml"

                [fuzz]
                max_examples = 3
                max_rate_per_s = 1000
                """
            )
            + f"\n[databases]\n{databases}\n"
        )
        before = connections(pg, tenants)
        plain = pytest_run(root, "--env-file=scale.toml")
        between = connections(pg, tenants)
        plain_anonymous = server.anonymous()
        server.requests.clear()
        shutil.rmtree(root / "reports")
        spread = pytest_run(root, "--env-file=scale.toml", "-n", "2", "-v")
        after = connections(pg, tenants)
    assert plain.ret == spread.ret == 0, spread.out[-3000:]
    assert counts(plain) == counts(spread) and spread.table() == plain.table()
    assert {name: between[name] - before[name] for name in tenants} == dict.fromkeys(tenants, 1)
    assert {name: after[name] - between[name] for name in tenants} == dict.fromkeys(tenants, 1)  # not once per worker
    # Each contract's request once (the probes reuse it, on the worker that runs both), not once per worker.
    assert server.anonymous() == plain_anonymous == Counter(list(routes))
    probed = Counter(path for path, credential in server.requests if credential)
    assert set(probed) == {"/api/b", "/api/d"}  # the probes ran (on whichever worker), and only there
    assert "[gw0]" in spread.out and "[gw1]" in spread.out
