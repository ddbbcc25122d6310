"""The best suite a team writes by hand: every request sent at once from one session fixture.

pytest + pytest-asyncio + httpx; at most 16 requests in flight (an ``asyncio.Semaphore``), as
smokeproof's default ``[http] concurrency``. The target and the endpoint count come from
``PEER_URL`` and ``PEER_N`` (set by bench/peer.py).
"""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

URL = os.environ.get("PEER_URL", "http://127.0.0.1:9")
PATHS = [f"/e{i}" for i in range(int(os.environ.get("PEER_N", "0")))]
CONCURRENCY = 16


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "path" in metafunc.fixturenames:
        metafunc.parametrize("path", PATHS)


@pytest.fixture(scope="session")
async def answers() -> dict[str, int]:
    """Every endpoint's status, fetched once, all at once."""
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=URL, timeout=10, limits=limits) as client:

        async def status(path: str) -> int:
            async with gate:
                return (await client.get(path)).status_code

        codes = await asyncio.gather(*(status(path) for path in PATHS))
    return dict(zip(PATHS, codes, strict=True))
