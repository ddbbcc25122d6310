"""Endpoint contracts: ``tests/contracts/endpoints.toml`` read into frozen, typed entries.

A contract entry says what one request must get back. The file is validated whole when it loads
(unknown keys, bad statuses, invalid JSON Schemas, unsafe methods aimed at production), so a
broken contract stops the run before any request is sent instead of failing one test obscurely.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smokeproof.config.auth import refuse_empty
from smokeproof.config.secrets import Redactor
from smokeproof.config.tomlfile import check_headers, read_toml, substitute, uses_variables, validate
from smokeproof.errors import UsageError
from smokeproof.verdict import Severity

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
METHODS = SAFE_METHODS | {"POST", "PUT", "PATCH", "DELETE"}
ANONYMOUS_REJECTIONS = frozenset({401, 403})
VERSION_SEGMENT = re.compile(r"v\d+")  # /api/v1/...: not a feature name
# type/subtype (RFC 6838), or a range as OpenAPI documents may write it (text/*, */*)
MEDIA_TYPE = re.compile(r"\*/\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/(?:\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)")
Status = Annotated[int, Field(ge=100, le=599)]


class EndpointContract(BaseModel):
    """One request and what it must get back."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    path: str
    status: tuple[Status, ...]
    id: str = ""
    method: str = "GET"
    severity: Annotated[Severity, Field(strict=False)] = Severity.NORMAL
    feature: str = ""
    query: dict[str, str | int | float | bool] = {}
    headers: dict[str, str] = {}
    max_ms: Annotated[int, Field(gt=0)] | None = None
    warn_ms: Annotated[int, Field(gt=0)] | None = None  # slower than this, within max_ms: degraded
    content_type: str | None = None
    json_schema: dict[str, Any] | None = None
    body_contains: tuple[str, ...] = ()
    auth: str | None = None
    only: tuple[str, ...] | None = None
    fuzz: bool | None = None
    allow_in_production: bool = False
    follow_redirects: bool = False
    json_: Annotated[Any, Field(alias="json")] = None
    form: dict[str, str] | None = None
    body: str | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, int) and not isinstance(value, bool) else _tuple(value)

    @field_validator("only", mode="before")
    @classmethod
    def _only(cls, value: object) -> object:
        return _tuple(value)

    @field_validator("body_contains", mode="before")
    @classmethod
    def _str_or_list(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else _tuple(value)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in METHODS:
            raise ValueError(f"unknown method; use one of {', '.join(sorted(METHODS))}")
        return value.upper()

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/' (it is joined to the environment's base_url)")
        return value

    @field_validator("content_type")
    @classmethod
    def _media_type(cls, value: str | None) -> str | None:
        if value is not None and not MEDIA_TYPE.fullmatch(value.split(";")[0].strip()):
            raise ValueError('must be a media type, type/subtype with optional parameters ("application/json; charset=utf-8")')
        return value

    @field_validator("json_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            import jsonschema  # about 0.1 s to import: only environments whose contracts have a json_schema pay it

            try:
                jsonschema.validators.validator_for(value).check_schema(value)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"invalid JSON Schema: {exc.message}") from None
        return value

    @model_validator(mode="after")
    def _defaults(self) -> EndpointContract:
        if not self.status:
            raise ValueError("'status' needs at least one status code")
        if self.warn_ms is not None and self.max_ms is not None and self.warn_ms >= self.max_ms:
            raise ValueError(f"'warn_ms' ({self.warn_ms}) must be below 'max_ms' ({self.max_ms})")
        if sum(part is not None for part in (self.json_, self.form, self.body)) > 1:
            raise ValueError("give one request body: 'json', 'form' or 'body'")
        if not self.id:
            object.__setattr__(self, "id", f"{self.method} {self.path}")
        if not self.feature:
            object.__setattr__(self, "feature", _feature(self.path))
        return self

    def __repr__(self) -> str:
        # What Allure shows as the test's parameter (and hashes into its history id): the contract as it
        # reads, not every field (a header's value may be a secret; a changed budget must keep the history).
        return f"EndpointContract({self.test_id!r})"

    @property
    def test_id(self) -> str:
        """The test id, read as the contract: ``GET /api/v1/auth/me -> 401``."""
        return f"{self.id} -> {'/'.join(str(s) for s in self.status)}"

    @property
    def rejects_anonymous(self) -> bool:
        return self.auth is None and set(self.status) <= ANONYMOUS_REJECTIONS

    @property
    def fuzzable(self) -> bool:
        """Probed with malformed credentials: rejects anonymous callers, or uses a token and says ``fuzz = true``."""
        by_default = self.rejects_anonymous and self.fuzz is not False
        return self.method in SAFE_METHODS and (by_default or (self.auth is not None and self.fuzz is True))

    def request_body(self) -> tuple[bytes, str] | None:
        """What the request sends, and its default content type (an entry's ``headers`` may name another)."""
        if self.form is not None:
            return urlencode(self.form).encode(), "application/x-www-form-urlencoded"
        if self.json_ is not None:
            return json.dumps(self.json_).encode(), "application/json"
        if self.body is not None:
            return self.body.encode(), "text/plain; charset=utf-8"
        return None

    def applies_to(self, env_name: str) -> bool:
        return self.only is None or env_name in self.only


def _as_written(entry: EndpointContract, written: dict[str, Any]) -> EndpointContract:
    """``entry`` with an id (and feature) that show a ``${VAR}`` of its path by name, not by value.

    The id is the test's name in pytest's lines, JUnit, Allure (and its history id): a value from the
    environment may be a secret, and would change the check's identity whenever it is rotated.
    """
    path, given = str(written.get("path", "")), written.get("id")
    update: dict[str, str] = {}
    if isinstance(given, str) and uses_variables(given):
        update["id"] = given
    elif not given and uses_variables(path):
        update["id"] = f"{entry.method} {path}"
    if not written.get("feature") and uses_variables(path):
        update["feature"] = _feature(path)
    return entry.model_copy(update=update) if update else entry


def _feature(path: str) -> str:
    """The feature a path belongs to: its first segment after ``/api`` and a version (``/api/v1/auth/me``: auth)."""
    parts = [p for p in path.split("/") if p and p != "api" and not VERSION_SEGMENT.fullmatch(p)]
    return parts[0] if parts else "/"


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class ContractFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: list[dict[str, Any]] = []


def load_contracts(path: Path, *, env_name: str, production: bool, redactor: Redactor) -> tuple[EndpointContract, ...]:
    """The entries of ``path`` that apply to ``env_name``, validated.

    In a production environment an entry with an unsafe method (anything but GET, HEAD, OPTIONS)
    is refused here, before any request, unless it says ``allow_in_production = true``.
    """
    data = validate(ContractFile, read_toml(path), file=path)
    entries: list[EndpointContract] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data.endpoint, start=1):
        where = f"[[endpoint]] #{number} ({raw.get('id') or raw.get('path', '?')})"
        empty: list[tuple[str, str]] = []
        written = raw
        raw = substitute(raw, file=path, redactor=redactor, where=where, empty=empty)
        refuse_empty(empty, file=path, needs_value=("headers.",))  # no request carries an empty credential
        entry = _as_written(validate(EndpointContract, raw, file=path, where=where, redactor=redactor), written)
        check_headers(entry.headers, file=path, where=where)
        if entry.test_id in seen:
            raise UsageError(
                f"duplicate id '{entry.test_id}' (also entry #{seen[entry.test_id]}); give one an 'id'",
                file=path,
                where=where,
            )
        seen[entry.test_id] = number
        if not entry.applies_to(env_name):
            continue
        if production and entry.method not in SAFE_METHODS and not entry.allow_in_production:
            raise UsageError(
                f"{entry.method} is not sent to a production environment ({env_name}); only GET, HEAD and "
                "OPTIONS are, unless the entry says allow_in_production = true",
                file=path,
                where=where,
            )
        entries.append(entry)
    return tuple(entries)


def refuse_warn_at_budget(contracts: tuple[EndpointContract, ...], *, max_ms: int, file: Path) -> None:
    """An entry's ``warn_ms`` at or over the budget it gets from ``[http] max_ms`` would never mark it degraded."""
    for contract in contracts:
        if contract.warn_ms is not None and contract.max_ms is None and contract.warn_ms >= max_ms:
            raise UsageError(
                f"'warn_ms' ({contract.warn_ms}) must be below the latency budget ([http] max_ms = {max_ms})",
                file=file,
                where=f"[[endpoint]] ({contract.id})",
            )
