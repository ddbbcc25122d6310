"""Invoice owner

Revision ID: ddd000000004
Revises: bbb000000002
"""

from alembic import op

revision = "ddd000000004"
down_revision = "bbb000000002"
branch_labels = None
depends_on = ("ccc000000003",)


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
