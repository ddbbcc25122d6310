"""The run's database checks: schema contracts, drift and Alembic alignment, on one database or each tenant's.

A component the run (:class:`smokeproof.run.SmokeRun`) owns and hands its loop to: :class:`DatabaseChecks`
holds its own state (the catalog futures, the code's expected revision, the drift comparisons) and asks
the run for nothing but the loop it runs on and a way to GET a JSON document from the deployed code
(``[revision] url``). Every catalog is read once, on the run's loop (:mod:`smokeproof.loop_thread`), in the
background from the end of collection (:meth:`DatabaseChecks.start`); the code's expected revision is
resolved there once too. Each check is then computed in the test's own thread from those two: a plain
test waits for them (``wait_*``), a coroutine test awaits them first (``_ready``) and shares the same code.
A database that cannot be read is tried once; every check on it then reports the same failure
(:func:`target_failure`). Reads go through :mod:`smokeproof.database.catalog_read`, as the commands' do.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import math
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from smokeproof.config.environment import Environment
from smokeproof.database import drift as schema_drift
from smokeproof.database import revision_source, schema_contract
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.catalog_read import read_catalog
from smokeproof.database.revision_source import ExpectedRevision
from smokeproof.database.schema_contract import SchemaEntry
from smokeproof.database.tenants import OnDatabase, Snapshots, at, on_database
from smokeproof.errors import ReportedElsewhere, Stalled, TargetError, TargetUnreachable, Unavailable
from smokeproof.loop_thread import SLACK_S, LoopThread, bounded, settle
from smokeproof.verdict import Area, Category, Severity, Verdict

if TYPE_CHECKING:  # alembic loads only when the history is read
    from smokeproof.database.alignment import Alignment
    from smokeproof.database.migrations import MigrationHistory

UNREADABLE_MEANS = "the database could not be read, so nothing about its schema is known"
UNREADABLE_TODO = "check database_url, the network path and the database's health; then rerun"


def target_failure(check: str, area: Area, error: TargetError) -> Verdict:
    """The failing verdict of a check whose target could not be read: unreachable, or an error once there."""
    unreachable = isinstance(error, TargetUnreachable)
    return Verdict(
        check=check,
        area=area,
        expected="database readable",
        actual="unreachable" if unreachable else "error",
        ok=False,
        headline=f"{check}: {error}",
        category=Category.UNREACHABLE if unreachable else Category.DATABASE_ERROR,
        sections=(("what it means", UNREADABLE_MEANS), ("what to do", UNREADABLE_TODO)),
        severity=Severity.BLOCKER,
    )


class DatabaseChecks:
    """The database side of a run, owned by it: give it the environment, the run's loop and a JSON fetcher."""

    def __init__(
        self,
        env: Environment,
        loop: LoopThread,
        fetch_json: Callable[[str], Awaitable[Any]],
        *,
        expected_override: str | None = None,
        history: MigrationHistory | None = None,
        selected: frozenset[str] = frozenset(),
        deadline: float | None = None,
        request_bound: Callable[[], float] | None = None,
        known: ExpectedRevision | None = None,
        omit: frozenset[str] = frozenset(),
    ) -> None:
        """``selected``: the ids of the run's selected schema and drift checks (a consequence of a fault is skipped
        only when one of them reports it); ``deadline``: --smoke-timeout's; ``request_bound``: how long the
        run waits for a request at most (for ``[revision] url``); ``known``: the code's expected revision as
        another process resolved it (an xdist controller asked ``[revision] url``), used instead of asking again;
        ``omit``: the catalog kinds no check of this run compares (:func:`catalog_queries.left_out`), not read."""
        self.env = env
        self.omit = omit
        self.expected: ExpectedRevision | None = None  # the code's expected head(s), once resolved
        self._loop = loop
        self._fetch_json = fetch_json  # GET a JSON document from the deployed code ([revision] url)
        self._expected_override = expected_override
        self._history = history
        self._catalog: concurrent.futures.Future[CatalogSnapshot] | None = None
        self._tenants: Snapshots | None = None  # the tenant databases' catalogs ([databases])
        self._selected_tenants: tuple[str, ...] = ()  # the tenants this process's checks read (a shard's, a worker's)
        self._expected: concurrent.futures.Future[ExpectedRevision | None] | None = None
        if known is not None:
            self._expected = concurrent.futures.Future()
            self._expected.set_result(known)
        # [drift]: per database (None: database_url), the comparison and its advice, made once
        self._drift: dict[str | None, tuple[schema_drift.Comparison, schema_drift.Advice]] = {}
        self._reading = threading.Lock()  # plain tests and the run's loop both ask
        self.selected = selected
        self._deadline = deadline
        self._request_bound = request_bound or (lambda: bounded(3 * env.http.timeout_s + SLACK_S, deadline))

    def database_bound(self) -> float:
        """How long a check waits for a database's catalog at most, from now (reads go ``concurrency`` at a time).

        Each read has its connect and statement timeouts; past this bound a check fails instead of waiting on.
        """
        db = self.env.database
        per_read = db.connect_timeout_s + 4 * db.statement_timeout_ms / 1000  # the snapshot is 4 statements
        waves = math.ceil(max(len(self.env.databases), 1) / db.concurrency)
        return bounded(per_read * (waves + 1) + self.env.http.timeout_s + SLACK_S, self._deadline)

    def _catalog_of(self, database: str | None) -> CatalogSnapshot:
        """``database``'s catalog, waited for within the bound (raises :class:`~smokeproof.errors.TargetError`)."""
        return settle(
            self.catalog_future(database), self.database_bound(), f"database {database or 'database_url'}: catalog read"
        )

    def start(self, databases: Iterable[str | None]) -> None:
        """Start the catalog reads of ``databases`` (None: ``database_url``) and, with them, the code's expected revision."""
        databases = list(databases)
        self._selected_tenants = tuple(database for database in databases if database is not None)
        reading = False
        for database in databases:
            with contextlib.suppress(Unavailable):  # no database_url: its checks say so when they run
                reading = self.catalog_future(database) is not None
        if reading:
            self.expected_future()

    @property
    def snapshot(self) -> CatalogSnapshot | None:
        """The catalog, once it has been read (None before, or when it could not be)."""
        future = self._catalog
        if future is None or not future.done() or future.cancelled() or future.exception() is not None:
            return None
        return future.result()

    @property
    def database_revisions(self) -> tuple[str, ...] | None:
        """The alembic_version rows, once the catalog has been read."""
        return self.snapshot.alembic_revisions if self.snapshot is not None else None

    async def catalog(self, database: str | None = None) -> CatalogSnapshot:
        """The catalog snapshot, read once; raises :class:`~smokeproof.errors.TargetError` (the same one each time).

        ``database`` names a tenant database; None is the environment's ``database_url``.
        """
        return await asyncio.wrap_future(self.catalog_future(database))

    def catalog_future(self, database: str | None = None) -> concurrent.futures.Future[CatalogSnapshot]:
        """The catalog read of ``database`` on the run's loop, started on first asking (every tenant's at once)."""
        with self._reading:
            if database is not None:
                if self._tenants is None:
                    concurrency = self.env.database.concurrency
                    names = list(self.env.databases)
                    self._tenants = Snapshots(names, self._read_tenant, concurrency, self._loop, first=self._selected_tenants)
                return self._tenants.get(database)
            if self.env.database_url is None:
                raise Unavailable(f"environment {self.env.name} has no database_url: schema checks need one")
            if self._catalog is None:
                self._catalog = self._loop.submit(read_catalog(self.env, omit=self.omit))
            return self._catalog

    @property
    def tenant_snapshots(self) -> dict[str, CatalogSnapshot | None]:
        """Each tenant database's catalog as read so far (None: not read, or unreadable)."""
        return self._tenants.done() if self._tenants is not None else {}

    async def _read_tenant(self, database: str) -> CatalogSnapshot:
        return await read_catalog(self.env, database, omit=self.omit)

    # Each database check is computed in the test's own thread from what the run's loop has read: a
    # plain test waits for it (``wait_*``), a coroutine test awaits it being in (``_ready``) first.

    async def schema_object(self, target: SchemaEntry | OnDatabase[SchemaEntry]) -> Verdict:
        """One schema entry's verdict, on ``database_url`` or on the tenant database ``target`` names."""
        await self._ready(target.database if isinstance(target, OnDatabase) else None)
        return self.wait_schema_object(target)

    def wait_schema_object(self, target: SchemaEntry | OnDatabase[SchemaEntry]) -> Verdict:
        """:meth:`schema_object`, waited for outside any event loop (a plain test)."""
        entry, database = (target.entry, target.database) if isinstance(target, OnDatabase) else (target, None)
        try:
            catalog = self._catalog_of(database)
        except TargetError as exc:
            return target_failure(target.id, Area.SCHEMA, exc)
        root = schema_contract.missing_table(entry, catalog)
        if root is not None and at(root, database) in self.selected:
            raise ReportedElsewhere(f"{target.id}: its table is missing; reported once, by '{at(root, database)}'")
        alignment = self._alignment_of(catalog)
        verdict = schema_contract.check(entry, catalog, at_head=alignment is not None and alignment.ok)
        if root is not None:  # no selected check reports the table: this one does
            verdict = dataclasses.replace(
                verdict, headline=f"{entry.id}: missing (its table {root.split(' ', 1)[1]} does not exist)"
            )
        return on_database(verdict, database)

    async def drift(self, target: schema_drift.DriftObject | OnDatabase[schema_drift.DriftObject]) -> Verdict:
        """One drift check's verdict (on ``database_url`` or a tenant database), from that database's one snapshot."""
        await self._ready(target.database if isinstance(target, OnDatabase) else None)
        return self.wait_drift(target)

    def wait_drift(self, target: schema_drift.DriftObject | OnDatabase[schema_drift.DriftObject]) -> Verdict:
        """:meth:`drift`, waited for outside any event loop (a plain test)."""
        obj, database = (target.entry, target.database) if isinstance(target, OnDatabase) else (target, None)
        try:
            catalog = self._catalog_of(database)
        except TargetError as exc:
            return target_failure(target.id, Area.SCHEMA, exc)
        if database not in self._drift:
            from smokeproof.database import baseline

            comparison = schema_drift.compare(obj.settings, baseline.Live(catalog))
            self._drift[database] = comparison, schema_drift.advice(self._alignment_of(catalog))
        comparison, advice = self._drift[database]
        root = schema_drift.reported_by(obj, comparison)
        if root is not None and at(root, database) in self.selected:
            raise ReportedElsewhere(f"{target.id}: its table is missing; reported once, by '{at(root, database)}'")
        verdict = on_database(schema_drift.check(obj, comparison, advice), database)
        if verdict.ok and verdict.headline:  # [drift] extra = "warn"
            warnings.warn(schema_drift.DriftWarning(verdict.headline), stacklevel=1)
        return verdict

    async def _ready(self, database: str | None, *, catalog: bool = True) -> None:
        """Wait, from any event loop, until the code's expected revision and ``database``'s catalog are in.

        Nothing is raised here: the ``wait_*`` method that follows reads the outcome, failures included.
        """
        await asyncio.wait([asyncio.wrap_future(self.expected_future())], timeout=self._request_bound())
        if catalog:
            with contextlib.suppress(Unavailable):  # no database_url: the check says so
                await asyncio.wait([asyncio.wrap_future(self.catalog_future(database))], timeout=self.database_bound())

    def expected_future(self) -> concurrent.futures.Future[ExpectedRevision | None]:
        """The code's expected head(s), resolved once on the run's loop, whichever check asks first."""
        with self._reading:
            if self._expected is None:
                self._expected = self._loop.submit(
                    revision_source.resolve(self.env, self._expected_override, self._fetch_json, self._history)
                )
            return self._expected

    def expected_revision(self) -> ExpectedRevision | None:
        """The code's expected head(s), waited for within the request bound (a stalled source is an error in it)."""
        try:
            self.expected = settle(self.expected_future(), self._request_bound(), "the code's expected revision")
        except Stalled as exc:
            source = revision_source.describe_source(self.env, self._expected_override)
            return ExpectedRevision((), source, None, error=str(exc))
        return self.expected

    def read_state(self) -> tuple[CatalogSnapshot, Alignment | None] | None:
        """``database_url``'s catalog and alignment, waited for if its read was started; None if it was not, or failed.

        For a 5xx verdict's root cause (:mod:`smokeproof.root_cause`): it never starts a read of its own.
        """
        future = self._catalog
        if future is None:
            return None
        try:
            catalog = future.result()
            return catalog, self._alignment_of(catalog)
        except Exception:  # the database could not be read: its own checks say so
            return None

    async def state_ready(self) -> None:
        """Await, from any event loop, what :meth:`read_state` waits for (when the read was started)."""
        if self._catalog is not None:
            await self._ready(None)

    def _alignment_of(self, catalog: CatalogSnapshot) -> Alignment | None:
        """A database's Alembic alignment (for the schema and drift advice), or None when the code's revision is not known."""
        expected = self.expected_revision()
        if expected is None or expected.error:
            return None
        from smokeproof.database.alignment import align

        return align(
            expected=expected.heads,
            source=expected.source,
            database=catalog.alembic_revisions,
            history=expected.history,
            upgrade=self.env.revision.upgrade_command,
        )

    # Alembic -----------------------------------------------------------------------------------

    async def alignment(self, database: str | None = None) -> Verdict:
        """The Alembic alignment of ``database_url``, or of the tenant database ``database``."""
        await self._ready(database, catalog=False)
        expected = self.expected_revision()
        await self._ready(database, catalog=expected is not None and not expected.error)
        return self.wait_alignment(database)

    def wait_alignment(self, database: str | None = None) -> Verdict:
        """:meth:`alignment`, waited for outside any event loop (a plain test)."""
        check = at("alembic revision", database)
        expected = self.expected_revision()
        if expected is None:
            raise Unavailable(
                f"environment {self.env.name} says nowhere where the code's Alembic head comes from: set "
                "[revision] expected, migrations or url, or pass --expected-revision"
            )
        if expected.error:
            return Verdict(
                check=check,
                area=Area.MIGRATIONS,
                expected="a code revision",
                actual="unknown",
                ok=False,
                headline=f"{check}: cannot learn the code's revision from {expected.source}: {expected.error}",
                category=Category.MIGRATION_DRIFT,
                severity=Severity.BLOCKER,
            )
        try:
            catalog = self._catalog_of(database)
        except TargetError as exc:
            return target_failure(check, Area.MIGRATIONS, exc)
        from smokeproof.database.alignment import align  # loads alembic: only runs that check it pay

        result = align(
            expected=expected.heads,
            source=expected.source,
            database=catalog.alembic_revisions,
            history=expected.history,
            single_head=self.env.revision.single_head,
            upgrade=self.env.revision.upgrade_command,
        )
        return on_database(result.verdict("alembic revision"), database)
