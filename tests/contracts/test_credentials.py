"""Property-based probes: malformed credentials get a rejection, never a 5xx or a 2xx.

A 5xx here means a crafted header crashes the login path; a 2xx means it gets in.
"""

import pytest

pytestmark = [pytest.mark.contracts, pytest.mark.fuzz]


async def test_malformed_credentials(fuzz_endpoint, smoke):
    smoke.verify(await smoke.fuzz(fuzz_endpoint))
