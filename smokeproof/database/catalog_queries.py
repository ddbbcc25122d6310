"""The catalog snapshot's statement: ``pg_catalog`` only, one query per kind of object, sent as one.

:data:`SNAPSHOT` runs every kind's query as a subquery and returns their rows as one JSON
document (``{"tables": [...], "columns": [...], ...}``): one statement, so one round trip's
worth of network latency for the whole catalog, however many kinds and objects there are (a
tenant in another region is 50 to 150 ms away). Each query takes the schema names as ``$1``;
none is issued per object. Index and constraint columns come back as attribute numbers (as text,
like the columns' ``num``), named from the columns' rows (a subquery per row costs three times as
much at 5,000 tables); a foreign key's referenced columns are named here, as the referenced table
may be in a schema that is not read. Objects that belong to an extension (``pg_depend.deptype =
'e'``) are flagged or left out: they come with the extension, and the extension set is compared
on its own. Works on PostgreSQL 13 to 18.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable

from smokeproof.database import security_queries
from smokeproof.database.security_queries import RELATION_SECURITY

_EXTENSION_MEMBER = """EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
               WHERE x.classid = 'pg_catalog.pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e')"""

TABLES = f"""
SELECT n.nspname AS schema, c.relname AS name, c.oid, c.relkind::text AS kind,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition,
       {_EXTENSION_MEMBER} AS extension_member,
       {RELATION_SECURITY} AS security
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY($1::text[])
"""
COLUMNS = """
SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, a.attnum::text AS num,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default",
       a.attidentity::text AS identity, a.attgenerated::text AS generated
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY($1::text[])
"""
ENUMS = """
SELECT n.nspname AS schema, t.typname AS name,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY($1::text[])
GROUP BY n.nspname, t.typname
"""
# The definition only of indexes that back no constraint (the others are compared as their constraint).
INDEXES = """
SELECT n.nspname AS schema, ic.relname AS name, tc.relname AS table, i.indisunique AS unique,
       i.indisvalid AS valid,
       i.indkey::int2[]::text[] AS columns,
       CASE WHEN k.oid IS NULL THEN pg_catalog.pg_get_indexdef(i.indexrelid) END AS definition,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
       k.oid IS NOT NULL AS "constraint"
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
LEFT JOIN pg_catalog.pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')
WHERE n.nspname = ANY($1::text[])
"""
# Table constraints: primary key (p), unique (u), check (c), foreign key (f), exclusion (x).
# PostgreSQL 18's NOT NULL constraints (n) are read as the columns' not_null instead. The definition is read
# only for check and exclusion constraints: the others are compared by their columns.
CONSTRAINTS = """
SELECT n.nspname AS schema, con.conname AS name, c.relname AS table, con.contype::text AS kind,
       rn.nspname AS ref_schema, rc.relname AS ref_table,
       con.conkey::text[] AS columns,
       CASE WHEN con.contype = 'f' THEN
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
       END AS ref_columns,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
       CASE WHEN con.contype IN ('c', 'x') THEN pg_catalog.pg_get_constraintdef(con.oid) END AS definition
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype IN ('p', 'u', 'c', 'f', 'x') AND n.nspname = ANY($1::text[])
"""
# Sequences, with the column that owns them (serial: deptype 'a'; identity: 'i').
SEQUENCES = f"""
SELECT n.nspname AS schema, c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type,
       s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcycle AS cycle,
       d.deptype::text AS owner_kind, on_.nspname AS owner_schema, oc.relname AS owner_table, oa.attname AS owner_column
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_catalog.pg_class oc ON oc.oid = d.refobjid
LEFT JOIN pg_catalog.pg_namespace on_ ON on_.oid = oc.relnamespace
LEFT JOIN pg_catalog.pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
WHERE n.nspname = ANY($1::text[]) AND NOT {_EXTENSION_MEMBER}
"""
# Extensions are per database, whatever schema they were installed into.
EXTENSIONS = """
SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
"""

# The order in which a kind's rows are aggregated, where it matters: a table's columns by attribute number.
_ORDER = {"columns": 'ORDER BY r."schema", r."table", r.num::int'}
KINDS = {
    "tables": TABLES,
    "columns": COLUMNS,
    "enums": ENUMS,
    "indexes": INDEXES,
    "constraints": CONSTRAINTS,
    "sequences": SEQUENCES,
    "extensions": EXTENSIONS,
}
KINDS.update(security_queries.KINDS)


# Read only by the drift comparison (and the snapshot, baseline and init commands), or by a schema
# contract's policy, trigger and function entries. A run with neither leaves them out of its statement:
# their joins are about 40% of what PostgreSQL plans and runs for a read (a fleet's server pays it per tenant).
FOR_DRIFT = ("sequences", "extensions", *security_queries.KINDS)
ENTRY_KINDS = {"policy": "policies", "trigger": "triggers", "function": "functions"}  # schema.toml entry -> kind


def left_out(entry_kinds: Iterable[str], *, drift: bool) -> frozenset[str]:
    """The kinds a run's read can leave out: none with ``[drift]``, else those no schema contract entry compares."""
    if drift:
        return frozenset()
    return frozenset(FOR_DRIFT) - {ENTRY_KINDS[kind] for kind in entry_kinds if kind in ENTRY_KINDS}


def snapshot_sql(unreadable: Collection[str] = ()) -> str:
    """The one statement; a kind in ``unreadable`` (its catalogs refused to the role, or left out) reads as null."""
    parts = [
        f"'{kind}', (SELECT coalesce(json_agg(r {_ORDER.get(kind, '')}), '[]') FROM ({sql}) r)"
        if kind not in unreadable
        else f"'{kind}', NULL"
        for kind, sql in KINDS.items()
    ]
    return "SELECT json_build_object(" + ", ".join(parts) + ")::text"


SNAPSHOT = snapshot_sql()


@functools.cache
def statement(unread: frozenset[str]) -> str:
    """:func:`snapshot_sql` made once per set of kinds left out or refused (a fleet reads it once per tenant)."""
    return snapshot_sql(unread) if unread else SNAPSHOT
