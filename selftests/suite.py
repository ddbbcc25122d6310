"""Running the smoke suite itself, as a user would, inside a pytester directory.

``SuiteDir`` lays out a copy of the repository's suite (pytest.ini, conftest.py, tests/,
environments/, a link to demo/) and runs ``pytest`` on it in a subprocess: the exit status, the
terminal output and the files under ``reports/`` are exactly what a user would get.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def lay_out(root: Path, *, own: bool = False) -> Path:
    """Copy the suite into ``root`` (tests and environments are copied, demo/ is linked).

    The suite's own checks (tests/own/, written for the demo's routes and tables) come along with
    ``own``: the self-tests of the built-in checks count those checks' rows alone.
    """
    for name in ("pytest.ini", "conftest.py"):
        shutil.copy(REPO / name, root / name)
    skipped = ("__pycache__",) if own else ("__pycache__", "own")
    for name in ("tests", "environments"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns(*skipped))
    (root / "demo").symlink_to(REPO / "demo")
    return root


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """``{test id: outcome}`` from ``-rA``-style lines (``PASSED path::test[id]``, ``FAILED path::test[id] - message``)."""
    return outcome_lines(result.outlines)


# A short-summary line: the outcome, the node id (its parametrisation id up to the "]" that ends it), then
# " - message" or nothing. Where CI is set pytest prints the whole message, which may hold "[" and "]" too.
SUMMARY_LINE = re.compile(r"^(PASSED|FAILED|SKIPPED|ERROR|XFAIL) \S*?::(\w+)(?:\[(.*?)\])?(?: - |$)")


def outcome_lines(lines: list[str]) -> dict[str, str]:
    """``{test id (or test name when not parametrised): outcome}`` from pytest's short-summary lines."""
    found: dict[str, str] = {}
    for line in lines:
        match = SUMMARY_LINE.match(line)
        if match:
            found[match[3] if match[3] is not None else match[2]] = match[1].lower()
    return found


def run_suite(pytester: pytest.Pytester, *args: str, timeout: float = 120) -> pytest.RunResult:
    """``pytest -rA ARGS`` in the laid-out suite, in a subprocess."""
    return pytester.runpytest_subprocess("-rA", "-p", "no:cacheprovider", *args, timeout=timeout)


@dataclass
class DemoTarget:
    """A demo target started once and shared by several suite runs."""

    base_url: str
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def use(self, monkeypatch: pytest.MonkeyPatch, root: Path, **options: Any) -> Path:
        """This target's ``${VAR}`` values in the process environment, and its environment file (see ``env_file``)."""
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        return self.env_file(root, **options)

    def env_file(
        self,
        root: Path,
        *,
        name: str = "target",
        extra: str = "",
        migrations: bool = True,
        target: str | None = None,
        top: str = "",
    ) -> Path:
        """An environment file for this target (tokens come in through ${VAR}); ``target`` names the deployment.

        ``top`` holds top-level keys, ``extra`` tables (written last).
        """
        top = (f'target = "{target}"\n' if target else "") + top
        revision = f'[revision]\nmigrations = "{REPO / "demo/migrations/versions"}"\n' if migrations else ""
        text = textwrap.dedent(
            f"""\
            description = "self-test target"
            production = false
            base_url = "{self.base_url}"
            database_url = "{self.database_url}"
            {top}{revision}
            [auth]
            bearer_token = "${{DEMO_USER_TOKEN}}"
            tokens = {{ super_admin = "${{DEMO_ADMIN_TOKEN}}" }}
            """
        )
        path = root / f"{name}.toml"
        path.write_text(text + textwrap.dedent(extra))
        return path


@contextmanager
def demo_target(*args: str) -> Iterator[DemoTarget]:
    """Start ``python -m demo ARGS`` and yield its addresses; stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise RuntimeError(f"demo target {args} exited with {process.returncode} before reporting its addresses")
    info = json.loads(line)
    try:
        yield DemoTarget(info["base_url"], info["database_url"], info.get("env", {}), process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=5)
        process.stdout.close()


def wait_suite(
    folder: Path, base_url: str, *, timeout_s: float, revision_url: str = "", wait_url: str = "", extra: str = ""
) -> None:
    """The suite with one endpoint (``/api/ping``) and a ``[wait]`` for revision ``/build/revision``: polled at
    ``[wait] url`` if given, else at ``[revision] url``; ``extra`` is appended to the environment file."""
    lay_out(folder)
    (folder / "ping.toml").write_text('[[endpoint]]\npath = "/api/ping"\nstatus = 200\n')
    revision = f'url = "{revision_url}"\n' if revision_url else ""
    wait = f'url = "{wait_url}"\n' if wait_url else ""
    (folder / "env.toml").write_text(
        f'production = false\nbase_url = "{base_url}"\ncontracts = "ping.toml"\n\n'
        f'[revision]\n{revision}json_pointer = "/build/revision"\n\n'
        f"[wait]\n{wait}timeout_s = {timeout_s}\ninterval_s = 0.2\n" + extra
    )
