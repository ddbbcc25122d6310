"""One request and what came back: the record every endpoint check judges and every report renders."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True)
class Exchange:
    """One request and what came back (or why nothing did)."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    unreachable: bool = False
    offsite_redirect: str | None = None
    auth_setup: str | None = None  # not sent: the token it needs could not be obtained (why)
    started: float = 0.0
    finished: float = 0.0

    def wall_window(self) -> tuple[float, float]:
        """When the request started and finished, in epoch seconds (``started`` and ``finished`` are ``perf_counter``)."""
        offset = time.time() - time.perf_counter()
        return self.started + offset, self.finished + offset

    @property
    def content_type(self) -> str:
        for key, value in self.response_headers:
            if key.lower() == "content-type":
                return value
        return ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class RequestOptions(TypedDict, total=False):
    params: Mapping[str, str]
    headers: Mapping[str, str] | Mapping[bytes, bytes]
    cookies: Mapping[str, str]
    content: bytes
    follow: bool  # follow redirects on the request's origin (smokeproof.http.policy.follows)
    mark_down: bool  # a connection failure marks the target down (not for a token request to another host)
