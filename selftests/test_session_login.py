"""Logins shaped as other stacks shape them, against a real loopback app: Django's CSRF cookie and header,
a form rendered again on a wrong password, an OAuth2 token at another pointer behind extra headers.

The Flask app (selftests/flask_app/, test_flask_adoption.py) covers the hidden-input CSRF form and the
HTTP Basic token login end to end; this module covers the other places a token and a CSRF value live.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from smokeproof.database.alembic_config import from_alembic_config
from smokeproof.errors import UsageError
from smokeproof.http import csrf
from smokeproof.run import SmokeRun
from smokeproof.verdict import Category

from .flask_app.app import MIGRATIONS
from .probing import contracts, environment, judge_all
from .servers import serve_app

PASSWORD = "pw-" + secrets.token_hex(6)


@dataclass
class Site:
    url: str = ""
    issued: list[str] = field(default_factory=list)  # every CSRF token, session id and access token handed out
    logins: int = 0
    cookies_seen: list[dict[str, str]] = field(default_factory=list)  # on /account, in order
    access: set[str] = field(default_factory=set)  # the OAuth2 tokens


def site_app(site: Site) -> Starlette:
    sessions: set[str] = set()

    async def django_form(request: Request) -> Response:
        token = secrets.token_hex(16)
        site.issued.append(token)
        response = HTMLResponse("<!doctype html><form method=post><input name=username><input name=password></form>")
        response.set_cookie("csrftoken", token, samesite="lax")
        return response

    async def django_login(request: Request) -> Response:
        site.logins += 1
        form = await request.form()
        cookie = request.cookies.get("csrftoken")
        if not cookie or request.headers.get("x-csrftoken") != cookie:
            return HTMLResponse("CSRF verification failed", status_code=403)
        if form.get("password") != PASSWORD:
            page = f'<form method=post><input type="hidden" name="csrftoken" value="{cookie}"><p>Wrong password</p></form>'
            return HTMLResponse(page)  # 200, the form again: as many apps answer
        session = secrets.token_hex(20)
        sessions.add(session)
        site.issued.append(session)
        response = RedirectResponse("/account", status_code=302)
        response.set_cookie("sessionid", session, httponly=True)
        return response

    async def account(request: Request) -> Response:
        site.cookies_seen.append(dict(request.cookies))
        if request.cookies.get("sessionid") in sessions:
            return JSONResponse({"account": "ada"})
        return JSONResponse({"detail": "login required"}, status_code=401)

    async def token(request: Request) -> Response:
        if request.headers.get("x-tenant") != "acme" or request.method != "PUT":
            return JSONResponse({"error": "tenant header and PUT required"}, status_code=400)
        value = secrets.token_hex(20)
        site.issued.append(value)
        site.access.add(value)
        return JSONResponse({"data": {"token": value}})

    async def basic_login(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
        if request.headers.get("authorization") != expected or "@" in str(request.url):
            return JSONResponse({"error": "HTTP Basic expected"}, status_code=401)
        value = secrets.token_hex(20)
        site.issued.append(value)
        site.access.add(value)
        return JSONResponse({"token": value})

    async def tenant_api(request: Request) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        ok = scheme == "Bearer" and value in site.access
        return JSONResponse({"ok": ok}, status_code=200 if ok else 401)

    return Starlette(
        routes=[
            Route("/accounts/login/", django_form, methods=["GET"]),
            Route("/accounts/login/", django_login, methods=["POST"]),
            Route("/account", account),
            Route("/oauth/token", token, methods=["PUT"]),
            Route("/api/tenant", tenant_api),
            Route("/basic-login", basic_login, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    found = Site()
    with serve_app(site_app(found)) as url:
        found.url = url
        yield found


DJANGO = """
[auth.login.django]
path = "/accounts/login/"
form = { username = "ada", password = "${SITE_PASSWORD}" }
cookie = "sessionid"
csrf = { path = "/accounts/login/", field = "csrftoken" }
[auth.oauth2.tenant]
token_url = "{url}/oauth/token"
client_id = "svc"
client_secret = "${SITE_PASSWORD}"
method = "PUT"
headers = { "X-Tenant" = "acme" }
token_pointer = "/data/token"
"""
ENTRIES = """
[[endpoint]]
id = "account as django"
path = "/account"
auth = "django"
status = 200
fuzz = true
[[endpoint]]
path = "/api/tenant"
auth = "tenant"
status = 200
"""


async def test_a_django_style_csrf_cookie_login_and_an_oauth2_token_at_another_pointer(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_PASSWORD", PASSWORD)
    env = environment(tmp_path, site.url, DJANGO.replace("{url}", site.url) + "[fuzz]\nmax_examples = 10\nmax_rate_per_s = 500\n")
    entries = contracts(tmp_path, ENTRIES, env)
    verdicts = await judge_all(env, entries)
    assert {k: (v.ok, v.actual) for k, v in verdicts.items() if not v.ok} == {}
    text = json.dumps([str(v.failure()) + "".join(a.body for a in v.attachments) for v in verdicts.values()])
    assert site.issued and [value for value in site.issued if value in text] == []
    assert "sessionid=" in text  # the cookie's name is shown, its value masked
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries[:1])
    start = len(site.cookies_seen)
    try:
        probed = await run.fuzz(entries[0])
    finally:
        await run.aclose()
    assert probed.ok, probed.failure()
    sent = site.cookies_seen[start + 1 :]  # after the real request, the malformed ones
    assert len(sent) >= 10 and all(set(cookies) <= {"sessionid"} for cookies in sent)
    assert any("sessionid" in cookies for cookies in sent)


async def test_a_form_rendered_again_is_a_refused_login(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_PASSWORD", "wrong-" + secrets.token_hex(4))
    env = environment(tmp_path, site.url, DJANGO.replace("{url}", site.url))
    verdicts = await judge_all(env, contracts(tmp_path, ENTRIES, env))
    failed = verdicts["account as django -> 200"]
    assert failed.category is Category.AUTH_SETUP
    assert failed.headline.endswith(
        f"token 'django': POST {site.url}/accounts/login/ answered 200 with the login form again: "
        "the login was refused (wrong credentials?)"
    )


def test_csrf_tokens_are_found_where_frameworks_put_them() -> None:
    assert csrf.find('<input type="hidden" name="csrf_token" value="a1">', {}, "csrf_token") == ("a1", "input")
    assert csrf.find('<meta name="csrf-token" content="m2">', {}, "csrf-token") == ("m2", "meta")
    assert csrf.find("<p>no form</p>", {"csrftoken": "c3"}, "csrftoken") == ("c3", "cookie")
    assert csrf.find('<input name="other" value="x">', {}, "csrf_token") is None
    assert csrf.set_cookies([("Set-Cookie", "session=abc; HttpOnly; Path=/"), ("set-cookie", 'b="q"')]) == {
        "session": "abc",
        "b": "q",
    }


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('path = "/l"\nform = { a = "b" }\ncsrf = { path = "/l", field = "t" }\n', "'csrf' goes with a session login"),
        ('path = "/l"\n', "give 'form', 'json' or 'basic'"),
        ('path = "/l"\nform = { a = "b" }\njson = { a = "b" }\n', "not both"),
        ('path = "/l"\nbasic = { username = "u", password = "p" }\nheaders = { "Bad Header" = "x" }\n', "not an HTTP header"),
        ('path = "/l"\nbasic = { username = "u", password = "p" }\ntoken_pointer = "token"\n', "RFC 6901 pointer"),
    ],
)
def test_a_login_that_cannot_be_sent_is_exit_4_naming_the_problem(tmp_path: Path, table: str, problem: str) -> None:
    with pytest.raises(UsageError, match=r"auth\.login\.x") as caught:
        environment(tmp_path, "http://127.0.0.1:9", "[auth.login.x]\n" + table)
    assert problem in str(caught.value)


async def test_credentials_in_a_login_url_are_sent_as_http_basic(tmp_path: Path, site: Site) -> None:
    login_url = site.url.replace("http://", f"http://ada:{PASSWORD}@") + "/basic-login"
    env = environment(tmp_path, site.url, f'[auth.login.url]\nurl = "{login_url}"\ntoken_pointer = "/token"\n')
    verdicts = await judge_all(env, contracts(tmp_path, '[[endpoint]]\npath = "/api/tenant"\nauth = "url"\nstatus = 200\n', env))
    assert {k: v.actual for k, v in verdicts.items() if not v.ok} == {}
    assert env.redactor(login_url) != login_url  # the URL's password is masked wherever the URL is quoted


def test_flask_migrates_alembic_ini_without_script_location_is_read_as_its_folder() -> None:
    locations = from_alembic_config(MIGRATIONS / "alembic.ini")
    assert locations.folders == (MIGRATIONS / "versions",)
