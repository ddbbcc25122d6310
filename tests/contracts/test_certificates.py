"""Certificates: the leaf each HTTPS host serves (base_url, token endpoints), read once per run.

A certificate that expires, or that does not match its host, fails every request to that host at
once, with nothing deployed: clients refuse the handshake.
"""

import pytest

pytestmark = pytest.mark.contracts


def test_certificate(certificate, smoke):
    smoke.verify(smoke.wait_certificate(certificate))
