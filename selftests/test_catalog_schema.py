"""Catalog snapshots on real PostgreSQL (embedded 18 and Debian 15) and schema contracts checked against them."""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path

import pytest

from smokeproof.database import schema_toml
from smokeproof.database.catalog import CatalogSnapshot, connect_readonly, read, snapshot
from smokeproof.database.schema_contract import (
    EnumEntry,
    ForeignKeyEntry,
    IndexEntry,
    SchemaContract,
    SchemaEntry,
    TableEntry,
    check,
    differences,
    load_schema_contract,
    missing_table,
    normalise_type,
)
from smokeproof.errors import UsageError
from smokeproof.verdict import Category

from .sql import execute

SCHEMA = """
CREATE TYPE userrole AS ENUM ('super_admin', 'admin', 'viewer');
CREATE TABLE organisations (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE users (
    id uuid PRIMARY KEY,
    email varchar(255) NOT NULL,
    organisation_id uuid REFERENCES organisations (id),
    role userrole NOT NULL DEFAULT 'viewer',
    created_at timestamptz NOT NULL DEFAULT now(),
    login_count int8,
    active bool,
    scores int[]
);
CREATE UNIQUE INDEX uq_users_email ON users (email);
CREATE INDEX ix_users_organisation_id ON users (organisation_id);
CREATE SCHEMA audit;
CREATE TABLE audit.events (id bigint PRIMARY KEY, user_id uuid REFERENCES public.users (id));
CREATE TYPE audit.kind AS ENUM ('login');
"""


async def take(url: str, schemas: tuple[str, ...] = ("public",)) -> CatalogSnapshot:
    return await read(url, schemas=list(schemas), connect_timeout_s=5, statement_timeout_ms=5000)


async def prepared(url: str, sql: str = SCHEMA, schemas: tuple[str, ...] = ("public",)) -> CatalogSnapshot:
    await execute(url, sql)
    return await take(url, schemas)


def contract(tmp_path: Path, text: str) -> SchemaContract:
    path = tmp_path / "schema.toml"
    path.write_text(textwrap.dedent(text))
    return load_schema_contract(path)


def by_id(entries: tuple[SchemaEntry, ...]) -> dict[str, SchemaEntry]:
    return {entry.id: entry for entry in entries}


# --- the snapshot --------------------------------------------------------------------------------


async def test_every_object_kind_is_read(pg_url: str) -> None:
    snap = await prepared(pg_url)
    users = snap.tables[("public", "users")].columns
    assert [c for c in users] == ["id", "email", "organisation_id", "role", "created_at", "login_count", "active", "scores"]
    assert {name: c.type for name, c in users.items()} == {
        "id": "uuid",
        "email": "character varying(255)",
        "organisation_id": "uuid",
        "role": "userrole",
        "created_at": "timestamp with time zone",
        "login_count": "bigint",
        "active": "boolean",
        "scores": "integer[]",
    }
    assert users["email"].not_null and not users["active"].not_null
    assert users["role"].default == "'viewer'::userrole" and users["created_at"].default == "now()"
    assert snap.enums[("public", "userrole")].labels == ("super_admin", "admin", "viewer")
    unique = snap.indexes[("public", "uq_users_email")]
    assert (unique.table, unique.unique, unique.valid, unique.columns) == ("users", True, True, ("email",))
    plain = snap.indexes[("public", "ix_users_organisation_id")]
    assert (plain.unique, plain.valid, plain.columns) == (False, True, ("organisation_id",))
    assert snap.indexes[("public", "users_pkey")].unique
    fks = {(f.table, f.columns): f for f in snap.foreign_keys}
    fk = fks[("users", ("organisation_id",))]
    assert (fk.schema, fk.ref_schema, fk.ref_table, fk.ref_columns) == ("public", "public", "organisations", ("id",))
    assert snap.alembic_revisions is None
    assert snap.server_version.split(".")[0] in {"15", "18"}


async def test_enum_labels_in_sort_order(pg_url: str) -> None:
    await execute(pg_url, "CREATE TYPE level AS ENUM ('a', 'b', 'c');")
    await execute(pg_url, "ALTER TYPE level ADD VALUE 'x' BEFORE 'b';")  # not in a transaction with its use
    await execute(pg_url, "ALTER TYPE level ADD VALUE 'y' AFTER 'c';")
    await execute(pg_url, "ALTER TYPE level ADD VALUE 'w' BEFORE 'a';")
    snap = await take(pg_url)
    assert snap.enums[("public", "level")].labels == ("w", "a", "x", "b", "c", "y")


async def test_an_invalid_index_is_reported_invalid(pg_url: str, tmp_path: Path) -> None:
    await execute(
        pg_url,
        "CREATE TABLE t (id int, v text); CREATE INDEX ix_t_v ON t (v); CREATE INDEX ix_t_id ON t (id);"
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_t_v'::regclass;",
    )
    snap = await take(pg_url)
    assert not snap.indexes[("public", "ix_t_v")].valid
    assert snap.indexes[("public", "ix_t_id")].valid
    entries = by_id(contract(tmp_path, '[[index]]\nname = "ix_t_v"\ntable = "t"\n[[index]]\nname = "ix_t_id"\n').entries)
    invalid = check(entries["index public.ix_t_v"], snap)
    assert not invalid.ok and "index is INVALID" in str(invalid.failure())
    assert check(entries["index public.ix_t_id"], snap).ok


@pytest.mark.parametrize(
    ("sql", "revisions"),
    [
        pytest.param("", None, id="no-version-table"),
        pytest.param("INSERT INTO alembic_version VALUES ('80105006e3d3');", ("80105006e3d3",), id="one-row"),
        pytest.param(
            "INSERT INTO alembic_version VALUES ('f00000000003'), ('f00000000002');",
            ("f00000000002", "f00000000003"),
            id="two-rows",
        ),
        pytest.param("SELECT 1;", (), id="empty-table"),
    ],
)
async def test_alembic_version_rows(pg_url: str, sql: str, revisions: tuple[str, ...] | None) -> None:
    table = "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);" if sql else "SELECT 1;"
    snap = await prepared(pg_url, table + sql)
    assert snap.alembic_revisions == revisions


async def test_schemas_filter_objects_in_and_out(pg_url: str) -> None:
    await execute(
        pg_url,
        SCHEMA + "CREATE TABLE audit.alembic_version (version_num varchar(32));"
        "INSERT INTO audit.alembic_version VALUES ('abc123');",
    )
    public = await take(pg_url, ("public",))
    assert ("audit", "events") not in public.tables and ("audit", "kind") not in public.enums
    assert ("audit", "events_pkey") not in public.indexes
    assert all(f.schema == "public" for f in public.foreign_keys)
    assert public.alembic_revisions is None
    audit = await take(pg_url, ("audit",))
    assert set(audit.tables) == {("audit", "events"), ("audit", "alembic_version")}
    assert audit.enums[("audit", "kind")].labels == ("login",)
    fk = next(f for f in audit.foreign_keys if f.table == "events")
    assert (fk.schema, fk.ref_schema, fk.ref_table) == ("audit", "public", "users")
    assert audit.alembic_revisions == ("abc123",)
    both = await take(pg_url, ("public", "audit"))
    assert {("public", "users"), ("audit", "events")} <= set(both.tables)


async def test_round_trips_are_constant(pg_url: str) -> None:
    await execute(pg_url, "".join(f"CREATE TABLE s{i} (id int PRIMARY KEY, v text);" for i in range(5)))
    small = await take(pg_url)
    big_sql = "".join(f"CREATE TYPE e{i} AS ENUM ('a', 'b');" for i in range(50))
    big_sql += "CREATE TABLE b0 (id int PRIMARY KEY, v varchar(9), e e0);"
    big_sql += "".join(
        f"CREATE TABLE b{i} (id int PRIMARY KEY, v varchar(9), e e{i % 50}, b0 int REFERENCES b0);" for i in range(1, 200)
    )
    await execute(pg_url, big_sql)
    big = await take(pg_url)
    assert len(big.tables) == 205 and len(big.enums) == 50 and len(big.indexes) == 205
    assert small.round_trips > 0
    assert big.round_trips == small.round_trips


async def test_round_trips_count_what_the_driver_sent(pg_url: str) -> None:
    await execute(pg_url, "CREATE TABLE alembic_version (version_num varchar(32)); INSERT INTO alembic_version VALUES ('a');")
    conn = await connect_readonly(pg_url, connect_timeout_s=5, statement_timeout_ms=5000)
    sent: list[str] = []
    conn.add_query_logger(lambda record: sent.append(record.query))
    try:
        snap = await snapshot(conn, schemas=["public"])
        await asyncio.sleep(0.01)  # asyncpg hands query-log records to loggers with loop.call_soon
    finally:
        await conn.close()
    assert sent[0] == "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" and sent[-1].startswith("COMMIT")
    assert len(sent) == 4, sent  # BEGIN, the whole catalog as one statement, alembic_version, COMMIT
    assert snap.round_trips == len(sent) and snap.alembic_revisions == ("a",)


# --- the schema contract -------------------------------------------------------------------------


async def test_every_difference_of_one_object_is_listed_at_once(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(pg_url)
    entries = by_id(
        contract(
            tmp_path,
            """
            [[table]]
            name = "users"
            columns = { id = "uuid", email = "text", last_login = "timestamptz", active = "integer" }
            [[enum]]
            name = "userrole"
            labels = ["viewer", "super_admin", "analyst"]
            exact = true
            [[index]]
            name = "ix_users_organisation_id"
            table = "users"
            unique = true
            [[index]]
            name = "ix_users_missing"
            [[foreign_key]]
            table = "users"
            columns = ["organisation_id"]
            references = "organisations(id)"
            [[foreign_key]]
            table = "users"
            columns = ["role"]
            references = "roles(id)"
            [[table]]
            name = "user_hierarchy_assignments"
            [[enum]]
            name = "hierarchylevel"
            labels = ["organization"]
            """,
        ).entries
    )
    assert differences(entries["table public.users"], snap) == (
        True,
        [
            "column email: expected text, got character varying(255)",
            "column last_login does not exist (contracted timestamp with time zone)",
            "column active: expected integer, got boolean",
        ],
    )
    table = check(entries["table public.users"], snap)
    assert not table.ok and table.actual == "3 differences" and table.category is Category.MISSING_SCHEMA
    assert "- column last_login does not exist (contracted timestamp with time zone)" in str(table.failure())
    exists, enum_diffs = differences(entries["enum public.userrole"], snap)
    assert exists and enum_diffs == [
        'missing label "analyst"',
        'labels out of order: contracted ["viewer", "super_admin"], database has ["super_admin", "viewer"]',
        'extra label "admin"',
    ]
    assert differences(entries["index public.ix_users_organisation_id"], snap) == (True, ["index is not unique"])
    assert differences(entries["index public.ix_users_missing"], snap) == (
        False,
        ["index public.ix_users_missing does not exist"],
    )
    assert check(entries["foreign key public.users(organisation_id) -> organisations(id)"], snap).ok
    missing_fk = check(entries["foreign key public.users(role) -> roles(id)"], snap)
    assert not missing_fk.ok and missing_fk.actual == "missing" and "no such foreign key on public.users" in missing_fk.headline
    missing = check(entries["table public.user_hierarchy_assignments"], snap)
    assert missing.actual == "missing" and "relation public.user_hierarchy_assignments does not exist" in missing.headline
    enum = check(entries["enum public.hierarchylevel"], snap)
    assert enum.actual == "missing" and "type public.hierarchylevel does not exist" in enum.headline


async def test_missing_table_is_the_root_cause_of_its_index_and_fk(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(pg_url)
    entries = contract(
        tmp_path,
        """
        [[index]]
        name = "ix_gone"
        table = "gone"
        [[foreign_key]]
        table = "gone"
        columns = ["user_id"]
        references = "users(id)"
        [[index]]
        name = "uq_users_email"
        table = "users"
        """,
    ).entries
    assert {e.id: missing_table(e, snap) for e in entries} == {
        "index public.ix_gone": "table public.gone",
        "foreign key public.gone(user_id) -> users(id)": "table public.gone",
        "index public.uq_users_email": None,
    }


async def test_aliases_match_what_format_type_prints(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(pg_url)
    (entry,) = contract(
        tmp_path,
        """
        [[table]]
        name = "users"
        columns = { email = "varchar(255)", created_at = "timestamptz", login_count = "int8", active = "bool", scores = "int[]" }
        """,
    ).entries
    assert differences(entry, snap) == (True, [])
    assert check(entry, snap).ok
    for alias, canonical in {
        "varchar(255)": "character varying(255)",
        "VARCHAR( 255 )": "character varying(255)",
        "timestamptz": "timestamp with time zone",
        "int8": "bigint",
        "bool": "boolean",
        "int[]": "integer[]",
        "numeric(10, 2)": "numeric(10,2)",
        "text": "text",
    }.items():
        assert normalise_type(alias) == canonical, alias


async def test_label_order_is_relative(pg_url: str, tmp_path: Path) -> None:
    await execute(pg_url, "CREATE TYPE abc AS ENUM ('a', 'b', 'c');")
    snap = await take(pg_url)
    subset, reversed_ = (EnumEntry(name="abc", labels=labels, schema_="public") for labels in (["a", "c"], ["c", "a"]))
    assert check(subset, snap).ok
    verdict = check(reversed_, snap)
    assert not verdict.ok and "labels out of order" in str(verdict.failure())
    exact = EnumEntry(name="abc", labels=["a", "b", "c"], exact=True, schema_="public")
    assert check(exact, snap).ok


async def test_entries_built_directly_check_the_same(pg_url: str) -> None:
    snap = await prepared(pg_url)
    assert check(TableEntry(name="users", columns=["id", "email"], schema_="public"), snap).ok
    assert not check(TableEntry(name="users", columns=["nope"], schema_="public"), snap).ok
    assert check(IndexEntry(name="uq_users_email", unique=True, table="users", schema_="public"), snap).ok
    wrong_table = differences(IndexEntry(name="uq_users_email", table="organisations", schema_="public"), snap)
    assert wrong_table == (True, ["index is on table users, expected organisations"])
    fk = ForeignKeyEntry(table="users", columns=["organisation_id"], references="organisations", schema_="public")
    assert check(fk, snap).ok
    wrong_ref = ForeignKeyEntry(table="users", columns=["organisation_id"], references="organisations(name)", schema_="public")
    assert not check(wrong_ref, snap).ok


# --- loader errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        pytest.param(
            '[[table]]\nname = "users"\ncolums = ["id"]\n', "[[table]] #1 (users)", "unknown key 'colums'", id="unknown-entry-key"
        ),
        pytest.param('[[tables]]\nname = "users"\n', None, "unknown key(s) tables", id="unknown-top-level-key"),
        pytest.param(
            '[[table]]\nname = "users"\ncolumns = { id = "intger" }\n',
            "[[table]] #1 (users) column id",
            "unknown column type 'intger'",
            id="unknown-column-type",
        ),
        pytest.param(
            '[[enum]]\nname = "a"\n[[enum]]\nname = "public.a"\n',
            "[[enum]] #2 (public.a)",
            "duplicate entry 'enum public.a'",
            id="duplicate-entry",
        ),
        pytest.param('[[table]\nname = "users"\n', None, "invalid TOML", id="invalid-toml"),
        pytest.param('[[enum]]\nname = "a"\nexact = "yes"\n', "[[enum]] #1 (a)", "key 'exact'", id="wrong-type"),
        pytest.param("[[index]]\nname = 3\n", "[[index]] #1 (3)", "key 'name'", id="wrong-type-name"),
        pytest.param('table = "users"\n', None, "'table' must be an array of tables ([[table]])", id="not-an-array"),
        pytest.param('schemas = "public"\n', None, "'schemas' must be a non-empty list", id="schemas-not-a-list"),
    ],
)
def test_loader_errors_name_the_file_and_the_entry(tmp_path: Path, text: str, where: str | None, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        contract(tmp_path, text)
    assert caught.value.file == tmp_path / "schema.toml"
    assert caught.value.where == where
    assert problem in caught.value.problem


def test_a_typo_in_a_type_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        contract(tmp_path, '[[table]]\nname = "users"\ncolumns = { id = "intger" }\n')
    assert caught.value.problem.split("did you mean ")[1].split(",")[0].rstrip("?") == "integer"


def test_enum_of_the_file_and_qualified_types_are_accepted(tmp_path: Path) -> None:
    loaded = contract(
        tmp_path,
        """
        schemas = ["public", "audit"]
        [[enum]]
        name = "userrole"
        [[table]]
        name = "audit.events"
        columns = { role = "userrole", kind = "audit.kind", at = "timestamptz" }
        """,
    )
    table = next(e for e in loaded.entries if isinstance(e, TableEntry))
    assert (table.schema_, table.name, table.id) == ("audit", "events", "table audit.events")
    assert loaded.schemas == ("public", "audit")
    with pytest.raises(UsageError, match="unknown column type 'userrol'"):
        contract(tmp_path, '[[enum]]\nname = "userrole"\n[[table]]\nname = "t"\ncolumns = { r = "userrol" }\n')


def test_precision_types_as_format_type_prints_them(tmp_path: Path) -> None:
    (entry,) = contract(
        tmp_path, '[[table]]\nname = "t"\ncolumns = { a = "timestamp(3) with time zone", b = "timestamptz(3)" }\n'
    ).entries
    assert isinstance(entry, TableEntry) and isinstance(entry.columns, dict)
    assert normalise_type(entry.columns["b"]) == "timestamp(3) with time zone"


async def test_qualified_enum_types_and_spaced_references(pg_url: str, tmp_path: Path) -> None:
    """A contract may write ``public.role``; format_type() prints ``role``. ``users (id)`` is ``users(id)``."""
    snap = await prepared(
        pg_url,
        "CREATE TYPE role AS ENUM ('a'); CREATE TABLE users (id uuid PRIMARY KEY);"
        "CREATE TABLE grants (user_id uuid REFERENCES users(id), role role);",
    )
    entries = contract(
        tmp_path,
        """
        [[enum]]
        name = "role"
        [[table]]
        name = "grants"
        columns = { role = "public.role" }
        [[foreign_key]]
        table = "grants"
        columns = ["user_id"]
        references = "users (id)"
    """,
    ).entries
    assert all(check(e, snap).ok for e in entries), [check(e, snap).headline for e in entries]


# --- not_null, default, [[check]] and [[unique]] ------------------------------------------------------


async def test_not_null_default_check_and_unique_entries(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(
        pg_url,
        SCHEMA + "ALTER TABLE users ADD CONSTRAINT users_login_count_check CHECK (login_count >= 0);"
        "ALTER TABLE organisations ADD CONSTRAINT organisations_name_key UNIQUE (name);",
    )
    entries = by_id(
        contract(
            tmp_path,
            """
            [[table]]
            name = "users"
            columns = { id = { type = "uuid", not_null = true }, email = "varchar(255)", role = { default = "'viewer'::userrole" } }
            [[table]]
            name = "organisations"
            columns = { name = { not_null = false, default = "''::text" } }
            [[check]]
            name = "users_login_count_check"
            table = "users"
            [[check]]
            name = "users_gone_check"
            [[unique]]
            name = "organisations_name_key"
            columns = ["name"]
            [[unique]]
            name = "organisations_name_key2"
            [[unique]]
            name = "users_login_count_check"
            """,
        ).entries
    )
    assert check(entries["table public.users"], snap).ok
    organisations = str(check(entries["table public.organisations"], snap).failure())
    assert "column name: NOT NULL, contracted nullable" in organisations
    assert "column name: default (none), contracted ''::text" in organisations
    assert check(entries["check public.users_login_count_check"], snap).ok
    gone = check(entries["check public.users_gone_check"], snap)
    assert not gone.ok and gone.category is Category.MISSING_SCHEMA and "users_gone_check does not exist" in gone.headline
    assert check(entries["unique public.organisations_name_key"], snap).ok
    assert not check(entries["unique public.organisations_name_key2"], snap).ok
    assert not check(entries["unique public.users_login_count_check"], snap).ok  # a check, not a unique constraint


async def test_at_head_the_advice_does_not_send_the_reader_to_alembic(pg_url: str) -> None:
    snap = await prepared(pg_url)
    entry = TableEntry(name="users", schema="public", columns=["id", "description"])
    behind, at_head = str(check(entry, snap).failure()), str(check(entry, snap, at_head=True).failure())
    assert "Alembic alignment" in behind
    assert "changed outside the migrations" in at_head and "Alembic" not in at_head


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[table]]\nname = "t"\ncolumns = { id = { type = "uuid", nullable = true } }\n', "nullable"),
        ('[[check]]\nname = "c"\ncolumns = ["a"]\n', "'columns' is for [[unique]]"),
        ('[[unique]]\nname = "u"\ncolumns = "a"\n', "columns"),
    ],
)
def test_bad_column_specs_and_constraints_name_the_entry(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=re.escape(problem)):
        contract(tmp_path, text)


async def test_types_of_every_schema_read_match_qualified_or_not(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(
        pg_url, SCHEMA + "CREATE TABLE audit.logins (kind audit.kind, role public.userrole);", ("public", "audit")
    )
    assert snap.tables[("audit", "logins")].columns["kind"].type == "kind"  # the search path is the schemas read
    entries = by_id(
        contract(
            tmp_path,
            """
            schemas = ["public", "audit"]
            [[table]]
            name = "audit.logins"
            columns = { kind = "audit.kind", role = "public.userrole" }
            """,
        ).entries
    )
    assert check(entries["table audit.logins"], snap).ok


# --- the snapshot as a schema.toml (smokeproof init, smokeproof snapshot --format toml) -----------


async def test_a_snapshot_written_as_schema_toml_is_a_contract_its_database_passes(pg_url: str, tmp_path: Path) -> None:
    """Every table, enum, index and foreign key of both schemas, each passing; a domain type is written qualified."""
    snap = await prepared(
        pg_url, SCHEMA + "CREATE DOMAIN posint AS integer CHECK (VALUE > 0); CREATE TABLE counts (n posint);", ("public", "audit")
    )
    path = tmp_path / "schema.toml"
    path.write_text(schema_toml.render(snap, schemas=["public", "audit"], header="written by a test"))
    assert path.read_text().startswith("# written by a test\n")
    entries = by_id(load_schema_contract(path).entries)
    assert {
        "table public.users",
        "table audit.events",
        "enum public.userrole",
        "enum audit.kind",
        "index public.uq_users_email",
        "index public.users_pkey",
        "foreign key public.users(organisation_id) -> organisations(id)",
        "foreign key audit.events(user_id) -> public.users(id)",
    } <= set(entries)
    counts = entries["table public.counts"]
    assert isinstance(counts, TableEntry) and counts.columns == {"n": "public.posint"}
    assert all(check(e, snap).ok for e in entries.values()), [check(e, snap).headline for e in entries.values()]
    # ... and a contract that can fail: the same file against the database after a migration went missing.
    await execute(pg_url, "DROP INDEX uq_users_email; ALTER TABLE users DROP COLUMN active;")
    after = await take(pg_url, ("public", "audit"))
    failed = {e.id for e in entries.values() if not check(e, after).ok}
    assert failed == {"index public.uq_users_email", "table public.users"}
