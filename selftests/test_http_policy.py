"""One HTTP policy for every request (smokeproof.http.policy), against real loopback servers.

Redirects: an entry that follows them never sends its credentials off its origin (not even to
plain http on the same host and port), and a 307/308 POST arrives with its body. Proxy variables in
the process environment reach no client. A content type with parameters matches as a media type.
A ``[revision] url`` is a path with its leading slash or an absolute URL, and one that cannot be
reached does not mark the target down.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

import smokeproof
from smokeproof.cli import openapi
from smokeproof.errors import UsageError
from smokeproof.run import SmokeRun
from smokeproof.verdict import Category
from smokeproof.wait import plan_for, wait_for_revision

from .probing import contracts, environment, judge_all
from .servers import Route, Server, refused_url, serve


@contextmanager
def tls_then_plain() -> Iterator[tuple[str, list[bytes]]]:
    """One loopback port that speaks TLS and plain HTTP (told apart by the first byte, as no framework does).

    Over TLS every request is redirected to ``http://`` on the same host and port; what arrives in
    plain text is recorded, headers and all.
    """
    cert = trustme.CA().issue_cert("127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    plain: list[bytes] = []
    stop = threading.Event()

    def head(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        if conn.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS handshake
            tls = context.wrap_socket(conn, server_side=True)
            head(tls)
            location = f"http://127.0.0.1:{port}/landing".encode()
            tls.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            tls.close()
        else:
            plain.append(head(conn))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.close()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                handle(conn)
            except OSError:
                conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}", plain
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


async def test_a_redirect_to_plain_http_on_the_same_host_is_reported_and_sends_no_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_TOKEN", "canary-token-9917")
    with tls_then_plain() as (url, plain):
        env = environment(tmp_path, url, '[http]\nverify_tls = false\n[auth]\nbearer_token = "${CANARY_TOKEN}"\n')
        text = """
            [[endpoint]]
            path = "/account"
            status = 200
            auth = "bearer"
            headers = { Cookie = "session=canary-cookie-5520" }
            follow_redirects = true
        """
        verdict = (await judge_all(env, contracts(tmp_path, text, env)))["GET /account -> 200"]
    assert plain == [], plain  # nothing went out in plain text: no token, no cookie
    assert not verdict.ok and verdict.category is Category.CONTRACT
    assert verdict.headline.endswith("expected 200, got 302 in " + verdict.actual.split(" in ")[1])
    landing = f"http://127.0.0.1:{url.rsplit(':', 1)[1]}/landing"
    assert f"redirects off its origin (https to http, or another port): {landing} (not followed)" in str(verdict.failure())


@dataclass
class Recording(Server):
    """A :class:`Server` that reads every request's body and records (method, path, body)."""

    received: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            body = await Request(scope, receive).body()
            self.received.append((scope["method"], scope["path"], body))
        await super().__call__(scope, receive, send)


async def test_redirected_posts_keep_or_drop_their_body_as_http_says(tmp_path: Path) -> None:
    """307 and 308 repeat the POST with its body; 303 is a GET without one. Neither hangs on a body never sent."""
    server = Recording(
        routes={
            "/old": Route(status=307, body="", headers={"Location": "/new"}),
            "/moved": Route(status=308, body="", headers={"Location": "/new"}),
            "/created": Route(status=303, body="", headers={"Location": "/done"}),
            "/new": Route(status=201),
            "/done": Route(),
        }
    )
    entries = "".join(
        f'[[endpoint]]\nmethod = "POST"\npath = "{path}"\njson = {{ name = "x" }}\nstatus = {status}\nfollow_redirects = true\n'
        for path, status in (("/old", 201), ("/moved", 201), ("/created", 200))
    )
    with serve(server):
        env = environment(tmp_path, server.url, "[http]\ntimeout_s = 3\n")
        result = await judge_all(env, contracts(tmp_path, entries, env))
    assert {test_id: v.ok for test_id, v in result.items()} == {
        "POST /old -> 201": True,
        "POST /moved -> 201": True,
        "POST /created -> 200": True,
    }, [v.headline for v in result.values()]
    arrived = [entry for entry in server.received if entry[1] in ("/new", "/done")]
    assert sorted(arrived) == [("GET", "/done", b""), ("POST", "/new", b'{"name": "x"}'), ("POST", "/new", b'{"name": "x"}')]


OPENAPI = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}


async def test_proxy_variables_reach_no_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks, a token request, the wait and ``init --openapi`` all go straight to the target, never to a proxy."""
    proxy = Server()
    target = Server(
        routes={
            "/open": Route(),
            "/login": Route(body='{"access_token": "minted-token-4410"}'),
            "/health": Route(body='{"alembic_revision": "new"}'),
            "/openapi.json": Route(body=json.dumps(OPENAPI)),
        }
    )
    with serve(proxy), serve(target):
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        login = '[http]\nheaders = { "X-Client" = "smoke-suite" }\n[auth.login.admin]\npath = "/login"\nform = { user = "a" }\n'
        env = environment(tmp_path, target.url, login + '[wait]\nurl = "/health"\nconsecutive = 1\ninterval_s = 0.05\n')
        text = '[[endpoint]]\npath = "/open"\nstatus = 200\n[[endpoint]]\nid = "as admin"\npath = "/open"\nstatus = 200\nauth = "admin"\n'
        result = await judge_all(env, contracts(tmp_path, text, env))
        plan = plan_for(env, "new")
        assert plan is not None
        outcome = await wait_for_revision(plan)
        document = openapi.fetch(target.url + "/openapi.json")
    assert all(v.ok for v in result.values()), [v.headline for v in result.values()]
    assert outcome.converged and document["openapi"] == "3.1.0"
    assert sum(proxy.hits.values()) == 0, proxy.hits
    assert target.hits["/login"] == 1 and target.hits["/health"] == 1 and target.hits["/openapi.json"] == 1
    assert target.seen_headers["/login"]["x-client"] == "smoke-suite"  # [http] headers: every request to the target


async def test_a_content_type_with_parameters_matches_as_a_media_type(tmp_path: Path) -> None:
    server = Recording(
        routes={
            "/utf8": Route(content_type="application/json; charset=UTF-8"),
            "/bare": Route(content_type="application/json"),
            "/latin": Route(content_type="application/json; charset=latin-1"),
        }
    )
    entries = """
        [[endpoint]]
        path = "/utf8"
        status = 200
        content_type = "application/json; charset=utf-8"
        [[endpoint]]
        id = "case"
        path = "/utf8"
        status = 200
        content_type = "Application/JSON"
        [[endpoint]]
        path = "/bare"
        status = 200
        content_type = "application/json; charset=utf-8"
        [[endpoint]]
        path = "/latin"
        status = 200
        content_type = "application/json; charset=utf-8"
    """
    with serve(server):
        env = environment(tmp_path, server.url)
        result = await judge_all(env, contracts(tmp_path, entries, env))
    assert result["GET /utf8 -> 200"].ok and result["case -> 200"].ok
    bare, latin = str(result["GET /bare -> 200"].failure()), str(result["GET /latin -> 200"].failure())
    assert "content type application/json, expected application/json; charset=utf-8" in bare
    assert "content type application/json; charset=latin-1, expected application/json; charset=utf-8" in latin


@pytest.mark.parametrize("key", ["[revision]", "[wait]"])
def test_a_revision_url_without_its_leading_slash_is_bad_input(tmp_path: Path, key: str) -> None:
    with pytest.raises(UsageError, match=r"key '(revision|wait)\.url': must be a path on base_url starting with '/'") as caught:
        environment(tmp_path, "https://app.example", f'{key}\nurl = "api/v1/health"\n')
    assert str(tmp_path / "env.toml") in str(caught.value)


def test_a_json_pointer_that_is_not_one_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"key 'revision\.json_pointer': not an RFC 6901 JSON pointer"):
        environment(tmp_path, "https://app.example", '[revision]\nurl = "/health"\njson_pointer = "alembic_revision"\n')


async def test_an_absolute_revision_url_is_asked_there_and_its_failure_leaves_the_target_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revision comes from another service; [http] headers stay with the target; a refused one is not the target down."""
    monkeypatch.setenv("TARGET_KEY", "target-key-3381")
    target, version = Server(routes={"/open": Route()}), Server(routes={"/version": Route(body='{"build": {"heads": ["abc"]}}')})
    entries = '[[endpoint]]\npath = "/open"\nstatus = 200\n'
    headers = '[http]\nheaders = { "X-Target-Key" = "${TARGET_KEY}" }\n'
    with serve(target), serve(version):
        for where, expected in ((f"{version.url}/version", ("abc",)), (f"{refused_url()}/version", ())):
            env = environment(tmp_path, target.url, f'{headers}[revision]\nurl = "{where}"\njson_pointer = "/build/heads"\n')
            entries_ = contracts(tmp_path, entries, env)
            run = SmokeRun(env=env, contracts=entries_)
            try:
                async with asyncio.timeout(30):  # a bound against a hang, not a speed test
                    revision = await asyncio.wrap_future(run.database.expected_future())
                assert revision is not None and revision.heads == expected, revision
                if not expected:
                    assert revision.error is not None and revision.error.startswith(f"GET {where}: unreachable: ")
                run.select(entries_)
                assert (await run.endpoint(entries_[0])).ok  # the target is up, whatever the revision URL did
            finally:
                await run.aclose()
    assert version.hits["/version"] == 1 and "x-target-key" not in version.seen_headers["/version"]
    assert target.seen_headers["/open"]["x-target-key"] == "target-key-3381"


def test_the_http_side_imports_nothing_from_the_database_side() -> None:
    """Data flows one way: http/ never reaches into database/, and the wait takes its JSON pointer from jsonpointer."""
    import ast

    package = Path(smokeproof.__file__).parent
    found = []
    for module in [*sorted((package / "http").glob("*.py")), package / "wait.py"]:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("smokeproof.database"):
                names = {alias.name for alias in node.names}
                if module.name != "wait.py" or "json_pointer" in names:  # the wait asks revision_source for split()
                    found.append(f"{module.relative_to(package)}: {node.module} {sorted(names)}")
    assert found == []
