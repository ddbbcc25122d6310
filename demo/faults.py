"""Deliberate faults of the demo target, each off unless a self-test switches it on.

``--fault NAME`` on the launcher; every fault is a realistic bug the smoke suite must find.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMES = {
    "jwt-segments": "a bearer token without exactly three segments crashes the header peek (500)",
    "slow-me": "GET /api/v1/auth/me sleeps 1.5 s",
    "leak-admin": "GET /api/v1/admin/feature-flags answers 200 to anonymous callers",
    "me-500": "GET /api/v1/auth/me answers 500",
}


@dataclass(frozen=True)
class Faults:
    jwt_segments: bool = False
    slow_me: bool = False
    leak_admin: bool = False
    me_500: bool = False

    @classmethod
    def parse(cls, names: list[str]) -> Faults:
        unknown = set(names) - set(NAMES)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(sorted(NAMES))}")
        return cls(**{name.replace("-", "_"): True for name in names})
