"""``smokeproof snapshot`` and ``baseline`` on a database that cannot be read: one line and exit 1, never a traceback.

The commands read the catalog through the run's own reader (:mod:`smokeproof.database.catalog_read`),
so a database that is down, does not exist, or answers but cannot be read within its statement
timeout is said in the same words as in a run, with the URL masked.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from demo.pgcluster import free_port

from .sql import execute

SECRET = "canary-pw-5a7e"


def smokeproof(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "smokeproof.cli.main", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def env_file(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "env.toml"
    path.write_text(f'production = false\ndatabase_url = "{url}"\n{extra}')
    return path


MASKED = "***"  # how the password reads in every output


def assert_one_line(done: subprocess.CompletedProcess[str], command: str, words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"smokeproof {command}: ") and words in lines[0], lines[0]
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.parametrize("command", ["snapshot", "baseline"])
def test_a_database_that_is_down_is_one_line(tmp_path: Path, command: str) -> None:
    env = env_file(tmp_path, f"postgresql://app:{SECRET}@127.0.0.1:{free_port()}/app")  # nothing listens there
    extra = ["--write", str(tmp_path / "b.json")] if command == "baseline" else []
    done = smokeproof(command, "--env-file", str(env), *extra, cwd=tmp_path)
    assert_one_line(done, command, f"target unreachable: database postgresql://app:{MASKED}@127.0.0.1:")
    assert "target unreachable: database: target unreachable" not in done.stderr


@pytest.mark.parametrize("command", ["snapshot", "baseline"])
def test_a_database_that_does_not_exist_is_one_line(pg_url: str, tmp_path: Path, command: str) -> None:
    env = env_file(tmp_path, pg_url.rsplit("/", 1)[0] + "/no_such_database")
    extra = ["--write", str(tmp_path / "b.json")] if command == "baseline" else []
    done = smokeproof(command, "--env-file", str(env), *extra, cwd=tmp_path)
    assert_one_line(done, command, 'database "no_such_database" does not exist')


@pytest.fixture
async def locked(pg_url: str) -> AsyncIterator[str]:
    """A database whose alembic_version table another session holds locked: the catalog read blocks on it."""
    await execute(
        pg_url, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('010')"
    )
    holder = await asyncpg.connect(pg_url, timeout=10)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
            yield pg_url
    finally:
        await holder.close()


async def test_a_database_that_answers_but_cannot_be_read_is_one_line(locked: str, tmp_path: Path) -> None:
    env = env_file(tmp_path, locked, "[database]\nstatement_timeout_ms = 300\n")
    done = smokeproof("snapshot", "--env-file", str(env), cwd=tmp_path)
    assert_one_line(done, "snapshot", "the catalog read exceeded statement_timeout_ms = 300")
    assert "database postgresql://postgres@127.0.0.1:" in done.stderr
