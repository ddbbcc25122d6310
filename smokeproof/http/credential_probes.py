"""Property-based probes: malformed credentials never get a 5xx or a 2xx.

For every endpoint contracted to reject anonymous callers, hypothesis generates broken
credentials (garbage and JWT-shaped bearer tokens, ``alg: none`` forgeries, oversize and
non-ASCII header values, odd schemes, odd cookies). A 5xx means a crafted header can crash the
auth path; a 2xx means it can get in. Examples are derandomised (CI is reproducible), bounded by
``[fuzz] max_examples``, rate-limited by ``[fuzz] max_rate_per_s``, and no example database is
written. Hypothesis runs in a worker thread; each example's request runs on the run's event loop
and its shared client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smokeproof.config.secrets import Redactor
from smokeproof.http.contracts import EndpointContract
from smokeproof.http.probe import Exchange
from smokeproof.verdict import Area, Attachment, Category, Severity, Verdict

# Header values must be latin-1 and free of control characters to be sent at all.
HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f")
B64URL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=60)


@dataclass(frozen=True)
class Credential:
    """One malformed credential; its repr describes it without printing kilobytes."""

    kind: str
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)

    def wire_headers(self) -> dict[bytes, bytes]:
        """Headers as latin-1 bytes (legal on the wire, though not ASCII), cookies included."""
        headers = {k.encode(): v.strip(" \t").encode("latin-1") for k, v in self.headers.items()}
        if self.cookies:
            headers[b"Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items()).strip(" \t").encode("latin-1")
        return headers

    def __repr__(self) -> str:
        parts = [f"{k}: {_clip(v)}" for k, v in self.headers.items()]
        parts += [f"cookie {k}={_clip(v)}" for k, v in self.cookies.items()]
        return f"{self.kind} ({'; '.join(parts) or 'nothing'})"


def _clip(value: str, limit: int = 60) -> str:
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} chars)"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _bearer(kind: str, token: str) -> Credential:
    return Credential(kind, {"Authorization": f"Bearer {token}"})


def alg_none_token(role: str = "super_admin") -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"sub": "00000000-0000-0000-0000-000000000001", "role": role, "exp": 4102444800}).encode())
    return f"{header}.{payload}."


credentials = st.one_of(
    st.text(HEADER_CHARS, max_size=80).map(lambda t: _bearer("garbage bearer token", t)),
    st.lists(B64URL, min_size=1, max_size=6).map(lambda s: _bearer(f"JWT-shaped, {len(s)} segments", ".".join(s))),
    st.sampled_from(["super_admin", "admin", "analyst"]).map(lambda r: _bearer("alg:none forgery", alg_none_token(r))),
    st.integers(8_000, 16_000).map(lambda n: _bearer(f"oversize token ({n} chars)", "A" * n)),
    st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=40).map(
        lambda t: _bearer("non-ASCII (latin-1) token", t)
    ),
    st.sampled_from(["Basic dXNlcjpwYXNz", "bearer x", "Bearer", "Token abc", "Bearer a b c", "Bearer .....", "Bearer\tx"]).map(
        lambda v: Credential("odd Authorization scheme", {"Authorization": v})
    ),
    st.dictionaries(
        st.sampled_from(["session", "access_token", "sid", "auth0"]),
        st.text(HEADER_CHARS.filter(lambda c: c not in ';,"\\'), max_size=300),
        min_size=1,
        max_size=4,
    ).map(lambda c: Credential("odd cookies", cookies=c)),
)


class RateLimit:
    """At most ``rate`` requests per second across all probes (production is never hammered)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_slot = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            delay = self.next_slot - now
            self.next_slot = max(now, self.next_slot) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class Rejected(AssertionError):
    def __init__(self, credential: Credential, exchange: Exchange) -> None:
        self.credential = credential
        self.exchange = exchange
        super().__init__(f"{credential!r} -> {exchange.status or exchange.error}")


def bad_outcome(exchange: Exchange) -> bool:
    """A 5xx or a 2xx (or no answer at all) breaks the property; any other 4xx keeps it."""
    return exchange.status is None or exchange.status >= 500 or 200 <= exchange.status < 300


async def probe(
    contract: EndpointContract,
    send: Callable[[Credential], Coroutine[Any, Any, Exchange]],
    *,
    max_examples: int,
    redactor: Redactor,
) -> Verdict:
    """Run the property for ``contract``; the verdict carries the shrunk example when it fails."""
    loop = asyncio.get_running_loop()
    sent = 0

    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(credentials)
    def prop(credential: Credential) -> None:
        nonlocal sent
        exchange = asyncio.run_coroutine_threadsafe(send(credential), loop).result()
        sent += 1
        if bad_outcome(exchange):
            raise Rejected(credential, exchange)

    check = f"{contract.id} rejects malformed credentials"
    expected = "never 5xx, never 2xx"
    try:
        await asyncio.to_thread(prop)
    except Rejected as failure:
        return _failed(check, expected, contract, failure, redactor)
    return Verdict(
        check=check,
        area=Area.PROBES,
        expected=expected,
        actual=f"{sent} malformed credentials rejected",
        ok=True,
        severity=contract.severity,
        feature=contract.feature,
        story="malformed credentials",
    )


def _failed(check: str, expected: str, contract: EndpointContract, failure: Rejected, redactor: Redactor) -> Verdict:
    exchange = failure.exchange
    got = str(exchange.status) if exchange.status is not None else f"no answer ({exchange.error})"
    leak = exchange.status is not None and 200 <= exchange.status < 300
    category = Category.AUTH_LEAK if leak else Category.UNREACHABLE if exchange.unreachable else Category.SERVER_ERROR
    body = redactor(exchange.text[:400])
    return Verdict(
        check=check,
        area=Area.PROBES,
        expected=expected,
        actual=got,
        ok=False,
        headline=f"{exchange.method} {redactor(exchange.url)}: a malformed credential got {got} in {exchange.elapsed_ms:.0f} ms",
        sections=(
            ("shrunk example", repr(failure.credential)),
            ("body (first lines)", body),
            (
                "what it means",
                "anyone can get in with a forged credential"
                if leak
                else "a crafted Authorization header or cookie crashes the auth path: a cheap denial of service, and a sign "
                "that the token is parsed before it is verified",
            ),
            ("what to do", "reject the credential with 401 before parsing it; reproduce with the example above"),
        ),
        category=category,
        severity=Severity.CRITICAL,
        feature=contract.feature,
        story="malformed credentials",
        attachments=(Attachment(name="shrunk example", body=f"{failure.credential!r}\n-> {got}\n\n{body}"),),
    )
