"""The masking's cost per answer: ``python -m bench.redaction`` (by hand; not part of ``make bench``).

N = 1000 answers, each as the run handles it: scanned when it arrives (``Redactor.scan``: the
credentials it carries are learned) and rendered for the report (the request-and-response
attachment and the failure's body excerpt). Measured with the masking by shape on, and with it off
(only the run's known secrets scrubbed, as before issue 18); the difference is the masking's cost.

Two kinds of answers: *plain* (a 1.5 kB JSON list with no credential, what most endpoints answer)
and *token* (the same with a fresh JWT under ``"token"`` and a ``Set-Cookie`` session: every answer
teaches the redactor two new values, so at the end it knows 2000; the worst case).
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import time

from bench.common import table
from smokeproof.config.redaction import Shapes
from smokeproof.config.secrets import Redactor
from smokeproof.http import judge
from smokeproof.http.exchange import Exchange

N = 1000
ROUNDS = 5
KNOWN = ["known-secret-value-1", "known-secret-value-2", "postgres-password-3"]


class NoShapes(Shapes):
    """The masking off: text passes unchanged (only known values are scrubbed)."""

    def mask(self, text: str, learn: object) -> str:
        return text


def _jwt() -> str:
    header, claims = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJzdWIiOiIxMjM0NTY3ODkwIiwianRpIjoi"
    return f"{header}.{claims}{secrets.token_hex(6)}In0.{secrets.token_urlsafe(32)}"


def answers(kind: str) -> list[Exchange]:
    items = [{"id": i, "name": f"item {i}", "email": f"user{i}@example.com", "active": True} for i in range(20)]
    made = []
    for _ in range(N):
        body: dict[str, object] = {"items": items}
        headers = [("content-type", "application/json"), ("content-length", "1500")]
        if kind == "token":
            body["user"] = {"email": "a@example.com", "token": _jwt()}
            headers.append(("set-cookie", f"session={secrets.token_urlsafe(24)}; Path=/; HttpOnly"))
        made.append(
            Exchange(
                method="GET",
                url="https://api.example.com/api/items",
                request_headers=(("authorization", "Bearer known-secret-value-1"), ("user-agent", "smokeproof")),
                status=200,
                response_headers=tuple(headers),
                body=json.dumps(body).encode(),
            )
        )
    return made


def per_answer_us(exchanges: list[Exchange], shapes: Shapes) -> float:
    redactor = Redactor(KNOWN, shapes=shapes)
    began = time.perf_counter()
    for exchange in exchanges:
        redactor.scan(exchange.text, exchange.response_headers)  # on arrival
        judge.render_exchange(exchange, redactor)  # the attachment
        judge._excerpt(exchange, redactor)  # the failure's body excerpt
    return (time.perf_counter() - began) / len(exchanges) * 1e6


def run() -> str:
    rows = []
    for kind in ("plain", "token"):
        exchanges = answers(kind)
        on, off = [], []
        for _ in range(ROUNDS):  # alternating, so both see the same minute of a shared machine
            off.append(per_answer_us(exchanges, NoShapes()))
            on.append(per_answer_us(exchanges, Shapes()))
        cost = [a - b for a, b in zip(on, off, strict=True)]
        rows.append(
            [
                kind,
                f"{statistics.median(off):.0f} µs",
                f"{statistics.median(on):.0f} µs",
                f"{statistics.median(cost):.0f} µs ({min(cost):.0f} to {max(cost):.0f})",
                f"{statistics.median(cost) * N / 1e6:.2f} s",
            ]
        )
    return table(
        f"Masking by shape, per answer, N = {N} (medians of {ROUNDS} alternating rounds)",
        ["answers", "known values only", "with masking", "masking costs (range)", "for N answers"],
        rows,
    )


if __name__ == "__main__":
    print(run())
    sys.exit(0)
