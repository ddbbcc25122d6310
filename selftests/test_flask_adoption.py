"""A third service, shaped unlike the first two: Flask, Flask-Migrate, no OpenAPI document, an API token from
``POST /api/tokens`` with HTTP Basic (sent as Bearer), and a CSRF-protected form login answered by a 302 and a
``session`` cookie (Flask-WTF), on embedded PostgreSQL (selftests/flask_app/).

What a team adopting smokeproof there meets: ``init`` without ``--openapi`` says no endpoint is checked (and so
does the run); both logins are declared in the environment and obtained once per run; a wrong password fails as
"Authentication setup"; no token, cookie or CSRF token reaches an output; ``[drift]`` without its thin module
stops the run (exit 4) until ``init --update`` adds it; the Alembic advice is ``flask db upgrade``; and with the
database one migration behind, the 500s point to the Alembic check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from smokeproof.cli.scaffold import MODULES

from .adopted import outcomes, smokeproof
from .flask_app.app import MIGRATIONS
from .flask_app.server import HEAD, PREVIOUS, FlaskService

pytestmark = pytest.mark.slow

ENV = "notes"
VARIABLE = "NOTES_DATABASE_URL"
ALEMBIC_TEST = "tests/schema/test_alembic.py::test_alembic_revision"
LOGINS = """
[auth.login.api]
path = "/api/tokens"
basic = { username = "${NOTES_USER}", password = "${NOTES_PASSWORD}" }
token_pointer = "/token"

[auth.login.web]
path = "/auth/login"
form = { username = "${NOTES_USER}", password = "${NOTES_PASSWORD}" }
cookie = "session"
csrf = { path = "/auth/login", field = "csrf_token" }
"""
ENDPOINTS = """
[[endpoint]]
path = "/api/notes"
status = 200
content_type = "application/json"

[[endpoint]]
path = "/api/me"
status = 401

[[endpoint]]
id = "GET /api/me as api"
path = "/api/me"
auth = "api"
status = 200
body_contains = ["ada"]

[[endpoint]]
path = "/dashboard"
status = 302

[[endpoint]]
id = "GET /dashboard as web"
path = "/dashboard"
auth = "web"
status = 200
body_contains = ["Dashboard of ada"]
fuzz = true
"""
LOGGED_IN = {"GET /api/me as api -> 200", "GET /dashboard as web -> 200"}


@dataclass
class Suite:
    root: Path
    init: subprocess.CompletedProcess[str]
    service: FlaskService

    def environ(self, **override: str) -> dict[str, str]:
        given = {VARIABLE: self.service.database_url, "NOTES_USER": self.service.user[0], "NOTES_PASSWORD": self.service.user[1]}
        return {**os.environ, **given, **override}

    def pytest(self, *args: str, **override: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", f"--env={ENV}", "-rA", "-p", "no:cacheprovider", *args]
        return subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=180, check=False, env=self.environ(**override)
        )

    def everything(self, result: subprocess.CompletedProcess[str]) -> str:
        """What a run printed, and every report it wrote."""
        reports = "".join(f.read_text(errors="replace") for f in (self.root / "reports").rglob("*") if f.is_file())
        return result.stdout + result.stderr + reports

    @property
    def env_file(self) -> Path:
        return self.root / "environments" / f"{ENV}.toml"


def init(service: FlaskService, root: Path) -> Suite:
    """``smokeproof init`` without --openapi, with Flask-Migrate's migrations folder (what a user types)."""
    done = smokeproof(
        "init",
        f"--env={ENV}",
        f"--base-url={service.base_url}",
        f"--database-url={service.database_url}",
        f"--migrations={MIGRATIONS}",
        f"--dir={root}",
    )
    suite = Suite(root, done, service)
    if suite.env_file.exists():  # the probes' rate ceiling protects production, not this loopback app
        suite.env_file.write_text(suite.env_file.read_text().replace("max_rate_per_s = 10 ", "max_rate_per_s = 500"))
    return suite


@pytest.fixture(scope="module")
def plain(flask_service: FlaskService, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    return init(flask_service, tmp_path_factory.mktemp("flask-plain"))


@pytest.fixture(scope="module")
def logged_in(flask_service: FlaskService, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    suite = init(flask_service, tmp_path_factory.mktemp("flask-logins"))
    suite.env_file.write_text(suite.env_file.read_text() + LOGINS)
    (suite.root / "tests/contracts/endpoints.toml").write_text(ENDPOINTS)
    return suite


def test_init_without_openapi_says_no_endpoint_is_checked_and_so_does_the_run(plain: Suite) -> None:
    assert plain.init.returncode == 0, plain.init.stderr
    assert "no endpoint contracts (no --openapi)" in plain.init.stdout
    written = {p.relative_to(plain.root).as_posix() for p in plain.root.rglob("*") if p.is_file()}
    assert set(MODULES) <= written and "tests/schema/test_drift.py" in written  # every thin module there is
    env = tomllib.loads(plain.env_file.read_text())
    assert env["revision"]["upgrade_command"] == "flask db upgrade"  # Flask-Migrate's layout, recognised
    result = plain.pytest()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "not checked here: endpoint contracts (no entry in endpoints.toml" in result.stdout
    assert outcomes(result.stdout)["test_alembic_revision"] == "passed"


def test_both_logins_are_obtained_once_and_no_secret_reaches_an_output(logged_in: Suite) -> None:
    service = logged_in.service
    before = dict(service.logins)
    result = logged_in.pytest("-m", "contracts")
    seen = outcomes(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:]
    assert {k: seen.get(k) for k in LOGGED_IN} == dict.fromkeys(LOGGED_IN, "passed")
    assert seen["GET /dashboard as web rejects malformed credentials"] == "passed"  # malformed session cookies
    assert seen["GET /api/me rejects malformed credentials"] == "passed"
    assert {k: service.logins[k] - before.get(k, 0) for k in ("api", "web")} == {"api": 1, "web": 1}
    output = logged_in.everything(result)
    assert service.issued, "the app handed out no secret: the test would prove nothing"
    leaked = [value for value in service.issued if value in output]
    assert leaked == [], "a token, cookie or CSRF token the app issued is in the output"
    assert service.user[1] not in output


def test_a_wrong_password_fails_both_logins_as_authentication_setup(logged_in: Suite) -> None:
    wrong = "wrong-password-5521"
    result = logged_in.pytest("-m", "contracts and not fuzz", NOTES_PASSWORD=wrong)
    seen = outcomes(result.stdout)
    assert result.returncode == 1, result.stdout[-3000:]
    assert {k for k, v in seen.items() if v == "failed"} == LOGGED_IN
    failures = result.stdout.split("short test summary info")[0]
    assert failures.count("    Authentication setup") == len(LOGGED_IN)
    assert "token 'api': POST" in failures and "answered 401" in failures
    output = logged_in.everything(result)
    assert wrong not in output and not [value for value in logged_in.service.issued if value in output]


def test_drift_without_its_module_is_exit_4_until_init_update_adds_it(plain: Suite, tmp_path: Path) -> None:
    baseline = plain.root / "schema-baseline.json"
    made = smokeproof("baseline", f"--from-env={ENV}", f"--write={baseline}", cwd=plain.root, env=plain.environ())
    assert made.returncode == 0, made.stderr
    kept = plain.env_file.read_text()
    drift_module = plain.root / "tests/schema/test_drift.py"
    drift_module.unlink()  # a suite scaffolded before drift existed
    plain.env_file.write_text(kept + '\n[drift]\nbaseline = "../schema-baseline.json"\n')
    try:
        result = plain.pytest()
        assert result.returncode == 4, result.stdout[-2000:]
        assert "drift: configured ([drift] baseline), but no collected test checks it: add tests/schema/test_drift.py" in (
            result.stderr
        )
        assert "smokeproof init --update" in result.stderr
        assert plain.pytest("-m", "not drift").returncode == 0  # deselected on purpose: no refusal
        files = {p: p.read_bytes() for p in plain.root.rglob("*") if p.is_file() and "reports" not in p.parts}
        updated = smokeproof("init", "--update", f"--dir={plain.root}")
        assert updated.returncode == 0, updated.stderr
        assert updated.stdout.strip() == "smokeproof init: wrote tests/schema/test_drift.py"
        assert {p: p.read_bytes() for p in files} == files  # nothing else touched
        assert drift_module.read_text() == MODULES["tests/schema/test_drift.py"]
        result = plain.pytest()
        assert result.returncode == 0, result.stdout[-3000:]
        assert outcomes(result.stdout)["drift public.tokens"] == "passed"
    finally:
        plain.env_file.write_text(kept)
        drift_module.write_text(MODULES["tests/schema/test_drift.py"])


def test_one_migration_behind_the_500s_point_to_the_alembic_check_and_its_flask_command(logged_in: Suite) -> None:
    logged_in.service.migrate(PREVIOUS)
    try:
        result = logged_in.pytest()
    finally:
        logged_in.service.migrate(HEAD)
    seen = outcomes(result.stdout)
    assert result.returncode == 1
    assert seen["test_alembic_revision"] == "failed"
    assert seen["GET /api/me as api -> 200"] == "failed"  # the token lookup reads the column the migration adds
    assert seen["GET /api/me rejects malformed credentials"] == "failed"
    failures = result.stdout.split("short test summary info")[0]
    blocks = re.split(r"\n_{3,} ", failures)  # one per failure, its title first
    alembic = next(b for b in blocks if "test_alembic_revision" in b.splitlines()[0])
    assert "flask db upgrade" in alembic and "alembic upgrade" not in alembic
    for name in ("GET /api/me as api -> 200", "GET /api/me rejects malformed credentials"):
        block = next(b for b in blocks if name in b.splitlines()[0])
        assert "one migration behind" in block and f"see {ALEMBIC_TEST}" in block, block
        assert "flask db upgrade" in block
        assert "parsed before it is verified" not in block and "read the server log" not in block
