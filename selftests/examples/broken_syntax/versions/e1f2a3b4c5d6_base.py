"""Base

Revision ID: e1f2a3b4c5d6
Revises: None
"""

from alembic import op

revision = 'e1f2a3b4c5d6'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
