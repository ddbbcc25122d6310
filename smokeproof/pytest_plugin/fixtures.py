"""The fixture the thin tests use: ``smoke``, the run (its checks, and ``smoke.verify`` to assert on a verdict)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from smokeproof.config import targets
from smokeproof.config.environment import Environment
from smokeproof.database.schema_contract import SchemaContract
from smokeproof.http.contracts import EndpointContract
from smokeproof.http.lanes import Lanes
from smokeproof.reporting import allure_labels
from smokeproof.run import SmokeRun
from smokeproof.verdict import Verdict


@dataclass
class SmokeConfig:
    """What the plugin resolved at configure time."""

    env: Environment
    contracts: tuple[EndpointContract, ...]
    schema: SchemaContract
    expected_override: str | None
    deadline: float | None
    selected: tuple[EndpointContract, ...] = ()
    started: targets.StartedTarget | None = None
    run: PytestRun | None = None
    lanes: Lanes | None = None  # opened while pytest collects, handed to the run

    @property
    def database_revision(self) -> str | None:
        revisions = self.run.database_revisions if self.run is not None else None
        return ", ".join(revisions) if revisions else None

    @property
    def expected_revision(self) -> str | None:
        expected = self.run.expected if self.run is not None else None
        return ", ".join(expected.heads) if expected is not None and expected.heads else None


ENVIRONMENT_KEY = pytest.StashKey[SmokeConfig]()
VERDICT_KEY = pytest.StashKey[Verdict]()


@pytest.fixture(scope="session")
async def smoke(pytestconfig: pytest.Config) -> AsyncIterator[PytestRun]:
    """The run: starts the target first when the environment has a ``[start]`` table."""
    smoke_config = pytestconfig.stash[ENVIRONMENT_KEY]
    if smoke_config.run is None:  # not begun at collection: the target starts first, or no endpoint test was selected
        smoke_config.run = _new_run(smoke_config, _start_target(smoke_config))
    try:
        yield smoke_config.run
    finally:
        await smoke_config.run.aclose()
        if smoke_config.started is not None:
            smoke_config.started.stop()


def begin(smoke_config: SmokeConfig) -> None:
    """Send the selected contracts' requests now, at the end of collection, when the target needs no starting."""
    if smoke_config.run is None and smoke_config.env.start is None and smoke_config.selected:
        smoke_config.run = _new_run(smoke_config, smoke_config.env)


def _start_target(smoke_config: SmokeConfig) -> Environment:
    """The environment to run against: with the started target's URLs and tokens when it has a ``[start]`` table."""
    env = smoke_config.env
    if env.start is None:
        return env
    try:
        started = targets.start(env.start)
    except targets.TargetStartError as exc:
        pytest.fail(f"target unreachable: the start command failed: {env.redactor(str(exc))}", pytrace=False)
    smoke_config.started = started
    tokens = {name: started.env[key] for name, key in env.start.tokens.items() if key in started.env}
    env.redactor.add(*started.env.values())
    smoke_config.env = env.with_target(base_url=started.base_url, database_url=started.database_url, tokens=tokens)
    return smoke_config.env


def _new_run(smoke_config: SmokeConfig, env: Environment) -> PytestRun:
    run = PytestRun(
        env=env, contracts=smoke_config.contracts, expected_override=smoke_config.expected_override, lanes=smoke_config.lanes
    )
    run.select(smoke_config.selected)
    return run


class PytestRun(SmokeRun):
    """The run as tests see it: the checks, plus ``verify`` to assert on a verdict."""

    item: pytest.Item | None = None

    def verify(self, verdict: Verdict) -> None:
        """Record a verdict for the reports, then fail the test with its message if it failed."""
        __tracebackhide__ = True
        if self.item is not None:
            self.item.stash[VERDICT_KEY] = verdict
        allure_labels.record(verdict)
        if not verdict.ok:
            raise verdict.failure()
