"""Own checks: what the TOML contracts cannot say, written in Python with the run's client, tokens and database.

Each runs with the same safety as the built-in checks (safe methods in production, a read-only
database session, every secret masked) and reads in the verification table like them.
"""

import pytest

# The query the auth service sends first on every request of the auth path (demo/app.py's session loader).
HIERARCHY_QUERY = """
SELECT a.role, n.level, o.permission, o.granted
FROM user_hierarchy_assignments a
JOIN organization_hierarchy n ON n.id = a.hierarchy_node_id
LEFT JOIN hierarchy_permission_overrides o ON o.user_id = a.user_id AND o.hierarchy_node_id = n.id
WHERE a.user_id = $1::uuid
"""
ANONYMOUS = "00000000-0000-0000-0000-000000000000"


async def test_admin_flags_are_the_table_rows(smoke, smoke_http, smoke_auth, smoke_db, smoke_env):
    """The admin panel lists feature_flags: a flag missing there, or shown with the wrong state, is a switch the
    operators cannot see or flip."""
    if "super_admin" not in smoke_env.tokens:
        pytest.skip(f"environment {smoke_env.name} has no super_admin token")
    answer = await smoke_http.get("/api/v1/admin/feature-flags", auth=smoke_auth("super_admin"))
    answer.raise_for_status()
    rows = await smoke_db.fetch("SELECT key, enabled FROM feature_flags")
    smoke.check(
        "admin API lists the feature_flags rows",
        expected={row["key"]: row["enabled"] for row in rows},
        actual={flag["key"]: flag["enabled"] for flag in answer.json()},
    )


@pytest.mark.each_database
async def test_the_login_query_runs(smoke_db):
    """Every request on the auth path first loads the caller's hierarchy with this query: where it fails, every
    login answers 500, as on 19 September 2025."""
    assert await smoke_db.fetch(HIERARCHY_QUERY, ANONYMOUS) == []
