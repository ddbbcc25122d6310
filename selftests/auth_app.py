"""A loopback service with real logins, as a RealWorld ("Conduit") API or a FastAPI template has them.

Every token it hands out is minted fresh (random, JWT-shaped where a real service would use a JWT),
so the self-tests can search the reports for values the suite did not know before the run:

* ``POST /login/form`` (form: username, password) -> ``{"access_token": <JWT>}`` and a ``Set-Cookie`` session;
* ``POST /login/json`` (``{"user": {"email", "password"}}``) -> ``{"user": {"email", "token": <JWT>}}``;
* ``POST /oauth/token`` (client credentials, in the body or as HTTP Basic) -> an OAuth token answer;
* ``GET /api/user`` (``Authorization: Token <JWT from /login/json>``) -> the user, a *new* JWT, a password field;
* ``GET /api/admin`` (``Bearer`` + the form login's token), ``GET /api/service`` (``Bearer`` + an OAuth token);
* ``GET /api/token-only`` (``Token <STATIC>`` only: 403 "unsupported authorization type" for ``Bearer``);
* ``GET /api/keyed`` (``X-API-Key: <STATIC>``, no scheme);
* ``POST /echo`` answers what it got (content type and body).

A wrong credential gets 401/400 with a body that quotes nothing secret. Every request is logged
(path and headers), so a test can see which header the probes used.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

EMAIL = "admin@example.com"
PASSWORD = "canary-admin-pw-6620"
CLIENT_ID = "svc-client"
CLIENT_SECRET = "canary-client-secret-9153"
STATIC = "canary-static-token-4417"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def mint_jwt(subject: str) -> str:
    """A JWT-shaped token with a random signature (nobody verifies it but this app)."""
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': subject, 'jti': secrets.token_hex(8)})}.{secrets.token_urlsafe(32)}"


@dataclass
class AuthApp:
    """The ASGI app; ``minted`` holds every secret it handed out (the canaries the suite never knew)."""

    minted: list[str] = field(default_factory=list)
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    valid: dict[str, str] = field(default_factory=dict)  # token -> which grant made it
    hits: dict[str, int] = field(default_factory=dict)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _mint(self, kind: str, token: str) -> str:
        self.minted.append(token)
        self.valid[token] = kind
        return token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = request.url.path
        self.hits[path] = self.hits.get(path, 0) + 1
        self.log.append((path, dict(request.headers)))
        body = await request.body()
        handler = ROUTES.get((request.method, path))
        response = handler(self, request, body) if handler else JSONResponse({"detail": "Not Found"}, 404)
        await response(scope, receive, send)

    def authorized(self, request: Request, scheme: str, kind: str) -> bool:
        word, _, token = request.headers.get("authorization", "").partition(" ")
        return word == scheme and self.valid.get(token) == kind


def _form_login(app: AuthApp, request: Request, body: bytes) -> Response:
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if form.get("username") != EMAIL or form.get("password") != PASSWORD:
        return JSONResponse({"detail": "Incorrect email or password"}, 400)
    token = app._mint("form", mint_jwt(EMAIL))
    session = app._mint("cookie", secrets.token_urlsafe(24))
    response = JSONResponse({"access_token": token, "token_type": "bearer"})
    response.set_cookie("session", session, httponly=True)
    return response


def _json_login(app: AuthApp, request: Request, body: bytes) -> Response:
    user = json.loads(body or b"{}").get("user", {})
    if user.get("email") != EMAIL or user.get("password") != PASSWORD:
        return JSONResponse({"errors": {"email or password": ["is invalid"]}}, 422)
    return JSONResponse({"user": {"email": EMAIL, "token": app._mint("json", mint_jwt(EMAIL))}})


def _oauth(app: AuthApp, request: Request, body: bytes) -> Response:
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    basic = request.headers.get("authorization", "")
    if basic.startswith("Basic "):
        client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if form.get("grant_type") != "client_credentials" or (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
        return JSONResponse({"error": "invalid_client"}, 401)
    token = app._mint("oauth", secrets.token_urlsafe(40))
    refresh = app._mint("refresh", secrets.token_urlsafe(40))
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh})


def _user(app: AuthApp, request: Request, body: bytes) -> Response:
    if not app.authorized(request, "Token", "json"):
        return JSONResponse({"errors": {"token": ["unsupported authorization type or invalid token"]}}, 403)
    fresh = app._mint("json", mint_jwt(EMAIL))
    return JSONResponse(
        {"user": {"email": EMAIL, "token": fresh, "bio": None}, "password": app._mint("pw", secrets.token_hex(12))}
    )


def _guarded(scheme: str, kind: str) -> object:
    def handler(app: AuthApp, request: Request, body: bytes) -> Response:
        if not app.authorized(request, scheme, kind):
            return JSONResponse({"detail": "Not authenticated"}, 401)
        return JSONResponse({"ok": True})

    return handler


def _token_only(app: AuthApp, request: Request, body: bytes) -> Response:
    if request.headers.get("authorization") != f"Token {STATIC}":
        return JSONResponse({"detail": "unsupported authorization type"}, 403)
    return JSONResponse({"ok": True})


def _keyed(app: AuthApp, request: Request, body: bytes) -> Response:
    if request.headers.get("x-api-key") != STATIC:
        return JSONResponse({"detail": "invalid API key"}, 401)
    return JSONResponse({"ok": True})


def _echo(app: AuthApp, request: Request, body: bytes) -> Response:
    return JSONResponse({"content_type": request.headers.get("content-type", ""), "body": body.decode()})


ROUTES = {
    ("POST", "/login/form"): _form_login,
    ("POST", "/login/json"): _json_login,
    ("POST", "/oauth/token"): _oauth,
    ("GET", "/api/user"): _user,
    ("GET", "/api/admin"): _guarded("Bearer", "form"),
    ("GET", "/api/service"): _guarded("Bearer", "oauth"),
    ("GET", "/api/token-only"): _token_only,
    ("GET", "/api/keyed"): _keyed,
    ("POST", "/echo"): _echo,
}
