"""Add address scopes

Revision ID: 52c5312f6baf
Revises: 354db87e3225
"""

from alembic import op

revision = "52c5312f6baf"
down_revision = "354db87e3225"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
