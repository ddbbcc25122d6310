"""The snapshot's queries for what guards and moves the data: policies, triggers, privileges, routines, domains, types.

They run as subqueries of the one snapshot statement (:data:`catalog_queries.SNAPSHOT`), each
taking the schema names as ``$1``; a table's row security and grants are a column of the tables'
own query, domains and composite types one query over ``pg_type``: each subquery costs the
statement about a millisecond of planning and start-up, whatever it finds. Definitions are read
back as the server prints them (``pg_get_expr``, ``pg_get_triggerdef``, ``pg_get_constraintdef``,
``format_type``), so the same migration run on two PostgreSQL majors reads the same. What varies
by major is left out here: the ``MAINTAIN`` privilege (from 17, part of ``GRANT ALL``) and a
domain's NOT NULL kept as its own constraint (from 17; 15 keeps only the flag, which both have).
Privileges are read as the access lists' text (``grantee=arwd/grantor``), which the reader parses
(:func:`security_catalog.acl`) without the owner's own: owners are never compared, a table's NULL
list (owner only) has none, a function's is PUBLIC's EXECUTE. Role names come as text through
``regrole`` (a policy's PUBLIC is ``-``): a subquery per object costs more than the parsing. A
function's body is ``prosrc``, or for a SQL-standard body (``BEGIN ATOMIC``, ``RETURN``; ``prosrc``
is empty then) the server's own printing of it through ``pg_get_functiondef``: the reader keeps
the body part of it. Objects that belong to an extension are left out.

:data:`CATALOGS` names the catalogs each kind reads: a role that may not read one (a hardened
server that revokes ``SELECT`` on ``pg_proc``) gets that kind as "cannot be compared:
permission" instead of a failed snapshot (:mod:`smokeproof.database.catalog` asks
:data:`READABLE` only after the snapshot was refused)."""

from __future__ import annotations


def _not_extension_member(catalog: str, oid: str) -> str:
    return f"""NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
               WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"""


# A table's (or view's) row security and explicit grants, as one column of the tables' query (null: none).
RELATION_SECURITY = """CASE WHEN c.relrowsecurity OR c.relforcerowsecurity OR c.relacl IS NOT NULL THEN
           json_build_object('rls', c.relrowsecurity, 'force_rls', c.relforcerowsecurity,
                             'acl', c.relacl::text[], 'owner', c.relowner::regrole::text)
       END"""
POLICIES = """
SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd::text AS command,
       p.polpermissive AS permissive,
       p.polroles::regrole[]::text[] AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_catalog.pg_policy p
JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[])
"""
TRIGGERS = """
SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, t.tgenabled::text AS enabled,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
"""
# Functions and procedures (not aggregates or window functions), named by their argument types.
FUNCTIONS = f"""
SELECT n.nspname AS schema, p.proname AS name, p.prokind::text AS kind, l.lanname AS language,
       pg_catalog.oidvectortypes(p.proargtypes) AS argument_types,
       pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
       CASE WHEN p.prokind = 'f' THEN pg_catalog.pg_get_function_result(p.oid) END AS returns,
       p.provolatile::text AS volatility, p.proisstrict AS strict, p.prosecdef AS security_definer,
       p.proleakproof AS leakproof, p.proconfig AS settings,
       CASE WHEN p.prosrc = '' AND l.lanname = 'sql' THEN pg_catalog.pg_get_functiondef(p.oid) ELSE p.prosrc END AS body,
       p.prosrc = '' AND l.lanname = 'sql' AS standard_body,
       p.proacl::text[] AS acl, p.proowner::regrole::text AS owner
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p') AND n.nspname = ANY($1::text[]) AND {_not_extension_member("pg_catalog.pg_proc", "p.oid")}
"""
# Domains (d) and composite types made by CREATE TYPE ... AS (c; a table's own row type is the table).
TYPES = f"""
SELECT n.nspname AS schema, t.typname AS name, t.typtype::text AS kind,
       CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS type,
       t.typnotnull AS not_null, pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS "default",
       CASE WHEN t.typtype = 'd' THEN
           (SELECT json_object_agg(k.conname, pg_catalog.pg_get_constraintdef(k.oid))
            FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c')
       END AS checks,
       CASE WHEN t.typtype = 'c' THEN
           ARRAY(SELECT a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
       END AS attributes
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('d', 'c') AND n.nspname = ANY($1::text[])
      AND (t.typtype = 'd' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
      AND {_not_extension_member("pg_catalog.pg_type", "t.oid")}
"""

KINDS = {
    "policies": POLICIES,
    "triggers": TRIGGERS,
    "functions": FUNCTIONS,
    "types": TYPES,
}
# The catalogs each kind reads beyond those every kind reads (pg_class, pg_namespace).
CATALOGS = {
    "policies": ("pg_policy",),
    "triggers": ("pg_trigger",),
    "functions": ("pg_proc", "pg_language", "pg_depend"),
    "types": ("pg_type", "pg_constraint", "pg_attribute", "pg_depend"),
}
# Which of those the session's role may read: asked only when the snapshot was refused.
READABLE = (
    "SELECT json_object_agg(t, pg_catalog.has_table_privilege('pg_catalog.' || t, 'SELECT'))::text FROM unnest($1::text[]) t"
)
