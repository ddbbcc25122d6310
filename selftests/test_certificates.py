"""Certificates and private CAs, against real loopback HTTPS servers whose certificates a throwaway CA signs.

Each server's leaf expires when the case needs (in 3, 20 or 400 days) or names another host; the
run trusts the CA only through ``[http] ca_file``, as an internal service's private CA.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from smokeproof.http import certificates
from smokeproof.verdict import Category, Verdict

from .probing import contracts, environment, judge_all
from .servers import Route, Server, serve
from .suite import lay_out, outcomes, run_suite

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A private CA and its PEM bundle (what ``ca_file`` names)."""
    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "private-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, bundle


@pytest.fixture(scope="module")
def servers(authority: tuple[trustme.CA, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """HTTPS servers on 127.0.0.1: leaves expiring in 3, 20 and 400 days, and one issued for another host."""
    ca, _ = authority
    leaves = {
        "3 days": ca.issue_cert("127.0.0.1", not_after=NOW + datetime.timedelta(days=3, hours=1)),
        "20 days": ca.issue_cert("127.0.0.1", not_after=NOW + datetime.timedelta(days=20, hours=1)),
        "400 days": ca.issue_cert("127.0.0.1", not_after=NOW + datetime.timedelta(days=400, hours=1)),
        "other host": ca.issue_cert("other.example", not_after=NOW + datetime.timedelta(days=400, hours=1)),
    }
    folder = tmp_path_factory.mktemp("leaves")
    running: dict[str, Server] = {}
    stack = []
    for number, (case, leaf) in enumerate(leaves.items()):
        cert, key = folder / f"{number}-cert.pem", folder / f"{number}-key.pem"
        leaf.private_key_and_cert_chain_pem.write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        server = Server(routes={"/ok": Route()}, ssl_certfile=str(cert), ssl_keyfile=str(key))
        context = serve(server)
        running[case] = context.__enter__()
        stack.append(context)
    try:
        yield running
    finally:
        for context in reversed(stack):
            context.__exit__(None, None, None)


async def check(tmp_path: Path, server: Server, bundle: Path, extra: str = "") -> Verdict:
    env = environment(tmp_path, server.url, f'[http]\nca_file = "{bundle}"\n{extra}')
    [target] = certificates.targets(env)
    assert target.id == f"certificate 127.0.0.1:{server.port}"
    return await certificates.inspect(target, http=env.http, tls=env.tls)


async def test_expiring_in_3_days_fails(tmp_path: Path, servers: dict[str, Server], authority: tuple[trustme.CA, Path]) -> None:
    verdict = await check(tmp_path, servers["3 days"], authority[1])
    assert not verdict.ok and verdict.category is Category.CERTIFICATE
    expires = (NOW + datetime.timedelta(days=3, hours=1)).strftime("%Y-%m-%d")
    assert verdict.actual == f"expires {expires} (3 days left)"
    assert verdict.headline.endswith(": expires in 3 days, under [tls] min_days = 14")


async def test_expiring_in_20_days_is_degraded(
    tmp_path: Path, servers: dict[str, Server], authority: tuple[trustme.CA, Path]
) -> None:
    verdict = await check(tmp_path, servers["20 days"], authority[1])
    assert verdict.ok
    assert verdict.degraded == "expires in 20 days, under [tls] warn_days = 30"
    assert verdict.actual.endswith("(20 days left)")
    tighter = await check(tmp_path, servers["20 days"], authority[1], "[tls]\nmin_days = 21\nwarn_days = 40\n")
    assert not tighter.ok


async def test_expiring_in_400_days_passes(
    tmp_path: Path, servers: dict[str, Server], authority: tuple[trustme.CA, Path]
) -> None:
    verdict = await check(tmp_path, servers["400 days"], authority[1])
    assert verdict.ok and not verdict.degraded
    assert verdict.actual.endswith("(400 days left)")


async def test_certificate_for_another_host_fails(
    tmp_path: Path, servers: dict[str, Server], authority: tuple[trustme.CA, Path]
) -> None:
    verdict = await check(tmp_path, servers["other host"], authority[1])
    assert not verdict.ok
    assert "Hostname mismatch" in verdict.headline or "IP address mismatch" in verdict.headline, verdict.headline
    assert verdict.actual.endswith("(400 days left)")  # the leaf is still read and shown


async def test_without_ca_file_the_chain_is_refused(tmp_path: Path, servers: dict[str, Server]) -> None:
    env = environment(tmp_path, servers["400 days"].url)
    verdict = await certificates.inspect(certificates.targets(env)[0], http=env.http, tls=env.tls)
    assert not verdict.ok
    assert "refused: unable to get local issuer certificate" in verdict.headline


async def test_ca_file_lets_the_probes_through(
    tmp_path: Path, servers: dict[str, Server], authority: tuple[trustme.CA, Path]
) -> None:
    """``ca_file`` is what the endpoint probes trust too (today's only other way past a private CA: verify_tls = false)."""
    env = environment(tmp_path, servers["400 days"].url, f'[http]\nca_file = "{authority[1]}"\n')
    verdict = (await judge_all(env, contracts(tmp_path, '[[endpoint]]\npath = "/ok"\nstatus = 200\n', env)))["GET /ok -> 200"]
    assert verdict.ok, verdict.headline


def test_ca_file_that_is_not_pem_is_a_usage_error(tmp_path: Path) -> None:
    from smokeproof.errors import UsageError

    (tmp_path / "broken.pem").write_text("not a certificate\n")
    with pytest.raises(UsageError, match=r"'http.ca_file' \(.*broken.pem\) is not a readable PEM bundle"):
        environment(tmp_path, "https://127.0.0.1:1", '[http]\nca_file = "broken.pem"\n')


def test_certificate_check_in_the_suite(
    pytester: pytest.Pytester, servers: dict[str, Server], authority: tuple[trustme.CA, Path]
) -> None:
    """The suite's own test: one ``certificate HOST`` per HTTPS host, its expiry and days left in the table."""
    lay_out(pytester.path)
    server = servers["3 days"]
    env = pytester.path / "tls.toml"
    (pytester.path / "endpoints.toml").write_text('[[endpoint]]\npath = "/ok"\nstatus = 200\n')
    env.write_text(
        f'production = false\nbase_url = "{server.url}"\ncontracts = "endpoints.toml"\n[http]\nca_file = "{authority[1]}"\n'
    )
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    check = f"certificate 127.0.0.1:{server.port}"
    assert result.ret == 1
    assert outcomes(result) == {check: "failed", "GET /ok -> 200": "passed"}
    table = (pytester.path / "reports/summary.md").read_text()
    assert f"| {check} | valid for 127.0.0.1, >= 14 days left (warn < 30) | expires " in table
    assert "(3 days left) | ❌ FAIL |" in table


def test_hosts_are_the_base_url_and_the_token_endpoints_each_once(tmp_path: Path) -> None:
    env = environment(
        tmp_path,
        "https://api.example.com",
        """\
        [auth.oauth2.service]
        token_url = "https://idp.example.com:8443/oauth/token"
        client_id = "smoke"
        client_secret = "not-a-secret"

        [auth.login.user]
        path = "/api/v1/login/access-token"
        form = { username = "u", password = "p" }

        [auth.login.admin]
        url = "https://api.example.com/login"
        form = { username = "u", password = "p" }
        """,
    )
    assert [(t.id, t.used_by) for t in certificates.targets(env)] == [
        ("certificate api.example.com", "base_url"),
        ("certificate idp.example.com:8443", "token 'service'"),
    ]
    assert certificates.targets(environment(tmp_path, "http://api.example.com")) == ()
