"""Real HTTP servers on loopback for the self-tests.

``Server`` serves a table of routes (status, delay, body, headers) with uvicorn in a background
thread and records what it saw: hits per path and the most requests in flight at once (so a test
can assert that probes overlapped without timing anything). ``raw_server`` serves misbehaving
peers that no well-behaved framework produces: a socket that accepts and never answers, one that
resets mid-response.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

SEEN = "/_seen"
PUBLIC_ENDPOINTS = """\
[[endpoint]]
path = "/api/v1/public"
status = 200
"""  # the contract file of the `public_api` fixture's one route  # answers the paths requested so far, for a test running in another process


@dataclass
class Route:
    status: int = 200
    body: str | bytes = '{"ok": true}'
    content_type: str = "application/json"
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    gate: threading.Event | None = None  # when set: hold the answer until the test opens the gate


@dataclass
class Server:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    seen_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = 0
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_certfile else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = request.url.path
        self.hits[path] += 1
        self.seen_headers[path] = dict(request.headers)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self.routes.get(path, Route(status=404, body='{"detail": "Not Found"}'))
            if path == SEEN:
                route = Route(body=json.dumps(sorted(self.hits)))
            if route.delay_s:
                await asyncio.sleep(route.delay_s)
            while route.gate is not None and not route.gate.is_set():
                await asyncio.sleep(0.01)
            response = Response(route.body, status_code=route.status, media_type=route.content_type, headers=route.headers)
        finally:
            self.in_flight -= 1
        await response(scope, receive, send)


S = TypeVar("S")


@contextmanager
def serve(server: S) -> Iterator[S]:
    """Run ``server`` (an ASGI app with a ``port`` attribute) on a free loopback port for the duration of the block."""
    certfile, keyfile = getattr(server, "ssl_certfile", None), getattr(server, "ssl_keyfile", None)
    with serve_app(server, ssl_certfile=certfile, ssl_keyfile=keyfile) as url:  # type: ignore[arg-type]
        server.port = int(url.rsplit(":", 1)[1])  # type: ignore[attr-defined]
        yield server


@contextmanager
def serve_app(app: ASGIApp, *, ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> Iterator[str]:
    """Run any ASGI ``app`` on a free loopback port (uvicorn in a thread); yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="error",
        access_log=False,
        lifespan="off",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    port = runner.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"{'https' if ssl_certfile else 'http'}://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(timeout=10)


@contextmanager
def raw_server(behaviour: str) -> Iterator[str]:
    """A loopback peer that misbehaves: ``silent`` (accepts, never answers) or ``reset`` (RST mid-response)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if behaviour == "reset":
                conn.recv(65536)
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":')
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def refused_url() -> str:
    """A loopback URL on which nothing listens (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
