"""Logged-in checks on a scaffolded suite: ``[auth.login]`` against the FastAPI app's OAuth2 password login.

A team uncomments what ``smokeproof init`` wrote for it (the ``[auth.login.user]`` table and the
``... as user`` entries), makes the admin route's check for a normal user a 403, and adds an admin
login. Then: a logged-in user gets 200 on the protected route and 403 on the admin route; a wrong
password fails every check that needs that token as "Authentication setup" (and nothing else); an
empty password stops the run before any request; no password and no obtained token reaches an output.
"""

from __future__ import annotations

import re

import pytest

from .adopted import ENV, Scaffolded, outcomes, scaffold
from .fastapi_app.server import Service

pytestmark = pytest.mark.slow

ADMIN_LOGIN = """
[auth.login.admin]
path = "/api/v1/login/access-token"
form = { username = "${SVC_EU_ADMIN_EMAIL}", password = "${SVC_EU_ADMIN_PASSWORD}" }
"""
ADMIN_ENTRY = """
[[endpoint]]
id = "GET /api/v1/users/ as admin"
path = "/api/v1/users/"
auth = "admin"
status = 200
"""
AS_USER = {"GET /api/v1/users/me as user -> 200", "GET /api/v1/users/ as user -> 403"}
AS_ADMIN = {"GET /api/v1/users/ as admin -> 200"}
ANONYMOUS = {"GET /api/v1/users/me -> 401", "GET /api/v1/users/ -> 401", "GET /api/v1/items/ -> 200"}
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")


def uncomment(text: str, start: str, end: str | None = None) -> str:
    """``text`` with the commented lines from ``start`` up to ``end`` (or the first blank line) uncommented."""
    head, _, rest = text.partition(start)
    stop = rest.index(end) if end else rest.find("\n\n") + 1 or len(rest)
    section = (start + rest[:stop]).splitlines(keepends=True)
    opened = [line.removeprefix("# ") if line.startswith("# ") and not line.startswith("# ---") else line for line in section]
    return head + "".join(opened) + rest[stop:]


@pytest.fixture(scope="module")
def logged_in(fastapi_service: Service, tmp_path_factory: pytest.TempPathFactory) -> Scaffolded:
    suite = scaffold(fastapi_service, tmp_path_factory.mktemp("logged-in"))
    env_file = suite.root / "environments" / f"{ENV}.toml"
    env_file.write_text(uncomment(env_file.read_text(), "# [auth.login.user]") + ADMIN_LOGIN)
    endpoints = suite.root / "tests" / "contracts" / "endpoints.toml"
    text = uncomment(endpoints.read_text(), "# --- With a token", "# --- Written commented out")
    text = text.replace(
        'path = "/api/v1/users/"\nauth = "user"\nstatus = 200', 'path = "/api/v1/users/"\nauth = "user"\nstatus = 403'
    )
    endpoints.write_text(text + ADMIN_ENTRY)
    return suite


def credentials(service: Service, **override: str) -> dict[str, str]:
    given = {
        "SVC_EU_USER_EMAIL": service.user[0],
        "SVC_EU_USER_PASSWORD": service.user[1],
        "SVC_EU_ADMIN_EMAIL": service.admin[0],
        "SVC_EU_ADMIN_PASSWORD": service.admin[1],
    }
    return {**given, **override}


def everything(suite: Scaffolded, result_text: str) -> str:
    reports = suite.root / "reports"
    return result_text + "".join(f.read_text(errors="replace") for f in reports.rglob("*") if f.is_file())


def test_a_logged_in_user_gets_200_and_403_on_the_admin_route(logged_in: Scaffolded) -> None:
    result = logged_in.pytest("-m", "contracts and not fuzz", environ=credentials(logged_in.service))
    seen = outcomes(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:]
    assert {k: v for k, v in seen.items() if k in AS_USER | AS_ADMIN | ANONYMOUS} == dict.fromkeys(
        AS_USER | AS_ADMIN | ANONYMOUS, "passed"
    )
    output = everything(logged_in, result.stdout + result.stderr)
    assert logged_in.service.user[1] not in output and logged_in.service.admin[1] not in output
    assert JWT.search(output) is None  # the tokens the run obtained


def test_a_wrong_password_fails_every_check_that_needs_the_token_as_authentication_setup(logged_in: Scaffolded) -> None:
    wrong = "wrong-password-7731"
    result = logged_in.pytest("-m", "contracts and not fuzz", environ=credentials(logged_in.service, SVC_EU_USER_PASSWORD=wrong))
    seen = outcomes(result.stdout)
    assert result.returncode == 1
    assert {k for k, v in seen.items() if v == "failed"} == AS_USER
    assert {k for k, v in seen.items() if v == "passed"} >= AS_ADMIN | ANONYMOUS
    failures = result.stdout.split("short test summary info")[0]  # in CI, pytest's summary repeats whole messages
    assert failures.count("    Authentication setup") == len(AS_USER)  # the category section of each failure
    assert "answered 400" in result.stdout and wrong not in everything(logged_in, result.stdout + result.stderr)


def test_an_empty_password_stops_the_run_before_any_request(logged_in: Scaffolded) -> None:
    result = logged_in.pytest(environ=credentials(logged_in.service, SVC_EU_ADMIN_PASSWORD=""))
    assert result.returncode == 4
    assert "${SVC_EU_ADMIN_PASSWORD} is set but empty" in result.stdout + result.stderr
    assert outcomes(result.stdout) == {}
