"""The fixture the thin tests use: ``smoke``, the run's checks bound to the test that asks for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.pytest_plugin.activation import SESSION_KEY, VERDICT_KEY
from smokeproof.reporting import allure_labels
from smokeproof.verdict import Verdict

if TYPE_CHECKING:
    from smokeproof.run import SmokeRun


class Checks:
    """The run as one test sees it: every check of :class:`~smokeproof.run.SmokeRun`, plus ``verify``."""

    def __init__(self, run: SmokeRun, item: pytest.Item) -> None:
        self._run = run
        self._item = item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._run, name)

    def verify(self, verdict: Verdict) -> None:
        """Record a verdict for the reports, then fail the test with its message if it failed."""
        __tracebackhide__ = True
        self._item.stash[VERDICT_KEY] = verdict
        allure_labels.record(verdict)
        if not verdict.ok:
            raise verdict.failure()


@pytest.fixture
def database() -> str | None:
    """The database a per-database check runs on: the environment's ``database_url`` unless parametrised by tenant."""
    return None


@pytest.fixture
def smoke(request: pytest.FixtureRequest) -> Checks:
    """The run's checks for this test: ``smoke.wait_endpoint(...)``, ``await smoke.alignment()``, ``smoke.verify(...)``."""
    if SESSION_KEY not in request.config.stash:
        pytest.fail("smokeproof is not active in this run: pass --env NAME or --env-file=PATH", pytrace=False)
    return Checks(request.config.stash[SESSION_KEY].run, request.node)
