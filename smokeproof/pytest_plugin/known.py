"""Known issues applied to the run's reports, as pytest's own ``xfail`` applies to a marked test.

Decided in ``pytest_runtest_makereport`` on the report of the process where the test ran (under
pytest-xdist, a worker), so the decision travels with the report to whoever writes the table and
the exit status:

- a check an entry covers that fails, while the entry holds: ``xfail`` (``wasxfail = "known
  (OPS-412) ..."``): the run exits 0, ``-ra`` prints ``XFAIL``, JUnit records a skip with the reason,
  the table reads ``known (OPS-412)`` and the Allure result is a failure marked known;
- the same after its ``until``: a failure whose message starts with why the entry no longer excuses it;
- a check an entry covers that passes: ``fixed: remove the known-issue entry``, as an ``XPASS``;
  with ``strict_known = true`` the run fails (as pytest's strict xfail), so the entry goes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

import pytest

from smokeproof.config.known_issues import KnownIssue, KnownIssues
from smokeproof.database import tenants
from smokeproof.pytest_plugin.activation import VERDICT_KEY
from smokeproof.reporting import allure_labels

KNOWN = "smokeproof_known"  # on a report: the ticket whose entry excused its failure
NOTE = "smokeproof_note"  # on a report: what the table adds to its status (fixed, expired)
FIXED = "fixed: remove the known-issue entry"
SCHEMA_PARAMETERS = ("schema_object", "drift_object")


def check_names(item: pytest.Item, title: str | None = None) -> tuple[str, ...]:
    """What an entry's ``check`` may name: the test id as the run prints it, and the check's title."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    names = [item.name]
    if callspec is not None and "database" not in params:
        names.append(callspec.id)
    if "database" in getattr(item, "fixturenames", ()) and not any(p in params for p in SCHEMA_PARAMETERS):
        names.append(tenants.at("alembic revision", params.get("database")))  # the Alembic check's title
    if title:
        names.append(title)
    return tuple(dict.fromkeys(names))


def refuse_unmatched(known: KnownIssues, items: Iterable[pytest.Item], also: Iterable[str] = ()) -> None:
    """Exit 4 when an entry covers no collected check (``also``: ids the suite has beyond the collected ones)."""
    if not known.entries:
        return
    names = [name for item in items for name in check_names(item)]
    known.refuse_unmatched([*names, *also])


def apply(item: pytest.Item, report: pytest.TestReport, known: KnownIssues, *, redact: Callable[[str], str]) -> None:
    """Settle the report (:func:`settle`) and say the same in the test's Allure result."""
    verdict = item.stash.get(VERDICT_KEY, None)
    excused = settle(item, report, known, title=verdict.check if verdict else None, redact=redact)
    if excused is not None:
        allure_labels.mark_known(allure_labels.listener(item.config), excused.ticket, excused.issue)
    elif report.failed and hasattr(report, NOTE):  # expired, or fixed under strict_known: the message says so first
        allure_labels.note(allure_labels.listener(item.config), str(report.longrepr).splitlines()[0])


def settle(
    item: pytest.Item,
    report: pytest.TestReport,
    known: KnownIssues,
    *,
    title: str | None,
    redact: Callable[[str], str],
    today: datetime.date | None = None,
) -> KnownIssue | None:
    """Turn the call phase's report into what the known-issue entry covering the check says it is.

    Returns the entry when it excused a failure (the caller marks the Allure result known).
    """
    if report.when != "call" or not known.entries or report.skipped:
        return None
    entry = known.find(check_names(item, title))
    if entry is None:
        return None
    today = today or datetime.date.today()
    if report.failed:
        if entry.expired(today):
            setattr(report, NOTE, f"known-issue entry {entry.ticket} expired on {entry.until}")
            report.longrepr = f"{_expired(entry)}\n{report.longrepr}"
            return None
        first = str(report.longrepr).strip().splitlines()
        report.outcome = "skipped"
        report.wasxfail = redact(f"{_known(entry)}: {first[0] if first else 'failed'}")
        setattr(report, KNOWN, entry.ticket)
        return entry
    note = f"{FIXED} ({entry.ticket})"
    setattr(report, NOTE, note)
    if known.strict:
        report.outcome = "failed"
        report.longrepr = (
            f"[XPASS(strict)] {title or item.name}: {note}\n"
            f"  the check passes, but {known.file} still excuses it ({entry.where}, {entry.issue}); strict_known = true "
            "fails the run until the entry goes"
        )
    else:
        report.wasxfail = f"{note} ({entry.where} in {known.file})"
    return None


def row_note(report: pytest.TestReport) -> str:
    """What the verification table adds to the check's status: ``(OPS-412)``, ``fixed: ...``, an expiry."""
    ticket = getattr(report, KNOWN, None)
    return f"({ticket})" if ticket else str(getattr(report, NOTE, ""))


def _known(entry: KnownIssue) -> str:
    until = f" until {entry.until}" if entry.until else ""
    return f"known ({entry.ticket}){until}"


def _expired(entry: KnownIssue) -> str:
    return (
        f"known issue {entry.ticket} ({entry.issue}) expired on {entry.until}: this failure fails the run again "
        "(fix it, or renew the entry's 'until' if the fix is planned)"
    )
