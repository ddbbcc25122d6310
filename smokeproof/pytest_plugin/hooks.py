"""The pytest plugin: options, environment loading, parametrisation, safety nets.

Registered by the package's ``pytest11`` entry point and by the suite's ``conftest.py`` under the
same name, so it loads once. The checks themselves live in plain modules; this file only wires
them into pytest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from pathlib import Path

import pytest

from smokeproof.config.environment import ENV_VARIABLE, REVISION_VARIABLE, Environment, load, resolve_file
from smokeproof.database import revision_source
from smokeproof.database.schema_contract import load_schema_contract
from smokeproof.errors import SmokeFailure, UsageError
from smokeproof.http.contracts import EndpointContract, load_contracts
from smokeproof.http.lanes import Lanes
from smokeproof.pytest_plugin.fixtures import ENVIRONMENT_KEY, VERDICT_KEY, SmokeConfig, begin, smoke
from smokeproof.reporting.plugin import ReportingPlugin
from smokeproof.run import Unavailable

__all__ = ["smoke"]

RAN_KEY = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smokeproof", "smokeproof: post-deploy contract checks")
    group.addoption(
        "--env",
        dest="smoke_env",
        metavar="NAME",
        help=f"environment to check: environments/NAME.toml (default: ${ENV_VARIABLE} or demo)",
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


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[ENVIRONMENT_KEY] = _setup(config)
    except UsageError as exc:
        raise pytest.UsageError(exc.render()) from None
    config.stash[RAN_KEY] = []
    config.pluginmanager.register(ReportingPlugin(config, VERDICT_KEY, ENVIRONMENT_KEY), "smokeproof.reporting")


def _setup(config: pytest.Config) -> SmokeConfig:
    name = config.getoption("smoke_env")
    file = config.getoption("smoke_env_file")
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    if in_ci and not (name or file or os.environ.get(ENV_VARIABLE)):
        raise UsageError(
            "CI is set but no environment was named: pass --env NAME, --env-file PATH or set "
            f"{ENV_VARIABLE} (a post-deploy stage must not pass on the demo by default)"
        )
    rootdir = Path(config.rootpath)
    env_name, path = resolve_file(rootdir=rootdir, name=name, file=file)
    env = load(path, name=env_name, rootdir=rootdir)
    contracts = load_contracts(env.contracts, env_name=env.name, production=env.production, redactor=env.redactor)
    schema = load_schema_contract(env.schema)
    override = config.getoption("smoke_expected_revision") or os.environ.get(REVISION_VARIABLE)
    timeout = config.getoption("smoke_timeout")
    return SmokeConfig(
        env=env,
        contracts=contracts,
        schema=schema,
        expected_override=override,
        deadline=time.monotonic() + timeout if timeout else None,
    )


def _config(config: pytest.Config) -> SmokeConfig:
    return config.stash[ENVIRONMENT_KEY]


def pytest_report_header(config: pytest.Config) -> list[str]:
    smoke_config = _config(config)
    env: Environment = smoke_config.env
    lines = [env.header_line()]
    if env.production:
        lines.append("smokeproof: PRODUCTION: only GET, HEAD and OPTIONS are sent; database sessions are read-only")
    database = env.masked_database_url() if env.database_url else "(started by the run)" if env.start else "(none)"
    lines.append(f"smokeproof: database {database}")
    lines.append(
        f"smokeproof: expected Alembic revision from {revision_source.describe_source(env, smoke_config.expected_override)}"
    )
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    smoke_config = _config(metafunc.config)
    if "endpoint" in metafunc.fixturenames:
        contracts = smoke_config.contracts
        metafunc.parametrize("endpoint", contracts, ids=[c.test_id for c in contracts])
    if "fuzz_endpoint" in metafunc.fixturenames:
        fuzzable = [c for c in smoke_config.contracts if c.fuzzable] if smoke_config.env.fuzz.max_examples else []
        metafunc.parametrize("fuzz_endpoint", fuzzable, ids=[f"{c.id} rejects malformed credentials" for c in fuzzable])
    if "schema_object" in metafunc.fixturenames:
        entries = smoke_config.schema.entries
        metafunc.parametrize("schema_object", entries, ids=[e.id for e in entries])


def pytest_sessionstart(session: pytest.Session) -> None:
    smoke_config = _config(session.config)
    if smoke_config.contracts and not session.config.getoption("collectonly"):
        # The requests' thread and connections open while pytest collects, not after.
        smoke_config.lanes = Lanes(smoke_config.env.http)
        smoke_config.lanes.warm()


def pytest_collection_finish(session: pytest.Session) -> None:
    selected: list[EndpointContract] = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("endpoint"), EndpointContract):
            selected.append(callspec.params["endpoint"])
    smoke_config = _config(session.config)
    smoke_config.selected = tuple(selected)
    if smoke_config.lanes is not None:  # not --collect-only
        begin(smoke_config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    smoke_config = _config(item.config)
    deadline = smoke_config.deadline
    if smoke_config.run is not None:
        smoke_config.run.item = item
    if deadline is not None and time.monotonic() > deadline:
        pytest.fail(f"--smoke-timeout: the session deadline passed before {item.name} ran", pytrace=False)
    try:
        return (yield)
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    redact = _config(item.config).env.redactor
    if call.excinfo is not None and isinstance(call.excinfo.value, SmokeFailure) and report.failed:
        # The failure carries its own context: no traceback, no fixture reprs, no second look.
        report.longrepr = str(call.excinfo.value)
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redact(text) != text:
            report.longrepr = redact(text)
    report.sections = [(title, redact(body)) for title, body in report.sections]
    if (report.when == "call" and report.outcome in ("passed", "failed")) or (
        report.when == "setup" and report.outcome == "failed"
    ):
        item.config.stash[RAN_KEY].append(item.nodeid)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if ENVIRONMENT_KEY not in config.stash or config.getoption("smoke_allow_empty") or config.getoption("collectonly"):
        return
    if not config.stash[RAN_KEY] and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def pytest_unconfigure(config: pytest.Config) -> None:
    lanes = config.stash[ENVIRONMENT_KEY].lanes if ENVIRONMENT_KEY in config.stash else None
    if lanes is not None:
        lanes.close()  # after the session fixtures' teardown: a no-op when a test used them (the run closed them)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    if ENVIRONMENT_KEY not in config.stash or config.getoption("collectonly"):
        return
    interrupted = exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    if not config.stash[RAN_KEY] and not config.getoption("smoke_allow_empty") and not interrupted:
        terminalreporter.write_sep(
            "!",
            "smokeproof: NO CHECK RAN (all skipped or deselected): this run proves nothing; failing it (--allow-empty to accept)",
            red=True,
            bold=True,
        )
