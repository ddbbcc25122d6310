"""Endpoint contracts against real loopback servers: every key, every failure kind."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from smokeproof.http.probe import overlapped
from smokeproof.run import SmokeRun, Unavailable
from smokeproof.verdict import Category

from .probing import contracts, environment, judge_all
from .servers import SEEN, Route, Server, serve
from .suite import lay_out, outcomes, run_suite


@pytest.fixture
def server() -> Server:
    app = Server(
        routes={
            "/me": Route(status=401, body='{"detail": "Not authenticated"}'),
            "/boom": Route(status=500, body='{"detail": "relation \\"user_hierarchy_assignments\\" does not exist"}'),
            "/open": Route(status=200, body='{"flags": []}'),
            "/login": Route(body='{"auth_url": "https://tenant.example/authorize?client_id=x&state=y"}'),
            "/bad-login": Route(body='{"auth_url": "http://evil.example/login"}'),
            "/not-json": Route(body="<html>oops</html>", content_type="application/json"),
            "/html": Route(body="<html>hi</html>", content_type="text/html"),
            "/slow": Route(delay_s=0.3),
            "/redirect": Route(status=302, body="", headers={"Location": "/open"}),
            "/big": Route(body=b"x" * 3_000_000, content_type="application/octet-stream"),
            "/echo": Route(),
            "/profile": Route(body='{"email": "not-an-email", "active": false, "id": "7f1c2d", "seen": "yesterday"}'),
        }
    )
    with serve(app):
        yield app


async def verdicts(tmp_path: Path, server: Server, text: str, extra: str = ""):
    env = environment(tmp_path, server.url, extra)
    return await judge_all(env, contracts(tmp_path, text, env))


async def test_status_contract_passes_and_fails_with_a_readable_message(tmp_path: Path, server: Server) -> None:
    result = await verdicts(
        tmp_path,
        server,
        """
        [[endpoint]]
        path = "/me"
        status = 401
        [[endpoint]]
        path = "/boom"
        status = [401, 403]
    """,
    )
    assert result["GET /me -> 401"].ok
    boom = result["GET /boom -> 401/403"]
    assert not boom.ok and boom.category is Category.SERVER_ERROR
    assert boom.headline.startswith(f"GET {server.url}/boom: expected 401 or 403, got 500 in ")
    assert "user_hierarchy_assignments" in str(boom.failure())  # the body's first lines


async def test_authorization_leak_is_its_own_failure(tmp_path: Path, server: Server) -> None:
    leak = (await verdicts(tmp_path, server, '[[endpoint]]\npath = "/open"\nstatus = 401\n'))["GET /open -> 401"]
    assert not leak.ok and leak.category is Category.AUTH_LEAK
    assert "authorization leak" in leak.headline


async def test_json_schema_content_type_and_body(tmp_path: Path, server: Server) -> None:
    schema = 'json_schema = { type = "object", required = ["auth_url"], properties = { auth_url = { type = "string", pattern = "^https://[^/]+/authorize\\\\?" } } }'
    result = await verdicts(
        tmp_path,
        server,
        f"""
        [[endpoint]]
        path = "/login"
        status = 200
        content_type = "application/json"
        body_contains = "client_id="
        {schema}
        [[endpoint]]
        path = "/bad-login"
        status = 200
        body_contains = ["client_id=", "state="]
        {schema}
        [[endpoint]]
        path = "/not-json"
        status = 200
        json_schema = {{ type = "object" }}
        [[endpoint]]
        path = "/html"
        status = 200
        content_type = "application/json"
    """,
    )
    assert result["GET /login -> 200"].ok
    bad = str(result["GET /bad-login -> 200"].failure())
    assert "does not match" in bad and 'body does not contain "client_id="' in bad and '"state="' in bad  # all listed, in JSON
    assert "not valid JSON" in str(result["GET /not-json -> 200"].failure())
    assert "content type text/html, expected application/json" in str(result["GET /html -> 200"].failure())


async def test_formats_are_checked_and_values_print_as_json(tmp_path: Path, server: Server) -> None:
    """A client that parses ``email`` as an address breaks on ``not-an-email``; the message quotes the body's JSON."""
    result = await verdicts(
        tmp_path,
        server,
        """
        [[endpoint]]
        path = "/profile"
        status = 200
        json_schema = { type = "object", properties = { email = { type = "string", format = "email" }, active = { const = true }, id = { format = "uuid" }, seen = { format = "date-time" } } }
        [[endpoint]]
        id = "formats that hold"
        path = "/login"
        status = 200
        json_schema = { properties = { auth_url = { format = "uri" } } }
    """,
    )
    failure = str(result["GET /profile -> 200"].failure())
    assert 'body at /email: "not-an-email" does not match format "email"' in failure
    assert "body at /active: true was expected, got false" in failure  # JSON, not Python's True/False
    assert 'body at /id: "7f1c2d" does not match format "uuid"' in failure
    assert 'body at /seen: "yesterday" does not match format "date-time"' in failure
    assert result["formats that hold -> 200"].ok


async def test_latency_budget_per_entry_and_default(tmp_path: Path, server: Server) -> None:
    result = await verdicts(
        tmp_path,
        server,
        """
        [[endpoint]]
        path = "/slow"
        status = 200
        max_ms = 100
        [[endpoint]]
        id = "slow with default budget"
        path = "/slow"
        status = 200
    """,
        "[http]\nmax_ms = 5000\n",
    )
    slow = result["GET /slow -> 200"]
    assert not slow.ok and slow.category is Category.SLOW and "budget 100 ms" in str(slow.failure())
    assert result["slow with default budget -> 200"].ok


async def test_requests_overlap(tmp_path: Path, server: Server) -> None:
    text = "".join(f'[[endpoint]]\nid = "slow {i}"\npath = "/slow"\nstatus = 200\n' for i in range(12))
    env = environment(tmp_path, server.url, "[http]\nconcurrency = 8\n")
    entries = contracts(tmp_path, text, env)
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    await run.endpoint(entries[0])  # the first request starts all of them
    exchanges = [await run.prober.result(entry) for entry in entries]
    thread = run.prober.lanes.thread
    await run.aclose()
    assert server.max_in_flight > 1 and server.max_in_flight <= 8
    assert overlapped(exchanges)
    assert thread is not None and not thread.is_alive()  # the prober's loop stops with the run


async def test_each_test_gets_its_result_without_waiting_for_the_others(tmp_path: Path, server: Server) -> None:
    gate = threading.Event()
    server.routes["/held"] = Route(gate=gate)
    env = environment(tmp_path, server.url)
    entries = contracts(tmp_path, '[[endpoint]]\npath = "/held"\nstatus = 200\n[[endpoint]]\npath = "/me"\nstatus = 401\n', env)
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    try:
        async with asyncio.timeout(10):  # waiting for every probe first would wait for the gate: a failure, not a hang
            me = await run.endpoint(entries[1])
        assert me.ok  # answered while /held is still held at the gate
    finally:
        gate.set()
    assert (await run.endpoint(entries[0])).ok
    await run.aclose()


def test_requests_leave_when_collection_ends_not_when_the_first_endpoint_test_starts(
    pytester: pytest.Pytester, server: Server
) -> None:
    lay_out(pytester.path)
    (pytester.path / "tests/contracts/endpoints.toml").write_text('[[endpoint]]\npath = "/open"\nstatus = 200\n')
    # Runs before the endpoint test, and waits for its request to reach the server.
    (pytester.path / "tests/contracts/test_aaa_runs_first.py").write_text(
        "import json, time, urllib.request\n\n"
        "def test_waits_for_the_endpoint_request():\n"
        "    deadline = time.monotonic() + 20\n"
        f"    while '/open' not in json.load(urllib.request.urlopen('{server.url}{SEEN}', timeout=5)):\n"
        "        assert time.monotonic() < deadline, 'the endpoint request had not left 20 s after collection'\n"
        "        time.sleep(0.02)\n"
    )
    (pytester.path / "env.toml").write_text(f'production = false\nbase_url = "{server.url}"\n')
    result = run_suite(pytester, "--env-file=env.toml", "-m", "contracts or not schema")
    ran = outcomes(result)
    assert ran["test_waits_for_the_endpoint_request"] == ran["GET /open -> 200"] == "passed"


async def test_latency_excludes_a_stalled_test_loop(tmp_path: Path, server: Server) -> None:
    """Between two tests pytest's loop stands still; a request in flight then must not be timed with it."""
    env = environment(tmp_path, server.url)
    text = '[[endpoint]]\npath = "/me"\nstatus = 401\n[[endpoint]]\nid = "slow"\npath = "/slow"\nstatus = 200\n'
    entries = contracts(tmp_path, text, env)
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    await run.endpoint(entries[0])
    time.sleep(1.5)  # the point: this loop is blocked while /slow (0.3 s) is in flight
    slow = await run.endpoint(entries[1])
    exchange = await run.prober.result(entries[1])
    await run.aclose()
    assert slow.ok and exchange.elapsed_ms < 1500, exchange.elapsed_ms


async def test_headers_query_method_and_secret_headers(tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_KEY", "canary-key-7731")
    result = await verdicts(
        tmp_path,
        server,
        """
        [[endpoint]]
        path = "/echo"
        method = "HEAD"
        status = 200
        query = { q = "x y" }
        headers = { "X-Api-Key" = "${CANARY_KEY}", "X-Plain" = "plain" }
    """,
    )
    verdict = result["HEAD /echo -> 200"]
    assert verdict.ok
    assert server.seen_headers["/echo"]["x-api-key"] == "canary-key-7731"
    assert server.seen_headers["/echo"]["x-plain"] == "plain"
    text = str(verdict.failure()) + "".join(a.body for a in verdict.attachments)
    assert "canary-key-7731" not in text and "x-api-key: ***" in text.lower()


async def test_bearer_tokens(tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_TOKEN", "canary-token-5512")
    env = environment(tmp_path, server.url, '[auth]\nbearer_token = "${CANARY_TOKEN}"\n')
    entries = contracts(
        tmp_path,
        """
        [[endpoint]]
        path = "/echo"
        status = 200
        auth = "bearer"
        [[endpoint]]
        id = "as admin"
        path = "/echo"
        status = 200
        auth = "super_admin"
    """,
        env,
    )
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    verdict = await run.endpoint(entries[0])
    assert verdict.ok and server.seen_headers["/echo"]["authorization"] == "Bearer canary-token-5512"
    assert "canary-token-5512" not in "".join(a.body for a in verdict.attachments)
    with pytest.raises(Unavailable, match=r"needs a token \(\[auth.tokens\] super_admin\)"):
        await run.endpoint(entries[1])
    await run.aclose()


async def test_no_cookie_carries_over_from_one_probe_to_the_next(tmp_path: Path, server: Server) -> None:
    # One lane, so the three requests share it: an anonymous probe sent with the session cookie an
    # earlier answer set would no longer be anonymous (a protected route would answer 200).
    server.routes["/sets-cookie"] = Route(headers={"Set-Cookie": "session=canary-cookie-4471; Path=/"})
    env = environment(tmp_path, server.url, "[http]\nconcurrency = 1\n")
    paths = ("/sets-cookie", "/open", "/echo")  # a request is built while the one before it is out
    entries = contracts(tmp_path, "".join(f'[[endpoint]]\npath = "{p}"\nstatus = 200\n' for p in paths), env)
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    assert all([(await run.endpoint(c)).ok for c in entries])
    await run.aclose()
    assert server.hits["/sets-cookie"] == 1
    assert "cookie" not in server.seen_headers["/echo"]


async def test_redirects_are_not_followed_unless_asked(tmp_path: Path, server: Server) -> None:
    result = await verdicts(
        tmp_path,
        server,
        """
        [[endpoint]]
        path = "/redirect"
        status = 200
        [[endpoint]]
        id = "followed"
        path = "/redirect"
        status = 200
        follow_redirects = true
    """,
    )
    assert not result["GET /redirect -> 200"].ok and "302" in result["GET /redirect -> 200"].actual
    assert result["followed -> 200"].ok and server.hits["/open"] == 1


async def test_offsite_redirect_is_reported_never_followed(tmp_path: Path, server: Server) -> None:
    other = Server(routes={"/landing": Route()})
    with serve(other):
        server.routes["/away"] = Route(status=302, body="", headers={"Location": f"http://localhost:{other.port}/landing"})
        result = await verdicts(tmp_path, server, '[[endpoint]]\npath = "/away"\nstatus = [200, 302]\nfollow_redirects = true\n')
    verdict = result["GET /away -> 200/302"]
    assert not verdict.ok and "redirects to another host" in verdict.headline
    assert other.hits["/landing"] == 0


async def test_body_is_read_with_a_cap(tmp_path: Path, server: Server) -> None:
    env = environment(tmp_path, server.url, "[http]\nmax_body_bytes = 65536\n")
    entries = contracts(tmp_path, '[[endpoint]]\npath = "/big"\nstatus = 200\n', env)
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    assert (await run.endpoint(entries[0])).ok
    exchange = await run.prober.result(entries[0])
    assert exchange.truncated and len(exchange.body) == 65536
    await run.aclose()
