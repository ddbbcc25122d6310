"""A baseline: the whole schema a database should have, as a stable, sorted JSON document.

Made from a catalog snapshot (of a known-good database, or of a scratch database the code's own
migrations built), committed beside the code, and compared with the live database by
:mod:`smokeproof.database.drift`. Keys are sorted and empty parts left out, so a change to the
schema is a short, readable diff in a pull request::

    {"format": "smokeproof-baseline", "format_version": 2, "schemas": ["public"],
     "tables": {"public.users": {"columns": {"id": {"not_null": true, "type": "uuid"}}, "rls": true,
                                 "policies": {...}, "triggers": {...}, "privileges": {...}, ...}},
     "views": {...}, "enums": {"public.userrole": ["admin", "viewer"]}, "sequences": {...},
     "functions": {...}, "domains": {...}, "types": {...},
     "extensions": {"plpgsql": "pg_catalog"}, "alembic_revisions": ["80105006e3d3"]}

Format version 2 added row security, policies, triggers, privileges, functions and procedures,
domains and composite types (:mod:`smokeproof.database.baseline_security`). A version-1 baseline
still loads; those kinds are then not compared (:class:`Live` at version 1 leaves them out).

Left out on purpose: a column's position (a column re-added by hand moves to the end; the code
does not care), extension versions (they follow the server build, not the migrations), indexes
that back a constraint (reported as the constraint), identity sequences (reported as the column's
identity), objects that belong to an extension, owners and the owner's own privileges (role names
differ between a scratch replay and production).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from smokeproof.database import baseline_security as sec
from smokeproof.database.catalog import CatalogSnapshot, Constraint, ForeignKey, Index, Table
from smokeproof.errors import UsageError

FORMAT = "smokeproof-baseline"
FORMAT_VERSION = 2
SECURITY_VERSION = 2  # the first format with row security, policies, triggers, privileges, routines, domains, types
RELATION_KINDS = {"r": "table", "p": "partitioned table", "f": "foreign table", "v": "view", "m": "materialized view"}
VIEW_KINDS = {"v", "m"}
CONSTRAINT_SECTIONS = {"u": "unique", "c": "checks", "x": "exclusions"}
# What a hand-written baseline may spell out that document() leaves out: each key's default spellings.
RELATION_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "kind": ("table",),
    "definition": (None,),
    "primary_key": (None,),
    **{key: ({},) for key in ("unique", "checks", "exclusions", "foreign_keys", "indexes")},
}
COLUMN_DEFAULTS: dict[str, tuple[Any, ...]] = {"default": (None,), "identity": (None, ""), "generated": (None, "")}
INDEX_DEFAULTS: dict[str, tuple[Any, ...]] = {"predicate": (None, ""), "invalid": (False,)}

Document = dict[str, Any]


def document(snap: CatalogSnapshot) -> Document:
    """The baseline document of ``snap`` (plain JSON values, empty parts left out)."""
    live = Live(snap)
    doc: Document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schemas": list(snap.schemas),
        "alembic_revisions": list(snap.alembic_revisions) if snap.alembic_revisions is not None else None,
        "extensions": dict(snap.extensions),
    }
    for section, names in live.names.items():
        doc[section] = {name: live.get(section, name) for name in names}
    return doc


class Live:
    """The live schema as baseline documents, made one object at a time.

    The drift comparison asks for each object's document, compares it and lets it go: at 5,000
    tables, holding the whole document would keep some 40,000 objects alive for nothing and
    wake the garbage collector's full passes.
    """

    def __init__(self, snap: CatalogSnapshot, *, version: int = FORMAT_VERSION) -> None:
        self.snap = snap
        self.version = version  # of the baseline it is compared with: a version-1 baseline has no security parts
        self.unreadable = snap.security.unreadable  # kinds the role may not read
        self.extensions: Document = dict(snap.extensions)
        self.members: dict[tuple[str, str], list[Constraint | ForeignKey | Index]] = {}
        indexes = [index for index in snap.indexes.values() if not index.constraint]
        members: list[Constraint | ForeignKey | Index] = [*snap.constraints, *snap.foreign_keys, *indexes]
        for member in members:
            self.members.setdefault((member.schema, member.table), []).append(member)
        relations = [(f"{s}.{n}", (s, n), t.kind in VIEW_KINDS) for (s, n), t in snap.tables.items() if not t.extension_member]
        self.names: dict[str, dict[str, tuple[str, str]]] = {
            "tables": {name: key for name, key, view in relations if not view},
            "views": {name: key for name, key, view in relations if view},
            "enums": {f"{s}.{n}": (s, n) for (s, n) in snap.enums},
            "sequences": {f"{s}.{n}": (s, n) for (s, n), seq in snap.sequences.items() if not seq.identity},
        }
        if version >= SECURITY_VERSION:
            self.names.update(sec.names(snap.security))

    def at(self, version: int) -> Live:
        """This live schema as compared with a baseline of ``version``."""
        return self if version == self.version else Live(self.snap, version=version)

    def get(self, section: str, name: str) -> Any:
        """The document of one object (``None`` when the database has none of that name)."""
        key = self.names[section].get(name)
        if key is None:
            return None
        if section == "enums":
            return list(self.snap.enums[key].labels)
        if section == "sequences":
            seq = self.snap.sequences[key]
            return _sparse(
                type=seq.type,
                start=seq.start,
                increment=seq.increment,
                min=seq.min,
                max=seq.max,
                cycle=seq.cycle,
                owned_by=seq.owned_by,
            )
        if section in sec.SECTIONS:
            return sec.get(self.snap.security, section, key)
        rel = _relation(self.snap.tables[key], self.members.get(key, ()))
        if self.version >= SECURITY_VERSION:
            sec.relation_parts(self.snap.security, key, rel)
        return rel


def _relation(table: Table, members: Iterable[Constraint | ForeignKey | Index]) -> Document:
    columns: Document = {}
    for column in table.columns.values():  # built by hand, not through _sparse: 20,000 columns at 5,000 tables
        entry: Document = {"type": column.type, "not_null": column.not_null}
        if column.default is not None:
            entry["default"] = column.default
        if column.identity:
            entry["identity"] = column.identity
        if column.generated:
            entry["generated"] = column.generated
        columns[column.name] = entry
    rel: Document = {"columns": columns}
    if table.kind != "r":
        rel["kind"] = RELATION_KINDS.get(table.kind, table.kind)
    if table.definition is not None:
        rel["definition"] = table.definition
    for member in members:
        if isinstance(member, Index):
            index: Document = {"definition": member.definition, "unique": member.unique}
            if member.predicate:
                index["predicate"] = member.predicate
            if not member.valid:
                index["invalid"] = True
            rel.setdefault("indexes", {})[member.name] = index
        elif isinstance(member, ForeignKey):
            rel.setdefault("foreign_keys", {})[member.name] = {
                "columns": list(member.columns),
                "references": f"{member.ref_schema}.{member.ref_table}",
                "ref_columns": list(member.ref_columns),
                "on_delete": member.on_delete,
                "on_update": member.on_update,
            }
        elif member.kind == "p":
            rel["primary_key"] = {"name": member.name, "columns": list(member.columns)}
        elif member.kind == "u":
            rel.setdefault("unique", {})[member.name] = list(member.columns)
        else:
            rel.setdefault(CONSTRAINT_SECTIONS[member.kind], {})[member.name] = member.definition
    return rel


def _sparse(**values: Any) -> Document:
    """The values that say something: ``None`` left out, ``False`` kept only for ``not_null``."""
    return {k: v for k, v in values.items() if v is not None and (v is not False or k == "not_null")}


def dumps(doc: Document) -> str:
    """The document as committed: sorted keys, two-space indent, a final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# Reading ------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ColumnDoc(_Strict):
    type: str
    not_null: bool
    default: str | None = None
    identity: Literal["always", "by default"] | None = None
    generated: str | None = None


class KeyDoc(_Strict):
    name: str
    columns: list[str]


class ForeignKeyDoc(_Strict):
    columns: list[str]
    references: str
    ref_columns: list[str]
    on_delete: str
    on_update: str


class IndexDoc(_Strict):
    definition: str
    unique: bool = False
    predicate: str | None = None
    invalid: bool = False


class RelationDoc(_Strict):
    kind: str = "table"
    definition: str | None = None
    columns: dict[str, ColumnDoc]
    primary_key: KeyDoc | None = None
    unique: dict[str, list[str]] = {}
    checks: dict[str, str] = {}
    exclusions: dict[str, str] = {}
    foreign_keys: dict[str, ForeignKeyDoc] = {}
    indexes: dict[str, IndexDoc] = {}
    rls: bool = False
    force_rls: bool = False
    policies: dict[str, sec.PolicyDoc] = {}
    triggers: dict[str, sec.TriggerDoc] = {}
    privileges: dict[str, list[str]] = {}


class SequenceDoc(_Strict):
    type: str
    start: int
    increment: int
    min: int
    max: int
    cycle: bool = False
    owned_by: str | None = None


class BaselineDoc(_Strict):
    format: Literal["smokeproof-baseline"]
    format_version: Literal[1, 2]
    schemas: list[str]
    alembic_revisions: list[str] | None = None
    extensions: dict[str, str] = {}
    tables: dict[str, RelationDoc] = {}
    views: dict[str, RelationDoc] = {}
    enums: dict[str, list[str]] = {}
    sequences: dict[str, SequenceDoc] = {}
    functions: dict[str, sec.FunctionDoc] = {}
    domains: dict[str, sec.DomainDoc] = {}
    types: dict[str, sec.TypeDoc] = {}


def load(path: Path) -> Document:
    """Read and validate a baseline file; bad input is a :class:`UsageError` naming the file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("baseline file not found (make it with `smokeproof baseline ... --write PATH`)", file=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"not a readable JSON baseline: {exc}", file=path) from None
    if isinstance(raw, dict) and isinstance(raw.get("format_version"), int) and raw["format_version"] > FORMAT_VERSION:
        raise UsageError(
            f"baseline format_version {raw['format_version']} is newer than this smokeproof reads "
            f"({FORMAT_VERSION}): upgrade smokeproof",
            file=path,
        )
    try:
        BaselineDoc.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise UsageError(f"not a smokeproof baseline: {where}: {first['msg']}", file=path) from None
    assert isinstance(raw, dict)
    return canonical(raw)


def canonical(doc: Document) -> Document:
    """``doc`` as :func:`document` writes it: a value spelled out at its default is left out.

    A hand-edited baseline that says ``"kind": "table"``, ``"unique": {}``, ``"default": null`` or
    ``"cycle": false`` then compares equal to the live document, which leaves them out.
    """
    out = dict(doc)
    for section in ("tables", "views"):
        if section in doc:
            out[section] = {name: _canonical_relation(rel) for name, rel in doc[section].items()}
    if "sequences" in doc:
        out["sequences"] = {name: _sparse(**seq) for name, seq in doc["sequences"].items()}
    return out


def _canonical_relation(rel: Document) -> Document:
    out = _without(rel, RELATION_DEFAULTS)
    out["columns"] = {name: _without(column, COLUMN_DEFAULTS) for name, column in rel.get("columns", {}).items()}
    if "indexes" in out:
        out["indexes"] = {name: {"unique": False, **_without(index, INDEX_DEFAULTS)} for name, index in out["indexes"].items()}
    return out


def _without(values: Document, defaults: Document) -> Document:
    """``values`` less the keys whose value is their default (keys this reader does not know are kept)."""
    return {key: value for key, value in values.items() if key not in defaults or value not in defaults[key]}
