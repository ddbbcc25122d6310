"""Certificates: the leaf each HTTPS host of the environment serves, read once per run.

A certificate that expires at 3 a.m. takes the service down for every client at once, with nothing
deployed; one that does not match its host name or that the run cannot trust fails every request
already. For an ``https://`` base URL, and each ``[auth.login]`` / ``[auth.oauth2]`` host, one check
``certificate HOST`` reads the served chain (one TLS handshake, with the run's connect timeout)
and fails when the chain is not trusted (the public CAs plus ``[http] ca_file``), the leaf does not
match the host name, is not yet valid, or expires within ``[tls] min_days``; within ``[tls]
warn_days`` it passes as degraded. With ``verify_tls = false`` only the dates are checked.

The module knows nothing of pytest: :func:`targets` lists the hosts, :func:`inspect` returns a
:class:`~smokeproof.verdict.Verdict`.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from smokeproof.config.environment import Environment
from smokeproof.config.tables import HttpTable, TlsTable
from smokeproof.errors import reason
from smokeproof.verdict import Area, Category, Severity, Verdict

HTTPS_PORT = 443


@dataclass(frozen=True)
class CertificateTarget:
    """One HTTPS host (and port) whose certificate is checked; ``used_by`` says what the run sends there."""

    host: str
    port: int
    used_by: str

    @property
    def id(self) -> str:
        """The test id: ``certificate api.example.com`` (``:PORT`` when it is not 443)."""
        return f"certificate {self.host}" + (f":{self.port}" if self.port != HTTPS_PORT else "")

    def __repr__(self) -> str:  # Allure's parameter and history id: the host, not what uses it
        return f"CertificateTarget({self.id!r})"


@dataclass(frozen=True)
class Served:
    """What the handshake found: the leaf certificate (DER), and why the chain was refused, if it was."""

    der: bytes
    refused: str | None


def targets(env: Environment) -> tuple[CertificateTarget, ...]:
    """The HTTPS hosts of ``env``: its base URL, then the hosts its tokens are obtained from; each once."""
    found: dict[tuple[str, int], CertificateTarget] = {}
    urls = [(env.base_url, "base_url")] if env.base_url else []
    urls += [(spec.url, f"token '{name}'") for name, spec in env.tokens.obtained.items()]
    for url, used_by in urls:
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            continue
        key = (parts.hostname, parts.port or HTTPS_PORT)
        if key not in found:
            found[key] = CertificateTarget(key[0], key[1], used_by)
    return tuple(found.values())


def _expected(target: CertificateTarget, tls: TlsTable) -> str:
    return f"valid for {target.host}, >= {tls.min_days} days left (warn < {tls.warn_days})"


def stalled(target: CertificateTarget, tls: TlsTable, why: str) -> Verdict:
    """The verdict when the read never ended (a bug's net: the read has its own timeouts): the check fails, the run goes on."""
    expected = _expected(target, tls)
    return _verdict(target, expected, "no answer", headline=f"{target.id}: {why}", category=Category.UNREACHABLE, ok=False)


async def inspect(target: CertificateTarget, *, http: HttpTable, tls: TlsTable, now: datetime.datetime | None = None) -> Verdict:
    """The verdict on the certificate ``target`` serves."""
    expected = _expected(target, tls)
    try:
        served = await _read(target, http)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        why = "no answer within the connect timeout" if isinstance(exc, TimeoutError) else reason(exc)
        headline = f"{target.id}: could not read it: {why}"
        return _verdict(target, expected, "unreachable", headline=headline, category=Category.UNREACHABLE, ok=False)
    from cryptography import x509  # parsed only in runs that check a certificate

    leaf = x509.load_der_x509_certificate(served.der)
    now = now or datetime.datetime.now(datetime.UTC)
    not_after, not_before = leaf.not_valid_after_utc, leaf.not_valid_before_utc
    days = (not_after - now).days
    actual = f"expires {not_after:%Y-%m-%d} ({days} days left)" if days >= 0 else f"expired {not_after:%Y-%m-%d}"
    problems = []
    if served.refused:
        problems.append(served.refused)
    if now < not_before:
        problems.append(f"not valid before {not_before:%Y-%m-%d %H:%M} UTC")
    elif days < tls.min_days:
        problems.append(f"expires in {days} days, under [tls] min_days = {tls.min_days}" if days >= 0 else "expired")
    degraded = f"expires in {days} days, under [tls] warn_days = {tls.warn_days}" if days < tls.warn_days else ""
    subject = leaf.subject.rfc4514_string() or "(empty subject)"
    sections: tuple[tuple[str, str], ...] = (
        ("expected", expected),
        ("actual", f"{actual}; subject {subject}; issuer {leaf.issuer.rfc4514_string()}"),
        ("problems", "\n".join(f"- {p}" for p in problems)),
        ("not checked", "" if http.verify_tls else "the chain and the host name ([http] verify_tls = false)"),
    )
    if problems:
        sections += (
            (
                "what it means",
                "clients refuse this host's TLS handshake now, or will when the date passes: every request to it "
                "fails at once, with nothing deployed",
            ),
            (
                "what to do",
                "renew or reissue the certificate for this host name (and serve its full chain); a private CA "
                "belongs in [http] ca_file",
            ),
        )
    return _verdict(
        target,
        expected,
        actual,
        headline=f"{target.id}: {problems[0] if problems else actual}",
        ok=not problems,
        category=Category.CERTIFICATE if problems else None,
        sections=sections,
        degraded="" if problems else degraded,
    )


def _verdict(
    target: CertificateTarget,
    expected: str,
    actual: str,
    *,
    headline: str,
    ok: bool,
    category: Category | None,
    sections: tuple[tuple[str, str], ...] = (),
    degraded: str = "",
) -> Verdict:
    return Verdict(
        check=target.id,
        area=Area.CERTIFICATES,
        expected=expected,
        actual=actual,
        ok=ok,
        headline=headline,
        sections=sections,
        category=category,
        severity=Severity.CRITICAL,
        feature=target.host,
        story=target.used_by,
        degraded=degraded,
        degraded_category=Category.CERTIFICATE,
    )


async def _read(target: CertificateTarget, http: HttpTable) -> Served:
    """The served leaf: from a verifying handshake, or, when the chain is refused, from one that only reads it."""
    from smokeproof.http import policy  # the run's TLS trust: certifi's bundle and [http] ca_file

    refused = None
    if http.verify_tls:
        try:
            return Served(await _handshake(target, policy.tls(http), http), None)
        except ssl.SSLCertVerificationError as exc:
            refused = f"refused: {exc.verify_message}" if exc.verify_message else f"refused: {reason(exc, kind=False)}"
    return Served(await _handshake(target, policy.tls(http.model_copy(update={"verify_tls": False})), http), refused)


async def _handshake(target: CertificateTarget, context: ssl.SSLContext, http: HttpTable) -> bytes:
    async with asyncio.timeout(http.connect_timeout_s):
        _, writer = await asyncio.open_connection(target.host, target.port, ssl=context, server_hostname=target.host)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            raise ssl.SSLError(f"{target.id}: the server sent no certificate")
        return bytes(der)
    finally:
        writer.close()
        try:
            async with asyncio.timeout(http.connect_timeout_s):
                await writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            pass
