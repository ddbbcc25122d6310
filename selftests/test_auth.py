"""Credentials both ways, against a real loopback service with logins (selftests/auth_app.py).

Out: static tokens in their own scheme and header, tokens the run obtains itself (form login, JSON
login, OAuth2 client credentials) once each, request bodies. Back: no credential, declared or
minted by the service during the run, in any verdict text or attachment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smokeproof.errors import UsageError
from smokeproof.run import SmokeRun
from smokeproof.verdict import Category, Verdict

from . import auth_app
from .auth_app import AuthApp, mint_jwt
from .probing import contracts, environment, judge_all
from .servers import serve

AUTH = """
[auth]
bearer_token = "${STATIC_TOKEN}"
[auth.tokens.conduit]
value = "${STATIC_TOKEN}"
scheme = "Token"
[auth.tokens.keyed]
value = "${STATIC_TOKEN}"
scheme = ""
header = "X-API-Key"
[auth.login.admin]
path = "/login/form"
form = { username = "admin@example.com", password = "${ADMIN_PASSWORD}" }
[auth.login.conduit_user]
path = "/login/json"
json = { user = { email = "admin@example.com", password = "${ADMIN_PASSWORD}" } }
token_pointer = "/user/token"
scheme = "Token"
[auth.oauth2.service]
token_url = "{url}/oauth/token"
client_id = "svc-client"
client_secret = "${CLIENT_SECRET}"
scope = "read:all"
client_auth = "basic"
"""

ENTRIES = """
[[endpoint]]
path = "/api/token-only"
auth = "conduit"
status = 200
[[endpoint]]
id = "Bearer is refused"
path = "/api/token-only"
auth = "bearer"
status = 403
[[endpoint]]
path = "/api/keyed"
auth = "keyed"
status = 200
fuzz = true
[[endpoint]]
path = "/api/admin"
auth = "admin"
status = 200
[[endpoint]]
id = "admin, second check"
path = "/api/admin"
auth = "admin"
status = 200
[[endpoint]]
path = "/api/user"
auth = "conduit_user"
status = 200
json_schema = { type = "object", required = ["user"], properties = { user = { required = ["token"] } } }
[[endpoint]]
path = "/api/service"
auth = "service"
status = 200
[[endpoint]]
id = "json body"
path = "/echo"
method = "POST"
json = { name = "x", secret = "${CLIENT_SECRET}" }
status = 200
body_contains = "application/json"
[[endpoint]]
id = "form body"
path = "/echo"
method = "POST"
form = { a = "1 2" }
status = 200
body_contains = "a=1+2"
[[endpoint]]
id = "raw body"
path = "/echo"
method = "POST"
body = "<ping/>"
headers = { "Content-Type" = "application/xml" }
status = 200
body_contains = ["application/xml", "<ping/>"]
"""


@pytest.fixture(scope="module")
def app() -> Iterator[AuthApp]:
    with serve(AuthApp()) as served:
        yield served


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATIC_TOKEN", auth_app.STATIC)
    monkeypatch.setenv("ADMIN_PASSWORD", auth_app.PASSWORD)
    monkeypatch.setenv("CLIENT_SECRET", auth_app.CLIENT_SECRET)


def texts(verdicts: dict[str, Verdict]) -> str:
    return "\n".join(str(v.failure()) + "".join(a.body for a in v.attachments) for v in verdicts.values())


def known_secrets(app: AuthApp) -> list[str]:
    return [auth_app.STATIC, auth_app.PASSWORD, auth_app.CLIENT_SECRET, *app.minted]


@pytest.mark.usefixtures("secrets_env")
async def test_every_scheme_header_and_obtained_token_reaches_its_route(tmp_path: Path, app: AuthApp) -> None:
    env = environment(tmp_path, app.url, AUTH.replace("{url}", app.url))
    before = dict(app.hits)
    result = await judge_all(env, contracts(tmp_path, ENTRIES, env))
    assert {check: v.actual for check, v in result.items() if not v.ok} == {}
    # Each obtained token was asked for once, though two checks needed the admin's.
    assert {p: app.hits[p] - before.get(p, 0) for p in ("/login/form", "/login/json", "/oauth/token")} == dict.fromkeys(
        ("/login/form", "/login/json", "/oauth/token"), 1
    )
    text = texts(result)
    assert [s[:12] for s in known_secrets(app) if s in text] == []
    assert '"token":"eyJ…***"' in text  # the answer's fresh JWT, masked with its shape kept
    assert '"password":"***"' in text


@pytest.mark.usefixtures("secrets_env")
async def test_probes_send_malformed_values_in_the_tokens_header(tmp_path: Path, app: AuthApp) -> None:
    env = environment(tmp_path, app.url, AUTH.replace("{url}", app.url) + "[fuzz]\nmax_examples = 8\nmax_rate_per_s = 500\n")
    entries = contracts(tmp_path, ENTRIES, env)
    keyed = next(c for c in entries if c.path == "/api/keyed")
    assert keyed.fuzzable and not next(c for c in entries if c.path == "/api/admin").fuzzable  # opt-in with a token
    run = SmokeRun(env=env, contracts=entries)
    run.select((keyed,))
    start = len(app.log)
    try:
        verdict = await run.fuzz(keyed)
    finally:
        await run.aclose()
    assert verdict.ok, verdict.failure()
    sent = [headers for path, headers in app.log[start:] if path == "/api/keyed"]
    probes = [h for h in sent if h.get("x-api-key") != auth_app.STATIC]
    assert len(probes) >= 8 and len(sent) == len(probes) + 1  # the real request once, then the malformed ones
    assert all("x-api-key" in h or "cookie" in h for h in probes)
    assert not any("authorization" in h for h in probes)


async def test_a_wrong_password_fails_every_dependent_check_as_authentication_setup(
    tmp_path: Path, app: AuthApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATIC_TOKEN", auth_app.STATIC)
    monkeypatch.setenv("ADMIN_PASSWORD", "wrong-canary-pw-3391")
    monkeypatch.setenv("CLIENT_SECRET", "wrong-canary-secret-7713")
    env = environment(tmp_path, app.url, AUTH.replace("{url}", app.url))
    result = await judge_all(env, contracts(tmp_path, ENTRIES, env))
    failed = {check: v for check, v in result.items() if not v.ok}
    assert set(failed) == {
        "GET /api/admin -> 200",
        "admin, second check -> 200",
        "GET /api/user -> 200",
        "GET /api/service -> 200",
    }
    assert {v.category for v in failed.values()} == {Category.AUTH_SETUP}
    admin = failed["GET /api/admin -> 200"].headline
    assert admin == (
        f"GET /api/admin -> 200: not sent: token 'admin': POST {app.url}/login/form answered 400: "
        '{"detail":"Incorrect email or password"}'
    )
    assert "answered 401" in failed["GET /api/service -> 200"].headline
    text = texts(result)
    assert "wrong-canary-pw-3391" not in text and "wrong-canary-secret-7713" not in text


def test_an_empty_secret_stops_the_run_naming_the_variable_and_the_key(tmp_path: Path, app: AuthApp, monkeypatch) -> None:
    monkeypatch.setenv("STATIC_TOKEN", auth_app.STATIC)
    monkeypatch.setenv("ADMIN_PASSWORD", "")
    monkeypatch.setenv("CLIENT_SECRET", auth_app.CLIENT_SECRET)
    with pytest.raises(UsageError, match=r"\$\{ADMIN_PASSWORD\} is set but empty, and key 'auth.login.admin.form.password'"):
        environment(tmp_path, app.url, AUTH.replace("{url}", app.url))
    monkeypatch.setenv("ADMIN_PASSWORD", "x")
    monkeypatch.setenv("STATIC_TOKEN", "  ")
    with pytest.raises(UsageError, match=r"\$\{STATIC_TOKEN\} is set but empty, and key 'auth.bearer_token'"):
        environment(tmp_path, app.url, AUTH.replace("{url}", app.url))


def test_a_quoted_secret_is_redacted_before_it_is_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = mint_jwt("conduit")
    monkeypatch.setenv("SVC_TOKEN", token)
    with pytest.raises(UsageError) as caught:
        environment(tmp_path, "http://127.0.0.1:9", '[auth]\nbearer_token = { value = "${SVC_TOKEN}" }\n')
    message = str(caught.value)
    assert "key 'auth.bearer_token': Input should be a valid string (got {'value': 'eyJ…***'})" in message
    assert token[:16] not in message


def test_an_empty_header_secret_in_a_contract_file_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_KEY", "")
    env = environment(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(UsageError, match=r"\$\{PARTNER_KEY\} is set but empty, and key .*headers.X-API-Key"):
        contracts(tmp_path, '[[endpoint]]\npath = "/x"\nstatus = 200\nheaders = { "X-API-Key" = "${PARTNER_KEY}" }\n', env)
