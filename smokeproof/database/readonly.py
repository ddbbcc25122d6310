"""The own checks' database connection: read-only, on the test's event loop, with the catalog read's settings.

An own check's ``smoke_db`` is an ``asyncpg`` connection opened with
:func:`~smokeproof.database.catalog.connect_readonly`, as the catalog snapshot's is: every
transaction read-only (``default_transaction_read_only``), the statement, connect and idle timeouts
of ``[database]``, the search path of its ``schemas``. A write fails with PostgreSQL's own error
(``cannot execute INSERT in a read-only transaction``). A role that may only read is still the
production rule: a session setting can be changed by whoever holds the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smokeproof.config.databases import DEFAULT_NAME
from smokeproof.config.environment import Environment
from smokeproof.config.secrets import Secret
from smokeproof.database.catalog import connect_readonly
from smokeproof.errors import DatabaseUnreachable, Unavailable, reason

if TYPE_CHECKING:
    import asyncpg


def url_of(env: Environment, database: str | None) -> Secret:
    """The URL of ``database`` (a tenant's name; None: ``database_url``); :class:`Unavailable` where there is none."""
    if database is not None:
        return env.databases[database]
    if env.database_url is not None:
        return env.database_url
    if env.databases:
        names = ", ".join(env.databases)
        raise Unavailable(
            f"environment {env.name} has no database_url, only tenant databases ({names}): "
            "mark the test @pytest.mark.each_database to run it on each"
        )
    raise Unavailable(f"environment {env.name} has no database (database_url)")


async def connect(env: Environment, database: str | None) -> asyncpg.Connection:
    """A read-only connection to ``database``; :class:`DatabaseUnreachable` (its URL masked) when it cannot be opened."""
    import asyncpg

    url = url_of(env, database)
    settings = env.database
    try:
        return await connect_readonly(
            url.reveal(),
            connect_timeout_s=settings.connect_timeout_s,
            statement_timeout_ms=settings.statement_timeout_ms,
            search_path=settings.schemas,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        name = database or DEFAULT_NAME
        raise DatabaseUnreachable(
            env.redactor(f"target unreachable: database {name} ({env.masked(url)}): {reason(exc)}")
        ) from None
