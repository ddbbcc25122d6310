"""Waiting for a rolling deploy: poll until the deployed code reports the expected revision.

A post-deploy stage often starts while the orchestrator is still replacing instances: the first
requests reach the old code, and the suite fails (or passes) on the wrong version. Before any
check runs, the revision URL is asked with GET (safe in production) until it reports the
expected revision on ``consecutive`` answers in a row, each on a new connection so that a load
balancer can send it to another instance; one old answer starts the count again. Bounded by
``timeout_s``: a deploy that does not converge fails every check at once with what the target
still answers.

No pytest, no Allure: :func:`wait_for_revision` returns a :class:`WaitOutcome`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smokeproof import json_pointer
from smokeproof.config.environment import Environment
from smokeproof.config.tables import HttpTable
from smokeproof.database.revision_source import split
from smokeproof.errors import UsageError

if TYPE_CHECKING:  # httpx loads when a run waits for a revision, not with the plugin
    import httpx


@dataclass(frozen=True)
class WaitPlan:
    """What to wait for, where, and how long."""

    revision: str
    url: str
    pointer: str
    timeout_s: float
    interval_s: float
    consecutive: int
    http: HttpTable = field(default_factory=HttpTable)  # the environment's [http]: timeouts, TLS (smokeproof.http.policy)

    def describe(self) -> str:
        return (
            f"waiting for revision {self.revision} at {self.url} ({self.pointer}): {self.consecutive} answers in a row, "
            f"up to {self.timeout_s:g} s"
        )


@dataclass(frozen=True)
class WaitOutcome:
    plan: WaitPlan
    converged: bool
    waited_s: float
    polls: int
    last_seen: str  # what the last answer reported ("010", "HTTP 503", "connection refused")

    def summary(self) -> str:
        """One line for the report header."""
        if self.converged:
            return f"revision {self.plan.revision} on {self.plan.consecutive} answers in a row after {self.waited_s:.1f} s"
        return f"did not converge on {self.plan.revision}: still answering {self.last_seen} after {self.plan.timeout_s:g} s"

    def failure(self) -> str:
        """The message every check fails with when the deploy did not converge."""
        return (
            f"the deploy did not converge: still answering {self.last_seen} after {self.plan.timeout_s:g} s "
            f"(expected revision {self.plan.revision} at {self.plan.url} {self.plan.pointer}, {self.polls} polls)"
        )


def plan_for(env: Environment, revision: str | None) -> WaitPlan | None:
    """The wait ``env`` asks for: ``--wait-for-revision`` / $SMOKEPROOF_WAIT_FOR_REVISION, else ``[wait] revision``."""
    revision = (revision or env.wait.revision or "").strip()
    if not revision:
        return None
    where = f"--wait-for-revision {revision}"
    if env.start is not None:
        raise UsageError(f"{where}: this environment's target is started by the run ([start]); there is no deploy to wait for")
    path = env.wait.url or env.revision.url
    if path is None:
        raise UsageError(
            f"{where}: set [wait] url (or [revision] url): where the deployed code reports its revision", file=env.file
        )
    if not path.startswith(("http://", "https://")):
        if env.base_url is None:
            raise UsageError(f"{where}: [wait] url {path!r} is relative and the environment has no base_url", file=env.file)
        path = env.base_url + path
    return WaitPlan(
        revision=revision,
        url=path,
        pointer=env.wait.json_pointer or env.revision.json_pointer,
        timeout_s=env.wait.timeout_s,
        interval_s=env.wait.interval_s,
        consecutive=env.wait.consecutive,
        http=env.http,
    )


def same_revision(reported: object, expected: str) -> bool:
    """``"a, b"`` and ``["b", "a"]`` both report the heads a and b."""
    if isinstance(reported, list):
        heads = {str(v) for v in reported}
    elif isinstance(reported, str):
        heads = set(split(reported))
    else:
        return False
    return bool(heads) and heads == set(split(expected))


async def poll_once(client: httpx.AsyncClient, plan: WaitPlan) -> tuple[bool, str]:
    """One GET of the revision URL: does it report the revision, and what it said."""
    import httpx

    try:
        response = await client.get(plan.url)
    except httpx.HTTPError as exc:
        return False, exc.__class__.__name__
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}"
    try:
        reported = json_pointer.resolve(json.loads(response.content), plan.pointer)
    except (ValueError, LookupError):
        return False, f"no revision at {plan.pointer}"
    shown = ", ".join(map(str, reported)) if isinstance(reported, list) else str(reported)
    return same_revision(reported, plan.revision), shown[:80]


async def wait_for_revision(plan: WaitPlan, *, headers: Mapping[str, str] | None = None) -> WaitOutcome:
    """Poll ``plan.url`` until ``plan.consecutive`` answers in a row report ``plan.revision``, or the timeout.

    ``headers``: what the policy sends to ``plan.url`` (``[http] headers`` on the target's origin only).
    """
    start = time.monotonic()
    deadline = start + plan.timeout_s
    streak = polls = 0
    last = "nothing yet"
    from smokeproof.http import policy

    # keep_alive=False: a new connection per poll, so the balancer may pick another instance
    async with policy.client(plan.http, headers=headers, keep_alive=False) as client:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return WaitOutcome(plan, False, time.monotonic() - start, polls, last)
            try:
                # Not asyncio.wait_for: on Python 3.11 it returns the poll's answer when a cancel (Ctrl-C)
                # lands as the poll completes, and the wait went on polling until its timeout.
                async with asyncio.timeout(remaining):
                    matched, last = await poll_once(client, plan)
            except TimeoutError:
                return WaitOutcome(plan, False, time.monotonic() - start, polls + 1, last if polls else "no answer (timed out)")
            polls += 1
            streak = streak + 1 if matched else 0
            if streak >= plan.consecutive:
                return WaitOutcome(plan, True, time.monotonic() - start, polls, last)
            await asyncio.sleep(min(plan.interval_s, max(deadline - time.monotonic(), 0)))
