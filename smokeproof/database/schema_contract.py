"""Schema contracts: ``tests/schema/schema.toml`` read into typed entries, checked against a snapshot.

A failing entry lists every difference of its object at once (missing column, wrong type, missing
label, label out of order, index not unique), because a deploy blocked on one difference at a
time costs one round of fixes per difference.
"""

from __future__ import annotations

import json
from pathlib import Path

from smokeproof.config.tomlfile import read_toml, validate
from smokeproof.database import schema_security
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.column_types import check_type, normalise_type
from smokeproof.database.schema_entries import (
    KINDS,
    CheckEntry,
    ColumnSpec,
    ConstraintEntry,
    EnumEntry,
    ForeignKeyEntry,
    FunctionEntry,
    IndexEntry,
    PolicyEntry,
    SchemaContract,
    SchemaEntry,
    TableEntry,
    TriggerEntry,
    UniqueEntry,
)
from smokeproof.errors import UsageError
from smokeproof.verdict import Area, Attachment, Category, Verdict

MISSING_MEANS = (
    "code that uses it fails: its queries answer 500 with 'relation ... does not exist', "
    "'column ... does not exist' or 'type ... does not exist'"
)
TODO = "apply the migration that creates it (see the Alembic alignment check), then rerun"
AT_HEAD_MEANS = (
    "the database is at the code's head, so this changed outside the migrations: by hand, by another service, "
    "or by a migration edited after it ran; code that uses it fails"
)
AT_HEAD_TODO = "restore it with a new migration (or by hand), or correct the contract if the code no longer needs it"
CONSTRAINT_KINDS = {"check": "c", "unique": "u"}
__all__ = [
    "CheckEntry",
    "ColumnSpec",
    "EnumEntry",
    "ForeignKeyEntry",
    "IndexEntry",
    "SchemaContract",
    "SchemaEntry",
    "TableEntry",
    "UniqueEntry",
    "check",
    "differences",
    "load_schema_contract",
    "missing_table",
    "normalise_type",
]


def load_schema_contract(path: Path) -> SchemaContract:
    """Read and validate a schema contract file."""
    raw = read_toml(path)
    unknown = set(raw) - {"schemas", *KINDS}
    if unknown:
        raise UsageError(f"unknown key(s) {', '.join(sorted(unknown))}; allowed: schemas, {', '.join(KINDS)}", file=path)
    schemas = raw.get("schemas", ["public"])
    if not isinstance(schemas, list) or not schemas or not all(isinstance(s, str) for s in schemas):
        raise UsageError("'schemas' must be a non-empty list of schema names", file=path)
    entries: list[SchemaEntry] = []
    enums = {str(e.get("name", "")).lower() for e in raw.get("enum", []) if isinstance(e, dict)}
    seen: set[str] = set()
    for kind, model in KINDS.items():
        items = raw.get(kind, [])
        if not isinstance(items, list):
            raise UsageError(f"'{kind}' must be an array of tables ([[{kind}]])", file=path)
        for number, item in enumerate(items, start=1):
            where = f"[[{kind}]] #{number} ({item.get('name') or item.get('table') if isinstance(item, dict) else '?'})"
            if not isinstance(item, dict):
                raise UsageError("each entry must be a table", file=path, where=where)
            entry = validate(model, item, file=path, where=where)
            name = getattr(entry, "name", None) or ""
            schema = entry.schema_ or (name.split(".", 1)[0] if "." in name else schemas[0])
            update: dict[str, object] = {"schema_": schema}
            if "." in name:
                update["name"] = name.split(".", 1)[1]
            entry = entry.model_copy(update=update)
            if isinstance(entry, FunctionEntry):
                entry = schema_security.normalised(entry, schemas[0], file=path, where=where)
            if isinstance(entry, CheckEntry) and entry.columns is not None:
                raise UsageError("'columns' is for [[unique]]; a [[check]] is named only", file=path, where=where)
            if isinstance(entry, TableEntry):
                for column, spec in entry.specs():
                    if spec.type is not None:
                        check_type(spec.type, enums, path, f"{where} column {column}")
            if entry.id in seen:
                raise UsageError(f"duplicate entry '{entry.id}'", file=path, where=where)
            seen.add(entry.id)
            entries.append(entry)
    return SchemaContract(schemas=tuple(schemas), entries=tuple(entries))


def differences(entry: SchemaEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    """(object exists, every difference) for one entry."""
    if isinstance(entry, TableEntry):
        return _table(entry, snap)
    if isinstance(entry, EnumEntry):
        return _enum(entry, snap)
    if isinstance(entry, IndexEntry):
        return _index(entry, snap)
    if isinstance(entry, ConstraintEntry):
        return _constraint(entry, snap)
    if isinstance(entry, PolicyEntry | TriggerEntry | FunctionEntry):
        return schema_security.differences(entry, snap)
    return _foreign_key(entry, snap)


def _table(entry: TableEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    table = snap.tables.get((entry.schema_, entry.name))
    if table is None:
        return False, [f"relation {entry.qualified(entry.name)} does not exist"]
    diffs = []
    for column, spec in entry.specs():
        actual = table.columns.get(column)
        type_ = normalise_type(spec.type) if spec.type else None
        if actual is None:
            diffs.append(f"column {column} does not exist" + (f" (contracted {type_})" if type_ else ""))
            continue
        readable = {entry.schema_, "public", *snap.schemas}
        if type_ and not _spellings(type_, readable) & _spellings(actual.type, readable):
            diffs.append(f"column {column}: expected {type_}, got {actual.type}")
        if spec.not_null is not None and actual.not_null != spec.not_null:
            diffs.append(
                f"column {column}: {'NOT NULL' if actual.not_null else 'nullable'}, contracted "
                f"{'NOT NULL' if spec.not_null else 'nullable'}"
            )
        if spec.default is not None and (actual.default or "").strip() != spec.default.strip():
            diffs.append(f"column {column}: default {actual.default or '(none)'}, contracted {spec.default}")
    return True, diffs + schema_security.table(entry, snap)


def _enum(entry: EnumEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    enum = snap.enums.get((entry.schema_, entry.name))
    if enum is None:
        return False, [f"type {entry.qualified(entry.name)} does not exist"]
    # Labels are quoted as the schema file writes them (TOML's strings, JSON's): "admin", not 'admin'.
    diffs = [f"missing label {json.dumps(label)}" for label in entry.labels if label not in enum.labels]
    present = [label for label in entry.labels if label in enum.labels]
    if present != sorted(present, key=enum.labels.index):
        database = [x for x in enum.labels if x in present]
        diffs.append(f"labels out of order: contracted {json.dumps(present)}, database has {json.dumps(database)}")
    if entry.exact:
        diffs += [f"extra label {json.dumps(label)}" for label in enum.labels if label not in entry.labels]
    return True, diffs


def _index(entry: IndexEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    index = snap.indexes.get((entry.schema_, entry.name))
    if index is None:
        return False, [f"index {entry.qualified(entry.name)} does not exist"]
    diffs = []
    if entry.table and index.table != entry.table:
        diffs.append(f"index is on table {index.table}, expected {entry.table}")
    if entry.unique is not None and index.unique != entry.unique:
        diffs.append("index is not unique" if entry.unique else "index is unique, contracted non-unique")
    if not index.valid:
        diffs.append("index is INVALID (a failed CREATE INDEX CONCURRENTLY): queries cannot use it")
    return True, diffs


def _constraint(entry: ConstraintEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    kind = CONSTRAINT_KINDS[entry.kind]
    found = [c for c in snap.constraints if (c.schema, c.name, c.kind) == (entry.schema_, entry.name, kind)]
    on_table = [c for c in found if entry.table in (None, c.table)]
    if not on_table:
        where = f" on {entry.qualified(entry.table)}" if entry.table else ""
        elsewhere = f" (a {entry.kind} constraint of that name is on {found[0].table})" if found else ""
        return False, [f"{entry.kind} constraint {entry.name}{where} does not exist{elsewhere}"]
    con = on_table[0]
    if entry.columns is not None and list(con.columns) != entry.columns:
        return True, [f"unique on ({', '.join(con.columns)}), contracted ({', '.join(entry.columns)})"]
    return True, []


def _foreign_key(entry: ForeignKeyEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    ref_schema, _, ref_table = entry.references.partition("(")[0].rpartition(".")
    ref_schema, ref_table = ref_schema.strip() or entry.schema_, ref_table.strip()
    ref_columns = entry.references_columns or [
        c.strip() for c in entry.references.partition("(")[2].rstrip(")").split(",") if c.strip()
    ]
    for fk in snap.foreign_keys:
        if (
            (fk.schema, fk.table, fk.columns, fk.ref_schema, fk.ref_table)
            == (entry.schema_, entry.table, tuple(entry.columns), ref_schema, ref_table)
            and (not ref_columns or list(fk.ref_columns) == ref_columns)
            and (not entry.name or entry.name == fk.name)
        ):
            return True, []
    return False, [f"no such foreign key on {entry.qualified(entry.table)}"]


def _spellings(type_: str, schemas: set[str]) -> set[str]:
    """A type as written and unqualified by any of ``schemas``: format_type() qualifies a type only when
    it is not in the search path, which the snapshot sets to the schemas it reads."""
    return {type_} | {type_.removeprefix(f"{schema}.") for schema in schemas}


def missing_table(entry: SchemaEntry, snap: CatalogSnapshot) -> str | None:
    """For an index, foreign key or constraint whose table is missing, the table's check id (the root cause)."""
    table = (
        entry.table if isinstance(entry, IndexEntry | ForeignKeyEntry | ConstraintEntry | PolicyEntry | TriggerEntry) else None
    )
    if table and (entry.schema_, table) not in snap.tables:
        return f"table {entry.qualified(table)}"
    return None


def check(entry: SchemaEntry, snap: CatalogSnapshot, *, at_head: bool = False) -> Verdict:
    """The verdict for one schema entry; ``at_head``: the database is at the code's Alembic head (the advice differs)."""
    exists, diffs = differences(entry, snap)
    ok = exists and not diffs
    expected = "exists" if not diffs or not exists else "exists, as contracted"
    actual = "as contracted" if ok else "missing" if not exists else f"{len(diffs)} difference{'s' * (len(diffs) > 1)}"
    if ok:
        return Verdict(
            check=entry.id,
            area=Area.SCHEMA,
            expected="exists",
            actual="exists",
            ok=True,
            severity=entry.severity,
            feature=entry.kind,
            story=entry.id,
        )
    headline = f"{entry.id}: missing ({diffs[0]})" if not exists else f"{entry.id}: {actual}"
    listing = "\n".join(f"- {d}" for d in diffs)
    return Verdict(
        check=entry.id,
        area=Area.SCHEMA,
        expected=expected,
        actual=actual if exists else "missing",
        ok=False,
        headline=headline,
        sections=(
            ("differences", listing if exists else ""),
            ("what it means", AT_HEAD_MEANS if at_head else MISSING_MEANS),
            ("what to do", AT_HEAD_TODO if at_head else TODO),
        ),
        category=Category.MISSING_SCHEMA,
        severity=entry.severity,
        feature=entry.kind,
        story=entry.id,
        attachments=(Attachment(name="schema diff", body=f"{entry.id}\n{listing}"),),
    )
