"""Endpoint contracts: one test per entry of endpoints.toml, all probed concurrently.

A failure here is what users see after the deploy: a route that answers 500, a protected route that
answers anyone, an answer whose shape its clients no longer parse.
"""

import pytest

pytestmark = pytest.mark.contracts


def test_endpoint(endpoint, smoke):
    # A plain function on purpose: every request already runs on smokeproof's own event loop.
    smoke.verify(smoke.wait_endpoint(endpoint))
