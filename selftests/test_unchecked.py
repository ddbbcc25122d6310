"""No silent check: a kind of check the environment configures but no collected test carries stops the run.

A suite scaffolded before a kind existed (or one whose module was deleted) would otherwise pass green
without running it. Narrowing a run on purpose (``-m``, ``-k``, test paths) is not refused.
"""

from __future__ import annotations

import pytest

from smokeproof.cli.main import main

from .servers import PUBLIC_ENDPOINTS, Server
from .suite import lay_out, outcomes, run_suite


@pytest.fixture
def api_suite(pytester: pytest.Pytester, public_api: Server) -> pytest.Pytester:
    lay_out(pytester.path)
    (pytester.path / "tests/schema/schema.toml").unlink()
    (pytester.path / "tests/contracts/endpoints.toml").write_text(PUBLIC_ENDPOINTS)
    (pytester.path / "environments/api.toml").write_text(f'production = false\nbase_url = "{public_api.url}"\n')
    (pytester.path / "tests/contracts/test_endpoints.py").unlink()
    return pytester


def test_configured_contracts_without_their_module_are_exit_4_naming_it(api_suite: pytest.Pytester) -> None:
    result = run_suite(api_suite, "--env=api")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    err = result.stderr.str()
    assert "endpoint contracts: configured (1 endpoint contracts), but no collected test checks it" in err
    assert "add tests/contracts/test_endpoints.py" in err and "smokeproof init --update" in err
    assert "passed" not in result.stdout.str()


@pytest.mark.parametrize("narrowed", [["-m", "not contracts"], ["-k", "alembic"], ["tests/schema"]])
def test_a_run_narrowed_on_purpose_is_not_refused(api_suite: pytest.Pytester, narrowed: list[str]) -> None:
    result = run_suite(api_suite, "--env=api", "--allow-empty", *narrowed)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), result.stderr.str()
    assert "no collected test checks it" not in result.stderr.str()


def test_init_update_adds_the_missing_module_and_the_run_checks_it(
    api_suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in api_suite.path.rglob("*") if p.is_file() and "demo" not in p.parts}
    assert main(["init", "--update", f"--dir={api_suite.path}"]) == 0
    assert capsys.readouterr().out.splitlines() == ["smokeproof init: wrote tests/contracts/test_endpoints.py"]
    assert {p: p.read_bytes() for p in before} == before  # nothing else touched
    result = run_suite(api_suite, "--env=api", "-m", "not fuzz")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert outcomes(result)["GET /api/v1/public -> 200"] == "passed"


def test_init_update_needs_a_suite(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--update", f"--dir={tmp_path}"]) == 4
    assert "holds no suite" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    assert main(["init", "--env=x"]) == 4  # without --update, --base-url is needed
    assert "init needs --env NAME and --base-url URL" in capsys.readouterr().err
