"""A run pays at start only for what it uses: which heavy libraries a run imported, read from ``sys.modules``.

Import-based, never timed. Each case runs the suite in a subprocess with a conftest hook that writes
the names of the loaded modules when the run ends (after the terminal summary), and checks that the
libraries this run had no use for were never imported. A regression here is seconds of start-up on
every pipeline run (hypothesis alone costs more than collecting a 200-contract suite).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .servers import PUBLIC_ENDPOINTS, Server
from .suite import REPO, lay_out, run_suite

RECORD = """

def pytest_unconfigure(config):
    # Written last (after the terminal summary and smokeproof's own close): every module the run loaded.
    import sys

    with open("modules.txt", "w") as handle:
        handle.write("\\n".join(sorted(sys.modules)))
"""
HEAVY = ("hypothesis", "alembic", "jsonschema", "asyncpg", "sqlalchemy")  # used only by the checks that need them


def loaded(pytester: pytest.Pytester, env_text: str, *args: str, contracts: bool = True) -> set[str]:
    """The top-level packages and smokeproof modules loaded by a run of the suite on ``env_text``."""
    lay_out(pytester.path)
    if contracts:
        (pytester.path / "tests/contracts/endpoints.toml").write_text(PUBLIC_ENDPOINTS)
    else:
        (pytester.path / "tests/contracts/endpoints.toml").unlink()
    with (pytester.path / "conftest.py").open("a") as conftest:
        conftest.write(RECORD)
    env = pytester.path / "env.toml"
    env.write_text(textwrap.dedent(env_text))
    result = run_suite(pytester, f"--env-file={env}", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    names = Path(pytester.path / "modules.txt").read_text().split()
    return {name for name in names if name.startswith("smokeproof.")} | {name.split(".")[0] for name in names}


def test_an_endpoint_run_imports_no_database_schema_or_probe_library(pytester: pytest.Pytester, public_api: Server) -> None:
    """Endpoint contracts alone (no json_schema, no database, nothing to probe): httpx and the reports, nothing else."""
    modules = loaded(pytester, f'production = false\nbase_url = "{public_api.url}"\n', "-m", "contracts")
    assert "httpx" in modules and "smokeproof.reporting.allure_writer" in modules  # the run did probe and report
    unwanted = {*HEAVY, "smokeproof.database.baseline"}  # the [drift] baseline's models
    assert not modules & unwanted, sorted(modules & unwanted)


def test_collect_only_imports_neither_the_client_nor_the_writers(pytester: pytest.Pytester, public_api: Server) -> None:
    """``--collect-only`` sends nothing and writes no report: no HTTP client, no Allure writer, no database driver.

    The versions folder is read (a broken one exits 4 here too), but Alembic's map waits for a graph question.
    """
    revision = f'[revision]\nmigrations = "{REPO / "demo/migrations/versions"}"\n'
    modules = loaded(pytester, f'production = false\nbase_url = "{public_api.url}"\n{revision}', "--collect-only", "-q")
    unwanted = {"httpx", "smokeproof.reporting.allure_writer", "smokeproof.reporting.allure_files", *HEAVY}
    assert "smokeproof.pytest_plugin.settings" in modules  # the plugin was active
    assert not modules & unwanted, sorted(modules & unwanted)


def test_a_run_without_endpoint_contracts_imports_no_http_client(pytester: pytest.Pytester) -> None:
    """A database-only environment (the pre-deploy gate) with nothing to read yet: no httpx, no driver, no Alembic."""
    env = 'production = false\ndatabase_url = "postgresql://smoke@127.0.0.1:9/none"\n'
    modules = loaded(pytester, env, "-m", "alembic", "--allow-empty", contracts=False)
    assert "smokeproof.pytest_plugin.session" in modules
    assert not modules & {"httpx", *HEAVY}, sorted(modules & {"httpx", *HEAVY})


def test_an_inert_plugin_imports_nothing_of_the_engine(pytester: pytest.Pytester) -> None:
    """Installed in a virtualenv, the plugin loads in every pytest run there: one that does not ask for it pays for no engine."""
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    pytester.makeconftest(RECORD)
    result = run_suite(pytester)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    modules = set(Path(pytester.path / "modules.txt").read_text().split())
    assert "smokeproof.pytest_plugin.hooks" in modules  # the entry point did load
    engine = {m for m in modules if m.startswith(("smokeproof.config.environment", "smokeproof.run", "smokeproof.http"))}
    assert not engine and "pydantic" not in modules and "httpx" not in modules, sorted(engine)
