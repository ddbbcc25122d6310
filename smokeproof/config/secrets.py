"""Secrets: one wrapper type, one redactor.

Every value that came from ``${VAR}`` and every password in a URL is wrapped in :class:`Secret`
when the environment file is read; ``str`` and ``repr`` print ``***``, so a secret that leaks
into a message, a report or a traceback leaks as stars. Only the code that opens the connection or
sends the request calls :meth:`Secret.reveal`.

:class:`Redactor` is the second line of defence: it knows every secret value of the run and
scrubs any text (failure messages, captured output, attachments, summary) before it is written,
including credentials it recognises by their shape (:mod:`smokeproof.config.redaction`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from smokeproof.config.redaction import DEFAULT_KEYS, MASK, Shapes, mask_header

# Headers whose values are credentials whatever their origin.
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"})
# How a known value is found in free text, by its length (the rule in Redactor.add's docstring):
MIN_ANYWHERE_LEN = 8  # from here on, anywhere, inside longer words too
MIN_SCRUB_LEN = 4  # from here on (a credential's: from 1), as a whole token only; shorter ones are still wrapped
# The characters a URL's path keeps as they are (httpx's choice, RFC 3986's sub-delims, ":" and "@")
PATH_SAFE = "/:@!$&'()*+,;=~"
HEX = frozenset("0123456789ABCDEFabcdef")
# A credential-shaped value seen in an answer is masked where its shape shows; from this length on it
# is also learned and masked everywhere (a shorter one, a "password": "short" message, would shred text).
MIN_LEARN_LEN = 8
# Text beyond a cut that is still redacted, so a secret straddling the cut is masked whole.
CLIP_MARGIN = 4096
# What a learned token is made of: runs of base64url characters, the dots of a JWT between them.
PIECE = re.compile(rf"[A-Za-z0-9_\-]{{{MIN_LEARN_LEN},}}")


def _looks_random(piece: str) -> bool:
    """A token's run (letters and digits mixed, or both cases), not a word ("required", "Incorrect")."""
    digits = any(c.isdigit() for c in piece)
    letters = any(c.isalpha() for c in piece)
    upper = sum(c.isupper() for c in piece)
    lower = sum(c.islower() for c in piece)
    return (digits and letters) or (upper >= 2 and lower >= 2)


def _encodings(value: str) -> set[str]:
    """``value`` and how it reads in a URL's query (``+`` for a space), a form body, a path (``%20``)."""
    return {value, quote_plus(value, safe=""), quote(value, safe=""), quote(value, safe=PATH_SAFE)}


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _mask_word(text: str, word: str) -> str:
    """``text`` with ``word`` masked where it stands alone: no letter, digit or ``_`` of the same word beside it
    (a ``%XX`` escape before it ends a word too)."""
    parts: list[str] = []
    kept = 0
    at = text.find(word)
    while at != -1:
        end = at + len(word)
        before = (
            at == 0
            or not _word_char(word[0])
            or not _word_char(text[at - 1])
            or (at >= 3 and text[at - 3] == "%" and text[at - 2] in HEX and text[at - 1] in HEX)
        )
        after = end == len(text) or not _word_char(word[-1]) or not _word_char(text[end])
        if before and after:
            parts += [text[kept:at], MASK]
            kept = end
        at = text.find(word, end if before and after else at + 1)
    return "".join(parts) + text[kept:] if parts else text


def credential_key(where: str) -> bool:
    """Whether a ``${VAR}`` at key ``where`` fills a credential (anything under ``[auth]``, a ``password``, an
    ``Authorization`` header...): then even a short value is masked (see :meth:`Redactor.add`)."""
    last = where.rsplit(".", 1)[-1]
    names = {key.replace("_", "") for key in DEFAULT_KEYS}
    return (
        where.startswith("auth.") or last.lower().replace("_", "").replace("-", "") in names or last.lower() in SENSITIVE_HEADERS
    )


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
    """Scrubs every known secret value, and every credential-shaped one, out of text.

    Thread-safe: the probes' thread teaches it the credentials it sees in answers while the test
    thread renders messages with it.
    """

    def __init__(self, secrets: Iterable[str] = (), *, shapes: Shapes | None = None) -> None:
        self._values: set[str] = set()  # masked anywhere
        self._words: set[str] = set()  # short: masked as whole tokens
        self._short: list[str] = []  # the same, longest first
        self._pattern: re.Pattern[str] | None = None
        self._dirty = False
        self._pieces: set[str] = set()
        self._lock = threading.Lock()
        self.shapes = shapes or Shapes()
        self.sensitive_headers = set(SENSITIVE_HEADERS)
        self.add(*secrets)

    def add(self, *values: str | Secret | None, credential: bool = False) -> None:
        """Mask these values from now on, as they are and as a URL or a form body encodes them.

        A value of ``MIN_ANYWHERE_LEN`` characters or more is masked wherever it appears. A shorter one
        is masked only as a whole token (no letter or digit of the same word beside it): ``prod`` masks
        ``--env=prod`` and ``u:prod@host``, not ``production``. Below ``MIN_SCRUB_LEN`` only a
        ``credential`` (a password, a token, a value under ``[auth]``) is masked, as a whole token too:
        any other value that short (``1``, ``eu``) would take every such word out of every message.
        """
        with self._lock:
            for value in values:
                raw = reveal(value) if value is not None else ""
                for candidate in {raw, raw.strip()}:
                    if not candidate or (len(candidate) < MIN_SCRUB_LEN and not credential):
                        continue
                    anywhere = len(candidate) >= MIN_ANYWHERE_LEN
                    for form in _encodings(candidate):
                        known = self._values if anywhere else self._words
                        if form not in known:
                            known.add(form)
                            self._dirty = True

    def learn(self, value: str) -> None:
        """A credential seen in an answer: masked from now on (short ones only where their shape shows).

        A run can see thousands (a fresh token in every answer), so they are not added to the known
        values' pattern, whose cost grows with each: a token-like value is kept as its random-looking
        runs of base64url characters, found in later text by one ``findall`` and a set intersection.
        """
        if len(value) < MIN_LEARN_LEN or value in self._values:
            return
        pieces = PIECE.findall(value)
        covered = sum(map(len, pieces)) >= len(value) - MIN_LEARN_LEN  # what no piece covers is short
        if pieces and covered and all(map(_looks_random, pieces)):
            with self._lock:
                self._pieces.update(pieces)
        else:
            self.add(value)

    def _known(self) -> re.Pattern[str] | None:
        if self._dirty:
            with self._lock:
                # Longest first, so a secret that contains another is masked whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
                self._short = sorted(self._words, key=len, reverse=True)
                self._dirty = False
        return self._pattern

    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = self.shapes.mask(text, self.learn)
        if self._pieces:
            for piece in sorted(self._pieces.intersection(PIECE.findall(text)), key=len, reverse=True):
                text = text.replace(piece, MASK)
        pattern = self._known()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for word in self._short:  # a few short values: found as literals (fast), then kept if they stand alone
            if word in text:
                text = _mask_word(text, word)
        return text

    def clip(self, text: str, limit: int, *, more: str = "...") -> str:
        """Redact, then cut: a secret cut in half would no longer match what the redactor knows."""
        window = self(text[: limit + CLIP_MARGIN])
        whole = len(text) <= limit + CLIP_MARGIN
        return window if whole and len(window) <= limit else window[:limit] + more

    def scan(self, text: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Learn the credentials an answer carries, as soon as it arrives (its text is written later, or never)."""
        self.headers(headers)
        self(text)

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers for a report: credentials masked always (their frame kept), other values scrubbed."""
        return [(k, self(mask_header(k, v, self.learn)) if k.lower() in self.sensitive_headers else self(v)) for k, v in headers]
