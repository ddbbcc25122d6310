"""Tenant databases: several databases checked in one run (``[databases]``, a file, or a ``${VAR}`` list).

One database per tenant is common (public reports speak of 148 tenant databases at one Alembic
head with different columns). An environment names them in any of three ways, together if it
likes, each name once::

    [databases]                        # name = URL
    eu = "${EU_DATABASE_URL}"
    databases_file = "tenants.toml"    # a file with its own [databases] table, for hundreds
    databases_list = "${TENANT_DATABASES}"   # "name=URL name=URL ..." (whitespace-separated)

``databases_file`` and ``databases_list`` may also be written at the top of the file, before any
table; in ``[databases]`` (where the README shows them) they are these options, not tenants. Every
URL is a secret (its password is redacted everywhere); a bad name, URL or duplicate is exit 4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from smokeproof.config.secrets import Redactor, Secret, url_password
from smokeproof.config.tomlfile import read_toml, relative_path, substitute
from smokeproof.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DEFAULT_NAME = "database_url"  # how the check ids' parameter names the environment's own database_url


def tenant_databases(
    table: Mapping[str, str],
    *,
    listed: str | None,
    from_file: str | None,
    file: Path,
    redactor: Redactor,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Secret]:
    """The tenant databases, by name, in the order written: the table, then the file, then the list."""
    table = dict(table)
    from_file = _option(table, "databases_file", from_file, file=file)
    listed = _option(table, "databases_list", listed, file=file)
    found: dict[str, Secret] = {}
    sources: list[tuple[str, Mapping[str, object]]] = [("[databases]", table)]
    if from_file is not None:
        path = relative_path(from_file, base=file.parent, file=file, key="databases_file")
        data = substitute(read_toml(path), file=path, redactor=redactor, environ=environ)
        entries = data.get("databases")
        if not isinstance(entries, dict) or set(data) != {"databases"}:
            raise UsageError("expected one [databases] table of name = URL", file=path)
        sources.append((f"{path.name} [databases]", entries))
    if listed is not None:
        sources.append(("databases_list", _parse_list(listed, file=file)))
    for where, entries in sources:
        for name, url in entries.items():
            if not NAME.match(name) or name == DEFAULT_NAME:
                raise UsageError(f"{where}: database name {name!r} must be letters, digits, '.', '_' or '-'", file=file)
            if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
                raise UsageError(f"{where}: database {name!r} must be a postgresql:// URL", file=file)
            if name in found:
                raise UsageError(f"{where}: database {name!r} is named twice", file=file)
            redactor.add(url_password(url), credential=True)
            found[name] = Secret(url)
    return found


def _option(table: dict[str, str], key: str, top: str | None, *, file: Path) -> str | None:
    """``databases_file`` or ``databases_list``, written at the top of the file or in ``[databases]`` (taken out of it)."""
    inside = table.pop(key, None)
    if inside is not None and top is not None:
        raise UsageError(f"'{key}' is set twice: at the top of the file and in [databases]", file=file)
    return inside if inside is not None else top


def _parse_list(text: str, *, file: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for item in text.split():
        name, equals, url = item.partition("=")
        if not equals:
            raise UsageError("databases_list: each entry is name=postgresql://... (whitespace between entries)", file=file)
        if name in entries:
            raise UsageError(f"databases_list: database {name!r} is named twice", file=file)
        entries[name] = url
    return entries
