"""pytest-xdist: ``pytest -n N`` is one run, as pytest-cov and pytest's own JUnit writer make it.

::

    controller                                     each worker (gw0, gw1, ...)
    pytest_configure     settings, reporting       pytest_configure    settings; the worker plugin
    pytest_sessionstart  the [start] target, once  pytest_collection   everything; each test gets its group:
    pytest_configure_node  its addresses and                             xdist_group("db:eu"), ("endpoint:3")
                           tokens -> workerinput   collection_finish   sends the requests and reads the
    scheduler            each group to one worker,                     catalogs of ITS share only
                         all at once (SmokeScheduling)                 (the same assignment, computed here)
    logreport            every worker's rows       tests               rows travel on the reports
    testnodedown         what each worker read     sessionfinish       what it read -> workeroutput
    sessionfinish        table, summary, history,
                         exit status ("no check ran")
    unconfigure          stops the target

Why a scheduler of our own rather than ``--dist load`` or ``loadgroup``: those hand tests out as
workers free up, so a worker cannot know at the end of collection which requests and catalog reads
are its own. Sending them all there (what makes a plain run cost about its slowest request) would
send every request once per worker. Here the groups are assigned at once, the largest first to the
least loaded worker, and each worker computes the same assignment from the same collection: it sends
exactly the requests and reads exactly the catalogs of the tests it will run, all at once, as a plain
run does. A database's checks are one group (its catalog is read once); an endpoint's contract test
and its credential probe are one group (the probe reuses the contract's exchange). ``--dist`` is not
consulted while smokeproof is active.

Tokens the run obtains are obtained by each worker that runs a check needing them (at most once per
worker). A test this scheduling did not foresee on a worker (a crashed worker's tests, run by its
replacement) still gets its request or catalog read, on first use, by the worker that runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.pytest_plugin import shards

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession

TARGET_INPUT = "smokeproof_target"  # workerinput: the started target's addresses and tokens
OUTPUT = "smokeproof"  # workeroutput: what the worker read (for the controller's header)
PLUGIN = "smokeproof.xdist"
WORKERS_KEY = pytest.StashKey[list[dict[str, Any]]]()


def is_worker(config: pytest.Config) -> bool:
    """An xdist worker: it runs tests; the controller owns the reports."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """The xdist controller (``-n N``): it runs no test and collects nothing."""
    if is_worker(config) or config.getoption("collectonly"):
        return False
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


def register(config: pytest.Config, session: SmokeSession) -> None:
    """Register the controller's or the worker's plugin (nothing in a plain run)."""
    if is_controller(config):
        config.stash[WORKERS_KEY] = []
        config.pluginmanager.register(Controller(config, session), PLUGIN)
    elif is_worker(config):
        config.option.loadgroup = True  # xdist's own remote then suffixes each node id with its group
        handoff = config.workerinput.get(TARGET_INPUT)  # type: ignore[attr-defined]
        if handoff is not None:
            session.adopt_target(handoff)
        config.pluginmanager.register(Worker(config, session), PLUGIN)


def before_configure(config: pytest.Config) -> None:
    """On a worker, before any plugin configures: the controller cleaned ``--alluredir`` before any worker existed.

    A worker that cleaned it too could delete what another worker already wrote (a replacement
    worker starts while the others run).
    """
    if is_worker(config) and getattr(config.option, "clean_alluredir", False):
        config.option.clean_alluredir = False


def group_of(key: str) -> str | None:
    """The xdist group of a stable key (None: the test is a group of its own)."""
    if key == "database":
        return "db"
    if key.startswith(("database:", "endpoint:")):
        return key.replace("database:", "db:", 1)
    return None


def unit_of(nodeid: str) -> str:
    """A node id's group, as xdist's loadgroup writes it (``...[id]@group``), else the node id itself."""
    at, bracket = nodeid.rfind("@"), nodeid.rfind("]")
    return nodeid[at + 1 :] if at > bracket else nodeid


def assign(nodeids: Sequence[str], workers: int) -> list[list[int]]:
    """Each worker's share (indices into ``nodeids``): whole groups, the largest first to the least loaded worker.

    Deterministic: the controller and every worker compute it from the same collection.
    """
    groups: dict[str, list[int]] = {}
    for index, nodeid in enumerate(nodeids):
        groups.setdefault(unit_of(nodeid), []).append(index)
    shares: list[list[int]] = [[] for _ in range(max(workers, 1))]
    order = sorted(groups.values(), key=lambda indices: (-len(indices), indices[0]))
    for indices in order:
        min(shares, key=len).extend(indices)  # min() takes the first of equals: the lowest worker number
    return [sorted(share) for share in shares]


def worker_number(gateway_id: str) -> int | None:
    """``gw3`` -> 3 (None for a name xdist did not give)."""
    digits = gateway_id.removeprefix("gw")
    return int(digits) if digits.isdigit() else None


def mine(config: pytest.Config, items: list[pytest.Item]) -> list[pytest.Item]:
    """The tests this process will run: all of them, or on a worker its share of the assignment."""
    if not is_worker(config):
        return items
    workerinput: dict[str, Any] = config.workerinput  # type: ignore[attr-defined]
    number = worker_number(str(workerinput["workerid"]))
    count = int(workerinput["workercount"])
    if number is None or number >= count:  # a replacement worker: it gets whatever is left, checked on first use
        return []
    share = assign([item.nodeid for item in items], count)[number]
    return [items[index] for index in share]


def workers_facts(config: pytest.Config) -> dict[str, Any]:
    """What the workers read, combined for the controller's header (first worker to say a thing wins)."""
    header: dict[str, str] = {}
    tenants: dict[str, str | None] = {}
    for output in config.stash.get(WORKERS_KEY, []):
        for key, value in output.get("header", {}).items():
            header.setdefault(key, value)
        for name, revisions in output.get("tenants", {}).items():
            if revisions is not None or name not in tenants:
                tenants[name] = revisions
    return {"header": header, "tenants": tenants}


def workers_selected_nothing(config: pytest.Config) -> bool:
    """Every worker's shard selection left nothing (a sharded ``-n N`` run with nothing here)."""
    outputs = config.stash.get(WORKERS_KEY, [])
    return bool(outputs) and all(output.get("selected_nothing") for output in outputs)


class Controller:
    """The controller's side: the target, the hand-off, the scheduling, what the workers read."""

    def __init__(self, config: pytest.Config, session: SmokeSession) -> None:
        self.config = config
        self.session = session

    @pytest.hookimpl(tryfirst=True)  # before xdist's own (trylast) starts the workers
    def pytest_sessionstart(self) -> None:
        """Start the ``[start]`` target once, here, before any worker exists."""
        self.session.start_target()

    def pytest_configure_node(self, node: Any) -> None:
        """Hand each worker the started target's addresses and tokens (a worker never starts or stops it)."""
        handoff = self.session.target_handoff()
        if handoff is not None:
            node.workerinput[TARGET_INPUT] = handoff

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Whole groups to one worker each, all at once (see the module's docstring)."""
        from smokeproof.pytest_plugin.xdist_scheduling import SmokeScheduling

        return SmokeScheduling(config, log)

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        """Keep what the worker read, for the header."""
        output = getattr(node, "workeroutput", {}).get(OUTPUT)
        if output is not None:
            self.config.stash[WORKERS_KEY].append(output)


class Worker:
    """A worker's side: the groups, and what it read for the controller."""

    def __init__(self, config: pytest.Config, session: SmokeSession) -> None:
        self.config = config
        self.session = session

    @pytest.hookimpl(tryfirst=True)  # before xdist's remote turns the marks into node id suffixes
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Mark each test with its group: a database's checks together, an endpoint with its probe."""
        numbers = shards.contract_numbers(self.session.settings.contracts)
        for item in items:
            group = group_of(shards.unit_key(item, numbers))
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))

    def pytest_sessionfinish(self) -> None:
        """Send the controller what this worker read (the header's server, revisions, tenants)."""
        from smokeproof.pytest_plugin.reporting import run_facts

        output = run_facts(self.session.started_run)
        output["selected_nothing"] = shards.selected_nothing(self.config)
        self.config.workeroutput[OUTPUT] = output  # type: ignore[attr-defined]
