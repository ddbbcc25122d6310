"""A catalog snapshot written as a ``schema.toml``: the schema contract a healthy database passes.

``smokeproof init`` and ``smokeproof snapshot --format toml`` write it, so a team with 100 tables
starts from what its database holds instead of typing it: every table with its typed columns (and
``rls`` / ``force_rls`` where row security is on), every enum type with its labels, every index,
every foreign key, every row security policy and trigger, and every function and procedure. Alembic's own
``alembic_version`` table is left out (the Alembic alignment check reads it). Types are written as
``format_type()`` prints them; a type the contract loader would not know (an extension's, say) is
written schema-qualified, which the loader accepts and the comparison matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smokeproof.config.tomlwrite import block, document
from smokeproof.database.catalog import CatalogSnapshot, ForeignKey
from smokeproof.database.column_types import known_type

SKIPPED_TABLES = frozenset({"alembic_version"})


def contract(snap: CatalogSnapshot, *, schemas: Sequence[str]) -> dict[str, Any]:
    """The schema contract (as TOML data) that ``snap`` satisfies."""
    first = schemas[0]

    def entry(schema: str, **fields: Any) -> dict[str, Any]:
        return fields if schema == first else {"schema": schema, **fields}

    enums = {name for (schema, name) in snap.enums if schema == first}
    tables = [
        t
        for key, t in sorted(snap.tables.items())
        if t.name not in SKIPPED_TABLES and key[0] in schemas and not t.extension_member  # an extension's own tables
    ]
    data: dict[str, Any] = {"schemas": list(schemas)}
    data["table"] = [
        entry(
            t.schema,
            name=t.name,
            columns={c.name: _type(c.type, t.schema, enums) for c in t.columns.values()},
            **_row_security(snap, (t.schema, t.name)),
        )
        for t in tables
    ]
    data["enum"] = [entry(e.schema, name=e.name, labels=list(e.labels)) for _, e in sorted(snap.enums.items())]
    data["index"] = [
        entry(i.schema, name=i.name, table=i.table, **({"unique": True} if i.unique else {}))
        for _, i in sorted(snap.indexes.items())
        if i.table not in SKIPPED_TABLES
    ]
    keys = sorted(snap.foreign_keys, key=lambda k: (k.schema, k.table, k.columns, k.name))
    data["foreign_key"] = [entry(k.schema, table=k.table, columns=list(k.columns), references=_references(k)) for k in keys]
    security = snap.security
    data["policy"] = [
        entry(p.schema, name=p.name, table=p.table, command=p.command)
        for key in sorted(security.policies)
        for p in sorted(security.policies[key], key=lambda p: p.name)
    ]
    data["trigger"] = [
        entry(t.schema, name=t.name, table=t.table, enabled=t.enabled != "disabled")
        for key in sorted(security.triggers)
        for t in sorted(security.triggers[key], key=lambda t: t.name)
    ]
    data["function"] = [
        entry(r.schema, signature=signature.split(".", 1)[1]) for signature, r in sorted(security.routines.items())
    ]
    return {key: value for key, value in data.items() if value}


def render(snap: CatalogSnapshot, *, schemas: Sequence[str], header: str = "") -> str:
    """``schema.toml`` text for ``snap``, with ``header`` as its opening comment."""
    data = contract(snap, schemas=schemas)
    top = {"schemas": data.pop("schemas")}
    return document(header=header, top=top, blocks=[block(kind, entry) for kind, entries in data.items() for entry in entries])


def _row_security(snap: CatalogSnapshot, key: tuple[str, str]) -> dict[str, bool]:
    rel = snap.security.relations.get(key)
    if rel is None:
        return {}
    return {name: True for name, on in (("rls", rel.rls), ("force_rls", rel.force_rls)) if on}


def _type(type_: str, schema: str, enums: set[str]) -> str:
    return type_ if known_type(type_, enums) else f"{schema}.{type_}"


def _references(key: ForeignKey) -> str:
    table = key.ref_table if key.ref_schema == key.schema else f"{key.ref_schema}.{key.ref_table}"
    return f"{table}({', '.join(key.ref_columns)})"
