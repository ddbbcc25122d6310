"""Around each test: the session deadline, a rolling deploy that did not converge, skips that stay faults, and
reports with their secrets masked.

Two of the plugin's hooks (handed on by :mod:`smokeproof.pytest_plugin.hooks`): they run for every
phase of every test, so they only read what the session already holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

import pytest

from smokeproof.errors import ReportedElsewhere, SmokeFailure, Unavailable
from smokeproof.pytest_plugin.activation import FAULT_KEY, SESSION_KEY


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Around each test: fail it if the session deadline passed; a check that cannot run here is a skip.

    The test is the session's ``current`` while it runs: ``smoke.verify`` records its verdict there.
    """
    if SESSION_KEY not in item.config.stash:
        return (yield)
    session = item.config.stash[SESSION_KEY]
    deadline = session.settings.deadline
    if deadline is not None and time.monotonic() > deadline:
        pytest.fail(f"--smoke-timeout: the session deadline passed before {item.name} ran", pytrace=False)
    from smokeproof.pytest_plugin import waiting

    not_converged = waiting.failure(item.config)
    if not_converged is not None:
        pytest.fail(not_converged, pytrace=False)
    session.current = item
    try:
        return (yield)
    except Unavailable as exc:
        if isinstance(exc, ReportedElsewhere):  # a skip, but a fault of the target all the same
            item.stash[FAULT_KEY] = True
        pytest.skip(str(exc))
    finally:
        session.current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """After each phase: a failure is its own message (no traceback), every section redacted (checks that ran are
    counted where their report arrives: :meth:`ReportingPlugin.pytest_runtest_logreport`, here or on xdist's controller)."""
    report = yield
    if SESSION_KEY not in item.config.stash:
        return report
    session = item.config.stash[SESSION_KEY]
    redact = session.env.redactor
    if call.excinfo is not None and isinstance(call.excinfo.value, SmokeFailure) and report.failed:
        report.longrepr = str(call.excinfo.value)
    if session.settings.known.entries:  # known issues: decided here, where the test ran, and carried by the report
        from smokeproof.pytest_plugin import known

        known.apply(item, report, session.settings.known, redact=redact)
    if report.longrepr is not None:
        report.longrepr = _redacted(report.longrepr, redact)
    report.sections = [(title, redact(body)) for title, body in report.sections]
    return report


def _redacted(longrepr: object, redact: Callable[[str], str]) -> Any:
    """``longrepr`` with every secret masked, of the type pytest expects: a skip's stays a (path, line, reason) tuple."""
    if isinstance(longrepr, tuple):  # pytest's JUnit writer and -ra summary unpack it: a string there is an INTERNALERROR
        return tuple(redact(part) if isinstance(part, str) else part for part in longrepr)
    text = str(longrepr)
    clean = redact(text)
    return longrepr if clean == text else clean
