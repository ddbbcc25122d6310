"""The run's own loop: database checks from plain tests and from coroutine tests agree.

The suite's schema and Alembic tests are plain functions (``smoke.wait_schema_object(...)``): the catalog is read
on the run's loop, in the background, from the end of collection. Suites scaffolded earlier have
coroutine tests (``await smoke.schema_object(...)``), run on pytest-asyncio's loop; both ways must
give the same verdict on every check, or an upgrade would silently change what a team's suite says.
"""

from __future__ import annotations

import json

import pytest

from .suite import DemoTarget, lay_out, run_suite

COROUTINE_TESTS = {  # the thin tests as `smokeproof init` wrote them before the run's loop read the catalog
    "tests/schema/test_schema.py": (
        "import pytest\n\npytestmark = pytest.mark.schema\n\n\n"
        "async def test_schema_object(schema_object, smoke):\n    smoke.verify(await smoke.schema_object(schema_object))\n"
    ),
    "tests/schema/test_alembic.py": (
        "import pytest\n\npytestmark = [pytest.mark.schema, pytest.mark.alembic]\n\n\n"
        "async def test_alembic_revision(database, smoke):\n    smoke.verify(await smoke.alignment(database))\n"
    ),
}


def verdicts(pytester: pytest.Pytester) -> dict[str, tuple[str, str]]:
    rows = json.loads((pytester.path / "reports" / "summary.json").read_text())["rows"]
    return {row["check"]: (row["outcome"], row["actual"]) for row in rows}


@pytest.mark.slow
def test_coroutine_and_plain_database_tests_give_the_same_verdicts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, incident_target: DemoTarget
) -> None:
    lay_out(pytester.path)
    incident_target.use(monkeypatch, pytester.path, name="incident")
    plain = run_suite(pytester, "--env-file=incident.toml", "-m", "schema and not drift")
    assert plain.ret == 1  # the incident's database is at 010
    expected = verdicts(pytester)
    assert expected["alembic revision"] == ("failed", "010 (1 pending)")
    assert expected["table public.users"][0] == "passed" and expected["table public.user_hierarchy_assignments"][0] == "failed"

    for name, text in COROUTINE_TESTS.items():
        (pytester.path / name).write_text(text)
    coroutines = run_suite(pytester, "--env-file=incident.toml", "-m", "schema and not drift")
    assert coroutines.ret == 1
    assert verdicts(pytester) == expected
