"""Old base, before the squash

Revision ID: 0a0b0c0d0e0f
Revises: None
"""

from alembic import op

revision = "0a0b0c0d0e0f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
