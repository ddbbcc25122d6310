"""Endpoint phase: N contracts against a loopback server answering each after L = 50 ms.

smokeproof (all contracts probed concurrently) vs the plain sequential pytest + httpx suite a
team writes by hand (one test per endpoint: ``httpx.get`` in each, and the better variant with one
session-wide client), and the floor: ``pytest --collect-only`` of the same smokeproof suite plus L.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from bench.common import PYTEST, suite_copy, table, timed

LATENCY_S = 0.05
CONCURRENCY = 16  # the product default ([http] concurrency)
# smokeproof and the floor are cheap to repeat: runs alternate (smokeproof, floor, smokeproof, ...) so that
# each pair sees the same machine, and the table gives medians; the machines are shared and noisy.
REPEATS = {20: 5, 200: 7, 1000: 3}  # N = 200 carries the done-when figure: more pairs, a steadier median
SHARED_UP_TO = 200


async def app(scope: dict[str, object], receive: object, send: object) -> None:
    if scope["type"] != "http":
        return
    await asyncio.sleep(LATENCY_S)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b'{"ok": true}'})  # type: ignore[operator]


def start_server() -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="error",
            access_log=False,
            lifespan="off",
            backlog=4096,
            limit_concurrency=None,
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def sequential_suite(root: Path, url: str, n: int) -> Path:
    """The hand-written suites: ``httpx.get`` in every test, and the same with one session-wide client."""
    plain = ["import httpx", "", f'URL = "{url}"', ""]
    shared = ["import httpx", "import pytest", "", f'URL = "{url}"', "", "", '@pytest.fixture(scope="session")']
    shared += ["def client():", "    with httpx.Client(timeout=10) as client:", "        yield client", ""]
    for i in range(n):
        plain += [f"def test_endpoint_{i}():", f'    assert httpx.get(URL + "/e{i}", timeout=10).status_code == 200', ""]
        shared += [f"def test_endpoint_{i}(client):", f'    assert client.get(URL + "/e{i}").status_code == 200', ""]
    (root / "test_plain.py").write_text("\n".join(plain))
    (root / "test_shared.py").write_text("\n".join(shared))
    return root


def smoke_runs(url: str, n: int, concurrency: int) -> tuple[list[float], list[float], list[float]]:
    """Alternating runs of the smokeproof suite and its floor: run times, floors and paired differences."""
    with tempfile.TemporaryDirectory() as smoke_dir:
        contracts = "".join(f'[[endpoint]]\npath = "/e{i}"\nstatus = 200\n' for i in range(n))
        env = f'production = false\nbase_url = "{url}"\n[http]\nconcurrency = {concurrency}\n'
        root = suite_copy(Path(smoke_dir), contracts=contracts, env=env)
        args = [*PYTEST, "--env-file=env.toml", "-m", "contracts", "-q"]
        timed([*args, "--collect-only"], root)  # warm the bytecode caches once
        smokes, floors, overs = [], [], []
        for _ in range(REPEATS.get(n, 3)):
            smoke, status = timed(args, root)
            assert status == 0, f"smokeproof run failed at N={n}"
            collect, _ = timed([*args, "--collect-only"], root)
            smokes.append(smoke)
            floors.append(collect + LATENCY_S)
            overs.append(smoke - collect - LATENCY_S)
    return smokes, floors, overs


def hand_written_runs(url: str, n: int) -> tuple[float, float | None]:
    """The sequential suites' times: ``httpx.get`` per test, and one shared client (up to N = 200:
    at 1000 it would add a minute of sleeping to a benchmark that must stay under five)."""
    with tempfile.TemporaryDirectory() as plain_dir:
        hand = sequential_suite(Path(plain_dir), url, n)
        plain, status = timed([*PYTEST, "-q", "-p", "no:smokeproof.plugin", "test_plain.py"], hand)
        assert status == 0, f"sequential run failed at N={n}"
        if n > SHARED_UP_TO:
            return plain, None
        shared, status = timed([*PYTEST, "-q", "-p", "no:smokeproof.plugin", "test_shared.py"], hand)
        assert status == 0, f"sequential run (shared client) failed at N={n}"
    return plain, shared


# (N, [http] concurrency): the default at every size, and what doubling it buys at N = 200.
RUNS = ((20, CONCURRENCY), (200, CONCURRENCY), (1000, CONCURRENCY), (200, 2 * CONCURRENCY))


def run(runs: tuple[tuple[int, int], ...] = RUNS) -> tuple[str, dict[tuple[int, int], dict[str, float]]]:
    server, url = start_server()
    rows, numbers, hand = [], {}, {}
    try:
        for n, concurrency in runs:
            smokes, floors, overs = smoke_runs(url, n, concurrency)
            if n not in hand:
                hand[n] = hand_written_runs(url, n)
            plain, shared = hand[n]
            smoke, floor, over = (statistics.median(x) for x in (smokes, floors, overs))
            numbers[n, concurrency] = {"smokeproof": smoke, "sequential": plain, "floor": floor, "over": over}
            rows.append(
                [
                    str(n),
                    str(concurrency),
                    f"{smoke:.2f} ({min(smokes):.2f}-{max(smokes):.2f})",
                    f"{plain:.2f}",
                    f"{shared:.2f}" if shared else "-",
                    f"{floor:.2f}",
                    f"{smoke / plain:.0%}" + (f" / {smoke / shared:.0%}" if shared else ""),
                    f"{over:+.2f} ({min(overs):+.2f} to {max(overs):+.2f})",
                ]
            )
    finally:
        server.should_exit = True
    text = table(
        f"Endpoint phase (L = {LATENCY_S * 1000:.0f} ms per answer; smokeproof: median of "
        f"{'/'.join(str(REPEATS.get(n, 3)) for n, _ in runs)} runs alternating with the floor's)",
        [
            "N",
            "concurrency",
            "smokeproof s (range)",
            "sequential s",
            "sequential, one client s",
            "floor s",
            "smokeproof / sequential (/ one client)",
            "smokeproof - floor s (range)",
        ],
        rows,
    )
    return text, numbers
