"""No secret in any output: canary secrets through a passing and a failing run.

Every value that came from ``${VAR}`` (a database password, a header, the bearer tokens) is
planted, the suite runs against the healthy demo and the incident, and then every file under
reports/ and everything printed is searched for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import auth_app
from .auth_app import AuthApp
from .servers import serve
from .suite import DemoTarget, lay_out, run_suite

pytestmark = pytest.mark.slow

CANARY_PASSWORD = "canary-db-pw-8841"
CANARY_HEADER = "canary-header-5309"


def canary_env(root: Path, target: DemoTarget, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    # The demo database trusts loopback, so any password connects: the canary rides along for real.
    url = target.database_url.replace("postgres@", "postgres:${CANARY_DB_PASSWORD}@")
    monkeypatch.setenv("CANARY_DB_PASSWORD", CANARY_PASSWORD)
    monkeypatch.setenv("CANARY_HEADER", CANARY_HEADER)
    monkeypatch.setenv("DEMO_USER_TOKEN", target.env["DEMO_USER_TOKEN"])
    monkeypatch.setenv("DEMO_ADMIN_TOKEN", target.env["DEMO_ADMIN_TOKEN"])
    path = root / "canary.toml"
    path.write_text(
        f"""production = false
base_url = "{target.base_url}"
database_url = "{url}"
[revision]
migrations = "demo/migrations/versions"
[http]
headers = {{ "X-Canary" = "${{CANARY_HEADER}}" }}
[auth]
bearer_token = "${{DEMO_USER_TOKEN}}"
tokens = {{ super_admin = "${{DEMO_ADMIN_TOKEN}}" }}
[fuzz]
max_examples = 5
max_rate_per_s = 500
"""
    )
    return path, [CANARY_PASSWORD, CANARY_HEADER, target.env["DEMO_USER_TOKEN"], target.env["DEMO_ADMIN_TOKEN"]]


def leaks(root: Path, result: pytest.RunResult, secrets: list[str]) -> list[str]:
    found = []
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for file in (root / "reports").rglob("*"):
        if file.is_file():
            texts[str(file.relative_to(root))] = file.read_text(errors="replace")
    for name, text in texts.items():
        found += [f"{name}: {secret[:12]}..." for secret in secrets if secret in text]
    return found


@pytest.mark.parametrize("state", ["healthy", "incident"])
def test_no_canary_in_any_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, state: str, request: pytest.FixtureRequest
) -> None:
    target: DemoTarget = request.getfixturevalue(f"{state}_target")
    lay_out(pytester.path, own=True)  # the own checks send the admin token and read the database too
    env_file, secrets = canary_env(pytester.path, target, monkeypatch)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "reports" / "step-summary.md"))
    result = run_suite(pytester, f"--env-file={env_file}", "--tb=long", "-l")
    assert result.ret == (0 if state == "healthy" else 1), result.stdout.str()[-3000:]
    assert (pytester.path / "reports" / "junit.xml").exists() and (pytester.path / "reports" / "summary.md").exists()
    assert any((pytester.path / "reports" / "allure-results").glob("*-attachment*"))
    assert leaks(pytester.path, result, secrets) == []
    step_summary = (pytester.path / "reports" / "step-summary.md").read_text()
    assert "| check | expected | actual | status | change |" in step_summary  # appended for the CI page
    assert "***" in (pytester.path / "reports/allure-results/environment.properties").read_text()


# --- Credentials the suite did not know before the run: minted by a real loopback service during it.

ANSWER_CONTRACTS = """
[[endpoint]]
path = "/api/user"
auth = "conduit_user"
status = 200
json_schema = {{ type = "object", required = ["user"], properties = {{ user = {{ required = ["token"], properties = {{ token = {{ maxLength = {max_length} }} }} }} }} }}
[[endpoint]]
path = "/login/form"
method = "POST"
form = {{ username = "admin@example.com", password = "${{ADMIN_PASSWORD}}" }}
status = {status}
json_schema = {{ type = "object", required = ["access_token"] }}
[[endpoint]]
path = "/oauth/token"
method = "POST"
form = {{ grant_type = "client_credentials", client_id = "svc-client", client_secret = "${{CLIENT_SECRET}}" }}
status = {status}
[[endpoint]]
path = "/api/admin"
auth = "admin"
status = {status}
[[endpoint]]
path = "/api/service"
auth = "service"
status = {status}
[[endpoint]]
path = "/api/keyed"
auth = "keyed"
status = {status}
fuzz = true
"""

ANSWER_ENV = """production = false
base_url = "{url}"
contracts = "answers.toml"
[auth.tokens.keyed]
value = "${{STATIC_TOKEN}}"
scheme = ""
header = "X-API-Key"
[auth.login.admin]
path = "/login/form"
form = {{ username = "admin@example.com", password = "${{ADMIN_PASSWORD}}" }}
[auth.login.conduit_user]
path = "/login/json"
json = {{ user = {{ email = "admin@example.com", password = "${{ADMIN_PASSWORD}}" }} }}
token_pointer = "/user/token"
scheme = "Token"
[auth.oauth2.service]
token_url = "{url}/oauth/token"
client_id = "svc-client"
client_secret = "${{CLIENT_SECRET}}"
[fuzz]
max_examples = 5
max_rate_per_s = 500
"""


@pytest.fixture(scope="module")
def answering_app() -> Iterator[AuthApp]:
    with serve(AuthApp()) as app:
        yield app


@pytest.mark.parametrize("state", ["passing", "failing", "wrong password"])
def test_no_credential_from_an_answer_in_any_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, answering_app: AuthApp, state: str
) -> None:
    lay_out(pytester.path)
    monkeypatch.setenv("STATIC_TOKEN", auth_app.STATIC)
    password = "wrong-canary-pw-5182" if state == "wrong password" else auth_app.PASSWORD
    monkeypatch.setenv("ADMIN_PASSWORD", password)
    monkeypatch.setenv("CLIENT_SECRET", auth_app.CLIENT_SECRET)
    failing = state == "failing"  # statuses wrong (body excerpts printed), and a schema message that quotes the token
    contracts = ANSWER_CONTRACTS.format(status=201 if failing else 200, max_length=5 if failing else 4000)
    (pytester.path / "environments" / "answers.toml").write_text(contracts)
    env_file = pytester.path / "environments" / "answers-env.toml"
    env_file.write_text(ANSWER_ENV.format(url=answering_app.url))
    minted_before = len(answering_app.minted)
    result = run_suite(pytester, f"--env-file={env_file}", "--tb=long", "-l")
    assert result.ret == (0 if state == "passing" else 1), result.stdout.str()[-3000:]
    out = result.stdout.str()
    if state == "wrong password":  # both logins refused: their checks fail (not skip) as Authentication setup
        failures = out.split("short test summary info")[0]  # in CI, pytest's summary repeats whole messages
        assert (
            failures.count("  category:\n    Authentication setup") == 2
            and "token 'admin': POST" in out
            and "answered 400" in out
        )
        assert password not in out
        return
    assert len(answering_app.minted) - minted_before >= 8  # tokens, refresh tokens, a session, password fields
    if failing:
        assert "body (first lines, redacted)" in out and "is too long" in out
    else:
        assert "PASSED tests/contracts/test_credentials.py::test_malformed_credentials[GET /api/keyed rejects" in out
    secrets = [auth_app.STATIC, auth_app.PASSWORD, auth_app.CLIENT_SECRET, *answering_app.minted]
    assert leaks(pytester.path, result, secrets) == []
