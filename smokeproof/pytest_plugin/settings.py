"""What a run is asked to do, resolved once at configure time and frozen.

The plugin is inert until asked: installed in a virtualenv, it changes nothing in a pytest run
unless ``--env``, ``--env-file``, ``$SMOKEPROOF_ENV`` or the suite's ini (``smokeproof = true``)
asks for it. When asked, the environment file, its contract files and the expected-revision
override are read and validated here, before anything touches the network: bad input is a
:class:`~smokeproof.errors.UsageError` (exit status 4).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smokeproof.config.environment import ENV_VARIABLE, REVISION_VARIABLE, Environment, load, resolve_file
from smokeproof.database import drift
from smokeproof.database.revision_source import load_history
from smokeproof.database.schema_contract import SchemaContract, load_schema_contract
from smokeproof.errors import UsageError
from smokeproof.http.contracts import EndpointContract, load_contracts

if TYPE_CHECKING:
    from smokeproof.database.migrations import MigrationHistory

INI_SWITCH = "smokeproof"
VALUE_OPTIONS = {"--env": "--env=NAME", "--env-file": "--env-file=PATH"}


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

    def absent(self) -> list[str]:
        """The parts this environment does not have, for the report header."""
        env = self.env
        parts = [] if env.contracts is not None else ["endpoint contracts (no contracts file)"]
        if env.schema is None:
            parts.append("schema contracts (no schema file)")
        if env.database_url is None and not env.databases and env.start is None:
            parts.append("database checks (no database_url)")
        return parts


def requested(config: pytest.Config) -> bool:
    """Whether this pytest run asked for smokeproof at all (else the plugin stays inert)."""
    option = config.getoption
    if option("smoke_env") or option("smoke_env_file") or os.environ.get(ENV_VARIABLE):
        return True
    return bool(config.getini(INI_SWITCH))


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
    timeout = config.getoption("smoke_timeout")
    return Settings(
        env=env,
        contracts=contracts,
        schema=load_schema_contract(env.schema) if env.schema is not None else SchemaContract(),
        expected_override=config.getoption("smoke_expected_revision") or os.environ.get(REVISION_VARIABLE),
        deadline=time.monotonic() + timeout if timeout else None,
        allow_empty=bool(config.getoption("smoke_allow_empty")),
        history=load_history(env),  # a broken versions folder stops the run here, before any check
        drift=drift.objects(drift.load_settings(env.drift, schemas=env.database.schemas)) if env.drift else (),
    )


def refuse_split_value(early_config: pytest.Config, args: list[str]) -> None:
    """Stop before collecting when ``--env-file PATH`` (a space) made pytest pick another rootdir or ini file.

    pytest picks its rootdir and ini file before plugins' options are known, so the value of
    ``--env-file PATH`` is taken for a test path there (``--env-file=PATH`` is not). When that
    changes nothing, the run goes on exactly as with ``=``; when it would change the rootdir, the
    ini file or the tests collected, the run stops here with the hint.
    """
    from _pytest.config.findpaths import determine_setup  # pytest's own rule, applied to the right arguments

    split = [arg for arg in args if arg in VALUE_OPTIONS]
    if not split:
        return
    namespace = early_config.known_args_namespace
    rootpath, inipath, *_ = determine_setup(
        inifile=namespace.inifilename,
        override_ini=namespace.override_ini,
        args=namespace.file_or_dir,
        rootdir_cmd_arg=namespace.rootdir or None,
        invocation_dir=early_config.invocation_params.dir,
    )
    if (rootpath, inipath) != (early_config.rootpath, early_config.inipath):
        hints = " / ".join(f"{VALUE_OPTIONS[arg]}" for arg in dict.fromkeys(split))
        raise pytest.UsageError(
            f"smokeproof: write {hints} (with '='): with a space, pytest took the value for a test path and chose "
            f"{early_config.inipath or early_config.rootpath} instead of {inipath or rootpath}"
        )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
