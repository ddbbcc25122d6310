"""Create accounts

Revision ID: 1a2b3c4d5e6f
Revises: None
"""

from alembic import op

revision = "1a2b3c4d5e6f"
down_revision = None
branch_labels = None
depends_on = None

raise RuntimeError("migration modules must never be imported by smokeproof")


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
