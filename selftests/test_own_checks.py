"""Own checks as a team writes them: the run's client, tokens and read-only database, reported like the built-in checks.

Each case lays out a suite with a module of own checks beside it and runs it in a subprocess, as a
user would, with ``-W error`` (a warning, "attached to a different loop" among them, fails the run):
against the healthy demo (the fixtures, a plain assert and ``smoke.check`` in the table, another
origin refused at the server, the demo's own checks), a production-like service with logins
(unsafe methods refused before anything is sent, tokens obtained once per run, nothing secret in
any output after an own check printed an answer full of credentials) and a tenant database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import auth_app
from .auth_app import AuthApp
from .servers import Route, Server, serve
from .suite import REPO, DemoTarget, lay_out, outcomes, run_suite
from .test_secrets import leaks

pytestmark = pytest.mark.slow

DEMO_CHECKS = '''\
"""Own checks against the demo, as a team writes them."""

import asyncpg
import pytest

OTHER = "{other}"


async def test_env(smoke_env, base_url):
    assert (smoke_env.name, smoke_env.target, smoke_env.production) == ("target", "target", False)
    assert smoke_env.tokens == ("bearer", "super_admin") and smoke_env.databases == ()
    assert base_url == smoke_env.base_url  # pytest-base-url's fixture: the environment's
    print("ENV", repr(smoke_env))


async def test_health_by_relative_path(smoke_http):
    answer = await smoke_http.get("/api/v1/health")
    assert answer.json()["alembic_revision"] == "80105006e3d3"


async def test_me_with_the_run_token(smoke, smoke_http, smoke_auth):
    answer = await smoke_http.get("/api/v1/auth/me", auth=smoke_auth("bearer"))
    print(answer.request.headers["authorization"], answer.text)
    smoke.check("me as the analyst", expected="analyst", actual=answer.json()["role"])


async def test_the_session_is_read_only(smoke_db):
    assert await smoke_db.fetchval("SHOW default_transaction_read_only") == "on"
    assert await smoke_db.fetchval("SHOW statement_timeout") == "5s"
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError, match="read-only transaction"):
        await smoke_db.execute("INSERT INTO feature_flags (id, key) VALUES (gen_random_uuid(), 'sneaky')")


async def test_a_write(smoke_db):
    await smoke_db.execute("DELETE FROM feature_flags")


async def test_plain_assert(smoke_http):
    answer = await smoke_http.get("/api/v1/health")
    assert answer.status_code == 201


async def test_assert_with_a_message(smoke_db):
    assert await smoke_db.fetchval("SELECT count(*) FROM feature_flags") == 3, "the seed migration adds three flags"


async def test_flags_with_a_ghost(smoke, smoke_http, smoke_auth, smoke_db):
    """The admin panel shows every flag: one it lacks is a switch nobody can flip."""
    answer = await smoke_http.get("/api/v1/admin/feature-flags", auth=smoke_auth("super_admin"))
    rows = await smoke_db.fetch("SELECT key, enabled FROM feature_flags")
    smoke.check(
        "flags listed",
        expected={{**{{row["key"]: row["enabled"] for row in rows}}, "ghost": True}},
        actual={{flag["key"]: flag["enabled"] for flag in answer.json()}},
        severity="critical",
    )


async def test_an_unknown_token(smoke_auth):
    smoke_auth("admin")


async def test_another_origin(smoke_http):
    await smoke_http.get(OTHER.replace("localhost", "127.0.0.1") + "/refused")


async def test_an_allowed_origin(smoke_http):
    answer = await smoke_http.get(OTHER + "/allowed")
    assert answer.status_code == 404
'''

DEMO_OUTCOMES = {
    "test_env": "passed",
    "test_health_by_relative_path": "passed",
    "test_me_with_the_run_token": "passed",
    "test_the_session_is_read_only": "passed",
    "test_a_write": "failed",
    "test_plain_assert": "failed",
    "test_assert_with_a_message": "failed",
    "test_flags_with_a_ghost": "failed",
    "test_an_unknown_token": "failed",
    "test_another_origin": "failed",
    "test_an_allowed_origin": "passed",
}


def own_run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The suite, warnings as errors (the self-tests' rule, inside the run too)."""
    return run_suite(pytester, "-W", "error", "--tb=short", *args)


def summary_rows(root: Path) -> dict[str, list[str]]:
    """``{check: [expected, actual, status]}`` from reports/summary.md's table."""
    rows: dict[str, list[str]] = {}
    for line in (root / "reports" / "summary.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) >= 4 and cells[0] not in ("check", "---"):
            rows[cells[0]] = cells[1:4]
    return rows


def categories(root: Path) -> dict[str, str]:
    """``{check: failure category}`` from reports/summary.json."""
    rows = json.loads((root / "reports" / "summary.json").read_text())["rows"]
    return {row["check"]: row["category"] for row in rows}


def allure_attachments(root: Path) -> dict[str, str]:
    """Each Allure attachment's name -> its text, from the result files."""
    results = root / "reports" / "allure-results"
    named: dict[str, str] = {}
    for result in results.glob("*-result.json"):
        for attachment in json.loads(result.read_text()).get("attachments", []):
            named[attachment["name"]] = (results / attachment["source"]).read_text()
    return named


def test_own_checks_as_a_user_writes_them(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, healthy_target: DemoTarget
) -> None:
    """Beside the built-in checks (on the run's loop), on pytest-asyncio's loop, read as expected/actual in the table."""
    lay_out(pytester.path)
    for key, value in healthy_target.env.items():
        monkeypatch.setenv(key, value)
    with serve(Server()) as other:
        other_url = other.url.replace("127.0.0.1", "localhost")
        http = f'[http]\nallow_hosts = ["{other_url.split("//")[1]}"]\nheaders = {{ "X-Team" = "smoke" }}\n'
        env = healthy_target.env_file(pytester.path, extra=http)
        (pytester.path / "tests" / "custom").mkdir()
        (pytester.path / "tests" / "custom" / "test_mine.py").write_text(DEMO_CHECKS.format(other=other_url))
        result = own_run(pytester, f"--env-file={env}")
        assert other.hits["/refused"] == 0 and other.hits["/allowed"] == 1  # refused before anything was sent
        assert "x-team" not in other.seen_headers["/allowed"]  # [http] headers go to base_url's origin only
    out = result.stdout.str()
    seen = outcomes(result)
    assert {name: seen.get(name) for name in DEMO_OUTCOMES} == DEMO_OUTCOMES, out[-4000:]
    assert "GET /api/v1/auth/me -> 401" in seen and "table public.users" in seen  # the built-in checks ran too
    assert {outcome for name, outcome in seen.items() if name not in DEMO_OUTCOMES} == {"passed"}
    assert result.ret == 1 and "different loop" not in out + result.stderr.str() and "warnings summary" not in out
    assert "cannot execute DELETE in a read-only transaction" in out
    assert "smoke_auth('admin'): environment target declares no token 'admin' (tokens: bearer, super_admin)" in out
    assert "GET http://127.0.0.1:" in out and "/refused refused: its origin is not base_url's (http://127.0.0.1:" in out
    assert "(list it in [http] allow_hosts to allow it)" in out
    rows = summary_rows(pytester.path)
    assert rows["test_plain_assert"] == ["201", "200", "❌ FAIL"]
    assert rows["test_assert_with_a_message"] == ["3", "the seed migration adds three flags", "❌ FAIL"]
    assert rows["test_me_with_the_run_token"] == ["analyst", "analyst", "✅ pass"]
    assert rows["test_flags_with_a_ghost"][0] == "{'market_insights': True, 'price_alerts': False, 'ghost': True}"
    assert rows["test_flags_with_a_ghost"][1:] == ["{'market_insights': True, 'price_alerts': False}", "❌ FAIL"]
    assert rows["test_a_write"][1].startswith("ReadOnlySQLTransactionError: cannot execute DELETE")
    assert categories(pytester.path)["test_a_write"] == "Database errors"
    assert categories(pytester.path)["test_flags_with_a_ghost"] == "Contract mismatch"
    assert "flags listed: expected {'market_insights'" in out and "- missing: 'ghost': True" in out
    assert "the admin panel shows every flag" in out.lower()  # the docstring: what it means
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert "tests/custom/test_mine.py:" not in summary  # no file and line in place of expected/actual
    attachments = allure_attachments(pytester.path)
    me = next(text for name, text in attachments.items() if name.endswith("/api/v1/auth/me"))
    assert "> authorization: Bearer ***" in me and '"role":"analyst"' in me
    tokens = list(healthy_target.env.values())
    assert leaks(pytester.path, result, tokens) == []


PRODUCTION_ENV = """\
production = true
base_url = "{url}"
[auth.login.admin]
path = "/login/form"
form = {{ username = "admin@example.com", password = "${{ADMIN_PASSWORD}}" }}
[auth.login.conduit_user]
path = "/login/json"
json = {{ user = {{ email = "admin@example.com", password = "${{ADMIN_PASSWORD}}" }} }}
token_pointer = "/user/token"
scheme = "Token"
[auth.login.broken]
path = "/login/form"
form = {{ username = "admin@example.com", password = "not-the-password" }}
"""

PRODUCTION_CHECKS = """\
import os

import pytest


@pytest.mark.allow_in_production
async def test_a_session_lasts_the_test(smoke_http):
    form = {"username": "admin@example.com", "password": os.environ["ADMIN_PASSWORD"]}
    assert (await smoke_http.post("/login/form", data=form)).status_code == 200
    assert smoke_http.cookies.get("session")  # kept for this test's next requests


async def test_a_post(smoke_http):
    await smoke_http.post("/echo", json={"a": 1})


@pytest.mark.allow_in_production
async def test_a_post_allowed(smoke_http):
    assert (await smoke_http.post("/echo", json={"a": 1})).status_code == 200


async def test_admin(smoke_http, smoke_auth):
    assert (await smoke_http.get("/api/admin", auth=smoke_auth("admin"))).status_code == 200


async def test_admin_again(smoke_http, smoke_auth):
    assert (await smoke_http.get("/api/admin", auth=smoke_auth("admin"))).status_code == 200


async def test_user_prints_its_answer(smoke_http, smoke_auth):
    answer = await smoke_http.get("/api/user", auth=smoke_auth("conduit_user"))
    print("ANSWER", answer.text, answer.request.headers["authorization"])
    assert answer.status_code == 200


async def test_a_login_that_fails(smoke_http, smoke_auth):
    await smoke_http.get("/api/admin", auth=smoke_auth("broken"))


async def test_needs_a_database(smoke_db):
    await smoke_db.fetchval("SELECT 1")
"""


@pytest.fixture(scope="module")
def login_app() -> Iterator[AuthApp]:
    with serve(AuthApp()) as app:
        yield app


def test_production_refuses_unsafe_methods_and_obtains_each_token_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, login_app: AuthApp
) -> None:
    """In production a POST is refused before it leaves (the server never sees it) unless the test is marked."""
    for name in ("pytest.ini", "conftest.py"):
        (pytester.path / name).write_text((REPO / name).read_text())
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_mine.py").write_text(PRODUCTION_CHECKS)
    env = pytester.path / "prod-like.toml"
    env.write_text(PRODUCTION_ENV.format(url=login_app.url))
    monkeypatch.setenv("ADMIN_PASSWORD", auth_app.PASSWORD)
    minted, hits = len(login_app.minted), dict(login_app.hits)
    result = own_run(pytester, f"--env-file={env}")
    out = result.stdout.str()
    seen = {name: outcome for name, outcome in outcomes(result).items() if name.startswith("test_")}  # not "SKIPPED [1]"
    assert seen == {
        "test_a_session_lasts_the_test": "passed",
        "test_a_post": "failed",
        "test_a_post_allowed": "passed",
        "test_admin": "passed",
        "test_admin_again": "passed",
        "test_user_prints_its_answer": "passed",
        "test_a_login_that_fails": "failed",
    }, sorted(seen)
    sent = {path: login_app.hits.get(path, 0) - hits.get(path, 0) for path in ("/echo", "/login/form", "/login/json")}
    # the marked POST; the session test, admin once for two tests, broken once; the user once
    assert sent == {"/echo": 1, "/login/form": 3, "/login/json": 1}
    assert (
        f"POST {login_app.url}/echo refused: environment prod-like is production, where own checks send only GET, HEAD "
        "and OPTIONS; nothing was sent (mark the test @pytest.mark.allow_in_production to send it)"
    ) in out
    assert "test_a_login_that_fails: not sent: token 'broken': POST" in out and "answered 400" in out
    rows = summary_rows(pytester.path)
    assert rows["test_a_login_that_fails"] == ["token 'broken'", "no token", "❌ FAIL"]
    assert categories(pytester.path)["test_a_login_that_fails"] == "Authentication setup"
    assert rows["test_needs_a_database"] == ["-", "environment prod-like has no database (database_url)", "⏭ skip"]
    assert "smokeproof: not checked here: 1 own check that needs a database (no database_url)" in out
    assert "different loop" not in out and "warnings summary" not in out
    assert len(login_app.minted) - minted >= 4  # tokens, a session, a password field: credentials nobody declared
    secrets = [auth_app.PASSWORD, *login_app.minted[minted:]]
    assert leaks(pytester.path, result, secrets) == []


TENANT_CHECK = '''\
import pytest


@pytest.mark.each_database
async def test_flags_are_seeded(smoke_db, smoke_database):
    """The seed migration ran: without its flags, the dashboard is off for everyone."""
    assert await smoke_db.fetchval("SELECT current_database()") == ("demo" if smoke_database is None else "{eu}")
    assert await smoke_db.fetchval("SELECT count(*) FROM feature_flags") == 2


async def test_database_url_only(smoke_db):
    assert await smoke_db.fetchval("SELECT current_database()") == "demo"
'''


def test_each_database_runs_once_per_database(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, healthy_target: DemoTarget, pg_url: str
) -> None:
    """``@pytest.mark.each_database``: ``database_url`` and each tenant, ``smoke_db`` that database's connection."""
    for name in ("pytest.ini", "conftest.py"):
        (pytester.path / name).write_text((REPO / name).read_text())
    (pytester.path / "tests").mkdir()
    eu = pg_url.rsplit("/", 1)[1]
    (pytester.path / "tests" / "test_tenants.py").write_text(TENANT_CHECK.format(eu=eu))
    env = healthy_target.use(monkeypatch, pytester.path, extra=f'[databases]\neu = "{pg_url}"\n')
    # "tests" named: a suite of own checks alone, on purpose (the environment's [revision] has no Alembic module here)
    result = own_run(pytester, f"--env-file={env}", "tests")
    out = result.stdout.str()
    assert outcomes(result) == {"database_url": "passed", "eu": "failed", "test_database_url_only": "passed"}, out[-3000:]
    assert "test_tenants.py::test_flags_are_seeded[eu]" in out
    rows = summary_rows(pytester.path)
    assert rows["test_flags_are_seeded"] == ["-", "passed", "✅ pass"]
    assert rows["test_flags_are_seeded @ eu"][1].startswith('UndefinedTableError: relation "feature_flags" does not exist')
    assert categories(pytester.path)["test_flags_are_seeded @ eu"] == "Missing schema objects"


def test_the_suites_own_checks_pass_on_the_demo_and_fail_on_the_incident(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, healthy_target: DemoTarget, incident_target: DemoTarget
) -> None:
    """tests/own/: the admin API's flags are the table's rows; the login query runs on every database."""
    lay_out(pytester.path, own=True)
    found = {}
    for target in (healthy_target, incident_target):
        env = target.use(monkeypatch, pytester.path)
        result = own_run(pytester, f"--env-file={env}", "tests/own")
        found[target is healthy_target] = (outcomes(result), summary_rows(pytester.path))
    checks = ("test_admin_flags_are_the_table_rows", "test_the_login_query_runs")
    healthy, healthy_rows = found[True]
    incident, incident_rows = found[False]
    assert healthy == dict.fromkeys(checks, "passed")
    assert incident == dict.fromkeys(checks, "failed")
    assert healthy_rows["test_admin_flags_are_the_table_rows"][:2] == [
        "{'market_insights': True, 'price_alerts': False}",
        "{'market_insights': True, 'price_alerts': False}",
    ]
    assert incident_rows["test_admin_flags_are_the_table_rows"][0] == "2xx"
    assert incident_rows["test_admin_flags_are_the_table_rows"][1].startswith("500 Internal Server Error: GET http://127.0.0.1:")
    assert incident_rows["test_the_login_query_runs"][1].startswith(
        'UndefinedTableError: relation "user_hierarchy_assignments" does not exist'
    )
    assert categories(pytester.path) == {
        "test_admin_flags_are_the_table_rows": "Server errors (5xx)",
        "test_the_login_query_runs": "Missing schema objects",
    }


BOUNDED_CHECK = """\
import asyncio


async def test_three_at_once(smoke_http):
    answers = await asyncio.gather(*(smoke_http.get("/slow") for _ in range(3)))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
"""


def test_own_requests_keep_the_runs_concurrency_bound(pytester: pytest.Pytester) -> None:
    """``[http] concurrency = 1``: three requests sent at once by an own check reach the server one at a time."""
    for name in ("pytest.ini", "conftest.py"):
        (pytester.path / name).write_text((REPO / name).read_text())
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_bounded.py").write_text(BOUNDED_CHECK)
    with serve(Server(routes={"/slow": Route(delay_s=0.2)})) as server:
        env = pytester.path / "bounded.toml"
        env.write_text(f'production = false\nbase_url = "{server.url}"\n[http]\nconcurrency = 1\n')
        result = own_run(pytester, f"--env-file={env}")
        assert result.ret == 0, result.stdout.str()[-3000:]
        assert server.hits["/slow"] == 3 and server.max_in_flight == 1
