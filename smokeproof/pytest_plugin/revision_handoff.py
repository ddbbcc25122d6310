"""``[revision] url`` under pytest-xdist: the deployed code is asked for its revision once per run, by the controller.

A plain run (and a shard) asks on its run's loop once, at the end of collection. Under ``-n N`` each
worker holding a database check would ask again: against production, the same request once per
worker. So the controller asks, once, as its workers start (after the ``[start]`` target and
``--wait-for-revision``, whose outcome is known by then), and hands each worker the answer through
``workerinput``: the document's head(s), or the error every Alembic check must then show. A worker
takes it instead of asking. The controller collects nothing, so it asks whatever the workers' tests
turn out to be: at most one request, as a plain run sends at most one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.database.revision_source import ExpectedRevision, asks_the_code, describe_source
from smokeproof.loop_thread import LoopThread

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.session import SmokeSession
    from smokeproof.run import SmokeRun

INPUT = "smokeproof_revision"  # workerinput: the code's expected revision, as the controller learnt it


class Asking:
    """The controller's one request for the code's revision: sent when made, its answer handed to every worker."""

    def __init__(self, session: SmokeSession) -> None:
        from smokeproof.run import SmokeRun

        settings = session.settings
        self._run: SmokeRun | None = SmokeRun(
            env=session.env,
            contracts=(),
            expected_override=settings.expected_override,
            loop=LoopThread("smokeproof-revision"),
            history=settings.history,
            deadline=settings.deadline,
        )
        self._run.database.expected_future()  # sent now, on the run's loop, while xdist starts the workers
        self._answer: dict[str, Any] | None = None

    def handoff(self) -> dict[str, Any] | None:
        """The answer as plain data (waited for on the first call; the request and its loop closed then)."""
        run, self._run = self._run, None
        if run is not None:
            try:
                expected = run.database.expected_revision()
            except Exception as exc:  # not the controller's to crash on: every Alembic check shows it instead
                source = describe_source(run.env, run.expected_override)
                expected = ExpectedRevision((), source, None, error=run.env.redactor(f"{exc.__class__.__name__}: {exc}"))
            finally:
                run.close()
            if expected is not None:
                self._answer = {"heads": list(expected.heads), "source": expected.source, "error": expected.error}
        return self._answer

    def close(self) -> None:
        """Cancel the request if no worker ever asked for its answer (safe to call twice)."""
        run, self._run = self._run, None
        if run is not None:
            run.close()


def ask(config: pytest.Config, session: SmokeSession) -> Asking | None:
    """On the controller, once its target and wait are settled: ask the code, when the revision comes from it.

    Nothing is asked when the target could not be started or the deploy did not converge: then no check
    sends anything.
    """
    from smokeproof.pytest_plugin import waiting

    if not asks_the_code(session.env, session.settings.expected_override):
        return None
    if session.target_failed or waiting.failure(config) is not None:
        return None
    asking = Asking(session)
    config.add_cleanup(asking.close)
    return asking


def adopt(session: SmokeSession, data: dict[str, Any]) -> None:
    """On a worker: the controller's answer stands for this worker's (it never asks)."""
    error = data.get("error")
    session.known_expected = ExpectedRevision(
        heads=tuple(str(head) for head in data["heads"]),
        source=str(data["source"]),
        history=None,  # the code's history is read from files, never asked of the code
        error=None if error is None else str(error),
    )
