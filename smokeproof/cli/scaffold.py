"""The files ``smokeproof init`` writes besides the contracts: thin test modules, pytest.ini, conftest.py.

The test modules are this repository's own ``tests/`` modules and ``conftest.py``, read from the
package: ``smokeproof/cli/suite/`` links to them (a checkout reads the very files the project's suite
runs), and a wheel carries their contents as package data. A suite a team scaffolds runs exactly the
checks the project's own suite runs; which modules there are is :data:`smokeproof.kinds.KINDS`.
"""

from __future__ import annotations

from importlib import resources

from smokeproof.kinds import KINDS, MARKERS, PLAIN_MODULES

SUITE = resources.files("smokeproof.cli") / "suite"

PYTEST_INI = (
    """\
[pytest]
# The smoke suite: `pytest --env=NAME` checks the deployment environments/NAME.toml describes.
testpaths = tests
addopts = --alluredir=reports/allure-results --clean-alluredir --junitxml=reports/junit.xml -ra --strict-markers
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
markers =
"""
    + "".join(f"    {name}: {text}\n" for name, text in MARKERS.items())
    + """\
# The plugin is inert unless asked: this suite asks.
smokeproof = true
"""
)


def module_text(name: str) -> str:
    """A thin module (or conftest.py) as the package ships it."""
    return SUITE.joinpath(*name.split("/")).read_text(encoding="utf-8")


# Every thin module there is (one per kind of check), and conftest.py: what init writes, what --update adds.
MODULES = {name: module_text(name) for name in (*(kind.module for kind in KINDS), *PLAIN_MODULES)}

OWN_CHECKS_FILE = "tests/test_own_checks.py"
# Commented examples (the README's "Your own checks"): a suite written by init runs them once uncommented.
OWN_CHECKS = '''\
"""Your own checks: what the TOML contracts cannot say, in Python, with the run's client, tokens and database.

Uncomment and adapt. They are as safe as the built-in checks: smoke_http sends only GET, HEAD and
OPTIONS to a production environment (@pytest.mark.allow_in_production lifts that) and only to
base_url's origin ([http] allow_hosts adds others), smoke_db is a read-only session, and every
secret is masked. Each reads in the verification table with what was expected and what came.
A docstring says what breaks in production when the check fails: it is the failure's "what it means".
"""

# import pytest
#
#
# async def test_admin_flags_are_the_table_rows(smoke, smoke_http, smoke_auth, smoke_db):
#     """The admin panel lists feature_flags: a flag missing there is a switch nobody can see or flip."""
#     answer = await smoke_http.get("/api/v1/admin/feature-flags", auth=smoke_auth("admin"))
#     answer.raise_for_status()  # a 5xx fails as "Server errors (5xx)"
#     rows = await smoke_db.fetch("SELECT key, enabled FROM feature_flags")
#     smoke.check(
#         "admin API lists the feature_flags rows",
#         expected={row["key"]: row["enabled"] for row in rows},
#         actual={flag["key"]: flag["enabled"] for flag in answer.json()},
#     )
#
#
# @pytest.mark.each_database  # once per database: database_url and each of [databases]
# async def test_every_tenant_has_its_default_plan(smoke_db):
#     """A tenant without its default plan cannot sign anyone up."""
#     assert await smoke_db.fetchval("SELECT count(*) FROM plans WHERE is_default") == 1
'''
