"""The demo target: a replica of the incident's auth service (Starlette + asyncpg).

As in the real service, every request on the auth path (``/api/v1/auth/*``, ``/api/v1/admin/*``)
first loads the caller's hierarchy relationships from the database, *before* deciding 401, 403
or 200. With the hierarchy tables missing, those endpoints answer 500 from the database error,
exactly as production did on 19 September 2025.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.faults import Faults
from demo.migrate import code_head

log = logging.getLogger("demo")
AUTH0_TENANT = "marketedge.eu.auth0.com"
CLIENT_ID = "mUx9ZEBRAdemoClient"
DEFAULT_REDIRECT = "https://app.marketedge.example/callback"

# The session loader's eager load: the query the deployed code ran on every auth request.
HIERARCHY_QUERY = """
SELECT a.role, n.level, o.permission, o.granted
FROM user_hierarchy_assignments a
JOIN organization_hierarchy n ON n.id = a.hierarchy_node_id
LEFT JOIN hierarchy_permission_overrides o ON o.user_id = a.user_id AND o.hierarchy_node_id = n.id
WHERE a.user_id = $1::uuid
"""
ANONYMOUS = "00000000-0000-0000-0000-000000000000"


def create_app(*, database_url: str, build: str, jwt_secret: str, faults: Faults) -> Starlette:
    """The app; ``build`` is ``healthy`` or ``incident`` (which carries the emergency route)."""
    head = code_head()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(database_url, min_size=1, max_size=8, timeout=5, command_timeout=5)
        try:
            yield
        finally:
            await app.state.pool.close()

    async def load_hierarchy(request: Request, user_id: str) -> list[Any]:
        async with request.app.state.pool.acquire() as conn:
            return list(await conn.fetch(HIERARCHY_QUERY, user_id))

    def bearer(request: Request) -> dict[str, Any] | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        if faults.jwt_segments:
            # The bug: peeking at the header before verifying assumes three segments.
            header_b64, _payload, _signature = token.split(".")
            del header_b64
        try:
            claims: dict[str, Any] = jwt.decode(token, jwt_secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
        except jwt.PyJWTError:
            return None
        return claims

    async def authenticate(request: Request) -> dict[str, Any] | None:
        """Load the session (hierarchy first, as the real service does), then check the token."""
        claims = bearer(request)
        await load_hierarchy(request, str(claims["sub"]) if claims else ANONYMOUS)
        return claims

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "alembic_revision": head})

    async def session_check(request: Request) -> Response:
        await load_hierarchy(request, ANONYMOUS)
        if not request.cookies.get("session"):
            return JSONResponse({"detail": "No active session"}, status_code=401)
        return JSONResponse({"detail": "Session not recognised"}, status_code=401)

    async def auth0_url(request: Request) -> Response:
        await load_hierarchy(request, ANONYMOUS)
        query = urlencode(
            {
                "client_id": CLIENT_ID,
                "redirect_uri": request.query_params.get("redirect_uri", DEFAULT_REDIRECT),
                "response_type": "code",
                "scope": "openid profile email",
                "state": secrets.token_urlsafe(16),
            }
        )
        return JSONResponse({"auth_url": f"https://{AUTH0_TENANT}/authorize?{query}"})

    async def me(request: Request) -> Response:
        if faults.slow_me:
            await asyncio.sleep(1.5)
        if faults.me_500:
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        claims = await authenticate(request)
        if claims is None:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return JSONResponse({"id": claims["sub"], "email": claims.get("email"), "role": claims.get("role")})

    async def feature_flags(request: Request) -> Response:
        claims = await authenticate(request)
        if claims is None and not faults.leak_admin:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        if claims is not None and claims.get("role") != "super_admin":
            return JSONResponse({"detail": "super_admin role required"}, status_code=403)
        async with request.app.state.pool.acquire() as conn:
            rows = await conn.fetch("SELECT key, enabled FROM feature_flags ORDER BY key")
        return JSONResponse([{"key": r["key"], "enabled": r["enabled"]} for r in rows])

    async def emergency(request: Request) -> Response:
        # The incident's hand-written SQL endpoint; the replica does nothing.
        return JSONResponse({"success": True, "message": "User application access tables created successfully"})

    routes = [
        Route("/api/v1/health", health),
        Route("/api/v1/auth/session/check", session_check),
        Route("/api/v1/auth/auth0-url", auth0_url),
        Route("/api/v1/auth/me", me),
        Route("/api/v1/admin/feature-flags", feature_flags),
    ]
    if build == "incident":
        routes.append(Route("/api/v1/auth/emergency/create-user-application-access-table", emergency, methods=["POST"]))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed: %s: %s", request.method, request.url.path, exc.__class__.__name__, exc)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={Exception: server_error})


def mint(secret: str, *, sub: str, email: str, role: str, ttl_s: int = 3600) -> str:
    """An HS256 token as the real service's Auth0 exchange would issue."""
    now = int(time.time())
    return jwt.encode({"sub": sub, "email": email, "role": role, "iat": now, "exp": now + ttl_s}, secret, algorithm="HS256")
