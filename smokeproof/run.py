"""One smoke run: the environment, its contracts, and the checks' shared state.

The run hands each thin test what it needs (an endpoint's exchange, the catalog snapshot, the
Alembic alignment) and memoises the expensive parts: all endpoints are probed at once, each
database is read once. The endpoint checks are here; the database checks are a component the run
owns, :class:`~smokeproof.database.run_checks.DatabaseChecks` (``run.database``), made with the run's
loop; the run hands the tests its checks under the same names (``smoke.wait_schema_object``...). A
:class:`~smokeproof.errors.TargetError` becomes a failing verdict in one place
(:func:`~smokeproof.database.run_checks.target_failure`).

Threads and loops. pytest runs the tests in the main thread (coroutine tests on pytest-asyncio's
session loop). The requests, the catalog reads and the expected revision run on the run's own
loop, in a thread of its own (:mod:`smokeproof.loop_thread`), started before the first test, so
answers and snapshots arrive while pytest does its bookkeeping. Results are
``concurrent.futures.Future`` objects: waited for by a plain test (``wait_endpoint``,
``wait_schema_object``...), awaited from any loop (``asyncio.wrap_future``). Hypothesis runs its property in a worker thread
(``asyncio.to_thread``) and sends each example on the run's loop. Invariants: what is memoised is
a ``concurrent.futures.Future`` (never an asyncio task, which belongs to one loop); nothing blocks
the run's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import math
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smokeproof.config.environment import Environment
from smokeproof.database import drift as schema_drift
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.revision_source import ExpectedRevision
from smokeproof.database.run_checks import DatabaseChecks
from smokeproof.database.schema_contract import SchemaEntry
from smokeproof.database.tenants import OnDatabase
from smokeproof.errors import Stalled, Unavailable
from smokeproof.http import judge
from smokeproof.http.contracts import EndpointContract
from smokeproof.loop_thread import SLACK_S, LoopThread, bounded, settle
from smokeproof.verdict import Category, Verdict

if TYPE_CHECKING:  # alembic loads only when the history is read; httpx with the prober, on the first request
    from smokeproof.database.migrations import MigrationHistory
    from smokeproof.http.certificates import CertificateTarget
    from smokeproof.http.lanes import Lanes
    from smokeproof.http.probe import Exchange, Prober

__all__ = ["SmokeRun", "Unavailable"]


@dataclass
class SmokeRun:
    """The checks of one run against one environment, and what they share."""

    env: Environment
    contracts: tuple[EndpointContract, ...]
    expected_override: str | None = None
    lanes: Lanes | None = None  # where the requests run; made from the environment's [http] unless given
    loop: LoopThread = field(default_factory=LoopThread)  # where the requests and the database reads run
    _rate: Any = None  # credential_probes.RateLimit, created on first use
    history: MigrationHistory | None = None  # the code's Alembic history (revision_source.load_history)
    # certificate HOST checks: each read once, on the run's loop; plain tests and the loop both ask
    causes: Any = None  # root_cause.CauseChecks: the selected checks a 5xx verdict can point to (set by the session)
    _certificates: dict[CertificateTarget, concurrent.futures.Future[Verdict]] = field(default_factory=dict)
    _reading: threading.Lock = field(default_factory=threading.Lock)
    database: DatabaseChecks = field(init=False)  # the schema, drift and Alembic checks, on the same loop
    deadline: float | None = None  # --smoke-timeout: time.monotonic() after which no wait goes on
    # The ids of the selected checks (after -k/-m): a consequence of a fault is skipped only when one of them reports it
    selected_checks: frozenset[str] = frozenset()
    known_expected: ExpectedRevision | None = None  # resolved by another process (xdist's controller asked [revision] url)
    catalog_omit: frozenset[str] = frozenset()  # catalog kinds no check of this run compares (catalog_queries.left_out)

    def __post_init__(self) -> None:
        self.database = DatabaseChecks(
            self.env,
            self.loop,
            self._fetch_json,
            expected_override=self.expected_override,
            history=self.history,
            selected=self.selected_checks,
            deadline=self.deadline,
            request_bound=self.request_bound,
            known=self.known_expected,
            omit=self.catalog_omit,
        )

    @functools.cached_property
    def prober(self) -> Prober:
        """The endpoints' prober, made on first use: a run that sends no request never loads httpx."""
        from smokeproof.http.lanes import Lanes
        from smokeproof.http.probe import Prober

        return Prober(self.env, self.lanes or Lanes(self.env.http, self.loop))

    @property
    def sending(self) -> Lanes | None:
        """The lanes this run's requests go out on, if it has any (for closing; never makes a prober)."""
        prober: Prober | None = self.__dict__.get("prober")
        return prober.lanes if prober is not None else self.lanes

    def select(self, contracts: tuple[EndpointContract, ...], databases: tuple[str | None, ...] = ()) -> None:
        """What is left after -k/-m deselection starts now, in the background: the contracts' requests, and
        the catalog reads of ``databases`` (None: ``database_url``) with the code's expected revision.
        """
        if contracts:
            self.prober.selected = contracts
            self.prober.start()
        self.database.start(databases)

    # Database checks: the component's, under the names the tests use -----------------------------

    @property
    def snapshot(self) -> CatalogSnapshot | None:
        """The catalog of ``database_url``, once read (None before, or when it could not be)."""
        return self.database.snapshot

    @property
    def tenant_snapshots(self) -> dict[str, CatalogSnapshot | None]:
        return self.database.tenant_snapshots

    @property
    def expected(self) -> ExpectedRevision | None:
        """The code's expected head(s), once resolved."""
        return self.database.expected

    async def catalog(self, database: str | None = None) -> CatalogSnapshot:
        return await self.database.catalog(database)

    async def schema_object(self, target: SchemaEntry | OnDatabase[SchemaEntry]) -> Verdict:
        return await self.database.schema_object(target)

    def wait_schema_object(self, target: SchemaEntry | OnDatabase[SchemaEntry]) -> Verdict:
        return self.database.wait_schema_object(target)

    async def drift(self, target: schema_drift.DriftObject | OnDatabase[schema_drift.DriftObject]) -> Verdict:
        return await self.database.drift(target)

    def wait_drift(self, target: schema_drift.DriftObject | OnDatabase[schema_drift.DriftObject]) -> Verdict:
        return self.database.wait_drift(target)

    async def alignment(self, database: str | None = None) -> Verdict:
        return await self.database.alignment(database)

    def wait_alignment(self, database: str | None = None) -> Verdict:
        return self.database.wait_alignment(database)

    # Endpoints ---------------------------------------------------------------------------------

    async def endpoint(self, contract: EndpointContract) -> Verdict:
        """The verdict on ``contract``'s exchange, awaited (from a coroutine test or a probe)."""
        self._check_credentials(contract)
        if self.prober.future(contract).done():  # in already (and past a spent deadline: still its answer)
            return self._judge(contract, self.prober.future(contract).result())
        bound = self.request_bound()
        try:
            async with asyncio.timeout(bound):
                exchange = await self.prober.result(contract)
        except TimeoutError:
            exchange = self.prober.stalled(contract, bound)
        return self._judge(contract, exchange)

    def wait_endpoint(self, contract: EndpointContract) -> Verdict:
        """The verdict on ``contract``'s exchange, waited for outside any event loop (a plain test).

        The request runs on the prober's loop either way; a plain test saves the turn of pytest's
        loop that awaiting it costs, once per contract.
        """
        self._check_credentials(contract)
        bound = self.request_bound()
        try:
            exchange = settle(self.prober.future(contract), bound, contract.test_id)
        except Stalled:
            exchange = self.prober.stalled(contract, bound)
        return self._judge(contract, exchange)

    def request_bound(self) -> float:
        """How long a check waits for a request's answer at most, from now.

        Every request has its own total timeout (``[http] timeout_s``) but waits for a free lane first; in the
        worst case a token's request waits behind every contract, then its checks' requests behind them again.
        Past this bound a check fails instead of waiting on: whatever went wrong, the run ends.
        """
        http = self.env.http
        waves = math.ceil(max(len(self.contracts), 1) / http.concurrency)
        return bounded(http.timeout_s * (2 * waves + 3) + SLACK_S, self.deadline)

    def _check_credentials(self, contract: EndpointContract) -> None:
        missing = self.prober.missing_credentials(contract)
        if missing:
            raise Unavailable(missing)

    def _judge(self, contract: EndpointContract, exchange: Exchange) -> Verdict:
        http = self.env.http
        return self._explained(
            judge.judge(contract, exchange, default_max_ms=http.max_ms, default_warn_ms=http.warn_ms, redactor=self.env.redactor)
        )

    def _explained(self, verdict: Verdict) -> Verdict:
        """A 5xx verdict pointed to the database check of this run that explains it (:mod:`smokeproof.root_cause`)."""
        if verdict.ok or verdict.category is not Category.SERVER_ERROR or self.causes is None:
            return verdict
        state = self.database.read_state()
        if state is None:
            return verdict
        from smokeproof import root_cause  # loads alembic's revision code: only runs with a 5xx pay

        catalog, alignment = state
        return root_cause.explain(verdict, root_cause.find(self.causes, alignment, catalog))

    async def fuzz(self, contract: EndpointContract) -> Verdict:
        """The property-based probe of ``contract`` (malformed credentials)."""
        if not (await self.endpoint(contract)).ok:
            raise Unavailable(
                f"{contract.test_id} already fails its contract; probing it with malformed credentials adds nothing"
            )
        from smokeproof.http import credential_probes  # hypothesis is heavy to import: only runs that probe pay for it

        if self._rate is None:
            self._rate = credential_probes.RateLimit(self.env.fuzz.max_rate_per_s)
        verdict = await credential_probes.probe_endpoint(self.prober, contract, rate=self._rate, fuzz=self.env.fuzz)
        if not verdict.ok:
            await self.database.state_ready()  # the catalog and the code's revision, awaited rather than blocking the loop
        return self._explained(verdict)

    def wait_certificate(self, target: CertificateTarget) -> Verdict:
        """The verdict on the certificate ``target`` serves: read once per run, on the run's loop."""
        from smokeproof.http import certificates

        with self._reading:
            future = self._certificates.get(target)
            if future is None:
                inspect = certificates.inspect(target, http=self.env.http, tls=self.env.tls)
                future = self._certificates[target] = self.loop.submit(inspect)
        bound = bounded(self.env.http.timeout_s + SLACK_S, self.deadline)  # the read has its own connect timeout
        try:
            return settle(future, bound, target.id)
        except Stalled as exc:
            return certificates.stalled(target, self.env.tls, str(exc))

    async def _fetch_json(self, path: str) -> Any:
        """``[revision] url``: an absolute URL, or a path on base_url. Only a failure on the target's origin marks it down."""
        from smokeproof.http.policy import target_headers

        if not path.startswith(("http://", "https://")):
            assert self.env.base_url is not None
            path = self.env.base_url + path
        on_target = self.prober.on_target(path)
        exchange = await self.prober.send("GET", path, headers=target_headers(self.env, path), mark_down=on_target)
        if exchange.error:
            raise ValueError(f"GET {self.env.redactor(path)}: {exchange.error}")
        if exchange.status != 200:
            raise ValueError(f"GET {self.env.redactor(path)} answered {exchange.status}")
        return json.loads(exchange.body)

    def close(self) -> None:
        """Cancel what is in flight (requests, reads), close the connections and stop the run's loop."""
        try:
            self.loop.close()  # closes the lanes made on it
        finally:
            lanes = self.sending
            if lanes is not None:  # lanes given with a loop of their own
                lanes.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
