"""Endpoint contracts: one test per entry of endpoints.toml, all probed concurrently.

A failure here is what users see after the deploy: a login that answers 500, an admin route that
answers anyone, an emergency route left open.
"""

import pytest

pytestmark = pytest.mark.contracts


def test_endpoint(endpoint, smoke):
    # A plain function on purpose: every request already runs on smokeproof's own event loop.
    smoke.verify(smoke.wait_endpoint(endpoint))
