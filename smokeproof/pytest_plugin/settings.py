"""What a run is asked to do, resolved once at configure time and frozen.

Read only once the run asked for smokeproof (:mod:`smokeproof.pytest_plugin.activation`): the
environment file, its contract files and the expected-revision
override are read and validated here, before anything touches the network: bad input is a
:class:`~smokeproof.errors.UsageError` (exit status 4).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smokeproof.config import given, known_issues
from smokeproof.config.environment import ENV_VARIABLE, REVISION_VARIABLE, Environment, load, resolve_file
from smokeproof.database import drift
from smokeproof.database.revision_source import load_history
from smokeproof.database.schema_contract import SchemaContract, load_schema_contract
from smokeproof.errors import UsageError
from smokeproof.http.contracts import EndpointContract, load_contracts, refuse_warn_at_budget

if TYPE_CHECKING:
    from smokeproof.database.migrations import MigrationHistory


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The run's settings: the environment and its contracts, validated; never changed once made."""

    env: Environment
    contracts: tuple[EndpointContract, ...]
    schema: SchemaContract
    expected_override: str | None
    deadline: float | None  # time.monotonic() after which checks not yet started fail
    allow_empty: bool
    history: MigrationHistory | None = None  # the code's Alembic history, when the environment names it
    drift: tuple[drift.DriftObject, ...] = ()  # [drift]: one check per object of the baseline
    known: known_issues.KnownIssues = field(
        default_factory=known_issues.KnownIssues
    )  # known_issues: failures that do not fail the run
    fail_on_degraded: bool = False  # --fail-on-degraded: a degraded check fails

    def absent(self) -> list[str]:
        """The parts this environment does not have, for the report header."""
        env = self.env
        parts = [] if env.contracts is not None else ["endpoint contracts (no contracts file)"]
        if env.contracts is not None and not self.contracts:
            parts.append(f"endpoint contracts (no entry in {env.contracts.name}: add [[endpoint]] entries)")
        if env.schema is None:
            parts.append("schema contracts (no schema file)")
        if env.database_url is None and not env.databases and env.start is None:
            parts.append("database checks (no database_url)")
        return parts


def resolve(config: pytest.Config) -> Settings:
    """Read and validate what the command line, the environment file and its contract files ask for."""
    name = config.getoption("smoke_env")
    file = config.getoption("smoke_env_file")
    if _in_ci() and not (name or file or os.environ.get(ENV_VARIABLE)):
        raise UsageError(
            "CI is set but no environment was named: pass --env NAME, --env-file PATH or set "
            f"{ENV_VARIABLE} (a post-deploy stage must not pass on the demo by default)"
        )
    rootdir = Path(config.rootpath)
    env_name, path = resolve_file(rootdir=rootdir, name=name, file=file)
    env = load(path, name=env_name, rootdir=rootdir)
    contracts = (
        load_contracts(env.contracts, env_name=env.name, production=env.production, redactor=env.redactor)
        if env.contracts is not None
        else ()
    )
    if env.contracts is not None:
        refuse_warn_at_budget(contracts, max_ms=env.http.max_ms, file=env.contracts)
    timeout = config.getoption("smoke_timeout")
    return Settings(
        env=env,
        contracts=contracts,
        schema=load_schema_contract(env.schema) if env.schema is not None else SchemaContract(),
        expected_override=given.revision(
            config.getoption("smoke_expected_revision"), flag="--expected-revision", variable=REVISION_VARIABLE
        ),
        deadline=time.monotonic() + timeout if timeout else None,
        allow_empty=bool(config.getoption("smoke_allow_empty")),
        history=load_history(env),  # a broken versions folder stops the run here, before any check
        drift=drift.objects(drift.load_settings(env.drift, schemas=env.database.schemas)) if env.drift else (),
        known=known_issues.load(env.known_issues, production=env.production, strict=env.strict_known),
        fail_on_degraded=bool(config.getoption("smoke_fail_on_degraded")),
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
