"""Create items, owned by users

Revision ID: 7a8b9c0d1e2f
Revises: 1f2e3d4c5b6a
"""

import sqlalchemy as sa
from alembic import op

revision = "7a8b9c0d1e2f"
down_revision = "1f2e3d4c5b6a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    status = sa.Enum("draft", "published", "archived", name="itemstatus")
    op.create_table(
        "items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", status, nullable=False, server_default="draft"),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_items_owner_id", "items", ["owner_id"])


def downgrade() -> None:
    op.drop_table("items")
    op.execute("DROP TYPE itemstatus")
