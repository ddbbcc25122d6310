"""Base schema

Revision ID: aaa000000001
Revises: None
"""

from alembic import op

revision = "aaa000000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
