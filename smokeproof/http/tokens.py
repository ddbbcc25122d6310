"""Tokens the run obtains itself: a login request, or an OAuth2 client-credentials grant.

Each token is requested once per run, the first time a check needs it, on the probes' event loop
and through the probes' lanes (so the same timeouts, TLS settings and body cap apply); tokens
needed by different checks are requested concurrently, and each check waits only for its own.
A token lives in memory only and joins the redactor the moment it arrives, as do the credentials
that obtained it (they came from ``${VAR}``).

A token that cannot be obtained is not a skip: every check that needs it fails, in the
"Authentication setup" category, with one line saying which token, which request, and what it
answered (redacted). Whatever stops the token request (an answer without a token, a URL httpx
refuses, a body that cannot be encoded) is a :class:`TokenUnavailable`: nothing that goes wrong
here may leave a check waiting for a token that will never come. The declared request is sent
even to production: it is what the file asks for.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

from smokeproof import json_pointer
from smokeproof.config.auth import ClientCredentials, Login, Obtained, Tokens
from smokeproof.config.secrets import Redactor
from smokeproof.errors import reason
from smokeproof.http.token_request import ANSWER_CHARS, FORM, JSON, Send, TokenUnavailable, encode, request_headers
from smokeproof.verdict import Area, Category, Verdict

if TYPE_CHECKING:
    from smokeproof.http.contracts import EndpointContract


class TokenBroker:
    """Obtains the run's tokens on demand, once each; lives on the probes' event loop."""

    def __init__(self, tokens: Tokens, *, base_url: str | None, send: Send, redactor: Redactor) -> None:
        self.tokens = tokens
        self.base_url = base_url
        self.send = send
        self.redactor = redactor
        self._tasks: dict[str, asyncio.Task[str]] = {}

    def value(self, name: str) -> str:
        """The token's value; an obtained one must have been awaited with :meth:`get` first."""
        if name in self.tokens.static:
            return self.tokens.static[name].reveal()
        task = self._tasks[name]
        return task.result()

    async def get(self, name: str) -> str:
        """The token, requested now if nobody asked for it before (raises :class:`TokenUnavailable`)."""
        if name in self.tokens.static:
            return self.tokens.static[name].reveal()
        task = self._tasks.get(name)
        if task is None:
            task = self._tasks[name] = asyncio.ensure_future(self._obtain(self.tokens.obtained[name]))
        return await asyncio.shield(task)

    async def _obtain(self, spec: Obtained) -> str:
        try:
            return await self._request_token(spec)
        except TokenUnavailable:
            raise
        except Exception as exc:  # anything else: the checks that wait for this token must hear why, not hang
            raise TokenUnavailable(self.redactor(f"token '{spec.name}': the request could not be made: {reason(exc)}")) from None

    async def _request_token(self, spec: Obtained) -> str:
        if isinstance(spec, Login) and spec.cookie is not None:
            from smokeproof.http import session_login

            return await session_login.obtain(spec, self.absolute(spec.name, spec.url), send=self.send, redactor=self.redactor)
        method, url, headers, body = self._request(spec)
        exchange = await self.send(method, url, headers, body)
        where = f"token '{spec.name}': {method} {self.redactor(url)}"
        if exchange.error is not None:
            raise TokenUnavailable(f"{where}: {self.redactor(exchange.error)}")
        answer = self.redactor.clip(exchange.text, ANSWER_CHARS).replace("\n", " ")
        if exchange.status is None or not 200 <= exchange.status < 300:
            raise TokenUnavailable(f"{where} answered {exchange.status}: {answer or '(empty body)'}")
        pointer = spec.pointer
        try:
            token = json_pointer.resolve(json.loads(exchange.body), pointer)
        except (LookupError, ValueError):
            raise TokenUnavailable(f"{where} answered {exchange.status} without a token at {pointer}: {answer}") from None
        if not isinstance(token, str) or not token.strip():
            raise TokenUnavailable(f"{where} answered {exchange.status}, but {pointer} is not a non-empty string: {answer}")
        self.redactor.add(token, credential=True)
        return token

    def absolute(self, name: str, url: str) -> str:
        """A login's URL: a path is on base_url."""
        if not url.startswith("/"):
            return url
        if self.base_url is None:
            raise TokenUnavailable(f"token '{name}': the environment has no base_url for {url}")
        return self.base_url + url

    def _request(self, spec: Obtained) -> tuple[str, str, dict[str, str], bytes]:
        headers = {"Accept": JSON}
        if isinstance(spec, Login):
            url, basic = without_userinfo(self.absolute(spec.name, spec.url))
            body = b""
            if spec.form is not None or spec.json is not None:
                body, headers["Content-Type"] = encode(form=spec.form, json_body=spec.json)
            return spec.request.method, url, request_headers(spec.request, headers | basic), body
        url, basic = without_userinfo(spec.url)
        return spec.request.method, url, request_headers(spec.request, headers | basic | _client_auth(spec)), _grant(spec)


def without_userinfo(url: str) -> tuple[str, dict[str, str]]:
    """The URL without ``user:password@``, and those as an HTTP Basic header (the run's transports send no userinfo)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _grant(spec: ClientCredentials) -> bytes:
    form = {"grant_type": "client_credentials"}
    if spec.client_auth == "body":
        form |= {"client_id": spec.client_id, "client_secret": spec.client_secret.reveal()}
    if spec.scope:
        form["scope"] = spec.scope
    if spec.audience:
        form["audience"] = spec.audience
    return urlencode(form).encode()


def _client_auth(spec: ClientCredentials) -> dict[str, str]:
    headers = {"Content-Type": FORM}
    if spec.client_auth == "basic":  # RFC 6749 2.3.1: both parts form-encoded, then joined
        pair = f"{quote(spec.client_id, safe='')}:{quote(spec.client_secret.reveal(), safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return headers


def setup_failure(contract: EndpointContract, reason: str) -> Verdict:
    """The verdict of a check whose token could not be obtained."""
    return Verdict(
        check=contract.test_id,
        area=Area.ENDPOINTS,
        expected="/".join(str(s) for s in contract.status),
        actual="no token",
        ok=False,
        headline=f"{contract.test_id}: not sent: {reason}",
        sections=(
            ("what it means", "the run could not authenticate, so nothing is known about what this route answers a caller"),
            ("what to do", "check the credentials the environment gives (and the login or token endpoint's health)"),
        ),
        category=Category.AUTH_SETUP,
        severity=contract.severity,
        feature=contract.feature,
        story=contract.id,
    )
