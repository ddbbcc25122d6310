"""Endpoint contracts: one test per entry of endpoints.toml, all probed concurrently.

A failure here is what users see after the deploy: a login that answers 500, an admin route that
answers anyone, an emergency route left open.
"""

import pytest

pytestmark = pytest.mark.contracts


async def test_endpoint(endpoint, smoke):
    smoke.verify(await smoke.endpoint(endpoint))
