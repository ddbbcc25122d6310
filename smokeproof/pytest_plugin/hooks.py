"""The pytest hooks: options, settings, parametrisation, the run's lifecycle and the safety nets.

Loaded through :mod:`smokeproof.plugin` (the ``pytest11`` entry point and the suite's
``conftest.py``). Every hook but the option and ini registration does nothing unless the run asked
for smokeproof (:func:`smokeproof.pytest_plugin.activation.requested`): installed in a virtualenv,
the plugin leaves other projects' test runs as they are. The hooks follow the run's order.
"""

from __future__ import annotations

from typing import Any

import pytest

from smokeproof.pytest_plugin import activation
from smokeproof.pytest_plugin.activation import PARAMETERS, SESSION_KEY, VERDICT_KEY
from smokeproof.pytest_plugin.fixtures import database, smoke
from smokeproof.pytest_plugin.own_fixtures import smoke_auth, smoke_database, smoke_db, smoke_env, smoke_http
from smokeproof.pytest_plugin.runtest import pytest_runtest_call, pytest_runtest_makereport

# Everything else is imported inside the hooks, once the run has asked for smokeproof: installed in a
# virtualenv, the plugin is loaded by every pytest run there, and an inert one must cost almost nothing.

__all__ = [  # what smokeproof.plugin, the entry point, hands pytest
    "database",
    "pytest_addoption",
    "pytest_cmdline_main",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_deselected",
    "pytest_generate_tests",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "smoke",
    "smoke_auth",
    "smoke_database",
    "smoke_db",
    "smoke_env",
    "smoke_http",
]

REPORTING = "smokeproof.reporting"
OWN_CHECKS = "smokeproof.own_checks"
EMPTY_SET = "got empty parameter set"  # pytest's reason on the one item it makes for an empty parametrisation


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register smokeproof's command-line options and its ini switch (at start-up, before anything else)."""
    activation.add_options(parser)


def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """Before conftests load: refuse ``--env-file PATH`` (a space) where it made pytest read another ini file."""
    activation.refuse_split_value(early_config, args)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Before any plugin configures: an xdist worker leaves ``--clean-alluredir`` to the controller."""
    if hasattr(config, "workerinput"):
        from smokeproof.pytest_plugin import xdist

        xdist.before_configure(config)


def pytest_configure(config: pytest.Config) -> None:
    """Resolve and freeze the settings, own the run's session and register the reporting and own-check plugins (once per run)."""
    activation.add_markers(config)  # also when inert: a suite with own checks keeps --strict-markers
    if not activation.requested(config):
        return
    from smokeproof.errors import UsageError
    from smokeproof.pytest_plugin import settings as settings_module
    from smokeproof.pytest_plugin import shards, waiting, xdist
    from smokeproof.pytest_plugin.own_checks import OwnChecksPlugin
    from smokeproof.pytest_plugin.reporting import ReportingPlugin
    from smokeproof.pytest_plugin.session import SmokeSession

    try:
        settings = settings_module.resolve(config)
        waiting.configure(config, settings.env)
        shards.configure(config)
    except UsageError as exc:
        raise pytest.UsageError(exc.render()) from None
    session = config.stash[SESSION_KEY] = SmokeSession(settings)
    from smokeproof.kinds import MARKERS  # a pytest.ini written before a marker existed still runs its tests

    for marker, text in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    config.pluginmanager.register(ReportingPlugin(config, session, VERDICT_KEY), REPORTING)
    config.pluginmanager.register(OwnChecksPlugin(session), OWN_CHECKS)
    xdist.register(config, session)  # -n N: the controller's or a worker's side (nothing in a plain run)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The header: which environment, at which URL, whether it is production, and what it lacks."""
    if SESSION_KEY not in config.stash:
        return []
    from smokeproof.pytest_plugin import shards, waiting
    from smokeproof.pytest_plugin.header import header_lines

    settings = config.stash[SESSION_KEY].settings
    return header_lines(settings) + waiting.header_lines(config, settings.env) + shards.header_lines(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Open the probes' connections while pytest collects (not for ``--collect-only``, nor on an xdist controller)."""
    if SESSION_KEY in session.config.stash and not session.config.getoption("collectonly"):
        from smokeproof.pytest_plugin import xdist

        if not xdist.is_controller(session.config):
            session.config.stash[SESSION_KEY].warm()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the thin tests by the contract files' entries, one test per entry, ids read as the contract."""
    if SESSION_KEY not in metafunc.config.stash:
        return
    from smokeproof.config.databases import DEFAULT_NAME
    from smokeproof.database import tenants

    settings = metafunc.config.stash[SESSION_KEY].settings
    if "endpoint" in metafunc.fixturenames:
        contracts = settings.contracts
        metafunc.parametrize("endpoint", contracts, ids=[c.test_id for c in contracts])
    if "fuzz_endpoint" in metafunc.fixturenames:
        fuzzable = [c for c in settings.contracts if c.fuzzable] if settings.env.fuzz.max_examples else []
        metafunc.parametrize("fuzz_endpoint", fuzzable, ids=[f"{c.id} rejects malformed credentials" for c in fuzzable])
    if "schema_object" in metafunc.fixturenames:
        targets = tenants.schema_targets(settings.schema.entries, settings.env)
        metafunc.parametrize("schema_object", targets, ids=[t.id for t in targets])
    if "drift_object" in metafunc.fixturenames:
        drifts = tenants.schema_targets(settings.drift, settings.env)
        metafunc.parametrize("drift_object", drifts, ids=[t.id for t in drifts])
    if "certificate" in metafunc.fixturenames:
        from smokeproof.http import certificates

        hosts = certificates.targets(settings.env)
        metafunc.parametrize("certificate", hosts, ids=[h.id for h in hosts])
    if "database" in metafunc.fixturenames and settings.env.databases:  # else the fixture: database_url
        names = [None] * (settings.env.database_url is not None) + list(settings.env.databases)
        metafunc.parametrize("database", names, ids=[name or DEFAULT_NAME for name in names])


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselect: a known issue may name any check of the suite
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a configured kind of check no collected test carries; drop the tests of a part the environment
    does not have (no entries): the header says it is absent; keep this shard's tests (``--shard``).

    A known-issue entry that covers no check is bad input (exit 4 naming it).
    """
    if SESSION_KEY not in config.stash:
        return
    from smokeproof.pytest_plugin import unchecked

    smoke_session = config.stash[SESSION_KEY]
    settings = smoke_session.settings
    unchecked.check(config, settings, items, deselected=smoke_session.deselected)
    if settings.known.entries:
        from smokeproof.errors import UsageError
        from smokeproof.pytest_plugin import known

        try:
            known.refuse_unmatched(settings.known, items, also=[c.test_id for c in settings.contracts])
        except UsageError as exc:
            raise pytest.UsageError(exc.render()) from None
    empty = [item for item in items if _empty_parameter_set(item)]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]
    from smokeproof.pytest_plugin import shards

    shards.select(config, items, settings.contracts)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Tests deselected on purpose (a shard, -m, --deselect) still carry their kind (see unchecked)."""
    for item in items:
        if SESSION_KEY in item.config.stash:
            item.config.stash[SESSION_KEY].deselected.update(getattr(item, "fixturenames", ()))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the run once the selection is known: the target first, then every selected request at once.

    With ``--wait-for-revision``, the deploy is waited for first; if it did not converge, the run
    starts without sending a request (every check then fails with why).
    """
    if SESSION_KEY not in session.config.stash:
        return
    from smokeproof.pytest_plugin import memory, waiting, xdist
    from smokeproof.pytest_plugin.unused import release_hypothesis

    release_hypothesis(session.config, session.items)
    if not session.config.getoption("collectonly"):
        smoke_session = session.config.stash[SESSION_KEY]
        waiting.before_checks(session.config, smoke_session.settings.env)
        mine = xdist.mine(session.config, session.items)  # on an xdist worker: the tests it will run
        smoke_session.start(mine, send=waiting.failure(session.config) is None)
        memory.freeze(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist, on the controller, as a worker ends: keep what it found unchecked (it ran nothing then)."""
    config = getattr(node, "config", None)
    if config is None or SESSION_KEY not in config.stash:
        return
    from smokeproof.pytest_plugin import unchecked

    text = unchecked.from_worker(node)
    if text is not None:
        config.stash[SESSION_KEY].unchecked = text


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """At the end: a run in which no check ran proves nothing, and exits 5 (unless --allow-empty).

    A shard that selected nothing is the exception: nothing was this job's to check (exit 0).
    """
    config = session.config
    if SESSION_KEY not in config.stash or config.getoption("collectonly"):
        return
    smoke_session = config.stash[SESSION_KEY]
    if smoke_session.unchecked is not None:  # an xdist worker refused the run (see unchecked)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    if _empty_shard(config):
        if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK
        return
    if smoke_session.settings.allow_empty or smoke_session.ran:
        return
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Say loudly that a run in which no check ran proves nothing."""
    if SESSION_KEY not in config.stash or config.getoption("collectonly"):
        return
    smoke_session = config.stash[SESSION_KEY]
    if smoke_session.unchecked is not None:
        terminalreporter.write_line(smoke_session.unchecked, red=True)
        return
    if _empty_shard(config):
        from smokeproof.pytest_plugin import shards

        terminalreporter.write_sep("=", shards.nothing_line(config).removeprefix("smokeproof: "), yellow=True)
        return
    interrupted = exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    if not smoke_session.ran and not smoke_session.settings.allow_empty and not interrupted:
        terminalreporter.write_sep(
            "!",
            "smokeproof: NO CHECK RAN (all skipped or deselected): this run proves nothing; failing it (--allow-empty to accept)",
            red=True,
            bold=True,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last: close the run (requests, connections, the started target), unregister the reporting plugin, release memory."""
    if SESSION_KEY not in config.stash:
        return
    from smokeproof.pytest_plugin import memory

    try:
        config.stash[SESSION_KEY].close()
    finally:  # a closer that raised still leaves the plugins unregistered and the memory released
        for name in (REPORTING, OWN_CHECKS):
            plugin = config.pluginmanager.get_plugin(name)
            if plugin is not None:
                config.pluginmanager.unregister(plugin)
        memory.release(config)


def _empty_shard(config: pytest.Config) -> bool:
    """``--shard`` left this job nothing to check (here, or on every xdist worker)."""
    from smokeproof.pytest_plugin import shards, xdist

    return shards.selected_nothing(config) or (xdist.is_controller(config) and xdist.workers_selected_nothing(config))


def _empty_parameter_set(item: pytest.Item) -> bool:
    """A test of ours that pytest would report as ``SKIPPED got empty parameter set``: nothing to check."""
    for mark in item.iter_markers():
        reason = str(mark.kwargs.get("reason", ""))
        if reason.startswith(EMPTY_SET) and any(name in reason for name in PARAMETERS):
            return True
    return False
