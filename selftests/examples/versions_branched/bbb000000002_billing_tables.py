"""Billing tables

Revision ID: bbb000000002
Revises: aaa000000001
"""

from alembic import op

revision = "bbb000000002"
down_revision = "aaa000000001"
branch_labels = ("billing",)
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
