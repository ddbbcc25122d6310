"""No false green: a run in which no check ran must not pass by accident."""

from __future__ import annotations

import pytest

from .suite import lay_out, run_suite

NO_DATABASE = """\
production = false
base_url = "http://127.0.0.1:9"
"""


def test_nothing_ran_fails_loudly(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    env = pytester.path / "nodb.toml"
    env.write_text(NO_DATABASE)
    result = run_suite(pytester, f"--env-file={env}", "-m", "schema")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*NO CHECK RAN*this run proves nothing*"])
    assert "has no database_url" in result.stdout.str()  # the skip reason says why


def test_allow_empty_accepts_it(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    env = pytester.path / "nodb.toml"
    env.write_text(NO_DATABASE)
    result = run_suite(pytester, f"--env-file={env}", "-m", "schema", "--allow-empty")
    assert result.ret == pytest.ExitCode.OK
    assert "NO CHECK RAN" not in result.stdout.str()


def test_everything_deselected_fails(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    env = pytester.path / "nodb.toml"
    env.write_text(NO_DATABASE)
    result = run_suite(pytester, f"--env-file={env}", "-k", "no-such-check")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
