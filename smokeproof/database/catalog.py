"""One read-only snapshot of the database catalog.

Everything the schema checks, the drift checks and the Alembic alignment need is read from
``pg_catalog`` (not ``information_schema``, which hides what the role may not see) in one
read-only, repeatable-read transaction of four statements whatever the number of objects: BEGIN,
the catalog as one JSON document (:data:`catalog_queries.SNAPSHOT`), the ``alembic_version`` rows
when the table exists, COMMIT. That is six network round trips (the driver prepares, then executes
a query) where a statement per kind of object took eighteen: a tenant database in another region
is 50 to 150 ms away. What is read: tables and views with their columns (types as
``format_type()`` prints them, nullability, defaults, identity and generated columns), enum types
with labels in ``enumsortorder``, indexes, constraints (primary keys, unique, check, exclusion,
foreign keys with their actions), sequences, installed extensions, the ``alembic_version``
rows, and in the same statement what guards and moves the data (:mod:`security_catalog`: row
security, policies, triggers, privileges, functions and procedures, domains, composite types).
A role refused a catalog only those read gets them as unreadable, at the cost of two more
statements then. A run with no ``[drift]`` leaves out what only drift compares (sequences,
extensions, and the security kinds no schema contract entry asks for: :func:`catalog_queries.left_out`),
about 40% of what PostgreSQL plans and runs per read; the kinds left out are empty in the snapshot
(:attr:`CatalogSnapshot.omitted`), never "refused". Works on PostgreSQL 13 to 18.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smokeproof.database import catalog_queries as q
from smokeproof.database import security_catalog
from smokeproof.database.security_catalog import Security
from smokeproof.errors import DatabaseUnreachable, reason

if TYPE_CHECKING:  # the driver loads when a catalog is read, not with the snapshot's types (schema files, reports)
    import asyncpg

Row = dict[str, Any]  # one catalog row, as the snapshot's JSON document has it
APPLICATION_NAME = "smokeproof"
IDENTITY = {"a": "always", "d": "by default"}
GENERATED = {"s": "stored", "v": "virtual"}
ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str = ""  # "always" or "by default" for an identity column
    generated: str = ""  # "stored" (or "virtual") for a generated column; default holds its expression


@dataclass(frozen=True)
class Table:
    """A table, view, materialised view or foreign table (``kind`` is pg_class.relkind)."""

    schema: str
    name: str
    columns: Mapping[str, Column]
    kind: str = "r"
    definition: str | None = None  # a view's query
    extension_member: bool = False


@dataclass(frozen=True)
class EnumType:
    schema: str
    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    schema: str
    name: str
    table: str
    unique: bool
    valid: bool
    columns: tuple[str, ...]
    definition: str = ""
    predicate: str | None = None
    constraint: bool = False  # backs a primary key, unique or exclusion constraint


@dataclass(frozen=True)
class ForeignKey:
    schema: str
    name: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "no action"
    on_update: str = "no action"


@dataclass(frozen=True)
class Constraint:
    """A primary key (``p``), unique (``u``), check (``c``) or exclusion (``x``) constraint."""

    schema: str
    table: str
    name: str
    kind: str
    columns: tuple[str, ...]
    definition: str


@dataclass(frozen=True)
class Sequence_:
    schema: str
    name: str
    type: str
    start: int
    increment: int
    min: int
    max: int
    cycle: bool
    owned_by: str | None = None  # schema.table.column of a serial column
    identity: bool = False  # made by an identity column (compared as the column's identity)


@dataclass(frozen=True)
class CatalogSnapshot:
    tables: Mapping[tuple[str, str], Table]
    enums: Mapping[tuple[str, str], EnumType]
    indexes: Mapping[tuple[str, str], Index]
    foreign_keys: tuple[ForeignKey, ...]
    alembic_revisions: tuple[str, ...] | None
    server_version: str
    round_trips: int = field(default=0)
    constraints: tuple[Constraint, ...] = ()
    sequences: Mapping[tuple[str, str], Sequence_] = field(default_factory=dict)
    extensions: Mapping[str, str] = field(default_factory=dict)  # name -> schema
    schemas: tuple[str, ...] = ()
    security: Security = field(default_factory=Security)  # row security, policies, triggers, grants, routines, ...
    omitted: frozenset[str] = frozenset()  # kinds this read left out (catalog_queries.left_out): empty, not absent


async def connect_readonly(
    dsn: str, *, connect_timeout_s: float, statement_timeout_ms: int, search_path: Sequence[str] = ()
) -> asyncpg.Connection:
    """A connection on which every transaction is read-only, with connect and statement timeouts.

    ``search_path``, when given, is the session's: ``format_type()``, ``pg_get_viewdef()`` and the
    constraint and default expressions qualify names by it, so two snapshots taken with the same
    schemas print the same text whatever search path the role has.
    """
    settings = {
        "default_transaction_read_only": "on",
        "statement_timeout": str(statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 2, 10_000)),
        "application_name": APPLICATION_NAME,
    }
    import asyncpg

    if search_path:
        settings["search_path"] = ", ".join('"' + name.replace('"', '""') + '"' for name in search_path)
    return await asyncpg.connect(
        dsn,
        timeout=connect_timeout_s,
        command_timeout=statement_timeout_ms / 1000 + connect_timeout_s,
        statement_cache_size=0,
        server_settings=settings,
    )


async def read(
    dsn: str, *, schemas: Sequence[str], connect_timeout_s: float, statement_timeout_ms: int, omit: frozenset[str] = frozenset()
) -> CatalogSnapshot:
    """Open a read-only connection, take one snapshot (without the kinds in ``omit``: :func:`catalog_queries.left_out`), close it.

    A failure to connect is :class:`DatabaseUnreachable`; a failure while reading (a statement
    timeout, say) propagates as asyncpg raised it.
    """
    import asyncpg

    try:
        conn = await connect_readonly(
            dsn, connect_timeout_s=connect_timeout_s, statement_timeout_ms=statement_timeout_ms, search_path=schemas
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnreachable(reason(exc)) from exc
    try:
        return await snapshot(conn, schemas=schemas, omit=omit)
    finally:
        await conn.close(timeout=2)


async def snapshot(conn: asyncpg.Connection, *, schemas: Sequence[str], omit: frozenset[str] = frozenset()) -> CatalogSnapshot:
    """Read the catalog in one read-only, repeatable-read transaction (``omit``: kinds not read, left empty)."""
    names = list(schemas)
    issued: list[str] = []

    def count(record: object) -> None:
        issued.append(str(getattr(record, "query", "")))

    # Counted by the driver: BEGIN, the catalog, alembic_version when it exists, COMMIT (no type
    # introspection: the document is text). None per object.
    conn.add_query_logger(count)
    try:
        snap = await _read(conn, names, omit)
        await asyncio.sleep(0)  # asyncpg hands log records over on the next loop turn (the COMMIT's)
    finally:
        conn.remove_query_logger(count)
    return dataclasses.replace(snap, round_trips=len(issued))


async def _read(conn: asyncpg.Connection, names: list[str], omit: frozenset[str]) -> CatalogSnapshot:
    """The snapshot; a role refused a catalog that only the security kinds read gets those kinds as unreadable."""
    import asyncpg

    try:
        return await _read_once(conn, names, q.statement(omit), omit)
    except asyncpg.InsufficientPrivilegeError:
        refused = await security_catalog.unreadable(conn)
        if not refused - omit:
            raise
        return await _read_once(conn, names, q.statement(refused | omit), omit)


async def _read_once(conn: asyncpg.Connection, names: list[str], statement: str, omit: frozenset[str]) -> CatalogSnapshot:
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        rows: dict[str, list[Row]] = json.loads(await conn.fetchval(statement, names))
        versions: tuple[str, ...] | None = None
        version_table = _version_table(rows["tables"], names)
        if version_table is not None:
            ident = '"' + version_table.replace('"', '""') + '"."alembic_version"'
            found = await conn.fetch(f"SELECT version_num FROM {ident} ORDER BY version_num")
            versions = tuple(r["version_num"] for r in found)
    version = conn.get_server_version()
    attnames: dict[tuple[str, str], dict[str, str]] = {}  # attribute number (as text) -> name
    tables = _tables(rows["tables"], rows["columns"], attnames)

    def named(r: Row) -> tuple[str, ...]:
        """The row's attribute numbers as column names (an index's expression, number 0, has none)."""
        known = attnames.get((r["schema"], r["table"]), {})
        return tuple(known[num] for num in r["columns"] or () if num in known)

    constraints = [r for r in rows["constraints"] if r["kind"] != "f"]
    return CatalogSnapshot(
        tables=tables,
        enums={(r["schema"], r["name"]): EnumType(r["schema"], r["name"], tuple(r["labels"])) for r in rows["enums"]},
        indexes={(r["schema"], r["name"]): _index(r, named(r)) for r in rows["indexes"]},
        foreign_keys=tuple(_foreign_key(r, named(r)) for r in rows["constraints"] if r["kind"] == "f"),
        alembic_revisions=versions,
        server_version=f"{version.major}.{version.minor}",
        constraints=tuple(
            Constraint(r["schema"], r["table"], r["name"], r["kind"], named(r), r["definition"] or "") for r in constraints
        ),
        sequences={(r["schema"], r["name"]): _sequence(r) for r in rows["sequences"] or ()},
        extensions={r["name"]: r["schema"] for r in rows["extensions"] or ()},
        schemas=tuple(names),
        security=security_catalog.security(rows, omit),
        omitted=omit,
    )


def _version_table(table_rows: list[Row], names: list[str]) -> str | None:
    """The schema of the ``alembic_version`` table: the first of ``names`` that has one (None: no table)."""
    found = {r["schema"] for r in table_rows if r["name"] == "alembic_version"}
    return next((name for name in names if name in found), None)


def _tables(
    table_rows: list[Row], column_rows: list[Row], attnames: dict[tuple[str, str], dict[str, str]]
) -> dict[tuple[str, str], Table]:
    """The tables with their columns; fills ``attnames`` (attribute number -> name, per table) on the way."""
    columns: dict[tuple[str, str], dict[str, Column]] = {}
    numbers: dict[str, str] = {}
    these: dict[str, Column] = {}
    key: tuple[str, str] | None = None
    for r in column_rows:  # ordered by table, then attribute number
        if key is None or key[0] != r["schema"] or key[1] != r["table"]:
            key = (r["schema"], r["table"])
            these, numbers = columns.setdefault(key, {}), attnames.setdefault(key, {})
        name = r["name"]
        these[name] = Column(
            name, r["type"], r["not_null"], r["default"], IDENTITY.get(r["identity"], ""), GENERATED.get(r["generated"], "")
        )
        numbers[r["num"]] = name
    return {
        (r["schema"], r["name"]): Table(
            r["schema"], r["name"], columns.get((r["schema"], r["name"]), {}), r["kind"], r["definition"], r["extension_member"]
        )
        for r in table_rows
    }


def _index(r: Row, columns: tuple[str, ...]) -> Index:
    return Index(
        r["schema"],
        r["name"],
        r["table"],
        r["unique"],
        r["valid"],
        columns,
        r["definition"] or "",
        r["predicate"],
        r["constraint"],
    )


def _foreign_key(r: Row, columns: tuple[str, ...]) -> ForeignKey:
    return ForeignKey(
        r["schema"],
        r["name"],
        r["table"],
        columns,
        r["ref_schema"],
        r["ref_table"],
        tuple(r["ref_columns"]),
        _action(r["on_delete"]),
        _action(r["on_update"]),
    )


def _action(code: str) -> str:
    """A foreign key's referential action by name (``c`` is ``cascade``)."""
    return ACTIONS.get(code, code)


def _sequence(r: Row) -> Sequence_:
    owner = f"{r['owner_schema']}.{r['owner_table']}.{r['owner_column']}" if r["owner_table"] else None
    return Sequence_(
        r["schema"],
        r["name"],
        r["type"],
        r["start"],
        r["increment"],
        r["min"],
        r["max"],
        r["cycle"],
        owner,
        r["owner_kind"] == "i",
    )
