"""Merge billing and auth

Revision ID: eee000000005
Revises: ('ddd000000004', 'ccc000000003')
"""

from alembic import op

revision = "eee000000005"
down_revision = ("ddd000000004", "ccc000000003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
