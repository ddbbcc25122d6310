"""Start-up: the demo target's cold start, collection, and the full default run."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.common import PYTEST, REPO, peak_rss_mb, table, timed


def demo_cold_start() -> float:
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", "--revision", "head"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    json.loads(process.stdout.readline())
    elapsed = time.perf_counter() - began
    process.stdin.close()
    process.wait(timeout=30)
    process.stdout.close()
    return elapsed


def run() -> str:
    cold = min(demo_cold_start() for _ in range(3))
    collect, _ = timed([*PYTEST, "--env=demo", "--collect-only", "-q"], REPO)
    full, status = timed([*PYTEST, "--env=demo", "-q"], REPO)
    assert status == 0, "pytest --env=demo failed"
    spread, status = timed([*PYTEST, "--env=demo", "-q", "-n", "2"], REPO)
    assert status == 0, "pytest --env=demo -n 2 failed"
    rows = [
        ["demo target cold start (embedded PostgreSQL, migrations, app), best of 3", f"{cold:.2f} s"],
        ["pytest --collect-only (demo)", f"{collect:.2f} s"],
        ["pytest --env=demo (full run, target included)", f"{full:.2f} s"],
        ["pytest --env=demo -n 2 (the same, pytest-xdist: the target once, two workers)", f"{spread:.2f} s"],
        ["peak RSS of the largest process in these runs", f"{peak_rss_mb():.0f} MB"],
    ]
    return table("Start-up", ["what", "time"], rows)
