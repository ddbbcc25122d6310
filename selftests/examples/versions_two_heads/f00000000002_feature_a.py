"""Feature A

Revision ID: f00000000002
Revises: f00000000001
"""

from alembic import op

revision = "f00000000002"
down_revision = "f00000000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
