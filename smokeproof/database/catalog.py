"""One read-only snapshot of the database catalog.

Everything the schema checks and the Alembic alignment need is read from ``pg_catalog`` (not
``information_schema``, which hides what the role may not see) in one read-only transaction and a
fixed number of queries, whatever the number of checks: tables, columns (as ``format_type()``
prints them), enum types with labels in ``enumsortorder``, indexes, foreign keys and the
``alembic_version`` rows. Works on PostgreSQL 13 to 18.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from smokeproof.errors import DatabaseUnreachable, reason

APPLICATION_NAME = "smokeproof"

TABLES = """
SELECT n.nspname AS schema, c.relname AS name, c.oid
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY($1::text[])
"""
COLUMNS = """
SELECT n.nspname AS schema, c.relname AS table, a.attname AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default"
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY($1::text[])
ORDER BY n.nspname, c.relname, a.attnum
"""
ENUMS = """
SELECT n.nspname AS schema, t.typname AS name,
       array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY($1::text[])
GROUP BY n.nspname, t.typname
"""
INDEXES = """
SELECT n.nspname AS schema, ic.relname AS name, tc.relname AS table, i.indisunique AS unique,
       i.indisvalid AS valid,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname = ANY($1::text[])
"""
FOREIGN_KEYS = """
SELECT n.nspname AS schema, con.conname AS name, c.relname AS table,
       rn.nspname AS ref_schema, rc.relname AS ref_table,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype = 'f' AND n.nspname = ANY($1::text[])
"""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: Mapping[str, Column]


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


@dataclass(frozen=True)
class ForeignKey:
    schema: str
    name: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class CatalogSnapshot:
    tables: Mapping[tuple[str, str], Table]
    enums: Mapping[tuple[str, str], EnumType]
    indexes: Mapping[tuple[str, str], Index]
    foreign_keys: tuple[ForeignKey, ...]
    alembic_revisions: tuple[str, ...] | None
    server_version: str
    round_trips: int = field(default=0)


async def connect_readonly(dsn: str, *, connect_timeout_s: float, statement_timeout_ms: int) -> asyncpg.Connection:
    """A connection on which every transaction is read-only, with connect and statement timeouts."""
    return await asyncpg.connect(
        dsn,
        timeout=connect_timeout_s,
        command_timeout=statement_timeout_ms / 1000 + connect_timeout_s,
        statement_cache_size=0,
        server_settings={
            "default_transaction_read_only": "on",
            "statement_timeout": str(statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 2, 10_000)),
            "application_name": APPLICATION_NAME,
        },
    )


async def read(dsn: str, *, schemas: Sequence[str], connect_timeout_s: float, statement_timeout_ms: int) -> CatalogSnapshot:
    """Open a read-only connection, take one snapshot, close it.

    A failure to connect is :class:`DatabaseUnreachable`; a failure while reading (a statement
    timeout, say) propagates as asyncpg raised it.
    """
    try:
        conn = await connect_readonly(dsn, connect_timeout_s=connect_timeout_s, statement_timeout_ms=statement_timeout_ms)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnreachable(reason(exc)) from exc
    try:
        return await snapshot(conn, schemas=schemas)
    finally:
        await conn.close(timeout=2)


async def snapshot(conn: asyncpg.Connection, *, schemas: Sequence[str]) -> CatalogSnapshot:
    """Read the catalog in one read-only, repeatable-read transaction."""
    names = list(schemas)
    issued: list[str] = []

    def count(record: object) -> None:
        issued.append(str(getattr(record, "query", "")))

    # Counted by the driver: BEGIN, five catalog queries, COMMIT, asyncpg's one-time type
    # introspection on a fresh connection, and alembic_version when it exists. None per object.
    conn.add_query_logger(count)
    try:
        snap = await _read(conn, names)
        await asyncio.sleep(0)  # asyncpg hands log records over on the next loop turn (the COMMIT's)
    finally:
        conn.remove_query_logger(count)
    return dataclasses.replace(snap, round_trips=len(issued))


async def _read(conn: asyncpg.Connection, names: list[str]) -> CatalogSnapshot:
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        table_rows = await conn.fetch(TABLES, names)
        column_rows = await conn.fetch(COLUMNS, names)
        enum_rows = await conn.fetch(ENUMS, names)
        index_rows = await conn.fetch(INDEXES, names)
        fk_rows = await conn.fetch(FOREIGN_KEYS, names)
        versions: tuple[str, ...] | None = None
        version_table = next((r for r in table_rows if r["name"] == "alembic_version"), None)
        if version_table is not None:
            ident = f'"{version_table["schema"]}"."alembic_version"'
            rows = await conn.fetch(f"SELECT version_num FROM {ident} ORDER BY version_num")
            versions = tuple(r["version_num"] for r in rows)
    columns: dict[tuple[str, str], dict[str, Column]] = {}
    for r in column_rows:
        columns.setdefault((r["schema"], r["table"]), {})[r["name"]] = Column(r["name"], r["type"], r["not_null"], r["default"])
    version = conn.get_server_version()
    return CatalogSnapshot(
        tables={
            (r["schema"], r["name"]): Table(r["schema"], r["name"], columns.get((r["schema"], r["name"]), {})) for r in table_rows
        },
        enums={(r["schema"], r["name"]): EnumType(r["schema"], r["name"], tuple(r["labels"])) for r in enum_rows},
        indexes={
            (r["schema"], r["name"]): Index(r["schema"], r["name"], r["table"], r["unique"], r["valid"], tuple(r["columns"]))
            for r in index_rows
        },
        foreign_keys=tuple(
            ForeignKey(
                r["schema"], r["name"], r["table"], tuple(r["columns"]), r["ref_schema"], r["ref_table"], tuple(r["ref_columns"])
            )
            for r in fk_rows
        ),
        alembic_revisions=versions,
        server_version=f"{version.major}.{version.minor}",
    )
