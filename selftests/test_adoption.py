"""The plugin on someone else's project: inert until asked, the option forms people type, optional parts."""

from __future__ import annotations

import pytest

from .servers import PUBLIC_ENDPOINTS, Server
from .suite import lay_out, outcomes, run_suite


def test_installed_plugin_leaves_an_unrelated_project_alone(pytester: pytest.Pytester) -> None:
    """The entry point loads smokeproof in every run of this virtualenv; a project that does not ask for it is untouched."""
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = run_suite(pytester)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=1)
    lines = result.stdout.lines + result.stderr.lines
    assert not [line for line in lines if "smokeproof" in line and not line.startswith("plugins:")]
    assert not (pytester.path / "reports").exists()


def test_no_contracts_file_and_no_schema_file_means_no_such_tests(pytester: pytest.Pytester, public_api: Server) -> None:
    """Parts an environment lacks are absent (said in the header), not errors or 'empty parameter set' skips."""
    lay_out(pytester.path)
    (pytester.path / "tests/schema/schema.toml").unlink()
    (pytester.path / "tests/contracts/endpoints.toml").write_text(PUBLIC_ENDPOINTS)
    env = pytester.path / "api-only.toml"
    env.write_text(f'production = false\nbase_url = "{public_api.url}"\n')
    result = run_suite(pytester, f"--env-file={env}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=1, skipped=1)  # the endpoint; Alembic, which says it has nothing to compare
    assert outcomes(result)["GET /api/v1/public -> 200"] == "passed"
    output = result.stdout.str()
    assert "empty parameter set" not in output and "NOTSET" not in output
    assert "not checked here: schema contracts (no schema file); database checks (no database_url); credential probes" in output


def test_database_only_environment_needs_no_base_url(pytester: pytest.Pytester) -> None:
    """An environment for the pre-deploy gate (database alone) needs no base_url: no contracts file, no URL."""
    lay_out(pytester.path)
    (pytester.path / "tests/contracts/endpoints.toml").unlink()
    env = pytester.path / "db-only.toml"
    env.write_text('production = false\ndatabase_url = "postgresql://smoke@127.0.0.1:9/none"\n')
    result = run_suite(pytester, f"--env-file={env}", "-m", "schema", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    assert "base_url" not in result.stderr.str()


def test_base_url_is_still_required_where_contracts_need_it(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    env = pytester.path / "no-url.toml"
    env.write_text('production = false\ndatabase_url = "postgresql://smoke@127.0.0.1:9/none"\n')
    result = run_suite(pytester, f"--env-file={env}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "set 'base_url'" in result.stderr.str() and "endpoint contracts need it" in result.stderr.str()


def test_env_file_with_a_space_inside_the_suite_runs_as_with_equals(pytester: pytest.Pytester, public_api: Server) -> None:
    lay_out(pytester.path)
    (pytester.path / "tests/contracts/endpoints.toml").write_text(PUBLIC_ENDPOINTS)
    (pytester.path / "environments/api.toml").write_text(f'production = false\nbase_url = "{public_api.url}"\n')
    spaced = run_suite(pytester, "--env-file", "environments/api.toml", "-m", "contracts")
    equals = run_suite(pytester, "--env-file=environments/api.toml", "-m", "contracts")
    assert spaced.ret == equals.ret == pytest.ExitCode.OK, spaced.stdout.str()
    assert outcomes(spaced) == outcomes(equals) == {"GET /api/v1/public -> 200": "passed"}
    assert f"rootdir: {pytester.path}" in spaced.stdout.str()


def test_env_file_with_a_space_elsewhere_stops_with_the_hint(
    pytester: pytest.Pytester, public_api: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a space, pytest takes the value for a test path and picks its rootdir from it: stop before collecting."""
    suite = pytester.mkdir("suite")
    lay_out(suite)
    elsewhere = pytester.mkdir("app")
    (elsewhere / "smoke.toml").write_text(f'production = false\nbase_url = "{public_api.url}"\n')
    monkeypatch.chdir(suite)
    result = run_suite(pytester, "--env-file", "../app/smoke.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert "write --env-file=PATH (with '=')" in result.stderr.str()
    assert "collected" not in result.stdout.str()
    assert not (elsewhere / "reports").exists() and not (suite / "reports").exists()


def test_ini_switch_runs_the_demo_default(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's own pytest.ini says ``smokeproof = true``: plain ``pytest`` there asks for the default environment."""
    monkeypatch.delenv("CI", raising=False)  # in CI, a run must name its environment (another self-test)
    lay_out(pytester.path)
    ini = (pytester.path / "pytest.ini").read_text()
    assert "smokeproof = true" in ini
    result = run_suite(pytester, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert "environment demo" in result.stdout.str() or "GET /api/v1/auth/me -> 401" in result.stdout.str()
