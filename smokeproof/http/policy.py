"""One HTTP policy for every request the suite makes: the checks, the tokens, the wait, ``init --openapi``.

Every client and transport is built here, so a check, a token request, a ``--wait-for-revision``
poll and ``smokeproof init --openapi`` reach the network the same way:

- **No settings from the process environment** (``trust_env=False``): ``HTTP_PROXY``,
  ``HTTPS_PROXY``, ``ALL_PROXY``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` and ``~/.netrc`` change
  nothing. A smoke stage sends production credentials; a proxy variable left in a CI image (set
  for the package mirror, say) would route them through a third party, and a netrc entry would
  add credentials the environment file never named. Where a run's requests go, and with what, is
  what its file says.
- **TLS** verified against certifi's bundle, plus a private CA's PEM bundle when ``[http] ca_file`` names
  one (internal services whose certificates that CA signs); ``[http] verify_tls = false`` turns it off.
- **Timeouts**: ``[http] connect_timeout_s`` to connect, ``timeout_s`` per read and write (the
  prober also bounds each whole exchange by ``timeout_s``).
- **Redirects** are never followed by a client. An entry with ``follow_redirects = true`` follows
  them on its own origin (or an https upgrade of its host, :func:`follows`), each next request
  built by httpx (``Response.next_request``): the method and body as RFC 9110 says (a 307/308
  POST keeps its body, a 303 becomes a GET without one), ``Cookie`` dropped, ``Authorization``
  dropped off the origin.
- **Cookies**: no jar keeps what an answer sets; a probe stays anonymous.
- **Headers**: ``User-Agent: smokeproof`` on every request; ``[http] headers`` only to the
  target's origin (``base_url``), never to another host (an identity provider's token URL, an
  absolute wait URL), :func:`target_headers`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TypedDict

import httpx

from smokeproof.config.environment import Environment
from smokeproof.config.secrets import reveal
from smokeproof.config.tables import HttpTable

USER_AGENT = "smokeproof"
NO_AUTH = httpx.Auth()  # not even the Basic credentials of a URL's user:password part


class _ClientOptions(TypedDict):
    timeout: httpx.Timeout
    follow_redirects: bool
    trust_env: bool
    headers: dict[str, str]
    cookies: CookieJar
    auth: httpx.Auth


def timeout(http: HttpTable) -> httpx.Timeout:
    return httpx.Timeout(http.timeout_s, connect=http.connect_timeout_s)


def tls(http: HttpTable) -> ssl.SSLContext:
    """The TLS context (certifi's bundle and ``[http] ca_file``, read once per call: share it between transports)."""
    context = httpx.create_ssl_context(verify=http.verify_tls)
    if http.verify_tls and http.ca_file:
        context.load_verify_locations(cafile=http.ca_file)
    return context


def transport(
    http: HttpTable, *, verify: ssl.SSLContext | None = None, limits: httpx.Limits | None = None
) -> httpx.AsyncHTTPTransport:
    """A connection pool (one connection with ``limits``) on the policy's TLS, retries and no environment settings."""
    return httpx.AsyncHTTPTransport(
        verify=verify if verify is not None else tls(http),
        retries=http.retries,
        limits=limits if limits is not None else httpx.Limits(),
        trust_env=False,
    )


def client(
    http: HttpTable,
    *,
    headers: Mapping[str, str] | None = None,
    via: httpx.AsyncBaseTransport | None = None,
    keep_alive: bool = True,
) -> httpx.AsyncClient:
    """An async client on the policy; ``via`` a transport of its own (a lane), ``keep_alive=False`` a connection per request."""
    if via is None:
        via = transport(http, limits=None if keep_alive else httpx.Limits(max_keepalive_connections=0))
    return httpx.AsyncClient(transport=via, **_options(http, headers))


def blocking_client(http: HttpTable, *, headers: Mapping[str, str] | None = None) -> httpx.Client:
    """A blocking client on the same policy, for the command line (``smokeproof init --openapi``)."""
    via = httpx.HTTPTransport(verify=tls(http), retries=http.retries, trust_env=False)
    return httpx.Client(transport=via, **_options(http, headers))


def _options(http: HttpTable, headers: Mapping[str, str] | None) -> _ClientOptions:
    return {
        "timeout": timeout(http),
        "follow_redirects": False,
        "trust_env": False,
        "headers": {"User-Agent": USER_AGENT, **(headers or {})},
        "cookies": _no_cookies(),
        "auth": NO_AUTH,
    }


def _no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing: an answer's ``Set-Cookie`` is never sent again."""
    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))


def origin(url: httpx.URL | str) -> tuple[str, str, int | None]:
    url = httpx.URL(url)
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def follows(start: httpx.URL | str, target: httpx.URL | str) -> bool:
    """Whether a redirect from ``start`` to ``target`` is followed: the same origin, or an https upgrade of its host.

    A downgrade to http (even on the same host and port) or another host is reported, never followed:
    the request carries the entry's credentials.
    """
    scheme, host, port = origin(start)
    to_scheme, to_host, to_port = origin(target)
    if (scheme, host, port) == (to_scheme, to_host, to_port):
        return True
    return host == to_host and (scheme, port, to_scheme, to_port) == ("http", 80, "https", 443)


def target_headers(env: Environment, url: str) -> dict[str, str]:
    """``[http] headers`` for a request to ``url``: only on the target's origin (``base_url``)."""
    if env.base_url is None or origin(url) != origin(env.base_url):
        return {}
    return {key: reveal(value) for key, value in env.headers}
