"""Credential probes against a real loopback route: what counts as a rejection, and how many requests they send.

``Guarded`` answers 401 to anonymous callers and, to a request carrying a credential (an
``Authorization`` header or a cookie), whatever its ``answer`` says for that request's number:
a 500 once, a 500 always, a redirect to a login page. Nothing is timed; the assertions count requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Receive, Scope, Send

from smokeproof.run import SmokeRun
from smokeproof.verdict import Category, Verdict

from .probing import contracts, environment
from .servers import Route, Server, serve

MAX_EXAMPLES = 10
FUZZ = f"[fuzz]\nmax_examples = {MAX_EXAMPLES}\nmax_rate_per_s = 1000\n"


@dataclass
class Guarded(Server):
    answer: Callable[[int], Route] = lambda n: Route(status=401)
    credentialed: int = 0  # requests to /guarded that carried a credential

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/guarded":
            names = {name.lower() for name, _ in scope["headers"]}
            if b"authorization" in names or b"cookie" in names:
                self.credentialed += 1
                self.routes["/guarded"] = self.answer(self.credentialed)
            else:
                self.routes["/guarded"] = Route(status=401, body='{"detail": "Not authenticated"}')
        await super().__call__(scope, receive, send)


async def probe(tmp_path: Path, server: Guarded, status: str = "401") -> Verdict:
    with serve(server):
        env = environment(tmp_path, server.url, FUZZ)
        entries = contracts(tmp_path, f'[[endpoint]]\npath = "/guarded"\nstatus = {status}\n', env)
        run = SmokeRun(env=env, contracts=entries)
        run.select(entries)
        try:
            return await run.fuzz(entries[0])
        finally:
            await run.aclose()


async def test_a_500_that_does_not_come_back_is_still_a_server_error_with_its_example(tmp_path: Path) -> None:
    """Hypothesis would call it flaky (a traceback); the answer was a 500, and the verdict says so."""
    server = Guarded(answer=lambda n: Route(status=500, body="Internal Server Error") if n == 3 else Route(status=401))
    verdict = await probe(tmp_path, server)
    assert not verdict.ok and verdict.category is Category.SERVER_ERROR and verdict.actual == "500"
    assert "a malformed credential got 500" in verdict.headline
    assert dict(verdict.sections)["example"]  # what was sent, to reproduce it
    assert server.credentialed == 3  # found on the third example, and nothing sent after it


async def test_a_failure_is_not_shrunk_against_the_target(tmp_path: Path) -> None:
    """Shrinking would send request after request to production, past max_examples: one failing answer is enough."""
    server = Guarded(answer=lambda n: Route(status=500, body="Internal Server Error"))
    verdict = await probe(tmp_path, server)
    assert not verdict.ok and verdict.category is Category.SERVER_ERROR
    assert server.credentialed == 1


async def test_a_passing_probe_sends_at_most_max_examples(tmp_path: Path) -> None:
    server = Guarded()
    verdict = await probe(tmp_path, server)
    assert verdict.ok, verdict.headline
    assert 1 <= server.credentialed <= MAX_EXAMPLES and verdict.actual == f"{server.credentialed} malformed credentials rejected"


async def test_a_redirect_is_a_rejection_only_where_the_contract_lists_it(tmp_path: Path) -> None:
    """A forged token sent to /login is not the 401 the contract names; with 302 in the contract it is."""
    login = Route(status=302, body="", headers={"Location": "/login"})
    server = Guarded(answer=lambda n: login)
    verdict = await probe(tmp_path, server)
    assert not verdict.ok and verdict.category is Category.CONTRACT and verdict.actual == "302"
    assert verdict.expected == "rejected with 4xx (never 5xx, never 2xx)"
    assert "redirected, not rejected" in dict(verdict.sections)["what it means"]
    listed = Guarded(answer=lambda n: login)
    verdict = await probe(tmp_path, listed, status="[401, 302]")
    assert verdict.ok and verdict.expected == "rejected with 4xx or 302 (never 5xx, never 2xx)"
