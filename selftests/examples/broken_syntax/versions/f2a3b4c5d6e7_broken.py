"""Broken: a syntax error on line 12"""

from alembic import op

revision = "f2a3b4c5d6e7"
down_revision = "e1f2a3b4c5d6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("price", sa.Integer(), nullable=False)


def downgrade() -> None:
    op.drop_column("items", "price")
