"""Auth tables

Revision ID: ccc000000003
Revises: aaa000000001
"""

from alembic import op

revision = "ccc000000003"
down_revision = "aaa000000001"
branch_labels = ("auth",)
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
