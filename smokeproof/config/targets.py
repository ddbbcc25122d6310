"""Starting a target from a command: the demo, or a team's own app.

An environment's ``[start]`` table names a command that starts the target and prints **one JSON
line** on stdout once it serves::

    {"base_url": "http://127.0.0.1:8123", "database_url": "postgresql://...", "env": {"TOKEN": "..."}}

Everything else it writes, on stdout after that line and on stderr, goes to a log file: stdout
is drained there by a thread for as long as the target runs, so an app that logs to stdout (uvicorn's
access log) never fills the pipe and blocks. The target runs until its stdin closes (so it also
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
import threading
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
    drain: threading.Thread | None = None

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
        if self.drain is not None:  # ends at end of file: the process and its group are gone
            self.drain.join(timeout=5)
        if process.stdout is not None and (self.drain is None or not self.drain.is_alive()):
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
    os.close(fd)
    log = Path(name)
    try:
        with open(log, "ab") as stderr:  # appending, as the stdout drain does: neither overwrites the other
            process = subprocess.Popen(
                argv, cwd=spec.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
            )
    except OSError as exc:
        log.unlink(missing_ok=True)
        raise TargetStartError(f"cannot run {argv[0]!r}: {exc}") from None
    target = StartedTarget(process=process, log=log, base_url=None, database_url=None)
    atexit.register(target.stop)
    try:
        line, rest = _first_line(process, spec.ready_timeout_s)
        target.drain = _drain(process, log, rest)
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


def _drain(process: subprocess.Popen[bytes], log: Path, rest: bytes) -> threading.Thread:
    """Copy what the target writes on stdout after its JSON line to the log, until it closes stdout."""
    assert process.stdout is not None
    source = process.stdout.fileno()

    def copy() -> None:
        with open(log, "ab") as sink:
            sink.write(rest)
            while chunk := _read(source):
                sink.write(chunk)
                sink.flush()

    thread = threading.Thread(target=copy, name="smokeproof-target-stdout", daemon=True)
    thread.start()
    return thread


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # closed under us: nothing more to copy
        return b""


def _first_line(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[str, bytes]:
    """The JSON line, and what came after it in the same reads (for the log)."""
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
    line, rest = buffer.split(b"\n", 1)
    return line.decode(), rest
