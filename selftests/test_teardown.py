"""An interrupted run leaves nothing behind: no demo app, no PostgreSQL.

Ctrl-C runs the session teardown; a killed pytest cannot, so the target watches its stdin and
stops itself when the pipe closes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .suite import lay_out

pytestmark = pytest.mark.slow


def clusters() -> set[str]:
    return {p.name for p in Path("/tmp").glob("smokeproof-pg-*")}


def postgres_running(roots: set[str]) -> bool:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "postgres" in cmdline and any(root in cmdline for root in roots):
            return True
    return False


def parent(pid: str) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[1]  # the field after the state; the command name may hold spaces


def started_by(ancestor: int, roots: set[str]) -> set[str]:
    """The clusters among ``roots`` whose postgres descends from ``ancestor`` (not another run's on this machine)."""
    found: set[str] = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        roots_here = {root for root in roots if root in cmdline}
        if "postgres" not in cmdline or not roots_here:
            continue
        chain, current = set(), parent(pid)
        while current not in (None, "0", "1") and current not in chain:
            chain.add(current)
            current = parent(current)
        if str(ancestor) in chain:
            found |= roots_here
    return found


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_interrupted_run_stops_the_demo_target(pytester: pytest.Pytester, how: signal.Signals) -> None:
    lay_out(pytester.path)
    # A test that keeps the run busy once the target is up (and says so).
    started = pytester.path / "started"
    (pytester.path / "tests" / "test_wait.py").write_text(
        f"import asyncio, pathlib\n\nasync def test_wait(smoke):\n    pathlib.Path({str(started)!r}).touch()\n"
        "    await asyncio.sleep(60)\n"
    )
    before = clusters()
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--env=demo", "-p", "no:cacheprovider", "tests/test_wait.py"],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # A shell's background jobs inherit SIGINT ignored; a user's Ctrl-C is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert wait_for(started.exists, 60), "the run never got to its test"
        mine = started_by(process.pid, clusters() - before)
        assert mine, "the run's own cluster was not found"
        process.send_signal(how)
        process.wait(timeout=30)
        assert wait_for(lambda: not postgres_running(mine), 20), f"PostgreSQL still running after {how.name}"
        assert wait_for(lambda: not (clusters() & mine), 20), "the cluster's directory was left behind"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
