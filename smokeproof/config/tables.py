"""The environment file's tables, as TOML writes them: validated whole, strictly, before anything runs.

``strict``: a TOML string ``"no"`` is not a boolean, ``"10"`` is not a number; an unknown key is an
error naming it (``extra = "forbid"``). :mod:`smokeproof.config.environment` turns a valid file into an
:class:`~smokeproof.config.environment.Environment`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from smokeproof.config.auth import AuthTable, RedactTable

PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


def _revision_url(value: str) -> str:
    """An absolute http(s) URL, or a path on base_url: ``api/health`` would be glued onto base_url's host name."""
    if not value.startswith(("/", "http://", "https://")):
        raise ValueError("must be a path on base_url starting with '/' (\"/api/v1/health\") or an http(s):// URL")
    return value


def _pointer(value: str) -> str:
    """An RFC 6901 JSON pointer: empty (the whole document) or starting with '/'."""
    from jsonpointer import JsonPointer, JsonPointerException

    try:
        JsonPointer(value)
    except JsonPointerException as exc:
        raise ValueError(f'not an RFC 6901 JSON pointer ({exc}): write it as "/key/0"') from None
    return value


RevisionUrl = Annotated[str, AfterValidator(_revision_url)]
Pointer = Annotated[str, AfterValidator(_pointer)]


class _Table(BaseModel):
    # strict: a TOML string "no" is not a boolean, "10" is not a number
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _not_blank(value: str | None) -> str | None:
    """A revision that is given is not empty: an empty one would switch its check off (leave the key out for that)."""
    if value is not None and not value.strip():
        raise ValueError("is empty: give a revision, or leave the key out")
    return value


class RevisionTable(_Table):
    expected: str | None = None
    # Alembic's own configuration (alembic.ini or pyproject.toml), or the versions folder(s) directly
    alembic_ini: str | None = None
    migrations: str | list[str] | None = None
    recursive: bool = False
    labels: dict[str, str] = {}  # non-literal branch label expression -> its value ("cli.CONTRACT_BRANCH" = "contract")
    single_head: bool = False
    url: RevisionUrl | None = None
    json_pointer: Pointer = "/alembic_revision"
    # What every "what to do" prints to apply the migrations; {revision}: the code's head ("heads" for several)
    upgrade_command: str = "alembic upgrade {revision}"

    @model_validator(mode="after")
    def _one_way_to_the_folders(self) -> RevisionTable:
        if self.alembic_ini is not None and (self.migrations is not None or self.recursive):
            raise ValueError("set either 'alembic_ini' (Alembic's configuration decides) or 'migrations' and 'recursive'")
        if self.migrations == []:
            raise ValueError("'migrations' names no folder")
        return self

    _expected = field_validator("expected")(_not_blank)


class WaitTable(_Table):
    """Waiting for a rolling deploy before the checks (see :mod:`smokeproof.wait`)."""

    revision: str | None = None  # usually "${DEPLOY_REVISION}"; --wait-for-revision overrides it
    url: RevisionUrl | None = None  # default: [revision] url
    json_pointer: Pointer | None = None  # default: [revision] json_pointer
    timeout_s: PositiveFloat = 300.0
    interval_s: PositiveFloat = 5.0
    consecutive: PositiveInt = 3

    _revision = field_validator("revision")(_not_blank)


class HttpTable(_Table):
    timeout_s: PositiveFloat = 10.0
    connect_timeout_s: PositiveFloat = 5.0
    concurrency: PositiveInt = 16
    verify_tls: bool = True
    ca_file: str | None = None  # a PEM bundle trusted besides the public CAs (absolute once loaded)
    max_ms: PositiveInt = 3000
    warn_ms: PositiveInt | None = None  # slower than this but within max_ms: degraded, not failed
    max_body_bytes: PositiveInt = 1_048_576
    retries: Annotated[int, Field(ge=0, le=5)] = 1
    headers: dict[str, str] = {}
    # Origins (or hosts) besides base_url's that own checks' smoke_http may reach: "https://idp.example.com", "idp.example.com"
    allow_hosts: list[str] = []

    @model_validator(mode="after")
    def _warn_below_budget(self) -> HttpTable:
        if self.warn_ms is not None and self.warn_ms >= self.max_ms:
            raise ValueError(f"'warn_ms' ({self.warn_ms}) must be below 'max_ms' ({self.max_ms})")
        return self


class TlsTable(_Table):
    """``[tls]``: how close to its expiry a served certificate may be (see :mod:`smokeproof.http.certificates`)."""

    min_days: Annotated[int, Field(ge=0)] = 14  # fewer days left: the certificate check fails
    warn_days: Annotated[int, Field(ge=0)] = 30  # fewer days left: degraded

    @model_validator(mode="after")
    def _warn_before_fail(self) -> TlsTable:
        if self.warn_days < self.min_days:
            raise ValueError(f"'warn_days' ({self.warn_days}) must not be below 'min_days' ({self.min_days})")
        return self


class DatabaseTable(_Table):
    schemas: list[str] = ["public"]
    concurrency: PositiveInt = 8  # tenant databases read at once
    statement_timeout_ms: PositiveInt = 5000
    connect_timeout_s: PositiveFloat = 5.0


class FuzzTable(_Table):
    max_examples: Annotated[int, Field(ge=0, le=10_000)] = 25
    max_rate_per_s: PositiveFloat = 50.0


class DriftTable(_Table):
    baseline: str
    extra: Literal["fail", "warn", "ignore"] = "fail"
    ignore: list[str] = []
    roles: list[str] = []  # whose privileges drift compares (with PUBLIC's), as the baseline names them
    role_map: dict[str, str] = {}  # a role as the baseline names it -> as the database names it


class StartTable(_Table):
    command: list[str] = Field(min_length=1)
    cwd: str = "."
    ready_timeout_s: PositiveFloat = 60.0
    # token name (as in [auth.tokens]) -> key of the "env" object the command prints
    tokens: dict[str, str] = {}


class EnvironmentFile(_Table):
    description: str = ""
    # The deployment this file checks: history (the change column) and Allure's history ids belong
    # to it. Two files that check one target before and after a fix (demo, demo-incident) share it.
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] | None = None
    production: bool = True
    base_url: str | None = None
    database_url: str | None = None
    databases: dict[str, str] = {}  # tenant databases: name = URL (see smokeproof.config.databases)
    databases_file: str | None = None
    databases_list: str | None = None
    contracts: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    revision: RevisionTable = RevisionTable()
    wait: WaitTable = WaitTable()
    http: HttpTable = HttpTable()
    auth: AuthTable = AuthTable()
    redact: RedactTable = RedactTable()
    database: DatabaseTable = DatabaseTable()
    fuzz: FuzzTable = FuzzTable()
    start: StartTable | None = None
    drift: DriftTable | None = None
    known_issues: str | None = None  # a file of [[known]] entries (smokeproof.config.known_issues)
    strict_known: bool = False  # a known check that passes fails the run (remove its entry)
    tls: TlsTable = TlsTable()
