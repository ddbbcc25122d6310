"""Peer baseline: smokeproof against the best suite a team writes by hand, on the endpoint phase's target.

*gathered* is bench/peer_suite/: pytest + pytest-asyncio + httpx, a session fixture that sends every
request at once (at most 16 in flight) and one test per endpoint asserting 200 on its stored answer,
run as its own pytest process with smokeproof's plugin off. *floor* is bench/peer_suite/floor.py: the
same requests from a plain script, no test runner. *smokeproof* is the suite as a team runs it: Allure
results, JUnit and the summary all written (the repository's pytest.ini options). The three run in
turn, round after round, so that each round sees the same minute of a shared machine; the table
gives medians and ranges, and the median of the per-round ratios smokeproof / gathered.

The second table is ``pytest --collect-only``: the demo and a 200-contract environment against the
gathered suite's at N = 200, alternating the same way.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.common import PYTEST, REPO, suite_copy, table, timed
from bench.endpoints import start_server

PEER = Path(__file__).resolve().parent / "peer_suite"
SIZES = (20, 200, 1000)
ROUNDS = {20: 7, 200: 7, 1000: 5}
COLLECT_ROUNDS = 9
COLLECTED = ("demo", "smokeproof, 200 contracts", "gathered, N = 200 (pytest, pytest-asyncio, httpx only)")
# The suite's pytest.ini (copied) writes Allure results and JUnit; the summary is always written.
SMOKE_OPTIONS = ["-q"]


def smoke_suite(root: Path, url: str, n: int) -> list[str]:
    """An n-contract copy of the smoke suite; the argv that runs it with every report on."""
    contracts = "".join(f'[[endpoint]]\npath = "/e{i}"\nstatus = 200\n' for i in range(n))
    suite_copy(root, contracts=contracts, env=f'production = false\nbase_url = "{url}"\n')
    return [*PYTEST, "--env-file=env.toml", *SMOKE_OPTIONS]


# The peer as its users install it: pytest, pytest-asyncio and httpx only. This virtualenv also holds
# smokeproof's plugin and its dependencies' (hypothesis, allure-pytest, pytest-xdist, platformdirs): left unloaded.
LEAN = tuple(
    arg
    for plugin in ("smokeproof.plugin", "hypothesispytest", "allure_pytest", "xdist", "xdist.looponfail", "platformdirs")
    for arg in ("-p", f"no:{plugin}")
)


def gathered(url: str, n: int) -> tuple[list[str], dict[str, str]]:
    return [*PYTEST, "-q", *LEAN], {"PEER_URL": url, "PEER_N": str(n)}


def rounds(url: str, n: int) -> dict[str, list[float]]:
    """Alternating runs of the three contenders at one size: seconds per round, each."""
    times: dict[str, list[float]] = {"smokeproof": [], "gathered": [], "floor": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        smoke = smoke_suite(root, url, n)
        peer, peer_env = gathered(url, n)
        floor = [PYTEST[0], str(PEER / "floor.py"), url, str(n)]
        timed([*smoke, "--collect-only"], root)  # warm the bytecode caches once
        timed([*peer, "--collect-only"], PEER, peer_env)
        for _ in range(ROUNDS[n]):
            for name, argv, cwd, env in (
                ("smokeproof", smoke, root, None),
                ("gathered", peer, PEER, peer_env),
                ("floor", floor, PEER, None),
            ):
                elapsed, status = timed(argv, cwd, env)
                assert status == 0, f"{name} failed at N={n}"
                times[name].append(elapsed)
    return times


def collect_rounds(url: str) -> dict[str, list[float]]:
    """``pytest --collect-only``: the demo, a 200-contract environment and the gathered suite at N = 200."""
    times: dict[str, list[float]] = {name: [] for name in COLLECTED}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        smoke = smoke_suite(root, url, 200)
        peer, peer_env = gathered(url, 200)
        commands = (
            (COLLECTED[0], [*PYTEST, "--env=demo", "-q"], REPO, None),
            (COLLECTED[1], smoke, root, None),
            (COLLECTED[2], peer, PEER, peer_env),
        )
        for _ in range(COLLECT_ROUNDS + 1):  # the first round warms the caches and is not counted
            for name, argv, cwd, env in commands:
                elapsed, status = timed([*argv, "--collect-only"], cwd, env)
                assert status == 0, f"{name} --collect-only failed"
                times[name].append(elapsed)
    return {name: values[1:] for name, values in times.items()}


# What a fresh process pays for imports before any test: the peer's libraries, then smokeproof's declared
# libraries for its configuration (pydantic) and Allure results (allure-pytest), then smokeproof's own modules.
IMPORTS = (
    ("pytest, pytest-asyncio, httpx (the peer's)", "import pytest, pytest_asyncio, httpx"),
    (
        "+ pydantic (one model built), allure-pytest",
        "import pytest, pytest_asyncio, httpx, pydantic, allure_pytest.plugin\nclass M(pydantic.BaseModel):\n    x: int",
    ),
    (
        "+ smokeproof's modules (an endpoint run's)",
        "import pytest, pytest_asyncio, httpx, pydantic, allure_pytest.plugin, smokeproof.pytest_plugin.settings, "
        "smokeproof.pytest_plugin.session, smokeproof.pytest_plugin.reporting, smokeproof.reporting.allure_writer",
    ),
)
IMPORT_ROUNDS = 9


def import_rounds() -> dict[str, list[float]]:
    """Fresh ``python -c "import ..."`` processes, alternating, bytecode warm: the start-up a library costs."""
    times: dict[str, list[float]] = {name: [] for name, _ in IMPORTS}
    for _ in range(IMPORT_ROUNDS + 1):  # the first round warms the caches and is not counted
        for name, statement in IMPORTS:
            elapsed, status = timed([PYTEST[0], "-c", statement], REPO)
            assert status == 0, statement
            times[name].append(elapsed)
    return {name: values[1:] for name, values in times.items()}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def run(sizes: tuple[int, ...] = SIZES) -> str:
    server, url = start_server()
    try:
        measured = {n: rounds(url, n) for n in sizes}
        collected = collect_rounds(url)
        imported = import_rounds()
    finally:
        server.should_exit = True
    rows = []
    for n, times in measured.items():
        ratios = [s / g for s, g in zip(times["smokeproof"], times["gathered"], strict=True)]
        rows.append(
            [
                str(n),
                str(len(ratios)),
                spread(times["smokeproof"]),
                spread(times["gathered"]),
                f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                spread(times["floor"]),
            ]
        )
    peer_table = table(
        "Peer baseline (L = 50 ms per answer, 16 in flight; medians of alternating rounds, range in brackets)",
        ["N", "rounds", "smokeproof s", "hand-written, gathered s", "ratio smokeproof / gathered", "floor (plain script) s"],
        rows,
    )
    base = statistics.median(collected[COLLECTED[2]])
    collect_rows = [[name, spread(values), f"{statistics.median(values) - base:+.2f}"] for name, values in collected.items()]
    collect_table = table(
        f"pytest --collect-only (medians of {COLLECT_ROUNDS} alternating rounds)",
        ["suite", "s (range)", "vs gathered s"],
        collect_rows,
    )
    first = statistics.median(imported[IMPORTS[0][0]])
    import_rows = [[name, spread(values), f"{statistics.median(values) - first:+.3f}"] for name, values in imported.items()]
    import_table = table(
        f"Start-up: the imports a fresh process pays (medians of {IMPORT_ROUNDS} alternating rounds)",
        ["imports", "s (range)", "vs the peer's s"],
        import_rows,
    )
    return peer_table + "\n" + collect_table + "\n" + import_table
