"""``smokeproof init``: scaffold a smoke suite for a running service.

From the service's OpenAPI document (endpoint contracts) and its database (a read-only catalog
snapshot: the schema contract), write ``environments/NAME.toml``, ``tests/contracts/endpoints.toml``,
``tests/schema/schema.toml``, the thin test modules, ``pytest.ini`` and ``conftest.py``, so that
``pytest --env=NAME`` passes on the healthy service at once. Nothing is overwritten without
``--force``; the database URL is never written, only the ``${NAME_DATABASE_URL}`` that reads it.

``smokeproof init --update`` adds the thin test modules a suite lacks (a kind of check that did not
exist when it was scaffolded) and touches nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Any

from smokeproof.cli import openapi, scaffold
from smokeproof.config.secrets import Redactor, mask_url, url_password
from smokeproof.config.tomlwrite import block, commented, document, literal
from smokeproof.database import alembic_config, schema_toml
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.catalog_read import read_url
from smokeproof.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ENDPOINT_KEYS = (
    "Keys: path, status (int or list), id, method, severity, feature, query, headers, max_ms, content_type,\n"
    "json_schema, body_contains, auth (a token name from the environment's [auth]), only, fuzz, follow_redirects."
)


def add_parser(commands: Any) -> None:
    sub = commands.add_parser("init", help="scaffold a smoke suite for a running service (OpenAPI document + database)")
    sub.add_argument("--env", help="environment name: writes environments/NAME.toml (required but with --update)")
    sub.add_argument("--base-url", help="where the service answers, http:// or https:// (required but with --update)")
    sub.add_argument("--openapi", help="the service's OpenAPI document: a URL (…/openapi.json) or a file")
    sub.add_argument("--database-url", help="postgresql:// URL, read once, read-only; written as ${NAME_DATABASE_URL}")
    sub.add_argument("--schema", action="append", help="database schema to read (repeatable; default: public)")
    sub.add_argument(
        "--migrations",
        type=Path,
        help="the code's Alembic versions folder, or Flask-Migrate's migrations folder (for the alignment check)",
    )
    sub.add_argument("--dir", type=Path, default=Path("."), help="where to write the suite (default: .)")
    sub.add_argument("--force", action="store_true", help="overwrite files that exist")
    sub.add_argument(
        "--update", action="store_true", help="only add the thin test modules the suite in --dir lacks; touch nothing else"
    )


def variable(env: str) -> str:
    """``NAME_DATABASE_URL`` for environment ``name``: upper-cased, ``-`` (and anything not a letter or digit) as ``_``."""
    return re.sub(r"[^A-Za-z0-9]", "_", env).upper() + "_DATABASE_URL"


def update(root: Path) -> int:
    """``init --update``: write the thin modules missing under ``root``, nothing else."""
    if not (root / "pytest.ini").is_file() and not (root / "tests").is_dir():
        raise UsageError(f"--update: {root} holds no suite (no pytest.ini, no tests/): run init without --update first")
    missing = {root / name: text for name, text in scaffold.MODULES.items() if not (root / name).exists()}
    for path, text in missing.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"smokeproof init: wrote {path.relative_to(root)}")
    if not missing:
        print(f"smokeproof init: {root} has every thin module; nothing written")
    return 0


def run(args: argparse.Namespace) -> int:
    """Check the arguments and the target files, read the service, write the suite."""
    if args.update:
        return update(args.dir.resolve())
    if not args.env or not args.base_url:
        raise UsageError("init needs --env NAME and --base-url URL (or --update, to add missing test modules)")
    if not NAME.match(args.env):
        raise UsageError(f"--env {args.env!r}: a name of letters, digits, '-', '_' and '.' (it names environments/NAME.toml)")
    if not args.base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https:// (got {mask_url(args.base_url)!r})")
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgres://")):
        raise UsageError("--database-url must be a postgresql:// URL")
    if args.migrations is not None and not args.migrations.is_dir():
        raise UsageError(f"--migrations: {args.migrations} is not a folder")
    if args.migrations is not None:
        args.migrations = alembic_config.versions_folder(args.migrations)
    root: Path = args.dir.resolve()
    targets = [root / "environments" / f"{args.env}.toml", *(root / name for name in PLAIN_FILES)]
    existing = [path for path in targets if path.exists()]
    if existing and not args.force:
        names = ", ".join(str(p) for p in existing)
        raise UsageError(f"{names} already exist{'s' * (len(existing) == 1)}; nothing was written (--force overwrites)")
    schemas = args.schema or ["public"]
    document_ = openapi.fetch(args.openapi) if args.openapi else None
    snap = asyncio.run(_snapshot(args.database_url, schemas)) if args.database_url else None
    files = {
        targets[0]: environment_file(args, root, document_),
        root / "tests/contracts/endpoints.toml": endpoints_file(args, document_),
        root / "tests/schema/schema.toml": schema_file(args, snap, schemas),
        root / "pytest.ini": scaffold.PYTEST_INI,
        **{root / name: text for name, text in scaffold.MODULES.items()},
        root / scaffold.OWN_CHECKS_FILE: scaffold.OWN_CHECKS,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _report(args, root, files, document_, snap)
    return 0


PLAIN_FILES = (
    "tests/contracts/endpoints.toml",
    "tests/schema/schema.toml",
    "pytest.ini",
    *scaffold.MODULES,
    scaffold.OWN_CHECKS_FILE,
)


async def _snapshot(dsn: str, schemas: list[str]) -> CatalogSnapshot:
    redact = Redactor([dsn, url_password(dsn) or ""])
    where = redact(mask_url(dsn))
    return await read_url(dsn, schemas=schemas, connect_timeout_s=5.0, statement_timeout_ms=10_000, where=where, redact=redact)


def _today() -> str:
    return dt.date.today().isoformat()


ENVIRONMENT = """\
# Environment {env}: `pytest --env={env}`. See README, 'Adopt it for your service'.
description = {description}
production = true              # only GET, HEAD and OPTIONS are sent; false lifts that for a test deployment
base_url = {base_url}
{database}
[revision]                     # where the code's Alembic head comes from (the alignment check)
{revision}
[http]
timeout_s = 10
max_ms = 3000                  # latency budget per request

[fuzz]
max_examples = 25              # malformed credentials per protected route; 0 turns the probes off
max_rate_per_s = 10            # requests per second the probes send at most

{database_table}{auth}"""


def environment_file(args: argparse.Namespace, root: Path, spec: dict[str, Any] | None) -> str:
    database = f'database_url = "${{{variable(args.env)}}}"   # never the URL itself: export it\n' if args.database_url else ""
    if args.migrations is not None:
        revision = f"migrations = {literal(os.path.relpath(args.migrations.resolve(), root / 'environments'))}\n"
        if alembic_config.flask_migrate_layout(args.migrations.parent):
            revision += 'upgrade_command = "flask db upgrade"   # Flask-Migrate: what every "what to do" prints\n'
    else:
        revision = '# migrations = "../../app/alembic/versions"   # the versions folder, read statically\n'
    text = ENVIRONMENT.format(
        env=args.env,
        description=literal(f"{args.env} (written by smokeproof init on {_today()})"),
        base_url=literal(args.base_url.rstrip("/")),
        database=database,
        revision=revision,
        database_table=_database_table(args.schema),
        auth="\n".join(_auth_lines(args.env, spec)) + "\n",
    )
    return document(blocks=[text])


def _database_table(schemas: list[str] | None) -> str:
    """``[database] schemas`` when ``--schema`` named any: the run reads the catalog of those, as init did."""
    if not schemas:
        return ""
    return f"[database]\nschemas = {literal(schemas)}   # the schemas the catalog is read from (init --schema)\n\n"


def _auth_lines(env: str, spec: dict[str, Any] | None) -> list[str]:
    prefix = re.sub(r"[^A-Za-z0-9]", "_", env).upper()
    lines = ['# Tokens for entries with auth = "NAME" (README, Adopt it for your service, step 4):', "# [auth]"]
    lines.append(f'# tokens = {{ user = "${{{prefix}_USER_TOKEN}}" }}')
    url = openapi.password_token_url(spec) if spec else None
    if url:
        lines += [
            "# or let the run log in once (OAuth2 password flow of this service):",
            "# [auth.login.user]",
            f"# path = {literal(url)}",
            f'# form = {{ username = "${{{prefix}_USER_EMAIL}}", password = "${{{prefix}_USER_PASSWORD}}" }}',
        ]
        return lines
    return [
        *lines,
        "# or a token login with HTTP Basic whose answer holds the token (README, Tokens):",
        "# [auth.login.api]",
        '# path = "/api/tokens"',
        f'# basic = {{ username = "${{{prefix}_USER}}", password = "${{{prefix}_PASSWORD}}" }}',
        '# token_pointer = "/token"',
        "# or the web UI's session: GET the form, POST it with its CSRF token, keep the cookie:",
        "# [auth.login.web]",
        '# path = "/login"',
        f'# form = {{ username = "${{{prefix}_USER}}", password = "${{{prefix}_PASSWORD}}" }}',
        '# cookie = "session"',
        '# csrf = { path = "/login", field = "csrf_token" }',
    ]


def endpoints_file(args: argparse.Namespace, spec: dict[str, Any] | None) -> str:
    header = f"Endpoint contracts of {args.env}, written by smokeproof init on {_today()}"
    header += f" from {args.openapi}.\n" if args.openapi else ".\n"
    header += ENDPOINT_KEYS
    if spec is None:
        example = commented(block("endpoint", {"path": "/health", "status": 200, "content_type": "application/json"}))
        return document(header=header + "\nNo --openapi was given: write an entry per route to check.", blocks=[example])
    ops = openapi.operations(spec)
    active = [block("endpoint", op.fields) for op in ops if op.reason is None]
    later = [
        commented(block("endpoint", {"id": f"GET {op.path} as user", "path": op.path, "auth": "user", **op.extra}))
        for op in ops
        if op.reason is None and op.secured
    ]
    parked = [f"# not checked: {op.reason}\n" + commented(block("endpoint", op.fields)) for op in ops if op.reason]
    blocks = active
    if later:
        blocks += ["# --- With a token (define [auth] in the environment file, then uncomment):\n", *later]
    if parked:
        blocks += ["# --- Written commented out, each with the reason:\n", *parked]
    return document(header=header, blocks=blocks)


def schema_file(args: argparse.Namespace, snap: CatalogSnapshot | None, schemas: list[str]) -> str:
    if snap is None:
        header = "Schema contract: no --database-url was given. Add [[table]], [[enum]], [[index]], [[foreign_key]] entries,\n"
        header += "or write it later with: smokeproof snapshot --env NAME --format toml > tests/schema/schema.toml"
        return document(header=header, top={"schemas": schemas})
    revision = ", ".join(snap.alembic_revisions) if snap.alembic_revisions else "(no alembic_version table)"
    header = f"Schema contract of {args.env}, written by smokeproof init on {_today()} from the database at Alembic revision\n"
    header += f"{revision}: every table, enum type, index and foreign key. Keep what the deployed code needs."
    return schema_toml.render(snap, schemas=schemas, header=header)


def _report(
    args: argparse.Namespace, root: Path, files: dict[Path, str], spec: dict[str, Any] | None, snap: CatalogSnapshot | None
) -> None:
    for path in files:
        print(f"smokeproof init: wrote {path.relative_to(root)}")
    if spec is not None:
        ops = openapi.operations(spec)
        checked = sum(op.reason is None for op in ops)
        parked = _count(len(ops) - checked, "operation")
        print(f"smokeproof init: {_count(checked, 'endpoint contract')}; {parked} written commented out, each with the reason")
    else:
        print(
            "smokeproof init: no endpoint contracts (no --openapi): nothing checks the service's routes; add [[endpoint]] "
            "entries to tests/contracts/endpoints.toml, or rerun with --openapi URL --force"
        )
    if snap is not None:
        data = schema_toml.contract(snap, schemas=args.schema or ["public"])
        kinds = {"table": "table", "enum": "enum type", "index": "index", "foreign_key": "foreign key"}
        kinds |= {"policy": "policy", "trigger": "trigger", "function": "function"}
        counts = [
            _count(len(data.get(kind, [])), word) for kind, word in kinds.items() if data.get(kind) or kind in ("table", "enum")
        ]
        print(f"smokeproof init: schema contract of {', '.join(counts)}")
        masked = mask_url(args.database_url)
        note = "   # your password where *** is" if masked != args.database_url else ""
        print(f"\nexport {variable(args.env)}='{masked}'{note}")
    where = "" if root == Path.cwd().resolve() else f"cd {root} && "
    print(f"{where}pytest --env={args.env}", file=sys.stdout)


def _count(n: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("cy") else word + ("es" if word.endswith("x") else "s")
    return f"{n} {word if n == 1 else plural}"
