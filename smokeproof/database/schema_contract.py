"""Schema contracts: ``tests/schema/schema.toml`` read into typed entries, checked against a snapshot.

A failing entry lists every difference of its object at once (missing column, wrong type, missing
label, label out of order, index not unique), because a deploy blocked on one difference at a
time costs one round of fixes per difference.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from smokeproof.config.tomlfile import read_toml, validate
from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.errors import UsageError
from smokeproof.verdict import Area, Attachment, Category, Severity, Verdict

ALIASES = {
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "int": "integer",
    "int4": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "int2": "smallint",
    "smallserial": "smallint",
    "bool": "boolean",
    "float8": "double precision",
    "double": "double precision",
    "float": "double precision",
    "float4": "real",
    "decimal": "numeric",
}
BUILTINS = {
    "uuid",
    "text",
    "integer",
    "bigint",
    "smallint",
    "boolean",
    "numeric",
    "real",
    "double precision",
    "character varying",
    "character",
    "timestamp with time zone",
    "timestamp without time zone",
    "date",
    "time with time zone",
    "time without time zone",
    "interval",
    "json",
    "jsonb",
    "bytea",
    "inet",
    "cidr",
    "macaddr",
    "money",
    "oid",
    "xml",
    "tsvector",
    "citext",
    "bit",
    "bit varying",
}
# name, optional (precision), optional "with[out] time zone" (after the precision, as format_type()
# prints "timestamp(3) with time zone"), optional [] for arrays.
TYPE = re.compile(
    r"^(?P<base>[a-z_][a-z0-9_ .]*?)\s*(?P<mod>\([0-9, ]+\))?(?P<zone>\s+with(?:out)?\s+time\s+zone)?(?P<array>(\[\])*)$"
)
MISSING_MEANS = "code that uses it fails: queries answer 500 with 'relation/type does not exist'"
TODO = "apply the migration that creates it (see the Alembic alignment check), then rerun"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)
    schema_: str = Field(default="", alias="schema")
    severity: Annotated[Severity, Field(strict=False)] = Severity.CRITICAL

    def qualified(self, name: str) -> str:
        return f"{self.schema_}.{name}"

    def __repr__(self) -> str:
        # What Allure shows as the test's parameter (and hashes into its history id): the check's name.
        return f"{type(self).__name__}({getattr(self, 'id', '')!r})"


class TableEntry(_Entry):
    kind: Literal["table"] = "table"
    name: str
    columns: dict[str, str] | list[str] = []

    @property
    def id(self) -> str:
        return f"table {self.qualified(self.name)}"


class EnumEntry(_Entry):
    kind: Literal["enum"] = "enum"
    name: str
    labels: list[str] = []
    exact: bool = False

    @property
    def id(self) -> str:
        return f"enum {self.qualified(self.name)}"


class IndexEntry(_Entry):
    kind: Literal["index"] = "index"
    name: str
    table: str | None = None
    unique: bool | None = None

    @property
    def id(self) -> str:
        return f"index {self.qualified(self.name)}"


class ForeignKeyEntry(_Entry):
    kind: Literal["foreign_key"] = "foreign_key"
    table: str
    columns: list[str] = Field(min_length=1)
    references: str
    references_columns: list[str] | None = None
    name: str | None = None

    @property
    def id(self) -> str:
        return f"foreign key {self.qualified(self.table)}({', '.join(self.columns)}) -> {self.references}"


SchemaEntry = TableEntry | EnumEntry | IndexEntry | ForeignKeyEntry
KINDS: dict[str, type[SchemaEntry]] = {
    "table": TableEntry,
    "enum": EnumEntry,
    "index": IndexEntry,
    "foreign_key": ForeignKeyEntry,
}


class SchemaContract(BaseModel):
    model_config = ConfigDict(frozen=True)
    schemas: tuple[str, ...] = ("public",)
    entries: tuple[SchemaEntry, ...] = ()


def normalise_type(text: str) -> str:
    """``varchar(255)`` -> ``character varying(255)``, ``timestamptz(3)`` -> ``timestamp(3) with time zone``:
    the type as ``format_type()`` prints it."""
    match = TYPE.match(" ".join(text.strip().lower().split()))
    if match is None:
        return text.strip().lower()
    mod = (match["mod"] or "").replace(" ", "")
    array = match["array"] or ""
    if match["zone"]:
        return f"{match['base']}{mod} {' '.join(match['zone'].split())}{array}"
    expanded = ALIASES.get(match["base"], match["base"])
    if mod and expanded.startswith(("timestamp ", "time ")):
        first, rest = expanded.split(" ", 1)
        return f"{first}{mod} {rest}{array}"
    return expanded + mod + array


def _check_type(text: str, enums: set[str], path: Path, where: str) -> None:
    match = TYPE.match(" ".join(text.strip().lower().split()))
    base = ALIASES.get(match["base"], match["base"]) if match else ""
    if match and (base in BUILTINS or base in enums or "." in base):
        return
    close = difflib.get_close_matches(base or text, sorted(BUILTINS | set(ALIASES) | enums), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(
        f"unknown column type {text!r} (a built-in type, an [[enum]] of this file, or a schema-qualified type){hint}",
        file=path,
        where=where,
    )


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
            if isinstance(entry, TableEntry) and isinstance(entry.columns, dict):
                for column, type_ in entry.columns.items():
                    _check_type(type_, enums, path, f"{where} column {column}")
            if entry.id in seen:
                raise UsageError(f"duplicate entry '{entry.id}'", file=path, where=where)
            seen.add(entry.id)
            entries.append(entry)
    return SchemaContract(schemas=tuple(schemas), entries=tuple(entries))


def differences(entry: SchemaEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    """(object exists, every difference) for one entry."""
    if isinstance(entry, TableEntry):
        table = snap.tables.get((entry.schema_, entry.name))
        if table is None:
            return False, [f"relation {entry.qualified(entry.name)} does not exist"]
        wanted = entry.columns.items() if isinstance(entry.columns, dict) else ((c, None) for c in entry.columns)
        diffs = []
        for column, type_ in wanted:
            actual = table.columns.get(column)
            if actual is None:
                diffs.append(f"missing column {column}" + (f" ({normalise_type(type_)})" if type_ else ""))
            elif type_ and actual.type not in _spellings(normalise_type(type_), entry.schema_):
                diffs.append(f"column {column}: expected {normalise_type(type_)}, got {actual.type}")
        return True, diffs
    if isinstance(entry, EnumEntry):
        enum = snap.enums.get((entry.schema_, entry.name))
        if enum is None:
            return False, [f"type {entry.qualified(entry.name)} does not exist"]
        diffs = [f"missing label {label!r}" for label in entry.labels if label not in enum.labels]
        present = [label for label in entry.labels if label in enum.labels]
        if present != sorted(present, key=enum.labels.index):
            diffs.append(f"labels out of order: contracted {present}, database has {[x for x in enum.labels if x in present]}")
        if entry.exact:
            diffs += [f"extra label {label!r}" for label in enum.labels if label not in entry.labels]
        return True, diffs
    if isinstance(entry, IndexEntry):
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


def _spellings(type_: str, schema: str) -> set[str]:
    """A contracted type and how format_type() prints it for a type in the search path (unqualified)."""
    return {type_, type_.removeprefix(f"{schema}."), type_.removeprefix("public.")}


def missing_table(entry: SchemaEntry, snap: CatalogSnapshot) -> str | None:
    """For an index or foreign key whose table is missing, the table's check id (the root cause)."""
    table = entry.table if isinstance(entry, IndexEntry | ForeignKeyEntry) else None
    if table and (entry.schema_, table) not in snap.tables:
        return f"table {entry.qualified(table)}"
    return None


def check(entry: SchemaEntry, snap: CatalogSnapshot) -> Verdict:
    """The verdict for one schema entry."""
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
        sections=(("differences", listing if exists else ""), ("what it means", MISSING_MEANS), ("what to do", TODO)),
        category=Category.MISSING_SCHEMA,
        severity=entry.severity,
        feature=entry.kind,
        story=entry.id,
        attachments=(Attachment(name="schema diff", body=f"{entry.id}\n{listing}"),),
    )
