"""Secrets: one wrapper type, one redactor.

Every value that came from ``${VAR}`` and every password in a URL is wrapped in :class:`Secret`
when the environment file is read; ``str`` and ``repr`` print ``***``, so a secret that leaks
into a message, a report or a traceback leaks as stars. Only the code that opens the connection or
sends the request calls :meth:`Secret.reveal`.

:class:`Redactor` is the second line of defence: it knows every secret value of the run and
scrubs any text (failure messages, captured output, attachments, summary) before it is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# Headers whose values are credentials whatever their origin.
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"})
# Shorter values are not scrubbed from free text (they would shred it); they are still wrapped.
MIN_SCRUB_LEN = 4


class Secret:
    """A string that does not print."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def reveal(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def url_password(url: str) -> str | None:
    """The password part of a URL's user information, if any."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":" + MASK
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class Redactor:
    """Scrubs every known secret value out of text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *values: str | Secret | None) -> None:
        changed = False
        for value in values:
            raw = reveal(value) if value is not None else ""
            for candidate in {raw, raw.strip()}:
                if len(candidate) >= MIN_SCRUB_LEN and candidate not in self._values:
                    self._values.add(candidate)
                    changed = True
        if changed:
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers for a report: credentials masked always, other values scrubbed."""
        return [(k, MASK if k.lower() in SENSITIVE_HEADERS else self(v)) for k, v in headers]
