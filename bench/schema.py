"""Schema phase: one catalog snapshot vs one query per check, as tables grow; and the drift comparison.

The database holds T tables (each with 4 columns and an index; every tenth with row security, a
policy and a trigger) and 100 enum types; the schema
contract names every one of them. smokeproof reads the catalog once (a fixed number of
statements) and checks every entry in memory; the hand-written suite asks once per check. The
drift comparison is timed on the same snapshot against a baseline of the same database (read
back from its JSON text, then frozen out of the collector's passes, as a run freezes it): the live
document made from the snapshot, then every drift check.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time

import asyncpg

from bench.common import table
from demo.pgcluster import start_cluster
from smokeproof.database import baseline, drift
from smokeproof.database.catalog import CatalogSnapshot, read
from smokeproof.database.schema_contract import EnumEntry, TableEntry, check

ENUMS = 100
SECURED_EVERY = 10  # every tenth table has row security, a policy and a trigger
TOUCH = """CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := now();
    RETURN NEW;
END $$"""
REPEATS = 3  # alternating, medians: the first read after creating thousands of tables meets cold catalog caches


async def populate(url: str, tables: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        statements = [f"CREATE TYPE e{i} AS ENUM ('a', 'b', 'c')" for i in range(ENUMS)]
        statements.append(TOUCH)
        for i in range(tables):
            statements.append(
                f"CREATE TABLE t{i} (id uuid PRIMARY KEY, name varchar(255), kind e{i % ENUMS}, created_at timestamptz)"
            )
            if i % SECURED_EVERY == 0:
                statements += [
                    f"ALTER TABLE t{i} ENABLE ROW LEVEL SECURITY",
                    f"CREATE POLICY t{i}_own ON t{i} USING (name = current_user)",
                    f"CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch()",
                ]
        async with conn.transaction():
            for chunk in range(0, len(statements), 500):
                await conn.execute(";".join(statements[chunk : chunk + 500]))
    finally:
        await conn.close()


async def smokeproof_phase(url: str, tables: int) -> tuple[float, int, int, CatalogSnapshot]:
    entries = [
        TableEntry(name=f"t{i}", schema="public", columns={"id": "uuid", "name": "varchar(255)", "created_at": "timestamptz"})
        for i in range(tables)
    ]
    entries += [EnumEntry(name=f"e{i}", schema="public", labels=["a", "b", "c"]) for i in range(ENUMS)]
    began = time.perf_counter()
    snap = await read(url, schemas=["public"], connect_timeout_s=5, statement_timeout_ms=30_000)
    failures = sum(1 for entry in entries if not check(entry, snap).ok)
    return time.perf_counter() - began, snap.round_trips, failures, snap


def drift_phase(snap: CatalogSnapshot) -> tuple[float, int, int]:
    """Seconds to compare the snapshot with its baseline (the live document, then every object), checks, findings."""
    settings = drift.DriftSettings(json.loads(baseline.dumps(baseline.document(snap))))
    # As in a run: the baseline is loaded at configure and frozen out of the collector's passes with the rest
    # of what the run keeps (pytest_plugin/memory.py); the snapshot, read later, is not.
    gc.freeze()
    try:
        began = time.perf_counter()
        comparison = drift.compare(settings, baseline.Live(snap))
        elapsed = time.perf_counter() - began
    finally:
        gc.unfreeze()
    return elapsed, len(drift.objects(settings)), len(comparison.findings)


async def per_check_phase(url: str, tables: int) -> tuple[float, int]:
    """What a hand-written suite does: one information_schema query per table, one per enum."""
    began = time.perf_counter()
    conn = await asyncpg.connect(url)
    queries = 0
    try:
        for i in range(tables):
            rows = await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
                f"t{i}",
            )
            queries += 1
            assert rows
        for i in range(ENUMS):
            labels = await conn.fetch(
                "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                "WHERE t.typname = $1 ORDER BY e.enumsortorder",
                f"e{i}",
            )
            queries += 1
            assert labels
    finally:
        await conn.close()
    return time.perf_counter() - began, queries


def run(sizes: tuple[int, ...] = (10, 500, 5000)) -> str:
    rows = []
    with start_cluster() as cluster:
        for tables in sizes:
            database = f"bench_{tables}"

            async def measure(database: str = database, tables: int = tables) -> list[str]:
                admin = await asyncpg.connect(cluster.url())
                await admin.execute(f"CREATE DATABASE {database}")
                await admin.close()
                url = cluster.url(database)
                await populate(url, tables)
                snaps, hands, drifts = [], [], []
                for _ in range(REPEATS):
                    snap_s, trips, failures, snap = await smokeproof_phase(url, tables)
                    assert failures == 0
                    drift_s, checks, drift_failures = drift_phase(snap)
                    assert drift_failures == 0
                    hand_s, queries = await per_check_phase(url, tables)
                    snaps.append(snap_s)
                    hands.append(hand_s)
                    drifts.append(drift_s)
                snap_s, hand_s = statistics.median(snaps), statistics.median(hands)
                return [
                    str(tables),
                    str(ENUMS),
                    f"{snap_s * 1000:.0f}",
                    str(trips),
                    f"{hand_s * 1000:.0f}",
                    str(queries),
                    f"{hand_s / snap_s:.1f}x",
                    f"{statistics.median(drifts) * 1000:.1f}",
                    str(checks),
                ]

            rows.append(asyncio.run(measure()))
    return table(
        f"Schema phase (PostgreSQL {cluster.version}, embedded; every table and enum contracted; medians of {REPEATS})",
        [
            "tables",
            "enums",
            "smokeproof ms (connect + snapshot + all checks)",
            "statements",
            "one query per check ms",
            "queries",
            "speed-up",
            "drift comparison ms",
            "drift checks",
        ],
        rows,
    )
