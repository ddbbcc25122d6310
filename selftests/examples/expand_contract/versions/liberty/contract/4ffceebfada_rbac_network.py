"""Network RBAC

Revision ID: 4ffceebfada
Revises: 30018084ec99
"""

from alembic import op

revision = "4ffceebfada"
down_revision = "30018084ec99"
branch_labels = None
depends_on = ("52c5312f6baf",)


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
