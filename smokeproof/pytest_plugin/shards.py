"""``--shard=K/N``: this job checks one stable part of the run; ``smokeproof report DIR...`` puts the parts together.

A fleet outgrows one CI job: a matrix (or a Kubernetes Indexed Job) runs N jobs, each with
``--shard=K/N`` (or ``$SMOKEPROOF_SHARD``). Every check is in exactly one shard, decided by a hash
of a stable key, never by its place in the collection (adding a tenant moves no other check):

- a database's checks (schema, drift, Alembic, on ``database_url`` or a tenant) share the key of
  their database, so its catalog is read by one job only;
- an endpoint's contract test and its credential probe share the key of their contract (the probe
  reuses the contract's exchange: apart, the request would be sent twice);
- any other test is its own key (its node id).

A shard writes no history: the merge does, once per target (:mod:`smokeproof.reporting.merge`).
Each row of its ``summary.json`` carries its place in the whole collection, so the merged table
reads in the unsharded run's order. A shard that selects nothing is a success that says so (a fleet
with fewer tenants than shards is normal), not the "no check ran" failure.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

from smokeproof.config.names import SHARD_VARIABLE
from smokeproof.database.tenants import database_of
from smokeproof.errors import UsageError
from smokeproof.http.contracts import EndpointContract

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
DATABASE_PARAMETERS = ("schema_object", "drift_object", "database")


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` of ``count`` (``number`` from 1)."""

    number: int
    count: int

    def __str__(self) -> str:
        return f"{self.number} of {self.count}"

    def holds(self, key: str) -> bool:
        """Whether the check with this stable key is in this shard."""
        return stable_hash(key) % self.count == self.number - 1


@dataclass
class ShardState:
    """What the shard filter saw: the collection's order before it, and whether it left nothing."""

    shard: Shard | None
    positions: dict[pytest.Item, int]  # place in the whole collection (before the shard and -k/-m)
    had: int = 0  # tests before the shard's selection
    kept: int = 0  # tests the shard kept

    @property
    def selected_nothing(self) -> bool:
        """A shard given tests that kept none of them: nothing to check here, and that is fine."""
        return self.shard is not None and self.had > 0 and self.kept == 0


SHARD_KEY = pytest.StashKey[ShardState]()


def parse(value: str, *, where: str) -> Shard:
    """``K/N`` with 1 <= K <= N; anything else is a usage error naming ``where`` it came from."""
    found = SHARD_PATTERN.match(value)
    if found is None:
        raise UsageError(f"{where}={value!r}: expected K/N, the shard's number from 1 and the number of shards (e.g. 1/4)")
    number, count = int(found.group(1)), int(found.group(2))
    if count < 1 or not 1 <= number <= count:
        raise UsageError(f"{where}={value!r}: K must be between 1 and N (N >= 1): the shards of 4 are 1/4, 2/4, 3/4 and 4/4")
    return Shard(number, count)


def configure(config: pytest.Config) -> Shard | None:
    """The shard this run asks for (``--shard`` first, then ``$SMOKEPROOF_SHARD``), or None."""
    option = config.getoption("smoke_shard")
    if option:
        shard = parse(option, where="--shard")
    elif os.environ.get(SHARD_VARIABLE, "").strip():
        shard = parse(os.environ[SHARD_VARIABLE], where=f"${SHARD_VARIABLE}")
    else:
        shard = None
    config.stash[SHARD_KEY] = ShardState(shard, {})
    return shard


def current(config: pytest.Config) -> Shard | None:
    state = config.stash.get(SHARD_KEY, None)
    return state.shard if state is not None else None


def stable_hash(key: str) -> int:
    """The same number for the same key in every process and on every machine (``hash()`` is salted)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def unit_key(item: pytest.Item, contract_numbers: Mapping[str, int]) -> str:
    """The key that keeps an item with the checks it shares a request or a catalog read with."""
    params: Mapping[str, object] = getattr(getattr(item, "callspec", None), "params", {})
    if any(name in params for name in DATABASE_PARAMETERS) or "database" in getattr(item, "fixturenames", ()):
        database = database_of(params)
        return "database" if database is None else f"database:{database}"
    for name in ("endpoint", "fuzz_endpoint"):
        contract = params.get(name)
        if isinstance(contract, EndpointContract):
            return f"endpoint:{contract_numbers.get(contract.test_id, contract.test_id)}"
    return f"test:{item.nodeid}"


def contract_numbers(contracts: Iterable[EndpointContract]) -> dict[str, int]:
    """Each contract's place in the contract file (1-based): a short, stable name for its group."""
    return {contract.test_id: number for number, contract in enumerate(contracts, start=1)}


def select(config: pytest.Config, items: list[pytest.Item], contracts: Iterable[EndpointContract]) -> None:
    """Record the collection's order, then keep this shard's tests (the others are deselected, as -k does)."""
    state = config.stash[SHARD_KEY]
    state.positions = {item: place for place, item in enumerate(items)}
    shard = state.shard
    if shard is None:
        return
    state.had = len(items)
    numbers = contract_numbers(contracts)
    kept = [item for item in items if shard.holds(unit_key(item, numbers))]
    state.kept = len(kept)
    if len(kept) != len(items):
        left = set(kept)
        config.hook.pytest_deselected(items=[item for item in items if item not in left])
        items[:] = kept


def selected_nothing(config: pytest.Config) -> bool:
    state = config.stash.get(SHARD_KEY, None)
    return state is not None and state.selected_nothing


def header_lines(config: pytest.Config) -> list[str]:
    shard = current(config)
    if shard is None:
        return []
    return [f"smokeproof: shard {shard}: this job runs its shard's checks (smokeproof report DIR... merges the shards)"]


def nothing_line(config: pytest.Config) -> str:
    state = config.stash[SHARD_KEY]
    tests = f"none of the {state.had} tests" if state.had else "none of the tests"
    return f"smokeproof: shard {state.shard} selects {tests}: nothing to check in this job (the other shards hold them)"
