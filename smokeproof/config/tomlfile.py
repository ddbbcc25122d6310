"""Reading the suite's TOML files: parse errors, ``${VAR}`` substitution, validation errors.

Every problem becomes a :class:`~smokeproof.errors.UsageError` that names the file and the key,
so a typo in ``prod.toml`` reads as one line, not a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from smokeproof.config.secrets import Redactor, credential_key
from smokeproof.errors import UsageError

VAR = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}")
M = TypeVar("M", bound=pydantic.BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path``; unreadable or invalid files are usage errors naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the file ({exc.__class__.__name__}: {exc})", file=path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid TOML: {exc}", file=path) from None


def substitute(
    data: Any,
    *,
    file: Path,
    redactor: Redactor,
    environ: Mapping[str, str] | None = None,
    where: str = "",
    empty: list[tuple[str, str]] | None = None,
    public: Collection[str] = (),
) -> Any:
    """Replace ``${VAR}`` in every string of ``data`` from the process environment.

    Each substituted value is handed to ``redactor`` (masked everywhere) unless its key is in
    ``public`` (or under one: ``drift.role_map`` covers ``drift.role_map.app``): a value is a secret
    unless the file's schema says what it is (a ``base_url`` is an
    address, shown in every message; its password, if any, the caller masks). ``$${VAR}`` is a literal
    ``${VAR}``. An unset variable is a usage error naming the variable, the file and the key. A variable
    that is set but empty (or blank) is listed in ``empty`` as ``(variable, key)``: whether that is an
    error depends on the key.
    """
    env = os.environ if environ is None else environ
    if isinstance(data, dict):
        return {
            k: substitute(
                v, file=file, redactor=redactor, environ=env, where=f"{where}.{k}" if where else k, empty=empty, public=public
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [
            substitute(v, file=file, redactor=redactor, environ=env, where=f"{where}[{i}]", empty=empty, public=public)
            for i, v in enumerate(data)
        ]
    if not isinstance(data, str) or "${" not in data:
        return data

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if name not in env:
            raise UsageError(f"environment variable ${{{name}}} is not set", file=file, where=where)
        if empty is not None and not env[name].strip():
            empty.append((name, where))
        if where not in public and not any(where.startswith((f"{key}.", f"{key}[")) for key in public):
            redactor.add(env[name], credential=credential_key(where))
        return env[name]

    return VAR.sub(replace, data)


def uses_variables(value: str) -> bool:
    return any(m.group(1) is None for m in VAR.finditer(value))


def validate(model: type[M], data: Any, *, file: Path, where: str | None = None, redactor: Redactor | None = None) -> M:
    """``model.model_validate(data)`` with pydantic's errors rewritten as one usage error.

    The values the message quotes pass through ``redactor`` whole, before they are cut.
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise UsageError(describe(exc, redactor or Redactor()), file=file, where=where) from None


def check_headers(headers: Mapping[str, str], *, file: Path, where: str | None = None, key: str = "headers") -> None:
    """HTTP header names and values are ASCII; anything else fails here, not as a crash at the first request.

    The value is not repeated in the message: it may have come from a ``${VAR}`` secret.
    """
    for name, value in headers.items():
        if not (name.isascii() and value.isascii()):
            raise UsageError(
                f"key '{key}.{name}': HTTP header names and values must be ASCII (percent-encode other characters)",
                file=file,
                where=where,
            )


def describe(exc: pydantic.ValidationError, redactor: Redactor) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        elif error["type"] == "missing":
            problems.append(f"missing key '{key}'")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"key '{key}': {message} (got {redactor.clip(repr(error.get('input')), 57)})")
    return "; ".join(problems)


def relative_path(value: str | Path, *, base: Path, file: Path, key: str, must_exist: bool = True) -> Path:
    """A path from a file, relative to that file's folder; checked to exist."""
    path = (base / Path(value).expanduser()).resolve()
    if must_exist and not path.exists():
        raise UsageError(f"'{key}' points at {path}, which does not exist", file=file)
    return path
