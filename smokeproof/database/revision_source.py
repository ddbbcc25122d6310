"""Where the code's expected Alembic head(s) come from.

First that is set wins: ``--expected-revision`` / ``SMOKEPROOF_EXPECTED_REVISION``, then the
environment's ``[revision] expected``, the code's history (``[revision] alembic_ini``, or
``migrations``: versions folders read statically), ``[revision] url`` + ``json_pointer`` (the
deployed app reports its head). The source travels with the answer: the report header says which
one was used. The history is read at configure time (:func:`load_history`), so a broken versions
folder stops the run before any check.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smokeproof import json_pointer
from smokeproof.config.environment import Environment

if TYPE_CHECKING:  # alembic (and SQLAlchemy under it) load only when a revision is resolved
    from smokeproof.database.migrations import MigrationHistory


@dataclass(frozen=True)
class ExpectedRevision:
    heads: tuple[str, ...]
    source: str
    history: MigrationHistory | None
    error: str | None = None


NO_SOURCE = "none configured"


def describe_source(env: Environment, override: str | None) -> str:
    """The source that will be used, without touching the network (for the report header)."""
    if override:
        return "--expected-revision / SMOKEPROOF_EXPECTED_REVISION"
    if env.revision.expected:
        return f"[revision] expected in {env.file.name}"
    if env.alembic_ini is not None:
        return f"Alembic configuration {env.alembic_ini}"
    if env.migrations:
        return f"versions folder {', '.join(str(folder) for folder in env.migrations)}"
    if env.revision.url:
        return f"{env.revision.url} at {env.revision.json_pointer}"
    return NO_SOURCE


def asks_the_code(env: Environment, override: str | None) -> bool:
    """Whether the expected revision is a request to the deployed code (``[revision] url``, no source before it set)."""
    return bool(env.revision.url) and not (override or env.revision.expected or env.alembic_ini is not None or env.migrations)


def configured(env: Environment, override: str | None) -> bool:
    """Whether the environment (or the command line) says where the code's revision comes from."""
    return describe_source(env, override) != NO_SOURCE


def split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(",", " ").split() if part.strip())


def load_history(env: Environment) -> MigrationHistory | None:
    """The code's Alembic history, when the environment names it; raises UsageError for a broken one."""
    if env.alembic_ini is None and not env.migrations:
        return None
    from smokeproof.database import alembic_config  # loads alembic: only environments with a history pay
    from smokeproof.database.migrations import read_history

    if env.alembic_ini is not None:
        locations = alembic_config.from_alembic_config(env.alembic_ini)
    else:
        locations = alembic_config.from_folders(env.migrations, recursive=env.revision.recursive)
    return read_history(locations, labels=env.revision.labels)


async def resolve(
    env: Environment,
    override: str | None,
    fetch_json: Callable[[str], Awaitable[object]],
    history: MigrationHistory | None = None,
) -> ExpectedRevision | None:
    """The expected head(s), or None when the environment configures no source.

    ``history`` is :func:`load_history`'s answer, read at configure time; None reads it now.
    """
    if history is None:
        history = load_history(env)
    source = describe_source(env, override)
    if override:
        return ExpectedRevision(split(override), source, history)
    if env.revision.expected:
        return ExpectedRevision(split(env.revision.expected), source, history)
    if history is not None:
        return ExpectedRevision(history.heads, source, history)
    if env.revision.url:
        try:
            document = await fetch_json(env.revision.url)
            value = json_pointer.resolve(document, env.revision.json_pointer)
        except (LookupError, ValueError) as exc:
            return ExpectedRevision((), source, None, error=str(exc))
        heads = split(value) if isinstance(value, str) else tuple(str(v) for v in value) if isinstance(value, list) else ()
        if not heads:
            return ExpectedRevision(
                (), source, None, error=f"{env.revision.json_pointer} holds {json.dumps(value)[:80]}, not a revision"
            )
        return ExpectedRevision(heads, source, None)
    return None
