"""``smokeproof baseline``: write the baseline the drift checks compare the live database with.

Two ways to make it::

    smokeproof baseline --from-env staging --write schema-baseline.json
    smokeproof baseline --migrate "alembic upgrade head" --write schema-baseline.json

``--from-env`` takes one read-only snapshot of a known-good database (staging after a good
deploy). ``--migrate`` replays the code's migrations into a scratch database (embedded PostgreSQL
in a temporary directory, or ``--database-url`` to an empty scratch database) and snapshots that:
meant for CI before a deploy, never for production.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from smokeproof.cli.environments import load_environment, read_database
from smokeproof.config import targets
from smokeproof.config.secrets import Redactor, mask_url, url_password
from smokeproof.database import baseline, replay, scratch
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.catalog_read import read_url
from smokeproof.errors import UsageError

CONNECT_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_MS = 60_000


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "baseline",
        help="write the schema baseline for [drift]: from a known-good database or by replaying the migrations",
        description="write the schema baseline [drift] compares the live database with: from a known-good database "
        "(read-only) or by replaying the code's migrations into a scratch database (CI, never production)",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-env", metavar="NAME", help="snapshot the database of environments/NAME.toml (read-only)")
    source.add_argument("--env-file", metavar="PATH", help="snapshot the database of this environment file (read-only)")
    source.add_argument("--migrate", metavar="COMMAND", help='replay the migrations with COMMAND (e.g. "alembic upgrade head")')
    parser.add_argument(
        "--cwd", type=Path, default=Path("."), metavar="DIR", help="--migrate: folder to run COMMAND in (default: .)"
    )
    parser.add_argument(
        "--database-url", metavar="DSN", help="--migrate: an empty scratch database instead of embedded PostgreSQL"
    )
    parser.add_argument(
        "--schema", action="append", dest="schemas", metavar="NAME", help="--migrate: schema to read (default: public)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, metavar="S", help="--migrate: time limit for COMMAND (default: 600)"
    )
    parser.add_argument("--write", type=Path, required=True, metavar="PATH", help="the baseline file to write")


def command(args: argparse.Namespace) -> int:
    """Make the baseline and write it; 0, 1 (the database or the command failed) or 4 (bad input)."""
    try:
        doc = from_migrations(args) if args.migrate else from_environment(args)
    except (replay.ReplayError, scratch.ScratchError) as exc:
        print(f"smokeproof baseline: {exc}", file=sys.stderr)
        return 1
    args.write.parent.mkdir(parents=True, exist_ok=True)
    args.write.write_text(baseline.dumps(doc), encoding="utf-8")
    counts = ", ".join(f"{len(doc[k])} {k}" for k in ("tables", "views", "enums", "sequences", "functions", "domains", "types"))
    print(f"smokeproof: baseline written to {args.write} ({counts}; alembic {doc['alembic_revisions']})")
    return 0


def from_environment(args: argparse.Namespace) -> baseline.Document:
    env = load_environment(name=args.from_env, file=args.env_file)
    started = None
    if env.database_url is None and env.start is not None:
        try:
            started = targets.start(env.start)
        except targets.TargetStartError as exc:
            raise replay.ReplayError(f"the environment's start command failed: {env.redactor(str(exc))}") from None
        env = env.with_target(base_url=started.base_url, database_url=started.database_url, tokens={})
    try:
        snap = read_database(env, min_statement_timeout_ms=STATEMENT_TIMEOUT_MS)
    finally:
        if started is not None:
            started.stop()
    return _document(snap)


def from_migrations(args: argparse.Namespace) -> baseline.Document:
    schemas = args.schemas or ["public"]
    cwd = args.cwd.resolve()
    if not cwd.is_dir():
        raise UsageError(f"--cwd {cwd} is not a folder")
    print(
        "smokeproof baseline --migrate: runs the migrations against a scratch database; for CI before a deploy, "
        "never for production",
        file=sys.stderr,
    )
    if args.database_url:
        if not args.database_url.startswith(("postgresql://", "postgres://")):
            raise UsageError("--database-url must be a postgresql:// URL")
        asyncio.run(replay.ensure_empty(args.database_url, connect_timeout_s=CONNECT_TIMEOUT_S))
        return _replay(args.migrate, args.database_url, cwd, schemas, args.timeout)
    with scratch.server() as server_url:
        url = asyncio.run(replay.create_database(server_url))
        return _replay(args.migrate, url, cwd, schemas, args.timeout)


def _replay(command_line: str, url: str, cwd: Path, schemas: list[str], timeout_s: float) -> baseline.Document:
    done = replay.run_command(command_line, url=url, cwd=cwd, timeout_s=timeout_s)
    where = Redactor([url_password(url) or ""])(mask_url(url))
    print(f"smokeproof baseline: migrations replayed into {where} in {done.seconds:.1f} s", file=sys.stderr)
    snap = asyncio.run(
        read_url(
            url,
            schemas=schemas,
            connect_timeout_s=CONNECT_TIMEOUT_S,
            statement_timeout_ms=STATEMENT_TIMEOUT_MS,
            where=where,
            redact=Redactor([url, url_password(url) or ""]),
        )
    )
    return _document(snap)


def _document(snap: CatalogSnapshot) -> baseline.Document:
    """The baseline of ``snap``; refused when the role could not read every kind (they would all read as drift)."""
    refused = sorted(snap.security.unreadable)
    if refused:
        raise replay.ReplayError(
            f"the role may not read what {', '.join(refused)} need (pg_catalog): a baseline without them would report "
            "every one as missing; make it with a role that may read the catalog"
        )
    return baseline.document(snap)
