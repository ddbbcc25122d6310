"""Migrations phase: reading a versions folder statically vs Alembic's own ScriptDirectory load.

A generated history of N files: a main line with a two-branch fork and its merge every 20
revisions, a 280 KB squash file at the base (as real projects keep), each file with a docstring,
imports and a few ``op`` calls. smokeproof compiles each file (a syntax error must stop the run, as
it stops ``alembic upgrade``), parses its header (``ast``) and builds Alembic's ``RevisionMap``;
Alembic imports every module. Both are measured twice, alternating: with no ``__pycache__`` (a fresh
checkout, or ``PYTHONDONTWRITEBYTECODE``), and with the bytecode cache warm (both use it).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from alembic.script import ScriptDirectory

from bench.common import table
from smokeproof.database.alembic_config import from_folders
from smokeproof.database.migrations import read_history

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


def alternating_medians(first: Callable[[], object], second: Callable[[], object]) -> tuple[float, float]:
    """Median milliseconds of each, run in turns (the machine is shared: turns spread its noise evenly)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(REPEATS):
        for action, found in ((first, times[0]), (second, times[1])):
            began = time.perf_counter()
            action()
            found.append((time.perf_counter() - began) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def alembic_load(folder: Path) -> tuple[str, ...]:
    return tuple(ScriptDirectory(str(folder.parent), version_locations=[str(folder)]).get_heads())


def run() -> str:
    read_history(Path(__file__).resolve().parents[1] / "demo" / "migrations" / "versions")  # imports paid before timing
    rows = []
    for count in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "versions"
            folder.mkdir()
            generate(folder, count)
            size_kb = sum(p.stat().st_size for p in folder.iterdir()) / 1024
            history = read_history(from_folders([folder], recursive=False))
            assert history.heads == tuple(sorted(alembic_load(folder))), "smokeproof and Alembic disagree on the heads"

            def ours(folder: Path = folder) -> object:
                return read_history(from_folders([folder], recursive=False))

            def theirs(folder: Path = folder) -> object:
                return alembic_load(folder)

            sys.dont_write_bytecode = True
            fresh = alternating_medians(ours, theirs)
            sys.dont_write_bytecode = False
            theirs()  # writes __pycache__
            cached = alternating_medians(ours, theirs)
            rows.append(
                [
                    str(count),
                    f"{size_kb:.0f} KB",
                    *(f"{ms:.0f}" for ms in (*fresh, *cached)),
                    f"{fresh[1] / fresh[0]:.1f}x / {cached[1] / cached[0]:.1f}x",
                ]
            )
    header = [
        "files",
        "size",
        "smokeproof ms, no cache",
        "Alembic ms, no cache",
        "smokeproof ms, __pycache__ warm",
        "Alembic ms, __pycache__ warm",
        "Alembic / smokeproof",
    ]
    return table(
        f"Migrations phase (a merge every 20 revisions, a 280 KB squash file; medians of {REPEATS}, alternating)", header, rows
    )
