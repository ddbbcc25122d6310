"""Schema contracts: one test per table, enum type, index and foreign key of schema.toml.

A failure here is a query the deployed code will send and the database cannot answer.
"""

import pytest

pytestmark = pytest.mark.schema


async def test_schema_object(schema_object, smoke):
    smoke.verify(await smoke.schema_object(schema_object))
