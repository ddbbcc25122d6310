"""Old users table

Revision ID: 1a1b1c1d1e1f
Revises: 0a0b0c0d0e0f
"""

from alembic import op

revision = "1a1b1c1d1e1f"
down_revision = "0a0b0c0d0e0f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
