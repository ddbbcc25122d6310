"""Shared bits of the benchmarks: a timed subprocess, a loopback server, a table printer."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


# Bytecode caching on, as on a developer's machine or a CI runner with a cached venv (this
# workplace sets PYTHONDONTWRITEBYTECODE, which makes every pytest start recompile and rewrite).
ENVIRON = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time of a command and its exit status."""
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env={**ENVIRON, **(env or {})}, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed, done.returncode


def peak_rss_mb() -> float:
    """Largest resident set of any finished child process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def suite_copy(root: Path, *, contracts: str, env: str, schema: str = 'schemas = ["public"]\n') -> Path:
    """A minimal copy of the smoke suite around a generated contract table."""
    for name in ("pytest.ini", "conftest.py"):
        shutil.copy(REPO / name, root / name)
    (root / "tests" / "contracts").mkdir(parents=True)
    (root / "tests" / "schema").mkdir(parents=True)
    shutil.copy(REPO / "tests/contracts/test_endpoints.py", root / "tests/contracts/test_endpoints.py")
    (root / "tests/contracts/endpoints.toml").write_text(contracts)
    (root / "tests/schema/schema.toml").write_text(schema)
    (root / "env.toml").write_text(env)
    return root


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = [f"### {title}", "", "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    return "\n".join(lines) + "\n"
