"""Starting a target from a command: the demo, or a team's own app.

An environment's ``[start]`` table names a command that starts the target and prints **one JSON
line** on stdout once it serves::

    {"base_url": "http://127.0.0.1:8123", "database_url": "postgresql://...", "env": {"TOKEN": "..."}}

Everything else it writes goes to a log file. The target runs until its stdin closes (so it also
stops when the test run is killed) and is asked to stop, then terminated, when the run ends. This
is the one place where ``smokeproof`` reaches ``demo/``: only through the command line.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from smokeproof.config.environment import StartCommand
from smokeproof.errors import TargetUnreachable

STOP_GRACE_S = 10.0


class TargetStartError(TargetUnreachable):
    """The start command failed or did not report its addresses in time."""


@dataclass
class StartedTarget:
    process: subprocess.Popen[bytes]
    log: Path
    base_url: str | None
    database_url: str | None
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Close stdin (the polite signal), then SIGTERM, then SIGKILL the process group."""
        atexit.unregister(self.stop)
        process = self.process
        if process.poll() is None:
            if process.stdin is not None:
                process.stdin.close()
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    try:
                        os.killpg(process.pid, sig)
                    except ProcessLookupError:
                        break
                try:
                    process.wait(timeout=STOP_GRACE_S if sig is None else 5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if process.stdout is not None:
            process.stdout.close()
        self.log.unlink(missing_ok=True)


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(spec: StartCommand) -> StartedTarget:
    """Run ``spec.command`` and wait for its JSON line."""
    argv = [sys.executable if arg == "{python}" else arg for arg in spec.command]
    fd, name = tempfile.mkstemp(prefix="smokeproof-target-", suffix=".log")
    log = Path(name)
    try:
        process = subprocess.Popen(
            argv, cwd=spec.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fd, start_new_session=True
        )
    except OSError as exc:
        os.close(fd)
        raise TargetStartError(f"cannot run {argv[0]!r}: {exc}") from None
    os.close(fd)
    target = StartedTarget(process=process, log=log, base_url=None, database_url=None)
    atexit.register(target.stop)
    try:
        line = _first_line(process, spec.ready_timeout_s)
        info = json.loads(line)
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except (TargetStartError, ValueError) as exc:
        tail = log_tail(log)
        target.stop()
        raise TargetStartError(f"{' '.join(spec.command)}: {exc}\n{tail}") from None
    target.base_url = info.get("base_url")
    target.database_url = info.get("database_url")
    target.env = {str(k): str(v) for k, v in (info.get("env") or {}).items()}
    return target


def _first_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TargetStartError(f"no JSON line on stdout within {timeout_s:g} s")
            if selector.select(remaining):
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    raise TargetStartError(f"exited with status {process.wait()} before reporting its addresses")
                buffer += chunk
    return buffer.split(b"\n", 1)[0].decode()
