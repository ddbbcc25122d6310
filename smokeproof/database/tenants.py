"""Schema, drift and Alembic checks on each of an environment's tenant databases.

Each check of ``schema.toml`` and the Alembic alignment run once per database, their ids suffixed
with the database's name (``table public.users @ eu``, ``alembic revision @ us``), so a report
says which tenant is behind. The snapshots are read concurrently, at most ``[database]
concurrency`` at once, one read-only session per database; a database that cannot be read fails
its own checks and no other's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from smokeproof.config.environment import Environment
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.drift import DriftObject
from smokeproof.database.schema_contract import SchemaEntry
from smokeproof.loop_thread import LoopThread
from smokeproof.verdict import Verdict

SEPARATOR = " @ "
Check = TypeVar("Check", SchemaEntry, DriftObject)


def at(check: str, database: str | None) -> str:
    """``table public.users`` on tenant ``eu``: ``table public.users @ eu`` (the environment's own database: unchanged)."""
    return check if database is None else f"{check}{SEPARATOR}{database}"


def database_of(params: Mapping[str, object]) -> str | None:
    """The tenant database a test's parameters name (``database``, or a ``schema_object`` on one), if any."""
    database = params.get("database", params.get("smoke_database"))  # smoke_database: an own check's (each_database)
    if isinstance(database, str):
        return database
    target = params.get("schema_object") or params.get("drift_object")
    return target.database if isinstance(target, OnDatabase) else None


@dataclass(frozen=True)
class OnDatabase(Generic[Check]):
    """A schema entry or drift check on one tenant database (the ``schema_object`` or ``drift_object`` parameter)."""

    entry: Check
    database: str

    @property
    def id(self) -> str:
        return at(self.entry.id, self.database)

    def __repr__(self) -> str:  # what Allure shows as the parameter
        return f"OnDatabase({self.id!r})"


def schema_targets(entries: Sequence[Check], env: Environment) -> list[Check | OnDatabase[Check]]:
    """Every schema (or drift) check of the run: on ``database_url`` (or nowhere, to say it is absent), then on each tenant."""
    targets: list[Check | OnDatabase[Check]] = []
    if env.database_url is not None or not env.databases:
        targets.extend(entries)
    for name in env.databases:
        targets.extend(OnDatabase(entry, name) for entry in entries)
    return targets


def on_database(verdict: Verdict, database: str | None) -> Verdict:
    """The verdict with its check named after its database (headline and story too)."""
    if database is None:
        return verdict
    check = at(verdict.check, database)
    headline = verdict.headline.replace(verdict.check, check, 1) if verdict.check in verdict.headline else verdict.headline
    if headline == verdict.headline and headline:
        headline = f"[{database}] {headline}"
    return replace(verdict, check=check, headline=headline, story=at(verdict.story, database) if verdict.story else "")


class Snapshots:
    """The tenant databases' catalogs, read once each on the run's loop, ``concurrency`` at a time, started together.

    ``first``: the databases this process's selected checks read (a shard's or an xdist worker's
    share), started together on the first call; empty: every database. Any other is read when asked for.
    """

    def __init__(
        self,
        names: list[str],
        read: Callable[[str], Awaitable[CatalogSnapshot]],
        concurrency: int,
        loop: LoopThread,
        *,
        first: Sequence[str] = (),
    ) -> None:
        self._names = names
        self._first = list(first) or names
        self._read = read
        self._concurrency = concurrency
        self._loop = loop
        self._futures: dict[str, concurrent.futures.Future[CatalogSnapshot]] = {}
        self._gate: asyncio.Semaphore | None = None

    def get(self, name: str) -> concurrent.futures.Future[CatalogSnapshot]:
        """``name``'s catalog, to come; the first call starts every selected database's read (all about to be asked for)."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(self._concurrency)  # bound to the run's loop on first use
            for database in self._first:
                self._futures[database] = self._loop.submit(self._bounded(database))
        if name not in self._futures:
            self._futures[name] = self._loop.submit(self._bounded(name))
        return self._futures[name]

    async def _bounded(self, database: str) -> CatalogSnapshot:
        assert self._gate is not None
        async with self._gate:
            return await self._read(database)

    def done(self) -> dict[str, CatalogSnapshot | None]:
        """Each database's catalog as read so far (None: not read, or unreadable)."""
        found: dict[str, CatalogSnapshot | None] = {}
        for name in self._names:
            future = self._futures.get(name)
            ok = future is not None and future.done() and not future.cancelled() and future.exception() is None
            found[name] = future.result() if ok and future is not None else None
        return found


def revision_keys(snapshots: Mapping[str, CatalogSnapshot | None]) -> dict[str, str | None]:
    """Each database's Alembic revisions as the header counts them (None: not read), as plain strings that travel."""
    return {
        name: None if snap is None else ", ".join(snap.alembic_revisions or ()) or "(no alembic_version)"
        for name, snap in snapshots.items()
    }
