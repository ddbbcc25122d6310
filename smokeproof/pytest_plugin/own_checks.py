"""A team's own checks: the run's HTTP client, tokens and read-only database for tests written in Python.

The fixtures (:mod:`smokeproof.pytest_plugin.own_fixtures`) hand an own check what the built-in checks
use: ``smoke_http`` (:mod:`smokeproof.http.safe_client`), ``smoke_auth("NAME")`` (the run's tokens,
obtained once per run on the run's loop and handed over by value), ``smoke_db``
(:mod:`smokeproof.database.readonly`), ``smoke_env`` (what may be shown of the environment). This
module makes them, and :class:`OwnChecksPlugin` makes an own check report like a built-in one: every
own check ends with a :class:`~smokeproof.verdict.Verdict` (its ``smoke.check``, or one read from how
it ended: a plain ``assert``'s comparison or message, an exception's category), so its row in the
verification table says what was expected and what came instead, never a file and a line.

An own check is any test the built-in parameters do not drive (``endpoint``, ``schema_object``...).
They run as coroutines on pytest-asyncio's loop; the run's requests and catalog reads keep the run's
own loop (:mod:`smokeproof.loop_thread`): the client and the connection are made per test on the
test's loop, the concurrency bound and the tokens cross over as values.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest

from smokeproof.config.databases import DEFAULT_NAME
from smokeproof.config.environment import Environment
from smokeproof.config.secrets import Redactor
from smokeproof.database import tenants
from smokeproof.errors import SmokeFailure, TargetUnreachable, Unavailable, reason
from smokeproof.http import judge, safe_client
from smokeproof.http.exchange import Exchange
from smokeproof.http.tokens import TokenUnavailable
from smokeproof.pytest_plugin.activation import PARAMETERS, SESSION_KEY, VERDICT_KEY
from smokeproof.reporting import allure_labels
from smokeproof.verdict import Area, Category, Severity, Verdict

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession

DATABASE = "smoke_database"  # the parameter @pytest.mark.each_database sets: the database's name (None: database_url)
ALLOW_IN_PRODUCTION = "allow_in_production"
EACH_DATABASE = "each_database"
CELL_CHARS = 200  # of an expected or actual value, in the verification table
DIFF_LINES = 20
UNDEFINED = frozenset({"42P01", "42703", "42704", "42883"})  # undefined table, column, object (a type), function
COMPARISON_KEY: pytest.StashKey[tuple[str, str, str]] = pytest.StashKey()  # (op, left, right) of the failing assert


@dataclass(frozen=True)
class SmokeEnv:
    """What an own check may know of the environment: no URL password, no token, no header value."""

    name: str
    target: str
    base_url: str | None
    production: bool
    databases: tuple[str, ...]  # tenant databases ([databases]), by name
    tokens: tuple[str, ...]  # the token names smoke_auth knows


def environment_view(env: Environment) -> SmokeEnv:
    tokens = env.tokens
    return SmokeEnv(
        name=env.name,
        target=env.target,
        base_url=env.redactor(env.base_url) if env.base_url else None,
        production=env.production,
        databases=tuple(env.databases),
        tokens=tuple(sorted({*tokens.static, *tokens.obtained})),
    )


def session_of(request: pytest.FixtureRequest) -> SmokeSession:
    return request.config.stash[SESSION_KEY]


def is_own(item: pytest.Item) -> bool:
    """A test the built-in parameters do not drive: a team's own check."""
    return not set(getattr(item, "fixturenames", ())) & PARAMETERS


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
    return isinstance(exc, httpx.HTTPStatusError)


# The fixtures' makings -------------------------------------------------------------------------


def record_failure(item: pytest.Item, verdict: Verdict) -> NoReturn:
    """Keep ``verdict`` as the test's row and fail the test with it."""
    __tracebackhide__ = True
    item.stash[VERDICT_KEY] = verdict
    raise verdict.failure()


class RunToken(httpx.Auth):
    """Sends the run's token NAME in its declared header and scheme (``smoke_auth("NAME")``)."""

    def __init__(self, name: str, header: str, scheme_of: Callable[[str], str], value: Callable[[], Awaitable[str]]) -> None:
        self.name = name
        self._header = header
        self._scheme_of = scheme_of
        self._value = value

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        request.headers[self._header] = self._scheme_of(await self._value())
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError(f"smoke_auth({self.name!r}) is for smoke_http (an async client): await smoke_http.get(..., auth=...)")

    def __repr__(self) -> str:
        return f"RunToken({self.name!r})"


def auth_for(request: pytest.FixtureRequest) -> Callable[[str], httpx.Auth]:
    """``smoke_auth``: NAME -> an ``httpx.Auth`` with the run's token NAME (unknown names fail the test, listing the known)."""
    session = session_of(request)
    item = request.node

    def auth(name: str) -> httpx.Auth:
        __tracebackhide__ = True
        env = session.env
        tokens = env.tokens
        if not tokens.declared(name):
            known = ", ".join(environment_view(env).tokens) or "none"
            why = f"smoke_auth({name!r}): environment {env.name} declares no token {name!r} (tokens: {known})"
            pytest.fail(why, pytrace=False)
        sent = tokens.how(name)

        async def value() -> str:
            if name in tokens.static:
                return tokens.static[name].reveal()
            run = session.run
            try:  # obtained once per run, on the run's loop, with the probes' timeouts and lanes
                return await asyncio.wrap_future(run.loop.submit(run.prober.tokens.get(name)))
            except TokenUnavailable as exc:
                record_failure(item, _auth_setup(item, env.redactor, name, str(exc)))

        return RunToken(name, sent.header, sent.value, value)

    return auth


def _auth_setup(item: pytest.Item, redactor: Redactor, name: str, why: str) -> Verdict:
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


def http_client(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """``smoke_http``: a client on the environment for this test, its exchanges attached to the test's Allure result."""
    session = session_of(request)
    run = session.run
    env = session.env
    listener = allure_labels.listener(request.config)

    def record(exchange: Exchange) -> None:
        attach(listener, exchange, env.redactor)

    return safe_client.client(
        env,
        allow_unsafe=request.node.get_closest_marker(ALLOW_IN_PRODUCTION) is not None,
        lanes=run.prober.lanes,
        record=record,
    )


def attach(listener: Any | None, exchange: Exchange, redactor: Redactor) -> None:
    """The exchange, rendered and redacted as the built-in checks' are, on the running test's Allure result."""
    allure_labels.attach(listener, f"{exchange.method} {redactor(exchange.url)}", judge.render_exchange(exchange, redactor))


async def open_database(request: pytest.FixtureRequest, database: str | None) -> Any:
    """``smoke_db``: the read-only connection (skipped without a database; unreachable: the test fails, URL masked)."""
    from smokeproof.database import readonly

    env = session_of(request).env
    try:
        return await readonly.connect(env, database)
    except Unavailable as exc:
        pytest.skip(str(exc))
    except TargetUnreachable as exc:
        pytest.fail(str(exc), pytrace=False)


# The plugin ------------------------------------------------------------------------------------


class OwnChecksPlugin:
    """Own checks in the run: per-database parametrisation, their rows, pytest-base-url's ``base_url``."""

    def __init__(self, session: SmokeSession) -> None:
        self.session = session

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """``@pytest.mark.each_database``: once per database, ids ``database_url``, ``eu``... (a run without tenants: once)."""
        if metafunc.definition.get_closest_marker(EACH_DATABASE) is None or DATABASE not in metafunc.fixturenames:
            return
        env = self.session.settings.env
        if env.databases:
            names = [None] * (env.database_url is not None or env.start is not None) + list(env.databases)
            metafunc.parametrize(DATABASE, names, ids=[name or DEFAULT_NAME for name in names])

    @pytest.hookimpl(trylast=True)  # after the run started its target: base_url is known
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """pytest-base-url's ``base_url`` (pytest-playwright's too) is the environment's."""
        base_url = self.session.env.base_url
        if base_url and hasattr(session.config.option, "base_url"):
            session.config.option.base_url = base_url

    def pytest_report_collectionfinish(self, config: pytest.Config, items: list[pytest.Item]) -> list[str]:
        """The header's "not checked here": own checks that need a database the environment does not have."""
        env = self.session.settings.env
        if env.database_url is not None or env.databases or env.start is not None:
            return []
        needing = sum(1 for item in items if "smoke_db" in getattr(item, "fixturenames", ()))
        if not needing:
            return []
        checks = "1 own check that needs" if needing == 1 else f"{needing} own checks that need"
        return [f"smokeproof: not checked here: {checks} a database (no database_url)"]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        """After an own check: its row (its verdict, or one read from how it ended) and its Allure labels."""
        if not is_own(item):
            return (yield)
        redactor = self.session.env.redactor
        try:
            result = yield
        except Unavailable:
            raise
        except Exception as exc:
            verdict = item.stash.get(VERDICT_KEY, None)
            if verdict is None or verdict.ok:
                item.stash[VERDICT_KEY] = exception_verdict(item, exc, redactor)
            self._label(item)
            raise
        if VERDICT_KEY not in item.stash:
            item.stash[VERDICT_KEY] = passed_verdict(item, redactor)
        self._label(item)
        return result

    def pytest_assertrepr_compare(self, config: pytest.Config, op: str, left: object, right: object) -> None:
        """A failing assert's operands, for the own check's row (pytest still writes its own explanation)."""
        item = self.session.current
        if item is not None and is_own(item):
            item.stash[COMPARISON_KEY] = (op, _repr(left), _repr(right))

    def _label(self, item: pytest.Item) -> None:
        allure_labels.record(allure_labels.listener(item.config), item.stash[VERDICT_KEY])


def _repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        return f"<{type(value).__name__}: repr failed ({exc.__class__.__name__})>"
    return text if len(text) <= CELL_CHARS * 4 else text[: CELL_CHARS * 4] + "..."
