"""Reading a database's catalog for the run and for the commands: the one place a read's failure gets its words.

:func:`smokeproof.database.catalog.read` is the driver-level read. Everything that reads a catalog
for a user (the run's schema, drift and Alembic checks, ``smokeproof snapshot``, ``baseline``,
``init``) goes through :func:`read_url` (or :func:`read_catalog`, for an environment's database or
one of its tenants), so every failure is a :class:`~smokeproof.errors.TargetError` whose message
names the database (its URL masked) and says what went wrong, redacted: the run turns it into a
failing verdict, the commands into one line and exit status 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from smokeproof.config.environment import Environment
from smokeproof.database.catalog import CatalogSnapshot, read
from smokeproof.errors import DatabaseError, DatabaseUnreachable, Unavailable, reason


async def read_url(
    url: str,
    *,
    schemas: Sequence[str],
    connect_timeout_s: float,
    statement_timeout_ms: int,
    where: str,
    redact: Callable[[str], str],
    omit: frozenset[str] = frozenset(),
) -> CatalogSnapshot:
    """One read-only snapshot of the database at ``url`` (``where`` names it in messages, ``redact`` scrubs them).

    Raises :class:`DatabaseUnreachable` (no connection: refused, timed out, authentication failed)
    or :class:`DatabaseError` (connected, but the read failed: a statement timeout, a catalog error).
    """
    import asyncpg  # with the catalog reader: only what reads a database loads the driver

    try:
        return await read(
            url, schemas=schemas, connect_timeout_s=connect_timeout_s, statement_timeout_ms=statement_timeout_ms, omit=omit
        )
    except DatabaseUnreachable as exc:
        raise DatabaseUnreachable(redact(f"target unreachable: database {where}: {exc}")) from None
    except asyncpg.QueryCanceledError:
        raise DatabaseError(
            redact(f"database {where}: the catalog read exceeded statement_timeout_ms = {statement_timeout_ms}")
        ) from None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(redact(f"database {where}: catalog read failed: {reason(exc)}")) from None


async def read_catalog(
    env: Environment, database: str | None = None, *, min_statement_timeout_ms: int = 0, omit: frozenset[str] = frozenset()
) -> CatalogSnapshot:
    """The catalog of the environment's ``database_url``, or of its tenant database ``database`` (``omit``: kinds not read).

    :class:`~smokeproof.errors.Unavailable` when the environment names no such database.
    """
    url = env.database_url if database is None else env.databases.get(database)
    if url is None:
        raise Unavailable(f"environment {env.name} has no database_url: schema checks need one")
    db = env.database
    return await read_url(
        url.reveal(),
        schemas=db.schemas,
        connect_timeout_s=db.connect_timeout_s,
        statement_timeout_ms=max(db.statement_timeout_ms, min_statement_timeout_ms),
        where=env.masked(url) if database is None else f"{database} ({env.masked(url)})",
        redact=env.redactor,
        omit=omit,
    )
