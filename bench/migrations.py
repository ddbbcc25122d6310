"""Migrations phase: reading a versions folder statically vs Alembic's own ScriptDirectory load.

A generated history of N files: a main line with a two-branch fork and its merge every 20
revisions, a 280 KB squash file at the base (as real projects keep), each file with a docstring,
imports and a few ``op`` calls. smokeproof compiles each file (a syntax error must stop the run, as
it stops ``alembic upgrade``), parses its header (``ast``) and builds Alembic's ``RevisionMap``;
Alembic imports every module. Each read is timed in a fresh process (a smoke run is one; in a
long-lived process the compiler's memory is already there and the first read's cost hides), the two
tools in turns: with no ``__pycache__`` (a fresh checkout, or ``PYTHONDONTWRITEBYTECODE``), and with
the bytecode cache warm (both use it).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ENVIRON, REPO, table

SIZES = (437, 1000)
REPEATS = 7
SQUASH_TABLES = 900  # about 280 KB of op.create_table calls

BODY = '''"""{message}

Revision ID: {revision}
Revises: {down}
Create Date: 2024-01-01 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down_value}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
    op.drop_column("t{n}", "c{n}")
'''


def squash_upgrade() -> str:
    table_text = (
        '    op.create_table("t{i}", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("name", sa.String(255), nullable=False), sa.Column("created_at", sa.DateTime(), nullable=True), '
        'sa.Column("owner_id", sa.Integer(), sa.ForeignKey("t0.id"), nullable=True))\n'
        '    op.create_index("ix_t{i}_name", "t{i}", ["name"])'
    )
    return "\n".join(table_text.format(i=i) for i in range(SQUASH_TABLES))


def generate(folder: Path, count: int) -> None:
    """``count`` migration files: a main line, a fork of two and their merge every 20 revisions."""
    head: tuple[str, ...] = ()
    n = 0

    def write(parents: tuple[str, ...], message: str, upgrade: str) -> str:
        nonlocal n
        revision = f"{n:04x}{'ab' * 4}"
        down_value = "None" if not parents else repr(parents[0]) if len(parents) == 1 else repr(parents)
        text = BODY.format(
            message=message, revision=revision, down=", ".join(parents), down_value=down_value, upgrade=upgrade, n=n
        )
        (folder / f"{revision}_{message.lower().replace(' ', '_')}.py").write_text(text)
        n += 1
        return revision

    head = (write((), "Squashed base", squash_upgrade()),)
    while n < count:
        if n % 20 == 10 and n + 3 <= count:
            left = write(head, f"Branch a {n}", f'    op.add_column("t{n}", sa.Column("c{n}", sa.Integer()))')
            right = write(head, f"Branch b {n}", f'    op.add_column("t{n}", sa.Column("c{n}", sa.Integer()))')
            head = (write((left, right), f"Merge {n}", "    pass"),)
        else:
            head = (write(head, f"Step {n}", f'    op.add_column("t{n}", sa.Column("c{n}", sa.Integer()))'),)


# One measurement = one fresh process, as a smoke run is: imports paid first, then one timed read.
MEASURE = """
import sys, time
from pathlib import Path
from alembic.script import ScriptDirectory
from smokeproof.database.alembic_config import from_folders
from smokeproof.database.migrations import read_history
tool, folder, write = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "write"
sys.dont_write_bytecode = not write
began = time.perf_counter()
if tool == "smokeproof":
    heads = read_history(from_folders([folder], recursive=False)).heads
else:
    heads = tuple(sorted(ScriptDirectory(str(folder.parent), version_locations=[str(folder)]).get_heads()))
print((time.perf_counter() - began) * 1000, ",".join(heads))
"""


def measure(tool: str, folder: Path, *, write: bool = False) -> tuple[float, str]:
    """Milliseconds one fresh process takes to read ``folder``, and the heads it found."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, tool, str(folder), "write" if write else "keep"],
        cwd=REPO,
        env=ENVIRON,
        capture_output=True,
        text=True,
        check=True,
    )
    ms, heads = done.stdout.split()
    return float(ms), heads


def alternating_medians(folder: Path, *, cached: bool) -> tuple[float, float]:
    """Median milliseconds of smokeproof and Alembic, in turns (the machine is shared: turns spread its noise)."""
    times: dict[str, list[float]] = {"smokeproof": [], "alembic": []}
    for _ in range(REPEATS):
        for tool, found in times.items():
            if not cached:
                shutil.rmtree(folder / "__pycache__", ignore_errors=True)
            found.append(measure(tool, folder)[0])
    return statistics.median(times["smokeproof"]), statistics.median(times["alembic"])


def run() -> str:
    rows = []
    for count in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "versions"
            folder.mkdir()
            generate(folder, count)
            size_kb = sum(p.stat().st_size for p in folder.iterdir()) / 1024
            assert measure("smokeproof", folder)[1] == measure("alembic", folder)[1], "smokeproof and Alembic disagree"
            fresh = alternating_medians(folder, cached=False)
            measure("alembic", folder, write=True)  # writes __pycache__, as an import does
            warm = alternating_medians(folder, cached=True)
            ratios = f"{fresh[1] / fresh[0]:.1f}x / {warm[1] / warm[0]:.1f}x"
            rows.append([str(count), f"{size_kb:.0f} KB", *(f"{ms:.0f}" for ms in (*fresh, *warm)), ratios])
    header = [
        "files",
        "size",
        "smokeproof ms, no cache",
        "Alembic ms, no cache",
        "smokeproof ms, __pycache__ warm",
        "Alembic ms, __pycache__ warm",
        "Alembic / smokeproof",
    ]
    title = f"Migrations phase (a merge every 20 revisions, a 280 KB squash file; one fresh process each, medians of {REPEATS})"
    return table(title, header, rows)
