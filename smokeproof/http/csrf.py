"""Finding a CSRF token where web frameworks put it: a hidden form input, a ``<meta>`` tag, or a cookie.

Flask-WTF and Rails render ``<input type="hidden" name="csrf_token" value="...">`` (Rails also a
``<meta name="csrf-token" content="...">``); Django renders ``csrfmiddlewaretoken`` and sets the
``csrftoken`` cookie, which its ``X-CSRFToken`` header must repeat. A session login that does not
send the token back is refused (400 or 403) however right the password is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Literal

Where = Literal["input", "meta", "cookie"]
COOKIE_HEADER = "X-CSRFToken"  # what Django (and others) read when the token comes from a cookie


class _Finder(HTMLParser):
    def __init__(self, field: str) -> None:
        super().__init__(convert_charrefs=True)
        self.field = field
        self.found: dict[Where, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "input" and values.get("name") == self.field and values.get("value"):
            self.found.setdefault("input", values["value"])
        elif tag == "meta" and values.get("name") == self.field and values.get("content"):
            self.found.setdefault("meta", values["content"])


def find(html: str, cookies: Mapping[str, str], field: str) -> tuple[str, Where] | None:
    """The token named ``field`` and where it was: the form's hidden input first, then ``<meta>``, then a cookie."""
    finder = _Finder(field)
    finder.feed(html)
    finder.close()
    for where in ("input", "meta"):
        if where in finder.found:
            return finder.found[where], where
    if cookies.get(field):
        return cookies[field], "cookie"
    return None


def has_field(html: str, field: str) -> bool:
    """Whether ``html`` holds a form input named ``field`` (a login form rendered again)."""
    finder = _Finder(field)
    finder.feed(html)
    finder.close()
    return "input" in finder.found


def set_cookies(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The cookies an answer's ``Set-Cookie`` headers set, by name (a later one wins; attributes dropped)."""
    jar: dict[str, str] = {}
    for key, value in headers:
        if key.lower() == "set-cookie":
            name, _, rest = value.split(";", 1)[0].partition("=")
            if name.strip():
                jar[name.strip()] = rest.strip().strip('"')
    return jar


def cookie_header(jar: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items() if value)
