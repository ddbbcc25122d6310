"""What the plugin needs before it knows whether the run asked for it: options, the ini switch, stash keys.

Installed in a virtualenv, the plugin is loaded by every pytest run there. This module (and the
hooks' module, which imports only it and the fixtures) imports nothing heavy, so a run that does not
ask for smokeproof pays almost nothing for it; the rest loads in ``pytest_configure`` once
:func:`requested` says yes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from smokeproof.config.names import ENV_VARIABLE, REVISION_VARIABLE, SHARD_VARIABLE, WAIT_VARIABLE

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession
    from smokeproof.verdict import Verdict

INI_SWITCH = "smokeproof"
VALUE_OPTIONS = {"--env": "--env=NAME", "--env-file": "--env-file=PATH"}

SESSION_KEY: pytest.StashKey[SmokeSession] = pytest.StashKey()
VERDICT_KEY: pytest.StashKey[Verdict] = pytest.StashKey()
FAULT_KEY: pytest.StashKey[bool] = pytest.StashKey()  # skipped for a fault of the target another check reports
# What the thin tests are parametrised by (the hooks fill them from the contract files).
PARAMETERS = frozenset({"endpoint", "fuzz_endpoint", "schema_object", "drift_object", "database", "certificate"})


def add_options(parser: pytest.Parser) -> None:
    """smokeproof's command-line options and its ini switch."""
    group = parser.getgroup("smokeproof", "smokeproof: post-deploy contract checks")
    group.addoption(
        "--env",
        dest="smoke_env",
        metavar="NAME",
        help=f"environment to check: environments/NAME.toml (default: ${ENV_VARIABLE}, else demo when the ini says smokeproof)",
    )
    group.addoption("--env-file", dest="smoke_env_file", metavar="PATH", help="environment file to check (any path)")
    group.addoption(
        "--expected-revision",
        dest="smoke_expected_revision",
        metavar="REV",
        help=f"the code's Alembic head(s), comma-separated (also ${REVISION_VARIABLE}); overrides the environment's [revision]",
    )
    group.addoption(
        "--smoke-timeout",
        dest="smoke_timeout",
        type=float,
        metavar="SECONDS",
        help="session-wide deadline: checks not started by then fail as timed out (one in flight is bounded by [http] timeout_s)",
    )
    group.addoption(
        "--allow-empty",
        dest="smoke_allow_empty",
        action="store_true",
        help="do not fail a run in which no check ran (all skipped or deselected)",
    )
    group.addoption(
        "--wait-for-revision",
        dest="smoke_wait_revision",
        metavar="REV",
        help=f"before any check, poll the deployed code until it reports REV on N answers in a row (also ${WAIT_VARIABLE}; "
        "[wait] in the environment sets where, how long, how often)",
    )
    group.addoption(
        "--fail-on-degraded",
        dest="smoke_fail_on_degraded",
        action="store_true",
        help="fail checks that pass but are degraded (slower than warn_ms, a certificate within [tls] warn_days)",
    )
    group.addoption(
        "--shard",
        dest="smoke_shard",
        metavar="K/N",
        help=f"check only shard K of N (also ${SHARD_VARIABLE}): a stable part of the checks, a database's together; "
        "smokeproof report DIR... merges the shards' reports",
    )
    parser.addini(INI_SWITCH, "run the smokeproof suite in this project (default: only when --env asks)", "bool")


# Markers of own checks (see smokeproof.pytest_plugin.own_checks), registered in every run.
MARKERS = (
    "allow_in_production: an own check may send methods other than GET, HEAD and OPTIONS to a production environment",
    "each_database: run the own check once per database (database_url and each of [databases]); smoke_db is that database",
)


def add_markers(config: pytest.Config) -> None:
    """Register the own checks' markers (``--strict-markers`` knows them)."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def requested(config: pytest.Config) -> bool:
    """Whether this pytest run asked for smokeproof at all (else the plugin stays inert)."""
    option = config.getoption
    if option("smoke_env") or option("smoke_env_file") or os.environ.get(ENV_VARIABLE):
        return True
    return bool(config.getini(INI_SWITCH))


def refuse_split_value(early_config: pytest.Config, args: list[str]) -> None:
    """Stop before collecting when ``--env-file PATH`` (a space) made pytest pick another rootdir or ini file.

    pytest picks its rootdir and ini file before plugins' options are known, so the value of
    ``--env-file PATH`` is taken for a test path there (``--env-file=PATH`` is not). When that
    changes nothing, the run goes on exactly as with ``=``; when it would change the rootdir, the
    ini file or the tests collected, the run stops here with the hint.
    """
    split = [arg for arg in args if arg in VALUE_OPTIONS]
    if not split:
        return
    from _pytest.config.findpaths import determine_setup  # pytest's own rule, applied to the right arguments

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
