"""The TLS settings every connection of a run uses: ``[http] verify_tls`` and ``[http] ca_file``.

One place decides what a run trusts, so the probes, the tokens it obtains, the wait for a rolling
deploy and the certificate checks agree: the public CAs (certifi's bundle, as httpx uses), plus a
private CA's PEM bundle when ``ca_file`` names one (internal services whose certificates that CA
signs), or nothing at all with ``verify_tls = false``.
"""

from __future__ import annotations

import ssl


def client_context(*, verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """The SSL context for the run's requests (the CA bundles are read here, once)."""
    import httpx  # loads with the prober: a run that sends no request never imports it

    context = httpx.create_ssl_context(verify=verify)
    if verify and ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context
