"""An own check's verdict: what its row in the verification table says, whatever ended the check.

``smoke.check(title, expected=..., actual=...)`` makes one (:func:`check_verdict`); a plain
``assert`` gives its comparison's operands (kept by :class:`~smokeproof.pytest_plugin.own_checks.OwnChecksPlugin`
from ``pytest_assertrepr_compare``) or its message; an exception its kind, its first line and a
category (a missing table is "Missing schema objects", a 5xx "Server errors (5xx)"); a token that
could not be had "Authentication setup". The row is the test's (its name, ``@ eu`` on a tenant
database), the same whatever ended it, so the change column follows it from run to run.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from smokeproof.config.secrets import Redactor
from smokeproof.database import tenants
from smokeproof.errors import SmokeFailure, TargetUnreachable, reason
from smokeproof.verdict import Area, Category, Severity, Verdict

DATABASE = "smoke_database"  # the parameter @pytest.mark.each_database sets: the database's name (None: database_url)
CELL_CHARS = 200  # of an expected or actual value, in the verification table
DIFF_LINES = 20
UNDEFINED = frozenset({"42P01", "42703", "42704", "42883"})  # undefined table, column, object (a type), function
COMPARISON_KEY: pytest.StashKey[tuple[str, str, str]] = pytest.StashKey()  # (op, left, right) of the failing assert


def database_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    database = callspec.params.get(DATABASE) if callspec is not None else None
    return database if isinstance(database, str) else None


def check_name(item: pytest.Item) -> str:
    """The own check's row: ``test_flags`` (``test_flags @ eu`` on a tenant database)."""
    callspec = getattr(item, "callspec", None)
    only_database = callspec is not None and set(callspec.params) == {DATABASE}
    name = getattr(item, "originalname", item.name) if only_database else item.name
    return tenants.at(name, database_of(item))


def meaning(item: pytest.Item) -> str:
    """The test's docstring, first paragraph: what breaks in production when it fails."""
    doc = inspect.getdoc(getattr(item, "obj", None)) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _base(item: pytest.Item, redactor: Redactor, **fields: Any) -> Verdict:
    """An own check's verdict; its row is the test's (``check_name``), the same whatever ended it, so history follows it."""
    fields.setdefault("story", check_name(item))
    return Verdict(check=redactor(check_name(item)), area=Area.OWN, feature=item.path.stem, **fields)


# smoke.check ------------------------------------------------------------------------------------


def shown(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def cell(text: str, redactor: Redactor) -> str:
    return redactor.clip(text.replace("\n", " "), CELL_CHARS)


def difference(expected: object, actual: object) -> str:
    """What differs between two mappings or two collections, a line each; empty for anything else."""
    lines: list[str] = []
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        lines += [f"- missing: {k!r}: {expected[k]!r}" for k in expected if k not in actual]
        lines += [f"- unexpected: {k!r}: {actual[k]!r}" for k in actual if k not in expected]
        changed = [k for k in expected if k in actual and expected[k] != actual[k]]
        lines += [f"- {k!r}: expected {expected[k]!r}, got {actual[k]!r}" for k in changed]
    elif _collection(expected) and _collection(actual):
        want, got = list(expected), list(actual)  # type: ignore[call-overload]
        lines += [f"- missing: {x!r}" for x in want if x not in got]
        lines += [f"- unexpected: {x!r}" for x in got if x not in want]
        if not lines and want != got:
            lines.append("- the same items in another order")
    more = [f"... ({len(lines) - DIFF_LINES} more)"] if len(lines) > DIFF_LINES else []
    return "\n".join(lines[:DIFF_LINES] + more)


def _collection(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def _named(value: Any, kind: type[Category] | type[Severity]) -> Any:
    if value is None or isinstance(value, kind):
        return value
    for member in kind:
        if str(value).strip().lower() in (member.value.lower(), member.name.lower()):
            return member
    names = ", ".join(repr(m.value) for m in kind)
    raise ValueError(f"{value!r} is not a smokeproof {kind.__name__.lower()}: one of {names}")


def check_verdict(
    item: pytest.Item,
    redactor: Redactor,
    title: str,
    *,
    expected: object,
    actual: object,
    ok: bool | None,
    category: Category | str | None,
    severity: Severity | str | None,
) -> Verdict:
    """``smoke.check``'s verdict: ``ok`` defaults to ``actual == expected``; a failure is a contract mismatch unless told."""
    holds = bool(actual == expected) if ok is None else bool(ok)
    chosen = _named(category, Category)
    full_expected, full_actual = shown(expected), shown(actual)
    sections = (
        ("expected", redactor(full_expected)),
        ("actual", redactor(full_actual)),
        ("difference", redactor(difference(expected, actual))),
        ("what it means", meaning(item)),
    )
    expected_cell, actual_cell = cell(full_expected, redactor), cell(full_actual, redactor)
    return _base(
        item,
        redactor,
        expected=expected_cell,
        actual=actual_cell,
        ok=holds,
        headline=redactor(f"{tenants.at(title, database_of(item))}: expected {expected_cell}, got {actual_cell}"),
        story=redactor(title),
        sections=() if holds else sections,
        category=None if holds else chosen or Category.CONTRACT,
        severity=_named(severity, Severity) or Severity.NORMAL,
    )


# How an own check ended ------------------------------------------------------------------------


def passed_verdict(item: pytest.Item, redactor: Redactor) -> Verdict:
    return _base(item, redactor, expected="-", actual="passed", ok=True)


def exception_verdict(item: pytest.Item, exc: BaseException, redactor: Redactor) -> Verdict:
    """The row of an own check that ended with ``exc``: a plain assert's comparison or message, an exception's kind."""
    name = check_name(item)
    expected, category = "-", None
    if isinstance(exc, SmokeFailure):
        actual = exc.headline
    elif isinstance(exc, AssertionError):
        text = str(exc).strip()
        first = text.splitlines()[0] if text else "assert (no message)"
        comparison = item.stash.get(COMPARISON_KEY, None)
        actual = first  # the message given, or pytest's "assert 3 == 4"
        if comparison is not None:
            op, left, right = comparison
            expected = right if op == "==" else f"{op} {right}"
            actual = left if first.startswith("assert ") else first
    elif _status_error(exc):  # raise_for_status(): the status and the request, no link to MDN
        answer = exc.response  # type: ignore[attr-defined]
        expected, category = "2xx", category_of(exc)
        actual = f"{answer.status_code} {answer.reason_phrase}: {answer.request.method} {answer.request.url}"
    else:
        actual, category = reason(exc), category_of(exc)
    return _base(
        item,
        redactor,
        expected=cell(expected, redactor),
        actual=cell(actual, redactor),
        ok=False,
        headline=redactor(f"{name}: {actual}"),
        category=category,
    )


def category_of(exc: BaseException) -> Category | None:
    """The failure category of an exception an own check let through (asyncpg's, httpx's, the run's own)."""
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):  # asyncpg's PostgresError
        return Category.MISSING_SCHEMA if sqlstate in UNDEFINED else Category.DATABASE_ERROR
    if isinstance(exc, TargetUnreachable):
        return Category.UNREACHABLE
    if _status_error(exc):
        status = exc.response.status_code  # type: ignore[attr-defined]
        return Category.SERVER_ERROR if status >= 500 else Category.CONTRACT
    client = sys.modules.get("httpx")
    if client is not None and isinstance(exc, client.ConnectError | client.ConnectTimeout):
        return Category.UNREACHABLE
    if client is not None and isinstance(exc, client.TransportError):
        return Category.SERVER_ERROR
    return None


def _status_error(exc: BaseException) -> bool:
    client = sys.modules.get("httpx")  # not imported for a run that sends no request of its own
    return client is not None and isinstance(exc, client.HTTPStatusError)


def auth_setup(item: pytest.Item, redactor: Redactor, name: str, why: str) -> Verdict:
    check = check_name(item)
    return _base(
        item,
        redactor,
        expected=f"token '{name}'",
        actual="no token",
        ok=False,
        headline=redactor(f"{check}: not sent: {why}"),
        sections=(
            ("what it means", "the run could not authenticate, so nothing is known about what this check asks"),
            ("what to do", "check the credentials the environment gives (and the login or token endpoint's health)"),
        ),
        category=Category.AUTH_SETUP,
    )
