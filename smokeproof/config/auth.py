"""Credentials an environment file declares: static tokens, logins and OAuth2 clients.

```toml
[auth]
bearer_token = "${SMOKE_TOKEN}"      # auth = "bearer": Authorization: Bearer <value>
scheme = "Bearer"                    # the scheme word for bearer_token

[auth.tokens.conduit]                # auth = "conduit" (or tokens = { conduit = "${VAR}" }: Bearer)
value = "${SVC_TOKEN}"
scheme = "Token"                     # "" sends the value alone
header = "Authorization"             # or "X-API-Key"

[auth.login.admin]                   # the run logs in once and reads the token from the answer
path = "/api/v1/login/access-token"  # or url = "https://idp.example.com/token"
form = { username = "${ADMIN_EMAIL}", password = "${ADMIN_PASSWORD}" }   # or json = { ... }
token_pointer = "/access_token"

[auth.login.api]                     # HTTP Basic on the login request, the token at another pointer
path = "/api/tokens"
basic = { username = "${API_USER}", password = "${API_PASSWORD}" }
headers = { "X-Client" = "smoke" }   # method = "POST" (default)
token_pointer = "/token"

[auth.login.web]                     # a session login: the cookie is the credential
path = "/auth/login"
form = { username = "${WEB_USER}", password = "${WEB_PASSWORD}" }
cookie = "session"                   # taken from the login's answer (2xx or 3xx, redirects not followed)
csrf = { path = "/auth/login", field = "csrf_token" }   # GET the form first, send its CSRF token back

[auth.oauth2.service]                # OAuth2 client credentials
token_url = "https://idp.example.com/oauth/token"
client_id = "${CLIENT_ID}"
client_secret = "${CLIENT_SECRET}"
token_pointer = "/access_token"      # basic, headers and method as on a login
```

The session login's mechanics (the CSRF token, the cookie) are :mod:`smokeproof.http.session_login`'s.

A token a check needs but the file lacks skips that check; a ``${VAR}`` that is set but empty where
a credential, a URL or a header is needed stops the run (exit 4): CI turns a missing secret into an
empty variable, and a request with an empty credential would blame the server for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smokeproof.config.secrets import Secret
from smokeproof.errors import UsageError

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
COOKIE_NAME = HEADER_NAME  # RFC 6265: a cookie name is a token too
SCHEME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]*$")
# Keys of an environment file where an empty ${VAR} is an error, not a value.
NEEDS_VALUE = (
    "base_url",
    "database_url",
    "databases",
    "revision.url",
    "revision.expected",
    "wait.revision",
    "http.headers.",
    "auth.",
)


def http_url(value: str) -> str:
    """An absolute http(s) URL a request can be built from, checked when the file loads (not at the first request)."""
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("a URL holds no spaces or control characters (percent-encode them)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if not parts.hostname:
        raise ValueError("the URL names no host")
    return value


class Table(BaseModel):
    # strict: a TOML string "no" is not a boolean, "10" is not a number
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Sent(Table):
    scheme: str = "Bearer"
    header: str = "Authorization"

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not SCHEME.match(value):
            raise ValueError('a scheme is one word (Bearer, Token), or "" to send the value alone')
        return value

    @field_validator("header")
    @classmethod
    def _header(cls, value: str) -> str:
        if not HEADER_NAME.match(value):
            raise ValueError("not an HTTP header name")
        return value


class TokenTable(_Sent):
    value: str


class BasicTable(Table):
    username: str
    password: str


class CsrfTable(Table):
    path: str  # the page whose answer holds the token (the login form)
    field: str  # the hidden input's name (or the <meta> name, or the cookie's)
    header: str | None = None  # also send the token in this header (Django: X-CSRFToken)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value


class _Request(_Sent):
    """What a login and an OAuth2 grant share: how the request is sent, where the token is in the answer."""

    basic: BasicTable | None = None  # HTTP Basic on the login request
    headers: dict[str, str] = {}
    method: str = "POST"
    token_pointer: str = "/access_token"

    @field_validator("token_pointer")
    @classmethod
    def _pointer(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("an RFC 6901 pointer: it starts with '/'")
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in ("GET", "POST", "PUT", "PATCH"):
            raise ValueError("GET, POST, PUT or PATCH")
        return value.upper()

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name in value if not HEADER_NAME.match(name)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an HTTP header name")
        return value


class LoginTable(_Request):
    path: str | None = None
    url: str | None = None
    form: dict[str, str] | None = None
    json_: dict[str, Any] | None = Field(default=None, alias="json")
    cookie: str | None = None  # a session login: this cookie of the answer is the credential
    csrf: CsrfTable | None = None

    @model_validator(mode="after")
    def _one_target_one_body(self) -> LoginTable:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either 'path' (on base_url) or 'url'")
        if self.path is not None and not self.path.startswith("/"):
            raise ValueError("'path' must start with '/'")
        if self.url is not None:
            try:
                http_url(self.url)
            except ValueError as exc:
                raise ValueError(f"'url': {exc}") from None
        if self.form is not None and self.json_ is not None:
            raise ValueError("give either 'form' or 'json' (what the login request sends), not both")
        userinfo = self.url is not None and urlsplit(self.url).username is not None  # sent as HTTP Basic
        if self.form is None and self.json_ is None and self.basic is None and not userinfo:
            raise ValueError("give 'form', 'json' or 'basic' (what the login request sends)")
        try:
            json.dumps(self.json_)
        except (TypeError, ValueError):
            raise ValueError("'json' holds a value JSON cannot carry (a TOML date or time?): quote it as a string") from None
        if self.cookie is not None and not COOKIE_NAME.match(self.cookie):
            raise ValueError("'cookie' is not a cookie name")
        if self.csrf is not None and self.cookie is None:
            raise ValueError("'csrf' goes with a session login: set 'cookie' too")
        return self


class OAuth2Table(_Request):
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None
    audience: str | None = None
    client_auth: Literal["body", "basic"] = "body"

    @field_validator("token_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


class AuthTable(Table):
    bearer_token: str | None = None
    scheme: str = "Bearer"
    tokens: dict[str, str | TokenTable] = {}
    login: dict[str, LoginTable] = {}
    oauth2: dict[str, OAuth2Table] = {}


class RedactTable(Table):
    keys: list[str] = []
    patterns: list[str] = []

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc})") from None
        return value


@dataclass(frozen=True)
class Sent:
    """How a token travels: ``header: scheme value`` (the value alone when the scheme is empty), or as ``cookie``."""

    header: str = "Authorization"
    scheme: str = "Bearer"
    cookie: str | None = None  # a session cookie of this name (header Cookie: name=value)

    def value(self, token: str) -> str:
        if self.cookie is not None:
            return f"{self.cookie}={token}"
        return f"{self.scheme} {token}" if self.scheme else token


@dataclass(frozen=True)
class Csrf:
    """Where a session login's CSRF token is read (GET ``path``), under which name it goes back."""

    path: str
    field: str
    header: str | None = None


@dataclass(frozen=True)
class Request:
    """How a token request goes out besides its body: method, extra headers, HTTP Basic."""

    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    basic: tuple[str, Secret] | None = None  # (username, password)


@dataclass(frozen=True)
class Login:
    """A login request whose JSON answer holds a token at ``pointer``, or whose answer sets ``cookie``."""

    name: str
    sent: Sent
    url: str  # absolute, or a path on base_url
    form: Mapping[str, str] | None
    json: Mapping[str, Any] | None
    pointer: str
    request: Request = Request()
    cookie: str | None = None
    csrf: Csrf | None = None


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth2 client-credentials grant (RFC 6749, section 4.4)."""

    name: str
    sent: Sent
    url: str
    client_id: str
    client_secret: Secret
    scope: str | None
    audience: str | None
    client_auth: Literal["body", "basic"]
    pointer: str = "/access_token"
    request: Request = Request()


Obtained = Login | ClientCredentials


@dataclass(frozen=True)
class Tokens:
    """Every token an environment declares, by the name entries give in ``auth = "NAME"``."""

    static: Mapping[str, Secret] = field(default_factory=dict)
    sent: Mapping[str, Sent] = field(default_factory=dict)
    obtained: Mapping[str, Obtained] = field(default_factory=dict)

    def declared(self, name: str) -> bool:
        return name in self.static or name in self.obtained

    def how(self, name: str) -> Sent:
        return self.sent.get(name, Sent())

    def headers(self) -> frozenset[str]:
        """The header names tokens travel in (their values are masked in every report)."""
        return frozenset(s.header.lower() for s in self.sent.values())

    def with_static(self, values: Mapping[str, str]) -> Tokens:
        """These tokens, plus values a started target reported (sent as declared, or as Bearer)."""
        return Tokens({**self.static, **{k: Secret(v) for k, v in values.items()}}, self.sent, self.obtained)


def tokens(auth: AuthTable, *, file: Path) -> Tokens:
    """The validated ``[auth]`` table as :class:`Tokens`."""
    static: dict[str, Secret] = {}
    sent: dict[str, Sent] = {}
    for name, token in auth.tokens.items():
        table = TokenTable(value=token) if isinstance(token, str) else token
        static[name], sent[name] = Secret(table.value), Sent(table.header, table.scheme)
    if auth.bearer_token:
        static["bearer"], sent["bearer"] = Secret(auth.bearer_token), Sent(scheme=auth.scheme)
    obtained: dict[str, Obtained] = {}
    for name, login in auth.login.items():
        where = login.url or login.path
        assert where is not None
        sent_as = Sent("Cookie", "", login.cookie) if login.cookie else Sent(login.header, login.scheme)
        csrf = Csrf(login.csrf.path, login.csrf.field, login.csrf.header) if login.csrf else None
        obtained[name] = Login(
            name, sent_as, where, login.form, login.json_, login.token_pointer, _request(login), login.cookie, csrf
        )
    for name, client in auth.oauth2.items():
        obtained[name] = ClientCredentials(
            name,
            Sent(client.header, client.scheme),
            client.token_url,
            client.client_id,
            Secret(client.client_secret),
            client.scope,
            client.audience,
            client.client_auth,
            client.token_pointer,
            _request(client),
        )
    sent.update({name: spec.sent for name, spec in obtained.items()})
    both = sorted(set(static) & set(obtained))
    if both:
        raise UsageError(f"token '{both[0]}' is declared twice ([auth.tokens] and [auth.login] or [auth.oauth2])", file=file)
    return Tokens(static, sent, obtained)


def _request(table: _Request) -> Request:
    basic = (table.basic.username, Secret(table.basic.password)) if table.basic else None
    return Request(table.method, dict(table.headers), basic)


def refuse_empty(empty: Iterable[tuple[str, str]], *, file: Path, needs_value: Iterable[str] = NEEDS_VALUE) -> None:
    """Exit 4 when a ``${VAR}`` that is set but empty fills a key that needs a value."""
    prefixes = tuple(needs_value)
    for variable, where in empty:
        if where.startswith(prefixes) or any(f".{p}" in where for p in prefixes if p.endswith(".")):
            raise UsageError(
                f"environment variable ${{{variable}}} is set but empty, and key '{where}' needs a value "
                "(a CI secret that is not defined arrives as an empty variable)",
                file=file,
            )
