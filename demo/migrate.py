"""Migrating the demo database with Alembic, in-process."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return config


def upgrade(url: str, revision: str) -> None:
    """Apply migrations up to ``revision`` (``head`` for all)."""
    command.upgrade(alembic_config(url), revision)


def code_head() -> str:
    """The code's Alembic head, read from the versions folder."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head
