"""The plain-script floor: the same requests, at most 16 in flight, no test runner (bench/peer.py).

``python floor.py URL N`` exits 1 if any endpoint did not answer 200.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

CONCURRENCY = 16


async def main(url: str, n: int) -> int:
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:

        async def status(path: str) -> int:
            async with gate:
                return (await client.get(path)).status_code

        codes = await asyncio.gather(*(status(f"/e{i}") for i in range(n)))
    return 0 if all(code == 200 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
