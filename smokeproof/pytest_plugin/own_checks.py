"""A team's own checks: the run's HTTP client, tokens and read-only database for tests written in Python.

The fixtures (:mod:`smokeproof.pytest_plugin.own_fixtures`) hand an own check what the built-in checks
use: ``smoke_http`` and ``smoke_auth("NAME")`` (:mod:`smokeproof.pytest_plugin.own_http`), ``smoke_db``
(:mod:`smokeproof.database.readonly`), ``smoke_env`` (what may be shown of the environment). This
module makes the last two, and :class:`OwnChecksPlugin` makes an own check report like a built-in one: every
own check ends with a :class:`~smokeproof.verdict.Verdict` (its ``smoke.check``, or one read from how
it ended: a plain ``assert``'s comparison or message, an exception's category), so its row in the
verification table says what was expected and what came instead, never a file and a line.

An own check is any test the built-in parameters do not drive (``endpoint``, ``schema_object``...).
They run as coroutines on pytest-asyncio's loop; the run's requests and catalog reads keep the run's
own loop (:mod:`smokeproof.loop_thread`): the client and the connection are made per test on the
test's loop, the concurrency bound and the tokens cross over as values.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from smokeproof.config.databases import DEFAULT_NAME
from smokeproof.config.environment import Environment
from smokeproof.errors import TargetUnreachable, Unavailable
from smokeproof.pytest_plugin.activation import PARAMETERS, SESSION_KEY, VERDICT_KEY
from smokeproof.pytest_plugin.own_verdicts import (
    CELL_CHARS,
    COMPARISON_KEY,
    DATABASE,
    exception_verdict,
    passed_verdict,
)
from smokeproof.reporting import allure_labels
from smokeproof.verdict import Verdict

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession

ALLOW_IN_PRODUCTION = "allow_in_production"
EACH_DATABASE = "each_database"


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


# The fixtures' makings -------------------------------------------------------------------------


def record_failure(item: pytest.Item, verdict: Verdict) -> NoReturn:
    """Keep ``verdict`` as the test's row and fail the test with it."""
    __tracebackhide__ = True
    item.stash[VERDICT_KEY] = verdict
    raise verdict.failure()


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
