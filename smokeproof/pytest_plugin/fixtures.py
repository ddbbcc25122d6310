"""The fixture the thin tests use: ``smoke``, the run's checks, and ``verify``, which records a verdict.

``smoke`` is session-scoped: it is the same run for every test, so there is nothing to set up or
tear down per test (a function-scoped fixture cost each of 1,000 endpoint tests a set-up, a
finalizer and an Allure container, about a fifth of its time). ``verify`` finds the test it
belongs to through :attr:`SmokeSession.current <smokeproof.pytest_plugin.session.SmokeSession.current>`,
which the plugin sets around each test's call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.pytest_plugin.activation import SESSION_KEY, VERDICT_KEY
from smokeproof.reporting import allure_labels
from smokeproof.verdict import Category, Severity, Verdict

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession


class Checks:
    """The run as the tests see it: every check of :class:`~smokeproof.run.SmokeRun`, plus ``verify`` and ``check``."""

    def __init__(self, session: SmokeSession, config: pytest.Config) -> None:
        self._session = session
        self._run = session.run  # fails the asking test when the target could not be started
        self._allure = allure_labels.listener(config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._run, name)

    def verify(self, verdict: Verdict) -> None:
        """Record a verdict for the reports, then fail the test with its message if it failed (or is degraded and
        the run says ``--fail-on-degraded``)."""
        __tracebackhide__ = True
        item = self._session.current
        if item is not None:
            item.stash[VERDICT_KEY] = verdict
        failing = not verdict.ok or bool(verdict.degraded and self._session.settings.fail_on_degraded)
        allure_labels.record(self._allure, verdict, failing=failing)
        if failing:
            raise verdict.failure()

    def check(
        self,
        title: str,
        *,
        expected: object,
        actual: object,
        ok: bool | None = None,
        category: Category | str | None = None,
        severity: Severity | str | None = None,
    ) -> None:
        """Record an own check's verdict (``ok`` defaults to ``actual == expected``); fail the test if it does not hold."""
        __tracebackhide__ = True
        from smokeproof.pytest_plugin import own_verdicts

        item = self._session.current
        if item is None:
            raise RuntimeError("smoke.check is called from a test's body")
        verdict = own_verdicts.check_verdict(
            item, self._session.env.redactor, title, expected=expected, actual=actual, ok=ok, category=category, severity=severity
        )
        item.stash[VERDICT_KEY] = verdict  # labelled for Allure once the test ends (the last check is its row)
        if not verdict.ok:
            raise verdict.failure()


@pytest.fixture
def database() -> str | None:
    """The database a per-database check runs on: the environment's ``database_url`` unless parametrised by tenant."""
    return None


@pytest.fixture(scope="session")
def smoke(request: pytest.FixtureRequest) -> Checks:
    """The run's checks: ``smoke.wait_endpoint(...)``, ``await smoke.alignment()``, ``smoke.verify(...)``."""
    if SESSION_KEY not in request.config.stash:
        pytest.fail("smokeproof is not active in this run: pass --env NAME or --env-file=PATH", pytrace=False)
    return Checks(request.config.stash[SESSION_KEY], request.config)
