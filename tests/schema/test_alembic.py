"""Alembic alignment: the database's revision is the code's head.

In the incident the database was at 010 while the code needed 80105006e3d3; this is the check
that would have said so before users did.
"""

import pytest

pytestmark = [pytest.mark.schema, pytest.mark.alembic]


async def test_alembic_revision(database, smoke):
    smoke.verify(await smoke.alignment(database))
