"""``--wait-for-revision REV`` in the session: one wait, after collection, before the first request.

The polling itself is :mod:`smokeproof.wait`. Here it is planned at configure time (a wait
with nowhere to poll is exit 4), announced in the header, run once when collection ends (on its
own daemon thread and event loop, so pytest-asyncio's loops are untouched and Ctrl-C stops it at
once), and, if the deploy did not converge, no request is sent and every check fails with the
same message.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from smokeproof.config import given
from smokeproof.config.environment import Environment
from smokeproof.config.names import WAIT_VARIABLE
from smokeproof.loop_thread import LoopThread
from smokeproof.wait import WaitOutcome, WaitPlan, plan_for, wait_for_revision


@dataclass
class WaitState:
    plan: WaitPlan
    outcome: WaitOutcome | None = None


WAIT_KEY = pytest.StashKey[WaitState]()


def configure(config: pytest.Config, env: Environment) -> None:
    """Plan the wait (a UsageError when it has nowhere to poll)."""
    revision = given.revision(config.getoption("smoke_wait_revision"), flag="--wait-for-revision", variable=WAIT_VARIABLE)
    plan = plan_for(env, revision)
    if plan is not None:
        config.stash[WAIT_KEY] = WaitState(plan)


def header_lines(config: pytest.Config, env: Environment) -> list[str]:
    state = config.stash.get(WAIT_KEY, None)
    return [f"smokeproof: {env.redactor(state.plan.describe())}"] if state is not None else []


def before_checks(config: pytest.Config, env: Environment) -> None:
    """Wait for the deploy (once); say what came of it."""
    state = config.stash.get(WAIT_KEY, None)
    if state is None or state.outcome is not None or config.getoption("collectonly"):
        return
    from smokeproof.http.policy import target_headers

    headers = target_headers(env, state.plan.url)  # [http] headers go to the target's origin only
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(f"smokeproof: {env.redactor(state.plan.describe())} ...")
    # A daemon thread, closed in any case: Ctrl-C cancels the poll in flight at once (a pool's worker
    # would be waited for, up to the wait's timeout, before the run could stop).
    loop = LoopThread("smokeproof-wait")
    try:
        state.outcome = loop.submit(wait_for_revision(state.plan, headers=headers)).result()
    finally:
        loop.close()
    if terminal is not None:
        terminal.write_line(f"smokeproof: rolling deploy: {env.redactor(state.outcome.summary())}")


def handoff(config: pytest.Config) -> dict[str, object] | None:
    """What came of the wait, as plain data for xdist's workers (the controller waited, once, for all of them)."""
    state = config.stash.get(WAIT_KEY, None)
    if state is None or state.outcome is None:
        return None
    outcome = state.outcome
    return {"converged": outcome.converged, "waited_s": outcome.waited_s, "polls": outcome.polls, "last_seen": outcome.last_seen}


def adopt(config: pytest.Config, data: dict[str, object]) -> None:
    """On a worker: the controller's wait stands for this one (no second round of polls)."""
    state = config.stash.get(WAIT_KEY, None)
    if state is not None:
        state.outcome = WaitOutcome(
            plan=state.plan,
            converged=bool(data["converged"]),
            waited_s=float(str(data["waited_s"])),
            polls=int(str(data["polls"])),
            last_seen=str(data["last_seen"]),
        )


def summary(config: pytest.Config) -> str | None:
    """For the report header: what the wait found, if there was one."""
    state = config.stash.get(WAIT_KEY, None)
    return state.outcome.summary() if state is not None and state.outcome is not None else None


def failure(config: pytest.Config) -> str | None:
    """Why every check fails: the deploy did not converge (None when it did, or nobody waited)."""
    state = config.stash.get(WAIT_KEY, None)
    if state is None or state.outcome is None or state.outcome.converged:
        return None
    return state.outcome.failure()
