"""The run's lifecycle, in one object with one owner: the plugin.

::

    pytest_configure          SmokeSession(settings)     settings resolved and frozen
    pytest_sessionstart       session.warm()             the run's loop and connections open while pytest collects
    pytest_collection_finish  session.start(items)       the target starts (``[start]``), the selected requests and
                                                         catalog reads go out
    tests                     session.run                what the ``smoke`` fixture hands each test
    pytest_unconfigure        session.close()            requests and reads cancelled, connections closed, target stopped

``start`` and ``close`` each run once; ``close`` is safe when ``start`` never ran (``--collect-only``,
a usage error, nothing selected).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.config import targets
from smokeproof.config.environment import Environment, StartCommand
from smokeproof.database import revision_source, tenants
from smokeproof.database.catalog_queries import left_out
from smokeproof.database.revision_source import ExpectedRevision
from smokeproof.database.schema_entries import SchemaEntry
from smokeproof.database.tenants import OnDatabase
from smokeproof.errors import TargetUnreachable
from smokeproof.http.contracts import EndpointContract
from smokeproof.loop_thread import LoopThread
from smokeproof.pytest_plugin.settings import Settings

if TYPE_CHECKING:  # the run and its HTTP client load at the end of collection, and only when a test will use them
    from smokeproof.http.lanes import Lanes
    from smokeproof.root_cause import CauseChecks
    from smokeproof.run import SmokeRun

FIXTURE = "smoke"  # the fixture through which tests reach the run


class SmokeSession:
    """Owns the run: its connections, its started target, and the checks' shared state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env: Environment = settings.env  # a started target's addresses replace the file's
        self.ran: list[str] = []  # node ids of the checks that ran (a run in which none did proves nothing)
        self.current: pytest.Item | None = None  # the test being called: where ``smoke.verify`` records its verdict
        self.unchecked: str | None = None  # under xdist: the configured kinds a worker found no test for
        self.deselected: set[str] = set()  # fixtures of the tests deselected so far (they still carry their kind)
        self._loop = LoopThread()  # the run's own loop: its requests and database reads (started on first use)
        self._lanes: Lanes | None = None
        self._target: targets.StartedTarget | None = None
        self._run: SmokeRun | None = None
        self._start_error: TargetUnreachable | None = None
        self._target_resolved = False  # the [start] target started (or handed over by the xdist controller) once
        self.known_expected: ExpectedRevision | None = None  # on an xdist worker: the controller asked [revision] url

    def warm(self) -> None:
        """Open the probes' thread and connections in the background, so they are ready when collection ends."""
        if self.settings.contracts and self._lanes is None:
            from smokeproof.http.lanes import Lanes

            self._lanes = Lanes(self.settings.env.http, self._loop)
            self._lanes.warm()

    def start(self, items: Iterable[pytest.Item], *, send: bool = True) -> None:
        """Start the target if the environment says how, then send the selected contracts' requests (unless not ``send``)."""
        items = list(items)
        if self._run is not None or not any(FIXTURE in getattr(item, "fixturenames", ()) for item in items):
            return
        self.start_target()
        if self._start_error is not None:
            return
        from smokeproof.run import SmokeRun

        settings = self.settings
        self._run = SmokeRun(
            env=self.env,
            contracts=settings.contracts,
            expected_override=settings.expected_override,
            lanes=self._lanes,
            loop=self._loop,
            history=settings.history,
            deadline=settings.deadline,
            selected_checks=frozenset(_selected_checks(items)),
            known_expected=self.known_expected,
            catalog_omit=left_out((entry.kind for entry in settings.schema.entries), drift=bool(settings.drift)),
        )
        if send:
            aligned = revision_source.configured(self.env, settings.expected_override)  # else no Alembic check reads
            self._run.causes = _cause_checks(items, alembic=aligned)
            self._run.select(tuple(_selected_contracts(items)), tuple(_selected_databases(items, alembic=aligned)))

    @property
    def run(self) -> SmokeRun:
        """The run the tests check with; fails the asking test when the target could not be started."""
        if self._start_error is not None:
            pytest.fail(self.env.redactor(str(self._start_error)), pytrace=False)
        if self._run is None:
            raise RuntimeError("the smoke run was not started: SmokeSession.start() runs at the end of collection")
        return self._run

    @property
    def started_run(self) -> SmokeRun | None:
        """The run if it started (for the reports, which must not fail)."""
        return self._run

    def facts(self) -> dict[str, Any]:
        """What the run read, for the header: the server, the revisions, each tenant's revisions (plain data).

        A worker sends this to the controller under xdist; a plain run's reports read it directly.
        """
        run = self._run
        facts: dict[str, str] = {}
        if run is not None and run.snapshot is not None:
            facts["database server"] = f"PostgreSQL {run.snapshot.server_version}"
            if run.snapshot.alembic_revisions:
                facts["database revision"] = ", ".join(run.snapshot.alembic_revisions)
        if run is not None and run.expected is not None and run.expected.heads:
            facts["expected revision"] = ", ".join(run.expected.heads)
        return {"header": facts, "tenants": tenants.revision_keys(run.tenant_snapshots) if run is not None else {}}

    def close(self) -> None:
        """Cancel what is in flight, close the connections and stop the target. Safe to call twice.

        The target stops even when closing the loop raises (a closer that fails); the error is raised after.
        """
        self._run = None
        target, self._target, self._lanes = self._target, None, None
        try:
            self._loop.close()  # with the lanes made on it
        finally:
            if target is not None:
                target.stop()

    def start_target(self) -> None:
        """Start the ``[start]`` target, once (an xdist controller does it before its workers exist)."""
        if self._target_resolved:
            return
        self._target_resolved = True
        try:
            self.env = self._start_target()
        except TargetUnreachable as exc:
            self._start_error = exc

    @property
    def target_failed(self) -> bool:
        """The ``[start]`` target could not be started: every check fails, nothing is sent."""
        return self._start_error is not None

    def target_handoff(self) -> dict[str, Any] | None:
        """What a worker needs of the started target (its addresses and tokens, or why it failed); plain data."""
        start = self.settings.env.start
        if start is None or not self._target_resolved:
            return None
        if self._start_error is not None:
            return {"error": str(self._start_error)}
        started = self._target
        assert started is not None
        return {"base_url": started.base_url, "database_url": started.database_url, "env": dict(started.env)}

    def adopt_target(self, handoff: dict[str, Any]) -> None:
        """Run against the target another process started (the xdist controller); this process never stops it."""
        self._target_resolved = True
        if "error" in handoff:
            self._start_error = TargetUnreachable(str(handoff["error"]))
            return
        start = self.settings.env.start
        assert start is not None
        values = {str(k): str(v) for k, v in handoff["env"].items()}
        self.env = self._with_started(start, handoff["base_url"], handoff["database_url"], values)

    def _start_target(self) -> Environment:
        """The environment to run against: with the started target's URLs and tokens when it has a ``[start]`` table."""
        env = self.settings.env
        if env.start is None:
            return env
        try:
            started = targets.start(env.start)
        except targets.TargetStartError as exc:
            raise TargetUnreachable(f"target unreachable: the start command failed: {env.redactor(str(exc))}") from None
        self._target = started
        return self._with_started(env.start, started.base_url, started.database_url, started.env)

    def _with_started(
        self, start: StartCommand, base_url: str | None, database_url: str | None, values: dict[str, str]
    ) -> Environment:
        env = self.settings.env
        tokens = {name: values[key] for name, key in start.tokens.items() if key in values}
        env.redactor.add(*values.values())
        return env.with_target(base_url=base_url, database_url=database_url, tokens=tokens)


def _selected_contracts(items: Iterable[pytest.Item]) -> list[EndpointContract]:
    """The endpoint contracts left after ``-k`` / ``-m`` deselection, in test order."""
    selected: list[EndpointContract] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("endpoint"), EndpointContract):
            selected.append(callspec.params["endpoint"])
    return selected


def _selected_checks(items: Iterable[pytest.Item]) -> list[str]:
    """The ids of the selected schema and drift checks (``table public.users @ eu``): those that report a fault once."""
    found = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        check = getattr(params.get("schema_object", params.get("drift_object")), "id", None)
        if isinstance(check, str):  # not pytest's NOTSET of an empty parametrisation
            found.append(check)
    return found


def _cause_checks(items: Iterable[pytest.Item], *, alembic: bool) -> CauseChecks:
    """The selected checks on ``database_url`` a 5xx can point to: the Alembic check, the schema entries."""
    from smokeproof.root_cause import CauseChecks

    alembic_id: str | None = None
    schema: dict[str, tuple[SchemaEntry, str]] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        entry = params.get("schema_object")
        if isinstance(entry, SchemaEntry):
            schema.setdefault(entry.id, (entry, item.nodeid))
        elif (
            alembic
            and alembic_id is None
            and "database" in getattr(item, "fixturenames", ())
            and params.get("database") is None
            and "drift_object" not in params
            and entry is None
        ):
            alembic_id = item.nodeid
    return CauseChecks(alembic_id, schema)


def _selected_databases(items: Iterable[pytest.Item], *, alembic: bool) -> list[str | None]:
    """The databases the selected checks will read (None: ``database_url``), in test order, each once.

    A schema or drift check always reads its database; an Alembic check (``database``) only when
    the code's revision has a source (``alembic``), else it is skipped before reading.
    """
    selected: dict[str | None, None] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        target = params.get("schema_object", params.get("drift_object"))
        if target is not None:
            selected[target.database if isinstance(target, OnDatabase) else None] = None
        elif alembic and "database" in getattr(item, "fixturenames", ()):
            selected[params.get("database")] = None
    return list(selected)
