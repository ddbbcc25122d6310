"""What the commands share: an environment named on the command line, and one read-only snapshot of its database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from smokeproof.config.environment import Environment, load, resolve_file
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.catalog_read import read_catalog
from smokeproof.errors import UsageError


def load_environment(*, name: str | None, file: str | None) -> Environment:
    """``--env NAME`` (``environments/NAME.toml`` under the current folder) or ``--env-file PATH``, validated."""
    env_name, path = resolve_file(rootdir=Path.cwd(), name=name, file=file)
    return load(path, name=env_name, rootdir=Path.cwd())


def read_database(env: Environment, *, min_statement_timeout_ms: int = 0) -> CatalogSnapshot:
    """One read-only catalog snapshot of the environment's database, for a command (a usage error when it names none).

    A database that cannot be read raises :class:`~smokeproof.errors.TargetError` with a one-line, redacted
    message (the command prints it and exits 1): the run's own reader, :func:`catalog_read.read_catalog`.
    """
    if env.database_url is None:
        raise UsageError(f"environment {env.name} has no database_url", file=env.file)
    return asyncio.run(read_catalog(env, min_statement_timeout_ms=min_statement_timeout_ms))
