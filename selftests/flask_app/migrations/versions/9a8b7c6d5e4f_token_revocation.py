"""tokens can be revoked

Revision ID: 9a8b7c6d5e4f
Revises: 3c4d5e6f7a8b
"""

import sqlalchemy as sa
from alembic import op

revision = "9a8b7c6d5e4f"
down_revision = "3c4d5e6f7a8b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tokens", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("tokens", "revoked_at")
