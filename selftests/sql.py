"""Changing a self-test's database by hand: what a person with psql would do to a deployed one."""

from __future__ import annotations

import asyncpg


async def execute(url: str, sql: str) -> None:
    """Run ``sql`` (one or more statements) on the database at ``url``, on a connection of its own."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
