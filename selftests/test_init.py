"""``smokeproof init`` on a real FastAPI service it never saw, as a team adopting it would run it.

The service (selftests/fastapi_app/) has an OAuth2 password login, a protected route, an admin
route, public routes with response models (one ``format: email`` field) and its own Alembic
migrations on embedded PostgreSQL. ``init`` reads its /openapi.json and its database; the suite it
writes must pass on the healthy service, and fail where the service breaks its own document.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from smokeproof.cli.main import main
from smokeproof.cli.scaffold import MODULES, OWN_CHECKS, OWN_CHECKS_FILE
from smokeproof.config.secrets import MASK
from smokeproof.database.schema_contract import load_schema_contract
from smokeproof.kinds import KINDS

from .adopted import ENV, VARIABLE, Scaffolded, init_args, outcomes, scaffold, smokeproof
from .fastapi_app.server import Service
from .sql import execute
from .suite import REPO

pytestmark = pytest.mark.slow

CHECKED = {
    "GET /api/v1/users/me -> 401",
    "GET /api/v1/users/ -> 401",
    "GET /api/v1/items/ -> 200",
    "GET /api/v1/utils/contact -> 200",
    "GET /api/v1/utils/health-check/ -> 200",
    "test_alembic_revision",
    "table public.users",
    "table public.items",
    "enum public.itemstatus",
    "index public.ix_users_email",
    "foreign key public.items(owner_id) -> users(id)",
}


@pytest.fixture(scope="module")
def scaffolded(fastapi_service: Service, tmp_path_factory: pytest.TempPathFactory) -> Scaffolded:
    return scaffold(fastapi_service, tmp_path_factory.mktemp("adopted"))


def test_init_writes_a_suite_that_passes_on_the_healthy_service(scaffolded: Scaffolded) -> None:
    assert scaffolded.init.returncode == 0, scaffolded.init.stderr
    written = {p.relative_to(scaffolded.root).as_posix() for p in scaffolded.root.rglob("*") if p.is_file()}
    assert written == {
        f"environments/{ENV}.toml",
        "tests/contracts/endpoints.toml",
        "tests/schema/schema.toml",
        "pytest.ini",
        *MODULES,
        OWN_CHECKS_FILE,
    }
    result = scaffolded.pytest()
    seen = outcomes(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:]
    assert set(seen) >= CHECKED, sorted(seen)
    assert set(seen.values()) == {"passed"}, {k: v for k, v in seen.items() if v != "passed"}


def test_the_database_url_is_a_variable_never_a_literal(scaffolded: Scaffolded) -> None:
    password = scaffolded.service.database_url.split(":")[2].split("@")[0]
    env_file = (scaffolded.root / "environments" / f"{ENV}.toml").read_text()
    assert tomllib.loads(env_file)["database_url"] == "${" + VARIABLE + "}"
    assert password not in env_file and password not in scaffolded.init.stdout + scaffolded.init.stderr
    assert f"export {VARIABLE}='postgresql://service:{MASK}@" in scaffolded.init.stdout


def test_operations_it_cannot_check_anonymously_are_written_commented_out_with_the_reason(scaffolded: Scaffolded) -> None:
    text = (scaffolded.root / "tests" / "contracts" / "endpoints.toml").read_text()
    assert (
        "# not checked: needs a real value for {item_id} in 'path'\n# [[endpoint]]\n# path = \"/api/v1/items/{item_id}\"" in text
    )
    assert "# not checked: the OAuth2 password login: give it to [auth.login.NAME]" in text
    assert "# not checked: POST is not sent by a smoke check" in text
    assert '# id = "GET /api/v1/users/me as user"' in text  # the logged-in check, ready to uncomment
    contact = next(e for e in tomllib.loads(text)["endpoint"] if e["path"] == "/api/v1/utils/contact")
    assert contact["json_schema"]["properties"]["email"] == {"type": "string", "format": "email"}  # $ref resolved, no title


def test_a_non_email_in_a_format_email_field_fails(scaffolded: Scaffolded) -> None:
    scaffolded.service.faults.add("bad-email")
    try:
        result = scaffolded.pytest("-k", "contact", "-m", "not fuzz")
    finally:
        scaffolded.service.faults.discard("bad-email")
    assert result.returncode == 1, result.stdout[-3000:]
    assert outcomes(result.stdout) == {"GET /api/v1/utils/contact -> 200": "failed"}
    assert 'body at /email: "support at example dot com" does not match format "email"' in result.stdout


def test_init_never_overwrites_without_force(scaffolded: Scaffolded, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = scaffolded.root / "environments" / f"{ENV}.toml"
    kept = env_file.read_text()
    endpoints = scaffolded.root / "tests" / "contracts" / "endpoints.toml"
    endpoints.write_text("# edited by the team\n")
    try:
        assert main(init_args(scaffolded.service, scaffolded.root)) == 4
        [line] = capsys.readouterr().err.splitlines()
        assert f"environments/{ENV}.toml" in line and "endpoints.toml" in line and "--force" in line
        assert endpoints.read_text() == "# edited by the team\n"  # nothing was written
        assert main([*init_args(scaffolded.service, scaffolded.root), "--force"]) == 0
        assert "[[endpoint]]" in endpoints.read_text()
    finally:
        env_file.write_text(kept)


def test_snapshot_format_toml_prints_the_schema_init_wrote(scaffolded: Scaffolded) -> None:
    env = {**os.environ, VARIABLE: scaffolded.service.database_url}
    done = smokeproof("snapshot", f"--env={ENV}", "--format=toml", cwd=scaffolded.root, env=env)
    assert done.returncode == 0, done.stderr
    written = (scaffolded.root / "tests" / "schema" / "schema.toml").read_text()
    assert tomllib.loads(done.stdout) == tomllib.loads(written)
    assert "[[foreign_key]]" in done.stdout
    path = scaffolded.root / "snapshot.toml"
    path.write_text(done.stdout)
    assert len(load_schema_contract(path).entries) == len(
        load_schema_contract(scaffolded.root / "tests/schema/schema.toml").entries
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--base-url=ftp://example"], "--base-url must start with http:// or https://"),
        (["--base-url=http://127.0.0.1:9", "--openapi=missing.json"], "--openapi: cannot read missing.json"),
        (["--base-url=http://127.0.0.1:9", "--database-url=mysql://x"], "--database-url must be a postgresql:// URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--env=x", f"--dir={tmp_path}", *args]) == 4
    err = capsys.readouterr().err
    assert problem in err and len(err.splitlines()) == 1, err
    assert not any(tmp_path.iterdir())


def test_the_scaffolded_test_modules_are_the_repositorys_own() -> None:
    """init writes one thin module per kind of check, the repository's own, shipped in the package (a wheel too)."""
    assert set(MODULES) == {kind.module for kind in KINDS} | {"conftest.py"}
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["smokeproof.cli"]
    for name, text in MODULES.items():
        assert (REPO / name).read_text() == text, f"{name}: smokeproof/cli/suite/{name} must link to the repository's file"
        assert any(fnmatch.fnmatch(f"suite/{name}", pattern) for pattern in package_data), f"{name} is not package data"


async def test_init_with_schema_writes_it_into_the_environment(pg_url: str, tmp_path: Path) -> None:
    """``--schema billing`` read the contract from billing: the run must read billing too, or every table fails as missing."""
    await execute(
        pg_url,
        "CREATE SCHEMA billing; CREATE TABLE billing.invoice (id int PRIMARY KEY, total numeric(10, 2) NOT NULL);"
        "CREATE INDEX ix_invoice_total ON billing.invoice (total)",
    )
    args = ["init", "--env=books", "--base-url=http://127.0.0.1:9", f"--database-url={pg_url}", "--schema=billing"]
    done = smokeproof(*args, f"--dir={tmp_path}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    env_text = (tmp_path / "environments" / "books.toml").read_text()
    assert tomllib.loads(env_text)["database"]["schemas"] == ["billing"]
    command = [sys.executable, "-m", "pytest", "--env=books", "-m", "schema", "-rA", "-p", "no:cacheprovider"]
    env = {**os.environ, "BOOKS_DATABASE_URL": pg_url}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False, env=env)
    seen = outcomes(result.stdout)
    assert seen.get("table billing.invoice") == "passed", result.stdout[-3000:]
    assert seen.get("index billing.ix_invoice_total") == "passed", result.stdout[-3000:]
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_own_checks_file_holds_commented_examples_that_compile() -> None:
    """``tests/test_own_checks.py`` runs nothing until a team uncomments it; uncommented, it is valid Python."""
    assert "\nasync def" not in OWN_CHECKS and "# async def test_admin_flags_are_the_table_rows(" in OWN_CHECKS
    uncommented = "\n".join(line.removeprefix("# ").removeprefix("#") for line in OWN_CHECKS.splitlines())
    code = compile(uncommented, OWN_CHECKS_FILE, "exec")
    assert {"test_admin_flags_are_the_table_rows", "test_every_tenant_has_its_default_plan"} <= set(code.co_names)
