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
