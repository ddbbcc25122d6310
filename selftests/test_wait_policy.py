"""``--wait-for-revision`` as a user runs it: Ctrl-C stops it at once, and it sends ``[http] headers`` to the target only.

Each case runs the suite in a subprocess against real loopback servers. The interrupt's bound is
the subprocess' own deadline (a regression fails here instead of hanging CI), not a measured time.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .servers import Route, Server, serve
from .suite import run_suite, wait_suite

pytestmark = pytest.mark.slow

HEALTH_OLD = '{"build": {"revision": "old"}}'
HEALTH_NEW = '{"build": {"revision": "new"}}'


def test_ctrl_c_stops_a_wait_at_once(tmp_path: Path) -> None:
    """A deploy that never converges, a 120 s wait, and Ctrl-C after the first poll: the run ends as interrupted, now."""
    with serve(Server(routes={"/health": Route(body=HEALTH_OLD), "/api/ping": Route()})) as server:
        wait_suite(tmp_path, server.url, wait_url="/health", timeout_s=120)
        command = [sys.executable, "-X", "faulthandler", "-m", "pytest", "-p", "no:cacheprovider", "--env-file=env.toml"]
        process = subprocess.Popen(
            [*command, "--wait-for-revision=new", "-k", "ping"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # A shell's background job (nohup ... &) inherits SIGINT ignored, and so would this run; a user's Ctrl-C is not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        lines: queue.Queue[bytes] = queue.Queue()
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)  # type: ignore[union-attr]
        reader.start()
        seen: list[str] = []
        try:
            while not any(line.startswith("smokeproof: waiting for revision new at ") for line in seen):
                seen.append(lines.get(timeout=120).decode(errors="replace").rstrip())  # bound against a hang only
            deadline = time.monotonic() + 60
            while server.hits["/health"] == 0:  # inside the wait: it has polled once
                assert time.monotonic() < deadline, "the wait never polled"
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)  # the wait itself would take 120 s
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGABRT)  # -X faulthandler: every thread's stack, for the failure below
                process.wait(timeout=30)
                reader.join(timeout=10)
                while not lines.empty():
                    seen.append(lines.get().decode(errors="replace").rstrip())
                stacks = "\n".join(seen[-60:])
                pytest.fail(f"the run was still waiting 30 s after Ctrl-C (the wait's timeout is 120 s):\n{stacks}")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            reader.join(timeout=10)
            process.stdout.close()
    while not lines.empty():
        seen.append(lines.get().decode(errors="replace").rstrip())
    assert process.returncode == pytest.ExitCode.INTERRUPTED, "\n".join(seen)
    assert server.hits["/api/ping"] == 0  # interrupted before any check was sent


def test_http_headers_are_not_sent_to_a_wait_url_on_another_host(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[http] headers`` often carry the target's API key: an absolute wait URL elsewhere gets only the User-Agent."""
    monkeypatch.setenv("TARGET_KEY", "target-key-7260")
    extra = '\n[http]\nheaders = { "X-Target-Key" = "${TARGET_KEY}" }\n'
    with (
        serve(Server(routes={"/health": Route(body=HEALTH_NEW)})) as deploys,
        serve(Server(routes={"/api/ping": Route()})) as target,
    ):
        wait_suite(pytester.path, target.url, wait_url=f"{deploys.url}/health", timeout_s=60, extra=extra)
        result = run_suite(pytester, "--env-file=env.toml", "--wait-for-revision=new", "-k", "ping")
    assert result.ret == 0, result.stdout.str()
    assert deploys.hits["/health"] == 3 and "x-target-key" not in deploys.seen_headers["/health"]
    assert deploys.seen_headers["/health"]["user-agent"] == "smokeproof"
    assert target.seen_headers["/api/ping"]["x-target-key"] == "target-key-7260"
