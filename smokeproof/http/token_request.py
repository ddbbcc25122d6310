"""The request a login or a token grant sends, and how it fails: shared by the token and the session logins.

No module here imports :mod:`smokeproof.http.tokens` or :mod:`smokeproof.http.session_login`: both
build on this one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from smokeproof.config.auth import Request

if TYPE_CHECKING:
    from smokeproof.http.exchange import Exchange

__all__ = ["ANSWER_CHARS", "FORM", "JSON", "Send", "TokenUnavailable", "encode", "request_headers"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ANSWER_CHARS = 200

# (method, url, headers, body) -> the exchange, sent on a lane
Send = Callable[[str, str, Mapping[str, str], bytes], Awaitable["Exchange"]]


class TokenUnavailable(Exception):
    """Why a token could not be obtained: one line, already redacted."""


def encode(*, form: Mapping[str, str] | None = None, json_body: Any = None) -> tuple[bytes, str]:
    """A request body and its content type."""
    if form is not None:
        return urlencode(form).encode(), FORM
    return json.dumps(json_body).encode(), JSON


def request_headers(request: Request, headers: Mapping[str, str]) -> dict[str, str]:
    """``headers``, then the request's own, then its HTTP Basic credentials (RFC 7617)."""
    merged = {**headers, **request.headers}
    if request.basic is not None:
        username, password = request.basic
        pair = f"{username}:{password.reveal()}".encode()
        merged["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return merged
