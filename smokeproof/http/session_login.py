"""A session login, as a browser makes it: GET the form (its CSRF token, its cookies), POST it, keep the cookie.

``[auth.login.NAME]`` with ``cookie = "session"``: when ``csrf = { path, field }`` is set, the form at
``path`` is fetched first; the token named ``field`` (hidden input, ``<meta>`` or cookie, see
:mod:`smokeproof.http.csrf`) goes back with the login request, and so do the cookies that GET set.
The login's answer (any 2xx or 3xx; a redirect is not followed) must set the named cookie: its value
is the credential checks with ``auth = "NAME"`` send (``Cookie: session=...``). The cookie, the CSRF
token and every cookie along the way join the redactor the moment they arrive.

A 2xx answer that renders the login form again (its CSRF input is back) is a failed login, as a
browser's user would read it: many apps answer a wrong password with 200 and the form.
"""

from __future__ import annotations

from urllib.parse import urljoin

from smokeproof.config.auth import Login
from smokeproof.config.secrets import Redactor
from smokeproof.http import csrf
from smokeproof.http.exchange import Exchange
from smokeproof.http.token_request import ANSWER_CHARS, Send, TokenUnavailable, encode, request_headers

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"


async def obtain(spec: Login, url: str, *, send: Send, redactor: Redactor) -> str:
    """The session cookie's value after logging in at ``url`` (absolute); raises :class:`TokenUnavailable`."""
    assert spec.cookie is not None
    jar: dict[str, str] = {}
    form = dict(spec.form) if spec.form is not None else None
    headers: dict[str, str] = {"Accept": HTML}
    if spec.csrf is not None:
        page = urljoin(url, spec.csrf.path)
        answer = _checked(spec, "GET", page, await send("GET", page, {"Accept": HTML}, b""), redactor, redirects=False)
        jar.update(csrf.set_cookies(answer.response_headers))
        redactor.add(*jar.values())
        found = csrf.find(answer.text, jar, spec.csrf.field)
        if found is None:
            raise TokenUnavailable(
                f"token '{spec.name}': GET {redactor(page)} answered {answer.status} without a CSRF token named "
                f"'{spec.csrf.field}' (no hidden input, <meta> or cookie of that name)"
            )
        token, found_in = found
        redactor.add(token)
        if form is not None:
            form[spec.csrf.field] = token
        header = spec.csrf.header or (csrf.COOKIE_HEADER if found_in == "cookie" else None)
        if header:
            headers[header] = token
    body = b""
    if form is not None or spec.json is not None:
        body, headers["Content-Type"] = encode(form=form, json_body=spec.json)
    if jar:
        headers["Cookie"] = csrf.cookie_header(jar)
    method = spec.request.method
    exchange = await send(method, url, request_headers(spec.request, headers), body)
    answer = _checked(spec, method, url, exchange, redactor, redirects=True)
    cookies = csrf.set_cookies(answer.response_headers)
    redactor.add(*cookies.values())
    where = f"token '{spec.name}': {method} {redactor(url)} answered {answer.status}"
    if spec.csrf is not None and 200 <= (answer.status or 0) < 300 and csrf.has_field(answer.text, spec.csrf.field):
        raise TokenUnavailable(f"{where} with the login form again: the login was refused (wrong credentials?)")
    value = cookies.get(spec.cookie)
    if not value:
        named = ", ".join(sorted(cookies)) or "none"
        raise TokenUnavailable(f"{where} without setting cookie '{spec.cookie}' (cookies set: {named})")
    return value


def _checked(spec: Login, method: str, url: str, exchange: Exchange, redactor: Redactor, *, redirects: bool) -> Exchange:
    """The exchange, if it answered 2xx (or 3xx where ``redirects``); else why not, redacted."""
    where = f"token '{spec.name}': {method} {redactor(url)}"
    if exchange.error is not None:
        raise TokenUnavailable(f"{where}: {redactor(exchange.error)}")
    status = exchange.status or 0
    if not (200 <= status < 300 or (redirects and 300 <= status < 400)):
        found = csrf.find(exchange.text, {}, spec.csrf.field) if spec.csrf is not None else None
        if found is not None:  # a form rendered again carries a CSRF token of its own
            redactor.add(found[0])
        answer = redactor.clip(exchange.text, ANSWER_CHARS).replace("\n", " ")
        raise TokenUnavailable(f"{where} answered {exchange.status}: {answer or '(empty body)'}")
    return exchange
