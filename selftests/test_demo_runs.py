"""The suite against the demo target, end to end, as a newcomer runs it.

Healthy: every check passes. The incident (code at 80105006e3d3, database at 010, emergency route
present): exactly the incident report's findings fail, and nothing else.
"""

from __future__ import annotations

import pytest

from demo.pgcluster import DEBIAN_PG15_BIN

from .suite import REPO, demo_target, lay_out, outcomes, run_suite

pytestmark = pytest.mark.slow

ENDPOINTS = {
    "GET /api/v1/auth/session/check -> 401",
    "GET /api/v1/auth/auth0-url -> 200",
    "GET /api/v1/auth/me -> 401",
    "GET /api/v1/admin/feature-flags -> 401",
    "GET /api/v1/admin/feature-flags as analyst -> 403",
    "GET /api/v1/admin/feature-flags as super_admin -> 200",
    "GET /api/v1/auth/emergency/create-user-application-access-table -> 404",
    "GET /api/v1/health -> 200",
}
INCIDENT_TABLES = {
    "table public.organization_hierarchy",
    "table public.user_hierarchy_assignments",
    "table public.hierarchy_permission_overrides",
}
INCIDENT_ENUMS = {"enum public.hierarchylevel", "enum public.enhanceduserrole"}
# tests/own/: the admin API's flags against the table (the API answers 500), the login query (its tables are missing)
OWN_CHECKS = {"test_admin_flags_are_the_table_rows", "test_the_login_query_runs"}
# [drift] against demo/baseline.json: the same three tables and two enum types, as missing objects.
INCIDENT_DRIFT = {f"drift {name.split(' ', 1)[1]}" for name in INCIDENT_TABLES} | {f"drift {name}" for name in INCIDENT_ENUMS}


def test_healthy_demo_passes_every_check(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path, own=True)
    result = run_suite(pytester, "--env=demo")
    seen = outcomes(result)
    assert result.ret == 0, result.stdout.str()
    assert set(seen) >= ENDPOINTS, sorted(seen)
    assert "test_alembic_revision" in seen
    assert any(k.startswith("table ") for k in seen) and any(k.startswith("enum ") for k in seen)
    assert {"drift public.users", "drift enum public.hierarchylevel", "drift extensions", "drift extra objects"} <= set(seen)
    assert set(seen) >= OWN_CHECKS
    assert set(seen.values()) == {"passed"}, {k: v for k, v in seen.items() if v != "passed"}


def test_incident_fails_exactly_where_the_incident_report_says(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path, own=True)
    result = run_suite(pytester, "--env=demo-incident")
    seen = outcomes(result)
    failed = {k for k, v in seen.items() if v == "failed"}
    assert result.ret == 1
    emergency = {"GET /api/v1/auth/emergency/create-user-application-access-table -> 404"}
    auth_path = ENDPOINTS - emergency - {"GET /api/v1/health -> 200"}  # every route that loads the hierarchy
    indexes_and_keys = {k for k in failed if k.startswith(("index ", "foreign key "))}
    expected = auth_path | INCIDENT_TABLES | INCIDENT_ENUMS | INCIDENT_DRIFT | {"test_alembic_revision"} | OWN_CHECKS
    assert failed - indexes_and_keys == expected
    # The emergency route is a known issue (environments/known-issues/demo-incident.toml): it fails, as known.
    assert {k for k, v in seen.items() if v == "xfail"} == emergency
    result.stdout.fnmatch_lines(["XFAIL *emergency* - known (OPS-412) until 2027-06-30: GET http://*: expected 404, got 405*"])
    # Indexes and foreign keys of the missing tables fail with them; nothing else may.
    assert all("hierarchy" in k for k in indexes_and_keys), indexes_and_keys
    assert {k for k, v in seen.items() if v == "passed"} >= {"GET /api/v1/health -> 200"}
    out = result.stdout.str()
    assert "expected 401, got 500" in out
    assert "80105006e3d3_epic_1_module_system_and_hierarchy_.py" in out
    assert "alembic upgrade 80105006e3d3" in out
    assert "got 405" in out  # the emergency route exists
    assert "the database is behind the code (1 migration pending)" in out  # drift points at the pending migration


@pytest.mark.skipif(
    not (DEBIAN_PG15_BIN / "postgres").exists(), reason=f"Debian's PostgreSQL 15 is not installed ({DEBIAN_PG15_BIN})"
)
@pytest.mark.parametrize(
    ("revision", "build", "expected_failures"),
    [
        ("head", "healthy", set()),
        ("010", "incident", INCIDENT_TABLES | INCIDENT_ENUMS | INCIDENT_DRIFT | {"test_alembic_revision"}),
    ],
)
def test_schema_checks_on_debian_postgres_15(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, revision: str, build: str, expected_failures: set[str]
) -> None:
    lay_out(pytester.path)
    with demo_target("--revision", revision, "--build", build, "--pg-bin", str(DEBIAN_PG15_BIN)) as target:
        env = target.use(monkeypatch, pytester.path, extra=f'[drift]\nbaseline = "{REPO / "demo/baseline.json"}"\n')
        result = run_suite(pytester, f"--env-file={env}", "-m", "schema")
    seen = outcomes(result)
    assert {k for k, v in seen.items() if v == "failed"} == expected_failures
    assert any(k.startswith("table ") for k in seen) and "drift public.users" in seen
    assert "- **database server**: PostgreSQL 15." in (pytester.path / "reports" / "summary.md").read_text()
