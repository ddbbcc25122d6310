"""Secrets by their shape: the credentials a run did not know before it saw them.

:class:`~smokeproof.config.secrets.Redactor` masks the values it knows (every ``${VAR}``, every
token). An answer can carry credentials nobody declared: a freshly minted JWT in ``GET /api/user``,
a login answer's ``access_token``, a ``Set-Cookie`` session. :class:`Shapes` finds those by their
form, in any text:

* JWT-shaped values: three base64url segments whose first decodes to a JSON object (the header);
* the string values of JSON keys that name credentials (``token``, ``access_token``, ``password``,
  ``client_secret``, ``api_key``...; ``accessToken`` and ``access-token`` match too, without case),
  and the same keys as ``key=value`` in query strings and form bodies;
* the values of credential headers (``Authorization``, ``Set-Cookie``...), scheme and cookie names kept;
* whatever ``[redact] keys`` and ``[redact] patterns`` add.

Masking keeps the shape readable (``"token": "eyJ…***"``) and every value it masks is reported to
the caller (the redactor learns it, so the same value is masked in any later text, whatever its
context). Nothing here changes what a check judges: checks see the real answer; only text written
for people goes through this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable

MASK = "***"
JWT_PREFIX_MASK = "eyJ…" + MASK
MASKS = frozenset({MASK, JWT_PREFIX_MASK})
DEFAULT_KEYS = (
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "authorization",
)
# A JWT's header is a JSON object: its base64url starts "ey" ('{"' or '{ ') or "ew" ('{\n').
# (No look-behind: it would cost every position of every text; the character before is checked on a match.)
JWT = re.compile(r"(e[wy][A-Za-z0-9_\-]{14,})\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
KEY = r"[A-Za-z_][A-Za-z0-9_\-]{0,63}"
# "key": "value": the closing quote is not required, so a body cut mid-value still has its value masked.
JSON_PAIR = re.compile(rf'"({KEY})"\s*:\s*"(?=[^"])([^"\\]*(?:\\.[^"\\]*)*)')
# key=value in a query string, a fragment or a form body (a longer key containing a credential's name does not match)
FORM_PAIR = re.compile(rf"({KEY})=([^&\s\"'#;,<>]+)")
# Credential headers: (kept part, masked value) so "Bearer ***" and "session=***; Path=/" still read.
AUTH_VALUE = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9_.\-]*\s+)?(.+)$", re.S)
SCHEMED_HEADERS = frozenset({"authorization", "proxy-authorization"})
COOKIE_PAIR = re.compile(r"([^=;,\s]+=)([^;,]*)")

Learn = Callable[[str], None]


def is_jwt(text: str) -> bool:
    """True when ``text`` is three dot-separated base64url segments, the first a JSON object."""
    match = JWT.fullmatch(text)
    return match is not None and _json_header(match.group(1))


def _json_header(segment: str) -> bool:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict)


def preview(value: str) -> str:
    """How a masked value reads: a JWT keeps its public ``eyJ`` prefix, anything else is ``***``."""
    return JWT_PREFIX_MASK if value.startswith("eyJ") and is_jwt(value) else MASK


def _normal(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _longest_word(key: str) -> str:
    # Whatever spelling the key has in a text (accessToken, access-token), this part of it is in its lower case.
    return max(re.split(r"[_\-]|(?<=[a-z0-9])(?=[A-Z])", key), key=len).lower()


class Shapes:
    """Finds credentials by their form in any text (see the module's docstring)."""

    def __init__(self, *, keys: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        names = [k for k in (*DEFAULT_KEYS, *keys) if k]
        self._keys = frozenset(map(_normal, names))
        self._words = tuple(sorted({_longest_word(k) for k in names}))
        self._patterns = tuple(re.compile(p) for p in patterns)

    def mask(self, text: str, learn: Learn) -> str:
        """``text`` with every credential-shaped value masked; each masked value is passed to ``learn``."""

        def keyed(match: re.Match[str]) -> str:
            if _normal(match.group(1)) not in self._keys or match.group(2) in MASKS:  # masked already: text is redacted twice
                return match.group(0)
            learn(match.group(2))
            return match.group(0)[: match.start(2) - match.start(0)] + preview(match.group(2))

        def jwt(match: re.Match[str]) -> str:
            start = match.start()
            if (start and match.string[start - 1] in BASE64URL) or not _json_header(match.group(1)):
                return match.group(0)
            learn(match.group(0))
            return JWT_PREFIX_MASK

        def whole(match: re.Match[str]) -> str:
            learn(match.group(0))
            return MASK

        lower = text.lower()
        if any(word in lower for word in self._words):  # most answers name no credential at all
            if '"' in text:
                text = JSON_PAIR.sub(keyed, text)
            if "=" in text:
                text = FORM_PAIR.sub(keyed, text)
        if "e" in text and "." in text:
            text = JWT.sub(jwt, text)
        for pattern in self._patterns:
            text = pattern.sub(whole, text)
        return text


def mask_header(name: str, value: str, learn: Learn) -> str:
    """A credential header's value with the credential masked and its frame kept.

    ``Bearer ***``, ``session=***; Path=/; HttpOnly`` (a ``Set-Cookie``), ``a=***; b=***`` (a ``Cookie``).
    """
    lower = name.lower()
    if lower in ("set-cookie", "cookie"):
        pairs = COOKIE_PAIR.findall(value.split(";", 1)[0] if lower == "set-cookie" else value)
        if not pairs:
            learn(value)
            return MASK
        for _, secret in pairs:
            learn(secret)
        masked = "; ".join(f"{key}{MASK}" for key, _ in pairs)
        return masked + (";" + value.split(";", 1)[1] if lower == "set-cookie" and ";" in value else "")
    match = AUTH_VALUE.match(value) if lower in SCHEMED_HEADERS else None
    if match is None or match.group(1) is None:
        learn(value)
        return MASK
    learn(match.group(2))
    return f"{match.group(1).strip()} {MASK}"
