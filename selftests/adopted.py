"""A suite scaffolded by ``smokeproof init`` for the self-test FastAPI service, and running it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .fastapi_app.server import Service
from .suite import REPO, outcome_lines

ENV = "svc-eu"
VARIABLE = "SVC_EU_DATABASE_URL"


def smokeproof(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "smokeproof.cli.main", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False, env=env)


def init_args(service: Service, root: Path) -> list[str]:
    return [
        "init",
        f"--env={ENV}",
        f"--base-url={service.base_url}",
        f"--openapi={service.base_url}/openapi.json",
        f"--database-url={service.database_url}",
        f"--migrations={service.versions}",
        f"--dir={root}",
    ]


@dataclass
class Scaffolded:
    root: Path
    init: subprocess.CompletedProcess[str]
    service: Service

    def pytest(self, *args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``pytest --env=svc-eu ARGS`` in the scaffolded folder, with the database URL exported."""
        env = {**os.environ, VARIABLE: self.service.database_url, **(environ or {})}
        command = [sys.executable, "-m", "pytest", f"--env={ENV}", "-rA", "-p", "no:cacheprovider", *args]
        return subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=180, check=False, env=env)


def outcomes(stdout: str) -> dict[str, str]:
    return {name: outcome for name, outcome in outcome_lines(stdout.splitlines()).items() if outcome != "xfail"}


def scaffold(service: Service, root: Path) -> Scaffolded:
    """``smokeproof init`` for ``service`` into ``root``, as a subprocess (what a user types)."""
    done = Scaffolded(root, smokeproof(*init_args(service, root)), service)
    # The one edit a team makes for a loopback target: the probes' rate ceiling protects production, not this app.
    env_file = root / "environments" / f"{ENV}.toml"
    if env_file.exists():
        env_file.write_text(env_file.read_text().replace("max_rate_per_s = 10 ", "max_rate_per_s = 500"))
    return done
