"""Waiting for a rolling deploy, against real servers on loopback that change their revision.

``Rolling`` answers ``/health`` with the revision its ``deploy`` function gives for the poll number
and the time since it started, and records, for every other request, which revision was live when
it arrived: a check that reached the old code is there to see, with no timing in the assertion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.types import Receive, Scope, Send

from smokeproof.config.environment import load
from smokeproof.config.tables import HttpTable
from smokeproof.errors import UsageError
from smokeproof.wait import WaitPlan, plan_for, wait_for_revision

from .servers import Route, Server, serve
from .suite import run_suite, wait_suite


@dataclass
class Rolling(Server):
    deploy: Callable[[int, float], str] = lambda polls, elapsed: "old"
    started: float = field(default_factory=time.monotonic)
    live_at_request: list[tuple[str, str]] = field(default_factory=list)

    def live(self) -> str:
        return self.deploy(self.hits["/health"], time.monotonic() - self.started)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == "/health":
                self.routes["/health"] = Route(body=json.dumps({"build": {"revision": self.live()}}))
            else:
                self.live_at_request.append((scope["path"], self.live()))
        await super().__call__(scope, receive, send)


def plan(server: Server, *, timeout_s: float, consecutive: int = 3) -> WaitPlan:
    return WaitPlan(
        revision="new",
        url=server.url + "/health",
        pointer="/build/revision",
        timeout_s=timeout_s,
        interval_s=0.05,
        consecutive=consecutive,
        http=HttpTable(timeout_s=5, connect_timeout_s=5),
    )


async def test_answers_that_flap_between_old_and_new_never_converge() -> None:
    """A balancer still sending one request in two to an old instance: not deployed yet."""
    with serve(Rolling(deploy=lambda polls, _: "new" if polls % 2 else "old")) as server:
        outcome = await wait_for_revision(plan(server, timeout_s=1))
    assert not outcome.converged and outcome.polls >= 4
    assert outcome.failure().startswith("the deploy did not converge: still answering ")


async def test_the_streak_must_be_unbroken() -> None:
    """Two new answers, one old, then new for good: converged only after three new in a row."""
    answers = ["old", "new", "new", "old"]
    with serve(Rolling(deploy=lambda polls, _: answers[polls] if polls < len(answers) else "new")) as server:
        outcome = await wait_for_revision(plan(server, timeout_s=60))
        assert outcome.converged and outcome.polls == 7 and server.hits["/health"] == 7


async def test_errors_while_instances_restart_are_waited_through() -> None:
    """A 503 or an unparsable answer is not the revision: it breaks the streak, and is what the failure shows."""
    with serve(Server(routes={"/health": Route(status=503, body="restarting")})) as server:
        outcome = await wait_for_revision(plan(server, timeout_s=0.5))
    assert not outcome.converged and outcome.last_seen == "HTTP 503"


@pytest.mark.slow
def test_the_suite_waits_for_the_deploy_then_checks_the_new_code(pytester: pytest.Pytester) -> None:
    with serve(Rolling(routes={"/api/ping": Route()}, deploy=lambda _, elapsed: "new" if elapsed > 2 else "old")) as server:
        wait_suite(pytester.path, server.url, revision_url="/health", timeout_s=120)
        result = run_suite(pytester, "--env-file=env.toml", "--wait-for-revision=new", "-k", "ping")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["smokeproof: waiting for revision new at http://127.0.0.1:*/health (/build/revision): 3 answers in a row*"]
    )
    result.stdout.fnmatch_lines(["smokeproof: rolling deploy: revision new on 3 answers in a row after *"])
    assert server.live_at_request == [("/api/ping", "new")]  # the check reached the new code, once
    assert "- **rolling deploy**: revision new on 3 answers in a row after" in (pytester.path / "reports/summary.md").read_text()


@pytest.mark.slow
def test_a_deploy_that_never_converges_fails_every_check_at_the_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOKEPROOF_WAIT_FOR_REVISION", "new")  # as the Argo Rollouts template passes it
    with serve(Rolling(routes={"/api/ping": Route()})) as server:
        wait_suite(pytester.path, server.url, revision_url="/health", timeout_s=1.5)
        result = run_suite(pytester, "--env-file=env.toml")
    assert result.ret == 1
    assert server.live_at_request == []  # not one request to the old code
    rows = json.loads((pytester.path / "reports" / "summary.json").read_text())["rows"]
    ran = [row for row in rows if row["outcome"] != "skipped"]
    assert "GET /api/ping -> 200" in {row["check"] for row in ran} and len(ran) > 10  # the endpoint and the schema checks
    assert {row["outcome"] for row in ran} == {"failed"}
    message = "the deploy did not converge: still answering old after 1.5 s (expected revision new at "
    assert all(row["actual"].startswith(message) for row in ran), ran


def test_a_wait_with_nowhere_to_poll_is_bad_input(tmp_path: Path) -> None:
    file = tmp_path / "prod.toml"
    top = 'base_url = "https://app.example"\ncontracts = "c.toml"\nschema = "c.toml"\n'
    file.write_text(top + "[wait]\ntimeout_s = 60\n")
    (tmp_path / "c.toml").write_text("")
    env = load(file, name="prod", rootdir=tmp_path, environ={})
    assert plan_for(env, None) is None  # [wait] alone says how, not what: no wait
    with pytest.raises(UsageError, match=r"--wait-for-revision abc: set \[wait\] url \(or \[revision\] url\)"):
        plan_for(env, "abc")
    file.write_text(top + '[revision]\nurl = "/health"\n[wait]\nrevision = "abc"\nconsecutive = 5\n')
    planned = plan_for(load(file, name="prod", rootdir=tmp_path, environ={}), None)
    assert planned is not None and (planned.url, planned.consecutive, planned.timeout_s) == ("https://app.example/health", 5, 300)
