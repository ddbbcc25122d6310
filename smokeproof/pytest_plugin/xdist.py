"""pytest-xdist: ``pytest -n N`` is one run, as pytest-cov and pytest's own JUnit writer make it.

::

    controller                                       each worker (gw0, gw1, ...)
    pytest_configure       settings, reporting       pytest_configure    settings; the worker plugin
    pytest_sessionstart    the [start] target,       pytest_collection   everything
                           --wait-for-revision and
                           [revision] url, once
    pytest_configure_node  their outcome ->          collection_finish   each test's group ("db:eu", "endpoint:3")
                           workerinput                                   -> a file for the controller; sends the
    scheduler              each group to one worker,                     requests and reads the catalogs of ITS
                           all at once (SmokeScheduling)                 share only (the same assignment)
    logreport              every worker's rows       tests               rows travel on the reports
    testnodedown           what each worker read     sessionfinish       what it read -> workeroutput
    sessionfinish          table, summary, history,
                           exit status ("no check ran")
    unconfigure            stops the target

Why a scheduler of our own rather than ``--dist load`` or ``loadgroup``: those hand tests out as
workers free up, so a worker cannot know at the end of collection which requests and catalog reads
are its own. Sending them all there (what makes a plain run cost about its slowest request) would
send every request once per worker. Here the groups are assigned at once, the largest first to the
least loaded worker, and each worker computes the same assignment from the same collection: it sends
exactly the requests and reads exactly the catalogs of the tests it will run, all at once, as a plain
run does. A database's checks are one group (its catalog is read once); an endpoint's contract test
and its credential probe are one group (the probe reuses the contract's exchange). ``--dist`` is not
consulted while smokeproof is active. The groups reach the controller in a file the worker writes at the
end of its collection, in a folder the controller made (``workerinput``): xdist's own channel for groups,
the ``@group`` suffix ``--dist loadgroup`` puts on node ids, has no effect on pytest 9.2's structured node
ids. A worker on another machine (``--tx ssh=...``) cannot share the folder: its tests then send their
requests and read their catalogs on first use, each on the worker that runs it.

Tokens the run obtains are obtained by each worker that runs a check needing them (at most once per
worker). A test this scheduling did not foresee on a worker (a crashed worker's tests, run by its
replacement) still gets its request or catalog read, on first use, by the worker that runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.pytest_plugin import revision_handoff, shards

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession

TARGET_INPUT = "smokeproof_target"  # workerinput: the started target's addresses and tokens
GROUPS_INPUT = "smokeproof_groups"  # workerinput: the folder where each worker writes its tests' groups
WAIT_INPUT = "smokeproof_wait"  # workerinput: what came of --wait-for-revision (the controller waited)
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
        handoff = config.workerinput.get(TARGET_INPUT)  # type: ignore[attr-defined]
        if handoff is not None:
            session.adopt_target(handoff)
        waited = config.workerinput.get(WAIT_INPUT)  # type: ignore[attr-defined]
        if waited is not None:
            from smokeproof.pytest_plugin import waiting

            waiting.adopt(config, waited)
        revision = config.workerinput.get(revision_handoff.INPUT)  # type: ignore[attr-defined]
        if revision is not None:
            revision_handoff.adopt(session, revision)
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


def assign(nodeids: Sequence[str], groups: Mapping[str, str], workers: int) -> list[list[int]]:
    """Each worker's share (indices into ``nodeids``): whole groups, the largest first to the least loaded worker.

    ``groups``: node id -> group (a test without one is a group of its own). Deterministic: the
    controller and every worker compute it from the same collection and the same groups.
    """
    units: dict[str, list[int]] = {}
    for index, nodeid in enumerate(nodeids):
        units.setdefault(groups.get(nodeid, nodeid), []).append(index)
    shares: list[list[int]] = [[] for _ in range(max(workers, 1))]
    order = sorted(units.values(), key=lambda indices: (-len(indices), indices[0]))
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
    worker = config.pluginmanager.get_plugin(PLUGIN)
    if number is None or number >= count or worker is None or not worker.shared:
        return []  # a replacement or remote worker: each test sends its request, reads its catalog, on first use
    share = assign([item.nodeid for item in items], worker.groups, count)[number]
    return [items[index] for index in share]


def read_groups(folder: Path, worker: str) -> dict[str, str]:
    """The groups a worker wrote (empty if it could not: then every test is a group of its own)."""
    try:
        data = json.loads((folder / f"{worker}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


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
        self.folder = Path(tempfile.mkdtemp(prefix="smokeproof-xdist-"))  # where the workers write their groups
        config.add_cleanup(lambda: shutil.rmtree(self.folder, ignore_errors=True))
        self.revision: revision_handoff.Asking | None = None  # [revision] url, asked once for every worker

    @pytest.hookimpl(tryfirst=True)  # before xdist's own (trylast) starts the workers
    def pytest_sessionstart(self) -> None:
        """Start the ``[start]`` target once, wait for a rolling deploy once, and ask ``[revision] url`` once, here."""
        from smokeproof.pytest_plugin import waiting

        self.session.start_target()
        waiting.before_checks(self.config, self.session.settings.env)
        self.revision = revision_handoff.ask(self.config, self.session)

    def pytest_configure_node(self, node: Any) -> None:
        """Hand each worker the started target's addresses and tokens, what the wait found and the code's revision
        (a worker never redoes any of them)."""
        from smokeproof.pytest_plugin import waiting

        handoff = self.session.target_handoff()
        if handoff is not None:
            node.workerinput[TARGET_INPUT] = handoff
        revision = self.revision.handoff() if self.revision is not None else None
        if revision is not None:
            node.workerinput[revision_handoff.INPUT] = revision
        if node.gateway.spec.popen and not node.gateway.spec.chdir:  # a local worker: it shares the folder
            node.workerinput[GROUPS_INPUT] = str(self.folder)
        waited = waiting.handoff(self.config)
        if waited is not None:
            node.workerinput[WAIT_INPUT] = waited

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Whole groups to one worker each, all at once (see the module's docstring)."""
        from smokeproof.pytest_plugin.xdist_scheduling import SmokeScheduling

        return SmokeScheduling(config, log, self.folder)

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
        folder = config.workerinput.get(GROUPS_INPUT)  # type: ignore[attr-defined]
        self.folder = Path(folder) if folder else None
        self.groups: dict[str, str] = {}
        self.shared = False  # the controller can read this worker's groups

    @pytest.hookimpl(tryfirst=True)  # before xdist's remote sends the collection: the file is there first
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Each test's group (a database's checks together, an endpoint with its probe), for the controller too."""
        numbers = shards.contract_numbers(self.session.settings.contracts)
        for item in session.items:
            group = group_of(shards.unit_key(item, numbers))
            if group is not None:
                self.groups[item.nodeid] = group
        if self.folder is None:
            return
        worker = str(self.config.workerinput["workerid"])  # type: ignore[attr-defined]
        part = self.folder / f"{worker}.json.part"
        try:
            part.write_text(json.dumps(self.groups), encoding="utf-8")
            os.replace(part, self.folder / f"{worker}.json")
            self.shared = True
        except OSError:
            self.shared = False

    def pytest_sessionfinish(self) -> None:
        """Send the controller what this worker read (the header's server, revisions, tenants)."""
        output = self.session.facts()
        output["selected_nothing"] = shards.selected_nothing(self.config)
        self.config.workeroutput[OUTPUT] = output  # type: ignore[attr-defined]
