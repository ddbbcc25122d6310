"""Kilo initial schema

Revision ID: kilo
Revises: None
"""

from alembic import op

revision = "kilo"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
