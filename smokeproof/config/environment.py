"""Environment files: which deployment to check, and how.

``pytest --env=NAME`` reads ``environments/NAME.toml``; ``--env-file=PATH`` any file. The file is
validated whole before anything touches the network: a typo in a key, a wrong type, an unset
``${VAR}`` or a path that does not exist stops the run with exit status 4 and a message naming
the file and the key. ``production`` defaults to true: a file must say false to lift the safety
rules (only GET, HEAD and OPTIONS are sent to production).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from smokeproof.config import auth
from smokeproof.config.auth import Tokens
from smokeproof.config.databases import tenant_databases
from smokeproof.config.names import DEFAULT_ENV, ENV_VARIABLE, REVISION_VARIABLE
from smokeproof.config.redaction import Shapes
from smokeproof.config.secrets import Redactor, Secret, mask_url, url_password
from smokeproof.config.tables import (
    DatabaseTable,
    DriftTable,
    EnvironmentFile,
    FuzzTable,
    HttpTable,
    RevisionTable,
    StartTable,
    TlsTable,
    WaitTable,
)
from smokeproof.config.tomlfile import check_headers, read_toml, relative_path, substitute, uses_variables, validate
from smokeproof.errors import UsageError

__all__ = ["DEFAULT_ENV", "ENV_VARIABLE", "REVISION_VARIABLE", "Environment", "available", "load", "resolve_file"]

# Keys whose ${VAR} values are not secrets: shown in messages (a URL's password is masked all the same).
PUBLIC_KEYS = frozenset({"base_url", "drift.roles", "drift.role_map"})  # role names are shown, not masked


@dataclass(frozen=True)
class DriftConfig:
    """``[drift]``: the baseline file (absolute), what extra objects do, the globs left out."""

    baseline: Path
    extra: Literal["fail", "warn", "ignore"]
    ignore: tuple[str, ...]
    roles: tuple[str, ...] = ()
    role_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StartCommand:
    """A command that starts the target and prints its addresses (see :mod:`smokeproof.config.targets`)."""

    command: tuple[str, ...]
    cwd: Path
    ready_timeout_s: float
    tokens: Mapping[str, str]


@dataclass(frozen=True)
class Environment:
    """A validated environment; secrets are wrapped, paths absolute."""

    name: str
    file: Path
    description: str
    target: str
    production: bool
    base_url: str | None
    database_url: Secret | None
    databases: Mapping[str, Secret]  # tenant databases by name, in the order written
    contracts: Path | None  # None: the environment has no endpoint contracts
    schema: Path | None  # None: no schema contracts
    revision: RevisionTable
    migrations: tuple[Path, ...]  # [revision] migrations, absolute (empty when not set)
    alembic_ini: Path | None
    wait: WaitTable
    http: HttpTable
    headers: tuple[tuple[str, str | Secret], ...]
    tokens: Tokens
    database: DatabaseTable
    fuzz: FuzzTable
    start: StartCommand | None
    redactor: Redactor = field(compare=False)
    drift: DriftConfig | None = None
    known_issues: Path | None = None  # the known-issues file, absolute
    strict_known: bool = False
    tls: TlsTable = field(default_factory=TlsTable)

    @property
    def kind(self) -> Literal["production", "non-production"]:
        return "production" if self.production else "non-production"

    def header_line(self) -> str:
        base = self.redactor(self.base_url) if self.base_url else "(started by the run)" if self.start else "(none)"
        return f"smokeproof: environment {self.name} ({self.kind}) at {base} [{self.file}]"

    def with_target(self, *, base_url: str | None, database_url: str | None, tokens: Mapping[str, str]) -> Environment:
        """This environment with the addresses and tokens a started target reported."""
        self.redactor.add(url_password(database_url or ""), *tokens.values(), credential=True)
        return replace(
            self,
            base_url=base_url or self.base_url,
            database_url=Secret(database_url) if database_url else self.database_url,
            tokens=self.tokens.with_static({name: value for name, value in tokens.items() if value.strip()}),
        )

    def masked(self, url: Secret) -> str:
        """A database URL as the reports show it: no password, no secret."""
        return self.redactor(mask_url(url.reveal()))

    def masked_database_url(self) -> str:
        return self.redactor(mask_url(self.database_url.reveal())) if self.database_url else "(none)"


def environments_dir(rootdir: Path) -> Path:
    return rootdir / "environments"


def available(rootdir: Path) -> list[str]:
    folder = environments_dir(rootdir)
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def resolve_file(*, rootdir: Path, name: str | None, file: str | None) -> tuple[str, Path]:
    """The environment's name and file from ``--env``/``--env-file``/``SMOKEPROOF_ENV``."""
    if name and file:
        raise UsageError("give either --env or --env-file, not both")
    if file:
        path = Path(file).expanduser().resolve()
        if not path.is_file():
            raise UsageError("--env-file: file not found", file=path)
        return path.stem, path
    name = name or os.environ.get(ENV_VARIABLE) or DEFAULT_ENV
    path = environments_dir(rootdir) / f"{name}.toml"
    if not path.is_file():
        names = ", ".join(available(rootdir)) or "(none)"
        raise UsageError(f"unknown environment '{name}'; environments in {environments_dir(rootdir)}: {names}")
    return name, path


def load(path: Path, *, name: str, rootdir: Path, environ: Mapping[str, str] | None = None) -> Environment:
    """Read and validate an environment file."""
    raw, parsed, redactor = _parse(path, environ)
    databases = tenant_databases(
        parsed.databases,
        listed=parsed.databases_list,
        from_file=parsed.databases_file,
        file=path,
        redactor=redactor,
        environ=environ,
    )
    contracts = _optional_file(parsed.contracts, "contracts", rootdir / "tests" / "contracts" / "endpoints.toml", file=path)
    _check_urls(parsed, contracts, file=path, redactor=redactor)
    tokens = auth.tokens(parsed.auth, file=path)
    redactor.add(*tokens.static.values(), *(url_password(spec.url) for spec in tokens.obtained.values()), credential=True)
    redactor.sensitive_headers |= tokens.headers()
    return Environment(
        name=name,
        file=path,
        description=parsed.description,
        target=parsed.target or name,
        production=parsed.production,
        base_url=parsed.base_url.rstrip("/") if parsed.base_url else None,
        database_url=Secret(parsed.database_url) if parsed.database_url else None,
        databases=databases,
        contracts=contracts,
        schema=_optional_file(parsed.schema_, "schema", rootdir / "tests" / "schema" / "schema.toml", file=path),
        revision=parsed.revision,
        migrations=_folders(parsed.revision.migrations, file=path),
        alembic_ini=_path(parsed.revision.alembic_ini, "revision.alembic_ini", file=path),
        wait=parsed.wait,
        http=_http(parsed.http, file=path),
        headers=_headers(parsed.http.headers, raw, file=path),
        tokens=tokens,
        database=parsed.database,
        fuzz=parsed.fuzz,
        start=_start(parsed.start, file=path),
        redactor=redactor,
        drift=_drift(parsed.drift, file=path),
        known_issues=_path(parsed.known_issues, "known_issues", file=path),
        strict_known=parsed.strict_known,
        tls=parsed.tls,
    )


def _parse(path: Path, environ: Mapping[str, str] | None) -> tuple[dict[str, Any], EnvironmentFile, Redactor]:
    """The file as written, validated with its ``${VAR}`` values in, and the redactor that knows its secrets."""
    redactor = Redactor()
    raw = read_toml(path)
    empty: list[tuple[str, str]] = []
    data = substitute(raw, file=path, redactor=redactor, environ=environ, empty=empty, public=PUBLIC_KEYS)
    auth.refuse_empty(empty, file=path)  # first: the message names the variable, not only the key
    parsed = validate(EnvironmentFile, data, file=path, redactor=redactor)
    redactor.shapes = Shapes(keys=parsed.redact.keys, patterns=parsed.redact.patterns)
    return raw, parsed, redactor


def _path(value: str | None, key: str, *, file: Path) -> Path | None:
    return relative_path(value, base=file.parent, file=file, key=key) if value is not None else None


def _folders(value: str | list[str] | None, *, file: Path) -> tuple[Path, ...]:
    """``[revision] migrations``: one folder or a list of them."""
    folders = [value] if isinstance(value, str) else value or []
    return tuple(relative_path(folder, base=file.parent, file=file, key="revision.migrations") for folder in folders)


def _optional_file(value: str | None, key: str, default: Path, *, file: Path) -> Path | None:
    """The file a key names (it must exist), else the default when it exists, else None: that part is absent."""
    if value is not None:
        return relative_path(value, base=file.parent, file=file, key=key)
    return default if default.is_file() else None


def _check_urls(parsed: EnvironmentFile, contracts: Path | None, *, file: Path, redactor: Redactor) -> None:
    """``base_url`` where endpoint contracts or ``[revision] url`` need it; URLs of the right scheme."""
    relative = [url for url in (parsed.revision.url, parsed.wait.url) if url is not None and url.startswith("/")]
    needs_base = contracts is not None or bool(relative)
    if parsed.base_url is None and parsed.start is None and needs_base:
        why = "endpoint contracts" if contracts is not None else "relative URLs in [revision] or [wait]"
        raise UsageError(f"set 'base_url' (or a [start] table that starts the target): {why} need it", file=file)
    if parsed.base_url is not None:
        redactor.add(url_password(parsed.base_url), credential=True)
        try:
            auth.http_url(parsed.base_url)
        except ValueError as exc:
            raise UsageError(f"'base_url' {exc} (got {redactor(parsed.base_url)!r})", file=file) from None
    if parsed.database_url is not None:
        if not parsed.database_url.startswith(("postgresql://", "postgres://")):
            raise UsageError("'database_url' must be a postgresql:// URL", file=file)
        redactor.add(url_password(parsed.database_url), credential=True)


def _headers(headers: Mapping[str, str], raw: Mapping[str, object], *, file: Path) -> tuple[tuple[str, str | Secret], ...]:
    """``[http] headers``; a value that came from ``${VAR}`` is a secret."""
    check_headers(headers, file=file, key="http.headers")
    written = raw.get("http", {})
    written_headers = written.get("headers", {}) if isinstance(written, Mapping) else {}
    return tuple(
        (key, Secret(value) if uses_variables(str(written_headers.get(key, ""))) else value) for key, value in headers.items()
    )


def _http(table: HttpTable, *, file: Path) -> HttpTable:
    """``[http]`` with ``ca_file`` made absolute (relative to the environment file, which must exist)."""
    if table.ca_file is None:
        return table
    ca_file = relative_path(table.ca_file, base=file.parent, file=file, key="http.ca_file")
    try:
        ssl.create_default_context(cafile=str(ca_file))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise UsageError(
            f"'http.ca_file' ({ca_file}) is not a readable PEM bundle of CA certificates: {exc}", file=file
        ) from None
    return table.model_copy(update={"ca_file": str(ca_file)})


def _drift(table: DriftTable | None, *, file: Path) -> DriftConfig | None:
    if table is None:
        return None
    baseline = relative_path(table.baseline, base=file.parent, file=file, key="drift.baseline")
    return DriftConfig(
        baseline=baseline, extra=table.extra, ignore=tuple(table.ignore), roles=tuple(table.roles), role_map=dict(table.role_map)
    )


def _start(table: StartTable | None, *, file: Path) -> StartCommand | None:
    if table is None:
        return None
    return StartCommand(
        command=tuple(table.command),
        cwd=relative_path(table.cwd, base=file.parent, file=file, key="start.cwd"),
        ready_timeout_s=table.ready_timeout_s,
        tokens=dict(table.tokens),
    )
