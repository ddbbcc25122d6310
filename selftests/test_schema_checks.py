"""The catalog snapshot and the schema contract, on real PostgreSQL (embedded 18 and Debian 15)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import asyncpg
import pytest

from smokeproof.catalog import CatalogSnapshot, connect_readonly, snapshot
from smokeproof.errors import UsageError
from smokeproof.schema_contract import SchemaContract, check, load_schema_contract, normalise_type

SCHEMA = """
CREATE TYPE role AS ENUM ('super_admin', 'admin', 'viewer');
CREATE TABLE users (id uuid PRIMARY KEY, email varchar(255) NOT NULL, tags text[], n int8, active bool, at timestamptz);
CREATE TABLE grants (id uuid PRIMARY KEY, user_id uuid REFERENCES users(id), role role NOT NULL);
CREATE INDEX ix_grants_user_id ON grants (user_id);
CREATE UNIQUE INDEX uq_users_email ON users (email);
CREATE SCHEMA audit;
CREATE TABLE audit.events (id bigint PRIMARY KEY);
"""


STATEMENTS: list[str] = []


async def prepared(url: str, sql: str = SCHEMA, schemas: tuple[str, ...] = ("public",)) -> CatalogSnapshot:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()
    conn = await connect_readonly(url, connect_timeout_s=5, statement_timeout_ms=5000)
    STATEMENTS.clear()
    conn.add_query_logger(lambda record: STATEMENTS.append(record.query))  # counted by the driver, not by us
    try:
        return await snapshot(conn, schemas=list(schemas))
    finally:
        await conn.close()


def contract(tmp_path: Path, text: str) -> SchemaContract:
    path = tmp_path / "schema.toml"
    path.write_text(textwrap.dedent(text))
    return load_schema_contract(path)


async def test_snapshot_reads_every_kind(pg_url: str) -> None:
    snap = await prepared(pg_url)
    users = snap.tables[("public", "users")]
    assert users.columns["email"].type == "character varying(255)" and users.columns["email"].not_null
    assert users.columns["at"].type == "timestamp with time zone"
    assert users.columns["tags"].type == "text[]"
    assert snap.tables[("public", "grants")].columns["role"].type == "role"
    assert snap.enums[("public", "role")].labels == ("super_admin", "admin", "viewer")
    assert snap.indexes[("public", "uq_users_email")].unique and snap.indexes[("public", "uq_users_email")].valid
    fk = next(f for f in snap.foreign_keys if f.table == "grants")
    assert (fk.columns, fk.ref_table, fk.ref_columns) == (("user_id",), "users", ("id",))
    assert snap.alembic_revisions is None  # no version table
    assert ("audit", "events") not in snap.tables  # only the configured schemas


async def test_second_schema_and_alembic_rows(pg_url: str) -> None:
    sql = SCHEMA + "CREATE TABLE audit.alembic_version (version_num varchar(32) PRIMARY KEY);"
    sql += "INSERT INTO audit.alembic_version VALUES ('aaa'), ('bbb');"
    snap = await prepared(pg_url, sql, ("public", "audit"))
    assert ("audit", "events") in snap.tables
    assert snap.alembic_revisions == ("aaa", "bbb")  # one row per head


async def test_enum_labels_follow_enumsortorder(pg_url: str) -> None:
    snap = await prepared(pg_url, SCHEMA + "ALTER TYPE role ADD VALUE 'client_admin' BEFORE 'admin';")
    assert snap.enums[("public", "role")].labels == ("super_admin", "client_admin", "admin", "viewer")


async def test_invalid_index_is_reported(pg_url: str, tmp_path: Path) -> None:
    sql = SCHEMA + "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_grants_user_id'::regclass;"
    snap = await prepared(pg_url, sql)
    entry = contract(tmp_path, '[[index]]\nname = "ix_grants_user_id"\ntable = "grants"\n').entries[0]
    verdict = check(entry, snap)
    assert not verdict.ok and "INVALID" in str(verdict.failure())


async def test_round_trips_do_not_grow_with_the_schema(pg: object, pg_url: str) -> None:
    small = await prepared(pg_url, "".join(f"CREATE TABLE s{i} (id int);" for i in range(5)))
    small_statements = len(STATEMENTS)
    big_sql = "".join(f"CREATE TYPE e{i} AS ENUM ('a');" for i in range(50))
    big_sql += "".join(f"CREATE TABLE b{i} (id int PRIMARY KEY, v text);" for i in range(200))
    big = await prepared(pg_url, big_sql)
    assert len(big.tables) == 205 and len(big.enums) == 50
    assert len(STATEMENTS) == small_statements  # as issued on the wire
    assert big.round_trips == small.round_trips


async def test_every_difference_of_an_object_is_listed_at_once(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(pg_url)
    entries = contract(
        tmp_path,
        """
        [[table]]
        name = "users"
        columns = { id = "uuid", email = "text", missing_one = "int", missing_two = "bool" }
        [[enum]]
        name = "role"
        labels = ["viewer", "super_admin", "analyst"]
    """,
    ).entries
    table = str(check(entries[0], snap).failure())
    assert "column email: expected text, got character varying(255)" in table
    assert "missing column missing_one (integer)" in table and "missing column missing_two (boolean)" in table
    enum = str(check(entries[1], snap).failure())
    assert "missing label 'analyst'" in enum and "labels out of order" in enum


async def test_exact_enum_and_missing_objects(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(pg_url)
    entries = contract(
        tmp_path,
        """
        [[enum]]
        name = "role"
        labels = ["super_admin", "viewer"]
        exact = true
        [[enum]]
        name = "hierarchylevel"
        labels = ["organization"]
        [[table]]
        name = "user_hierarchy_assignments"
        [[index]]
        name = "ix_grants_user_id"
        table = "grants"
        unique = true
        [[index]]
        name = "ix_nope"
        [[foreign_key]]
        table = "grants"
        columns = ["user_id"]
        references = "users(id)"
        [[foreign_key]]
        table = "grants"
        columns = ["role"]
        references = "roles"
    """,
    ).entries
    results = {e.id: check(e, snap) for e in entries}  # entries come grouped by kind: look them up by id
    assert "extra label 'admin'" in str(results["enum public.role"].failure())
    missing_enum = results["enum public.hierarchylevel"]
    assert missing_enum.actual == "missing" and "type public.hierarchylevel does not exist" in missing_enum.headline
    assert (
        "relation public.user_hierarchy_assignments does not exist" in results["table public.user_hierarchy_assignments"].headline
    )
    assert "index is not unique" in str(results["index public.ix_grants_user_id"].failure())
    assert not results["index public.ix_nope"].ok
    assert results["foreign key public.grants(user_id) -> users(id)"].ok
    assert not results["foreign key public.grants(role) -> roles"].ok


async def test_aliases_and_relative_label_order(pg_url: str, tmp_path: Path) -> None:
    snap = await prepared(pg_url)
    entries = contract(
        tmp_path,
        """
        [[table]]
        name = "users"
        columns = { email = "varchar(255)", at = "timestamptz", n = "int8", active = "bool", tags = "text[]" }
        [[enum]]
        name = "role"
        labels = ["super_admin", "viewer"]
    """,
    ).entries
    assert all(check(e, snap).ok for e in entries)
    assert normalise_type("VARCHAR( 255 )") == "character varying(255)"
    assert normalise_type("int[]") == "integer[]"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param('[[table]]\nname = "t"\ncolumns = { a = "intger" }\n', "unknown column type 'intger'", id="typo-type"),
        pytest.param('[[table]]\nname = "t"\ncolums = ["a"]\n', "unknown key 'colums'", id="unknown-entry-key"),
        pytest.param('[[tabel]]\nname = "t"\n', "unknown key(s) tabel", id="unknown-top-level"),
        pytest.param('[[table]]\nname = "t"\n[[table]]\nname = "t"\n', "duplicate entry 'table public.t'", id="duplicate"),
        pytest.param('[[enum]]\nname = "e"\nexact = "yes"\n', "key 'exact'", id="wrong-type"),
        pytest.param("[[table]\n", "invalid TOML", id="invalid-toml"),
        pytest.param("schemas = []\n", "'schemas' must be a non-empty list", id="no-schemas"),
    ],
)
def test_bad_schema_files_name_file_and_entry(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        contract(tmp_path, text)
    assert problem in str(caught.value) and str(tmp_path / "schema.toml") in str(caught.value)


def test_typo_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="did you mean integer"):
        contract(tmp_path, '[[table]]\nname = "t"\ncolumns = { a = "intger" }\n')


async def test_qualified_enum_types_and_spaced_references(pg_url: str, tmp_path: Path) -> None:
    """``public.role`` is how a contract may name the type; format_type() prints ``role``."""
    snap = await prepared(pg_url)
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
