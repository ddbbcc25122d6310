"""The HTTP side under fault: refused, silent, reset, TLS. Each against a real loopback peer.

The suite must fail fast and say why: an unreachable target fails every endpoint test at once,
after at most one timeout, as "target unreachable".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from smokeproof.verdict import Category

from .probing import contracts, environment, judge_all
from .servers import Route, Server, raw_server, refused_url, serve

TWENTY = "".join(f'[[endpoint]]\nid = "endpoint {i}"\npath = "/e{i}"\nstatus = 200\n' for i in range(20))


async def test_refused_connections_fail_every_contract_fast_as_unreachable(tmp_path: Path) -> None:
    env = environment(tmp_path, refused_url(), "[http]\nconcurrency = 4\n")
    began = time.perf_counter()
    result = await judge_all(env, contracts(tmp_path, TWENTY, env))
    elapsed = time.perf_counter() - began
    assert len(result) == 20
    assert all(not v.ok and v.category is Category.UNREACHABLE for v in result.values())
    assert all("target unreachable" in v.headline for v in result.values())
    assert elapsed < 10  # generous bound against a hang; the benchmark measures the real figure


async def test_silent_server_costs_one_timeout_not_twenty(tmp_path: Path) -> None:
    """A peer that accepts and never answers: every request hits the read timeout together."""
    with raw_server("silent") as url:
        env = environment(tmp_path, url, "[http]\ntimeout_s = 1\nconcurrency = 20\n")
        began = time.perf_counter()
        result = await judge_all(env, contracts(tmp_path, TWENTY, env))
        elapsed = time.perf_counter() - began
    assert all(not v.ok for v in result.values())
    assert all("no complete answer within 1 s" in v.headline for v in result.values())
    assert elapsed < 10  # twenty sequential timeouts would be 20 s


async def test_reset_mid_response_is_reported(tmp_path: Path) -> None:
    with raw_server("reset") as url:
        env = environment(tmp_path, url, "[http]\nretries = 0\n")
        result = await judge_all(env, contracts(tmp_path, '[[endpoint]]\npath = "/x"\nstatus = 200\n', env))
    verdict = result["GET /x -> 200"]
    assert not verdict.ok
    assert "RemoteProtocolError" in verdict.headline or "ReadError" in verdict.headline


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    app = Server(routes={"/ok": Route()}, ssl_certfile=str(folder / "cert.pem"), ssl_keyfile=str(folder / "key.pem"))
    with serve(app):
        yield app


async def test_self_signed_certificate_is_refused(tmp_path: Path, tls_server: Server) -> None:
    env = environment(tmp_path, tls_server.url)
    verdict = (await judge_all(env, contracts(tmp_path, '[[endpoint]]\npath = "/ok"\nstatus = 200\n', env)))["GET /ok -> 200"]
    assert not verdict.ok
    assert "CERTIFICATE_VERIFY_FAILED" in verdict.headline or "certificate" in verdict.headline.lower()


async def test_verify_tls_false_accepts_it(tmp_path: Path, tls_server: Server) -> None:
    env = environment(tmp_path, tls_server.url, "[http]\nverify_tls = false\n")
    verdict = (await judge_all(env, contracts(tmp_path, '[[endpoint]]\npath = "/ok"\nstatus = 200\n', env)))["GET /ok -> 200"]
    assert verdict.ok


async def test_connect_timeout_marks_the_target_down_once(tmp_path: Path) -> None:
    """A loopback listener whose accept queue is full drops SYNs: connecting hangs until the timeout.

    The first wave of requests times out together; every request after it is failed at once as
    unreachable instead of waiting out its own timeout.
    """
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue; nobody ever accepts
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        env = environment(tmp_path, f"http://127.0.0.1:{port}", "[http]\nconnect_timeout_s = 0.5\nretries = 0\nconcurrency = 4\n")
        result = await judge_all(env, contracts(tmp_path, TWENTY, env))
    finally:
        for sock in fillers:
            sock.close()
        listener.close()
    assert all(not v.ok and v.category is Category.UNREACHABLE for v in result.values())
    assert all("target unreachable: ConnectTimeout" in v.headline for v in result.values())
    # Requests failed without being sent report exactly 0 ms; only the first wave (concurrency 4) waited.
    waited = [v for v in result.values() if not v.headline.endswith("after 0 ms")]
    assert 1 <= len(waited) <= 4
