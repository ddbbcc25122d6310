"""What the commands share: an environment named on the command line, and one read-only snapshot of its database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from smokeproof.config.environment import Environment, load, resolve_file
from smokeproof.database.catalog import CatalogSnapshot, read
from smokeproof.errors import UsageError


def load_environment(*, name: str | None, file: str | None) -> Environment:
    """``--env NAME`` (``environments/NAME.toml`` under the current folder) or ``--env-file PATH``, validated."""
    env_name, path = resolve_file(rootdir=Path.cwd(), name=name, file=file)
    return load(path, name=env_name, rootdir=Path.cwd())


def read_database(env: Environment, *, min_statement_timeout_ms: int = 0) -> CatalogSnapshot:
    """One read-only catalog snapshot of the environment's database (a usage error when it names none)."""
    if env.database_url is None:
        raise UsageError(f"environment {env.name} has no database_url", file=env.file)
    db = env.database
    return asyncio.run(
        read(
            env.database_url.reveal(),
            schemas=db.schemas,
            connect_timeout_s=db.connect_timeout_s,
            statement_timeout_ms=max(db.statement_timeout_ms, min_statement_timeout_ms),
        )
    )
