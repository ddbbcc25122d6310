"""Security drift on real PostgreSQL (embedded 18 and Debian 15): row security, policies, triggers, privileges,
functions, domains and composite types, on a small multi-tenant schema (examples/multi_tenant/schema.sql).

The committed baseline (examples/multi_tenant/baseline.json) was made on one major; each major's own
snapshot must write exactly that file, so a baseline replayed on one server checks clean on the other.
Each hand-made change then fails exactly its object's check, with its category; the role map, the
``[drift] roles`` filter, a version-1 baseline and a role refused a catalog are checked too.
To remake the committed file after changing the schema: run this module with SMOKEPROOF_WRITE_BASELINE=1.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo.pgcluster import Cluster
from smokeproof.database import baseline, drift, schema_toml
from smokeproof.database.catalog import read
from smokeproof.database.catalog_queries import ENTRY_KINDS, FOR_DRIFT, left_out
from smokeproof.database.schema_contract import check, load_schema_contract
from smokeproof.errors import Unavailable
from smokeproof.verdict import Category

from .sql import execute
from .suite import lay_out, outcomes, run_suite

EXAMPLE = Path(__file__).parent / "examples" / "multi_tenant"
SCHEMA = (EXAMPLE / "schema.sql").read_text()
COMMITTED = EXAMPLE / "baseline.json"
ROLES = ("smoke_app", "smoke_ops", "smoke_app_live", "smoke_reader")
APP = ("smoke_app",)
SECURITY, SCHEMA_DRIFT, MISSING = Category.SECURITY_DRIFT, Category.SCHEMA_DRIFT, Category.MISSING_SCHEMA

# Changes to the one table with row security, each in a database of its own:
# (case, SQL that makes the difference, its category, words the message of drift public.documents must hold)
TABLE_CASES = [
    ("policy dropped", "DROP POLICY tenant_read ON documents", SECURITY, "missing policy tenant_read"),
    ("no force", "ALTER TABLE documents NO FORCE ROW LEVEL SECURITY", SECURITY, "not forced"),
    ("rls disabled", "ALTER TABLE documents DISABLE ROW LEVEL SECURITY", SECURITY, "row security is off"),
    ("policy using changed", "ALTER POLICY tenant_read ON documents USING (true)", SECURITY, "policy tenant_read: using 'true'"),
    ("trigger dropped", "DROP TRIGGER documents_touch ON documents", SCHEMA_DRIFT, "missing trigger documents_touch"),
    (
        "trigger disabled",
        "ALTER TABLE documents DISABLE TRIGGER documents_audit",
        SCHEMA_DRIFT,
        "trigger documents_audit does not fire",
    ),
]
# Changes to other objects, one each, made together in one database: each must fail its object's check alone.
# {the check that must fail: (SQL that makes the difference, its category, words its message must hold)}
OBJECT_CASES = {
    "drift function public.touch_updated_at()": (
        "CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        SCHEMA_DRIFT,
        "body 'BEGIN RETURN NEW; END'",
    ),
    "drift function public.audit_document()": (
        "ALTER FUNCTION audit_document() SECURITY INVOKER",
        SECURITY,
        "SECURITY DEFINER removed",
    ),
    "drift public.tenants": (
        "GRANT SELECT ON tenants TO PUBLIC; GRANT DELETE ON tenants TO smoke_app",
        SECURITY,
        "every role, including any made later, may SELECT\n    smoke_app may DELETE: more than the migrations grant",
    ),
    "drift public.audit_log": ("REVOKE INSERT ON audit_log FROM smoke_app", SECURITY, "privilege INSERT of smoke_app revoked"),
    "drift function public.document_count(integer)": (
        "DROP FUNCTION document_count(integer)",
        MISSING,
        "missing (the baseline has it)",
    ),
    "drift domain public.email": ("ALTER DOMAIN email DROP CONSTRAINT email_check", SCHEMA_DRIFT, "missing check email_check"),
    "drift type public.address": ("ALTER TYPE address ADD ATTRIBUTE zip text", SCHEMA_DRIFT, "extra attribute zip text"),
    "drift extra objects": (
        "CREATE FUNCTION surprise() RETURNS int LANGUAGE sql RETURN 1",
        SCHEMA_DRIFT,
        "extra function public.surprise()",
    ),
}


def schema(app: str = "smoke_app") -> str:
    return SCHEMA.replace(":app", app)


async def take(url: str) -> baseline.Live:
    return baseline.Live(await read(url, schemas=["public"], connect_timeout_s=5, statement_timeout_ms=5000))


async def create(pg: Cluster, sql: str, *, template: str | None = None) -> str:
    name = f"sec_{uuid.uuid4().hex[:10]}"
    await execute(pg.url(), f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    if sql:
        await execute(pg.url(name), sql)
    return name


@pytest.fixture(scope="session")
async def secured(pg: Cluster) -> AsyncIterator[tuple[Cluster, str]]:
    """A template database with the multi-tenant schema (one per PostgreSQL version), its roles made once."""
    roles = "".join(f"DO $$ BEGIN CREATE ROLE {r}; EXCEPTION WHEN duplicate_object THEN NULL; END $$;" for r in ROLES)
    await execute(pg.url(), roles + "ALTER ROLE smoke_reader LOGIN")
    name = await create(pg, schema())
    yield pg, name
    await execute(pg.url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def copy(secured: tuple[Cluster, str]) -> AsyncIterator[str]:
    pg, name = secured
    copied = await create(pg, "", template=name)
    yield pg.url(copied)
    await execute(pg.url(), f'DROP DATABASE IF EXISTS "{copied}" WITH (FORCE)')


def committed() -> baseline.Document:
    return baseline.load(COMMITTED)


def failures(doc: baseline.Document, live: baseline.Live, **settings: object) -> dict[str, tuple[Category | None, str]]:
    """{check id: (category, failure message)} of every failing drift check."""
    chosen = drift.DriftSettings(doc, **settings)  # type: ignore[arg-type]
    comparison = drift.compare(chosen, live)
    found = {}
    for obj in drift.objects(chosen):
        try:
            verdict = drift.check(obj, comparison, drift.advice(None))
        except Unavailable:  # the run skips it
            continue
        if not verdict.ok:
            found[obj.id] = (verdict.category, str(verdict.failure()))
    return found


async def test_each_major_writes_the_committed_baseline(secured: tuple[Cluster, str]) -> None:
    """The baseline made on one major checks clean on the other: both write the same document."""
    pg, name = secured
    written = baseline.dumps(baseline.document((await take(pg.url(name))).snap))
    if os.environ.get("SMOKEPROOF_WRITE_BASELINE"):
        COMMITTED.write_text(written)
    assert json.loads(written) == json.loads(COMMITTED.read_text())
    assert failures(committed(), await take(pg.url(name)), roles=("smoke_app", "smoke_ops")) == {}


def test_the_committed_baseline_holds_every_kind() -> None:
    doc = committed()
    documents = doc["tables"]["public.documents"]
    assert documents["rls"] and documents["force_rls"]
    assert set(documents["policies"]) == {"tenant_read", "tenant_write"}
    assert set(documents["triggers"]) == {"documents_audit", "documents_touch"}
    assert documents["privileges"] == {"smoke_app": ["SELECT", "UPDATE"]}
    assert doc["tables"]["public.audit_log"]["privileges"] == {"smoke_app": ["INSERT"]}
    assert "MAINTAIN" not in doc["tables"]["public.tenants"]["privileges"]["smoke_ops"]  # PostgreSQL 17 on: left out
    assert set(doc["functions"]) == {
        "public.archive(timestamp with time zone)",
        "public.audit_document()",
        "public.document_count(integer)",
        "public.title_of(documents)",
        "public.touch_updated_at()",
    }
    assert doc["functions"]["public.document_count(integer)"]["body"].startswith("BEGIN ATOMIC SELECT count(*)")
    assert doc["functions"]["public.audit_document()"]["privileges"] == {}  # EXECUTE revoked from PUBLIC
    assert doc["domains"]["public.email"] == {
        "type": "text",
        "not_null": True,
        "checks": {"email_check": "CHECK ((VALUE ~ '^[^@]+@[^@]+$'::text))"},
    }
    assert doc["types"]["public.address"] == {"attributes": ["street text", "city character varying(80)"]}


@pytest.mark.parametrize(("sql", "category", "words"), [pytest.param(*c[1:], id=c[0]) for c in TABLE_CASES])
async def test_each_change_to_the_table_fails_its_check(copy: str, sql: str, category: Category, words: str) -> None:
    await execute(copy, sql)
    failed = failures(committed(), await take(copy), roles=APP)
    assert set(failed) == {"drift public.documents"}, failed
    assert failed["drift public.documents"][0] is category, failed
    assert words in failed["drift public.documents"][1], failed


async def test_each_change_to_another_object_fails_exactly_its_check(copy: str) -> None:
    await execute(copy, ";".join(sql for sql, _, _ in OBJECT_CASES.values()))
    failed = failures(committed(), await take(copy), roles=APP)
    assert set(failed) == set(OBJECT_CASES), failed
    for check_id, (_, category, words) in OBJECT_CASES.items():
        assert failed[check_id][0] is category, (check_id, failed[check_id])
        assert words in failed[check_id][1], (check_id, failed[check_id][1])


async def test_privileges_are_compared_for_the_listed_roles_and_public_only(copy: str) -> None:
    await execute(copy, "REVOKE ALL ON tenants FROM smoke_ops; REVOKE UPDATE ON documents FROM smoke_app")
    assert set(failures(committed(), await take(copy))) == set()  # neither role listed
    failed = failures(committed(), await take(copy), roles=("smoke_ops",))
    assert (
        set(failed) == {"drift public.tenants"} and "privilege SELECT of smoke_ops revoked" in failed["drift public.tenants"][1]
    )


async def test_role_map_reads_live_role_names_as_the_baselines(secured: tuple[Cluster, str]) -> None:
    pg, _ = secured
    name = await create(pg, schema("smoke_app_live"))
    try:
        live = await take(pg.url(name))
        assert failures(committed(), live, roles=APP, role_map={"smoke_app": "smoke_app_live"}) == {}
        unmapped = failures(committed(), live, roles=APP)
        assert set(unmapped) == {"drift public.documents", "drift public.tenants", "drift public.audit_log"}
        assert "policy tenant_read: roles ['smoke_app_live']" in unmapped["drift public.documents"][1]
    finally:
        await execute(pg.url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_a_version_1_baseline_loads_and_leaves_the_new_kinds_out(copy: str, tmp_path: Path) -> None:
    doc = committed()
    old = {k: v for k, v in doc.items() if k not in ("functions", "domains", "types")} | {"format_version": 1}
    for table in old["tables"].values():
        for part in ("rls", "force_rls", "policies", "triggers", "privileges"):
            table.pop(part, None)
    path = tmp_path / "v1.json"
    path.write_text(baseline.dumps(old))
    loaded = baseline.load(path)
    await execute(copy, "ALTER TABLE documents DISABLE ROW LEVEL SECURITY; DROP FUNCTION document_count(integer)")
    assert failures(loaded, await take(copy), roles=APP) == {}
    note = drift.DriftSettings(loaded).note
    assert note is not None and "predates row security" in note and "smokeproof baseline" in note
    assert drift.DriftSettings(doc).note is None
    await execute(copy, "ALTER TABLE documents DROP COLUMN shipping")  # what version 1 has is still compared
    assert set(failures(loaded, await take(copy))) == {"drift public.documents"}


async def test_a_catalog_the_role_may_not_read_is_not_compared_never_drift(copy: str) -> None:
    await execute(
        copy, "REVOKE SELECT ON pg_catalog.pg_proc FROM PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA public TO smoke_reader"
    )
    url = copy.replace("postgres@", "smoke_reader@", 1)
    live = await take(url)
    assert live.unreadable == {"functions"}
    chosen = drift.DriftSettings(committed(), roles=APP)
    comparison = drift.compare(chosen, live)
    checks = {obj.id: obj for obj in drift.objects(chosen)}
    with pytest.raises(Unavailable, match=r"cannot be compared: permission \(the role may not read pg_catalog.pg_proc"):
        drift.check(checks["drift function public.audit_document()"], comparison, drift.advice(None))
    assert failures(committed(), live, roles=APP) == {}  # the functions skipped (Unavailable), the rest compared
    assert "drift extra objects" not in comparison.findings


async def test_schema_toml_requires_row_security_policies_triggers_and_functions(copy: str, tmp_path: Path) -> None:
    snap = (await take(copy)).snap
    text = schema_toml.render(snap, schemas=["public"])
    assert "rls = true" in text and "force_rls = true" in text
    assert 'signature = "document_count(integer)"' in text and "[[policy]]" in text and "[[trigger]]" in text
    path = tmp_path / "schema.toml"
    path.write_text(text)
    contract = load_schema_contract(path)
    assert all(check(entry, snap).ok for entry in contract.entries)
    ids = {entry.id for entry in contract.entries}
    assert {"policy tenant_read on public.documents", "trigger documents_audit on public.documents"} <= ids
    assert "function public.document_count(integer)" in ids
    await execute(
        copy,
        "ALTER TABLE documents NO FORCE ROW LEVEL SECURITY; DROP POLICY tenant_write ON documents; "
        "ALTER TABLE documents DISABLE TRIGGER documents_touch; DROP PROCEDURE archive(timestamptz)",
    )
    changed = (await take(copy)).snap
    failed = {entry.id: str(v.failure()) for entry in contract.entries if not (v := check(entry, changed)).ok}
    assert set(failed) == {
        "table public.documents",
        "policy tenant_write on public.documents",
        "trigger documents_touch on public.documents",
        "function public.archive(timestamp with time zone)",
    }, failed
    assert "row security is not forced" in failed["table public.documents"]
    assert "does not fire" in failed["trigger documents_touch on public.documents"]


async def test_a_run_without_drift_reads_only_what_its_schema_contract_compares(copy: str, tmp_path: Path) -> None:
    """No [drift]: the read leaves out what only drift compares (about 40% of PostgreSQL's work per tenant) and keeps
    what the contract's policy, trigger and function entries need; a kind left out never reads as refused."""
    full = (await take(copy)).snap
    path = tmp_path / "schema.toml"
    path.write_text(schema_toml.render(full, schemas=["public"]))
    contract = load_schema_contract(path)
    kinds = [entry.kind for entry in contract.entries]
    assert left_out(kinds, drift=True) == frozenset()
    bare = left_out([kind for kind in kinds if kind not in ENTRY_KINDS], drift=False)  # tables, enums, indexes, keys
    assert bare == frozenset(FOR_DRIFT)
    lean = await read(copy, schemas=["public"], connect_timeout_s=5, statement_timeout_ms=5000, omit=bare)
    assert lean.omitted == bare and lean.security.unreadable == frozenset()
    assert (lean.tables, lean.enums, lean.indexes) == (full.tables, full.enums, full.indexes)
    assert (lean.foreign_keys, lean.constraints) == (full.foreign_keys, full.constraints)
    assert lean.security.relations == full.security.relations  # row security and grants come with the tables
    assert full.security.policies and not lean.security.policies and not lean.security.routines
    needed = left_out(kinds, drift=False)  # the whole contract: its policies, triggers and functions are read
    assert not needed & {"policies", "triggers", "functions"}
    snap = await read(copy, schemas=["public"], connect_timeout_s=5, statement_timeout_ms=5000, omit=needed)
    failing = [entry.id for entry in contract.entries if not check(entry, snap).ok]
    assert failing == [], failing


@pytest.mark.slow
async def test_a_suite_run_sorts_security_drift_first_and_heads_an_old_baseline(
    pytester: pytest.Pytester, copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a user runs it: the table's drift test fails as Security drift; a version-1 baseline is named in the header."""
    if "debian15" in os.environ.get("PYTEST_CURRENT_TEST", ""):
        pytest.skip("the reports do not depend on the PostgreSQL major: run on the embedded server only")
    await execute(copy, "ALTER TABLE documents DISABLE ROW LEVEL SECURITY; REVOKE UPDATE ON documents FROM smoke_app")
    lay_out(pytester.path)
    monkeypatch.setenv("APP_ROLE", "smoke_app")  # a role from the environment is shown, not masked
    old = {k: v for k, v in committed().items() if k not in ("functions", "domains", "types")} | {"format_version": 1}
    for table in old["tables"].values():
        for part in ("rls", "force_rls", "policies", "triggers", "privileges"):
            table.pop(part, None)
    (tmp_path / "v1.json").write_text(baseline.dumps(old))
    for version, path in (("2", COMMITTED), ("1", tmp_path / "v1.json")):
        env = pytester.path / f"v{version}.toml"
        env.write_text(
            f'production = false\nbase_url = "http://127.0.0.1:9"\ndatabase_url = "{copy}"\n[drift]\nbaseline = "{path}"\nroles = ["${{APP_ROLE}}"]\n'
        )
        result = run_suite(pytester, f"--env-file={env}", "-m", "drift")
        seen = outcomes(result)
        summary = (pytester.path / "reports" / "summary.md").read_text()
        if version == "2":
            assert {k for k, v in seen.items() if v == "failed"} == {"drift public.documents"}, seen
            out = result.stdout.str()
            assert "row security is off: every role with SELECT reads every tenant's rows" in out
            assert "Security drift" in out.split("category:", 1)[1][:40]
            assert "privilege UPDATE of smoke_app revoked" in out  # roles = ["${APP_ROLE}"]: compared, and shown
            assert "drift baseline" not in summary
        else:
            assert "failed" not in seen.values(), seen
            assert "- **drift baseline**: format_version 1: predates row security" in summary
    categories = json.loads((pytester.path / "reports" / "allure-results" / "categories.json").read_text())
    assert categories[0]["name"] == "Security drift"


def test_drift_roles_and_role_map_from_the_environment_are_shown_not_masked(tmp_path: Path) -> None:
    from smokeproof.config.environment import load

    (tmp_path / "b.json").write_text(COMMITTED.read_text())
    (tmp_path / "e.toml").write_text(
        'production = false\ndatabase_url = "postgresql://u:${DB_PW}@h/db"\n'
        '[drift]\nbaseline = "b.json"\nroles = ["smoke_app"]\nrole_map = { smoke_app = "${APP_ROLE}" }\n'
    )
    env = load(tmp_path / "e.toml", name="e", rootdir=tmp_path, environ={"APP_ROLE": "app_prod_7", "DB_PW": "pw-canary-9"})
    assert env.drift is not None and env.drift.roles == ("smoke_app",) and env.drift.role_map == {"smoke_app": "app_prod_7"}
    assert env.redactor("app_prod_7 pw-canary-9") == "app_prod_7 ***"
    settings = drift.load_settings(env.drift, schemas=["public"])
    assert settings.roles == ("smoke_app",) and settings.role_map == {"smoke_app": "app_prod_7"}
