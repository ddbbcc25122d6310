"""Alembic alignment: the database's revision is the code's head.

A database behind the code's head serves code that queries tables, columns or types that do not
exist yet: every request that touches them fails until the pending migrations run.
"""

import pytest

pytestmark = [pytest.mark.schema, pytest.mark.alembic]


def test_alembic_revision(database, smoke):
    smoke.verify(smoke.wait_alignment(database))
