"""Replaying the code's migrations into a scratch database, for ``smokeproof baseline --migrate``.

The team's own command (``alembic upgrade head``) runs with ``DATABASE_URL`` and the libpq
variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``) set for the scratch
database, under a time limit. Its output is kept for the failure message, with every secret of
the scratch URL scrubbed. Meant for CI before a deploy: never point it at a database that matters.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

from smokeproof.config.secrets import Redactor, url_password
from smokeproof.errors import reason

SCRATCH_DATABASE = "smokeproof_baseline"
OUTPUT_TAIL = 60  # lines of the command's output shown when it fails
MISSING_EXTENSION = re.compile(
    r'extension "([^"]+)" is not available|could not open extension control file "[^"]*/([^/"]+)\.control"'
)


class ReplayError(Exception):
    """The migrate command failed, timed out, or the scratch database is not empty."""


@dataclass(frozen=True)
class Replayed:
    output: str
    seconds: float


def libpq_environment(url: str) -> dict[str, str]:
    """``DATABASE_URL`` and the libpq variables for ``url``."""
    parts = urlsplit(url)
    env = {
        "DATABASE_URL": url,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or "postgres"),
        "PGDATABASE": unquote(parts.path.lstrip("/")) or "postgres",
    }
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


async def create_database(server_url: str) -> str:
    """A fresh database on the scratch server; its URL."""
    try:
        conn = await asyncpg.connect(server_url, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{SCRATCH_DATABASE}"')
        finally:
            await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        redact = Redactor([server_url, url_password(server_url) or ""])
        raise ReplayError(redact(f"the scratch server: cannot create the scratch database: {reason(exc)}")) from None
    return server_url.rsplit("/", 1)[0] + f"/{SCRATCH_DATABASE}"


# Relations outside the system schemas (objects an extension owns, such as PostGIS' spatial_ref_sys, do not count).
USER_RELATIONS = """
SELECT n.nspname || '.' || c.relname AS name
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY 1
"""


async def ensure_empty(url: str, *, connect_timeout_s: float) -> None:
    """Refuse a database that holds relations in any schema but the system's: --migrate is for scratch databases only.

    Every schema counts, not only those the baseline reads: the migrate command may write anywhere.
    """
    redact = Redactor([url, url_password(url) or ""])
    try:
        conn = await asyncpg.connect(url, timeout=connect_timeout_s, server_settings={"default_transaction_read_only": "on"})
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ReplayError(redact(f"--database-url: cannot connect: {reason(exc)}")) from None
    try:
        names = [row["name"] for row in await conn.fetch(USER_RELATIONS, timeout=connect_timeout_s * 6)]
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ReplayError(redact(f"--database-url: cannot list its relations: {reason(exc)}")) from None
    finally:
        await conn.close()
    if names:
        shown = ", ".join(names[:5]) + (f", … ({len(names) - 5} more)" if len(names) > 5 else "")
        raise ReplayError(
            f"the database at --database-url already holds {len(names)} relation(s) ({shown}): "
            "--migrate needs an empty scratch database (never a database that matters)"
        )


def run_command(command: str, *, url: str, cwd: Path, timeout_s: float) -> Replayed:
    """Run ``command`` in a shell against ``url``; :class:`ReplayError` with its redacted output on failure."""
    redact = Redactor([url, url_password(url) or ""])
    began = time.perf_counter()
    process = subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env={**os.environ, **libpq_environment(url)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        raw, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raw, _ = process.communicate(timeout=10)
        raise ReplayError(f"the migrate command did not finish within {timeout_s:g} s\n{_tail(raw, redact)}") from None
    output = _tail(raw, redact)
    if process.returncode != 0:
        raise ReplayError(f"the migrate command failed (exit status {process.returncode}):\n{output}{_extension_hint(output)}")
    return Replayed(output, time.perf_counter() - began)


def _tail(raw: bytes, redact: Redactor) -> str:
    lines = raw.decode(errors="replace").splitlines()
    shown = lines[-OUTPUT_TAIL:]
    skipped = f"[{len(lines) - len(shown)} earlier lines not shown]\n" if len(lines) > len(shown) else ""
    return redact(skipped + "\n".join(f"  | {line}" for line in shown))


def _extension_hint(output: str) -> str:
    names = sorted({a or b for a, b in MISSING_EXTENSION.findall(output)})
    if not names:
        return ""
    return (
        f"\nthe scratch PostgreSQL has no {', '.join(names)} extension, which the migrations need: pass "
        "--database-url to an empty scratch database on a server that has it"
    )
