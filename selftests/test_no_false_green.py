"""No false green: a run in which no check ran must not pass by accident."""

from __future__ import annotations

import pytest

from .suite import lay_out, run_suite

NO_DATABASE = """\
production = false
base_url = "http://127.0.0.1:9"
"""


def run_without_database(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    lay_out(pytester.path)
    env = pytester.path / "nodb.toml"
    env.write_text(NO_DATABASE)
    return run_suite(pytester, f"--env-file={env}", *args)


def test_nothing_ran_fails_loudly(pytester: pytest.Pytester) -> None:
    result = run_without_database(pytester, "-m", "schema")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*NO CHECK RAN*this run proves nothing*"])
    assert "has no database_url" in result.stdout.str()  # the skip reason says why


def test_allow_empty_accepts_it(pytester: pytest.Pytester) -> None:
    result = run_without_database(pytester, "-m", "schema", "--allow-empty")
    assert result.ret == pytest.ExitCode.OK
    assert "NO CHECK RAN" not in result.stdout.str()


def test_everything_deselected_fails(pytester: pytest.Pytester) -> None:
    result = run_without_database(pytester, "-k", "no-such-check")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_session_deadline_fails_what_it_cuts_off(pytester: pytest.Pytester) -> None:
    from .servers import Route, Server, serve

    lay_out(pytester.path)
    with serve(Server(routes={"/api/v1/auth/me": Route(status=401)})) as server:
        env = pytester.path / "deadline.toml"
        env.write_text(f'production = false\nbase_url = "{server.url}"\n')
        result = run_suite(pytester, f"--env-file={env}", "-m", "contracts", "--smoke-timeout=0.001")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "--smoke-timeout: the session deadline passed before" in result.stdout.str()
