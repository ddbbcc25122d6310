"""Add description to standard attributes

Revision ID: 0e66c5227a8a
Revises: 52c5312f6baf
"""

from alembic import op

PREVIOUS = "52c5312f6baf"  # a constant of this file: read without importing

revision = "0e66c5227a8a"
down_revision = PREVIOUS
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
