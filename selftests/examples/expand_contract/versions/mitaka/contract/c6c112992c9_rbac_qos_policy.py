"""RBAC support for QoS policies

Revision ID: c6c112992c9
Revises: 4ffceebfada
"""

from alembic import op

revision = "c6c112992c9"
down_revision = "4ffceebfada"
branch_labels = None
depends_on = ("0e66c5227a8a",)


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
