"""Schema contracts: one test per table, enum type, index and foreign key of schema.toml.

A failure here is a query the deployed code will send and the database cannot answer.
"""

import pytest

pytestmark = pytest.mark.schema


def test_schema_object(schema_object, smoke):
    # A plain function on purpose: the catalog is read on smokeproof's own event loop.
    smoke.verify(smoke.wait_schema_object(schema_object))
