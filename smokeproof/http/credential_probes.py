"""Property-based probes: malformed credentials never get a 5xx or a 2xx.

For every endpoint contracted to reject anonymous callers (and every entry with ``auth = "NAME"``
that says ``fuzz = true``), hypothesis generates broken credentials (garbage and JWT-shaped
tokens, ``alg: none`` forgeries, oversize and non-ASCII header values, odd schemes, odd cookies),
sent in the header and scheme the entry's token declares (``Authorization: Bearer`` by default).
Each must be rejected with a 4xx (401 and 403, or 400 and 431 where a server refuses the header
before the auth path sees it). A 5xx means a crafted header can crash the auth path; a 2xx means
it can get in; a 3xx (a redirect to a login page, say) passes only where the entry's contract lists
it, as it would for the entry's own check.

Examples are derandomised (CI is reproducible), bounded by ``[fuzz] max_examples`` and rate-limited
by ``[fuzz] max_rate_per_s``; no example database is written. Only hypothesis' ``explicit`` and
``generate`` phases run: shrinking would send more requests than ``max_examples`` (to production),
and a failure is reported with the example that found it, never sent again (a 500 that does not
come back on a second try is still a server error, not hypothesis' "flaky" traceback). Hypothesis
runs in a worker thread; each example's request runs on the run's event loop and its shared client.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from smokeproof.config.auth import Sent
from smokeproof.config.secrets import Redactor
from smokeproof.config.tables import FuzzTable
from smokeproof.http.contracts import EndpointContract
from smokeproof.http.probe import Exchange, Prober
from smokeproof.verdict import Area, Attachment, Category, Severity, Verdict

# Header values must be latin-1 and free of control characters to be sent at all.
HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f")
DEFAULT_SENT = Sent()
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


def alg_none_token(role: str = "super_admin") -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"sub": "00000000-0000-0000-0000-000000000001", "role": role, "exp": 4102444800}).encode())
    return f"{header}.{payload}."


def odd_values(sent: Sent) -> list[str]:
    """Values a careless parser trips on, in the token's own header and scheme (or cookie)."""
    if sent.cookie is not None:
        return ["", "null", "deleted", ".", "a.b.c", "eyJ.", "0" * 64, "%00", "\\x00"]
    scheme = sent.scheme
    if not scheme:
        return ["", " ", "a b c", ".....", "Bearer x", "null", "x\ty"]
    other = "Token" if scheme.lower() != "token" else "Bearer"
    return [
        "Basic dXNlcjpwYXNz",
        f"{scheme.lower()} x",
        scheme,
        f"{other} abc",
        f"{scheme} a b c",
        f"{scheme} .....",
        f"{scheme}\tx",
    ]


@functools.cache
def credentials(sent: Sent = DEFAULT_SENT) -> st.SearchStrategy[Credential]:
    """Malformed credentials sent in ``sent``'s header and scheme (``Authorization: Bearer ...`` by default).

    A session cookie's (``sent.cookie``) are malformed cookies of that name: forged, truncated, oversize.
    """
    cookie = sent.cookie

    def token(kind: str, value: str) -> Credential:
        if cookie is not None:
            return Credential(kind.replace("token", "cookie"), cookies={cookie: value.replace(";", "")})
        return Credential(kind, {sent.header: sent.value(value)})

    def odd(value: str) -> Credential:
        if cookie is not None:
            return Credential(f"odd {cookie} cookie", cookies={cookie: value})
        return Credential(f"odd {sent.header} value", {sent.header: value})

    names = [cookie] if cookie is not None else ["session", "access_token", "sid", "auth0"]

    return st.one_of(
        st.text(HEADER_CHARS, max_size=80).map(lambda t: token("garbage token", t)),
        st.lists(B64URL, min_size=1, max_size=6).map(lambda s: token(f"JWT-shaped, {len(s)} segments", ".".join(s))),
        st.sampled_from(["super_admin", "admin", "analyst"]).map(lambda r: token("alg:none forgery", alg_none_token(r))),
        st.integers(8_000, 16_000).map(lambda n: token(f"oversize token ({n} chars)", "A" * n)),
        st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=40).map(
            lambda t: token("non-ASCII (latin-1) token", t)
        ),
        st.sampled_from(odd_values(sent)).map(odd),
        st.dictionaries(
            st.sampled_from(names),
            st.text(HEADER_CHARS.filter(lambda c: c not in ';,"\\'), max_size=300),
            min_size=1,
            max_size=4,
        ).map(lambda c: Credential("odd cookies", cookies=c)),
    )


async def probe_endpoint(prober: Prober, contract: EndpointContract, *, rate: RateLimit, fuzz: FuzzTable) -> Verdict:
    """The property for ``contract``, its malformed credentials sent as its token would be.

    The request is the entry's own (environment headers, the entry's headers and query), less any
    credential: the token's header (and ``Authorization``) carry only the malformed values.
    """
    sent = prober.env.tokens.how(contract.auth or "bearer")
    dropped = {sent.header.lower(), "authorization"}
    plain = {**prober.headers_for_env(), **contract.headers}
    base = {k.encode(): v.encode("latin-1") for k, v in plain.items() if k.lower() not in dropped}
    url, params = prober.url_for(contract), {k: str(v) for k, v in contract.query.items()}

    async def send(credential: Credential) -> Exchange:
        await rate.wait()
        return await prober.send(contract.method, url, params=params, headers={**base, **credential.wire_headers()})

    redactor = prober.env.redactor
    # A web UI rejects a bad session cookie by redirecting to its sign-in page: for a session login, a 3xx is a rejection.
    return await probe(
        contract,
        send,
        max_examples=fuzz.max_examples,
        redactor=redactor,
        strategy=credentials(sent),
        redirect_rejects=sent.cookie is not None,
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


def bad_outcome(contract: EndpointContract, exchange: Exchange, *, redirect_rejects: bool = False) -> bool:
    """No answer, a 5xx, a 2xx, or a 3xx the contract does not list breaks the property; a 4xx keeps it.

    ``redirect_rejects``: any 3xx keeps it too (a session cookie's entry: the sign-in redirect is the rejection).
    """
    status = exchange.status
    if status is None or status >= 500 or 200 <= status < 300:
        return True
    return 300 <= status < 400 and status not in contract.status and not redirect_rejects


def expectation(contract: EndpointContract, *, redirect_rejects: bool = False) -> str:
    """What every malformed credential must get, as the verdict's ``expected``."""
    if redirect_rejects:
        return "rejected with 4xx or a redirect (never 5xx, never 2xx)"
    listed = [str(status) for status in contract.status if 300 <= status < 400]
    return f"rejected with 4xx{''.join(f' or {s}' for s in listed)} (never 5xx, never 2xx)"


async def probe(
    contract: EndpointContract,
    send: Callable[[Credential], Coroutine[Any, Any, Exchange]],
    *,
    max_examples: int,
    redactor: Redactor,
    strategy: st.SearchStrategy[Credential] | None = None,
    redirect_rejects: bool = False,
) -> Verdict:
    """Run the property for ``contract``; the verdict carries the example that broke it."""
    loop = asyncio.get_running_loop()
    sent = 0
    found: Rejected | None = None

    @settings(
        max_examples=max_examples,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: not one request beyond max_examples
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(credentials() if strategy is None else strategy)
    def prop(credential: Credential) -> None:
        nonlocal sent, found
        if found is not None:  # hypothesis replays the failing example to report it: not sent again
            raise found
        exchange = asyncio.run_coroutine_threadsafe(send(credential), loop).result()
        sent += 1
        if bad_outcome(contract, exchange, redirect_rejects=redirect_rejects):
            found = Rejected(credential, exchange)
            raise found

    check = f"{contract.id} rejects malformed credentials"
    expected = expectation(contract, redirect_rejects=redirect_rejects)
    try:
        await asyncio.to_thread(prop)
    except Exception:
        if found is None:
            raise
        # Whatever hypothesis made of it (the failure, or a flaky-test error), the answer is what was seen.
        return _failed(check, expected, contract, found, redactor)
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
    status = exchange.status or 0
    leak, redirect = 200 <= status < 300, 300 <= status < 400
    category = (
        Category.AUTH_LEAK
        if leak
        else Category.CONTRACT
        if redirect
        else Category.UNREACHABLE
        if exchange.unreachable
        else Category.SERVER_ERROR
    )
    meaning = (
        "anyone can get in with a forged credential"
        if leak
        else "a forged credential is redirected, not rejected: a client (or a script) sees no 401 or 403, and the "
        "redirect's target decides what happens next"
        if redirect
        else "a crafted Authorization header or cookie crashes the auth path: a cheap denial of service, and a sign "
        "that the token is parsed before it is verified"
    )
    body = redactor.clip(exchange.text, 400)
    return Verdict(
        check=check,
        area=Area.PROBES,
        expected=expected,
        actual=got,
        ok=False,
        headline=f"{exchange.method} {redactor(exchange.url)}: a malformed credential got {got} in {exchange.elapsed_ms:.0f} ms",
        sections=(
            ("example", repr(failure.credential)),
            ("body (first lines)", body),
            ("what it means", meaning),
            (
                "what to do",
                "reject the credential with 401 before parsing it (or list the redirect in the contract's status); "
                "reproduce with the example above",
            ),
        ),
        category=category,
        severity=Severity.CRITICAL,
        feature=contract.feature,
        story="malformed credentials",
        attachments=(Attachment(name="example", body=f"{failure.credential!r}\n-> {got}\n\n{body}"),),
    )
