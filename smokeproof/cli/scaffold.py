"""The files ``smokeproof init`` writes besides the contracts: thin test modules, pytest.ini, conftest.py.

The test modules are this repository's own ``tests/`` modules and ``conftest.py``, word for word (a
self-test keeps them so): a suite a team scaffolds runs exactly the checks the project's own suite runs.
"""

from __future__ import annotations

PYTEST_INI = """\
[pytest]
# The smoke suite: `pytest --env=NAME` checks the deployment environments/NAME.toml describes.
testpaths = tests
addopts = --alluredir=reports/allure-results --clean-alluredir --junitxml=reports/junit.xml -ra --strict-markers
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
markers =
    contracts: endpoint contracts (status, content type, body, latency, authorization)
    schema: schema contracts (tables, columns, enum types, indexes, foreign keys) and Alembic alignment
    alembic: Alembic alignment between the database and the code
    fuzz: property-based probes with malformed credentials
# The plugin is inert unless asked: this suite asks.
smokeproof = true
"""

MODULES = {
    "tests/contracts/test_endpoints.py": '''\
"""Endpoint contracts: one test per entry of endpoints.toml, all probed concurrently.

A failure here is what users see after the deploy: a route that answers 500, a protected route that
answers anyone, an answer whose shape its clients no longer parse.
"""

import pytest

pytestmark = pytest.mark.contracts


def test_endpoint(endpoint, smoke):
    # A plain function on purpose: every request already runs on smokeproof's own event loop.
    smoke.verify(smoke.wait_endpoint(endpoint))
''',
    "tests/contracts/test_credentials.py": '''\
"""Property-based probes: malformed credentials get a rejection, never a 5xx or a 2xx.

A 5xx here means a crafted header crashes the login path; a 2xx means it gets in.
"""

import pytest

pytestmark = [pytest.mark.contracts, pytest.mark.fuzz]


async def test_malformed_credentials(fuzz_endpoint, smoke):
    smoke.verify(await smoke.fuzz(fuzz_endpoint))
''',
    "tests/schema/test_schema.py": '''\
"""Schema contracts: one test per table, enum type, index and foreign key of schema.toml.

A failure here is a query the deployed code will send and the database cannot answer.
"""

import pytest

pytestmark = pytest.mark.schema


def test_schema_object(schema_object, smoke):
    # A plain function on purpose: the catalog is read on smokeproof's own event loop.
    smoke.verify(smoke.wait_schema_object(schema_object))
''',
    "tests/schema/test_alembic.py": '''\
"""Alembic alignment: the database's revision is the code's head.

A database behind the code's head serves code that queries tables, columns or types that do not
exist yet: every request that touches them fails until the pending migrations run.
"""

import pytest

pytestmark = [pytest.mark.schema, pytest.mark.alembic]


def test_alembic_revision(database, smoke):
    smoke.verify(smoke.wait_alignment(database))
''',
    "conftest.py": """\
# Registers the smokeproof plugin (also registered under the same name by the package's pytest11
# entry point, so it loads once either way). Nothing else belongs here: contracts live in TOML.
pytest_plugins = ["smokeproof.plugin"]
""",
}

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
