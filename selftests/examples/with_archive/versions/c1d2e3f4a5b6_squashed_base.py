"""Squashed base (replaces archive/)

Revision ID: c1d2e3f4a5b6
Revises: None
"""

from alembic import op

revision = "c1d2e3f4a5b6"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
