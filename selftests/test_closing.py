"""Closing the run is exception-safe: one closer that raises leaks no thread and leaves no target running.

A closer that fails (an HTTP client whose close raises, a bug in a lane) used to stop the close
half-way: the run's loop thread kept running, the closers after it never ran, and the started
target (the demo app and its PostgreSQL) stayed up after pytest exited.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from smokeproof.config import targets
from smokeproof.config.environment import StartCommand, load
from smokeproof.database.schema_contract import SchemaContract
from smokeproof.loop_thread import LoopThread
from smokeproof.pytest_plugin.session import SmokeSession
from smokeproof.pytest_plugin.settings import Settings

from .suite import REPO

# Prints its JSON line, then runs until its stdin closes.
TARGET = 'import json, sys\nprint(json.dumps({"base_url": "http://127.0.0.1:9"}), flush=True)\nsys.stdin.read()\n'


class CloserFailed(Exception):
    pass


def closers(loop: LoopThread, ran: list[str]) -> None:
    async def first() -> None:
        ran.append("first")
        raise CloserFailed("the first closer failed")

    async def second() -> None:
        ran.append("second")

    loop.on_close(first)
    loop.on_close(second)


def test_every_closer_runs_and_the_thread_stops_when_one_raises() -> None:
    loop, ran = LoopThread(name="t-closing"), []
    closers(loop, ran)
    assert loop.wait(_answer()) == 42  # the loop's thread is running
    thread = loop.thread
    assert thread is not None
    with pytest.raises(CloserFailed, match="the first closer failed"):
        loop.close()
    assert ran == ["first", "second"]
    assert not thread.is_alive()
    loop.close()  # closing twice is still harmless


def test_the_started_target_stops_when_closing_the_loop_raises(tmp_path: Path) -> None:
    (tmp_path / "target.py").write_text(TARGET)
    env_file = tmp_path / "env.toml"
    env_file.write_text(
        textwrap.dedent(
            f"""\
            production = false
            [start]
            command = ["{sys.executable}", "target.py"]
            cwd = "."
            """
        )
    )
    env = load(env_file, name="t", rootdir=REPO)
    settings = Settings(env=env, contracts=(), schema=SchemaContract(), expected_override=None, deadline=None, allow_empty=False)
    session = SmokeSession(settings)
    assert env.start is not None
    started = targets.start(StartCommand(env.start.command, tmp_path, 30, {}))
    session._target = started  # what session.start() keeps of a [start] target
    ran: list[str] = []
    closers(session._loop, ran)
    session._loop.wait(_answer())
    thread = session._loop.thread
    assert thread is not None
    with pytest.raises(CloserFailed):
        session.close()
    assert ran == ["first", "second"]
    assert not thread.is_alive()
    assert started.process.poll() is not None  # the target was stopped
    session.close()  # and nothing is left to close


async def _answer() -> int:
    return 42
